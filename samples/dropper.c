/* A dropper, for the records of what ran and what was left behind (docs/forensics.md): in DIR it
 * writes a script and makes it executable, changes an existing file, opens another for writing
 * without changing it, makes and removes a temporary file, makes a symlink and a FIFO, stages a
 * file under one name and renames it, then runs the script it dropped. Prints "DROPPED" and the
 * script's output; any step that fails prints what failed and the exit status is 1.
 *
 *   dropper DIR   (DIR holds existing.txt and untouched.txt already)
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;

static void check(int ok, const char* what) {
  if (!ok) {
    printf("FAILED %s\n", what);
    failed = 1;
  }
}

static void put(const char* path, const char* text, int flags) {
  int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
  check(fd >= 0, path);
  if (fd < 0) return;
  check(write(fd, text, strlen(text)) == (ssize_t)strlen(text), path);
  close(fd);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  char path[4096], other[4096];
#define AT(name) (snprintf(path, sizeof path, "%s/%s", argv[1], name), path)

  put(AT("payload.sh"), "#!/bin/sh\necho PAYLOAD-RAN\n", O_TRUNC);
  check(chmod(path, 0755) == 0, "chmod payload.sh");
  put(AT("existing.txt"), "changed\n", O_APPEND);
  int fd = open(AT("untouched.txt"), O_RDWR);
  check(fd >= 0, "untouched.txt");
  if (fd >= 0) close(fd);
  put(AT("tmp.bin"), "temporary\n", O_TRUNC);
  check(unlink(path) == 0, "unlink tmp.bin");
  check(symlink("payload.sh", AT("link")) == 0, "symlink");
  check(mkfifo(AT("fifo"), 0600) == 0, "mkfifo");
  put(AT("stage.bin"), "final\n", O_TRUNC);
  snprintf(other, sizeof other, "%s/final.bin", argv[1]);
  check(rename(path, other) == 0, "rename");

  printf("DROPPED\n");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char* args[] = {AT("payload.sh"), NULL};
    execv(args[0], args);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "payload.sh");
  return failed;
}
