/*
 * The load generator of the media benchmarks in C (driven by bench/loadgen-native.ts, through
 * bench/media-loadgen.ts), so that the instrument costs less than the engine it measures and its
 * own lag does not count as engine latency.
 *
 * It plays both endpoints of N calls at 20 ms ptime from 64 + 64 UDP sockets on 127.0.0.1. The
 * packets are built by Node beforehand (SRTP protected there: no crypto here) and handed over as
 * files; this program only sends them on schedule and times what comes back:
 *   - the k-th send of each direction is due at start + k * 20 ms / N (A and B interleaved); one
 *     thread wakes (clock_nanosleep) when a send is due but at most every TICK_NS, sends what fell
 *     due, grouped per socket with sendmmsg(2), then reads every socket that has data (recvmmsg),
 *     and sleeps again: it never spins;
 *   - every packet carries its frame number as RTP sequence number and (direction, run, call) in
 *     its SSRC, both in clear (RFC 3550 section 5.1; RFC 3711 section 3.1 leaves them unencrypted);
 *   - latency = the kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME, taken when the
 *     engine's packet enters the loopback receive path) - the CLOCK_REALTIME read just before the
 *     sendmmsg that sent the original, so the time this program takes to read a packet does not
 *     count, only the engine's.
 *
 * Protocol, one line each way (stdout is line-buffered JSON):
 *   at start:   {"aPorts":[...64],"bPorts":[...64]}       (or {"error":...} and exit 1)
 *   stdin:      run RUN N FRAMES FIRST ASIZE BSIZE VERIFY DIR
 *               DIR (the rest of the line, absolute) holds calls.bin (N x 4 little-endian uint16:
 *               aSock, bSock, aDst, bDst), a.bin and b.bin (call i, frame f at (i*FRAMES+f)*SIZE);
 *               with VERIFY=1 the first measured B->A packet of each call is written to
 *               DIR/first.bin, N slots of SLOT octets: uint16 LE length, then the packet.
 *   stdout:     {"sent":...,"received":...,...} or {"error":"..."}
 *   stdin EOF:  exit 0.
 * Priority: nice -10 (BENCH_LOADGEN_NICE=0: unchanged); BENCH_LOADGEN_RT=N: SCHED_FIFO at N.
 * Everything is bounded: N, FRAMES, file sizes; a run ends DRAIN_NS after its last send, and at
 * the latest OVERRUN_NS after its schedule whatever is left unsent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SOCKETS_PER_SIDE 64
#define NSOCK (2 * SOCKETS_PER_SIDE)
#define PTIME_NS 20000000LL
/*
 * Sends are batched: a wake sends what fell due since the last one, wakes at least TICK_NS apart.
 * Shorter is smoother traffic (less queueing in the engine behind a burst), longer is fewer wake-ups
 * of this program and of the engine (which, on loopback, the sender pays for).
 */
#ifndef TICK_NS
#define TICK_NS 250000LL
#endif
/* BENCH_LOADGEN_TICK_US (50..20000) overrides TICK_NS at run time. */
static long long tick_ns = TICK_NS;
#define LEAD_NS 20000000LL
#define DRAIN_NS 300000000LL
#define OVERRUN_NS 10000000000LL
#define SEND_PER_WAKE 1024 /* per direction */
#define RECV_BATCH 64
#define RECV_ROUNDS 8
#define RECV_BUF 2048
#define SLOT 256
#define BUCKET_NS 10000LL /* 10 us */
#define BUCKETS 200000    /* 2 s */
#define MAX_CALLS ((1u << 20) - 1) /* the call index has 20 bits of the SSRC */
#define MAX_FRAMES 65536u          /* the frame number is the 16-bit sequence number */
#define MAX_PACKETS (1ull << 24)   /* per direction: bounds the send-time table (2 x 128 MiB) */
#define MAX_SLAB (1ull << 31)
#define MIN_SIZE 12 /* an RTP fixed header (RFC 3550 section 5.1) */
#define MAX_SIZE 1500

static int socks[NSOCK];
static uint16_t ports[NSOCK];
static int epfd;

struct job {
  uint32_t run, n, frames, first, asize, bsize, verify;
  char dir[PATH_MAX - 64];
};

struct run {
  struct job j;
  const uint8_t *slab[2];
  size_t slab_len[2];
  struct sockaddr_in *dst; /* [d * n + i] */
  uint8_t *sock;           /* [d * n + i]: index into socks */
  int64_t *sent;           /* [(d * n + i) * frames + f]: CLOCK_REALTIME ns, 0 = not sent */
  uint8_t *firstpk;        /* n * SLOT, or NULL */
  uint32_t *hist;
  uint64_t received, sent_measured, send_errors, first_saved, user_stamps, abandoned;
  int64_t max_ns, lag_ns;
};

static int64_t now_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void print_error(const char *what, int err) {
  printf("{\"error\":\"%s%s%s\"}\n", what, err ? ": " : "", err ? strerror(err) : "");
  fflush(stdout);
}

static int open_socket(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int size = 4 << 20, one = 1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) ||
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) || bind(fd, (struct sockaddr *)&sa, sizeof sa) ||
      getsockname(fd, (struct sockaddr *)&sa, &len)) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

/* ------------------------------------------------------------------------------------------- */
/* Receiving                                                                                    */
/* ------------------------------------------------------------------------------------------- */

static struct mmsghdr rmsg[RECV_BATCH];
static struct iovec riov[RECV_BATCH];
static uint8_t rbuf[RECV_BATCH][RECV_BUF];
static union {
  struct cmsghdr align;
  uint8_t b[128];
} rctl[RECV_BATCH];

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void on_packet(struct run *r, const uint8_t *m, uint32_t len, int flags, int64_t at) {
  if (len < 12) return;
  uint32_t ssrc = be32(m + 8);
  uint32_t d = (ssrc >> 28) - 1, call = ssrc & 0xfffff, seq = (uint32_t)m[2] << 8 | m[3];
  /* SSRC: direction (1 = A->B, 2 = B->A) in bits 31-28, run in 27-20, call in 19-0. */
  if (((ssrc >> 20) & 0xff) != r->j.run || d > 1 || call >= r->j.n || seq < r->j.first || seq >= r->j.frames) return;
  int64_t sent = r->sent[((uint64_t)d * r->j.n + call) * r->j.frames + seq];
  if (sent == 0) return; /* never sent in this run (a refused send, or a stale run of the same number) */
  if (d == 1 && r->firstpk) {
    uint8_t *slot = r->firstpk + (size_t)call * SLOT;
    if (slot[0] == 0 && slot[1] == 0 && !(flags & MSG_TRUNC) && len <= SLOT - 2) {
      slot[0] = len & 0xff;
      slot[1] = len >> 8;
      memcpy(slot + 2, m, len);
      r->first_saved++;
    }
  }
  r->received++;
  int64_t ns = at - sent;
  if (ns < 0) ns = 0;
  if (ns > r->max_ns) r->max_ns = ns;
  int64_t b = ns / BUCKET_NS;
  r->hist[b < BUCKETS ? b : BUCKETS - 1]++;
}

/* Reads what is queued on one socket, at most RECV_ROUNDS batches (epoll is level-triggered). r NULL: discard. */
static void receive(struct run *r, int fd, int rounds) {
  for (int round = 0; round < rounds; round++) {
    for (int j = 0; j < RECV_BATCH; j++) {
      riov[j].iov_base = rbuf[j];
      riov[j].iov_len = RECV_BUF;
      memset(&rmsg[j].msg_hdr, 0, sizeof rmsg[j].msg_hdr);
      rmsg[j].msg_hdr.msg_iov = &riov[j];
      rmsg[j].msg_hdr.msg_iovlen = 1;
      rmsg[j].msg_hdr.msg_control = rctl[j].b;
      rmsg[j].msg_hdr.msg_controllen = sizeof rctl[j].b;
    }
    int got = recvmmsg(fd, rmsg, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (got <= 0) return;
    if (r) {
      for (int j = 0; j < got; j++) {
        int64_t at = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&rmsg[j].msg_hdr); c; c = CMSG_NXTHDR(&rmsg[j].msg_hdr, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            at = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
          }
        }
        if (at == 0) {
          at = now_ns(CLOCK_REALTIME);
          r->user_stamps++;
        }
        on_packet(r, rbuf[j], rmsg[j].msg_len, rmsg[j].msg_hdr.msg_flags, at);
      }
    }
    if (got < RECV_BATCH) return;
  }
}

/* ------------------------------------------------------------------------------------------- */
/* Sending                                                                                      */
/* ------------------------------------------------------------------------------------------- */

static struct mmsghdr smsg[2 * SEND_PER_WAKE];
static struct iovec siov[2 * SEND_PER_WAKE];
static uint64_t sidx[2 * SEND_PER_WAKE];

/* Sends k0 <= k < k1 (call k % n, frame k / n, both directions), one sendmmsg per socket. */
static void send_range(struct run *r, uint64_t k0, uint64_t k1) {
  const uint32_t n = r->j.n, frames = r->j.frames;
  const uint32_t size[2] = {r->j.asize, r->j.bsize};
  uint32_t count[NSOCK], start[NSOCK], cursor[NSOCK], order[NSOCK], groups = 0;
  memset(count, 0, sizeof count);
  for (uint64_t k = k0; k < k1; k++) {
    for (int d = 0; d < 2; d++) {
      uint32_t g = r->sock[(uint64_t)d * n + k % n];
      if (count[g]++ == 0) order[groups++] = g;
    }
  }
  for (uint32_t o = 0, at = 0; o < groups; o++) {
    start[order[o]] = cursor[order[o]] = at;
    at += count[order[o]];
  }
  for (uint64_t k = k0; k < k1; k++) {
    uint64_t i = k % n, f = k / n;
    for (int d = 0; d < 2; d++) {
      uint32_t m = cursor[r->sock[d * n + i]]++;
      siov[m].iov_base = (void *)(r->slab[d] + (i * frames + f) * size[d]);
      siov[m].iov_len = size[d];
      memset(&smsg[m].msg_hdr, 0, sizeof smsg[m].msg_hdr);
      smsg[m].msg_hdr.msg_name = &r->dst[d * n + i];
      smsg[m].msg_hdr.msg_namelen = sizeof r->dst[0];
      smsg[m].msg_hdr.msg_iov = &siov[m];
      smsg[m].msg_hdr.msg_iovlen = 1;
      sidx[m] = ((uint64_t)d * n + i) * frames + f;
    }
  }
  for (uint32_t o = 0; o < groups; o++) {
    uint32_t g = order[o], base = start[g], cnt = count[g], done = 0, retries = 0;
    int64_t t = now_ns(CLOCK_REALTIME);
    while (done < cnt) {
      int got = sendmmsg(socks[g], smsg + base + done, cnt - done, 0);
      if (got > 0) {
        for (int j = 0; j < got; j++) {
          uint64_t x = sidx[base + done + j];
          r->sent[x] = t;
          if (x % frames >= r->j.first) r->sent_measured++;
        }
        done += got;
      } else if (errno == EINTR || ((errno == EAGAIN || errno == ENOBUFS) && retries++ < 3)) {
        continue;
      } else {
        r->send_errors++; /* the kernel refused this one: skip it, it is not counted as sent */
        done++;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------- */
/* One run                                                                                      */
/* ------------------------------------------------------------------------------------------- */

/*
 * Reads whatever is queued on every socket, without waiting: the kernel has timed each packet on
 * arrival, so reading once per tick costs no latency, and far fewer wake-ups than reading each
 * arrival as it comes.
 */
static void collect(struct run *r) {
  struct epoll_event ev[NSOCK];
  int got = epoll_wait(epfd, ev, NSOCK, 0);
  for (int e = 0; e < got; e++) receive(r, socks[ev[e].data.u32], RECV_ROUNDS);
}

static void play(struct run *r) {
  const uint64_t total = (uint64_t)r->j.n * r->j.frames;
  const double step = (double)PTIME_NS / r->j.n;
  for (int s = 0; s < NSOCK; s++) receive(NULL, socks[s], 1 << 14); /* late packets of earlier runs */
  const int64_t begin = now_ns(CLOCK_MONOTONIC) + LEAD_NS;
  const int64_t hard_end = begin + (int64_t)(total * step) + DRAIN_NS + OVERRUN_NS;
  int64_t last_send = INT64_MIN / 2, drain_end = 0, lag = 0;
  uint64_t k = 0;
  int behind = 0;
  for (;;) {
    int64_t now = now_ns(CLOCK_MONOTONIC);
    if (k < total) {
      int64_t next_due = begin + (int64_t)(k * step);
      if (now >= next_due && (behind || now >= last_send + tick_ns)) {
        uint64_t due = (uint64_t)((now - begin) / step) + 1;
        if (due > total) due = total;
        if (now - next_due > lag) lag = now - next_due;
        uint64_t until = due < k + SEND_PER_WAKE ? due : k + SEND_PER_WAKE;
        send_range(r, k, until);
        k = until;
        behind = k < due;
        last_send = now;
        now = now_ns(CLOCK_MONOTONIC);
        if (k == total) drain_end = now + DRAIN_NS;
      }
    }
    if (k == total && now >= drain_end) break;
    if (now >= hard_end) {
      r->abandoned = total - k;
      break;
    }
    int64_t wake;
    if (k == total) wake = drain_end < now + tick_ns ? drain_end : now + tick_ns;
    else if (behind) wake = now;
    else {
      int64_t next_due = begin + (int64_t)(k * step);
      wake = next_due > last_send + tick_ns ? next_due : last_send + tick_ns;
    }
    if (wake > hard_end) wake = hard_end;
    collect(r);
    if (wake > now_ns(CLOCK_MONOTONIC)) {
      struct timespec t = {wake / 1000000000LL, wake % 1000000000LL};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    }
  }
  collect(r);
  r->lag_ns = lag;
}

/* ------------------------------------------------------------------------------------------- */
/* Commands                                                                                     */
/* ------------------------------------------------------------------------------------------- */

/* A decimal number <= max followed by one space; advances *p past the space. */
static int parse_u32(char **p, uint32_t max, uint32_t *out) {
  char *s = *p;
  uint64_t v = 0;
  if (*s < '0' || *s > '9') return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > max) return -1;
  }
  if (*s != ' ') return -1;
  *out = (uint32_t)v;
  *p = s + 1;
  return 0;
}

static const char *parse_job(char *line, struct job *j) {
  char *p = line;
  if (strncmp(p, "run ", 4) != 0) return "unknown command";
  p += 4;
  if (parse_u32(&p, 255, &j->run) || parse_u32(&p, MAX_CALLS, &j->n) || parse_u32(&p, MAX_FRAMES, &j->frames) ||
      parse_u32(&p, MAX_FRAMES, &j->first) || parse_u32(&p, MAX_SIZE, &j->asize) || parse_u32(&p, MAX_SIZE, &j->bsize) ||
      parse_u32(&p, 1, &j->verify))
    return "bad run command";
  if (j->n == 0 || j->frames == 0 || j->first >= j->frames || j->asize < MIN_SIZE || j->bsize < MIN_SIZE) return "bad run parameters";
  uint64_t packets = (uint64_t)j->n * j->frames;
  if (packets > MAX_PACKETS || packets * j->asize > MAX_SLAB || packets * j->bsize > MAX_SLAB) return "run too large";
  size_t len = strlen(p);
  if (len > 0 && p[len - 1] == '\n') p[--len] = 0;
  if (p[0] != '/' || len + 16 > sizeof j->dir) return "bad directory";
  memcpy(j->dir, p, len + 1);
  return NULL;
}

static int open_in(const struct job *j, const char *name, size_t want) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", j->dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != want) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  return fd;
}

static const char *load(struct run *r) {
  const struct job *j = &r->j;
  const uint32_t n = j->n;
  const uint64_t packets = (uint64_t)n * j->frames;
  const uint32_t size[2] = {j->asize, j->bsize};
  static const char *const names[2] = {"a.bin", "b.bin"};
  uint8_t *table = malloc((size_t)n * 8);
  r->dst = calloc((size_t)n * 2, sizeof *r->dst);
  r->sock = malloc((size_t)n * 2);
  r->sent = malloc(packets * 2 * sizeof *r->sent);
  r->hist = malloc(BUCKETS * sizeof *r->hist);
  if (j->verify) r->firstpk = malloc((size_t)n * SLOT);
  if (!table || !r->dst || !r->sock || !r->sent || !r->hist || (j->verify && !r->firstpk)) {
    free(table);
    return "out of memory";
  }
  /* Touched now, not on the clock. */
  memset(r->sent, 0, packets * 2 * sizeof *r->sent);
  memset(r->hist, 0, BUCKETS * sizeof *r->hist);
  if (r->firstpk) memset(r->firstpk, 0, (size_t)n * SLOT);
  int fd = open_in(j, "calls.bin", (size_t)n * 8);
  size_t got = 0;
  while (fd >= 0 && got < (size_t)n * 8) {
    ssize_t x = read(fd, table + got, (size_t)n * 8 - got);
    if (x <= 0) break;
    got += (size_t)x;
  }
  if (fd >= 0) close(fd);
  if (got != (size_t)n * 8) {
    free(table);
    return "calls.bin unreadable or of the wrong size";
  }
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *t = table + (size_t)i * 8;
    uint16_t v[4];
    for (int x = 0; x < 4; x++) v[x] = (uint16_t)(t[2 * x] | t[2 * x + 1] << 8);
    if (v[0] >= SOCKETS_PER_SIDE || v[1] >= SOCKETS_PER_SIDE || v[2] == 0 || v[3] == 0) {
      free(table);
      return "calls.bin: bad socket index or port";
    }
    for (int d = 0; d < 2; d++) {
      r->sock[(size_t)d * n + i] = (uint8_t)(d * SOCKETS_PER_SIDE + v[d]);
      struct sockaddr_in *sa = &r->dst[(size_t)d * n + i];
      sa->sin_family = AF_INET;
      sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sa->sin_port = htons(v[2 + d]);
    }
  }
  free(table);
  for (int d = 0; d < 2; d++) {
    r->slab_len[d] = packets * size[d];
    fd = open_in(j, names[d], r->slab_len[d]);
    if (fd < 0) return d ? "b.bin unreadable or of the wrong size" : "a.bin unreadable or of the wrong size";
    void *m = mmap(NULL, r->slab_len[d], PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return "mmap failed";
    r->slab[d] = m;
  }
  return NULL;
}

static void release(struct run *r) {
  for (int d = 0; d < 2; d++)
    if (r->slab[d]) munmap((void *)r->slab[d], r->slab_len[d]);
  free(r->dst);
  free(r->sock);
  free(r->sent);
  free(r->hist);
  free(r->firstpk);
}

static double cpu_ms(long *switches) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  *switches = u.ru_nvcsw + u.ru_nivcsw;
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

/* Same rule as the Node generator: the bucket holding the ceil(received * q)-th packet, its middle. */
static double percentile(const struct run *r, double q) {
  uint64_t target = (uint64_t)(r->received * q), acc = 0;
  if ((double)target < r->received * q) target++;
  for (int i = 0; i < BUCKETS; i++) {
    acc += r->hist[i];
    if (acc >= target) return (i + 0.5) * BUCKET_NS / 1e6;
  }
  return (BUCKETS - 0.5) * BUCKET_NS / 1e6;
}

static const char *save_first(const struct run *r) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/first.bin", r->j.dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "first.bin: cannot create";
  size_t len = (size_t)r->j.n * SLOT, done = 0;
  while (done < len) {
    ssize_t x = write(fd, r->firstpk + done, len - done);
    if (x <= 0) break;
    done += (size_t)x;
  }
  close(fd);
  return done == len ? NULL : "first.bin: write failed";
}

static void run_command(char *line) {
  struct run r;
  memset(&r, 0, sizeof r);
  const char *err = parse_job(line, &r.j);
  if (!err) err = load(&r);
  if (!err) {
    long sw0, sw1;
    double cpu0 = cpu_ms(&sw0);
    play(&r);
    double cpu = cpu_ms(&sw1) - cpu0;
    if (r.firstpk) err = save_first(&r);
    if (!err) {
      printf("{\"sent\":%llu,\"received\":%llu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"sendLagMs\":%.3f,\"cpuMs\":%.1f,"
             "\"sendErrors\":%llu,\"abandoned\":%llu,\"firstSaved\":%llu,\"userStamps\":%llu,\"switches\":%ld}\n",
             (unsigned long long)r.sent_measured, (unsigned long long)r.received, percentile(&r, 0.5), percentile(&r, 0.99),
             r.max_ns / 1e6, r.lag_ns / 1e6, cpu, (unsigned long long)r.send_errors, (unsigned long long)r.abandoned,
             (unsigned long long)r.first_saved, (unsigned long long)r.user_stamps, sw1 - sw0);
      fflush(stdout);
    }
  }
  if (err) print_error(err, 0);
  release(&r);
}

/* The decimal integer in environment variable `name`: 1 with it in *out, 0 when unset, -1 (error printed) when not in lo..hi. */
static int env_long(const char *name, long lo, long hi, long *out) {
  const char *text = getenv(name);
  if (text == NULL) return 0;
  char *end = NULL;
  *out = strtol(text, &end, 10);
  if (end == text || *end != '\0' || *out < lo || *out > hi) {
    printf("{\"error\":\"%s must be %ld..%ld\"}\n", name, lo, hi);
    return -1;
  }
  return 1;
}

int main(void) {
  long us, prio;
  const int tick = env_long("BENCH_LOADGEN_TICK_US", 50, 20000, &us);
  if (tick < 0) return 1;
  if (tick > 0) tick_ns = us * 1000LL;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark that started it */
  /*
   * The instrument before the engine under test: on a machine they share, a generator that falls
   * behind offers less than the nominal load and the level proves nothing. Best effort (needs root
   * or CAP_SYS_NICE); BENCH_LOADGEN_NICE=0 leaves the priority alone.
   */
  const char *nice_env = getenv("BENCH_LOADGEN_NICE");
  if (nice_env == NULL || strcmp(nice_env, "0") != 0) (void)setpriority(PRIO_PROCESS, 0, -10);
  /*
   * BENCH_LOADGEN_RT=N (1..99): SCHED_FIFO at N, for runs whose relays are real-time themselves
   * (media-bridge --rt): below them, at any nice value, this program could not keep its schedule.
   * Not best effort: a generator that is not above the relays would make the run meaningless.
   */
  const int rt = env_long("BENCH_LOADGEN_RT", 1, 99, &prio);
  if (rt < 0) return 1;
  if (rt > 0) {
    const struct sched_param sp = {.sched_priority = (int)prio};
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0) {
      print_error("BENCH_LOADGEN_RT: sched_setscheduler", errno);
      return 1;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    print_error("epoll_create1", errno);
    return 1;
  }
  for (int s = 0; s < NSOCK; s++) {
    socks[s] = open_socket(&ports[s]);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)s};
    if (socks[s] < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, socks[s], &ev)) {
      print_error("socket", errno);
      return 1;
    }
  }
  for (int s = 0; s < NSOCK; s++) printf("%s%u%s", s == 0 ? "{\"aPorts\":[" : s == SOCKETS_PER_SIDE ? "],\"bPorts\":[" : ",", ports[s], s == NSOCK - 1 ? "]}\n" : "");
  fflush(stdout);
  static char line[PATH_MAX + 256];
  while (fgets(line, sizeof line, stdin)) {
    size_t len = strlen(line);
    if (len == 0 || line[len - 1] != '\n') {
      int c;
      while (!feof(stdin) && (c = getchar()) != '\n' && c != EOF) {
      }
      print_error("command line too long or unterminated", 0);
      continue;
    }
    run_command(line);
  }
  return 0;
}
