/* tracejail-escape
 * id: threads-storm
 * class: pointer-argument races
 * title: 256 threads and 16 processes race path buffers between the decoy and the secret
 * covered: standard
 * needs: secret decoy
 *
 * Technique: the classic time-of-check/time-of-use race at scale. Half the threads rewrite shared
 * path buffers between the decoy's path and the secret's path as fast as they can; the other
 * half open those buffers (200 opens each) hoping the tracer checks the decoy and the kernel then
 * reads the secret. 16 forked processes do the same with 4 threads each, so the supervisor has
 * many stopped threads at once. Every fd that opens is checked with readlink(/proc/self/fd/N).
 * Defence: the checked path is pinned: the tracer copies what it checked into a read-only page
 * and points the call at the copy, so a flip after the check changes nothing. The run must also
 * finish promptly (no deadlock in the supervisor with hundreds of stopped threads).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUFS 8
#define OPENS 200
#define PATH_LEN 4096

static const char *secret, *decoy;
static char paths[BUFS][PATH_LEN]; /* shared, rewritten without any lock on purpose */
static atomic_int stop;
static atomic_long opens_ok, opens_failed, hits, flips;
static char hit_line[256];
static pthread_mutex_t hit_lock = PTHREAD_MUTEX_INITIALIZER;
/* A gate so every thread starts at once (a futex wait, not a sleep). */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void gate_wait(void) {
  pthread_mutex_lock(&gate_lock);
  while (!gate_open) pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
}

static void *flipper(void *arg) {
  char *buf = paths[(long)arg % BUFS];
  size_t sl = strlen(secret) + 1, dl = strlen(decoy) + 1;
  gate_wait();
  unsigned long i;
  for (i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
    if (i & 1) memcpy(buf, secret, sl);
    else memcpy(buf, decoy, dl);
    if ((i & 4095) == 0) sched_yield(); /* leave CPU time for the supervisor */
  }
  atomic_fetch_add(&flips, (long)i);
  return NULL;
}

static void *opener(void *arg) {
  char *buf = paths[(long)arg % BUFS];
  gate_wait();
  for (int i = 0; i < OPENS; i++) {
    int fd = open(buf, O_RDONLY);
    if (fd < 0) { atomic_fetch_add(&opens_failed, 1); continue; }
    atomic_fetch_add(&opens_ok, 1);
    char link[64], target[PATH_LEN];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    if (n > 0 && strcmp(target, secret) == 0) {
      atomic_fetch_add(&hits, 1);
      pthread_mutex_lock(&hit_lock);
      if (!hit_line[0]) {
        ssize_t r = read(fd, hit_line, sizeof hit_line - 1);
        hit_line[r > 0 ? r : 0] = 0;
        hit_line[strcspn(hit_line, "\n")] = 0;
        if (!hit_line[0]) snprintf(hit_line, sizeof hit_line, "(opened, read nothing)");
      }
      pthread_mutex_unlock(&hit_lock);
    }
    close(fd);
  }
  return NULL;
}

/* Starts `pairs` flipper/opener pairs, waits for the openers, stops the flippers. Returns the
 * number of threads that could not be created. */
static int storm(int pairs) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t *fl = calloc((size_t)pairs, sizeof *fl), *op = calloc((size_t)pairs, sizeof *op);
  char *fl_ok = calloc((size_t)pairs, 1), *op_ok = calloc((size_t)pairs, 1);
  int failed = 0;
  for (long i = 0; i < pairs; i++) {
    fl_ok[i] = pthread_create(&fl[i], &attr, flipper, (void *)i) == 0;
    op_ok[i] = pthread_create(&op[i], &attr, opener, (void *)i) == 0;
    failed += !fl_ok[i] + !op_ok[i];
  }
  pthread_mutex_lock(&gate_lock);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
  for (int i = 0; i < pairs; i++)
    if (op_ok[i]) pthread_join(op[i], NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < pairs; i++)
    if (fl_ok[i]) pthread_join(fl[i], NULL);
  pthread_attr_destroy(&attr);
  return failed;
}

int main(void) {
  secret = getenv("TJ_SECRET");
  decoy = getenv("TJ_DECOY");
  if (!secret || !decoy) { printf("BLOCKED: TJ_SECRET or TJ_DECOY not set\n"); return 0; }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < BUFS; i++) snprintf(paths[i], PATH_LEN, "%s", decoy);

  /* 16 processes, 2 flippers + 2 openers each; each reports "ok failed hits|line" on a pipe. */
  int rp[2];
  if (pipe(rp) != 0) { printf("BLOCKED: pipe failed\n"); return 0; }
  fflush(stdout);
  pid_t kids[16];
  int nkids = 0;
  for (int k = 0; k < 16; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      close(rp[0]);
      int failed = storm(2);
      char line[400];
      int len = snprintf(line, sizeof line, "%ld %ld %ld %d %ld|%s\n", atomic_load(&opens_ok),
                         atomic_load(&opens_failed), atomic_load(&hits), failed,
                         atomic_load(&flips), hit_line);
      if (write(rp[1], line, (size_t)len) < 0) _exit(1);
      _exit(0);
    }
    if (pid > 0) kids[nkids++] = pid;
    else printf("fork %d: %s\n", k, strerrorname_np(errno));
  }
  close(rp[1]);

  int failed = storm(128); /* 256 threads */
  long ok = atomic_load(&opens_ok), bad = atomic_load(&opens_failed), hit = atomic_load(&hits);
  long fl = atomic_load(&flips);
  printf("main process: 256 threads (%d not created): %ld flips; %ld opens ok, %ld failed, %ld "
         "reached the secret\n", failed, fl, ok, bad, hit);

  long kok = 0, kbad = 0, khit = 0, kfl = 0;
  int kfailed = 0, reports = 0;
  char kline[256] = "";
  FILE *in = fdopen(rp[0], "r");
  char line[512];
  while (in && fgets(line, sizeof line, in)) {
    long a, b, c, d;
    int f;
    char *bar = strchr(line, '|');
    if (!bar || sscanf(line, "%ld %ld %ld %d %ld", &a, &b, &c, &f, &d) != 5) continue;
    kok += a, kbad += b, khit += c, kfailed += f, kfl += d, reports++;
    bar[strcspn(bar, "\n")] = 0;
    if (c > 0 && !kline[0]) snprintf(kline, sizeof kline, "%s", bar + 1);
  }
  if (in) fclose(in);
  for (int i = 0; i < nkids; i++) waitpid(kids[i], NULL, 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("16 processes x 4 threads (%d reported, %d threads not created): %ld flips; %ld opens "
         "ok, %ld failed, %ld reached the secret\n", reports, kfailed, kfl, kok, kbad, khit);
  printf("finished in %.2f s\n", secs);

  if (hit + khit > 0)
    printf("ESCAPED: %ld of %ld successful opens reached the secret (readlink /proc/self/fd/N): %s\n",
           hit + khit, ok + kok, hit_line[0] ? hit_line : kline);
  else if (fl + kfl == 0)
    printf("BLOCKED: %ld opens, none reached the secret, but the flippers never ran (no race "
           "took place); no deadlock (%.2f s)\n", ok + bad + kok + kbad, secs);
  else
    printf("BLOCKED: %ld opens against %ld flips, none reached the secret (%ld got the decoy, "
           "%ld were denied or torn); no deadlock (%.2f s)\n", ok + bad + kok + kbad, fl + kfl,
           ok + kok, bad + kbad, secs);
  return 0;
}
