/* outside_process.c: not a sample (it has no tracejail-escape header). `tracejail selftest`
 * starts it outside the traced tree and gives its pid to the samples as TJ_OUTSIDE_PID: a process
 * no route from the tree may reach. argv[1] is a random token, also in its environment as
 * TJ_OUTSIDE_TOKEN and never given to the samples, so a sample that read its /proc/PID/cmdline or
 * environ shows the token (the selftest counts that as an escape).
 *
 * It blocks every signal (what a sample sends as proof stays pending instead of killing it),
 * starts a second thread (so /proc/PID/task/TID and the hidden /proc/TID exist), writes "ready\n"
 * on stdout, and exits when stdin reaches end of file. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void* second_thread(void* arg) {
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return arg;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: outside_process TOKEN (TJ_OUTSIDE_TOKEN=TOKEN in the environment)\n");
    return 2;
  }
  (void)argv; /* the token is there to be seen in /proc/PID/cmdline */
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  pthread_t t;
  if (pthread_create(&t, NULL, second_thread, NULL) != 0) return 1;
  if (write(1, "ready\n", 6) != 6) return 1;
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}
