/* tracejail-escape
 * id: outside-signal
 * class: other processes
 * title: signal a process outside the tree by every route: kill, tgkill, sigqueue, pidfds, /proc/PID fd, F_SETOWN/FIOSETOWN
 * covered: basic
 * needs: outside
 *
 * Technique: kill is only one way to signal another process. tgkill and rt_(tg)sigqueueinfo name
 * a thread or carry data; pidfd_send_signal takes a pidfd, and a descriptor of the /proc/PID
 * directory works as one; and F_SETOWN, F_SETOWN_EX (a thread), FIOSETOWN and SIOCSPGRP make the
 * kernel itself send SIGIO (or the F_SETSIG signal) to any pid once the descriptor becomes ready,
 * with the credentials of whoever set the owner. The program aims each at TJ_OUTSIDE_PID with
 * harmless signals (SIGCONT, SIGWINCH); that process blocks all signals and survives.
 * Defence: signals aimed outside the traced tree are denied whatever the route: kill, tgkill,
 * rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_open and pidfd_send_signal are decided against the
 * tree, /proc/<pid> of a process outside it is denied, and the target of F_SETOWN, F_SETOWN_EX,
 * FIOSETOWN and SIOCSPGRP must be in the tree.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "escape.h"

static void outcome(const char* what, long rc, const char* detail) {
  if (rc < 0)
    stopped(what, ename(errno));
  else
    got_through(what, detail);
}

/* Makes `target` the owner of a fresh pipe's (a socket pair's, for the socket ioctls) reading end
 * by `how`, turns on O_ASYNC and F_SETSIG SIGWINCH, and makes it readable: the kernel then signals
 * the target. */
enum owner_route { OWN_SETOWN, OWN_SETOWN_EX_TID, OWN_FIOSETOWN, OWN_SIOCSPGRP };
static void async_owner(const char* what, enum owner_route how, int target) {
  int fds[2];
  int rc = how == OWN_FIOSETOWN || how == OWN_SIOCSPGRP ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)
                                : pipe2(fds, O_CLOEXEC);
  if (rc != 0) {
    stopped(what, ename(errno));
    return;
  }
  struct f_owner_ex ex = {F_OWNER_TID, target};
  switch (how) {
    case OWN_SETOWN: rc = fcntl(fds[0], F_SETOWN, target); break;
    case OWN_SETOWN_EX_TID: rc = fcntl(fds[0], F_SETOWN_EX, &ex); break;
    case OWN_FIOSETOWN: rc = ioctl(fds[0], FIOSETOWN, &target); break;
    case OWN_SIOCSPGRP: rc = ioctl(fds[0], SIOCSPGRP, &target); break;
  }
  int err = errno;
  if (rc == 0) {
    fcntl(fds[0], F_SETSIG, SIGWINCH);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_ASYNC);
    (void)!write(fds[1], "x", 1);
  }
  close(fds[0]);
  close(fds[1]);
  errno = err;
  outcome(what, rc, "it owns the descriptor: a write sent it SIGWINCH");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int pid = atoi(env("TJ_OUTSIDE_PID"));
  char path[64];

  int tid = 0; /* its second thread */
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR* d = opendir(path);
  for (struct dirent* e; d && tid == 0 && (e = readdir(d)) != NULL;)
    if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid) tid = atoi(e->d_name);
  if (d) closedir(d);
  if (tid == 0) tid = pid; /* /proc hidden: aim at the leader thread instead */

  outcome("kill(pid, SIGCONT)", kill(pid, SIGCONT), "sent SIGCONT");
  outcome("tgkill(pid, tid, SIGCONT)", syscall(SYS_tgkill, pid, tid, SIGCONT), "sent SIGCONT");
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGCONT;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  outcome("rt_sigqueueinfo(pid, SIGCONT)", syscall(SYS_rt_sigqueueinfo, pid, SIGCONT, &si),
          "queued SIGCONT");
  outcome("rt_tgsigqueueinfo(pid, tid, SIGCONT)",
          syscall(SYS_rt_tgsigqueueinfo, pid, tid, SIGCONT, &si), "queued SIGCONT");

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    stopped("pidfd_open(pid) + pidfd_send_signal(SIGCONT)", ename(errno));
  } else {
    outcome("pidfd_open(pid) + pidfd_send_signal(SIGCONT)",
            syscall(SYS_pidfd_send_signal, pidfd, SIGCONT, NULL, 0), "sent SIGCONT");
    close(pidfd);
  }
  snprintf(path, sizeof path, "/proc/%d", pid);
  int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    stopped("open(/proc/PID) + pidfd_send_signal(SIGCONT)", ename(errno));
  } else {
    outcome("open(/proc/PID) + pidfd_send_signal(SIGCONT)",
            syscall(SYS_pidfd_send_signal, dirfd, SIGCONT, NULL, 0), "sent SIGCONT");
    close(dirfd);
  }

  async_owner("fcntl(pipe, F_SETOWN, pid) + O_ASYNC + write", OWN_SETOWN, pid);
  async_owner("fcntl(pipe, F_SETOWN_EX, F_OWNER_TID tid) + O_ASYNC + write", OWN_SETOWN_EX_TID, tid);
  async_owner("ioctl(socket, FIOSETOWN, pid) + O_ASYNC + write", OWN_FIOSETOWN, pid);
  async_owner("ioctl(socket, SIOCSPGRP, pid) + O_ASYNC + write", OWN_SIOCSPGRP, pid);
  return final_line();
}
