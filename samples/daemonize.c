/* daemonize PIDFILE: double-forks a grandchild that calls setsid() and sleeps, writes the
 * grandchild's pid to PIDFILE, and exits at once. tracejail must kill the grandchild when this
 * main process exits: nothing outlives the run. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    if (fork() == 0) {
      FILE *f = fopen(argv[1], "w");
      if (f) { fprintf(f, "%d\n", getpid()); fclose(f); }
      close(fds[1]);  /* tell the top: pid written */
      for (;;) pause();
    }
    _exit(0);
  }
  close(fds[1]);
  char c;
  while (read(fds[0], &c, 1) > 0) {}
  waitpid(pid, NULL, 0);
  printf("DAEMONIZED\n");
  return 0;
}
