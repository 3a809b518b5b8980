/* unix_block DIR: a send to a unix datagram socket whose queue is full blocks, and a signal must
 * end that wait as it does natively, also when the send is one tracejail anchors:
 *
 *   - with a SIGALRM handler installed without SA_RESTART, the send fails with EINTR;
 *   - with SA_RESTART, it is restarted after each handler, and succeeds once the handler (on its
 *     third run) has read one datagram and so made room;
 *   - with no signal at all, it succeeds once another thread of the process reads: a tracer that
 *     holds the process's other threads while the send runs must let that one go on.
 *
 * Binds DIR/r.sock. Prints "EINTR ok", "RESTART ok" and "THREAD ok" and exits 0, or says what
 * went wrong and exits 1. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int receiver = -1;
static volatile sig_atomic_t ticks, drained;

static void on_alarm(int sig) {
  (void)sig;
  ++ticks;
}

static void on_alarm_drain(int sig) {
  (void)sig;
  char byte;
  if (++ticks == 3 && recv(receiver, &byte, 1, MSG_DONTWAIT) == 1) drained = 1;
}

static void every_20ms(void (*handler)(int), int flags) {
  struct sigaction sa = {0};
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 20000}, {0, 20000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static void stop_timer(void) {
  struct itimerval it = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static int go[2];

/* Waits for the word, then reads everything queued and one datagram more. It first lets 50 ms
 * pass, so that the send is usually waiting already: not needed for the outcome, which is the
 * same either way, but that is the case a tracer holding this thread could never end. */
static void *reader(void *arg) {
  long queued = (long)arg;
  char byte;
  if (read(go[0], &byte, 1) != 1) return NULL;
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  for (long i = 0; i <= queued; ++i) {
    if (recv(receiver, &byte, 1, 0) != 1) return NULL;
  }
  return (void *)1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: unix_block DIR\n");
    return 2;
  }
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s/r.sock", argv[1]);
  unlink(un.sun_path);
  receiver = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (receiver < 0 || sender < 0 || bind(receiver, (struct sockaddr *)&un, sizeof un) != 0) {
    perror(un.sun_path);
    return 2;
  }
  /* Fill the receiver's queue: the next blocking send waits for room. */
  char byte = 'x';
  long queued = 0;
  while (sendto(sender, &byte, 1, MSG_DONTWAIT, (struct sockaddr *)&un, sizeof un) == 1) ++queued;
  if (errno != EAGAIN) {
    perror("filling the queue");
    return 2;
  }
  printf("queued %ld\n", queued);

  every_20ms(on_alarm, 0);
  long r = sendto(sender, &byte, 1, 0, (struct sockaddr *)&un, sizeof un);
  int err = errno;
  stop_timer();
  if (r != -1 || err != EINTR) {
    printf("FAIL without SA_RESTART: sendto returned %ld (%s), not EINTR\n", r, strerror(err));
    return 1;
  }
  printf("EINTR ok\n");

  ticks = 0;
  every_20ms(on_alarm_drain, SA_RESTART);
  r = sendto(sender, &byte, 1, 0, (struct sockaddr *)&un, sizeof un);
  err = errno;
  stop_timer();
  if (r != 1 || !drained) {
    printf("FAIL with SA_RESTART: sendto returned %ld (%s), handler ran %d times, drained %d\n",
           r, r < 0 ? strerror(err) : "-", (int)ticks, (int)drained);
    return 1;
  }
  printf("RESTART ok\n");

  /* The queue is full again (one read, one sent): a thread reads once it is told to, which is
   * just before the blocking send. */
  signal(SIGALRM, SIG_DFL);
  long n = 0;
  while (sendto(sender, &byte, 1, MSG_DONTWAIT, (struct sockaddr *)&un, sizeof un) == 1) ++n;
  pthread_t th;
  if (pipe(go) != 0 || pthread_create(&th, NULL, reader, (void *)(queued + n)) != 0) {
    perror("reader");
    return 2;
  }
  if (write(go[1], "g", 1) != 1) return 2;
  r = sendto(sender, &byte, 1, 0, (struct sockaddr *)&un, sizeof un);
  err = errno;
  void *read_all = NULL;
  pthread_join(th, &read_all);
  if (r != 1 || read_all == NULL) {
    printf("FAIL with a reading thread: sendto returned %ld (%s), reader %s\n", r,
           r < 0 ? strerror(err) : "-", read_all ? "read all" : "failed");
    return 1;
  }
  printf("THREAD ok\n");
  return 0;
}
