/* Dies of SIGSEGV: under tracejail the exit status must be 139, as in a shell. */
#include <signal.h>
#include <stdio.h>

int main(void) {
  printf("about to crash\n");
  fflush(stdout);
  volatile int *p = (int *)0;
  *p = 1;
  return 0;
}
