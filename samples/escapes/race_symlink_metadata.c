/* tracejail-escape
 * id: race-symlink-metadata
 * class: filesystem races
 * title: swap a directory for a symlink to the protected one while chmod, chown, xattrs... act
 * covered: basic
 * needs: protected
 *
 * Technique: in TJ_SCRATCH a real directory "pd" (with a file named like TJ_PROTECTED) and a
 * symlink "pl" -> TJ_PROTECTED_DIR are exchanged in a loop by renameat2(RENAME_EXCHANGE) while
 * the main thread calls, up to 20000 times a way, chmod 0777, chown to another uid, utimensat to
 * time 0, setxattr "user.tj-race" and removexattr "user.tj-protected" on TJ_SCRATCH/pd/<name>.
 * Checked while pd is the directory, the call is allowed; walked by the kernel after the swap, it
 * changes TJ_PROTECTED. A way stops at the first change that stat or getxattr sees there.
 * Defence: at every level the call is anchored (tracer/fs_anchor.h): the tracee opens the
 * object it checked (chmod, chown, utimensat, setxattr and removexattr follow a final symlink)
 * with openat2 RESOLVE_NO_SYMLINKS, and the call names it through /proc/thread-self/fd/N, so a
 * symlink swapped in after the check fails it with ELOOP (an escape_attempt, builtin:path-race).
 * Landlock has no rights for metadata; at maximum the read-only root refuses them too (EROFS).
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
#include <sys/syscall.h>
#include <sys/xattr.h>
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
static char scratch[PATH_MAX], pd[PATH_MAX + 8], pl[PATH_MAX + 8], pd_base[2 * PATH_MAX];
static int dfd = -1;       /* the real directory, whichever of the two names it has now */
static int sfd = -1;       /* the scratch file pd/<name>, read-only */
static struct stat prot0;  /* TJ_PROTECTED when the way started */
static int prot0_ok;
static uid_t new_uid;      /* the owner chown asks for: not TJ_PROTECTED's */

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

/* The scratch file pd/<base>, written through the directory's descriptor before the swaps
   start, with the attribute the protected file carries; sfd stays open on it. */
static int make_scratch_file(void) {
  int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int ok = write(fd, kText, sizeof kText - 1) == (ssize_t)(sizeof kText - 1);
  close(fd);
  if (!ok || (sfd = openat(dfd, base, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  return fsetxattr(sfd, "user.tj-protected", "scratch", 7, 0);
}

/* One way: the racing call (0, or -1 with errno), whether TJ_PROTECTED changed (and how), and
   how to make the scratch target as it was after the call succeeded there (NULL: no need). */
struct way {
  const char *name;
  int (*call)(void);
  int (*changed)(char *detail, size_t size);
  int (*reset)(void);
};

/* TJ_PROTECTED now, when it is still the file the way started with. */
static int prot_now(struct stat *st) {
  return stat(prot, st) == 0 && st->st_dev == prot0.st_dev && st->st_ino == prot0.st_ino;
}

static int call_chmod(void) { return fchmodat(AT_FDCWD, pd_base, 0777, 0); }
static int changed_chmod(char *detail, size_t size) {
  struct stat st;
  if (!prot_now(&st)) return 0;
  snprintf(detail, size, "TJ_PROTECTED's mode %04o -> %04o", (unsigned)(prot0.st_mode & 07777),
           (unsigned)(st.st_mode & 07777));
  return (st.st_mode & 07777) != (prot0.st_mode & 07777);
}

static int call_chown(void) { return fchownat(AT_FDCWD, pd_base, new_uid, (gid_t)-1, 0); }
static int changed_chown(char *detail, size_t size) {
  struct stat st;
  if (!prot_now(&st)) return 0;
  snprintf(detail, size, "TJ_PROTECTED's owner uid %u -> %u", (unsigned)prot0.st_uid,
           (unsigned)st.st_uid);
  return st.st_uid != prot0.st_uid;
}

static int call_utimensat(void) {
  const struct timespec zero[2] = {{0, 0}, {0, 0}};
  return utimensat(AT_FDCWD, pd_base, zero, 0);
}
static int changed_utimensat(char *detail, size_t size) {
  struct stat st;
  if (!prot_now(&st)) return 0;
  snprintf(detail, size, "TJ_PROTECTED's mtime %lld -> %lld", (long long)prot0.st_mtim.tv_sec,
           (long long)st.st_mtim.tv_sec);
  return st.st_mtim.tv_sec == 0 && st.st_mtim.tv_nsec == 0 &&
         (prot0.st_mtim.tv_sec != 0 || prot0.st_mtim.tv_nsec != 0);
}

static int call_setxattr(void) { return setxattr(pd_base, "user.tj-race", "tracejail", 9, 0); }
static int changed_setxattr(char *detail, size_t size) {
  char value[32] = "";
  ssize_t n = getxattr(prot, "user.tj-race", value, sizeof value - 1);
  value[n > 0 ? n : 0] = '\0';
  snprintf(detail, size, "TJ_PROTECTED has user.tj-race = \"%s\" now", value);
  return n >= 0;
}

static int prot_attr0;  /* TJ_PROTECTED had user.tj-protected when the way started */
static int call_removexattr(void) { return removexattr(pd_base, "user.tj-protected"); }
static int changed_removexattr(char *detail, size_t size) {
  snprintf(detail, size, "TJ_PROTECTED's attribute user.tj-protected is gone");
  return prot_attr0 && getxattr(prot, "user.tj-protected", NULL, 0) < 0 && errno == ENODATA;
}
static int reset_removexattr(void) { return fsetxattr(sfd, "user.tj-protected", "scratch", 7, 0); }

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
  prot0_ok = stat(prot, &prot0) == 0;
  prot_attr0 = getxattr(prot, "user.tj-protected", NULL, 0) >= 0;
  if (!prot0_ok) {
    snprintf(what, sizeof what, "not run: stat TJ_PROTECTED %s", ename(errno));
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

/* scratch/pd: a real directory with the file <name>; scratch/pl -> TJ_PROTECTED_DIR. */
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
  if (symlink(prot_dir, pl) != 0) return setup_failed("symlink scratch/pl -> TJ_PROTECTED_DIR");
  return 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  prot = env("TJ_PROTECTED");
  prot_dir = env("TJ_PROTECTED_DIR");
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "race_symlink_metadata: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  base = strrchr(prot, '/') ? strrchr(prot, '/') + 1 : prot;  /* "protected.txt" */
  snprintf(pd, sizeof pd, "%s/pd", scratch);
  snprintf(pl, sizeof pl, "%s/pl", scratch);
  snprintf(pd_base, sizeof pd_base, "%s/%s", pd, base);

  if (setup()) {
    printf("racing on %s while pd (a directory) <-> pl (-> %s) swap\n", pd_base, prot_dir);
    struct stat st;
    new_uid = stat(prot, &st) == 0 && st.st_uid == 1 ? 2 : 1;
    static const struct way ways[] = {
        {"chmod(pd/<name>, 0777)", call_chmod, changed_chmod, NULL},
        {"chown(pd/<name>, another uid)", call_chown, changed_chown, NULL},
        {"utimensat(pd/<name>, times 0)", call_utimensat, changed_utimensat, NULL},
        {"setxattr(pd/<name>, user.tj-race)", call_setxattr, changed_setxattr, NULL},
        {"removexattr(pd/<name>, user.tj-protected)", call_removexattr, changed_removexattr,
         reset_removexattr},
    };
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; ++i) {
      if (ways[i].call == call_chown && geteuid() != 0) {
        char what[96];
        snprintf(what, sizeof what, "not run: chown to another uid needs root (CAP_CHOWN), this "
                 "runs as uid %u", (unsigned)geteuid());
        stopped(ways[i].name, what);
        continue;
      }
      run_way(&ways[i]);
    }
  }

  /* Leave scratch as it was (what changed TJ_PROTECTED stays: it is the evidence). */
  unswap();
  if (sfd >= 0) close(sfd);
  if (dfd >= 0) {
    unlinkat(dfd, base, 0);
    close(dfd);
    rmdir(pd);
  }
  unlink(pl);
  return final_line();
}
