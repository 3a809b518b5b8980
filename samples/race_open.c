/* race_open DECOY SECRET N: the time-of-check/time-of-use attack on a tracer.
 *
 * One thread keeps rewriting a shared path buffer, flipping it between DECOY (allowed) and
 * SECRET (denied); the main thread calls open() on that buffer N times. The tracer reads the
 * path at the syscall stop, the kernel reads it again after the tracer lets the call go: if the
 * flipper rewrote it in between, the kernel opens a path nobody checked. DECOY and SECRET must
 * have the same length so every byte pattern in the buffer is one of the two.
 *
 * Prints "RACE decoy=<opens of DECOY> secret=<opens of SECRET> denied=<EACCES> other=<errors>"
 * and exits 0; the defence holds when secret=0. A tracer alone cannot win this; a kernel-side
 * check of the same rule (Landlock at strict and above) can. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[4096];
static const char *decoy, *secret;
static atomic_int stop;

static void *flipper(void *arg) {
  (void)arg;
  size_t n = strlen(decoy) + 1;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    memcpy(buf, secret, n);
    memcpy(buf, decoy, n);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4 || strlen(argv[1]) != strlen(argv[2]) || strlen(argv[1]) >= sizeof buf) {
    fprintf(stderr, "usage: race_open DECOY SECRET N (DECOY and SECRET of equal length)\n");
    return 2;
  }
  decoy = argv[1];
  secret = argv[2];
  long n = atol(argv[3]);
  memcpy(buf, decoy, strlen(decoy) + 1);
  pthread_t t;
  pthread_create(&t, NULL, flipper, NULL);
  long got_decoy = 0, got_secret = 0, denied = 0, other = 0;
  for (long i = 0; i < n; ++i) {
    int fd = open(buf, O_RDONLY);
    if (fd < 0) {
      if (errno == EACCES) ++denied; else ++other;
      continue;
    }
    /* Which file did the kernel open? Ask the fd, not the buffer. */
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, sizeof path - 1);
    path[len > 0 ? len : 0] = 0;
    if (strcmp(path, secret) == 0) ++got_secret; else ++got_decoy;
    close(fd);
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("RACE decoy=%ld secret=%ld denied=%ld other=%ld\n", got_decoy, got_secret, denied, other);
  return 0;
}
