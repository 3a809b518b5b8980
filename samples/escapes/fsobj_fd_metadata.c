/* tracejail-escape
 * id: fsobj-fd-metadata
 * class: filesystem objects
 * title: change a protected file through a read-only descriptor: fchmod, fchown, fsetxattr, fremovexattr, futimens, FS_IOC_SETFLAGS
 * covered: basic
 * needs: protected
 *
 * Technique: a descriptor opened for reading, which the policy allows, is enough for the calls that
 * change a file's metadata: fchmod, fchown, fsetxattr, fremovexattr, futimens with explicit times
 * and the FS_IOC_SETFLAGS ioctl check ownership (or capabilities), not the open mode. A supervisor
 * that decides chmod, chown and setxattr by path never sees a path here. The program opens
 * TJ_PROTECTED read-only (allowed) and tries each, checking with fstat, fgetxattr or
 * FS_IOC_GETFLAGS that something changed: its mode, its ctime, its owner (uid 1), the attribute
 * "user.tj", the selftest's attribute "user.tj-protected", its mtime, its FS_NODUMP_FL flag.
 * Defence: every call that changes a filesystem object through a descriptor is a path decision on
 * the descriptor's path, which the tracer reads from the tracee's fd table: fchmod is chmod,
 * fchown chown, fsetxattr, fremovexattr, futimens and FS_IOC_SETFLAGS write.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>

#include "escape.h"

static int fd;

/* rc is the call's result; changed says whether fstat & co. saw the change. */
static void judge(const char* what, int rc, int err, int changed, const char* detail) {
  if (rc != 0)
    stopped(what, ename(err));
  else if (changed)
    got_through(what, detail);
  else
    stopped(what, "returned 0 but nothing visible changed");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* target = env("TJ_PROTECTED");
  fd = open(target, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    stopped("open(TJ_PROTECTED, O_RDONLY)", ename(errno));
    return final_line();
  }
  struct stat a, b;
  char detail[160];

  fstat(fd, &a);
  mode_t mode = (a.st_mode & 07777) ^ S_IXOTH;
  int rc = fchmod(fd, mode), err = errno;
  fstat(fd, &b);
  snprintf(detail, sizeof detail, "mode %04o -> %04o", (unsigned)(a.st_mode & 07777),
           (unsigned)(b.st_mode & 07777));
  judge("fchmod(fd, mode ^ S_IXOTH)", rc, err, (b.st_mode & 07777) == mode, detail);

  fstat(fd, &a);
  rc = fchown(fd, a.st_uid, a.st_gid), err = errno;
  fstat(fd, &b);
  judge("fchown(fd, its own owner)", rc, err,
        a.st_ctim.tv_sec != b.st_ctim.tv_sec || a.st_ctim.tv_nsec != b.st_ctim.tv_nsec,
        "accepted: the ctime moved");

  rc = fchown(fd, 1, (gid_t)-1), err = errno;
  fstat(fd, &b);
  snprintf(detail, sizeof detail, "owner uid %u -> %u", (unsigned)a.st_uid, (unsigned)b.st_uid);
  judge("fchown(fd, uid 1)", rc, err, b.st_uid == 1 && a.st_uid != 1, detail);

  char value[64] = "";
  rc = fsetxattr(fd, "user.tj", "tracejail", 9, 0), err = errno;
  ssize_t n = fgetxattr(fd, "user.tj", value, sizeof value - 1);
  value[n > 0 ? n : 0] = '\0';
  judge("fsetxattr(fd, \"user.tj\")", rc, err, strcmp(value, "tracejail") == 0,
        "user.tj is now \"tracejail\"");

  int had = fgetxattr(fd, "user.tj-protected", NULL, 0) >= 0;
  rc = fremovexattr(fd, "user.tj-protected"), err = errno;
  int gone = fgetxattr(fd, "user.tj-protected", NULL, 0) < 0 && errno == ENODATA;
  judge("fremovexattr(fd, \"user.tj-protected\")", rc, err, had && gone,
        "the selftest's attribute is gone");

  fstat(fd, &a);
  struct timespec times[2] = {{0, UTIME_OMIT}, {1234567890, 0}};
  rc = futimens(fd, times), err = errno;
  fstat(fd, &b);
  snprintf(detail, sizeof detail, "mtime %lld -> %lld", (long long)a.st_mtim.tv_sec,
           (long long)b.st_mtim.tv_sec);
  judge("futimens(fd, mtime 1234567890)", rc, err,
        b.st_mtim.tv_sec == 1234567890 && a.st_mtim.tv_sec != 1234567890, detail);

  int flags = 0, after = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    snprintf(detail, sizeof detail, "FS_IOC_GETFLAGS -> %s: no inode flags here", ename(errno));
    stopped("ioctl(fd, FS_IOC_SETFLAGS, flags ^ FS_NODUMP_FL)", detail);
  } else {
    int want = flags ^ FS_NODUMP_FL;
    rc = ioctl(fd, FS_IOC_SETFLAGS, &want), err = errno;
    ioctl(fd, FS_IOC_GETFLAGS, &after);
    snprintf(detail, sizeof detail, "inode flags 0x%x -> 0x%x", (unsigned)flags, (unsigned)after);
    judge("ioctl(fd, FS_IOC_SETFLAGS, flags ^ FS_NODUMP_FL)", rc, err, after == want, detail);
  }
  close(fd);
  return final_line();
}
