/* tracejail-escape
 * id: kernel-xattrat
 * class: kernel surface
 * title: set and remove extended attributes of a protected file with setxattrat/removexattrat (6.13)
 * covered: basic
 * needs: protected
 *
 * Technique: setxattrat (463) and removexattrat (466) arrived in Linux 6.13, years after setxattr
 * and fsetxattr: a filter that lists the old xattr calls does not know their numbers. The program
 * sets "user.tj" on TJ_PROTECTED (the policy allows reading it, denies writing), its value passed
 * in a struct xattr_args {u64 value; u32 size; u32 flags}, then removes "user.tj-protected", the
 * attribute the selftest puts on the file, and checks each with getxattr.
 * Defence: every Linux 6.18 syscall has a row in the syscall table; setxattrat and removexattrat
 * are path decisions (write on the resolved path) like setxattr and removexattr, and any number
 * the table does not classify fails with ENOSYS and is recorded.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "escape.h"

#define NR_setxattrat 463 /* x86_64; older headers lack them */
#define NR_removexattrat 466

struct tj_xattr_args { /* struct xattr_args of <linux/xattr.h> (6.13) */
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* target = env("TJ_PROTECTED");
  char value[64] = "";
  static const char set[] = "tracejail";
  struct tj_xattr_args args = {(uint64_t)(uintptr_t)set, sizeof set - 1, 0};

  const char* what = "setxattrat(AT_FDCWD, TJ_PROTECTED, \"user.tj\")";
  long rc = syscall(NR_setxattrat, AT_FDCWD, target, 0, "user.tj", &args, sizeof args);
  int err = errno;
  ssize_t n = getxattr(target, "user.tj", value, sizeof value - 1);
  value[n > 0 ? n : 0] = '\0';
  if (rc == 0 && strcmp(value, set) == 0)
    got_through(what, "user.tj is now \"tracejail\"");
  else
    stopped(what, rc == 0 ? "returned 0 but the attribute is not there" : ename(err));

  what = "removexattrat(AT_FDCWD, TJ_PROTECTED, \"user.tj-protected\")";
  int had = getxattr(target, "user.tj-protected", NULL, 0) >= 0;
  rc = syscall(NR_removexattrat, AT_FDCWD, target, 0, "user.tj-protected");
  err = errno;
  int gone = getxattr(target, "user.tj-protected", NULL, 0) < 0 && errno == ENODATA;
  if (rc == 0 && had && gone)
    got_through(what, "the selftest's attribute is gone");
  else if (rc == 0)
    stopped(what, "returned 0 but nothing changed");
  else
    stopped(what, ename(err));
  return final_line();
}
