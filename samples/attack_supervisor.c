/* Technique: reach the supervisor (our parent, tracejail) or its own parent by every route a
 * process has to another one: signals (kill, tkill, tgkill, rt_sigqueueinfo, its process
 * group, kill(-1), a pidfd), ptrace, process memory (process_vm_readv, /proc/PID/mem), its
 * /proc entries and its descriptors (pidfd_getfd). Defence: tracejail refuses every call that
 * names tracejail or an ancestor, at every level and in every mode (tracer/self_guard.h), and
 * the command has no CAP_SYS_PTRACE. Signals sent are harmless (SIGWINCH) so an escape is seen,
 * not suffered. With --proc it also opens the targets' /proc environ (decided by tracejail only
 * where the policy stops opens: basic and none leave same-user /proc reads to the kernel).
 * Prints one line per route, then "ALL BLOCKED" (exit 0) or "ESCAPED: ..." (1). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int escaped, check_proc;
static char escapes[1024];

static void report(const char* route, pid_t target, long rc, int expect_fail_errno_any) {
  (void)expect_fail_errno_any;
  if (rc >= 0) {
    printf("%s %d: ESCAPED\n", route, target);
    escaped = 1;
    size_t len = strlen(escapes);
    snprintf(escapes + len, sizeof escapes - len, "%s%s", len ? ", " : "", route);
  } else {
    printf("%s %d: blocked (%s)\n", route, target, strerrorname_np(errno));
  }
}

static pid_t parent_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE* f = fopen(path, "r");
  if (f == NULL) return 0;
  pid_t ppid = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "PPid: %d", &ppid) == 1) break;
  fclose(f);
  return ppid;
}

static void attack(pid_t target) {
  char path[64];
  report("kill", target, kill(target, SIGWINCH), 0);
  report("tkill", target, syscall(SYS_tkill, target, SIGWINCH), 0);
  report("tgkill", target, syscall(SYS_tgkill, target, target, SIGWINCH), 0);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  report("rt_sigqueueinfo", target, syscall(SYS_rt_sigqueueinfo, target, SIGWINCH, &info), 0);
  pid_t group = getpgid(target);
  if (group > 0 && group != getpgrp()) report("kill(-pgid)", target, kill(-group, SIGWINCH), 0);
  long seized = ptrace(PTRACE_SEIZE, target, NULL, NULL);
  report("ptrace", target, seized, 0);
  char buf[16];
  struct iovec local = {buf, sizeof buf};
  struct iovec remote = {(void*)0x1000, sizeof buf};
  long n = syscall(SYS_process_vm_readv, target, &local, 1, &remote, 1, 0);
  /* EFAULT means the permission check passed: only the address was wrong. */
  report("process_vm_readv", target, n >= 0 || errno == EFAULT ? 0 : -1, 0);
  snprintf(path, sizeof path, "/proc/%d/mem", target);
  int fd = open(path, O_RDONLY);
  report("open /proc/PID/mem", target, fd, 0);
  if (fd >= 0) close(fd);
  if (check_proc) {
    snprintf(path, sizeof path, "/proc/%d/environ", target);
    fd = open(path, O_RDONLY);
    report("open /proc/PID/environ", target, fd, 0);
    if (fd >= 0) close(fd);
  }
  int pidfd = (int)syscall(SYS_pidfd_open, target, 0);
  if (pidfd >= 0) {
    report("pidfd_send_signal", target, syscall(SYS_pidfd_send_signal, pidfd, SIGWINCH, NULL, 0),
           0);
    long stolen = syscall(SYS_pidfd_getfd, pidfd, 2, 0);
    report("pidfd_getfd", target, stolen, 0);
    if (stolen >= 0) close((int)stolen);
    close(pidfd);
  } else {
    report("pidfd_open", target, -1, 0);
  }
}

int main(int argc, char** argv) {
  check_proc = argc > 1 && strcmp(argv[1], "--proc") == 0;
  pid_t supervisor = getppid();
  if (supervisor <= 1) {
    printf("no visible parent (a PID namespace): nothing to attack\n");
    printf("ALL BLOCKED\n");
    return 0;
  }
  pid_t grandparent = parent_of(supervisor);
  signal(SIGWINCH, SIG_IGN);
  attack(supervisor);
  if (grandparent > 1) attack(grandparent);
  report("kill(-1)", -1, kill(-1, SIGWINCH), 0);
  if (escaped) {
    printf("ESCAPED: %s\n", escapes);
    return 1;
  }
  printf("ALL BLOCKED\n");
  return 0;
}
