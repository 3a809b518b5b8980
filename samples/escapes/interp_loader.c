/* tracejail-escape
 * id: interp-loader
 * class: interpreters and loaders
 * title: run a forbidden program through execveat, O_PATH fds, /bin/sh, ld.so and a memfd
 * covered: standard
 * needs: forbidden secret
 *
 * Technique: an exec rule on a program's path only sees the path handed to execve. The same file
 * can run through execveat on a directory fd, execveat(fd, "", AT_EMPTY_PATH) on an O_PATH fd,
 * an allowed interpreter given the file as an argument (/bin/sh FILE), the dynamic loader
 * (ld.so FILE, which maps it without any exec of FILE), or a copy in a memfd run with fexecve.
 * ld.so also runs an allowed binary (/bin/cat) on the secret. Each runs in a child whose output
 * is captured; the forbidden program prints FORBIDDEN-PROGRAM-RAN.
 * Defence: execve and execveat are decided on the resolved file (dirfd, O_PATH fd), and the
 * forbidden file is also denied for reading, so interpreters and ld.so cannot open it and no copy
 * can be made; the secret's read rule stops cat however it was started.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *secret, *forbidden;
static char token[256]; /* the secret's first line, when we can read it (untraced runs) */
static char summary[4096];
static int escaped;

#define LD_SO "/lib64/ld-linux-x86-64.so.2"

struct how {
  const char *label;
  int kind;
};
enum { DIRECT, EXECVEAT_DIRFD, EXECVEAT_OPATH, SH, LDSO_CAT_SECRET, LDSO_FORBIDDEN, MEMFD };

/* In the child (stdout and stderr are the capture pipe): try one way; on failure print why. */
static void child(int kind) {
  char dir[4096], base[4096];
  snprintf(dir, sizeof dir, "%s", forbidden);
  snprintf(base, sizeof base, "%s", forbidden);
  char *argv[] = {(char *)forbidden, NULL};
  switch (kind) {
    case DIRECT:
      execve(forbidden, argv, environ);
      printf("execve -> %s\n", strerrorname_np(errno));
      break;
    case EXECVEAT_DIRFD: {
      int d = open(dirname(dir), O_PATH | O_DIRECTORY);
      if (d < 0) { printf("open(dir, O_PATH) -> %s\n", strerrorname_np(errno)); break; }
      syscall(SYS_execveat, d, basename(base), argv, environ, 0);
      printf("execveat(dirfd, name) -> %s\n", strerrorname_np(errno));
      break;
    }
    case EXECVEAT_OPATH: {
      /* Not O_CLOEXEC: a script is handed to its interpreter as /dev/fd/N. */
      int fd = open(forbidden, O_PATH);
      if (fd < 0) { printf("open(O_PATH) -> %s\n", strerrorname_np(errno)); break; }
      syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
      printf("execveat(O_PATH fd, \"\", AT_EMPTY_PATH) -> %s\n", strerrorname_np(errno));
      break;
    }
    case SH: {
      char *a[] = {"/bin/sh", (char *)forbidden, NULL};
      execve("/bin/sh", a, environ);
      printf("execve(/bin/sh) -> %s\n", strerrorname_np(errno));
      break;
    }
    case LDSO_CAT_SECRET: {
      char *a[] = {LD_SO, "/bin/cat", (char *)secret, NULL};
      execve(LD_SO, a, environ);
      printf("execve(ld.so) -> %s\n", strerrorname_np(errno));
      break;
    }
    case LDSO_FORBIDDEN: {
      char *a[] = {LD_SO, (char *)forbidden, NULL};
      execve(LD_SO, a, environ);
      printf("execve(ld.so) -> %s\n", strerrorname_np(errno));
      break;
    }
    case MEMFD: {
      int in = open(forbidden, O_RDONLY);
      if (in < 0) {
        printf("copy into memfd: open(forbidden) -> %s; fexecve skipped\n", strerrorname_np(errno));
        break;
      }
      int m = memfd_create("interp_loader", 0); /* not MFD_CLOEXEC: scripts need /dev/fd/N */
      if (m < 0) { printf("memfd_create -> %s\n", strerrorname_np(errno)); break; }
      char buf[65536];
      ssize_t n;
      while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(m, buf, (size_t)n) != n) break;
      if (n < 0) { printf("copy into memfd: read -> %s\n", strerrorname_np(errno)); break; }
      fexecve(m, argv, environ);
      printf("fexecve(memfd) -> %s\n", strerrorname_np(errno));
      break;
    }
  }
  fflush(stdout);
  _exit(127);
}

static void attempt(const char *label, int kind) {
  int p[2];
  if (pipe(p) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    dup2(p[1], 1);
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    child(kind);
  }
  close(p[1]);
  char out[8192];
  size_t n = 0;
  ssize_t r;
  while (pid > 0 && n < sizeof out - 1 && (r = read(p[0], out + n, sizeof out - 1 - n)) > 0)
    n += (size_t)r;
  out[n] = 0;
  close(p[0]);
  int st = 0;
  if (pid > 0) waitpid(pid, &st, 0);
  while (n > 0 && out[n - 1] == '\n') out[--n] = 0;
  for (char *c = out; *c; c++)
    if (*c == '\n') *c = '|';
  /* cat that exits 0 with output read the secret, even when we do not know its token. */
  int ran = strstr(out, "FORBIDDEN-PROGRAM-RAN") != NULL;
  int leaked = (token[0] && strstr(out, token)) ||
               (kind == LDSO_CAT_SECRET && WIFEXITED(st) && WEXITSTATUS(st) == 0 && n > 0);
  char line[1024];
  snprintf(line, sizeof line, "%s: %s%.900s (exit %d)", label, ran || leaked ? "GOT THROUGH: " : "",
           n ? out : "(no output)", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  printf("%s\n", line);
  size_t used = strlen(summary);
  snprintf(summary + used, sizeof summary - used, "%s%.200s", used ? "; " : "", line);
  if (ran || leaked) escaped = 1;
}

int main(void) {
  secret = getenv("TJ_SECRET");
  forbidden = getenv("TJ_FORBIDDEN");
  if (!secret || !forbidden) { printf("BLOCKED: TJ_SECRET or TJ_FORBIDDEN not set\n"); return 0; }
  FILE *f = fopen(secret, "r");
  if (f) {
    if (fgets(token, sizeof token, f)) token[strcspn(token, "\n")] = 0;
    fclose(f);
  }
  attempt("execve(forbidden)", DIRECT);
  attempt("execveat(dirfd, name)", EXECVEAT_DIRFD);
  attempt("execveat(O_PATH fd, \"\", AT_EMPTY_PATH)", EXECVEAT_OPATH);
  attempt("/bin/sh forbidden", SH);
  attempt("ld.so /bin/cat secret", LDSO_CAT_SECRET);
  attempt("ld.so forbidden", LDSO_FORBIDDEN);
  attempt("memfd copy + fexecve", MEMFD);
  printf("%s: %s\n", escaped ? "ESCAPED" : "BLOCKED", summary);
  return 0;
}
