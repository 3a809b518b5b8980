/* Technique: attach to another process with ptrace (here, tracejail itself, our parent) to
 * read its memory or take over its children. Defence: ptrace is an escape primitive, denied
 * with EPERM and reported as escape_attempt. Prints "BLOCKED <errno>" or "ESCAPED". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(void) {
  if (ptrace(PTRACE_ATTACH, getppid(), NULL, NULL) == 0) { printf("ESCAPED\n"); return 0; }
  printf("BLOCKED %s\n", strerrorname_np(errno));
  return 1;
}
