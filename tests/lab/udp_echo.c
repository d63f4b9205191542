/* A UDP echo server for lab containers (Debian's busybox nc has no UDP).
 * Usage: udp_echo PORT [REPLY]. Answers every datagram with REPLY, or echoes
 * it; serves IPv4 and IPv6. Built statically by the lab into its image. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: udp_echo PORT [REPLY]\n");
    return 2;
  }
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  int off = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_port = htons((unsigned short)atoi(argv[1]));
  a.sin6_addr = in6addr_any;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("bind");
    return 1;
  }
  for (;;) {
    char buf[2048];
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) continue;
    if (argc > 2) sendto(fd, argv[2], strlen(argv[2]), 0, (struct sockaddr *)&peer, len);
    else sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
  }
}
