/*
 * Socket backends: a virtual Ethernet cable between emulators, in QEMU's
 * wire format so vx86 and QEMU guests can share one segment.
 *
 *   -netdev socket,id=ID,listen=[HOST]:PORT     TCP server (one peer at a time)
 *   -netdev socket,id=ID,connect=HOST:PORT      TCP client
 *   -netdev socket,id=ID,mcast=GROUP:PORT[,localaddr=ADDR]   UDP multicast segment
 *   -netdev socket,id=ID,udp=HOST:PORT,localaddr=HOST:PORT    UDP point to point
 *   -netdev stream,id=ID,server=on|off,addr.type=inet,addr.host=H,addr.port=P
 *   -netdev stream,id=ID,server=on|off,addr.type=unix,addr.path=PATH
 *   -netdev dgram,id=ID,local.type=inet,local.host=H,local.port=P,
 *                 remote.type=inet,remote.host=H,remote.port=P   (remote may be multicast)
 *
 * Over a stream each frame is a 4-byte big-endian length and the frame;
 * over datagrams each datagram is one frame.  A server that loses its
 * peer listens again; frames sent while no peer is there are dropped, as
 * on an unplugged cable.  Output waits in a bounded buffer for the socket
 * (POLLOUT); when it is full frames are dropped (the guests' TCP
 * retransmits).  Input is read only while the NIC can take frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/util.h"
#include "net/net-int.h"

#define SOCK_OUT_MAX (8u << 20)
#define SOCK_IN_BUF (4 + NET_MAX_FRAME)

typedef struct SockAddr {
    struct sockaddr_storage ss;
    socklen_t len;
} SockAddr;

typedef struct SocketNet {
    NetClient *nc;
    Machine *m;
    bool dgram;
    int listen_fd;            /* server: -1 otherwise */
    int fd;                   /* the connection / datagram socket, -1 when none */
    SockAddr dst;             /* datagram destination */
    uint8_t *in;              /* stream input: partial frames */
    size_t in_len;
    uint8_t *out;             /* stream output waiting for the socket */
    size_t out_head, out_len, out_cap;
    char *unix_path;          /* server socket to unlink */
} SocketNet;

static const char *const socket_keys[] = { "listen", "connect", "mcast", "udp", "localaddr", NULL };
static const char *const stream_keys[] = {
    "server", "addr.type", "addr.host", "addr.port", "addr.path", "addr.numeric",
    "addr.ipv4", "addr.ipv6", "reconnect", NULL,
};
static const char *const dgram_keys[] = {
    "local.type", "local.host", "local.port", "local.path",
    "remote.type", "remote.host", "remote.port", "remote.path", NULL,
};

/* ---- addresses ---- */

static bool resolve(const char *host, const char *port, bool empty_any, SockAddr *a,
                    char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_INET }, *res = NULL;
    if (!*host) {
        host = empty_any ? "0.0.0.0" : "127.0.0.1";
    }
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc || !res) {
        snprintf(err, errlen, "cannot resolve '%s:%s': %s", host, port, gai_strerror(rc));
        return false;
    }
    memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
    a->len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* "HOST:PORT" */
static bool parse_hostport(const char *s, bool empty_any, SockAddr *a, char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon[1] == '\0' || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "'%s': expected HOST:PORT", s);
        return false;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
    return resolve(host, colon + 1, empty_any, a, err, errlen);
}

bool net_parse_inet(const char *s, bool empty_host_any, struct sockaddr_in *sa,
                    char *err, size_t errlen)
{
    SockAddr a;
    if (!parse_hostport(s, empty_host_any, &a, err, errlen))
        return false;
    memcpy(sa, &a.ss, sizeof *sa);
    return true;
}

static bool unix_addr(const char *path, SockAddr *a, char *err, size_t errlen)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
    if (!path || !*path || strlen(path) >= sizeof un->sun_path) {
        snprintf(err, errlen, "addr.path: expected a socket path");
        return false;
    }
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    a->len = sizeof *un;
    return true;
}

static bool is_multicast(const SockAddr *a)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    return a->ss.ss_family == AF_INET && IN_MULTICAST(ntohl(in->sin_addr.s_addr));
}

/* ---- the parsed configuration, shared by check and open ---- */

typedef enum SockMode { SOCK_LISTEN, SOCK_CONNECT, SOCK_UDP, SOCK_MCAST } SockMode;

typedef struct SockCfg {
    SockMode mode;
    SockAddr addr;            /* listen/connect address, or the datagram destination */
    SockAddr local;           /* datagram: local address (port 0 when not given) */
    bool has_local;
    const char *unix_path;
} SockCfg;

static bool cfg_socket(const NetOpts *o, SockCfg *c, char *err, size_t errlen)
{
    const char *l = netopts_get(o, "listen"), *cn = netopts_get(o, "connect");
    const char *mc = netopts_get(o, "mcast"), *udp = netopts_get(o, "udp");
    const char *la = netopts_get(o, "localaddr");
    int n = !!l + !!cn + !!mc + !!udp;
    if (n != 1) {
        snprintf(err, errlen, "socket: give exactly one of listen=, connect=, mcast=, udp=");
        return false;
    }
    memset(c, 0, sizeof *c);
    if (l) {
        c->mode = SOCK_LISTEN;
        return parse_hostport(l, true, &c->addr, err, errlen);
    }
    if (cn) {
        c->mode = SOCK_CONNECT;
        return parse_hostport(cn, false, &c->addr, err, errlen);
    }
    if (mc) {
        c->mode = SOCK_MCAST;
        if (!parse_hostport(mc, false, &c->addr, err, errlen))
            return false;
        if (!is_multicast(&c->addr)) {
            snprintf(err, errlen, "socket: mcast=%s is not a multicast address", mc);
            return false;
        }
        if (la) {
            c->has_local = true;
            char buf[300];
            snprintf(buf, sizeof buf, "%s:0", la);
            return parse_hostport(buf, true, &c->local, err, errlen);
        }
        return true;
    }
    c->mode = SOCK_UDP;
    if (!la) {
        snprintf(err, errlen, "socket: udp= needs localaddr=HOST:PORT");
        return false;
    }
    c->has_local = true;
    return parse_hostport(udp, false, &c->addr, err, errlen) &&
           parse_hostport(la, true, &c->local, err, errlen);
}

static bool inet_of(const NetOpts *o, const char *prefix, bool empty_any, SockAddr *a,
                    const char **unix_path, char *err, size_t errlen)
{
    char k[32];
    snprintf(k, sizeof k, "%s.type", prefix);
    const char *type = netopts_get(o, k);
    snprintf(k, sizeof k, "%s.host", prefix);
    const char *host = netopts_get(o, k);
    snprintf(k, sizeof k, "%s.port", prefix);
    const char *port = netopts_get(o, k);
    snprintf(k, sizeof k, "%s.path", prefix);
    const char *path = netopts_get(o, k);
    if (type && !strcmp(type, "unix") && unix_path) {
        *unix_path = path;
        return unix_addr(path, a, err, errlen);
    }
    if (!type || strcmp(type, "inet") || !port) {
        snprintf(err, errlen, "%s.type=inet with %s.host and %s.port expected%s", prefix, prefix,
                 prefix, unix_path ? " (or type=unix with path)" : "");
        return false;
    }
    return resolve(host ? host : "", port, empty_any, a, err, errlen);
}

static bool cfg_stream(const NetOpts *o, SockCfg *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int server = netopts_bool(o, "server", false);
    if (server < 0) {
        snprintf(err, errlen, "stream: server= takes on or off");
        return false;
    }
    c->mode = server ? SOCK_LISTEN : SOCK_CONNECT;
    if (!inet_of(o, "addr", server, &c->addr, &c->unix_path, err, errlen)) {
        char e[200];
        snprintf(e, sizeof e, "%s", err);
        snprintf(err, errlen, "stream: %s", e);
        return false;
    }
    return true;
}

static bool cfg_dgram(const NetOpts *o, SockCfg *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    char e[200];
    if (!netopts_get(o, "remote.type")) {
        snprintf(err, errlen, "dgram: remote.type=inet,remote.host=,remote.port= expected");
        return false;
    }
    if (!inet_of(o, "remote", false, &c->addr, NULL, e, sizeof e)) {
        snprintf(err, errlen, "dgram: %s", e);
        return false;
    }
    c->mode = is_multicast(&c->addr) ? SOCK_MCAST : SOCK_UDP;
    if (netopts_get(o, "local.type")) {
        if (!inet_of(o, "local", true, &c->local, NULL, e, sizeof e)) {
            snprintf(err, errlen, "dgram: %s", e);
            return false;
        }
        c->has_local = true;
    } else if (c->mode == SOCK_UDP) {
        snprintf(err, errlen, "dgram: a unicast remote needs local.type=inet,local.host=,local.port=");
        return false;
    }
    return true;
}

static bool socket_check(const NetOpts *o, char *err, size_t errlen)
{
    SockCfg c;
    return cfg_socket(o, &c, err, errlen);
}

static bool stream_check(const NetOpts *o, char *err, size_t errlen)
{
    SockCfg c;
    return cfg_stream(o, &c, err, errlen);
}

static bool dgram_check(const NetOpts *o, char *err, size_t errlen)
{
    SockCfg c;
    return cfg_dgram(o, &c, err, errlen);
}

/* ---- I/O ---- */

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void conn_close(SocketNet *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->in_len = 0;
    s->out_head = s->out_len = 0;
}

static void flush_out(SocketNet *s)
{
    while (s->fd >= 0 && s->out_len) {
        ssize_t n = send(s->fd, s->out + s->out_head, s->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_close(s);
            return;
        }
        s->out_head += (size_t)n;
        s->out_len -= (size_t)n;
    }
    if (!s->out_len)
        s->out_head = 0;
}

static bool sock_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    SocketNet *s = nc->opaque;
    if (s->fd < 0)
        return true;                      /* unplugged: dropped */
    if (s->dgram) {
        if (sendto(s->fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&s->dst.ss, s->dst.len) < 0)
            nc->dropped++;
        return true;
    }
    if (s->out_len + 4 + len > SOCK_OUT_MAX) {
        nc->dropped++;
        return true;
    }
    if (s->out_head + s->out_len + 4 + len > s->out_cap) {
        /* Compact, then grow. */
        memmove(s->out, s->out + s->out_head, s->out_len);
        s->out_head = 0;
        if (s->out_len + 4 + len > s->out_cap) {
            s->out_cap = MAX(s->out_cap * 2, s->out_len + 4 + len);
            s->out = xrealloc(s->out, s->out_cap);
        }
    }
    uint8_t *p = s->out + s->out_head + s->out_len;
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    memcpy(p + 4, buf, len);
    s->out_len += 4 + len;
    flush_out(s);
    return true;
}

/* Hands complete frames in the input buffer to the NIC. */
static void deliver_stream(SocketNet *s)
{
    size_t pos = 0;
    while (s->in_len - pos >= 4) {
        const uint8_t *p = s->in + pos;
        uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (len == 0 || len > NET_MAX_FRAME) {
            fprintf(stderr, "vx86: netdev %s: bad frame length %u from the peer, disconnecting\n",
                    s->nc->id, len);
            conn_close(s);
            return;
        }
        if (s->in_len - pos - 4 < len)
            break;
        net_send(s->nc, p + 4, len);
        pos += 4 + len;
    }
    memmove(s->in, s->in + pos, s->in_len - pos);
    s->in_len -= pos;
}

static void read_input(SocketNet *s)
{
    for (int rounds = 0; rounds < 64 && s->fd >= 0 && !net_peer_busy(s->nc); rounds++) {
        if (s->dgram) {
            ssize_t n = recv(s->fd, s->in, SOCK_IN_BUF, 0);
            if (n <= 0)
                return;
            net_send(s->nc, s->in, (size_t)n);
            continue;
        }
        ssize_t n = recv(s->fd, s->in + s->in_len, SOCK_IN_BUF - s->in_len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            fprintf(stderr, "vx86: netdev %s: peer disconnected\n", s->nc->id);
            conn_close(s);
            return;
        }
        if (n < 0)
            return;
        s->in_len += (size_t)n;
        deliver_stream(s);
    }
}

static void sock_fill(void *opaque, PollSet *ps, int *timeout_ms)
{
    SocketNet *s = opaque;
    if (s->fd < 0) {
        if (s->listen_fd >= 0)
            pollset_add(ps, s->listen_fd, POLLIN);
        return;
    }
    short ev = (net_peer_busy(s->nc) ? 0 : POLLIN) | (s->out_len ? POLLOUT : 0);
    pollset_add(ps, s->fd, ev);
}

static void sock_dispatch(void *opaque, PollSet *ps)
{
    SocketNet *s = opaque;
    /* The hook's entries are found by fd: the indices are not kept across
     * rounds, and there is one entry at most. */
    short re = 0;
    int fd = s->fd >= 0 ? s->fd : s->listen_fd;
    for (int i = 0; fd >= 0 && i < ps->n; i++)
        if (ps->fds[i].fd == fd)
            re = ps->fds[i].revents;
    if (s->fd < 0) {
        if (s->listen_fd >= 0 && (re & POLLIN)) {
            int c = accept(s->listen_fd, NULL, NULL);
            if (c >= 0) {
                set_nonblock(c);
                int one = 1;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                s->fd = c;
            }
        }
        return;
    }
    if (re & POLLOUT)
        flush_out(s);
    if (re & (POLLIN | POLLHUP | POLLERR))
        read_input(s);
}

/* The NIC took queued frames: read what the socket holds now rather than
 * at the next poll. */
static void sock_peer_drained(NetClient *nc)
{
    read_input(nc->opaque);
}

static void sock_cleanup(NetClient *nc)
{
    SocketNet *s = nc->opaque;
    machine_remove_poll_hook(s->m, s);
    conn_close(s);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->unix_path)
        unlink(s->unix_path);
    free(s->unix_path);
    free(s->in);
    free(s->out);
    free(s);
}

static const NetClientOps socket_ops = {
    .type = "socket", .receive = sock_receive, .peer_drained = sock_peer_drained,
    .cleanup = sock_cleanup,
};

static int open_stream(SocketNet *s, const SockCfg *c, char *err, size_t errlen)
{
    int fam = c->addr.ss.ss_family;
    int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    if (c->mode == SOCK_LISTEN) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fam == AF_UNIX)
            unlink(c->unix_path);
        if (bind(fd, (const struct sockaddr *)&c->addr.ss, c->addr.len) < 0 || listen(fd, 1) < 0) {
            snprintf(err, errlen, "cannot listen: %s", strerror(errno));
            close(fd);
            return -1;
        }
        set_nonblock(fd);
        s->listen_fd = fd;
        if (fam == AF_UNIX)
            s->unix_path = xstrdup(c->unix_path);
        return 0;
    }
    if (connect(fd, (const struct sockaddr *)&c->addr.ss, c->addr.len) < 0) {
        snprintf(err, errlen, "cannot connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (fam != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_nonblock(fd);
    s->fd = fd;
    return 0;
}

static int open_dgram(SocketNet *s, const SockCfg *c, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    s->dgram = true;
    s->dst = c->addr;
    if (c->mode == SOCK_MCAST) {
        /* Every member binds the group's port and hears every frame. */
        const struct sockaddr_in *g = (const struct sockaddr_in *)&c->addr.ss;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = g->sin_port,
                                 .sin_addr.s_addr = htonl(INADDR_ANY) };
        struct ip_mreq mreq = { .imr_multiaddr = g->sin_addr };
        if (c->has_local)
            mreq.imr_interface = ((const struct sockaddr_in *)&c->local.ss)->sin_addr;
        unsigned char loop = 1;
        if (bind(fd, (struct sockaddr *)&b, sizeof b) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0 ||
            (c->has_local && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq.imr_interface,
                                        sizeof mreq.imr_interface) < 0)) {
            snprintf(err, errlen, "multicast group: %s", strerror(errno));
            close(fd);
            return -1;
        }
    } else if (bind(fd, (const struct sockaddr *)&c->local.ss, c->local.len) < 0) {
        snprintf(err, errlen, "cannot bind the local address: %s", strerror(errno));
        close(fd);
        return -1;
    }
    set_nonblock(fd);
    s->fd = fd;
    return 0;
}

static NetClient *open_common(Machine *m, const SockCfg *c, const char *type, const char *id,
                              char *err, size_t errlen)
{
    SocketNet *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->fd = s->listen_fd = -1;
    s->in = xmalloc(SOCK_IN_BUF);
    s->nc = net_client_new(&socket_ops, id, s);
    char e[200];
    int rc = (c->mode == SOCK_LISTEN || c->mode == SOCK_CONNECT) ? open_stream(s, c, e, sizeof e)
                                                                  : open_dgram(s, c, e, sizeof e);
    if (rc < 0 || !machine_add_poll_hook(m, sock_fill, sock_dispatch, s)) {
        snprintf(err, errlen, "%s: %s", type, rc < 0 ? e : "too many network backends");
        net_client_free(s->nc);
        return NULL;
    }
    netdev_attach(m, s->nc);
    return s->nc;
}

static NetClient *socket_open(Machine *m, const NetOpts *o, const char *id, char *err, size_t errlen)
{
    SockCfg c;
    return cfg_socket(o, &c, err, errlen) ? open_common(m, &c, "socket", id, err, errlen) : NULL;
}

static NetClient *stream_open(Machine *m, const NetOpts *o, const char *id, char *err, size_t errlen)
{
    SockCfg c;
    return cfg_stream(o, &c, err, errlen) ? open_common(m, &c, "stream", id, err, errlen) : NULL;
}

static NetClient *dgram_open(Machine *m, const NetOpts *o, const char *id, char *err, size_t errlen)
{
    SockCfg c;
    return cfg_dgram(o, &c, err, errlen) ? open_common(m, &c, "dgram", id, err, errlen) : NULL;
}

const NetBackend net_socket_backend = {
    .type = "socket", .keys = socket_keys, .check = socket_check, .open = socket_open,
};
const NetBackend net_stream_backend = {
    .type = "stream", .keys = stream_keys, .check = stream_check, .open = stream_open,
};
const NetBackend net_dgram_backend = {
    .type = "dgram", .keys = dgram_keys, .check = dgram_check, .open = dgram_open,
};
