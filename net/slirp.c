/*
 * -netdev user: user-mode networking through libslirp (the TCP/IP stack,
 * DHCP, DNS relay, TFTP and port forwarding are libslirp's; this file only
 * connects it to the machine).
 *
 *   -netdev user,id=n0[,net=10.0.2.0/24][,host=10.0.2.2][,dhcpstart=10.0.2.15]
 *          [,dns=10.0.2.3][,hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 *          [,restrict=on][,tftp=DIR][,bootfile=FILE][,hostname=NAME]
 *          [,domainname=NAME][,ipv4=on][,ipv6=on]
 *
 * Main loop: a poll hook hands libslirp's sockets to the machine's poll
 * (slirp_pollfds_fill/poll) and libslirp's timers are timers on the
 * machine's virtual clock.  Frames from the guest go to slirp_input;
 * libslirp's send_packet goes to the peer NIC (dropped when its queue is
 * full: TCP retransmits).
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slirp/libslirp.h>

#include "core/machine.h"
#include "core/util.h"
#include "net/net-int.h"

typedef struct SlirpNet {
    NetClient *nc;
    Machine *m;
    Slirp *slirp;
    char *tftp, *bootfile, *hostname, *domainname;
} SlirpNet;

static const char *const user_keys[] = {
    "net", "host", "dhcpstart", "dns", "hostfwd", "restrict", "tftp", "bootfile",
    "hostname", "domainname", "ipv4", "ipv6", "ipv6-net", "tftp-server-name", NULL,
};

/* net=ADDR[/BITS|/MASK] */
static bool parse_net(const char *s, struct in_addr *net, struct in_addr *mask)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    uint32_t m = 0xffffff00u;
    if (slash) {
        *slash++ = '\0';
        char *end;
        long bits = strtol(slash, &end, 10);
        if (*end == '\0' && end != slash) {
            if (bits < 1 || bits > 30)
                return false;
            m = (uint32_t)(0xffffffffu << (32 - bits));
        } else {
            struct in_addr a;
            if (inet_pton(AF_INET, slash, &a) != 1)
                return false;
            m = ntohl(a.s_addr);
        }
    }
    if (inet_pton(AF_INET, buf, net) != 1)
        return false;
    net->s_addr &= htonl(m);
    mask->s_addr = htonl(m);
    return true;
}

typedef struct HostFwd {
    bool udp;
    struct in_addr host_addr, guest_addr;
    int host_port, guest_port;
} HostFwd;

static bool parse_port(const char *s, int *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 65535)
        return false;
    *port = (int)v;
    return true;
}

/* [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static bool parse_hostfwd(const char *s, HostFwd *f)
{
    char buf[128];
    memset(f, 0, sizeof *f);
    snprintf(buf, sizeof buf, "%s", s);
    char *p = buf;
    if (!strncmp(p, "tcp:", 4)) {
        p += 4;
    } else if (!strncmp(p, "udp:", 4)) {
        f->udp = true;
        p += 4;
    } else if (*p == ':') {
        p++;                              /* protocol omitted: tcp */
    } else {
        return false;
    }
    char *dash = strchr(p, '-');
    if (!dash)
        return false;
    *dash = '\0';
    char *host = p, *guest = dash + 1;
    char *hc = strrchr(host, ':'), *gc = strrchr(guest, ':');
    if (!hc || !gc)
        return false;
    *hc = *gc = '\0';
    if (*host && inet_pton(AF_INET, host, &f->host_addr) != 1)
        return false;
    if (*guest && inet_pton(AF_INET, guest, &f->guest_addr) != 1)
        return false;
    return parse_port(hc + 1, &f->host_port) && parse_port(gc + 1, &f->guest_port) &&
           f->guest_port != 0;
}

typedef struct UserCfg {
    SlirpConfig c;
    struct in_addr dns;
} UserCfg;

static bool build_config(const NetOpts *o, UserCfg *u, char *err, size_t errlen)
{
    SlirpConfig *c = &u->c;
    memset(u, 0, sizeof *u);
    c->version = 1;
    inet_pton(AF_INET, "10.0.2.0", &c->vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &c->vnetmask);
    const char *v;
    if ((v = netopts_get(o, "net")) && !parse_net(v, &c->vnetwork, &c->vnetmask)) {
        snprintf(err, errlen, "user: net=%s: expected ADDR[/BITS]", v);
        return false;
    }
    uint32_t net = ntohl(c->vnetwork.s_addr), mask = ntohl(c->vnetmask.s_addr);
    c->vhost.s_addr = htonl(net | 2);
    c->vdhcp_start.s_addr = htonl(net | 15);
    c->vnameserver.s_addr = htonl(net | 3);
    static const struct { const char *key; size_t off; } addrs[] = {
        { "host", offsetof(SlirpConfig, vhost) },
        { "dhcpstart", offsetof(SlirpConfig, vdhcp_start) },
        { "dns", offsetof(SlirpConfig, vnameserver) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        struct in_addr *a = (struct in_addr *)((char *)c + addrs[i].off);
        if (!(v = netopts_get(o, addrs[i].key)))
            continue;
        if (inet_pton(AF_INET, v, a) != 1 || (ntohl(a->s_addr) & mask) != net) {
            snprintf(err, errlen, "user: %s=%s: expected an address inside the network",
                     addrs[i].key, v);
            return false;
        }
    }
    int r = netopts_bool(o, "restrict", false);
    int in4 = netopts_bool(o, "ipv4", true), in6 = netopts_bool(o, "ipv6", true);
    if (r < 0 || in4 < 0 || in6 < 0) {
        snprintf(err, errlen, "user: restrict=, ipv4=, ipv6= take on or off");
        return false;
    }
    c->restricted = r;
    c->in_enabled = in4;
    c->in6_enabled = in6;
    inet_pton(AF_INET6, "fec0::", &c->vprefix_addr6);
    c->vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &c->vhost6);
    inet_pton(AF_INET6, "fec0::3", &c->vnameserver6);
    for (int i = 0; i < o->n; i++) {
        HostFwd f;
        if (!strcmp(o->key[i], "hostfwd") && !parse_hostfwd(o->val[i], &f)) {
            snprintf(err, errlen,
                     "user: hostfwd=%s: expected tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
                     o->val[i]);
            return false;
        }
    }
    return true;
}

static bool user_check(const NetOpts *o, char *err, size_t errlen)
{
    UserCfg u;
    return build_config(o, &u, err, errlen);
}

/* ---- libslirp callbacks ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    SlirpNet *s = opaque;
    net_send(s->nc, buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    fprintf(stderr, "vx86: slirp: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    SlirpNet *s = opaque;
    return clock_now(s->m->clock);
}

typedef struct SlirpTimer {
    Timer *t;
    SlirpTimerCb cb;
    void *cb_opaque;
} SlirpTimer;

static void slirp_timer_fire(void *opaque)
{
    SlirpTimer *st = opaque;
    st->cb(st->cb_opaque);
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    SlirpNet *s = opaque;
    SlirpTimer *st = xcalloc(1, sizeof *st);
    st->cb = cb;
    st->cb_opaque = cb_opaque;
    st->t = timer_new(s->m->clock, slirp_timer_fire, st);
    return st;
}

static void cb_timer_free(void *timer, void *opaque)
{
    SlirpTimer *st = timer;
    timer_free(st->t);
    free(st);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    SlirpTimer *st = timer;
    timer_mod(st->t, expire_ms * 1000000);
}

static void cb_register_poll_fd(int fd, void *opaque) {}
static void cb_unregister_poll_fd(int fd, void *opaque) {}
static void cb_notify(void *opaque) {}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

/* ---- main loop ---- */

static int add_poll(int fd, int events, void *opaque)
{
    PollSet *ps = opaque;
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    return pollset_add(ps, fd, ev);
}

static int get_revents(int idx, void *opaque)
{
    PollSet *ps = opaque;
    short re = pollset_revents(ps, idx);
    int ev = 0;
    if (re & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (re & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (re & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (re & POLLERR)
        ev |= SLIRP_POLL_ERR;
    if (re & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

static void user_fill(void *opaque, PollSet *ps, int *timeout_ms)
{
    SlirpNet *s = opaque;
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    slirp_pollfds_fill(s->slirp, &t, add_poll, ps);
    if (t != UINT32_MAX && (*timeout_ms < 0 || (int)t < *timeout_ms))
        *timeout_ms = (int)t;
}

static void user_dispatch(void *opaque, PollSet *ps)
{
    SlirpNet *s = opaque;
    slirp_pollfds_poll(s->slirp, 0, get_revents, ps);
}

/* ---- the client ---- */

static bool user_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    SlirpNet *s = nc->opaque;
    slirp_input(s->slirp, buf, (int)len);
    /* What the guest sent (an ACK opening its window, a request) lets
     * slirp read more from the host: have the main loop poll soon rather
     * than at the next timer deadline. */
    machine_notify(s->m);
    return true;
}

static void user_cleanup(NetClient *nc)
{
    SlirpNet *s = nc->opaque;
    machine_remove_poll_hook(s->m, s);
    if (s->slirp)
        slirp_cleanup(s->slirp);
    free(s->tftp);
    free(s->bootfile);
    free(s->hostname);
    free(s->domainname);
    free(s);
}

static const NetClientOps user_ops = {
    .type = "user", .receive = user_receive, .cleanup = user_cleanup,
};

static char *dup_opt(const NetOpts *o, const char *key)
{
    const char *v = netopts_get(o, key);
    return v ? xstrdup(v) : NULL;
}

static NetClient *user_open(Machine *m, const NetOpts *o, const char *id, char *err, size_t errlen)
{
    UserCfg u;
    if (!build_config(o, &u, err, errlen))
        return NULL;
    SlirpNet *s = xcalloc(1, sizeof *s);
    s->m = m;
    s->tftp = dup_opt(o, "tftp");
    s->bootfile = dup_opt(o, "bootfile");
    s->hostname = dup_opt(o, "hostname");
    s->domainname = dup_opt(o, "domainname");
    u.c.tftp_path = s->tftp;
    u.c.bootfile = s->bootfile;
    u.c.vhostname = s->hostname;
    u.c.vdomainname = s->domainname;
    u.c.tftp_server_name = netopts_get(o, "tftp-server-name");
    s->nc = net_client_new(&user_ops, id, s);
    s->slirp = slirp_new(&u.c, &slirp_callbacks, s);
    if (!s->slirp) {
        snprintf(err, errlen, "user: libslirp refused the configuration");
        net_client_free(s->nc);
        return NULL;
    }
    for (int i = 0; i < o->n; i++) {
        HostFwd f;
        if (strcmp(o->key[i], "hostfwd") || !parse_hostfwd(o->val[i], &f))
            continue;
        if (!f.guest_addr.s_addr)
            f.guest_addr = u.c.vdhcp_start;
        if (slirp_add_hostfwd(s->slirp, f.udp, f.host_addr, f.host_port, f.guest_addr,
                              f.guest_port) < 0) {
            snprintf(err, errlen, "user: hostfwd=%s: could not set up the host port (in use?)",
                     o->val[i]);
            net_client_free(s->nc);
            return NULL;
        }
    }
    if (!machine_add_poll_hook(m, user_fill, user_dispatch, s)) {
        snprintf(err, errlen, "user: too many network backends");
        net_client_free(s->nc);
        return NULL;
    }
    netdev_attach(m, s->nc);
    return s->nc;
}

const NetBackend net_user_backend = {
    .type = "user", .keys = user_keys, .check = user_check, .open = user_open,
};
