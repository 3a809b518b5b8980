/* own_filter FILE N: the process forks a child that stacks a seccomp filter of its own, which
 * fails rt_sigsuspend with EPERM and allows everything else, then opens FILE N times. The
 * supervisor's lanes park a task in rt_sigsuspend to hand it to another tracer thread: with
 * this filter the parking call would fail at once and the task run on untraced, so such a task
 * must never be parked. Prints "OPENED <n> FAILED <m>" and exits 0 when every open succeeded. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int n = atoi(argv[2]);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigsuspend, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      printf("NOFILTER %d\n", errno);
      fflush(stdout);
      _exit(3);
    }
    int opened = 0, failed = 0;
    for (int i = 0; i < n; ++i) {
      int fd = open(argv[1], O_RDONLY);
      if (fd >= 0) {
        ++opened;
        close(fd);
      } else {
        ++failed;
      }
    }
    printf("OPENED %d FAILED %d\n", opened, failed);
    fflush(stdout);
    _exit(failed == 0 ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
