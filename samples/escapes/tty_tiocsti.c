/* tracejail-escape
 * id: tty-tiocsti
 * class: terminal
 * title: push input into the caller's terminal with TIOCSTI (fd 0, /dev/tty, /proc's tty_nr) and TIOCLINUX
 * covered: basic
 * needs: tty
 *
 * Technique: a sandboxed program that shares the caller's terminal can type into it: TIOCSTI
 * queues one byte as if typed, and once the program exits the caller's shell reads and runs it
 * (CVE-2017-5226, bubblewrap; the same in firejail and others). The program injects the harmless
 * "#tj\n" through stdin, through /dev/tty, and through the terminal named by tty_nr in
 * /proc/self/stat (found in /dev/pts by device number), then asks TIOCLINUX to paste the console
 * selection (TIOCL_PASTESEL), which only a virtual console implements. The selftest runs it with
 * a pseudo-terminal as controlling terminal and stdin, and counts what reached that terminal's
 * input queue.
 * Defence: the command runs in a new session without a controlling terminal (unless --tty), so
 * TIOCSTI on a terminal it still holds needs CAP_SYS_ADMIN, which is dropped; and TIOCSTI,
 * TIOCLINUX, TIOCCONS and TIOCSCTTY are escape primitives denied in the seccomp filter.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include "escape.h"

static const char kInput[] = "#tj\n";

/* TIOCSTI of every byte of kInput on fd. */
static void inject(const char* what, int fd) {
  for (const char* c = kInput; *c != '\0'; ++c) {
    if (ioctl(fd, TIOCSTI, c) != 0) {
      stopped(what, ename(errno));
      return;
    }
  }
  got_through(what, "queued \"#tj\\n\" as terminal input");
}

/* The controlling terminal's device number, from field 7 of /proc/self/stat (0: none). */
static dev_t tty_nr(void) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
  const char* p = strrchr(buf, ')');
  int nr = 0;
  if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %d", &nr) != 1) return 0;
  unsigned u = (unsigned)nr;
  return makedev((u >> 8) & 0xfff, (u & 0xff) | ((u >> 12) & 0xfff00));
}

/* The /dev/pts entry whose device number is dev. */
static int find_pts(dev_t dev, char* path, size_t size) {
  DIR* d = opendir("/dev/pts");
  struct dirent* e;
  struct stat st;
  int found = 0;
  while (d && !found && (e = readdir(d)) != NULL) {
    snprintf(path, size, "/dev/pts/%s", e->d_name);
    found = stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == dev;
  }
  if (d) closedir(d);
  return found;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (isatty(0))
    inject("ioctl(0, TIOCSTI)", 0);
  else
    stopped("ioctl(0, TIOCSTI)", "stdin is not a terminal");

  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    stopped("open(/dev/tty)", ename(errno));
  } else {
    inject("ioctl(/dev/tty, TIOCSTI)", fd);
    close(fd);
  }

  dev_t dev = tty_nr();
  char path[300];
  if (dev == 0) {
    stopped("tty_nr in /proc/self/stat", "no controlling terminal");
  } else if (!find_pts(dev, path, sizeof path)) {
    printf("tty_nr: %u:%u\n", major(dev), minor(dev));
    stopped("tty_nr in /proc/self/stat", "not found in /dev/pts");
  } else if ((fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    printf("tty_nr: %u:%u is %s\n", major(dev), minor(dev), path);
    stopped("open(tty_nr's /dev/pts/N)", ename(errno));
  } else {
    printf("tty_nr: %u:%u is %s\n", major(dev), minor(dev), path);
    inject("ioctl(tty_nr's /dev/pts/N, TIOCSTI)", fd);
    close(fd);
  }

  char paste[1] = {3}; /* TIOCL_PASTESEL: paste the console selection as input */
  if (ioctl(0, TIOCLINUX, paste) == 0)
    got_through("ioctl(0, TIOCLINUX, TIOCL_PASTESEL)", "pasted the console selection as input");
  else if (errno == ENOTTY || errno == EINVAL)
    stopped("ioctl(0, TIOCLINUX, TIOCL_PASTESEL)", "stdin is not a virtual console");
  else
    stopped("ioctl(0, TIOCLINUX, TIOCL_PASTESEL)", ename(errno));
  return final_line();
}
