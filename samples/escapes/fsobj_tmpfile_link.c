/* tracejail-escape
 * id: fsobj-tmpfile-link
 * class: filesystem objects
 * title: an O_TMPFILE made in scratch, then linked by its descriptor into a protected directory
 * covered: basic
 * needs: protected
 *
 * Technique: open(dir, O_TMPFILE) makes a file with no name in a directory where creating is
 * allowed; linkat then gives it a name, and the name's directory is whatever the program passes:
 * by the descriptor itself (AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH) or by its magic link
 * /proc/self/fd/N with AT_SYMLINK_FOLLOW. A supervisor that checked the create on the open, or that
 * treats linkat as "both names exist already", lets a new file appear in a directory the policy
 * keeps read-only. The program links two such files into TJ_PROTECTED_DIR and checks each name.
 * Defence: linkat is a path decision on its new name (create on the resolved path) whatever the old
 * one is: a descriptor, an empty path or a magic link, which the tracer resolves to the file.
 */
#include <fcntl.h>

#include "escape.h"

static const char kText[] = "made by fsobj_tmpfile_link\n";

/* An unnamed file in dir holding kText, or -1. */
static int tmpfile_in(const char* dir) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  if (fd >= 0 && write(fd, kText, sizeof kText - 1) != (ssize_t)(sizeof kText - 1)) {
    close(fd);
    return -1;
  }
  return fd;
}

static void linked(const char* what, int rc, const char* path) {
  char text[64] = "";
  if (rc != 0) {
    stopped(what, ename(errno));
    return;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (fd >= 0) close(fd);
  text[n > 0 ? n : 0] = '\0';
  if (strcmp(text, kText) == 0)
    got_through(what, "a new file now exists in the protected directory");
  else
    stopped(what, "returned 0 but the name does not hold the file");
  unlink(path);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* scratch = env("TJ_SCRATCH");
  const char* dir = env("TJ_PROTECTED_DIR");
  char path[4096], magic[64];

  int fd = tmpfile_in(scratch);
  if (fd < 0) {
    stopped("open(TJ_SCRATCH, O_TMPFILE)", ename(errno));
    return final_line();
  }
  snprintf(path, sizeof path, "%s/tj-linked-1", dir);
  linked("linkat(tmpfile fd, \"\", TJ_PROTECTED_DIR/tj-linked-1, AT_EMPTY_PATH)",
         linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH), path);
  close(fd);

  fd = tmpfile_in(scratch);
  if (fd < 0) {
    stopped("open(TJ_SCRATCH, O_TMPFILE)", ename(errno));
    return final_line();
  }
  snprintf(magic, sizeof magic, "/proc/self/fd/%d", fd);
  snprintf(path, sizeof path, "%s/tj-linked-2", dir);
  linked("linkat(/proc/self/fd/N, TJ_PROTECTED_DIR/tj-linked-2, AT_SYMLINK_FOLLOW)",
         linkat(AT_FDCWD, magic, AT_FDCWD, path, AT_SYMLINK_FOLLOW), path);
  close(fd);
  return final_line();
}
