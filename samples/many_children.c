/* Starts N children (default 1020) that each exec /bin/cat on one shared pipe and stay alive
 * together, then closes the pipe so they all end, reaps them and prints "CHILDREN <n>" with the
 * number that exited 0. A supervisor that keeps a descriptor per process runs out of them here
 * (with the usual soft limit of 1024). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1020;
  int pipefd[2];
  if (pipe(pipefd) != 0) return 2;
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 3;
    }
    if (pid == 0) {
      dup2(pipefd[0], 0);
      close(pipefd[0]);
      close(pipefd[1]);
      execl("/bin/cat", "cat", (char*)NULL);
      _exit(99);
    }
  }
  close(pipefd[0]);
  close(pipefd[1]);
  int ok = 0, status = 0;
  while (wait(&status) > 0) ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  printf("CHILDREN %d\n", ok);
  return ok == n ? 0 : 1;
}
