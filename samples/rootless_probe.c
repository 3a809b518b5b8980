/* rootless_probe [PORT]: what a command sees of its sandbox when tracejail runs as an ordinary
 * user (tests/integration/rootless_test.cc), one "key=value" line per fact:
 *   uid, gid          its ids (the caller's own, mapped to themselves)
 *   CapEff, CapPrm, CapBnd, NoNewPrivs, Seccomp   from /proc/self/status
 *   interfaces        the network interfaces of its network namespace (/proc/self/net/dev)
 *   tmpdir_fs         what $TMPDIR (the private work dir) is: "tmpfs" in its own mount namespace
 *   connect           a TCP connect to 127.0.0.1:PORT (a listener outside), when PORT is given
 * then tries to leave: unshare(CLONE_NEWUSER), unshare(CLONE_NEWNS), mount a tmpfs on /tmp,
 * setns into its own user namespace: "unshare_user=EPERM" or "=0" when it worked. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

static const char *result(int r) { return r == 0 ? "0" : strerrorname_np(errno); }

static void status_lines(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "Cap", 3) != 0 && strncmp(line, "NoNewPrivs", 10) != 0 &&
        strncmp(line, "Seccomp:", 8) != 0) {
      continue;
    }
    char *colon = strchr(line, ':');
    if (colon == NULL) continue;
    *colon = '\0';
    char *value = colon + 1;
    while (*value == '\t' || *value == ' ') ++value;
    printf("%s=%s", line, value);
  }
  if (f != NULL) fclose(f);
}

static void interfaces(void) {
  FILE *f = fopen("/proc/self/net/dev", "r");
  char line[512];
  printf("interfaces=");
  for (int n = 0; f != NULL && fgets(line, sizeof line, f) != NULL;) {
    char *colon = strchr(line, ':');
    if (colon == NULL) continue;  /* the two header lines */
    *colon = '\0';
    char *name = line;
    while (*name == ' ') ++name;
    printf("%s%s", n++ ? "," : "", name);
  }
  printf("\n");
  if (f != NULL) fclose(f);
}

static void tmpdir_fs(void) {
  const char *dir = getenv("TMPDIR");
  struct statfs st;
  if (dir == NULL || statfs(dir, &st) != 0) {
    printf("tmpdir_fs=%s\n", dir == NULL ? "unset" : strerrorname_np(errno));
    return;
  }
  printf("tmpdir_fs=%s\n", st.f_type == TMPFS_MAGIC ? "tmpfs" : "other");
}

static void connect_to(const char *port) {
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    printf("connect=socket:%s\n", strerrorname_np(errno));
    return;
  }
  printf("connect=%s\n", result(connect(fd, (struct sockaddr *)&sin, sizeof sin)));
  close(fd);
}

int main(int argc, char **argv) {
  printf("uid=%d\ngid=%d\n", (int)getuid(), (int)getgid());
  status_lines();
  interfaces();
  tmpdir_fs();
  if (argc > 1) connect_to(argv[1]);
  printf("unshare_user=%s\n", result(unshare(CLONE_NEWUSER)));
  printf("unshare_mount=%s\n", result(unshare(CLONE_NEWNS)));
  printf("mount_tmpfs=%s\n", result(mount("x", "/tmp", "tmpfs", 0, NULL)));
  int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  printf("setns_user=%s\n", ns < 0 ? strerrorname_np(errno) : result(setns(ns, CLONE_NEWUSER)));
  return 0;
}
