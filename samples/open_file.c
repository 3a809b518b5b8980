/* Opens each path given (read-only, or for writing with -w; with openat2 itself after -2) and
 * reports the outcome: "OK <path> <bytes>" or "DENIED <path> <errno name>". Exit status: number
 * of failures. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int failures = 0, write_mode = 0, openat2_mode = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "-w") == 0) { write_mode = 1; continue; }
    if (strcmp(argv[i], "-2") == 0) { openat2_mode = 1; continue; }
    struct open_how how = {.flags = O_RDONLY};
    int fd = openat2_mode ? (int)syscall(SYS_openat2, AT_FDCWD, argv[i], &how, sizeof how)
             : write_mode ? open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644)
                          : open(argv[i], O_RDONLY);
    if (fd < 0) {
      printf("DENIED %s %s\n", argv[i], strerrorname_np(errno));
      ++failures;
      continue;
    }
    long total = 0;
    if (write_mode) {
      total = write(fd, "written\n", 8);
    } else {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
    }
    close(fd);
    printf("OK %s %ld\n", argv[i], total);
  }
  return failures;
}
