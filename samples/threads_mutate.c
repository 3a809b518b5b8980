/* Threads that change the filesystem at once: the stress tests run it hundreds of times. Every
 * mkdir, rename, chmod, symlink, unlink and rmdir is an anchored call (tracer/fs_anchor.h), and
 * with four threads sharing one descriptor table each of them holds the others stopped while it
 * runs; so are the connect and send to a unix socket the main thread bound, and each unix bind
 * holds them while its socket file is checked, and each fchmod on a descriptor holds them from
 * its check to its exit. Meanwhile the main thread sends them signals. Deterministic output:
 * "MUTATE <n> <ok>" where n counts the sequences that went through (4 x 25) and ok says every
 * thread's signal mask came back as it was and its signals arrived; exit status 0. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { kThreads = 4, kRounds = 25, kMaxSignals = 2000 };

static char base[64] = "/tmp/tj-mutate-XXXXXX";
static atomic_int signals_seen, workers_done;
static struct sockaddr_un listener = {.sun_family = AF_UNIX};

/* Bind a datagram socket at PATH, connect another to the main thread's socket, send one byte
 * each way it allows (a full queue is fine: MSG_DONTWAIT), then unlink PATH. */
/* A change through a descriptor: checked on the file the descriptor names. */
static int fd_chmod(const char* path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  int ok = fchmod(fd, 0755) == 0;
  close(fd);
  return ok;
}

static int unix_round(const char* path) {
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  int a = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int b = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int ok = a >= 0 && b >= 0 && bind(a, (struct sockaddr*)&un, sizeof un) == 0;
  char byte = 'x';
  if (ok) {
    long r = sendto(a, &byte, 1, MSG_DONTWAIT, (struct sockaddr*)&listener, sizeof listener);
    ok = r == 1 || errno == EAGAIN;
  }
  ok = ok && connect(b, (struct sockaddr*)&listener, sizeof listener) == 0;
  if (ok) ok = send(b, &byte, 1, MSG_DONTWAIT) == 1 || errno == EAGAIN;
  if (a >= 0) close(a);
  if (b >= 0) close(b);
  return ok && unlink(path) == 0;
}

static void on_usr1(int sig) {
  (void)sig;
  atomic_fetch_add(&signals_seen, 1);
}

static void* work(void* arg) {
  long id = (long)arg;
  long done = 0;
  sigset_t before, after;
  sigemptyset(&before);
  sigemptyset(&after);
  pthread_sigmask(SIG_BLOCK, NULL, &before);
  for (int i = 0; i < kRounds; ++i) {
    char dir[128], moved[128], link[128], sock[128];
    snprintf(dir, sizeof dir, "%s/t%ld-%d", base, id, i);
    snprintf(sock, sizeof sock, "%s/s%ld-%d", base, id, i);
    snprintf(moved, sizeof moved, "%s/m%ld-%d", base, id, i);
    snprintf(link, sizeof link, "%s/l%ld-%d", base, id, i);
    if (mkdir(dir, 0700) != 0 || rename(dir, moved) != 0 || chmod(moved, 0750) != 0 ||
        !fd_chmod(moved) || symlink(moved, link) != 0 || unlink(link) != 0 || rmdir(moved) != 0 ||
        !unix_round(sock)) {
      fprintf(stderr, "thread %ld round %d: %s\n", id, i, strerror(errno));
      continue;
    }
    ++done;
  }
  pthread_sigmask(SIG_BLOCK, NULL, &after);
  atomic_fetch_add(&workers_done, 1);
  int same = 1; /* signal by signal: the rest of a sigset_t is the C library's business */
  for (int sig = 1; sig < 65; ++sig) same &= sigismember(&before, sig) == sigismember(&after, sig);
  return (void*)(done * 2 + same);
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  if (mkdtemp(base) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(listener.sun_path, sizeof listener.sun_path, "%s/r.sock", base);
  int sink = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sink < 0 || bind(sink, (struct sockaddr*)&listener, sizeof listener) != 0) {
    perror("listener");
    return 2;
  }
  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, work, (void*)i);
  int sent = 0;
  while (atomic_load(&workers_done) < kThreads) {
    for (int i = 0; i < kThreads && sent < kMaxSignals; ++i) {
      if (pthread_kill(t[i], SIGUSR1) == 0) ++sent;
    }
    sched_yield();
  }
  long total = 0, masks_ok = 1;
  for (int i = 0; i < kThreads; ++i) {
    void* r = NULL;
    pthread_join(t[i], &r);
    total += (long)r / 2;
    masks_ok &= (long)r % 2;
  }
  close(sink);
  unlink(listener.sun_path);
  rmdir(base);
  /* Every signal is delivered (none is lost while an anchored call holds it back). Signals
     of one kind to one thread may merge, so at least one arrived and none beyond those sent. */
  int seen = atomic_load(&signals_seen);
  int ok = masks_ok && seen >= 1 && seen <= sent;
  printf("MUTATE %ld %s\n", total, ok ? "ok" : "bad");
  if (!ok) fprintf(stderr, "masks_ok=%ld seen=%d sent=%d\n", masks_ok, seen, sent);
  return 0;
}
