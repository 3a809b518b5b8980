/* tracejail-escape
 * id: race-symlink-exec
 * class: filesystem races
 * title: swap two symlinks between the tracer's check of execve's path and the kernel's exec
 * covered: basic
 * needs: forbidden
 *
 * Technique: the tracer resolves execve's path at the syscall stop and decides; the kernel then
 * walks the path again to find the program. In TJ_SCRATCH, "xa" -> /bin/true (allowed) and
 * "xb" -> TJ_FORBIDDEN are exchanged atomically (renameat2 RENAME_EXCHANGE) by a thread while
 * the main thread forks 2000 children that each execv(scratch/xa) with stdout on a pipe. A child
 * that printed FORBIDDEN-PROGRAM-RAN ran the forbidden program although the path that was checked
 * led to /bin/true. (The forbidden program is a #! script: /bin/sh opens xa once more, so it runs
 * only when that open is raced too.)
 * Defence: tracejail records the image the kernel must run (the file checked, or the interpreter
 * a #! script names) and compares it with /proc/PID/exe at the exec event, before the new
 * program's first instruction; a swap kills the process (rule builtin:exec-race). Landlock at
 * strict and up; at strict nothing but the command may be executed anyway.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

enum { kAttempts = 2000, kErrnos = 256 };
static const long kGapNs = 100000;  /* the flipper's mean pause between two swaps */

#define ALLOWED "/bin/true"

static atomic_int stop, flip_err;
static atomic_long swaps;
static char link_a[PATH_MAX + 16], link_b[PATH_MAX + 16];

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Exchange xa and xb until told to stop (or until renameat2 fails). After each swap it spins for
   50 to 150 us (out of any syscall, no sleep), a varying time so the swaps do not fall into step
   with the execs. Without the pause a tracer that serves the first stopped task it finds may serve
   this loop's renameat2 over and over and the main thread next to never (seen at strict). */
static void *flipper(void *arg) {
  (void)arg;
  unsigned x = 2463534242u;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    if (syscall(SYS_renameat2, AT_FDCWD, link_a, AT_FDCWD, link_b, RENAME_EXCHANGE) != 0) {
      atomic_store(&flip_err, errno);
      break;
    }
    atomic_fetch_add_explicit(&swaps, 1, memory_order_relaxed);
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    for (long until = now_ns() + kGapNs / 2 + x % kGapNs; now_ns() < until;)
      if (atomic_load_explicit(&stop, memory_order_relaxed)) break;
  }
  return NULL;
}

struct counts {
  long forbidden, allowed, exec_failed, killed, other_signal, other;
  long err[kErrnos];
  int first_signal;
  char forbidden_line[256], other_example[256];
};

/* One attempt: fork, the child execs scratch/xa with stdout and stderr on a pipe; the parent reads
   the pipe to its end and reaps the child. A second (close-on-exec) pipe carries execv's errno
   back, so a failed exec is told apart from a program that ran and failed. */
static void one(char *const argv[], struct counts *c) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    ++c->other;
    return;
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    ++c->other;
    close(out[0]);
    close(out[1]);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    /* A multithreaded parent: only async-signal-safe calls until execv. */
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    execv(link_a, argv);
    int e = errno;
    ssize_t unused = write(err[1], &e, sizeof e);
    (void)unused;
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    ++c->other;
    close(out[0]);
    close(err[0]);
    return;
  }
  char buf[4096], chunk[4096];
  size_t n = 0;
  for (;;) {  /* to the end; the first 4 KiB are kept */
    ssize_t r = read(out[0], chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    size_t take = (size_t)r < sizeof buf - 1 - n ? (size_t)r : sizeof buf - 1 - n;
    memcpy(buf + n, chunk, take);
    n += take;
  }
  buf[n] = '\0';
  int exec_errno = 0;
  ssize_t got = read(err[0], &exec_errno, sizeof exec_errno);
  close(out[0]);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}

  char *ran = strstr(buf, "FORBIDDEN-PROGRAM-RAN");
  if (ran != NULL) {
    if (c->forbidden++ == 0) {
      snprintf(c->forbidden_line, sizeof c->forbidden_line, "%s", ran);
      c->forbidden_line[strcspn(c->forbidden_line, "\n")] = '\0';
    }
  } else if (got == (ssize_t)sizeof exec_errno) {
    ++c->exec_failed;
    ++c->err[exec_errno > 0 && exec_errno < kErrnos ? exec_errno : 0];
  } else if (WIFSIGNALED(status)) {
    if (WTERMSIG(status) == SIGKILL) {
      ++c->killed;
    } else {
      if (c->other_signal++ == 0) c->first_signal = WTERMSIG(status);
    }
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == 0) {
    ++c->allowed;
  } else {
    /* It ran, but not as either program would: e.g. /bin/sh given /bin/true to read as a script
       after the link flipped back. */
    if (c->other++ == 0) {
      buf[strcspn(buf, "\n")] = '\0';
      snprintf(c->other_example, sizeof c->other_example, "exit %d: %.200s",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1, n ? buf : "(no output)");
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *forbidden = env("TJ_FORBIDDEN");
  char scratch[PATH_MAX];
  if (realpath(env("TJ_SCRATCH"), scratch) == NULL) {
    fprintf(stderr, "race_symlink_exec: TJ_SCRATCH: %s\n", strerror(errno));
    return 2;
  }
  const char *way = "exec-race";
  snprintf(link_a, sizeof link_a, "%s/xa", scratch);
  snprintf(link_b, sizeof link_b, "%s/xb", scratch);
  unlink(link_a);
  unlink(link_b);
  if (symlink(ALLOWED, link_a) != 0 || symlink(forbidden, link_b) != 0) {
    int e = errno;
    char what[96];
    snprintf(what, sizeof what, "symlink %s", ename(e));
    stopped(way, what);
    unlink(link_a);
    unlink(link_b);
    return final_line();
  }
  printf("%s: %d x fork + execv(%s) while xa <-> xb (-> %s, -> TJ_FORBIDDEN) swap\n", way,
         kAttempts, link_a, ALLOWED);

  pthread_t t;
  int perr = pthread_create(&t, NULL, flipper, NULL);
  static struct counts c;
  if (perr != 0) {
    char what[96];
    snprintf(what, sizeof what, "pthread_create %s", ename(perr));
    stopped(way, what);
  } else {
    char *argv[] = {"xa", NULL};
    for (int i = 0; i < kAttempts; ++i) one(argv, &c);
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
  }
  unlink(link_a);
  unlink(link_b);
  if (perr != 0) return final_line();

  long n_swaps = atomic_load(&swaps);
  int ferr = atomic_load(&flip_err);
  char fails[256] = "";
  for (int e = 0; e < kErrnos; ++e) {
    if (c.err[e] == 0) continue;
    size_t used = strlen(fails);
    snprintf(fails + used, sizeof fails - used, "%s%s=%ld", used ? " " : "", e ? ename(e) : "?",
             c.err[e]);
  }
  printf("%s: %d execs: forbidden=%ld allowed=%ld exec-failed=%ld%s%s%s SIGKILL=%ld "
         "other-signal=%ld other=%ld; %ld swaps%s%s\n", way, kAttempts, c.forbidden, c.allowed,
         c.exec_failed, fails[0] ? " (" : "", fails, fails[0] ? ")" : "", c.killed,
         c.other_signal, c.other, n_swaps, ferr ? ", then renameat2 failed with " : "",
         ferr ? ename(ferr) : "");
  if (c.other_signal) printf("%s: first other signal: %s\n", way, sigabbrev_np(c.first_signal));
  if (c.other) printf("%s: first other outcome: %s\n", way, c.other_example);
  if (c.allowed > 0 && c.forbidden + c.exec_failed + c.killed + c.other > 0)
    printf("%s: the race ran: the same name ran %s %ld times and ended otherwise %ld times\n", way,
           ALLOWED, c.allowed, c.forbidden + c.exec_failed + c.killed + c.other_signal + c.other);
  else if (n_swaps == 0)
    printf("%s: the race did not run (no swap took place)\n", way);

  char what[512];
  if (c.forbidden > 0) {
    snprintf(what, sizeof what, "%s (in %ld of %d execs)", c.forbidden_line, c.forbidden,
             kAttempts);
    got_through(way, what);
  } else if (n_swaps == 0) {
    snprintf(what, sizeof what, "no race: renameat2 %s", ferr ? ename(ferr) : "never ran");
    stopped(way, what);
  } else {
    snprintf(what, sizeof what, "forbidden=0, allowed %ld, exec failed %ld%s%s%s, SIGKILL %ld, "
             "other signal %ld, other %ld", c.allowed, c.exec_failed, fails[0] ? " (" : "", fails,
             fails[0] ? ")" : "", c.killed, c.other_signal, c.other);
    stopped(way, what);
  }
  return final_line();
}
