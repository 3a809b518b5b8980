/* tracejail-escape
 * id: outside-fanotify
 * class: other processes
 * title: watch every open on the root mount with fanotify and receive descriptors of the opened files
 * covered: basic
 * needs: root
 *
 * Technique: fanotify with a mount mark reports every open on a mount by any process, and each
 * event carries a descriptor of the opened file, already open for reading in the watcher: files
 * other processes open (outside the sandbox, past every path rule) arrive by themselves, and a
 * permission class would even let the watcher block them. It needs CAP_SYS_ADMIN, which root has.
 * The program marks "/" (FAN_MARK_MOUNT, FAN_OPEN), opens a file in TJ_SCRATCH so at least one
 * event exists, and prints the events it gets within a second (pid, path of the fd).
 * Defence: fanotify_init and fanotify_mark are escape primitives denied in the seccomp filter (a
 * filesystem-wide notification interface reaches every other process); CAP_SYS_ADMIN is dropped as
 * well.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>

#include "escape.h"

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* scratch = env("TJ_SCRATCH");
  const char* what = "fanotify_init + fanotify_mark(FAN_MARK_MOUNT, FAN_OPEN, \"/\")";
  int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
  if (fan < 0) {
    stopped("fanotify_init(FAN_CLASS_NOTIF)", ename(errno));
    return final_line();
  }
  if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN, AT_FDCWD, "/") != 0) {
    stopped(what, ename(errno));
    return final_line();
  }
  char trigger[4096];
  snprintf(trigger, sizeof trigger, "%s/fanotify-trigger", scratch);
  int t = open(trigger, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (t >= 0) close(t);
  int events = 0, others = 0;
  char buf[8192] __attribute__((aligned(8))), first[512] = "";
  struct pollfd p = {fan, POLLIN, 0};
  while (events < 50 && poll(&p, 1, events ? 0 : 1000) > 0) {
    ssize_t n = read(fan, buf, sizeof buf);
    if (n <= 0) break;
    struct fanotify_event_metadata* m = (struct fanotify_event_metadata*)buf;
    for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
      if (m->fd < 0) continue;
      char link[64], path[400];
      snprintf(link, sizeof link, "/proc/self/fd/%d", m->fd);
      ssize_t l = readlink(link, path, sizeof path - 1);
      path[l > 0 ? l : 0] = '\0';
      if (events < 5) printf("  event: pid %d opened %s (we hold fd %d)\n", m->pid, path, m->fd);
      if (first[0] == '\0' || (m->pid != getpid() && others == 0))
        snprintf(first, sizeof first, "pid %d opened %s", m->pid, path);
      others += m->pid != getpid();
      ++events;
      close(m->fd);
    }
  }
  unlink(trigger);
  close(fan);
  char detail[700];
  snprintf(detail, sizeof detail, "%d event(s) with open descriptors, %d from other processes (%s)",
           events, others, first);
  if (events > 0)
    got_through(what, detail);
  else
    stopped(what, "no event arrived");
  return final_line();
}
