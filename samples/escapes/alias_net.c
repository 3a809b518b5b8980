/* tracejail-escape
 * id: alias-net
 * class: syscall aliases
 * title: every way to reach a denied address: connect, mapped IPv6, the unspecified address, fast open, sendto/sendmsg/sendmmsg, unix sockets
 * covered: basic
 * needs: listener decoy
 *
 * Technique: a rule checked only on connect() misses the other calls that carry an address:
 * TCP connect on AF_INET and, with the IPv4-mapped address ::ffff:a.b.c.d, on AF_INET6; TCP Fast
 * Open (sendto with MSG_FASTOPEN connects and sends at once); UDP sendto, sendmsg (msg_name),
 * sendmmsg (whose second message goes elsewhere than its first), connect then send, and sendto
 * with an explicit address on a UDP socket connected to an allowed peer (the address wins);
 * and a denied unix socket (TJ_UNIX_LISTEN, TJ_UNIX_DGRAM) by connect, sendto, sendmsg, through a
 * symlink and by a relative name. A rule on 127.0.0.1 also misses the addresses the kernel
 * rewrites to the local host: the unspecified address 0.0.0.0, its IPv6 form ::, the mapped
 * ::ffff:0.0.0.0, and the rest of 127/8 (127.0.0.2 reaches listeners on 0.0.0.0), each tried
 * with TCP connect and UDP sendto on TJ_LISTEN's port.
 * Defence: rules belong to the operation "connect/send to address", so the tracer decodes the
 * sockaddr of every one of these calls, every message of sendmmsg, and maps ::ffff:a.b.c.d to the
 * IPv4 address before matching rules; 0.0.0.0, ::, their mapped forms and 127/8 are decided as the
 * loopback address. Unix socket paths are resolved like file paths (cwd, symlinks) before the
 * network rules for unix sockets are matched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include "escape.h"

static struct sockaddr_in listen4, decoy4;
static struct sockaddr_in6 listen6;  /* ::ffff:<TJ_LISTEN's IPv4 address> */
static const char msg[] = "tracejail alias_net\n";

static void parse(const char *name, struct sockaddr_in *out) {
  const char *v = getenv(name);
  char host[64];
  const char *colon = v ? strrchr(v, ':') : NULL;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  if (colon != NULL && colon - v < (long)sizeof host) {
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = '\0';
    if (inet_pton(AF_INET, host, &out->sin_addr) == 1) {
      out->sin_port = htons((unsigned short)atoi(colon + 1));
      return;
    }
  }
  fprintf(stderr, "alias_net: %s must be IPV4:PORT, is \"%s\"\n", name, v ? v : "(unset)");
  exit(2);
}

/* One line per attempt. `reached` says whether the call got through to TJ_LISTEN. */
static void result(const char *what, int reached, int err, const char *detail) {
  if (reached) {
    ++escaped;
    printf("%s: %s (%s)\n", what, detail, err ? ename(err) : "ok");
    append(escapes, sizeof escapes, what, detail);
  } else {
    printf("%s: failed (%s)\n", what, ename(err));
    append(blocked, sizeof blocked, what, ename(err));
  }
}

/* A TCP connection to addr (or a Fast Open sendto), bounded to one second. */
static void tcp_try(const char *what, int family, const void *addr, socklen_t len, int fastopen) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    result(what, 0, errno, "");
    return;
  }
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  /* bounds a blocking connect too */
  int rc = fastopen ? (int)sendto(fd, msg, sizeof msg - 1, MSG_FASTOPEN, addr, len)
                    : connect(fd, addr, len);
  int err = rc < 0 ? errno : 0;
  if (rc >= 0)
    result(what, 1, 0, fastopen ? "connected and sent" : "connected");
  else if (err == ECONNREFUSED)  /* the policy let it through; nothing listens there */
    result(what, 1, err, "reached the port, refused");
  else
    result(what, 0, err, "");
  close(fd);
}

/* Prints what a UDP send returned; success toward TJ_LISTEN counts as getting through. */
/* A unix stream connect to `addr`, reported as `what`. */
static void unix_try(const char *what, const struct sockaddr_un *addr) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(s, (const struct sockaddr *)addr, sizeof *addr) == 0)
    result(what, 1, 0, "connected");
  else
    result(what, 0, errno, "");
  close(s);
}

static void udp_result(const char *what, ssize_t rc) {
  if (rc >= 0)
    result(what, 1, 0, "sent");
  else
    result(what, 0, errno, "");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  parse("TJ_LISTEN", &listen4);
  parse("TJ_DECOY_ADDR", &decoy4);
  memset(&listen6, 0, sizeof listen6);
  listen6.sin6_family = AF_INET6;
  listen6.sin6_port = listen4.sin_port;
  listen6.sin6_addr.s6_addr[10] = 0xff;
  listen6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&listen6.sin6_addr.s6_addr[12], &listen4.sin_addr, 4);
  const struct sockaddr *l4 = (const struct sockaddr *)&listen4;
  const struct sockaddr *d4 = (const struct sockaddr *)&decoy4;

  /* 1. TCP. */
  tcp_try("TCP connect(AF_INET, TJ_LISTEN)", AF_INET, &listen4, sizeof listen4, 0);
  tcp_try("TCP connect(AF_INET6, ::ffff:<TJ_LISTEN>)", AF_INET6, &listen6, sizeof listen6, 0);
  tcp_try("TCP sendto(MSG_FASTOPEN, TJ_LISTEN)", AF_INET, &listen4, sizeof listen4, 1);

  /* 2. UDP, address on every send. */
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  udp_result("UDP sendto(TJ_LISTEN)", sendto(u, msg, sizeof msg - 1, 0, l4, sizeof listen4));
  struct iovec iov = {(void *)msg, sizeof msg - 1};
  struct msghdr mh = {.msg_name = &listen4, .msg_namelen = sizeof listen4, .msg_iov = &iov,
                      .msg_iovlen = 1};
  udp_result("UDP sendmsg(msg_name = TJ_LISTEN)", sendmsg(u, &mh, 0));
  /* sendmmsg: the first message to the allowed decoy, the second to TJ_LISTEN. */
  struct mmsghdr mm[2];
  memset(mm, 0, sizeof mm);
  mm[0].msg_hdr = mh;
  mm[0].msg_hdr.msg_name = &decoy4;
  mm[1].msg_hdr = mh;
  int n = sendmmsg(u, mm, 2, 0);
  int err = errno;
  if (n == 2)
    result("UDP sendmmsg([TJ_DECOY_ADDR, TJ_LISTEN])", 1, 0, "both sent, the second to TJ_LISTEN");
  else if (n == 1) {
    printf("UDP sendmmsg([TJ_DECOY_ADDR, TJ_LISTEN]): first sent, second not (ok)\n");
    append(blocked, sizeof blocked, "sendmmsg", "second message not sent");
  } else {
    result("UDP sendmmsg([TJ_DECOY_ADDR, TJ_LISTEN])", 0, err, "");
  }
  close(u);
  int u6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  udp_result("UDP sendto(AF_INET6, ::ffff:<TJ_LISTEN>)",
             sendto(u6, msg, sizeof msg - 1, 0, (const struct sockaddr *)&listen6, sizeof listen6));
  close(u6);

  /* 3. UDP, address fixed by connect. */
  u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (connect(u, l4, sizeof listen4) == 0) {
    result("UDP connect(TJ_LISTEN)", 1, 0, "connected");
    udp_result("UDP send() on the socket connected to TJ_LISTEN", send(u, msg, sizeof msg - 1, 0));
  } else {
    result("UDP connect(TJ_LISTEN)", 0, errno, "");
  }
  close(u);
  /* Connected to the allowed decoy; an explicit address on sendto overrides the peer for UDP. */
  u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (connect(u, d4, sizeof decoy4) == 0) {
    printf("UDP connect(TJ_DECOY_ADDR): connected (ok)\n");
    udp_result("UDP sendto(TJ_LISTEN) on a socket connected to the decoy",
               sendto(u, msg, sizeof msg - 1, 0, l4, sizeof listen4));
  } else {
    printf("UDP connect(TJ_DECOY_ADDR): failed (%s)\n", ename(errno));
    append(blocked, sizeof blocked, "UDP connect(TJ_DECOY_ADDR)", ename(errno));
  }
  close(u);

  /* 4. Addresses the kernel rewrites to the local host, on TJ_LISTEN's port. */
  static const struct {
    const char *name;
    int family;
    const char *addr;
  } local[] = {{"0.0.0.0", AF_INET, "0.0.0.0"},
               {"127.0.0.2", AF_INET, "127.0.0.2"},
               {"[::]", AF_INET6, "::"},
               {"[::ffff:0.0.0.0]", AF_INET6, "::ffff:0.0.0.0"}};
  for (size_t i = 0; i < sizeof local / sizeof local[0]; ++i) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = sizeof(struct sockaddr_in);
    if (local[i].family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      a->sin_family = AF_INET;
      a->sin_port = listen4.sin_port;
      inet_pton(AF_INET, local[i].addr, &a->sin_addr);
    } else {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      a->sin6_family = AF_INET6;
      a->sin6_port = listen4.sin_port;
      inet_pton(AF_INET6, local[i].addr, &a->sin6_addr);
      len = sizeof(struct sockaddr_in6);
    }
    char what[96];
    snprintf(what, sizeof what, "TCP connect(%s:<TJ_LISTEN's port>)", local[i].name);
    tcp_try(what, local[i].family, &ss, len, 0);
    snprintf(what, sizeof what, "UDP sendto(%s:<TJ_LISTEN's port>)", local[i].name);
    u = socket(local[i].family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    udp_result(what, sendto(u, msg, sizeof msg - 1, 0, (const struct sockaddr *)&ss, len));
    close(u);
  }

  /* 5. Unix sockets: a denied socket path reached by connect, by sendto on a datagram socket,
   * by sendmsg, through a symlink in scratch, and by a relative name after chdir. */
  const char *ustream = getenv("TJ_UNIX_LISTEN"), *udgram = getenv("TJ_UNIX_DGRAM");
  const char *scratch = getenv("TJ_SCRATCH");
  if (ustream && udgram && scratch) {
    struct sockaddr_un us = {.sun_family = AF_UNIX}, ud = {.sun_family = AF_UNIX};
    snprintf(us.sun_path, sizeof us.sun_path, "%s", ustream);
    snprintf(ud.sun_path, sizeof ud.sun_path, "%s", udgram);
    unix_try("unix connect(TJ_UNIX_LISTEN)", &us);
    struct sockaddr_un link = {.sun_family = AF_UNIX};
    snprintf(link.sun_path, sizeof link.sun_path, "%s/tj-unix-link", scratch);
    unlink(link.sun_path);
    if (symlink(ustream, link.sun_path) == 0) {
      unix_try("unix connect(scratch symlink -> TJ_UNIX_LISTEN)", &link);
      unlink(link.sun_path);
    }
    char dir[108];
    snprintf(dir, sizeof dir, "%s", ustream);
    char *slash = strrchr(dir, '/');
    if (slash && chdir((*slash = 0, dir)) == 0) {
      struct sockaddr_un rel = {.sun_family = AF_UNIX};
      snprintf(rel.sun_path, sizeof rel.sun_path, "%s", slash + 1);
      unix_try("unix connect(relative name after chdir)", &rel);
    }
    int d = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    udp_result("unix sendto(TJ_UNIX_DGRAM)",
               sendto(d, msg, sizeof msg - 1, 0, (struct sockaddr *)&ud, sizeof ud));
    struct msghdr um = {.msg_name = &ud, .msg_namelen = sizeof ud, .msg_iov = &iov,
                        .msg_iovlen = 1};
    udp_result("unix sendmsg(msg_name = TJ_UNIX_DGRAM)", sendmsg(d, &um, 0));
    close(d);
  } else {
    printf("unix sockets: skipped (TJ_UNIX_LISTEN, TJ_UNIX_DGRAM or TJ_SCRATCH unset)\n");
  }

  if (escaped)
    printf("ESCAPED: %s\n", escapes);
  else
    printf("BLOCKED: %s\n", blocked);
  return 0;
}
