/* fork_chain DEPTH: forks and execs itself with DEPTH-1 until 0, each level waiting for the
 * next. The deepest prints "LEVEL 0 pid=..."; each level exits with its child's status + 1, so
 * the top exits with DEPTH. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int depth = argc > 1 ? atoi(argv[1]) : 5;
  printf("LEVEL %d pid=%d\n", depth, getpid());
  fflush(stdout);
  if (depth == 0) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    char next[16];
    snprintf(next, sizeof next, "%d", depth - 1);
    execl("/proc/self/exe", argv[0], next, (char *)NULL);
    _exit(100);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) + 1 : 99;
}
