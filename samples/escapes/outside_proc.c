/* tracejail-escape
 * id: outside-proc
 * class: other processes
 * title: read and write another process's /proc entries under every alias (task/TID, hidden /proc/TID, dirfd, /proc/self/root)
 * covered: basic
 * needs: outside
 *
 * Technique: /proc/PID of a process outside the sandbox gives away its command line, environment
 * (tokens, keys), status and limits, and some entries are writable. A supervisor that checks the
 * literal "/proc/PID/" prefix misses the other names of the same files: /proc/PID/task/TID/..., the
 * hidden /proc/TID of a non-leader thread (not listed in /proc, but it resolves), a path relative
 * to an O_PATH descriptor of /proc, and /proc/self/root/proc/PID/.... The program reads cmdline,
 * environ and status of TJ_OUTSIDE_PID through each (printing what it read: the outside process's
 * token proves it), and writes oom_score_adj, coredump_filter and timerslack_ns their own values.
 * Defence: the tracer resolves every /proc path (aliases, dirfds, magic links) to the process it
 * names; /proc/<pid>/anything of a pid outside the traced tree is denied, read or write, under any
 * alias, and a PID namespace at stricter levels hides those processes altogether.
 */
#include <dirent.h>
#include <fcntl.h>

#include "escape.h"

/* Reads path (relative to dirfd) and prints it with NULs as spaces: an escape when bytes came. */
static void read_at(const char* what, int dirfd, const char* path) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    stopped(what, ename(errno));
    return;
  }
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int err = errno;
  close(fd);
  if (n <= 0) {
    stopped(what, n == 0 ? "empty" : ename(err));
    return;
  }
  for (ssize_t i = 0; i < n; ++i)
    if (buf[i] == '\0' || buf[i] == '\n') buf[i] = ' ';
  buf[n] = '\0';
  char detail[512];
  snprintf(detail, sizeof detail, "read %zd bytes: \"%.400s\"", n, buf);
  got_through(what, detail);
}

/* Writes the entry's own value back to it: an escape when the write is accepted. */
static void write_back(const char* what, const char* path) {
  char value[64];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, value, sizeof value - 1);
  int err = errno;
  if (fd >= 0) close(fd);
  if (n <= 0) {
    stopped(what, n == 0 ? "empty" : ename(err));
    return;
  }
  value[n] = '\0';
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    stopped(what, ename(errno));
    return;
  }
  ssize_t w = write(fd, value, (size_t)n);
  err = errno;
  close(fd);
  value[strcspn(value, "\n")] = '\0';
  char detail[128];
  snprintf(detail, sizeof detail, "wrote its own value \"%s\" back", value);
  if (w == n)
    got_through(what, detail);
  else
    stopped(what, w < 0 ? ename(err) : "short write");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int pid = atoi(env("TJ_OUTSIDE_PID"));
  char path[256], what[256];
  const char* const files[] = {"cmdline", "environ", "status"};
  for (int i = 0; i < 3; ++i) {
    snprintf(path, sizeof path, "/proc/%d/%s", pid, files[i]);
    snprintf(what, sizeof what, "read /proc/PID/%s", files[i]);
    read_at(what, AT_FDCWD, path);
  }

  /* The second thread: the first entry of /proc/PID/task that is not the pid itself. */
  int tid = 0;
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR* d = opendir(path);
  const char* list_failed = d ? "no second thread" : ename(errno);
  for (struct dirent* e; d && tid == 0 && (e = readdir(d)) != NULL;)
    if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid) tid = atoi(e->d_name);
  if (d) closedir(d);
  if (tid == 0) {
    stopped("list /proc/PID/task", list_failed);
  } else {
    printf("second thread: %d\n", tid);
    snprintf(path, sizeof path, "/proc/%d/task/%d/environ", pid, tid);
    read_at("read /proc/PID/task/TID/environ", AT_FDCWD, path);
    snprintf(path, sizeof path, "/proc/%d/task/%d/cmdline", pid, tid);
    read_at("read /proc/PID/task/TID/cmdline", AT_FDCWD, path);
    snprintf(path, sizeof path, "/proc/%d/environ", tid);
    read_at("read /proc/TID/environ (the hidden thread alias)", AT_FDCWD, path);
  }

  int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) {
    stopped("open(/proc, O_PATH)", ename(errno));
  } else {
    snprintf(path, sizeof path, "%d/environ", pid);
    read_at("openat(O_PATH fd of /proc, \"PID/environ\")", proc, path);
    close(proc);
  }
  snprintf(path, sizeof path, "/proc/self/root/proc/%d/cmdline", pid);
  read_at("read /proc/self/root/proc/PID/cmdline", AT_FDCWD, path);

  const char* const writable[] = {"oom_score_adj", "coredump_filter", "timerslack_ns"};
  for (int i = 0; i < 3; ++i) {
    snprintf(path, sizeof path, "/proc/%d/%s", pid, writable[i]);
    snprintf(what, sizeof what, "write /proc/PID/%s", writable[i]);
    write_back(what, path);
  }
  return final_line();
}
