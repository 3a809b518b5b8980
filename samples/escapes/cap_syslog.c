/* tracejail-escape
 * id: cap-syslog
 * class: capabilities
 * title: read the kernel log with the syslog syscall (CAP_SYSLOG)
 * covered: basic
 * needs: root
 *
 * Technique: the kernel log holds kernel addresses, other containers' and users' messages, device
 * and filesystem names; with kernel.dmesg_restrict=1 reading it needs CAP_SYSLOG, which root has.
 * The program asks for the whole ring buffer with syslog(SYSLOG_ACTION_READ_ALL) (klogctl type 3),
 * a syscall, not a path, so no file rule sees it, and prints its last line.
 * Defence: CAP_SYSLOG is outside the capabilities tracejail leaves the command (Docker's default
 * minus NET_RAW, fewer at stricter levels), and syslog is capability-gated, so it is denied in the
 * seccomp filter.
 */
#include <sys/klog.h>

#include "escape.h"

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  static char buf[1 << 16];
  const char* what = "syslog(SYSLOG_ACTION_READ_ALL)";
  int n = klogctl(3, buf, (int)sizeof buf - 1);
  if (n < 0) {
    stopped(what, ename(errno));
    return final_line();
  }
  buf[n] = '\0';
  while (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  char* last = strrchr(buf, '\n');
  char detail[256];
  snprintf(detail, sizeof detail, "read %d bytes of the kernel log, the last line: \"%.160s\"", n,
           last ? last + 1 : buf);
  if (n > 0)
    got_through(what, detail);
  else
    stopped(what, "the log is empty");
  return final_line();
}
