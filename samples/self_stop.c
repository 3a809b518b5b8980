/* A child stops itself with SIGSTOP; the parent sees it stopped (WUNTRACED), continues it
 * with SIGCONT and reaps it. Prints "STOPPED", "CONTINUED", "CHILD EXIT 7".
 * The child exits only once the parent has seen it continued (it waits on a pipe), so the
 * WCONTINUED wait never races with the child's exit. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int go[2];
  if (pipe(go) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    raise(SIGSTOP);
    char c;
    while (read(go[0], &c, 1) > 0) {
    }
    _exit(7);
  }
  close(go[0]);
  int status = 0;
  waitpid(pid, &status, WUNTRACED);
  if (!WIFSTOPPED(status)) { printf("NOT STOPPED %#x\n", status); return 1; }
  printf("STOPPED\n");
  fflush(stdout);
  kill(pid, SIGCONT);
  waitpid(pid, &status, WCONTINUED);
  if (WIFCONTINUED(status)) printf("CONTINUED\n");
  close(go[1]);
  waitpid(pid, &status, 0);
  printf("CHILD EXIT %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}
