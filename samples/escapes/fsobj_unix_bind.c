/* tracejail-escape
 * id: fsobj-unix-bind
 * class: filesystem objects
 * title: create a file in a protected directory by binding a unix socket there
 * covered: basic
 * needs: protected
 *
 * Technique: bind() of a unix socket to a path creates a new filesystem object (a socket inode)
 * under that name, just as open(O_CREAT) creates a file, but it is a network call: a supervisor
 * whose file rules cover only the open family, and whose network rules allow local sockets, lets
 * it create entries in directories the policy keeps read-only, or take a name another program will
 * trust. The program binds TJ_PROTECTED_DIR/tj.sock (the policy denies create there) and checks
 * with stat that a socket appeared.
 * Defence: binding a unix socket to a path is a path decision (create on the resolved path, the
 * directory resolved like any file path) in addition to the network rules for unix sockets.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include "escape.h"

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* dir = env("TJ_PROTECTED_DIR");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int len = snprintf(a.sun_path, sizeof a.sun_path, "%s/tj.sock", dir);
  const char* what = "bind(AF_UNIX, TJ_PROTECTED_DIR/tj.sock)";
  if (len < 0 || (size_t)len >= sizeof a.sun_path) {
    stopped(what, "TJ_PROTECTED_DIR is too long for sun_path");
    return final_line();
  }
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    stopped("socket(AF_UNIX)", ename(errno));
    return final_line();
  }
  struct stat st;
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0)
    stopped(what, ename(errno));
  else if (stat(a.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
    got_through(what, "a socket now exists in the protected directory");
  else
    stopped(what, "returned 0 but no socket appeared");
  close(s);
  unlink(a.sun_path);
  return final_line();
}
