/* observed CMD_FD ACK_FD FILE PORT THREADS [PROGRAM ARG...]: a process for `tracejail observe`,
 * started outside tracejail and driven through two pipes: it reads one command byte at a time
 * from CMD_FD, does it, and writes the byte back on ACK_FD ('r' once when it is ready):
 *   o  open FILE for reading (and close it); the ack is 'o' on success, 'O' on failure
 *   c  connect to 127.0.0.1:PORT over TCP; 'c' or 'C'
 *   f  fork a child that execs PROGRAM ARG... and wait for it; 'f' when it exited with 0
 *   q  stop the threads and exit with status 7 (3 when a thread saw a call fail)
 * THREADS threads open and close /dev/null in a loop until 'q', so that attaching and detaching
 * meets threads in every state. No sleeps: everything waits on the pipes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop_threads;
static atomic_int thread_failures;

static void *spin(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_threads)) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || close(fd) != 0) atomic_fetch_add(&thread_failures, 1);
  }
  return NULL;
}

static void ack(int fd, char c) {
  while (write(fd, &c, 1) < 0 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: observed CMD_FD ACK_FD FILE PORT THREADS [PROGRAM ARG...]\n");
    return 2;
  }
  int cmd = atoi(argv[1]), out = atoi(argv[2]);
  const char *file = argv[3];
  int port = atoi(argv[4]), threads = atoi(argv[5]);
  pthread_t tids[64];
  if (threads > 64) threads = 64;
  for (int i = 0; i < threads; ++i) pthread_create(&tids[i], NULL, spin, NULL);
  ack(out, 'r');
  for (;;) {
    char c;
    ssize_t n = read(cmd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) c = 'q'; /* the driver went away */
    if (c == 'o') {
      int fd = open(file, O_RDONLY | O_CLOEXEC);
      ack(out, fd >= 0 ? 'o' : 'O');
      if (fd >= 0) close(fd);
    } else if (c == 'c') {
      struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
      inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
      if (fd >= 0) close(fd);
      ack(out, ok ? 'c' : 'C');
    } else if (c == 'f') {
      pid_t child = fork();
      if (child == 0) {
        if (argc > 6) execv(argv[6], argv + 6);
        _exit(127);
      }
      int status = 0;
      while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      ack(out, child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 'f' : 'F');
    } else if (c == 'q') {
      atomic_store(&stop_threads, 1);
      for (int i = 0; i < threads; ++i) pthread_join(tids[i], NULL);
      ack(out, 'q');
      return atomic_load(&thread_failures) ? 3 : 7;
    }
  }
}
