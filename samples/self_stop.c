/* A child stops itself with SIGSTOP; the parent sees it stopped (WUNTRACED), continues it
 * with SIGCONT and reaps it. Prints "STOPPED", "CONTINUED", "CHILD EXIT 7". */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t pid = fork();
  if (pid == 0) {
    raise(SIGSTOP);
    _exit(7);
  }
  int status = 0;
  waitpid(pid, &status, WUNTRACED);
  if (!WIFSTOPPED(status)) { printf("NOT STOPPED %#x\n", status); return 1; }
  printf("STOPPED\n");
  fflush(stdout);
  kill(pid, SIGCONT);
  waitpid(pid, &status, WCONTINUED);
  if (WIFCONTINUED(status)) printf("CONTINUED\n");
  waitpid(pid, &status, 0);
  printf("CHILD EXIT %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}
