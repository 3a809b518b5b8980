/* escape.h: what the escape samples share: the secret's path and identity, how an attempt is
 * reported (one line each, a running list of what blocked and what escaped), the secret's first
 * line once read (its token proves an escape), and the final line. Samples whose attempts are not
 * opens of the secret report with got_through() and stopped(). Included by one program each;
 * not a sample itself (samples/escapes/README.md). */
#ifndef TRACEJAIL_ESCAPE_H
#define TRACEJAIL_ESCAPE_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every helper is static; a sample uses some of them (no unused-function warnings). */
#define ESCAPE_HELPER static __attribute__((unused))

static const char* secret;
static struct stat secret_st;
static int secret_st_known;
static int escaped;
static char blocked[8192], escapes[2048], token[160];

ESCAPE_HELPER const char* ename(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "?";
}

ESCAPE_HELPER void append(char* buf, size_t size, const char* what, const char* how) {
  size_t len = strlen(buf);
  snprintf(buf + len, size - len, "%s%s -> %s", len ? "; " : "", what, how);
}

ESCAPE_HELPER const char* env(const char* name) {
  const char* v = getenv(name);
  if (v == NULL || v[0] == '\0') {
    fprintf(stderr, "%s: %s is not set\n", program_invocation_short_name, name);
    exit(2);
  }
  return v;
}

/* Is fd the secret? Ask the open file (inode, or its path), never the name we passed. */
ESCAPE_HELPER int is_secret(int fd) {
  struct stat st;
  if (secret_st_known && fstat(fd, &st) == 0)
    return st.st_dev == secret_st.st_dev && st.st_ino == secret_st.st_ino;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  path[n > 0 ? n : 0] = '\0';
  return strcmp(path, secret) == 0;
}

/* Report one attempt: fd is what open returned (errno set when it is -1). */
ESCAPE_HELPER void attempt(const char* what, int fd) {
  int err = errno;
  if (fd < 0) {
    printf("%s: failed (%s)\n", what, ename(err));
    append(blocked, sizeof blocked, what, ename(err));
    return;
  }
  char line[160] = "";
  ssize_t n = read(fd, line, sizeof line - 1);
  line[n > 0 ? n : 0] = '\0';
  line[strcspn(line, "\n")] = '\0';
  if (is_secret(fd)) {
    ++escaped;
    if (token[0] == '\0') snprintf(token, sizeof token, "%s", line);
    printf("%s: read the secret \"%s\" (ok)\n", what, line);
    append(escapes, sizeof escapes, what, "read");
  } else {
    printf("%s: opened another file, read \"%s\" (ok)\n", what, line);
    append(blocked, sizeof blocked, what, "another file");
  }
  close(fd);
}

/* Report an attempt that got through: `detail` says what it did or read (printed whole; the
 * final line keeps what fits). */
ESCAPE_HELPER void got_through(const char* what, const char* detail) {
  ++escaped;
  printf("%s: %s (ok)\n", what, detail);
  append(escapes, sizeof escapes, what, detail);
}

/* Report an attempt that was stopped: `why` is the errno's name or what else stopped it. */
ESCAPE_HELPER void stopped(const char* what, const char* why) {
  printf("%s: failed (%s)\n", what, why);
  append(blocked, sizeof blocked, what, why);
}

/* The final line: every attempt that got through (with the secret's token once one was read), or
 * what stopped each. */
ESCAPE_HELPER int final_line(void) {
  if (escaped && token[0] != '\0')
    printf("ESCAPED: %s (secret: \"%s\")\n", escapes, token);
  else if (escaped)
    printf("ESCAPED: %s\n", escapes);
  else
    printf("BLOCKED: %s\n", blocked);
  return 0;
}

#endif
