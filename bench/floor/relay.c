/*
 * The floor of the media-bridge benchmark: a relay that does nothing but move datagrams, so that a
 * run shows what the machine itself allows before any engine does any work (bench/floor-relay.ts).
 * No parsing, no crypto, no checks: a packet received on one socket of a pair is sent from the
 * other socket of the pair to the address that socket last received from (symmetric latching,
 * the least any relay must do). The work per packet is what every user-space relay pays: epoll,
 * recvmmsg(2) in batches, one sendto(2) per packet. Not a product: a measuring stick.
 *
 * Usage: floor-relay THREADS (1..16). Each pair's two sockets live in one thread's epoll set
 * (pairs spread round-robin), so a latched address is read and written by one thread only.
 * Protocol: stdin "pair\n" -> stdout "PORT_A PORT_B\n" (two sockets on 127.0.0.1, ephemeral
 * ports), or "error WHAT\n"; stdin EOF -> exit 0. Bounded: at most MAX_PAIRS pairs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 16
#define MAX_PAIRS 8192
#define BATCH 64
#define BUF 2048
#define EVENTS 64

struct relay_socket {
  int fd;
  uint32_t partner;
  int latched; /* written and read by the owning thread only */
  struct sockaddr_in peer;
};

static struct relay_socket sockets[2 * MAX_PAIRS];
static int epolls[MAX_THREADS];

static void forward(struct relay_socket* s, struct mmsghdr* msgs, struct sockaddr_in* from, int got) {
  struct relay_socket* out = &sockets[s->partner];
  for (int i = 0; i < got; i++) {
    if (!s->latched || s->peer.sin_port != from[i].sin_port || s->peer.sin_addr.s_addr != from[i].sin_addr.s_addr) {
      s->peer = from[i];
      s->latched = 1;
    }
    if (out->latched) sendto(out->fd, msgs[i].msg_hdr.msg_iov->iov_base, msgs[i].msg_len, 0, (struct sockaddr*)&out->peer, sizeof out->peer);
  }
}

static void* worker(void* arg) {
  const int ep = epolls[(intptr_t)arg];
  static __thread unsigned char bufs[BATCH][BUF];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  struct epoll_event events[EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    for (int e = 0; e < n; e++) {
      struct relay_socket* s = &sockets[events[e].data.u32];
      for (;;) {
        for (int i = 0; i < BATCH; i++) {
          iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = BUF};
          msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int got = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0) break;
        forward(s, msgs, from, got);
        if (got < BATCH) break;
      }
    }
  }
}

/* A socket on 127.0.0.1, ephemeral port: its port, or -1. */
static int open_socket(uint32_t index, int* port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr*)&a, sizeof a) || getsockname(fd, (struct sockaddr*)&a, &len)) {
    close(fd);
    return -1;
  }
  sockets[index].fd = fd;
  *port = ntohs(a.sin_port);
  return 0;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 0;
  if (threads < 1 || threads > MAX_THREADS) {
    fprintf(stderr, "usage: floor-relay THREADS (1..%d)\n", MAX_THREADS);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int t = 0; t < threads; t++) {
    pthread_t id;
    epolls[t] = epoll_create1(EPOLL_CLOEXEC);
    if (epolls[t] < 0 || pthread_create(&id, NULL, worker, (void*)(intptr_t)t)) {
      perror("floor-relay");
      return 1;
    }
  }
  char line[64];
  uint32_t pairs = 0;
  while (fgets(line, sizeof line, stdin)) {
    if (strcmp(line, "pair\n") != 0) {
      printf("error unknown command\n");
      continue;
    }
    if (pairs >= MAX_PAIRS) {
      printf("error too many pairs\n");
      continue;
    }
    uint32_t a = 2 * pairs, b = a + 1;
    int pa, pb;
    if (open_socket(a, &pa)) {
      printf("error %s\n", strerror(errno));
      continue;
    }
    if (open_socket(b, &pb)) {
      printf("error %s\n", strerror(errno));
      close(sockets[a].fd);
      continue;
    }
    sockets[a].partner = b;
    sockets[b].partner = a;
    int ep = epolls[pairs % (uint32_t)threads];
    struct epoll_event ea = {.events = EPOLLIN, .data.u32 = a}, eb = {.events = EPOLLIN, .data.u32 = b};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sockets[a].fd, &ea) || epoll_ctl(ep, EPOLL_CTL_ADD, sockets[b].fd, &eb)) {
      printf("error %s\n", strerror(errno));
      close(sockets[a].fd);
      close(sockets[b].fd);
      continue;
    }
    pairs++;
    printf("%d %d\n", pa, pb);
  }
  return 0;
}
