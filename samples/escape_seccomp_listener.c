/* Technique: stack a seccomp filter with a user-notification listener; its answers take
 * precedence over RET_TRACE, so the tracee could let itself through. Defence: seccomp filters
 * with SECCOMP_FILTER_FLAG_NEW_LISTENER are denied (escape_attempt). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd >= 0) { printf("ESCAPED\n"); return 0; }
  printf("BLOCKED %s\n", strerrorname_np(errno));
  return 1;
}
