/* Technique: reach a denied file through an alias: /proc/self/root/<path>, a symlink, or a
 * dirfd-relative "..". Defence: paths are resolved as the tracee would see them (with
 * /proc/self meaning the tracee, not the tracer) before rules are matched.
 * escape_proc_self_root SECRET: tries each alias; prints "BLOCKED" when every one failed. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int try_open(const char *label, int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY);
  if (fd >= 0) { printf("ESCAPED via %s\n", label); close(fd); return 1; }
  printf("blocked %s: %s\n", label, strerrorname_np(errno));
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] != '/') return 2;
  const char *secret = argv[1];
  int escaped = 0;
  char alias[4096];
  snprintf(alias, sizeof alias, "/proc/self/root%s", secret);
  escaped += try_open("/proc/self/root", AT_FDCWD, alias);
  snprintf(alias, sizeof alias, "/proc/thread-self/root%s", secret);
  escaped += try_open("/proc/thread-self/root", AT_FDCWD, alias);
  snprintf(alias, sizeof alias, "/tmp/tj-alias-%d", getpid());
  unlink(alias);
  if (symlink(secret, alias) == 0) {
    escaped += try_open("symlink", AT_FDCWD, alias);
    unlink(alias);
  }
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", secret);
  int dirfd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  snprintf(copy, sizeof copy, "%s", secret);
  if (dirfd >= 0) {
    char rel[4096];
    snprintf(rel, sizeof rel, "./../%s/%s", basename(dirname(strdup(secret))), basename(copy));
    escaped += try_open("dirfd+..", dirfd, rel);
  }
  snprintf(alias, sizeof alias, "/.//%s", secret);
  escaped += try_open("slashes", AT_FDCWD, alias);
  printf(escaped ? "ESCAPED\n" : "BLOCKED\n");
  return escaped ? 0 : 1;
}
