/* tracejail-escape
 * id: clone-flags
 * class: clone3
 * title: children that escape the tracer: CLONE_UNTRACED (clone3 and clone), namespaces, TRACEME
 * covered: standard
 * needs: secret
 *
 * Technique: a child created with CLONE_UNTRACED is not auto-attached by the tracer and runs
 * unseen; clone3 hides its flags in a struct that a BPF filter cannot read. A child in new user
 * and mount namespaces gains capabilities there; PTRACE_TRACEME lets our own process become the
 * tracer so the supervisor cannot attach. Every child that runs reports TracerPid and tries to
 * open the secret, through a pipe.
 * Defence: clone3 fails with ENOSYS (libc falls back to clone, whose flags the filter can see);
 * clone with CLONE_UNTRACED or namespace flags, unshare and ptrace are escape primitives the
 * tracer denies with EPERM. A child that got out anyway would meet the inherited filter: flagged
 * calls without a tracer fail with ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *secret;
static char summary[2048];
static int escaped;

static void note(const char *label, const char *what) {
  size_t n = strlen(summary);
  snprintf(summary + n, sizeof summary - n, "%s%s -> %s", n ? "; " : "", label, what);
}

static int tracer_pid(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int pid = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "TracerPid: %d", &pid) == 1) break;
  if (f) fclose(f);
  return pid;
}

/* In the child: report on `w` whether we are traced and whether the secret opens. */
static void child_report(int w, const char *prefix) {
  char line[1024];
  int fd = open(secret, O_RDONLY);
  if (fd >= 0) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    snprintf(line, sizeof line, "%schild ran (TracerPid %d); open(secret) ok: %s", prefix,
             tracer_pid(), buf);
  } else {
    int e = errno;
    snprintf(line, sizeof line, "%schild ran (TracerPid %d); open(secret) -> %s", prefix,
             tracer_pid(), strerrorname_np(e));
  }
  if (write(w, line, strlen(line)) < 0) _exit(1);
  _exit(0);
}

/* Parent side: `pid` is the result of the clone-like call, `err` its errno. */
static void collect(const char *label, long pid, int err, int p[2]) {
  close(p[1]);
  if (pid < 0) {
    printf("%s: %s\n", label, strerrorname_np(err));
    note(label, strerrorname_np(err));
    close(p[0]);
    return;
  }
  char buf[1100];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  buf[n] = 0;
  close(p[0]);
  int st = 0;
  waitpid((pid_t)pid, &st, __WALL);
  if (n == 0) snprintf(buf, sizeof buf, "child created but reported nothing (status 0x%x)", st);
  printf("%s: %s\n", label, buf);
  if (strstr(buf, "open(secret) ok")) escaped = 1;
  char *arrow = strstr(buf, "open(secret)");
  note(label, arrow ? arrow : buf);
}

int main(void) {
  secret = getenv("TJ_SECRET");
  if (!secret) { printf("BLOCKED: TJ_SECRET not set\n"); return 0; }
  int p[2];
  long pid;
  fflush(stdout);

  /* 1. clone3 with CLONE_UNTRACED: the flags are in memory, out of a BPF filter's sight. */
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_UNTRACED;
  ca.exit_signal = SIGCHLD;
  if (pipe(p) != 0) return 0;
  pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) child_report(p[1], "untraced ");
  collect("clone3(CLONE_UNTRACED)", pid, errno, p);

  /* 2. clone(CLONE_UNTRACED|SIGCHLD), raw: fork semantics with the untraced flag. */
  if (pipe(p) != 0) return 0;
  pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) child_report(p[1], "untraced ");
  collect("clone(CLONE_UNTRACED|SIGCHLD)", pid, errno, p);

  /* 3. A child in new user and mount namespaces. */
  if (pipe(p) != 0) return 0;
  pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) child_report(p[1], "namespaced ");
  collect("clone(CLONE_NEWUSER|CLONE_NEWNS|SIGCHLD)", pid, errno, p);

  /* 4. unshare(CLONE_NEWUSER) in a forked child. */
  if (pipe(p) != 0) return 0;
  pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWUSER) != 0) {
      char line[128];
      snprintf(line, sizeof line, "unshare -> %s", strerrorname_np(errno));
      if (write(p[1], line, strlen(line)) < 0) _exit(1);
      _exit(0);
    }
    child_report(p[1], "unshared ");
  }
  collect("fork+unshare(CLONE_NEWUSER)", pid, errno, p);

  /* 5. PTRACE_TRACEME in a forked child: our process would become its tracer. */
  if (pipe(p) != 0) return 0;
  pid = fork();
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
      char line[128];
      snprintf(line, sizeof line, "PTRACE_TRACEME -> %s", strerrorname_np(errno));
      if (write(p[1], line, strlen(line)) < 0) _exit(1);
      _exit(0);
    }
    child_report(p[1], "self-traced ");
  }
  collect("fork+PTRACE_TRACEME", pid, errno, p);

  printf("%s: %s\n", escaped ? "ESCAPED" : "BLOCKED", summary);
  return 0;
}
