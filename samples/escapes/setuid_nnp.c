/* tracejail-escape
 * id: setuid-nnp
 * class: leaving the tree
 * title: regain root through a setuid-root copy of /usr/bin/id after dropping to nobody
 * covered: standard
 * needs: root
 *
 * Technique: a sandbox that drops privileges is undone by any setuid-root program the sandboxed
 * code can run: exec gives it the file owner's uid again. Here (as root) we copy /usr/bin/id to
 * TJ_SCRATCH/id-suid, make it root-owned mode 4755, then in a child drop to uid/gid 65534 and
 * exec it with -u: it prints 0 if the setuid bit took effect.
 * Defence: tracejail sets no_new_privs on the tree before the first exec, and the kernel then
 * ignores setuid and file capabilities on every exec: id prints 65534. (A nosuid mount would
 * ignore the bit too; the sample says when TJ_SCRATCH is on one, since that proves nothing.)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  const char *scratch = getenv("TJ_SCRATCH");
  if (!scratch) { printf("BLOCKED: TJ_SCRATCH not set\n"); return 0; }
  if (geteuid() != 0) {
    printf("euid %d\nBLOCKED: skipped (needs root): only root can make a setuid-root copy\n",
           geteuid());
    return 0;
  }
  printf("no_new_privs: %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  struct statvfs vfs;
  int nosuid = statvfs(scratch, &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
  printf("TJ_SCRATCH %s: %s\n", scratch, nosuid ? "nosuid mount" : "setuid allowed by the mount");

  char path[4096];
  snprintf(path, sizeof path, "%s/id-suid", scratch);
  unlink(path);
  int in = open("/usr/bin/id", O_RDONLY | O_CLOEXEC);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  if (in < 0 || out < 0) {
    printf("copy /usr/bin/id: open %s -> %s\nBLOCKED: could not copy /usr/bin/id\n",
           in < 0 ? "/usr/bin/id" : path, strerrorname_np(errno));
    return 0;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) { n = -1; break; }
  close(in);
  close(out);
  if (n < 0) { printf("BLOCKED: copying /usr/bin/id failed (%s)\n", strerrorname_np(errno)); return 0; }
  int r1 = chown(path, 0, 0);
  const char *chown_r = r1 == 0 ? "ok" : strerrorname_np(errno);
  int r2 = chmod(path, 04755);
  const char *chmod_r = r2 == 0 ? "ok" : strerrorname_np(errno);
  struct stat st;
  int mode = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
  printf("%s: chown root: %s; chmod 4755: %s; mode now %04o\n", path, chown_r, chmod_r, mode);
  if (mode < 0 || !(mode & S_ISUID)) {
    unlink(path);
    printf("BLOCKED: the setuid bit could not be set (chmod -> %s)\n", chmod_r);
    return 0;
  }
  /* An fd opened as root: after the drop, nobody may not be able to search TJ_SCRATCH. */
  int exe = open(path, O_RDONLY | O_CLOEXEC);
  if (exe < 0) { printf("BLOCKED: reopening %s -> %s\n", path, strerrorname_np(errno)); return 0; }

  int p[2];
  if (pipe(p) != 0) return 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      printf("dropping to 65534 -> %s\n", strerrorname_np(errno));
      fflush(stdout);
      _exit(120);
    }
    char *argv[] = {"id-suid", "-u", NULL}, *envp[] = {"PATH=/usr/bin:/bin", NULL};
    fexecve(exe, argv, envp);
    printf("fexecve(id-suid) as 65534 -> %s\n", strerrorname_np(errno));
    fflush(stdout);
    _exit(121);
  }
  close(p[1]);
  char outb[512];
  size_t got = 0;
  ssize_t r;
  while (pid > 0 && got < sizeof outb - 1 && (r = read(p[0], outb + got, sizeof outb - 1 - got)) > 0)
    got += (size_t)r;
  outb[got] = 0;
  outb[strcspn(outb, "\n")] = 0;
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  close(exe);
  unlink(path);
  printf("child as uid 65534 ran id-suid -u: \"%s\" (exit %d)\n", outb,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));

  if (strcmp(outb, "0") == 0)
    printf("ESCAPED: a setuid-root binary gave uid 65534 back root (id -u printed 0)\n");
  else if (strcmp(outb, "65534") == 0 && nosuid)
    printf("BLOCKED: id -u printed 65534, but TJ_SCRATCH (%s) is on a nosuid mount, which ignores "
           "the setuid bit by itself: no_new_privs not tested here\n", scratch);
  else if (strcmp(outb, "65534") == 0)
    printf("BLOCKED: id -u printed 65534: the setuid bit was ignored on exec (no_new_privs)\n");
  else
    printf("BLOCKED: the setuid copy did not run as expected: %s\n", outb[0] ? outb : "no output");
  return 0;
}
