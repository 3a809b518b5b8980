/* connect_tcp HOST PORT [udp]: connects (TCP) or sends one datagram (UDP) and reports
 * "CONNECTED" / "SENT" or "FAILED <errno name>". Exit 0 on success, 1 on failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: connect_tcp HOST PORT [udp]\n"); return 2; }
  int udp = argc > 3 && strcmp(argv[3], "udp") == 0;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
  int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0) { printf("FAILED socket %s\n", strerrorname_np(errno)); return 1; }
  if (udp) {
    if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof sin) != 1) {
      printf("FAILED %s\n", strerrorname_np(errno));
      return 1;
    }
    printf("SENT\n");
    return 0;
  }
  if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
    printf("FAILED %s\n", strerrorname_np(errno));
    return 1;
  }
  printf("CONNECTED\n");
  close(fd);
  return 0;
}
