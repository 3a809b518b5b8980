/* A non-leader thread calls execve while other threads run: the kernel kills the other threads
 * and the exec'ing thread takes the leader's pid. Prints "exec from thread" via /bin/echo. */
#include <pthread.h>
#include <unistd.h>

static void *spin(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static void *exec_it(void *arg) {
  (void)arg;
  execl("/bin/echo", "echo", "exec from thread", (char *)NULL);
  return NULL;
}

int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 3; ++i) pthread_create(&t[i], NULL, spin, NULL);
  pthread_create(&t[3], NULL, exec_it, NULL);
  for (;;) pause();
}
