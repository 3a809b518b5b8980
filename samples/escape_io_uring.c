/* Technique: io_uring runs file and socket operations in kernel workers that neither seccomp
 * nor ptrace sees. Defence: io_uring_setup is denied (escape_attempt). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  char params[120] = {0};  /* struct io_uring_params */
  long fd = syscall(SYS_io_uring_setup, 8, params);
  if (fd >= 0) { printf("ESCAPED\n"); return 0; }
  printf("BLOCKED %s\n", strerrorname_np(errno));
  return 1;
}
