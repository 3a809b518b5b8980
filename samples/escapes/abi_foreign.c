/* tracejail-escape
 * id: abi-foreign
 * class: ABI confusion
 * title: i386 syscalls through int $0x80 and x32 syscalls from a 64-bit program
 * covered: standard
 * needs: secret
 *
 * Technique: a 64-bit program can still enter the kernel through the i386 gate (int $0x80), where
 * the numbers differ (5 is open on i386 but fstat on x86_64), and through the x32 ABI (the number
 * with bit 0x40000000 set, same AUDIT_ARCH_X86_64). A filter that only knows x86_64 numbers
 * misreads both. Here: i386 open+read of the secret, then x32 openat of the secret.
 * Defence: the seccomp filter checks the architecture first and sends every i386 call and every
 * x32 number to the tracer, which denies it (foreign_abi, ENOSYS) and reports escape_attempt.
 * Kernels without IA-32 emulation fault on int $0x80 (SIGSEGV); kernels without x32 say ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set around each int $0x80 so the SIGSEGV handler can tell the gate's fault from a bug. */
static volatile sig_atomic_t in_int80;
static int report_fd = -1;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  static const char msg[] = "no IA-32 emulation on this kernel (int $0x80 faults with SIGSEGV: "
                            "compiled out or disabled at boot)";
  if (in_int80 && si->si_code == SI_KERNEL) {
    if (write(report_fd, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
  }
  _exit(3);
}

/* i386 numbers: read 3, open 5, close 6, getpid 20. */
static long int80(long nr, long a, long b, long c) {
  long ret;
  in_int80 = 1;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(a), "c"(b), "d"(c)
                   : "r8", "r9", "r10", "r11", "memory");
  in_int80 = 0;
  return ret;
}

static long x32_syscall3(long nr, long a, long b, long c) {
  long ret;
  register long r10 __asm__("r10") = 0;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(0x40000000L | nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}

static const char *ename(long neg) { return strerrorname_np((int)-neg); }

/* Runs in a forked child: an int $0x80 without IA-32 emulation kills it with SIGSEGV. Writes a
 * one-line summary for the final line into `out`; exit status 0 = escaped, 1 = blocked,
 * 2 = the gate faulted (no IA-32 emulation). */
static int i386_attempt(const char *secret, int out) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  report_fd = out;
  sigaction(SIGSEGV, &sa, NULL);
  /* int $0x80 truncates pointers to 32 bits: the path and buffer must live below 4 GiB. */
  char *low = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                   -1, 0);
  if (low == MAP_FAILED) {
    dprintf(out, "i386: mmap(MAP_32BIT) -> %s", strerrorname_np(errno));
    return 1;
  }
  snprintf(low, 4096, "%s", secret);
  long pid = int80(20, 0, 0, 0);
  printf("i386 getpid (int $0x80, nr 20): %ld%s%s\n", pid, pid < 0 ? " " : "",
         pid < 0 ? ename(pid) : "");
  long fd = int80(5, (long)low, O_RDONLY, 0);
  if (fd < 0) {
    printf("i386 open(secret) (nr 5): %s\n", ename(fd));
    dprintf(out, "i386 open -> %s", ename(fd));
    return 1;
  }
  long n = int80(3, fd, (long)(low + 4096), 4000);
  printf("i386 open(secret) (nr 5): fd %ld; i386 read: %ld bytes%s%s\n", fd, n,
         n < 0 ? " " : "", n < 0 ? ename(n) : "");
  int80(6, fd, 0, 0);
  if (n <= 0) {
    dprintf(out, "i386 open succeeded but read -> %s", n < 0 ? ename(n) : "0 bytes");
    return 0; /* opening the secret is already past the policy */
  }
  low[4096 + n] = 0;
  low[4096 + strcspn(low + 4096, "\n")] = 0;
  dprintf(out, "i386 open+read of the secret: %s", low + 4096);
  return 0;
}

int main(void) {
  const char *secret = getenv("TJ_SECRET");
  if (!secret) { printf("BLOCKED: TJ_SECRET not set\n"); return 0; }
  char i386_summary[4200] = "", x32_summary[4200] = "";
  int escaped = 0;

  int p[2];
  if (pipe(p) != 0) { printf("BLOCKED: pipe failed\n"); return 0; }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    int r = i386_attempt(secret, p[1]);
    fflush(stdout);
    _exit(r);
  }
  close(p[1]);
  ssize_t got = pid > 0 ? read(p[0], i386_summary, sizeof i386_summary - 1) : -1;
  if (got > 0) i386_summary[got] = 0;
  close(p[0]);
  int st = 0;
  if (pid < 0) {
    snprintf(i386_summary, sizeof i386_summary, "i386: fork -> %s", strerrorname_np(errno));
  } else if (waitpid(pid, &st, 0) == pid && WIFSIGNALED(st)) {
    printf("i386 int $0x80: child killed by SIG%s\n", sigabbrev_np(WTERMSIG(st)));
    snprintf(i386_summary, sizeof i386_summary, "i386 child killed by SIG%s",
             sigabbrev_np(WTERMSIG(st)));
  } else if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
    printf("i386 getpid (int $0x80): SIGSEGV (SI_KERNEL) at the gate\n");
  } else if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
    snprintf(i386_summary, sizeof i386_summary, "i386 child crashed (SIGSEGV outside the gate)");
  } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    escaped = 1;
  }

  /* x32: openat is 257 in the x32 table too; the path pointer is a full 64-bit one here. */
  long fd = x32_syscall3(257, AT_FDCWD, (long)secret, O_RDONLY);
  if (fd >= 0) {
    char buf[4096];
    ssize_t n = read((int)fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("x32 openat(secret) (nr 257|0x40000000): fd %ld, read %zd bytes\n", fd, n);
    snprintf(x32_summary, sizeof x32_summary, "x32 openat of the secret: %s", buf);
    close((int)fd);
    escaped = 1;
  } else {
    printf("x32 openat(secret) (nr 257|0x40000000): %s\n", ename(fd));
    snprintf(x32_summary, sizeof x32_summary, "x32 openat -> %s", ename(fd));
  }

  if (escaped)
    printf("ESCAPED: %s; %s\n", i386_summary, x32_summary);
  else
    printf("BLOCKED: %s; %s\n", i386_summary, x32_summary);
  return 0;
}
