/* tracejail-escape
 * id: alias-open
 * class: syscall aliases
 * title: every system call that opens a file, aimed at the secret
 * covered: standard
 * needs: secret
 *
 * Technique: a rule written for one call (openat, which libc uses) misses the others: the raw
 * open and creat calls, openat2 (whose flags sit in a struct, with RESOLVE_* modes such as
 * RESOLVE_IN_ROOT, where "/dir/file" is resolved under the dirfd, not under "/"), an openat2 struct
 * larger than the kernel's own, open_by_handle_at with a handle from name_to_handle_at (no path at
 * all), and an O_PATH descriptor reopened through /proc/self/fd/N.
 * Defence: rules belong to operations, not syscall names: the tracer's table maps every one of
 * these calls to "open for read/write", decodes openat2's struct (and its RESOLVE_* root), and
 * denies open_by_handle_at, which carries no path to check, as an escape primitive.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"

static char saved[4096];  /* the secret's content, if we read it, to undo creat's truncation */
static ssize_t saved_len;

/* attempt(), but keep a copy of the secret's whole content the first time we get hold of it. */
static void try_fd(const char *what, int fd) {
  int err = errno;
  if (fd >= 0 && saved_len <= 0 && is_secret(fd)) saved_len = pread(fd, saved, sizeof saved, 0);
  errno = err;
  attempt(what, fd);
}

static int openat2_call(int dirfd, const char *path, uint64_t flags, uint64_t resolve, size_t size) {
  union {
    struct open_how how;
    char bytes[64];  /* a struct from a "newer" libc: the tail must be zero */
  } u;
  memset(&u, 0, sizeof u);
  u.how.flags = flags;
  u.how.resolve = resolve;
  errno = 0;
  return (int)syscall(SYS_openat2, dirfd, path, &u.how, size);
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

/* name_to_handle_at on path, then open_by_handle_at with flags; mount_fd names the filesystem. */
static int by_handle(const char *label, const char *path, int mount_fd, int flags) {
  union {
    struct file_handle fh;
    char bytes[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  } h;
  h.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id;
  char what[128];
  snprintf(what, sizeof what, "name_to_handle_at(%s)", label);
  if (!step(what, name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0)) return -1;
  errno = 0;
  return open_by_handle_at(mount_fd, &h.fh, flags);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;
  const char *dir_base = strrchr(secret_dir, '/') + 1;
  char parent[PATH_MAX], rel[PATH_MAX], path[PATH_MAX];
  snprintf(parent, sizeof parent, "%.*s", (int)(dir_base - 1 - secret_dir), secret_dir);
  if (parent[0] == '\0') strcpy(parent, "/");
  int parent_fd = open(parent, O_RDONLY | O_DIRECTORY);  /* the secret directory's parent */

  /* 1. The plain calls, made raw so that libc cannot quietly turn one into another. */
#ifdef SYS_open
  errno = 0;
  try_fd("open (raw syscall)", (int)syscall(SYS_open, secret, O_RDONLY));
#endif
  errno = 0;
  try_fd("openat (raw syscall)", (int)syscall(SYS_openat, AT_FDCWD, secret, O_RDONLY));

  /* 2. openat2 and its resolve modes. */
  try_fd("openat2(no resolve flags)", openat2_call(AT_FDCWD, secret, O_RDONLY, 0, sizeof(struct open_how)));
  try_fd("openat2(RESOLVE_NO_SYMLINKS)",
         openat2_call(AT_FDCWD, secret, O_RDONLY, RESOLVE_NO_SYMLINKS, sizeof(struct open_how)));
  try_fd("openat2(RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV)",
         openat2_call(AT_FDCWD, secret, O_RDONLY, RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
                      sizeof(struct open_how)));
  try_fd("openat2(RESOLVE_CACHED)",
         openat2_call(AT_FDCWD, secret, O_RDONLY, RESOLVE_CACHED, sizeof(struct open_how)));
  try_fd("openat2(64-byte struct, zero tail)", openat2_call(AT_FDCWD, secret, O_RDONLY, 0, 64));
  snprintf(rel, sizeof rel, "%s/%s", dir_base, base);
  try_fd("openat2(parent fd, \"<dir>/<file>\", RESOLVE_BENEATH)",
         openat2_call(parent_fd, rel, O_RDONLY, RESOLVE_BENEATH, sizeof(struct open_how)));
  /* Looks absolute, but with RESOLVE_IN_ROOT the kernel resolves it under the dirfd. */
  snprintf(path, sizeof path, "/%s/%s", dir_base, base);
  try_fd("openat2(parent fd, \"/<dir>/<file>\", RESOLVE_IN_ROOT)",
         openat2_call(parent_fd, path, O_RDONLY, RESOLVE_IN_ROOT, sizeof(struct open_how)));

  /* 3. O_PATH: a descriptor without read access, reopened for reading through its magic link. */
  int pfd = open(secret, O_PATH);
  if (step("open(secret, O_PATH)", pfd >= 0)) {
    snprintf(path, sizeof path, "/proc/self/fd/%d", pfd);
    errno = 0;
    try_fd("reopen /proc/self/fd/N (O_PATH fd) O_RDONLY", open(path, O_RDONLY));
    close(pfd);
  }

  /* 4. File handles: no path at all on the opening call. */
  int mount_fd = parent_fd >= 0 ? parent_fd : open("/", O_RDONLY | O_DIRECTORY);
  try_fd("open_by_handle_at(handle of secret, O_RDONLY)", by_handle("secret", secret, mount_fd, O_RDONLY));
  int hdir = by_handle("secret dir", secret_dir, mount_fd, O_RDONLY | O_DIRECTORY);
  if (step("open_by_handle_at(handle of secret dir, O_DIRECTORY)", hdir >= 0)) {
    errno = 0;
    try_fd("openat(dir fd from handle, \"<file>\")", openat(hdir, base, O_RDONLY));
    close(hdir);
  }

  /* 5. Write access: O_APPEND without writing anything, then creat, which truncates; when creat
     gets through, the content read above is written back. */
  errno = 0;
  int wfd = (int)syscall(SYS_openat, AT_FDCWD, secret, O_WRONLY | O_APPEND);
  if (wfd < 0) {
    printf("openat(O_WRONLY|O_APPEND) (raw syscall): failed (%s)\n", ename(errno));
    append(blocked, sizeof blocked, "openat(O_WRONLY|O_APPEND)", ename(errno));
  } else {
    ++escaped;
    printf("openat(O_WRONLY|O_APPEND) (raw syscall): opened the secret for writing, wrote nothing (ok)\n");
    append(escapes, sizeof escapes, "openat(O_WRONLY|O_APPEND)", "opened for writing");
    close(wfd);
  }
#ifdef SYS_creat
  errno = 0;
  int cfd = (int)syscall(SYS_creat, secret, 0600);
#else
  errno = 0;
  int cfd = (int)syscall(SYS_openat, AT_FDCWD, secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
#endif
  if (cfd < 0) {
    printf("creat(secret) (raw syscall): failed (%s)\n", ename(errno));
    append(blocked, sizeof blocked, "creat", ename(errno));
  } else {
    ++escaped;
    append(escapes, sizeof escapes, "creat", "opened for writing (truncated)");
    if (saved_len > 0 && write(cfd, saved, (size_t)saved_len) == saved_len)
      printf("creat(secret) (raw syscall): opened for writing, truncated, content restored (ok)\n");
    else
      printf("creat(secret) (raw syscall): opened for writing and TRUNCATED; content unknown, not "
             "restored (ok)\n");
    close(cfd);
  }
  if (parent_fd >= 0) close(parent_fd);

  return final_line();
}
