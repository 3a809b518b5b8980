/* Technique: clone with CLONE_UNTRACED so the child is not auto-attached and runs unseen.
 * Defence: the BPF filter flags clone when CLONE_UNTRACED is set; the tracer denies it. */

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) { waitpid((pid_t)pid, NULL, 0); printf("ESCAPED\n"); return 0; }
  printf("BLOCKED %s\n", strerrorname_np(errno));
  return 1;
}
