/* tracejail-escape
 * id: kernel-file-setattr
 * class: kernel surface
 * title: change a protected file's inode flags with file_setattr (Linux 6.17), by name
 * covered: basic
 * needs: protected
 *
 * Technique: file_setattr (469, Linux 6.17) sets the inode attributes that used to need an open
 * descriptor and the FS_IOC_FSSETXATTR ioctl, now by path, on any file: a filter older than it
 * does not know the number. The program reads TJ_PROTECTED's attributes with file_getattr (468),
 * toggles FS_XFLAG_NODUMP, and checks with file_getattr that the flag changed. The policy allows
 * reading the file and denies writing it.
 * Defence: every Linux 6.18 syscall has a row in the syscall table; file_setattr is a path
 * decision (write on the resolved path), file_getattr metadata, and any number the table does not
 * classify fails with ENOSYS and is recorded.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "escape.h"

#define NR_file_getattr 468 /* x86_64; older headers lack them */
#define NR_file_setattr 469
#define TJ_XFLAG_NODUMP 0x80u /* FS_XFLAG_NODUMP */

struct tj_file_attr { /* struct file_attr of <linux/fs.h> (6.17) */
  uint64_t fa_xflags;
  uint32_t fa_extsize, fa_nextents, fa_projid, fa_cowextsize;
};

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* target = env("TJ_PROTECTED");
  struct tj_file_attr before, after;
  memset(&before, 0, sizeof before);
  const char* what = "file_setattr(AT_FDCWD, TJ_PROTECTED, fa_xflags ^ FS_XFLAG_NODUMP)";
  if (syscall(NR_file_getattr, AT_FDCWD, target, &before, sizeof before, 0) != 0) {
    printf("file_getattr(TJ_PROTECTED): failed (%s)\n", ename(errno));
    stopped(what, "file_getattr failed first");
    return final_line();
  }
  struct tj_file_attr want = before;
  want.fa_xflags ^= TJ_XFLAG_NODUMP;
  long rc = syscall(NR_file_setattr, AT_FDCWD, target, &want, sizeof want, 0);
  int err = errno;
  memset(&after, 0, sizeof after);
  syscall(NR_file_getattr, AT_FDCWD, target, &after, sizeof after, 0);
  char detail[128];
  if (rc == 0 && after.fa_xflags == want.fa_xflags) {
    snprintf(detail, sizeof detail, "fa_xflags changed from 0x%llx to 0x%llx",
             (unsigned long long)before.fa_xflags, (unsigned long long)after.fa_xflags);
    got_through(what, detail);
  } else {
    stopped(what, rc == 0 ? "returned 0 but the flags did not change" : ename(err));
  }
  return final_line();
}
