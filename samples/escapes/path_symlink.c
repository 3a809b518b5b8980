/* tracejail-escape
 * id: path-symlink
 * class: path aliasing
 * title: symlinks in a writable directory pointing at the secret, its directory, or each other
 * covered: standard
 * needs: secret
 *
 * Technique: create symlinks in TJ_SCRATCH (which the program may write) that lead to the secret:
 * one to the file, one to its directory, one with a relative target, chains of several hops, and
 * "link-to-dir/../dir/file", where a lexical clean-up of ".." gives another file than the kernel's
 * walk (the kernel follows the link first, then takes ".." from where the link pointed).
 * Defence: the tracer resolves every path as the kernel will, following each symlink in the
 * tracee's view of the filesystem, and matches the rules against the final file, so every alias
 * meets the rule on TJ_SECRET. Landlock (strict and above) checks the same in the kernel.
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

/* Create scratch/name -> target; a failure is reported as an attempt of its own. */
static int make_link(const char *scratch, const char *name, const char *target) {
  char path[2 * PATH_MAX], what[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", scratch, name);
  unlink(path);
  if (symlink(target, path) == 0) return 1;
  int err = errno;
  snprintf(what, sizeof what, "symlink %s", name);
  printf("%s: failed (%s)\n", what, ename(err));
  append(blocked, sizeof blocked, what, ename(err));
  return 0;
}

static void open_in(const char *scratch, const char *rel, const char *what) {
  char path[2 * PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", scratch, rel);
  errno = 0;
  attempt(what, open(path, O_RDONLY));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  char scratch[PATH_MAX];
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "path_symlink: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;              /* "secret.txt" */
  const char *dir_base = strrchr(secret_dir, '/') + 1;      /* the secret directory's name */

  /* 1. A link straight to the file, opened by absolute path and relative to a dirfd. */
  if (make_link(scratch, "tj-sym-file", secret)) {
    open_in(scratch, "tj-sym-file", "open(scratch/tj-sym-file -> secret)");
    int sfd = open(scratch, O_RDONLY | O_DIRECTORY);
    errno = 0;
    attempt("openat(scratch fd, \"tj-sym-file\")", openat(sfd, "tj-sym-file", O_RDONLY));
    close(sfd);
  }

  /* 2. A link to the directory, then the file name under it. */
  if (make_link(scratch, "tj-sym-dir", secret_dir)) {
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "tj-sym-dir/%s", base);
    open_in(scratch, rel, "open(scratch/tj-sym-dir/<file>, dir link)");
    /* Lexically "tj-sym-dir/.." is scratch, so this looks like scratch/<dirname>/<file>, which does
       not exist; the kernel takes ".." from the link's target and lands on the secret. */
    snprintf(rel, sizeof rel, "tj-sym-dir/../%s/%s", dir_base, base);
    open_in(scratch, rel, "open(scratch/tj-sym-dir/../<dir>/<file>)");
  }

  /* 3. A relative target: "../" up to / from the scratch directory, then the secret's path. */
  char target[PATH_MAX] = "";
  for (const char *p = scratch; *p; ++p)
    if (*p == '/') strcat(target, "../");
  strcat(target, secret + 1);
  if (make_link(scratch, "tj-sym-rel", target))
    open_in(scratch, "tj-sym-rel", "open(scratch/tj-sym-rel -> ../../<secret>)");

  /* 4. A chain of six hops (five relative, the last absolute), and three hops to the directory. */
  enum { kHops = 6 };
  int chain_ok = 1;
  for (int i = 1; i <= kHops && chain_ok; ++i) {
    char name[32], next[32];
    snprintf(name, sizeof name, "tj-sym-hop%d", i);
    snprintf(next, sizeof next, "tj-sym-hop%d", i + 1);
    chain_ok = make_link(scratch, name, i == kHops ? secret : next);
  }
  if (chain_ok) open_in(scratch, "tj-sym-hop1", "open(6-hop symlink chain -> secret)");
  if (make_link(scratch, "tj-sym-dhop3", secret_dir) && make_link(scratch, "tj-sym-dhop2", "tj-sym-dhop3") &&
      make_link(scratch, "tj-sym-dhop1", "./tj-sym-dhop2")) {
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "tj-sym-dhop1/%s", base);
    open_in(scratch, rel, "open(3-hop chain to the directory + <file>)");
  }

  /* Leave the scratch directory as we found it. */
  const char *names[] = {"tj-sym-file", "tj-sym-dir", "tj-sym-rel", "tj-sym-dhop1", "tj-sym-dhop2",
                         "tj-sym-dhop3"};
  char path[2 * PATH_MAX];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    snprintf(path, sizeof path, "%s/%s", scratch, names[i]);
    unlink(path);
  }
  for (int i = 1; i <= kHops; ++i) {
    snprintf(path, sizeof path, "%s/tj-sym-hop%d", scratch, i);
    unlink(path);
  }

  return final_line();
}
