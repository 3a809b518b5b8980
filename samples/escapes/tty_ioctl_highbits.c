/* tracejail-escape
 * id: tty-ioctl-highbits
 * class: terminal
 * title: TIOCSTI with the ioctl request's high 32 bits set (0x100005412), which a 64-bit compare misses
 * covered: basic
 * needs: tty
 *
 * Technique: ioctl's request is an unsigned int in the kernel (fs/ioctl.c), but a seccomp filter
 * sees the full 64-bit register. A filter that denies request == TIOCSTI (0x5412) by comparing 64
 * bits lets 0x100005412 through, and the kernel truncates it to TIOCSTI. The program injects the
 * harmless "#tj\n" that way into stdin and into /dev/tty. The selftest runs it with a
 * pseudo-terminal as controlling terminal and stdin, and counts what reached that terminal's input
 * queue.
 * Defence: the filter compares ioctl's request as 32 bits (its low word), so every encoding of
 * TIOCSTI is the escape primitive and denied; and the command runs in a new session without a
 * controlling terminal, where TIOCSTI needs the dropped CAP_SYS_ADMIN.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "escape.h"

#define HIGH_TIOCSTI 0x100005412ul /* TIOCSTI (0x5412) with bit 32 set */

static void inject(const char* what, int fd) {
  for (const char* c = "#tj\n"; *c != '\0'; ++c) {
    /* syscall(): glibc's ioctl takes an unsigned long and passes it whole, but say it plainly. */
    if (syscall(SYS_ioctl, fd, HIGH_TIOCSTI, c) != 0) {
      stopped(what, ename(errno));
      return;
    }
  }
  got_through(what, "queued \"#tj\\n\" as terminal input");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (isatty(0))
    inject("ioctl(0, 0x100005412)", 0);
  else
    stopped("ioctl(0, 0x100005412)", "stdin is not a terminal");
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    stopped("open(/dev/tty)", ename(errno));
  } else {
    inject("ioctl(/dev/tty, 0x100005412)", fd);
    close(fd);
  }
  return final_line();
}
