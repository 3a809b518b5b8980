/* tracejail-escape
 * id: path-proc-aliases
 * class: path aliasing
 * title: the secret through /proc: root and cwd magic links, and /proc/self/fd of a directory fd
 * covered: standard
 * needs: secret
 *
 * Technique: /proc/self/root, /proc/thread-self/root, /proc/<pid>/root and /proc/self/cwd are
 * "magic links" to the process's root and cwd, so /proc/self/root/<secret> is the secret under
 * another name. A cwd or an O_PATH descriptor inside the secret directory (both count as mere
 * metadata to many checkers) turns into the secret through /proc/self/cwd/secret.txt,
 * /proc/self/fd/N/secret.txt, openat(N, "secret.txt") or fchdir(N) and a relative open.
 * Defence: the tracer resolves /proc/self, /proc/thread-self and /proc/<pid> as the tracee (not the
 * tracer), follows the magic links to their targets, and resolves dirfd-relative and cwd-relative
 * names from the tracee's own fd table and cwd before matching rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"

static void try_at(const char *what, int dirfd, const char *path) {
  errno = 0;
  attempt(what, openat(dirfd, path, O_RDONLY));
}

/* A preparatory step: print its outcome; on failure it also goes into the BLOCKED line. */
static int step(const char *what, int ok) {
  int err = errno;
  if (ok) {
    printf("%s: succeeded (ok)\n", what);
    return 1;
  }
  printf("%s: failed (%s)\n", what, ename(err));
  append(blocked, sizeof blocked, what, ename(err));
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;
  char path[2 * PATH_MAX];
  int home = open(".", O_PATH | O_DIRECTORY);  /* to come back after chdir */

  /* 1. The root magic links: every one of them is "/" for us. */
  snprintf(path, sizeof path, "/proc/self/root%s", secret);
  try_at("open(/proc/self/root/<secret>)", AT_FDCWD, path);
  snprintf(path, sizeof path, "/proc/thread-self/root%s", secret);
  try_at("open(/proc/thread-self/root/<secret>)", AT_FDCWD, path);
  snprintf(path, sizeof path, "/proc/%d/root%s", (int)getpid(), secret);
  try_at("open(/proc/<getpid()>/root/<secret>)", AT_FDCWD, path);
  snprintf(path, sizeof path, "/proc/self/task/%d/root%s", (int)gettid(), secret);
  try_at("open(/proc/self/task/<tid>/root/<secret>)", AT_FDCWD, path);
  snprintf(path, sizeof path, "/proc/self/root/proc/self/root%s", secret);
  try_at("open(/proc/self/root/proc/self/root/<secret>)", AT_FDCWD, path);

  /* 2. The cwd: chdir into the secret directory (may be denied), then relative and cwd links. */
  if (step("chdir(secret dir)", chdir(secret_dir) == 0)) {
    try_at("cwd=secret dir, open(\"<file>\")", AT_FDCWD, base);
    snprintf(path, sizeof path, "/proc/self/cwd/%s", base);
    try_at("open(/proc/self/cwd/<file>)", AT_FDCWD, path);
    snprintf(path, sizeof path, "/proc/%d/cwd/%s", (int)getpid(), base);
    try_at("open(/proc/<getpid()>/cwd/<file>)", AT_FDCWD, path);
    if (home >= 0) fchdir(home);
  }

  /* 3. A directory fd of the secret directory, O_PATH (no read access needed) and plain. */
  int pfd = open(secret_dir, O_PATH | O_DIRECTORY);
  if (step("open(secret dir, O_PATH|O_DIRECTORY)", pfd >= 0)) {
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", pfd, base);
    try_at("open(/proc/self/fd/N/<file>), N = O_PATH fd", AT_FDCWD, path);
    snprintf(path, sizeof path, "/proc/thread-self/fd/%d/%s", pfd, base);
    try_at("open(/proc/thread-self/fd/N/<file>)", AT_FDCWD, path);
    try_at("openat(N, \"<file>\"), N = O_PATH fd", pfd, base);
    if (step("fchdir(O_PATH fd of secret dir)", fchdir(pfd) == 0)) {
      try_at("after fchdir, open(\"<file>\")", AT_FDCWD, base);
      snprintf(path, sizeof path, "/proc/self/cwd/%s", base);
      try_at("after fchdir, open(/proc/self/cwd/<file>)", AT_FDCWD, path);
      if (home >= 0) fchdir(home);
    }
    close(pfd);
  }
  int dfd = open(secret_dir, O_RDONLY | O_DIRECTORY);
  if (step("open(secret dir, O_RDONLY|O_DIRECTORY)", dfd >= 0)) {
    try_at("openat(dirfd of secret dir, \"<file>\")", dfd, base);
    close(dfd);
  }
  if (home >= 0) close(home);

  return final_line();
}
