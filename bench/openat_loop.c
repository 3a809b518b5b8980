/* openat_loop N PATH: times N openat+close pairs of PATH with CLOCK_MONOTONIC around the loop
 * only (process start-up excluded) and prints "ns_per_iteration <value>". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: openat_loop N PATH\n"); return 2; }
  long n = atol(argv[1]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) {
    int fd = openat(AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC);
    if (fd < 0) { perror("openat"); return 1; }
    close(fd);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("ns_per_iteration %.1f\n", ns / (double)n);
  return 0;
}
