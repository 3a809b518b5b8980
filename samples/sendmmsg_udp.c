/* sendmmsg_udp: sends two datagrams to itself on 127.0.0.1 with one sendmmsg and finishes any
 * partial send the way a correct caller must (sendmmsg may report fewer messages than given).
 * Under tracejail a sendmmsg with destinations is sent as a sendmsg of its pinned first message
 * (docs/security.md), so the first call reports 1. Prints what was sent and received. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(0x7f000001)};
  bind(r, (void *)&a, sizeof a);
  socklen_t l = sizeof a; getsockname(r, (void *)&a, &l);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  char m1[] = "first", m2[] = "second!";
  struct iovec v1 = {m1, 5}, v2 = {m2, 7};
  struct mmsghdr mm[2] = {0};
  mm[0].msg_hdr = (struct msghdr){.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &v1, .msg_iovlen = 1};
  mm[1].msg_hdr = (struct msghdr){.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &v2, .msg_iovlen = 1};
  int n = sendmmsg(s, mm, 2, 0);
  printf("sendmmsg -> %d, msg_len[0]=%u msg_len[1]=%u\n", n, mm[0].msg_len, mm[1].msg_len);
  if (n == 1) { n = sendmmsg(s, mm + 1, 1, 0); printf("second -> %d, msg_len=%u\n", n, mm[1].msg_len); }
  char buf[64]; for (int i = 0; i < 2; i++) { int k = recv(r, buf, 64, MSG_DONTWAIT); printf("got %d %.*s\n", k, k > 0 ? k : 0, buf); }
  return 0;
}
