/*
 * The relay threads' UDP I/O (../index.ts). One UdpIo per relay thread owns that thread's media
 * sockets in one epoll set, which libuv watches as a single descriptor (uv_poll on the epoll fd).
 * When any socket is readable, each ready socket is read with recvmmsg(2) into a batch of slots
 * (data + meta arrays the JavaScript side owns and reads) and JavaScript is called once per batch,
 * not once per datagram: no libuv read callback, Buffer or RemoteInfo per packet, and one system
 * call per ready socket instead of libuv's read-until-EAGAIN pair. Sends are one sendto(2) each,
 * to the destination last set for the socket (setTarget), synchronously: the caller's buffer may be
 * reused as soon as send returns.
 *
 * Queue delay: every socket asks the kernel for receive timestamps (SO_TIMESTAMPNS); each datagram's
 * time between entering its socket's receive queue and being read here is counted in a histogram
 * per UdpIo (queueDelay): the latency the relay adds by not reading sooner, which is where a busy
 * or preempted relay thread's delay goes (docs/BENCHMARKS.md, session 8). One clock read per recvmmsg.
 *
 * Nothing here interprets a packet. Every argument is checked; a bad one throws TypeError. Bind
 * failures throw an Error whose code is libuv's name of the errno (EADDRINUSE, ...), as dgram does;
 * send failures are returned as an errno, never thrown (the relay counts them).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "fastpath.h"
#include "sched.h"

/* One slot holds one datagram; larger ones are reported truncated (length -1). */
#define SLOT_OCTETS 2048
/* Per slot in meta: socket id, length, source port, family (4|6), source address (4 words), flags. */
#define META_INTS 9
/* meta flags: the fast path already took this datagram's token (fastpath.c). */
#define META_CHARGED 1
#define MAX_SLOTS 256
#define MAX_EVENTS 128
/* Queue-delay histogram: upper bounds in microseconds; one more bucket counts everything above. */
static const double DELAY_BOUNDS_US[] = { 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000 };
#define DELAY_BOUNDS (sizeof DELAY_BOUNDS_US / sizeof DELAY_BOUNDS_US[0])
/* queueDelay(out): the counts of each bucket (DELAY_BOUNDS + 1), then the sum of all delays (µs). */
#define DELAY_VALUES (DELAY_BOUNDS + 2)
#define CONTROL_OCTETS CMSG_SPACE(sizeof(struct timespec))

typedef fp_sock Sock;

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int ep;
  Sock *socks;
  uint32_t cap;
  uint32_t *free_ids;
  uint32_t nfree;
  uint32_t open_count;
  uint8_t *data;
  int32_t *meta;
  uint32_t slots;
  napi_ref data_ref, meta_ref, callback_ref, resource_ref;
  napi_async_context async;
  struct mmsghdr msgs[MAX_SLOTS];
  struct iovec iov[MAX_SLOTS];
  struct sockaddr_storage addrs[MAX_SLOTS];
  /* Ancillary data of each slot: the kernel's receive timestamp. */
  union {
    char buf[CONTROL_OCTETS];
    struct cmsghdr align;
  } control[MAX_SLOTS];
  /* Cumulative since construction: DELAY_BOUNDS + 1 bucket counts, then the sum in µs. */
  double delay[DELAY_VALUES];
  /* Counts the batches handed to JavaScript: the one being filled is pending (fastpath.c keeps a rule's order in it). */
  uint32_t batch;
  int destroyed;
  /* The JavaScript wrapper and the libuv handle each hold the struct; freed when both let go. */
  int holds;
} Io;

static void release(Io *io) {
  if (--io->holds > 0) return;
  free(io->socks);
  free(io->free_ids);
  free(io);
}

static void on_poll_closed(uv_handle_t *h) {
  release((Io *)h->data);
}

/* Closes every socket and the epoll set and lets go of JavaScript values. Idempotent. */
static void destroy(Io *io) {
  if (io->destroyed) return;
  io->destroyed = 1;
  napi_env env = io->env;
  for (uint32_t i = 0; i < io->cap; i++) {
    if (io->socks[i].rule != NULL) fp_free(env, io->socks, io->cap, io->socks[i].rule);
    if (io->socks[i].fd >= 0) close(io->socks[i].fd);
    io->socks[i].fd = -1;
  }
  io->open_count = 0;
  uv_poll_stop(&io->poll);
  uv_close((uv_handle_t *)&io->poll, on_poll_closed);
  close(io->ep);
  napi_delete_reference(env, io->data_ref);
  napi_delete_reference(env, io->meta_ref);
  napi_delete_reference(env, io->callback_ref);
  napi_delete_reference(env, io->resource_ref);
  napi_async_destroy(env, io->async);
}

static void on_env_cleanup(void *arg) {
  destroy((Io *)arg);
}

static void finalize(napi_env env, void *data, void *hint) {
  Io *io = data;
  if (!io->destroyed) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, io);
    destroy(io);
  }
  release(io);
}

/* Calls JavaScript with the number of filled slots; an exception it throws is the process's. */
static void deliver(Io *io, uint32_t count) {
  napi_env env = io->env;
  io->batch++; /* what the fast path reads next belongs to the next batch */
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, resource, argv[1], result;
  if (napi_get_reference_value(env, io->callback_ref, &cb) == napi_ok &&
      napi_get_reference_value(env, io->resource_ref, &resource) == napi_ok &&
      napi_create_uint32(env, count, &argv[0]) == napi_ok &&
      napi_make_callback(env, io->async, resource, cb, 1, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static void fill_meta(Io *io, uint32_t slot, uint32_t id) {
  int32_t *m = io->meta + slot * META_INTS;
  struct msghdr *h = &io->msgs[slot].msg_hdr;
  m[0] = (int32_t)id;
  m[1] = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)io->msgs[slot].msg_len;
  m[8] = 0;
  const struct sockaddr_storage *a = &io->addrs[slot];
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
    m[2] = ntohs(s4->sin_port);
    m[3] = 4;
    m[4] = (int32_t)ntohl(s4->sin_addr.s_addr);
  } else {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
    m[2] = ntohs(s6->sin6_port);
    m[3] = 6;
    memcpy(&m[4], &s6->sin6_addr, 16);
  }
}

/* Counts how long the datagram in `slot` waited in its socket: `now` minus the kernel's timestamp. */
static void count_delay(Io *io, uint32_t slot, const struct timespec *now) {
  struct msghdr *h = &io->msgs[slot].msg_hdr;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    struct timespec at;
    memcpy(&at, CMSG_DATA(c), sizeof at);
    double us = (double)(now->tv_sec - at.tv_sec) * 1e6 + (double)(now->tv_nsec - at.tv_nsec) / 1e3;
    if (us < 0) us = 0; /* the wall clock stepped back */
    size_t b = 0;
    while (b < DELAY_BOUNDS && us > DELAY_BOUNDS_US[b]) b++;
    io->delay[b] += 1;
    io->delay[DELAY_BOUNDS + 1] += us;
    return;
  }
}

/* Moves a filled slot down to `to` (a slot the fast path emptied): its datagram, source and meta. */
static void move_slot(Io *io, uint32_t from, uint32_t to) {
  int32_t length = io->meta[from * META_INTS + 1];
  if (length > 0) memcpy(io->data + (size_t)to * SLOT_OCTETS, io->data + (size_t)from * SLOT_OCTETS, (size_t)length);
  io->addrs[to] = io->addrs[from];
  memcpy(io->meta + to * META_INTS, io->meta + from * META_INTS, META_INTS * sizeof(int32_t));
}

static double monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  Io *io = handle->data;
  if (io->destroyed || status < 0) return;
  struct epoll_event evs[MAX_EVENTS];
  int n = epoll_wait(io->ep, evs, MAX_EVENTS, 0);
  uint32_t filled = 0;
  for (int e = 0; e < n && !io->destroyed; e++) {
    uint32_t id = evs[e].data.u32;
    for (;;) {
      /* JavaScript may have closed (or reopened) this id during a delivery. */
      if (id >= io->cap || io->socks[id].fd < 0) break;
      uint32_t room = io->slots - filled;
      int got = recvmmsg(io->socks[id].fd, &io->msgs[filled], room, MSG_DONTWAIT, NULL);
      if (got < 0 && errno == EINTR) continue;
      /* EAGAIN: drained. Unconnected UDP sockets get no ICMP errors (no IP_RECVERR), so another
         error is rare; the socket's next datagram is a new edge that brings its reader back. */
      if (got <= 0) break;
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now); /* the clock of SO_TIMESTAMPNS */
      const bool fast = io->socks[id].rule != NULL;
      const double now_ms = fast ? monotonic_ms() : 0;
      uint32_t kept = filled;
      for (int k = 0; k < got; k++) {
        uint32_t slot = filled + (uint32_t)k;
        fill_meta(io, slot, id);
        count_delay(io, slot, &now);
        io->msgs[slot].msg_hdr.msg_controllen = CONTROL_OCTETS;
        /* The kernel shortened it to the source's length (and writes msg_flags itself): restored
           only for the slots it filled, not for the whole batch before every read. */
        io->msgs[slot].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        if (fast) {
          int32_t length = io->meta[slot * META_INTS + 1];
          if (length >= 0) {
            fp_verdict v = fp_receive(io->socks, id, io->data + (size_t)slot * SLOT_OCTETS, (size_t)length, SLOT_OCTETS, &io->addrs[slot], now_ms, io->batch);
            if (v == FP_DONE) continue;
            io->meta[slot * META_INTS + 8] = META_CHARGED;
          }
        }
        if (kept != slot) move_slot(io, slot, kept);
        kept++;
      }
      filled = kept;
      if ((uint32_t)got < room) break; /* fewer than asked for: this socket is drained */
      if (filled == io->slots) {
        deliver(io, filled);
        filled = 0;
        if (io->destroyed) return;
      }
    }
  }
  if (filled > 0 && !io->destroyed) deliver(io, filled);
}

/* ---------------------------------------------------------------------------------------------- */
/* Argument helpers                                                                                 */

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static Io *this_io(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not a UdpIo");
    return NULL;
  }
  Io *io = data;
  if (io->destroyed) {
    napi_throw_error(env, "ERR_DESTROYED", "UdpIo is destroyed");
    return NULL;
  }
  return io;
}

static int uint_arg(napi_env env, napi_value v, uint32_t max, uint32_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= max) || d != (double)(uint32_t)d) return 0;
  *out = (uint32_t)d;
  return 1;
}

/* `v` as a typed array of `type`: its data and element count; 0 for anything else (napi_invalid_arg
   for a non-typed-array, so no separate napi_is_typedarray: this runs per packet in send). */
static int typed_arg(napi_env env, napi_value v, napi_typedarray_type type, size_t *n, void **p) {
  napi_typedarray_type t;
  return napi_get_typedarray_info(env, v, &t, n, p, NULL, NULL) == napi_ok && t == type;
}

static int sock_arg(napi_env env, Io *io, napi_value v, uint32_t *id) {
  if (!uint_arg(env, v, UINT32_MAX, id) || *id >= io->cap || io->socks[*id].fd < 0) {
    napi_throw_type_error(env, NULL, "not an open socket id");
    return 0;
  }
  return 1;
}

/* The start of the methods on a socket id: this UdpIo, `want` arguments, argv[0] an open socket id. NULL after throwing. */
static Io *sock_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv, uint32_t *id) {
  size_t argc = want;
  Io *io = this_io(env, info, &argc, argv);
  if (io == NULL) return NULL;
  if (argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return NULL;
  }
  return sock_arg(env, io, argv[0], id) ? io : NULL;
}

/* `address` (an IP literal of `family`) and `port` as a sockaddr; 0 if the literal does not parse. */
static int to_sockaddr(int family, const char *address, uint32_t port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == 6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    *len = sizeof *s6;
    return inet_pton(AF_INET6, address, &s6->sin6_addr) == 1;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons((uint16_t)port);
  *len = sizeof *s4;
  return inet_pton(AF_INET, address, &s4->sin_addr) == 1;
}

static int string_arg(napi_env env, napi_value v, char *buf, size_t size) {
  napi_valuetype t;
  size_t n;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string || napi_get_value_string_utf8(env, v, buf, size, &n) != napi_ok || n + 1 >= size) return 0;
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

/* ---------------------------------------------------------------------------------------------- */
/* Methods                                                                                          */

/* new UdpIo(data: Uint8Array, meta: Int32Array, onBatch: (count) => void) */
static napi_value Construct(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok || argc < 3) return type_error(env, "UdpIo(data, meta, onBatch)");
  size_t dn, mn;
  void *dp, *mp;
  napi_valuetype ft;
  if (!typed_arg(env, argv[0], napi_uint8_array, &dn, &dp)) return type_error(env, "data must be a Uint8Array");
  if (!typed_arg(env, argv[1], napi_int32_array, &mn, &mp)) return type_error(env, "meta must be an Int32Array");
  uint32_t slots = (uint32_t)(mn / META_INTS);
  if (slots == 0 || slots > MAX_SLOTS || mn != (size_t)slots * META_INTS || dn != (size_t)slots * SLOT_OCTETS)
    return type_error(env, "meta must hold 1..256 slots of 9 and data as many slots of 2048 octets");
  if (napi_typeof(env, argv[2], &ft) != napi_ok || ft != napi_function) return type_error(env, "onBatch must be a function");

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return type_error(env, "no event loop");
  Io *io = calloc(1, sizeof *io);
  if (io == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  io->env = env;
  io->ep = epoll_create1(EPOLL_CLOEXEC);
  if (io->ep < 0 || uv_poll_init(loop, &io->poll, io->ep) != 0) {
    int err = errno;
    if (io->ep >= 0) close(io->ep);
    free(io);
    napi_throw_error(env, uv_err_name(-err), "cannot create the epoll set");
    return NULL;
  }
  io->poll.data = io;
  io->holds = 2;
  io->data = dp;
  io->meta = mp;
  io->slots = slots;
  for (uint32_t k = 0; k < MAX_SLOTS; k++) {
    io->iov[k].iov_base = k < slots ? io->data + (size_t)k * SLOT_OCTETS : NULL;
    io->iov[k].iov_len = k < slots ? SLOT_OCTETS : 0;
    io->msgs[k].msg_hdr.msg_iov = &io->iov[k];
    io->msgs[k].msg_hdr.msg_iovlen = 1;
    io->msgs[k].msg_hdr.msg_name = &io->addrs[k];
    io->msgs[k].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    io->msgs[k].msg_hdr.msg_control = io->control[k].buf;
    io->msgs[k].msg_hdr.msg_controllen = CONTROL_OCTETS;
  }
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "ciphergate.UdpIo", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[0], 1, &io->data_ref);
  napi_create_reference(env, argv[1], 1, &io->meta_ref);
  napi_create_reference(env, argv[2], 1, &io->callback_ref);
  napi_create_reference(env, resource, 1, &io->resource_ref);
  napi_async_init(env, resource, name, &io->async);
  uv_poll_start(&io->poll, UV_READABLE, on_readable);
  uv_unref((uv_handle_t *)&io->poll); /* referenced while a socket is open, as a bound dgram socket is */
  napi_add_env_cleanup_hook(env, on_env_cleanup, io);
  if (napi_wrap(env, self, io, finalize, NULL, NULL) != napi_ok) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, io);
    destroy(io);
    release(io);
    return type_error(env, "cannot wrap");
  }
  return self;
}

static int grow(Io *io) {
  uint32_t cap = io->cap == 0 ? 64 : io->cap * 2;
  Sock *socks = realloc(io->socks, cap * sizeof *socks);
  if (socks == NULL) return 0;
  io->socks = socks;
  uint32_t *ids = realloc(io->free_ids, cap * sizeof *ids);
  if (ids == NULL) return 0;
  io->free_ids = ids;
  for (uint32_t i = cap; i > io->cap; i--) {
    socks[i - 1].fd = -1;
    socks[i - 1].gen = 0;
    socks[i - 1].rule = NULL;
    ids[io->nfree++] = i - 1;
  }
  io->cap = cap;
  return 1;
}

/* open(family: 4 | 6, address: string, port: number): id. Binds exclusively (no SO_REUSEADDR). */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  Io *io = this_io(env, info, &argc, argv);
  if (io == NULL) return NULL;
  uint32_t family, port;
  char address[64];
  if (argc < 3 || !uint_arg(env, argv[0], 6, &family) || (family != 4 && family != 6)) return type_error(env, "family must be 4 or 6");
  if (!string_arg(env, argv[1], address, sizeof address)) return type_error(env, "address must be an IP literal");
  if (!uint_arg(env, argv[2], 65535, &port)) return type_error(env, "port must be 0..65535");
  struct sockaddr_storage ss;
  socklen_t len;
  if (!to_sockaddr((int)family, address, port, &ss, &len)) return type_error(env, "address must be an IP literal of the family");
  if (io->nfree == 0 && !grow(io)) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    napi_throw_error(env, uv_err_name(-errno), "socket");
    return NULL;
  }
  uint32_t id = io->free_ids[io->nfree - 1];
  /* Edge-triggered: on_readable reads a socket until recvmmsg returns fewer than it asked for, so
     nothing is left behind, and a drained socket is not polled again on the next epoll_wait (level
     triggering re-polls every socket it reported once more, to find it empty). */
  struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = id };
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || epoll_ctl(io->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    close(fd);
    char msg[96];
    snprintf(msg, sizeof msg, "bind %s:%u: %s", address, port, strerror(err));
    napi_throw_error(env, uv_err_name(-err), msg);
    return NULL;
  }
  io->nfree--;
  io->socks[id].fd = fd;
  io->socks[id].gen++;
  io->socks[id].rule = NULL;
  io->socks[id].family = (int)family;
  io->socks[id].target_len = 0;
  /* Receive timestamps for the queue-delay histogram; without them (never seen) it counts nothing. */
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (io->open_count++ == 0) uv_ref((uv_handle_t *)&io->poll);
  return int_value(env, (int32_t)id);
}

/* close(id): closes the socket; its id may be handed out again by open. */
static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint32_t id;
  Io *io = sock_call(env, info, 1, argv, &id);
  if (io == NULL) return NULL;
  if (io->socks[id].rule != NULL) fp_free(env, io->socks, io->cap, io->socks[id].rule);
  close(io->socks[id].fd); /* leaves the epoll set with its last descriptor */
  io->socks[id].fd = -1;
  io->free_ids[io->nfree++] = id;
  if (--io->open_count == 0) uv_unref((uv_handle_t *)&io->poll);
  return undefined(env);
}

/* setTarget(id, port, address): where send(id, ...) goes from now on. Throws on a bad literal. */
static napi_value SetTarget(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint32_t id, port;
  char address[64];
  Io *io = sock_call(env, info, 3, argv, &id);
  if (io == NULL) return NULL;
  if (!uint_arg(env, argv[1], 65535, &port)) return type_error(env, "port must be 0..65535");
  if (!string_arg(env, argv[2], address, sizeof address)) return type_error(env, "address must be an IP literal");
  Sock *s = &io->socks[id];
  if (!to_sockaddr(s->family, address, port, &s->target, &s->target_len)) {
    s->target_len = 0;
    return type_error(env, "address must be an IP literal of the socket's family");
  }
  return undefined(env);
}

/* send(id, packet: Uint8Array): 0, or the errno of sendto(2) (EDESTADDRREQ before any setTarget). */
static napi_value Send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t id;
  Io *io = sock_call(env, info, 2, argv, &id);
  if (io == NULL) return NULL;
  size_t n;
  void *p;
  if (!typed_arg(env, argv[1], napi_uint8_array, &n, &p)) return type_error(env, "packet must be a Uint8Array");
  Sock *s = &io->socks[id];
  if (s->target_len == 0) return int_value(env, EDESTADDRREQ);
  ssize_t sent = sendto(s->fd, p, n, MSG_DONTWAIT, (struct sockaddr *)&s->target, s->target_len);
  return int_value(env, sent < 0 ? errno : 0);
}

/* addressOf(slot): the source address of a filled slot as text (for IPv6; IPv4 is read from meta). */
static napi_value AddressOf(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Io *io = this_io(env, info, &argc, argv);
  uint32_t slot;
  if (io == NULL) return NULL;
  if (argc < 1 || !uint_arg(env, argv[0], io->slots - 1, &slot)) return type_error(env, "not a slot");
  char text[INET6_ADDRSTRLEN];
  const struct sockaddr_storage *a = &io->addrs[slot];
  const void *src = a->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr : (const void *)&((const struct sockaddr_in *)a)->sin_addr;
  if (inet_ntop(a->ss_family == AF_INET6 ? AF_INET6 : AF_INET, src, text, sizeof text) == NULL) text[0] = 0;
  napi_value out;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out);
  return out;
}

/* queueDelay(out: Float64Array of DELAY_VALUES): copies the queue-delay histogram into `out`. */
static napi_value QueueDelay(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Io *io = this_io(env, info, &argc, argv);
  if (io == NULL) return NULL;
  size_t n;
  void *p;
  if (argc < 1 || !typed_arg(env, argv[0], napi_float64_array, &n, &p) || n != DELAY_VALUES)
    return type_error(env, "out must be a Float64Array of DELAY_BOUNDS_US.length + 2");
  memcpy(p, io->delay, sizeof io->delay);
  return undefined(env);
}

/* ---------------------------------------------------------------------------------------------- */
/* The fast path's rules (fastpath.c, media/relay/fast.ts)                                        */

/* A rule's state argument: a Float64Array of FP_STATE_LENGTH. 0 after throwing. */
static int state_arg(napi_env env, napi_value v, double **out) {
  size_t n;
  void *p;
  if (!typed_arg(env, v, napi_float64_array, &n, &p) || n != FP_STATE_LENGTH) {
    napi_throw_type_error(env, NULL, "state must be a Float64Array of FAST_STATE_LENGTH");
    return 0;
  }
  *out = p;
  return 1;
}

/* A session argument: null (a plain RTP side) or a live session of this module. 0 after throwing. */
static int session_arg(napi_env env, napi_value v, cg_session_head **out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null) {
    *out = NULL;
    return 1;
  }
  *out = t == napi_object ? cg_session_of(env, v) : NULL;
  if (*out == NULL) napi_throw_type_error(env, NULL, "session must be null or a live SRTP session of this addon");
  return *out != NULL;
}

/* The tag and window of one SRTP side, as the state gives them; 0 when they do not fit the session. */
static int side_fits(const cg_session_head *s, double tag, double size) {
  if (s == NULL) return 1;
  const int tag_ok = s->kind == CG_GCM ? tag == CG_GCM_TAG : (tag >= 1 && tag <= 20 && tag == (double)(int)tag);
  return tag_ok && size >= 64 && size <= 32 * FP_WINDOW_WORDS && size == (double)(int)size && ((int)size % 32) == 0;
}

/*
 * fastPlace(rtpId, rtcpId, txId, source, sourcePort, dest, destPort, state, payloadMap, inSession, outSession):
 * from now on datagrams on rtpId from source:sourcePort go through the fast path (fastpath.c) and are
 * sent from txId to dest:destPort; rtcpId's only have their token taken. `state`: Float64Array of
 * FAST_STATE_LENGTH (FAST_FIELDS, then the windows); `payloadMap`: 128 octets, ≥ 128 = not negotiated.
 * Replaces a rule already on rtpId or rtcpId.
 */
static napi_value FastPlace(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  uint32_t rtp_id, rtcp_id, tx_id, source_port, dest_port;
  Io *io = sock_call(env, info, 11, argv, &rtp_id);
  if (io == NULL) return NULL;
  if (!sock_arg(env, io, argv[1], &rtcp_id) || !sock_arg(env, io, argv[2], &tx_id)) return NULL;
  char source[64], dest[64];
  if (!string_arg(env, argv[3], source, sizeof source) || !string_arg(env, argv[5], dest, sizeof dest)) return type_error(env, "addresses must be IP literals");
  if (!uint_arg(env, argv[4], 65535, &source_port) || !uint_arg(env, argv[6], 65535, &dest_port)) return type_error(env, "port must be 0..65535");
  size_t n;
  void *pmap;
  double *st;
  if (!state_arg(env, argv[7], &st)) return NULL;
  if (!typed_arg(env, argv[8], napi_uint8_array, &n, &pmap) || n != 128) return type_error(env, "payloadMap must be a Uint8Array of 128");
  cg_session_head *in, *out;
  if (!session_arg(env, argv[9], &in) || !session_arg(env, argv[10], &out)) return NULL;
  if (!side_fits(in, st[FP_IN_TAG], st[FP_IN_SIZE]) || !side_fits(out, st[FP_OUT_TAG], st[FP_OUT_SIZE])) return type_error(env, "tag or window does not fit the session");
  struct sockaddr_storage src, dst;
  socklen_t src_len, dst_len;
  if (!to_sockaddr(io->socks[rtp_id].family, source, source_port, &src, &src_len) || !to_sockaddr(io->socks[tx_id].family, dest, dest_port, &dst, &dst_len))
    return type_error(env, "address must be an IP literal of the socket's family");
  fp_rule *r = fp_load(st, monotonic_ms());
  if (r == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if ((in != NULL && napi_create_reference(env, argv[9], 1, &r->in_ref) != napi_ok) || (out != NULL && napi_create_reference(env, argv[10], 1, &r->out_ref) != napi_ok)) {
    fp_free(env, io->socks, io->cap, r);
    napi_throw_error(env, NULL, "cannot hold the sessions");
    return NULL;
  }
  r->in = in;
  r->out = out;
  if (in == NULL) r->in_tag = 0;
  if (out == NULL) r->out_tag = 0;
  memcpy(&r->source, &src, src_len);
  memcpy(&r->dest, &dst, dst_len);
  r->dest_len = dst_len;
  memcpy(r->pmap, pmap, 128);
  r->rtp_id = rtp_id;
  r->rtcp_id = rtcp_id;
  r->tx_id = tx_id;
  r->tx_gen = io->socks[tx_id].gen;
  if (io->socks[rtp_id].rule != NULL) fp_free(env, io->socks, io->cap, io->socks[rtp_id].rule);
  if (io->socks[rtcp_id].rule != NULL) fp_free(env, io->socks, io->cap, io->socks[rtcp_id].rule);
  io->socks[rtp_id].rule = r;
  io->socks[rtcp_id].rule = r;
  return undefined(env);
}

/*
 * fastTake(rtpId, state, remove): false when rtpId has no rule; else writes the rule's state into
 * `state` (its deltas since the last take, then zeroed) and, when `remove`, takes the rule away.
 */
static napi_value FastTake(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint32_t id;
  Io *io = sock_call(env, info, 3, argv, &id);
  if (io == NULL) return NULL;
  double *state;
  bool remove;
  if (!state_arg(env, argv[1], &state)) return NULL;
  if (napi_get_value_bool(env, argv[2], &remove) != napi_ok) return type_error(env, "remove must be a boolean");
  fp_rule *r = io->socks[id].rule;
  napi_value result;
  if (r == NULL || r->rtp_id != id) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  fp_save(r, state, monotonic_ms());
  if (remove) fp_free(env, io->socks, io->cap, r);
  napi_get_boolean(env, true, &result);
  return result;
}

/* destroy(): closes every socket; later calls of any method throw. */
static napi_value Destroy(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok || data == NULL) return type_error(env, "not a UdpIo");
  Io *io = data;
  if (!io->destroyed) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, io);
    destroy(io);
  }
  return undefined(env);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
    { "open", NULL, Open, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, Close, NULL, NULL, NULL, napi_default, NULL },
    { "setTarget", NULL, SetTarget, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, Send, NULL, NULL, NULL, napi_default, NULL },
    { "addressOf", NULL, AddressOf, NULL, NULL, NULL, napi_default, NULL },
    { "queueDelay", NULL, QueueDelay, NULL, NULL, NULL, napi_default, NULL },
    { "destroy", NULL, Destroy, NULL, NULL, NULL, napi_default, NULL },
    { "fastPlace", NULL, FastPlace, NULL, NULL, NULL, napi_default, NULL },
    { "fastTake", NULL, FastTake, NULL, NULL, NULL, napi_default, NULL },
  };
  /* The SRTP sessions, from the same module, so that a rule can use the relay's own (fastpath.c). */
  if (!cg_srtp_init(env, exports)) return NULL;
  if (!cg_sched_init(env, exports)) return NULL;
  napi_value cls, slot_octets, meta_ints;
  if (napi_define_class(env, "UdpIo", NAPI_AUTO_LENGTH, Construct, NULL, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return NULL;
  napi_create_uint32(env, SLOT_OCTETS, &slot_octets);
  napi_create_uint32(env, META_INTS, &meta_ints);
  napi_set_named_property(env, exports, "UdpIo", cls);
  napi_set_named_property(env, exports, "SLOT_OCTETS", slot_octets);
  napi_set_named_property(env, exports, "META_INTS", meta_ints);
  napi_value bounds;
  napi_create_array_with_length(env, DELAY_BOUNDS, &bounds);
  for (uint32_t i = 0; i < DELAY_BOUNDS; i++) {
    napi_value v;
    napi_create_double(env, DELAY_BOUNDS_US[i], &v);
    napi_set_element(env, bounds, i, v);
  }
  napi_object_freeze(env, bounds);
  napi_set_named_property(env, exports, "DELAY_BOUNDS_US", bounds);
  napi_value fields, state_length;
  const char *const *names = fp_field_names();
  napi_create_array_with_length(env, FP_FIELD_COUNT, &fields);
  for (uint32_t i = 0; i < FP_FIELD_COUNT; i++) {
    napi_value v;
    napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, fields, i, v);
  }
  napi_object_freeze(env, fields);
  napi_set_named_property(env, exports, "FAST_FIELDS", fields);
  napi_create_uint32(env, FP_STATE_LENGTH, &state_length);
  napi_set_named_property(env, exports, "FAST_STATE_LENGTH", state_length);
  napi_value window_words;
  napi_create_uint32(env, FP_WINDOW_WORDS, &window_words);
  napi_set_named_property(env, exports, "FAST_WINDOW_WORDS", window_words);
  return exports;
}
