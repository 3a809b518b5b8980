// A denied connect two calls deep, built with debug information and without inlining, for the
// stack traces of events (tests/integration/stack_test.cc): the event's stack must show
// connect in libc, then do_connect at the line marked with @CONNECT, then main at the line
// marked with @CALL. Usage: stack_connect PORT [wreck] (127.0.0.1). Prints "CONNECT errno=N"
// and exits 0.
// With "wreck" the connect is issued with the stack and frame pointers aimed at unmapped
// memory (and put back after), so that an unwinder finds nothing it can trust.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((noinline)) static int do_connect(int fd, const struct sockaddr_in* addr) {
  int r = connect(fd, (const struct sockaddr*)addr, sizeof *addr);  // @CONNECT
  return r == 0 ? 0 : errno;
}

// connect(fd, addr, len) with rsp and rbp pointing at nothing while the call is made.
static int wrecked_connect(int fd, const struct sockaddr_in* addr) {
  long ret;
  long bad = 0x10;  // unmapped: the first page is never mapped
  __asm__ volatile(
      "mov %%rsp, %%r12\n\t"
      "mov %%rbp, %%r13\n\t"
      "mov %[bad], %%rsp\n\t"
      "mov %[bad], %%rbp\n\t"
      "syscall\n\t"
      "mov %%r12, %%rsp\n\t"
      "mov %%r13, %%rbp\n\t"
      : "=a"(ret)
      : "a"(42L), "D"((long)fd), "S"(addr), "d"((long)sizeof *addr), [bad] "r"(bad)
      : "rcx", "r11", "r12", "r13", "memory");
  return ret == 0 ? 0 : (int)-ret;
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) return 2;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 3;
  int err = argc == 3 ? wrecked_connect(fd, &addr) : do_connect(fd, &addr);  // @CALL
  printf("CONNECT errno=%d\n", err);
  close(fd);
  return 0;
}
