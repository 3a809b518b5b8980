/* Technique: call the i386 ABI with int $0x80 from 64-bit code; the syscall numbers differ
 * (5 is open on i386, fstat on x86_64), so a filter that checks only x86_64 numbers is blind.
 * Defence: the filter sends every foreign-ABI call to the tracer, which denies it (ENOSYS)
 * and reports escape_attempt. Here: i386 getpid (20). */
#include <stdio.h>

int main(void) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  if (ret > 0) { printf("ESCAPED pid=%ld\n", ret); return 0; }
  printf("BLOCKED %ld\n", ret);
  return 1;
}
