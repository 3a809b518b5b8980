/* tracejail-escape
 * id: cap-kmsg
 * class: capabilities
 * title: read the kernel log through /dev/kmsg (CAP_SYSLOG), a device no secret rule names
 * covered: basic
 * needs: root
 *
 * Technique: /dev/kmsg is the kernel log as a character device: one read returns one record. With
 * kernel.dmesg_restrict=1 opening it for reading needs CAP_SYSLOG, which root has, and a policy
 * that allows reading /dev (most do: /dev/null, /dev/urandom) lets the open through. The program
 * opens it non-blocking and reads one record.
 * Defence: CAP_SYSLOG is outside the capabilities tracejail leaves the command (Docker's default
 * minus NET_RAW, fewer at stricter levels), so the kernel refuses the open (EPERM) whatever the
 * file rules say.
 */
#include <fcntl.h>

#include "escape.h"

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* what = "read(/dev/kmsg)";
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    stopped("open(/dev/kmsg)", ename(errno));
    return final_line();
  }
  char buf[2048];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int err = errno;
  close(fd);
  if (n <= 0) {
    stopped(what, n == 0 ? "no record" : ename(err));
    return final_line();
  }
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  char detail[256];
  snprintf(detail, sizeof detail, "one record of the kernel log: \"%.160s\"", buf);
  got_through(what, detail);
  return final_line();
}
