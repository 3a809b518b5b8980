/* tracejail-escape
 * id: path-dotdot
 * class: path aliasing
 * title: ".." chains from the cwd, from a writable directory, and relative to directory fds
 * covered: standard
 * needs: secret
 *
 * Technique: name the secret without its plain absolute path: "../secret/secret.txt" from a cwd
 * in TJ_SCRATCH, "TJ_SCRATCH/../../<...>/secret.txt", climbs past "/" (where ".." stays at "/"),
 * detours through the secret's own directory, and openat() with a directory fd of "/" or of the
 * scratch directory and a relative path full of "..". A checker that compares strings, or forgets
 * the cwd or the dirfd, sees a different file than the kernel opens.
 * Defence: the tracer turns every path into an absolute one the way the kernel walks it (cwd or
 * dirfd taken from the tracee, ".." applied after symlinks) before matching rules.
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

/* Writes "../" once per component of the absolute path dir into out. */
static void climb(const char *dir, char *out, size_t size, int extra) {
  out[0] = '\0';
  int n = extra;
  for (const char *p = dir; *p; ++p)
    if (*p == '/' && p[1] != '\0' && p[1] != '/') ++n;
  for (int i = 0; i < n && strlen(out) + 4 < size; ++i) strcat(out, "../");
}

/* The shortest relative path from directory `from` to file `to` (both canonical, absolute). */
static void relative(const char *from, const char *to, char *out, size_t size) {
  size_t common = 0;  /* length of the shared prefix that ends at a component boundary */
  for (size_t i = 0; from[i] && from[i] == to[i]; ++i)
    if (to[i] == '/' || (from[i + 1] == '\0' && (to[i + 1] == '/' || to[i + 1] == '\0')))
      common = i + 1;
  if (from[common] == '\0' && to[common] == '/') ++common;  /* `to` lies under `from` */
  climb(from + common - 1, out, size, 0);
  if (from[common] == '\0') out[0] = '\0';
  strncat(out, to + common, size - strlen(out) - 1);
}

static void try_at(const char *what, int dirfd, const char *path) {
  errno = 0;
  attempt(what, openat(dirfd, path, O_RDONLY));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  char scratch[PATH_MAX], canon_dir[PATH_MAX], canon_secret[PATH_MAX + 256];
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "path_dotdot: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;
  const char *dir_base = strrchr(secret_dir, '/') + 1;
  /* Canonical secret path (the directory may sit behind a symlink such as /tmp -> /private/tmp). */
  if (realpath(secret_dir, canon_dir) != NULL)
    snprintf(canon_secret, sizeof canon_secret, "%s/%s", canon_dir, base);
  else
    snprintf(canon_secret, sizeof canon_secret, "%s", secret);

  char ups[PATH_MAX], path[4 * PATH_MAX];

  /* 1. From the cwd: chdir into scratch, then relative names. */
  if (chdir(scratch) != 0) {
    printf("chdir(scratch): failed (%s)\n", ename(errno));
    append(blocked, sizeof blocked, "chdir(scratch)", ename(errno));
  } else {
    relative(scratch, canon_secret, path, sizeof path);
    char what[4 * PATH_MAX + 64];
    snprintf(what, sizeof what, "cwd=scratch, open(\"%s\")", path);
    try_at(what, AT_FDCWD, path);
    climb(scratch, ups, sizeof ups, 0);
    snprintf(path, sizeof path, "%s%s", ups, canon_secret + 1);
    try_at("cwd=scratch, open(\"../../<all the way up>/<secret>\")", AT_FDCWD, path);
    climb(scratch, ups, sizeof ups, 5);  /* five more than needed: ".." at "/" stays at "/" */
    snprintf(path, sizeof path, "%s%s", ups, canon_secret + 1);
    try_at("cwd=scratch, open(\"<5 extra ../ past the root>/<secret>\")", AT_FDCWD, path);
  }

  /* 2. Absolute paths that wander through other directories first. */
  climb(scratch, ups, sizeof ups, 0);
  snprintf(path, sizeof path, "%s/%s%s", scratch, ups, canon_secret + 1);
  try_at("open(\"<scratch>/../../<...>/<secret>\")", AT_FDCWD, path);
  snprintf(path, sizeof path, "%s/../%s/./%s", secret_dir, dir_base, base);
  try_at("open(\"<secret dir>/../<dir>/./<file>\")", AT_FDCWD, path);
  snprintf(path, sizeof path, "/../../..%s", secret);
  try_at("open(\"/../../..<secret>\")", AT_FDCWD, path);
  relative(scratch, canon_secret, ups, sizeof ups);
  snprintf(path, sizeof path, "%s/%s", scratch, ups);
  try_at("open(\"<scratch>/../<rest>\")", AT_FDCWD, path);

  /* 3. Relative to directory fds: "/" and the scratch directory. */
  int rootfd = open("/", O_RDONLY | O_DIRECTORY);
  if (rootfd < 0) {
    printf("open(\"/\"): failed (%s)\n", ename(errno));
    append(blocked, sizeof blocked, "open(\"/\")", ename(errno));
  } else {
    const char *first_end = strchr(canon_secret + 1, '/');  /* "tmp" in /tmp/... */
    snprintf(path, sizeof path, "%.*s/../%s", (int)(first_end - canon_secret - 1), canon_secret + 1,
             canon_secret + 1);
    try_at("openat(fd of /, \"tmp/../<secret without />\")", rootfd, path);
    snprintf(path, sizeof path, "../../%s", canon_secret + 1);
    try_at("openat(fd of /, \"../../<secret without />\")", rootfd, path);
    close(rootfd);
  }
  int scratchfd = open(scratch, O_RDONLY | O_DIRECTORY);
  if (scratchfd < 0) {
    printf("open(scratch): failed (%s)\n", ename(errno));
    append(blocked, sizeof blocked, "open(scratch)", ename(errno));
  } else {
    relative(scratch, canon_secret, path, sizeof path);
    try_at("openat(fd of scratch, shortest ../ path)", scratchfd, path);
    climb(scratch, ups, sizeof ups, 2);
    snprintf(path, sizeof path, "%s%s", ups, canon_secret + 1);
    try_at("openat(fd of scratch, \"../../<past the root>/<secret>\")", scratchfd, path);
    /* A directory we create, step into by fd, and climb out of again. */
    if (mkdirat(scratchfd, "tj-dotdot", 0700) != 0 && errno != EEXIST) {
      printf("mkdir scratch/tj-dotdot: failed (%s)\n", ename(errno));
    } else {
      int subfd = openat(scratchfd, "tj-dotdot", O_RDONLY | O_DIRECTORY);
      char rel[PATH_MAX];
      relative(scratch, canon_secret, rel, sizeof rel);
      snprintf(path, sizeof path, "../%s", rel);
      try_at("openat(fd of scratch/tj-dotdot, \"../../<...>\")", subfd, path);
      if (subfd >= 0) close(subfd);
      unlinkat(scratchfd, "tj-dotdot", AT_REMOVEDIR);
    }
    close(scratchfd);
  }

  return final_line();
}
