/* tracejail-escape
 * id: kernel-fchmodat2
 * class: kernel surface
 * title: chmod a protected file with fchmodat2 (Linux 6.6), a syscall newer than the filter
 * covered: basic
 * needs: protected
 *
 * Technique: every kernel release adds syscalls, and a filter written before them flags only the
 * numbers it knows: fchmodat2 (x86_64 number 452, Linux 6.6) is chmod with a flags argument, so
 * a supervisor that decides chmod, fchmod and fchmodat lets it straight through. The program
 * toggles S_IXOTH on TJ_PROTECTED (the policy allows reading it, denies chmod) by name, then by an
 * O_PATH descriptor with AT_EMPTY_PATH, and checks with stat that the mode really changed.
 * Defence: every Linux 6.18 syscall has a row in the syscall table; fchmodat2 is a path decision
 * (chmod on the resolved path, or on the descriptor's path with AT_EMPTY_PATH) like fchmodat, and
 * any number the table does not classify fails with ENOSYS and is recorded.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "escape.h"

#define NR_fchmodat2 452 /* x86_64; older headers lack SYS_fchmodat2 */

/* Toggles S_IXOTH through fchmodat2(dirfd, path, mode, flags); an escape when the mode changed. */
static void try_chmod(const char* what, const char* target, int dirfd, const char* path,
                      int flags) {
  struct stat before, after;
  if (stat(target, &before) != 0) {
    stopped(what, "cannot stat TJ_PROTECTED");
    return;
  }
  mode_t mode = (before.st_mode & 07777) ^ S_IXOTH;
  long rc = syscall(NR_fchmodat2, dirfd, path, mode, flags);
  int err = errno;
  char detail[128];
  if (rc != 0) {
    stopped(what, ename(err));
  } else if (stat(target, &after) == 0 && (after.st_mode & 07777) == mode) {
    snprintf(detail, sizeof detail, "mode changed from %04o to %04o",
             (unsigned)(before.st_mode & 07777), (unsigned)mode);
    got_through(what, detail);
  } else {
    stopped(what, "returned 0 but the mode did not change");
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* target = env("TJ_PROTECTED");
  try_chmod("fchmodat2(AT_FDCWD, TJ_PROTECTED)", target, AT_FDCWD, target, 0);
  int fd = open(target, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    stopped("open(TJ_PROTECTED, O_PATH)", ename(errno));
  } else {
    try_chmod("fchmodat2(O_PATH fd, \"\", AT_EMPTY_PATH)", target, fd, "", AT_EMPTY_PATH);
    close(fd);
  }
  return final_line();
}
