/* tracejail-escape
 * id: kernel-quotactl-fd
 * class: kernel surface
 * title: another user's disk quota through quotactl_fd (Linux 5.14), a syscall newer than the filter
 * covered: basic
 * needs: nothing
 *
 * Technique: quotactl_fd (443, Linux 5.14) is quotactl on the filesystem of an open descriptor
 * instead of a block device path: a filter that knows quotactl, or that knows nothing newer than
 * it, lets it through. The program asks for uid 1's quota (Q_GETQUOTA, which needs
 * CAP_SYS_ADMIN for another user) on the filesystem of TJ_SCRATCH. This only gets through where
 * that filesystem has quotas enabled; without quotas the kernel answers ESRCH and the attempt
 * counts as blocked (by the machine, not by tracejail).
 * Defence: every Linux 6.18 syscall has a row in the syscall table: quotactl_fd is capability-gated
 * and denied in the seccomp filter (the capabilities it needs are dropped as well), and any number
 * the table does not classify fails with ENOSYS and is recorded.
 */
#include <fcntl.h>
#include <sys/quota.h>
#include <sys/syscall.h>

#include "escape.h"

#define NR_quotactl_fd 443 /* x86_64 */

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* dir = env("TJ_SCRATCH");
  const char* what = "quotactl_fd(TJ_SCRATCH, Q_GETQUOTA, USRQUOTA, uid 1)";
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    stopped("open(TJ_SCRATCH)", ename(errno));
    return final_line();
  }
  struct dqblk q;
  memset(&q, 0, sizeof q);
  long rc = syscall(NR_quotactl_fd, fd, QCMD(Q_GETQUOTA, USRQUOTA), 1, &q);
  int err = errno;
  char detail[160];
  if (rc == 0) {
    snprintf(detail, sizeof detail, "uid 1 uses %llu bytes, %llu inodes",
             (unsigned long long)q.dqb_curspace, (unsigned long long)q.dqb_curinodes);
    got_through(what, detail);
  } else if (err == ESRCH || err == ENOENT) {
    snprintf(detail, sizeof detail, "%s: no quotas on this filesystem", ename(err));
    stopped(what, detail);
  } else {
    stopped(what, ename(err));
  }
  close(fd);
  return final_line();
}
