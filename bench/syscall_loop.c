/* syscall_loop openat N PATH | getpid N: times N openat+close pairs of PATH (a flagged call
 * under tracejail's standard policy) or N getpid calls (never flagged) with CLOCK_MONOTONIC
 * around the loop only, process start-up excluded, and prints "ns_per_iteration <value>". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int open_mode = argc == 4 && strcmp(argv[1], "openat") == 0;
  if (!open_mode && !(argc == 3 && strcmp(argv[1], "getpid") == 0)) {
    fprintf(stderr, "usage: syscall_loop openat N PATH | syscall_loop getpid N\n");
    return 2;
  }
  long n = atol(argv[2]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) {
    if (open_mode) {
      int fd = openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC);
      if (fd < 0) { perror("openat"); return 1; }
      close(fd);
    } else {
      syscall(SYS_getpid); /* the raw call: glibc does not cache getpid, but be explicit */
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("ns_per_iteration %.1f\n", ns / (double)n);
  return 0;
}
