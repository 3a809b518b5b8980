/* Technique: kill the supervisor (our parent) so the tree runs unsupervised. Defence: signals
 * aimed outside the traced tree are denied (EPERM); PTRACE_O_EXITKILL would kill the tree if
 * the supervisor died anyway. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  if (kill(getppid(), SIGTERM) == 0) { printf("ESCAPED\n"); return 0; }
  printf("BLOCKED %s\n", strerrorname_np(errno));
  return 1;
}
