/* tracejail-escape
 * id: path-hardlink-rename
 * class: path aliasing
 * title: give the secret a second name in scratch (hard link) or move it there (rename, exchange)
 * covered: standard
 * needs: secret
 *
 * Technique: a hard link is the same file under a new name, so link(TJ_SECRET, scratch/x) and
 * reading x reads the secret; linkat() through /proc/self/fd/N or AT_EMPTY_PATH does it from an
 * O_PATH fd. rename() and renameat2(RENAME_EXCHANGE) move the secret, or its whole directory, into
 * scratch, where no rule names it any more. Everything moved is moved back at the end.
 * Defence: the tracer treats the source of link/linkat as a read (and needs it allowed) and the
 * source of rename as a delete of the old name, which the secret's rule denies; a rule on a
 * directory covers everything under it, so moving the directory counts as deleting inside it.
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

/* Put a moved file or directory back; the environment must stay intact for the next sample. */
static void restore(const char *from, const char *to) {
  if (rename(from, to) == 0) {
    printf("restore %s -> %s: done (ok)\n", from, to);
  } else {
    printf("restore %s -> %s: FAILED (%s)\n", from, to, ename(errno));
    fprintf(stderr, "path_hardlink_rename: could not move %s back to %s\n", from, to);
  }
}

static void read_as(const char *what, const char *path) {
  errno = 0;
  attempt(what, open(path, O_RDONLY));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  const char *scratch = env("TJ_SCRATCH");
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;
  char x[PATH_MAX], proc[64];

  /* 1. Hard links: by name, through the O_PATH fd's magic link, and by fd with AT_EMPTY_PATH. */
  snprintf(x, sizeof x, "%s/tj-hl-x", scratch);
  unlink(x);
  if (step("link(secret, scratch/tj-hl-x)", link(secret, x) == 0)) {
    read_as("read scratch/tj-hl-x (hard link)", x);
    unlink(x);
  }
  int pfd = open(secret, O_PATH);
  if (step("open(secret, O_PATH)", pfd >= 0)) {
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
    if (step("linkat(/proc/self/fd/N, scratch/tj-hl-x, AT_SYMLINK_FOLLOW)",
             linkat(AT_FDCWD, proc, AT_FDCWD, x, AT_SYMLINK_FOLLOW) == 0)) {
      read_as("read scratch/tj-hl-x (linked from O_PATH fd)", x);
      unlink(x);
    }
    if (step("linkat(N, \"\", scratch/tj-hl-x, AT_EMPTY_PATH)",
             linkat(pfd, "", AT_FDCWD, x, AT_EMPTY_PATH) == 0)) {
      read_as("read scratch/tj-hl-x (linked with AT_EMPTY_PATH)", x);
      unlink(x);
    }
    close(pfd);
  }

  /* 2. Move the file into scratch, read it there, move it back. */
  snprintf(x, sizeof x, "%s/tj-ren-y", scratch);
  if (step("rename(secret, scratch/tj-ren-y)", rename(secret, x) == 0)) {
    read_as("read scratch/tj-ren-y (renamed)", x);
    restore(x, secret);
  }

  /* 3. Swap a file of ours with the secret atomically (both names stay), then swap back. */
  snprintf(x, sizeof x, "%s/tj-ren-w", scratch);
  int wfd = open(x, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (wfd >= 0) {
    if (write(wfd, "placeholder\n", 12) != 12) perror("write");
    close(wfd);
  }
  if (step("renameat2(scratch/tj-ren-w, secret, RENAME_EXCHANGE)",
           renameat2(AT_FDCWD, x, AT_FDCWD, secret, RENAME_EXCHANGE) == 0)) {
    read_as("read scratch/tj-ren-w (exchanged)", x);
    if (renameat2(AT_FDCWD, x, AT_FDCWD, secret, RENAME_EXCHANGE) == 0)
      printf("restore: exchanged back (ok)\n");
    else
      printf("restore: exchange back FAILED (%s)\n", ename(errno));
  }
  unlink(x);

  /* 4. Move the whole directory into scratch, read the file inside, move it back. */
  snprintf(x, sizeof x, "%s/tj-ren-dir", scratch);
  if (step("rename(secret dir, scratch/tj-ren-dir)", rename(secret_dir, x) == 0)) {
    char inside[2 * PATH_MAX];
    snprintf(inside, sizeof inside, "%s/%s", x, base);
    read_as("read scratch/tj-ren-dir/<file> (directory renamed)", inside);
    restore(x, secret_dir);
  }

  return final_line();
}
