/* Technique: set the x32 bit (0x40000000) in the syscall number: the same AUDIT_ARCH_X86_64,
 * different numbers. Defence: libseccomp's filter routes x32 numbers to the bad-arch action,
 * which is a trace stop that tracejail denies. Here: x32 getpid (39 | 0x40000000). */
#include <stdio.h>

int main(void) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(0x40000000L | 39L) : "rcx", "r11", "memory");
  if (ret > 0) { printf("ESCAPED pid=%ld\n", ret); return 0; }
  printf("BLOCKED %ld\n", ret);
  return 1;
}
