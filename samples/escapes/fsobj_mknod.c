/* tracejail-escape
 * id: fsobj-mknod
 * class: filesystem objects
 * title: create a FIFO and a regular file in a protected directory with mknod, not open
 * covered: basic
 * needs: protected
 *
 * Technique: mknod and mknodat create FIFOs, sockets and even regular files (S_IFREG), without
 * privilege and without the open family: a supervisor that decides creation on open(O_CREAT),
 * creat and mkdir lets them through. The program creates TJ_PROTECTED_DIR/tj.fifo (mkfifo, that is
 * mknodat S_IFIFO) and TJ_PROTECTED_DIR/tj.file (mknod S_IFREG, the old mknod syscall), where the
 * policy denies create, and checks with stat that each appeared.
 * Defence: mknod and mknodat are path decisions (create on the resolved path) whatever the file
 * type; device types are escape primitives on top of that.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "escape.h"

static void made(const char* what, long rc, const char* path, mode_t type) {
  struct stat st;
  if (rc != 0)
    stopped(what, ename(errno));
  else if (lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type)
    got_through(what, "it now exists in the protected directory");
  else
    stopped(what, "returned 0 but nothing appeared");
  unlink(path);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* dir = env("TJ_PROTECTED_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/tj.fifo", dir);
  made("mkfifo(TJ_PROTECTED_DIR/tj.fifo)", mkfifo(path, 0644), path, S_IFIFO);
  snprintf(path, sizeof path, "%s/tj.file", dir);
  made("mknod(TJ_PROTECTED_DIR/tj.file, S_IFREG)", syscall(SYS_mknod, path, S_IFREG | 0644, 0),
       path, S_IFREG);
  return final_line();
}
