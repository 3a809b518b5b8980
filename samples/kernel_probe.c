/* kernel_probe MODE: reports what the kernel surface looks like from inside the sandbox, one
 * "key=value" line per fact, for the integration tests of issue 14.
 *   unknown  calls syscall numbers no kernel tracejail knows (470, 999, 5000) and a reserved one
 *            (the removed _sysctl, 156): "nr=470 errno=ENOSYS"
 *   caps     the capability sets from /proc/self/status: "CapBnd=..."
 *   tty      whether it has a controlling terminal: "session_leader=1", "dev_tty=ENXIO"
 *   tiocsti  TIOCSTI of one byte on fd 0, plain and with the request's upper 32 bits set
 *   owner PID  fcntl(F_SETOWN, PID) on a pipe: "setown=0" or "setown=EPERM" */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char* name_of(long r) { return r == 0 ? "0" : strerrorname_np(errno); }

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "unknown") == 0) {
    const long nrs[] = {470, 999, 5000, 156};
    for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; ++i) {
      long r = syscall(nrs[i], 0, 0, 0, 0, 0, 0);
      printf("nr=%ld errno=%s\n", nrs[i], r == 0 ? "0" : strerrorname_np(errno));
    }
  } else if (strcmp(mode, "caps") == 0) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
      if (strncmp(line, "Cap", 3) != 0) continue;
      char* tab = strchr(line, '\t');
      if (tab == NULL) continue;
      *strchr(line, ':') = '\0';
      printf("%s=%s", line, tab + 1);
    }
  } else if (strcmp(mode, "tty") == 0) {
    printf("session_leader=%d\n", getsid(0) == getpid());
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    printf("dev_tty=%s\n", fd >= 0 ? "open" : strerrorname_np(errno));
  } else if (strcmp(mode, "tiocsti") == 0) {
    char c = '#';
    long r = syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI, &c);
    printf("tiocsti=%s\n", name_of(r));
    r = syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &c);
    printf("tiocsti_high=%s\n", name_of(r));
  } else if (strcmp(mode, "owner") == 0 && argc > 2) {
    int pid = strcmp(argv[2], "self") == 0 ? getpid() : atoi(argv[2]);
    int p[2];
    if (pipe(p) != 0) return 2;
    long r = fcntl(p[0], F_SETOWN, pid);
    printf("setown=%s\n", name_of(r == 0 ? 0 : -1));
  } else {
    fprintf(stderr, "usage: kernel_probe unknown|caps|tty|tiocsti|owner PID\n");
    return 2;
  }
  return 0;
}
