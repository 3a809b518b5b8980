/* tracejail-escape
 * id: path-long
 * class: path aliasing
 * title: paths at and beyond PATH_MAX, and a cwd too deep to have an absolute name
 * covered: standard
 * needs: secret
 *
 * Technique: (a) the secret's path padded with "./" or "/" up to the 4095 bytes the kernel accepts,
 * to catch a checker that reads a shorter string or truncates; (b) a chain of directories under
 * TJ_SCRATCH, built step by step with mkdirat/openat so no single name is too long, whose absolute
 * path is longer than PATH_MAX: from there the cwd has no readable name (getcwd and
 * /proc/self/cwd fail), and "../../.." leads back to the secret; (c) a path over PATH_MAX, which the
 * kernel must refuse with ENAMETOOLONG.
 * Defence: the tracer reads path arguments up to PATH_MAX page by page, and when it cannot name
 * the cwd or a dirfd (its absolute path is longer than PATH_MAX) it fails closed: the call is
 * refused rather than matched against a guess.
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

enum { kDepth = 18 };  /* 18 names of 250 bytes: the chain alone is 4518 bytes long */

static char big[3 * PATH_MAX];

/* big = prefix + pad repeated + suffix, with as many pads as fit in `len` bytes in total. */
static const char *padded(const char *prefix, const char *pad, const char *suffix, size_t len) {
  size_t fixed = strlen(prefix) + strlen(suffix), step = strlen(pad);
  strcpy(big, prefix);
  for (size_t n = fixed; n + step <= len; n += step) strcat(big, pad);
  strcat(big, suffix);
  return big;
}

static char name[251];  /* "tj-long-ddd...", NAME_MAX-sized, one per level of the chain */

/* Builds the chain from the top, one mkdirat + openat per level relative to the previous level's
   fd, as `mkdir -p` would. Returns an fd of the bottom directory, or -1 (and reports why). */
static int build_top_down(int sfd) {
  int fd = -1, level = 0;
  if (mkdirat(sfd, "tj-long-root", 0700) == 0 || errno == EEXIST)
    fd = openat(sfd, "tj-long-root", O_PATH | O_DIRECTORY);
  while (fd >= 0 && level < kDepth) {
    int next = -1;
    if (mkdirat(fd, name, 0700) == 0 || errno == EEXIST) next = openat(fd, name, O_PATH | O_DIRECTORY);
    int err = errno;
    close(fd);
    fd = next;
    errno = err;
    if (fd >= 0) ++level;
  }
  int err = errno;
  printf("(b) build %d levels top-down (mkdirat/openat per level): %s at level %d (%s)\n", kDepth,
         fd >= 0 ? "succeeded" : "failed", level, fd >= 0 ? "ok" : ename(err));
  if (fd < 0) append(blocked, sizeof blocked, "(b) top-down build", ename(err));
  return fd;
}

/* Builds the chain from the bottom: open the bottom directory first, then wrap it in a new parent
   again and again with rename, so every call names a short path next to scratch. */
static int build_bottom_up(int sfd) {
  int ok = mkdirat(sfd, "tj-long-root", 0700) == 0;
  int bottom = ok ? openat(sfd, "tj-long-root", O_PATH | O_DIRECTORY) : -1;
  int level = 0;
  while (bottom >= 0 && level < kDepth) {
    char inner[300];
    snprintf(inner, sizeof inner, "tj-long-wrap/%s", name);
    if (mkdirat(sfd, "tj-long-wrap", 0700) != 0 ||
        renameat(sfd, "tj-long-root", sfd, inner) != 0 ||
        renameat(sfd, "tj-long-wrap", sfd, "tj-long-root") != 0)
      break;
    ++level;
  }
  int err = errno;
  printf("(b) build %d levels bottom-up (open the bottom, then rename it under new parents): "
         "%s at level %d (%s)\n", kDepth, level == kDepth ? "succeeded" : "failed", level,
         level == kDepth ? "ok" : ename(err));
  if (level == kDepth) return bottom;
  append(blocked, sizeof blocked, "(b) bottom-up build", ename(err));
  if (bottom >= 0) close(bottom);
  return -1;
}

/* Removes the chain from the top without ever naming a deep path: move the top's child out next
   to it, remove the emptied top, repeat. */
static void unwrap(int sfd) {
  char inner[300];
  snprintf(inner, sizeof inner, "tj-long-root/%s", name);
  for (int i = 0; i <= kDepth + 1; ++i) {
    if (renameat(sfd, inner, sfd, "tj-long-next") != 0) break;
    unlinkat(sfd, "tj-long-root", AT_REMOVEDIR);
    renameat(sfd, "tj-long-next", sfd, "tj-long-root");
  }
  unlinkat(sfd, "tj-long-root", AT_REMOVEDIR);
  unlinkat(sfd, "tj-long-wrap", AT_REMOVEDIR);
}

static void try_at(const char *what, int dirfd, const char *path) {
  char label[256];
  snprintf(label, sizeof label, "%s [%zu bytes]", what, strlen(path));
  errno = 0;
  attempt(label, openat(dirfd, path, O_RDONLY));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  char scratch[PATH_MAX];
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "path_long: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;
  memset(name, 'd', sizeof name - 1);
  memcpy(name, "tj-long-", 8);
  char canon[PATH_MAX + 256], dir[PATH_MAX];
  if (realpath(secret_dir, dir) != NULL)
    snprintf(canon, sizeof canon, "%s/%s", dir, base);
  else
    snprintf(canon, sizeof canon, "%s", secret);

  /* (a) Padded to the limit: PATH_MAX counts the final NUL, so 4095 bytes is the longest. */
  try_at("(a) open(\"/./././.../<secret>\")", AT_FDCWD, padded("/", "./", secret + 1, 4090));
  try_at("(a) open(\"/////.../<secret>\")", AT_FDCWD, padded("/", "/", secret + 1, PATH_MAX - 1));
  char dir_slash[PATH_MAX + 2], slash_base[NAME_MAX + 2];
  snprintf(dir_slash, sizeof dir_slash, "%s", secret_dir);
  snprintf(slash_base, sizeof slash_base, "/%s", base);
  try_at("(a) open(\"<secret dir>/./././.../<file>\")", AT_FDCWD,
         padded(dir_slash, "/.", slash_base, PATH_MAX - 1));

  /* (b) A chain deeper than PATH_MAX under scratch: scratch/tj-long-root/<name>/<name>/... */
  int sfd = open(scratch, O_PATH | O_DIRECTORY);
  int bottom = sfd >= 0 ? build_top_down(sfd) : -1;
  if (bottom < 0 && sfd >= 0) {
    unwrap(sfd);
    bottom = build_bottom_up(sfd);
  }
  if (bottom >= 0) {
    int home = open(".", O_PATH | O_DIRECTORY);
    if (fchdir(bottom) == 0) {
      char cwd[PATH_MAX];
      errno = 0;
      const char *got = getcwd(cwd, sizeof cwd);
      printf("(b) getcwd() at the bottom: %s (%s)\n", got ? got : "failed", got ? "ok" : ename(errno));
      ssize_t n = readlink("/proc/self/cwd", cwd, sizeof cwd - 1);
      printf("(b) readlink(/proc/self/cwd): %s (%s)\n", n >= 0 ? "succeeded" : "failed",
             n >= 0 ? "ok" : ename(errno));
      /* Up out of the chain to scratch, then up to "/" and down to the secret. */
      char rel[PATH_MAX] = "", path[2 * PATH_MAX];
      for (int i = 0; i <= kDepth; ++i) strcat(rel, "../");
      for (const char *q = scratch; *q; ++q)
        if (*q == '/') strcat(rel, "../");
      strncat(rel, canon + 1, sizeof rel - strlen(rel) - 1);
      try_at("(b) deep cwd, open(\"../../<up past scratch to />/<secret>\")", AT_FDCWD, rel);
      snprintf(path, sizeof path, "/proc/self/cwd/%s", rel);
      try_at("(b) deep cwd, open(\"/proc/self/cwd/../../<...>/<secret>\")", AT_FDCWD, path);
      try_at("(b) openat(fd of the bottom dir, \"../../<...>/<secret>\")", bottom, rel);
    } else {
      printf("(b) fchdir(bottom of the chain): failed (%s)\n", ename(errno));
      append(blocked, sizeof blocked, "(b) fchdir", ename(errno));
    }
    if (home >= 0 && fchdir(home) != 0) perror("fchdir");
    if (home >= 0) close(home);
    close(bottom);
  }
  if (sfd >= 0) {
    unwrap(sfd);
    close(sfd);
  }

  /* (c) Over the limit: the kernel refuses before looking at a single name. */
  const char *p = padded("/", "./", secret + 1, PATH_MAX + 900);
  errno = 0;
  int fd = open(p, O_RDONLY);
  if (fd < 0 && errno == ENAMETOOLONG) {
    printf("(c) open(\"/./.../<secret>\") [%zu bytes]: failed as expected (ENAMETOOLONG)\n", strlen(p));
    append(blocked, sizeof blocked, "(c) over PATH_MAX", "ENAMETOOLONG");
  } else {
    attempt("(c) open(\"/./.../<secret>\") over PATH_MAX", fd);
  }

  return final_line();
}
