/* Starts a child with CLONE_UNTRACED (so that no tracer would see it), which leaves the process
 * group and sleeps for 300 s, and exits at once, printing "CHILD <pid>". Under tracejail the
 * child must be traced all the same and die with the tree when the command exits; a tracer that
 * let it go untraced would wait for it (or lose it). */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    setsid();
    sleep(300);
    _exit(0);
  }
  if (pid < 0) {
    perror("clone");
    return 1;
  }
  printf("CHILD %ld\n", pid);
  return 0;
}
