/*
 * Batched UDP for the media plane: one call per 20 ms tick receives every datagram waiting on a
 * worker's RTP/RTCP sockets (one epoll_wait, then recvmmsg per ready socket) and one call sends
 * every packet the tick produced (sendto per packet, no JS in between).
 *
 * Why by hand: Node's dgram costs a JS callback, a Buffer and an rinfo object per received
 * datagram and a JS send path per sent one; at 1,000 participants that is 100,000 JS round trips
 * a second, about three quarters of the media thread's time (BENCHMARKS.md). No maintained npm
 * package offers per-tick batched I/O over many UDP sockets (the `dgram` alternatives wrap one
 * socket each), so this file does exactly that and nothing else. Linux only; where it does not
 * build or load, the media plane uses dgram (src/media/rtp/native-udp.ts).
 *
 * Receive times come from the kernel (SO_TIMESTAMPNS, socket(7)), so RTCP jitter
 * (RFC 3550 A.8) and arrival gaps stay exact although packets are read once per tick.
 *
 * Functions take file descriptors and return results; the only state is, per Node environment
 * (main thread or worker), the list of descriptors it opened, closed when that environment ends:
 * a terminated media worker must not leak its sockets (dgram's close with their loop; these are
 * plain fds). Each thread only touches its own list, so no locks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_STRIDE 5 /* token, ipv4, port, offset, length */
#define SEND_STRIDE 6 /* fd, ipv4, port, offset, length, result errno */
#define MAX_EVENTS 256
#define MMSG 16
#define MAX_DATAGRAM 2048

/* The descriptors this environment opened and has not closed yet. */
typedef struct {
  int *fds;
  size_t count, capacity;
} OpenFds;

static void close_all(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  OpenFds *open = data;
  for (size_t i = 0; i < open->count; i++) close(open->fds[i]);
  free(open->fds);
  free(open);
}

static OpenFds *open_fds(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static int remember(napi_env env, int fd) {
  OpenFds *open = open_fds(env);
  if (open == NULL) return 1;
  if (open->count == open->capacity) {
    size_t capacity = open->capacity ? open->capacity * 2 : 64;
    int *fds = realloc(open->fds, capacity * sizeof *fds);
    if (fds == NULL) return 0;
    open->fds = fds;
    open->capacity = capacity;
  }
  open->fds[open->count++] = fd;
  return 1;
}

static int forget(napi_env env, int fd) {
  OpenFds *open = open_fds(env);
  if (open == NULL) return 0;
  for (size_t i = 0; i < open->count; i++) {
    if (open->fds[i] == fd) {
      open->fds[i] = open->fds[--open->count];
      return 1;
    }
  }
  return 0;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, error;
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ERR_UDP_BATCH";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_value errnum;
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "udp_batch: missing arguments");
    return 0;
  }
  return 1;
}

static int int_arg(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp_batch: expected a number");
    return 0;
  }
  return 1;
}

/* A Uint8Array/Int32Array/Float64Array's bytes and element count. */
static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &offset) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, "udp_batch: wrong typed array");
    return 0;
  }
  return 1;
}

/* The one int32 argument of a function. */
static int one_int(napi_env env, napi_callback_info info, int32_t *out) {
  napi_value argv[1];
  return args(env, info, 1, argv) && int_arg(env, argv[0], out);
}

static napi_value int_value(napi_env env, int64_t n) {
  napi_value out;
  napi_create_int64(env, n, &out);
  return out;
}

/* Hands a new descriptor to JS, remembered so the environment's end closes it. */
static napi_value owned(napi_env env, int fd) {
  if (!remember(env, fd)) {
    close(fd);
    return throw_errno(env, "remember", ENOMEM);
  }
  return int_value(env, fd);
}

/* open(ipv4AsUint32, port, recvBufferBytes) -> fd: a non-blocking IPv4 UDP socket, bound. */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t ip, port, rcvbuf;
  if (!args(env, info, 3, argv) || !int_arg(env, argv[0], &ip) || !int_arg(env, argv[1], &port) || !int_arg(env, argv[2], &rcvbuf)) return NULL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl((uint32_t)ip);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  return owned(env, fd);
}

/* localPort(fd) -> the bound port. */
static napi_value udp_local_port(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!one_int(env, info, &fd)) return NULL;
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) return throw_errno(env, "getsockname", errno);
  return int_value(env, ntohs(a.sin_port));
}

/*
 * close(fd): a socket or poll set this environment opened (others are left alone, so a stale
 * number can never close a descriptor that now belongs to someone else). A socket also leaves
 * every epoll set it was in (epoll(7): closing the last reference).
 */
static napi_value udp_close(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!one_int(env, info, &fd)) return NULL;
  if (forget(env, fd)) close(fd);
  return NULL;
}

static napi_value poll_create(napi_env env, napi_callback_info info) {
  (void)info;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return throw_errno(env, "epoll_create1", errno);
  return owned(env, ep);
}

/* pollAdd(ep, fd, token): level-triggered, so a socket not drained in one call is seen again. */
static napi_value poll_add(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t ep, fd, token;
  if (!args(env, info, 3, argv) || !int_arg(env, argv[0], &ep) || !int_arg(env, argv[1], &fd) || !int_arg(env, argv[2], &token)) return NULL;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  /* The fd in the low half (to read from), the caller's token in the high half (to report). */
  ev.data.u64 = ((uint64_t)(uint32_t)token << 32) | (uint32_t)fd;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) return throw_errno(env, "epoll_ctl", errno);
  return NULL;
}

/*
 * receive(ep, data: Uint8Array, meta: Int32Array, times: Float64Array) -> count.
 * Reads datagrams from every ready socket into `data`, one after another; meta gets
 * RECV_STRIDE ints per datagram and times its kernel arrival time (ms since the epoch). Stops
 * when data, meta or times is full: the count then equals their capacity and the caller calls
 * again (level-triggered epoll reports the sockets not yet drained).
 */
static napi_value udp_receive(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t ep;
  uint8_t *data;
  int32_t *meta;
  double *times;
  size_t dataLen, metaLen, timesLen;
  if (!args(env, info, 4, argv) || !int_arg(env, argv[0], &ep) || !typed_arg(env, argv[1], napi_uint8_array, (void **)&data, &dataLen) ||
      !typed_arg(env, argv[2], napi_int32_array, (void **)&meta, &metaLen) || !typed_arg(env, argv[3], napi_float64_array, (void **)&times, &timesLen))
    return NULL;
  size_t cap = metaLen / RECV_STRIDE;
  if (timesLen < cap) cap = timesLen;
  size_t count = 0, used = 0;
  struct epoll_event events[MAX_EVENTS];
  struct mmsghdr msgs[MMSG];
  struct iovec iov[MMSG];
  struct sockaddr_in from[MMSG];
  char control[MMSG][CMSG_SPACE(sizeof(struct timespec))];
  int full = 0;
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, 0);
    if (n <= 0) break;
    for (int e = 0; e < n && !full; e++) {
      int fd = (int)(events[e].data.u64 & 0xffffffffu);
      uint32_t token = (uint32_t)(events[e].data.u64 >> 32);
      for (;;) {
        size_t room = cap - count;
        size_t slots = (dataLen - used) / MAX_DATAGRAM;
        if (slots < room) room = slots;
        if (room == 0) {
          full = 1;
          break;
        }
        if (room > MMSG) room = MMSG;
        for (size_t i = 0; i < room; i++) {
          iov[i].iov_base = data + used + i * MAX_DATAGRAM;
          iov[i].iov_len = MAX_DATAGRAM;
          memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
          msgs[i].msg_hdr.msg_name = &from[i];
          msgs[i].msg_hdr.msg_namelen = sizeof from[i];
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
          msgs[i].msg_hdr.msg_control = control[i];
          msgs[i].msg_hdr.msg_controllen = sizeof control[i];
        }
        int got = recvmmsg(fd, msgs, (unsigned)room, MSG_DONTWAIT, NULL);
        if (got <= 0) break;
        for (int i = 0; i < got; i++) {
          double at = 0;
          for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
              struct timespec ts;
              memcpy(&ts, CMSG_DATA(c), sizeof ts);
              at = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
            }
          }
          if (at == 0) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            at = (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
          }
          size_t len = msgs[i].msg_len;
          if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) len = 0; /* too big for RTP here: dropped */
          /* Packed one after another: the next datagram starts right after this one. */
          if (data + used != (uint8_t *)iov[i].iov_base) memmove(data + used, iov[i].iov_base, len);
          int32_t *m = meta + count * RECV_STRIDE;
          m[0] = (int32_t)token;
          m[1] = (int32_t)ntohl(from[i].sin_addr.s_addr);
          m[2] = ntohs(from[i].sin_port);
          m[3] = (int32_t)used;
          m[4] = (int32_t)len;
          times[count] = at;
          used += len;
          count++;
        }
        if (got < (int)room) break; /* drained */
      }
    }
    if (full || n < MAX_EVENTS) break;
  }
  return int_value(env, (int64_t)count);
}

/*
 * send(data: Uint8Array, meta: Int32Array, count) -> failures. Sends `count` datagrams, each
 * described by SEND_STRIDE ints; the last int of each gets 0 or the errno of its sendto.
 */
static napi_value udp_send(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint8_t *data;
  int32_t *meta;
  size_t dataLen, metaLen;
  int32_t count;
  if (!args(env, info, 3, argv) || !typed_arg(env, argv[0], napi_uint8_array, (void **)&data, &dataLen) ||
      !typed_arg(env, argv[1], napi_int32_array, (void **)&meta, &metaLen) || !int_arg(env, argv[2], &count))
    return NULL;
  if (count < 0 || (size_t)count * SEND_STRIDE > metaLen) {
    napi_throw_range_error(env, NULL, "udp_batch: count out of range");
    return NULL;
  }
  int64_t failures = 0;
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  for (int32_t i = 0; i < count; i++) {
    int32_t *m = meta + (size_t)i * SEND_STRIDE;
    if (m[0] < 0) { /* withdrawn: its socket closed after it was queued */
      m[5] = 0;
      continue;
    }
    size_t off = (size_t)(uint32_t)m[3], len = (size_t)(uint32_t)m[4];
    if (off + len > dataLen) {
      m[5] = EINVAL;
      failures++;
      continue;
    }
    to.sin_addr.s_addr = htonl((uint32_t)m[1]);
    to.sin_port = htons((uint16_t)m[2]);
    ssize_t r = sendto(m[0], data + off, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
    m[5] = r < 0 ? errno : 0;
    if (r < 0) failures++;
  }
  return int_value(env, failures);
}

/*
 * setRealtime(priority) -> 0 or errno. Puts the CALLING thread under SCHED_FIFO at `priority`
 * (sched(7): on Linux, a pid of 0 in sched_setscheduler means the calling thread), as Asterisk
 * `-p` and FreeSWITCH `-rp` do for their media threads. The kernel's RT throttling
 * (sched_rt_runtime_us) still leaves others a share of each second.
 */
static napi_value set_realtime(napi_env env, napi_callback_info info) {
  int32_t priority;
  if (!one_int(env, info, &priority)) return NULL;
  struct sched_param p;
  memset(&p, 0, sizeof p);
  p.sched_priority = priority;
  int r = sched_setscheduler(0, priority > 0 ? SCHED_FIFO : SCHED_OTHER, &p);
  return int_value(env, r < 0 ? errno : 0);
}

NAPI_MODULE_INIT() {
  OpenFds *open = calloc(1, sizeof *open);
  if (open != NULL) napi_set_instance_data(env, open, close_all, NULL);
  napi_property_descriptor props[] = {
      {"open", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"localPort", NULL, udp_local_port, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, udp_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollCreate", NULL, poll_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollAdd", NULL, poll_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receive", NULL, udp_receive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setRealtime", NULL, set_realtime, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
