/* syscall_loop openat N PATH | chmod N PATH | getpid N | denied N PATH: times N openat+close
 * pairs of PATH (a flagged call under tracejail's standard policy), N chmod(PATH, 0644)
 * (flagged, and anchored: tracer/fs_anchor.h), N getpid calls (never flagged) or N openat of
 * PATH that are expected to fail (a denied file: each one an event) with CLOCK_MONOTONIC around
 * the loop only, process start-up excluded, and prints "ns_per_iteration <value>". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int open_mode = argc == 4 && strcmp(argv[1], "openat") == 0;
  int chmod_mode = argc == 4 && strcmp(argv[1], "chmod") == 0;
  int denied_mode = argc == 4 && strcmp(argv[1], "denied") == 0;
  if (!open_mode && !chmod_mode && !denied_mode && !(argc == 3 && strcmp(argv[1], "getpid") == 0)) {
    fprintf(stderr, "usage: syscall_loop openat N PATH | chmod N PATH | getpid N | denied N PATH\n");
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
    } else if (denied_mode) {
      int fd = openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC);
      if (fd >= 0) { fprintf(stderr, "%s opened: not a denied file\n", argv[3]); return 1; }
    } else if (chmod_mode) {
      if (chmod(argv[3], 0644) != 0) { perror("chmod"); return 1; }
    } else {
      syscall(SYS_getpid); /* the raw call: glibc does not cache getpid, but be explicit */
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("ns_per_iteration %.1f\n", ns / (double)n);
  return 0;
}
