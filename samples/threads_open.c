/* threads_open N PATH: N threads each open and read PATH 20 times. Prints "THREADS OK <opens>"
 * when every open succeeded; exit 1 otherwise. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *path;
static int failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; ++i) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      pthread_mutex_lock(&mu);
      ++failures;
      pthread_mutex_unlock(&mu);
      continue;
    }
    char c;
    if (read(fd, &c, 1) < 0) { pthread_mutex_lock(&mu); ++failures; pthread_mutex_unlock(&mu); }
    close(fd);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int n = atoi(argv[1]);
  path = argv[2];
  pthread_t *t = calloc((size_t)n, sizeof *t);
  for (int i = 0; i < n; ++i) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
  if (failures) { printf("THREADS FAILED %d\n", failures); return 1; }
  printf("THREADS OK %d\n", n * 20);
  return 0;
}
