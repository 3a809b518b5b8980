/* threads_loop T N PATH: T threads, each opening and closing PATH N times, all started together
 * (contention on the tracer). Exits 1 if any open failed. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *path;
static long per_thread;
static pthread_barrier_t start;
static int failed;

static void *worker(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < per_thread; ++i) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { __atomic_store_n(&failed, 1, __ATOMIC_RELAXED); continue; }
    close(fd);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: threads_loop T N PATH\n"); return 2; }
  int t = atoi(argv[1]);
  per_thread = atol(argv[2]);
  path = argv[3];
  pthread_t *ids = calloc((size_t)t, sizeof *ids);
  pthread_barrier_init(&start, NULL, (unsigned)t);
  for (int i = 0; i < t; ++i) pthread_create(&ids[i], NULL, worker, NULL);
  for (int i = 0; i < t; ++i) pthread_join(ids[i], NULL);
  return failed;
}
