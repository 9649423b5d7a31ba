/*
 * The VNC server (see vnc.h): libvncserver speaks RFB (handshake, VNC
 * authentication, encodings, WebSocket framing); this file connects it to
 * the console, the machine's input and the main loop.
 *
 * Threads: libvncserver runs on the main loop's poll hooks
 * (machine_add_poll_hook, as net/slirp.c does), never in its background
 * threads: the console surface, the device that renders into it, the PS/2
 * devices that take the keys and the password all belong to the main-loop
 * thread, so on that thread libvncserver reads the surface in place and
 * calls pc_send_key directly, with no lock around the console.  With
 * libvncserver in a thread, every surface access (and the surface being
 * freed on a mode change) and every input event would need a lock or a
 * copy.  The price is that libvncserver's socket calls wait (select) and
 * must not hold the loop:
 *   - it never sees a client's socket: ui/vnc-relay.c's thread moves the
 *     bytes between the client and a socket pair, buffering what a slow
 *     client has not taken, so libvncserver's writes never wait; a client
 *     that owes more than VNC_HOLD_BACKLOG is put on hold (no updates
 *     made, its input not read) until it has taken them;
 *   - vx86 listens and accepts itself and hands a connection over only
 *     once libvncserver finds what it reads first already there (its
 *     WebSocket sniffing waits up to 100 ms for the client to speak): a
 *     WebSocket upgrade request is awaited whole (peeked); a client that
 *     stays silent for VNC_RFB_SNIFF_MS is an RFB client waiting for the
 *     server, so vx86 sends it the server's version and awaits the
 *     client's, which libvncserver then reads first (the relay drops
 *     libvncserver's own copy of the server's version, see
 *     vnc_relay_add);
 *   - a client that stops in the middle of a message is dropped after
 *     VNC_CLIENT_WAIT_MS (libvncserver's maxClientWait);
 *   - the machine's timer signals are blocked while libvncserver runs
 *     (its waits give up on EINTR and would drop the client).
 *
 * Drawing: libvncserver's framebuffer is the console surface itself
 * (XRGB8888, described to clients as 32-bit true colour, red at bit 16).
 * The console's dirty rectangles become libvncserver's modified regions,
 * which it sends to each client that asked (FramebufferUpdateRequest), so
 * only what changed goes out.  While clients are connected a timer asks
 * the device to render every DISPLAY_REFRESH_NS of machine time (the SDL
 * or curses display may do the same: the second refresh finds nothing
 * new).  A mode change reallocates the surface: libvncserver gets the new
 * one and sends a desktop size change to clients that take it.
 *
 * Input: keysyms and pointer events go through ui/vnc-input.c to the
 * machine's DisplayInput (the PS/2 keyboard and mouse).
 */
#include "ui/vnc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "core/util.h"
#include "ui/vnc-input.h"
#include "ui/vnc-relay.h"

#define VNC_MAX_LISTENERS 8       /* IPv4 + IPv6, for RFB and WebSocket */
#define VNC_MAX_PENDING 8         /* connections being sniffed */
#define VNC_MAX_CLIENTS 32
#define VNC_RFB_SNIFF_MS 100      /* how long a new RFB-port connection may
                                     send a WebSocket request first */
#define VNC_HANDSHAKE_MS 5000     /* for a whole WebSocket request or RFB version */
#define VNC_PENDING_RECHECK_MS 20 /* a partial request or version is looked at again */
#define VNC_CLIENT_WAIT_MS 500    /* the rest of a message once it started */
#define VNC_HOLD_BACKLOG (4u << 20)  /* unsent bytes that put a client on hold */
#define VNC_HOLD_RECHECK_MS 20    /* a held client's backlog is looked at again */
/* What clients see while the display shows nothing (QEMU's size too). */
#define VNC_BLANK_W 640
#define VNC_BLANK_H 480

typedef struct VncListener {
    int fd;
    bool websocket;
    int poll_idx;
} VncListener;

/* A connection vx86 holds until libvncserver can take it without waiting:
 *   SNIFF      on the RFB port, silent so far: a WebSocket client speaks
 *              at once, an RFB client waits for the server's version;
 *   VERSION    vx86 sent the server's version, the client's is awaited;
 *   WEBSOCKET  an HTTP upgrade request is awaited whole. */
typedef enum VncPendState { PEND_SNIFF, PEND_VERSION, PEND_WEBSOCKET } VncPendState;
typedef struct VncPending {
    int fd;
    VncPendState state;
    int64_t deadline_ms;      /* host monotonic */
    size_t seen;              /* bytes waiting in the socket at the last look */
} VncPending;

/* Ours, per libvncserver client (cl->clientData). */
typedef struct VncClient {
    VncServer *v;
    VncInput input;
    int slot;                 /* the relay's number for it */
    bool held;                /* owes too much: on hold this round */
    int poll_idx;
    MonVncAddr addr;          /* the client's end, for query-vnc */
} VncClient;

struct VncServer {
    Machine *m;
    Console *con;
    DisplayInput in;
    rfbScreenInfoPtr screen;
    VncRelay *relay;
    rfbCursorPtr lib_cursor;          /* libvncserver's own, put back to free */
    VncListener listeners[VNC_MAX_LISTENERS];
    int nlisteners;
    VncPending pending[VNC_MAX_PENDING];
    int npending;
    int nclients;
    Timer *timer;
    bool shows_console;               /* the framebuffer is the console surface */
    bool dirty;                       /* regions marked, not yet offered to clients */
    uint32_t *blank;                  /* the framebuffer while the console has none */
    bool auth;                        /* password=on */
    char *password;                   /* NULL: none set yet, everyone is refused */
    char *passwords[2];               /* libvncserver's list: { password, NULL } */
    char desktop_name[128];
    char *unix_path;                  /* unlinked at close */
    int new_slot;                     /* the relay slot of the client being added */
    MonVncAddr new_addr;              /* and its address */
    MonVncAddr server_addr;           /* the first RFB listener's */
};

/* libvncserver's waits (select) give up on EINTR and drop the client:
 * the machine's timer and kick signals wait while it runs (it runs from
 * the main loop, never while a CPU does, so they lose nothing). */
static void vnc_signals_block(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, old);
}

static void vnc_signals_restore(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int64_t host_ms(void)
{
    return host_monotonic_ns() / 1000000;
}

/* ---- the framebuffer ---- */

/* The console's XRGB8888 words as RFB describes them. */
static void vnc_set_server_format(rfbScreenInfoPtr s)
{
    rfbPixelFormat *f = &s->serverFormat;
    s->bitsPerPixel = 32;
    s->depth = 24;
    f->bitsPerPixel = 32;
    f->depth = 24;
    f->bigEndian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
    f->trueColour = TRUE;
    f->redMax = f->greenMax = f->blueMax = 255;
    f->redShift = 16;
    f->greenShift = 8;
    f->blueShift = 0;
}

/* rfbNewFramebuffer resets the server format to its own default and then
 * sets up each client's translation: ours first. */
static rfbBool vnc_set_translate(rfbClientPtr cl)
{
    vnc_set_server_format(cl->screen);
    return rfbSetTranslateFunction(cl);
}

static void vnc_console_resize(void *opaque, DisplaySurface *s)
{
    VncServer *v = opaque;
    char *fb;
    int w, h;
    v->shows_console = s->pixels && s->width > 0 && s->height > 0;
    if (v->shows_console) {
        fb = (char *)s->pixels;
        w = s->width;
        h = s->height;
    } else {
        fb = (char *)v->blank;
        w = VNC_BLANK_W;
        h = VNC_BLANK_H;
    }
    rfbNewFramebuffer(v->screen, fb, w, h, 8, 3, 4);
    vnc_set_server_format(v->screen);
    v->dirty = true;
}

static void vnc_console_update(void *opaque, int x, int y, int w, int h)
{
    VncServer *v = opaque;
    if (!v->shows_console || !v->nclients)
        return;
    rfbMarkRectAsModified(v->screen, x, y, x + w, y + h);
    v->dirty = true;
}

/* While clients are connected: the device renders what changed. */
static void vnc_tick(void *opaque)
{
    VncServer *v = opaque;
    if (!v->nclients || !v->con)
        return;
    console_refresh(v->con, false);
    timer_mod(v->timer, clock_now(v->m->clock) + DISPLAY_REFRESH_NS);
}

/* ---- clients (libvncserver's hooks) ---- */

static void vnc_client_gone(rfbClientPtr cl)
{
    VncClient *c = cl->clientData;
    if (!c)
        return;
    vnc_input_release_all(&c->input);
    c->v->nclients--;
    cl->clientData = NULL;
    free(c);
}

static enum rfbNewClientAction vnc_new_client(rfbClientPtr cl)
{
    VncServer *v = cl->screen->screenData;
    if (v->nclients >= VNC_MAX_CLIENTS)
        return RFB_CLIENT_REFUSE;
    VncClient *c = xcalloc(1, sizeof(*c));
    c->v = v;
    c->slot = v->new_slot;            /* vnc_hand_over's rfbNewClient calls us */
    c->addr = v->new_addr;
    c->poll_idx = -1;
    vnc_input_init(&c->input, &v->in);
    cl->clientData = c;
    cl->clientGoneHook = vnc_client_gone;
    if (v->nclients++ == 0 && v->con) {
        /* The first client: the surface is rendered now (the machine may
         * be paused, with no timer running) and from now on. */
        console_refresh(v->con, true);
        timer_mod(v->timer, clock_now(v->m->clock) + DISPLAY_REFRESH_NS);
    }
    return RFB_CLIENT_ACCEPT;
}

static void vnc_key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
    VncClient *c = cl->clientData;
    if (c)
        vnc_input_key(&c->input, down, keysym);
}

static void vnc_pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
    VncClient *c = cl->clientData;
    if (!c)
        return;
    c->input.fb_w = cl->screen->width;     /* for an absolute pointer */
    c->input.fb_h = cl->screen->height;
    vnc_input_pointer(&c->input, (unsigned)mask, x, y);
}

static void vnc_release_keys(rfbClientPtr cl)
{
    VncClient *c = cl->clientData;
    if (c)
        vnc_input_release_all(&c->input);
}

/* ---- listening ---- */

static bool vnc_add_listener(VncServer *v, int fd, bool websocket)
{
    if (v->nlisteners == VNC_MAX_LISTENERS)
        return false;
    v->listeners[v->nlisteners++] = (VncListener){ fd, websocket, -1 };
    return true;
}

static void vnc_drop_listeners_from(VncServer *v, int first)
{
    while (v->nlisteners > first)
        close(v->listeners[--v->nlisteners].fd);
}

/* Every address of host (NULL: all interfaces) on port. */
static bool vnc_listen_tcp(VncServer *v, const char *host, int port, bool websocket,
                           char *why, size_t whylen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) {
        snprintf(why, whylen, "%s: %s", host ? host : "*", gai_strerror(rc));
        return false;
    }
    int first = v->nlisteners, e = EADDRNOTAVAIL;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        a->ai_protocol);
        if (fd < 0 && errno == EAFNOSUPPORT)
            continue;                         /* no IPv6 on this host */
        int one = 1;
        if (fd >= 0) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (a->ai_family == AF_INET6)     /* the IPv4 socket takes IPv4 */
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        }
        if (fd < 0 || bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 16) < 0 ||
            !vnc_add_listener(v, fd, websocket)) {
            e = errno;
            if (fd >= 0)
                close(fd);
            vnc_drop_listeners_from(v, first);
            break;
        }
    }
    freeaddrinfo(res);
    if (v->nlisteners == first) {
        snprintf(why, whylen, "cannot listen on port %d: %s", port, strerror(e));
        return false;
    }
    return true;
}

static bool vnc_listen_unix(VncServer *v, const char *path, char *why, size_t whylen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(why, whylen, "socket path too long (at most %zu bytes)", sizeof sa.sun_path - 1);
        return false;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(why, whylen, "%s exists and is not a socket", path);
            return false;
        }
        unlink(path);                  /* a previous run's: QEMU replaces it too */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        snprintf(why, whylen, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    v->unix_path = xstrdup(path);
    return vnc_add_listener(v, fd, false);
}

static bool vnc_listen(VncServer *v, const VncOpt *o, char *why, size_t whylen)
{
    if (o->unix_path) {
        if (!vnc_listen_unix(v, o->unix_path, why, whylen))
            return false;
    } else {
        /* to=L: the first display from N to L whose port is free. */
        bool ok = false;
        for (int d = o->display; d <= o->display_to && !ok; d++)
            ok = vnc_listen_tcp(v, o->host, VNC_PORT_BASE + d, false, why, whylen);
        if (!ok) {
            if (o->display_to > o->display)
                snprintf(why, whylen, "no free port in %d..%d", VNC_PORT_BASE + o->display,
                         VNC_PORT_BASE + o->display_to);
            return false;
        }
    }
    if (o->ws_port) {
        size_t n = (size_t)snprintf(why, whylen, "websocket: ");
        if (n < whylen && !vnc_listen_tcp(v, o->ws_host ? o->ws_host : o->host, o->ws_port,
                                          true, why + n, whylen - n))
            return false;
    }
    return true;
}

/* ---- addresses, for query-vnc ---- */

/* fd's own end (peer=false) or the other end, as QEMU's VncBasicInfo. */
static void vnc_describe(int fd, bool peer, MonVncAddr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(out, 0, sizeof(*out));
    out->family = "unknown";
    int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                 : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r < 0)
        return;
    if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *su = (const struct sockaddr_un *)&ss;
        out->family = "unix";
        if (len > offsetof(struct sockaddr_un, sun_path))
            snprintf(out->host, sizeof out->host, "%.*s",
                     (int)(len - offsetof(struct sockaddr_un, sun_path)), su->sun_path);
        return;
    }
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return;
    out->family = ss.ss_family == AF_INET ? "ipv4" : "ipv6";
    if (getnameinfo((struct sockaddr *)&ss, len, out->host, sizeof out->host, out->service,
                    sizeof out->service, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        out->host[0] = out->service[0] = '\0';
}

void vnc_query(VncServer *v, MonVncInfo *out)
{
    memset(out, 0, sizeof(*out));
    out->server = v->server_addr;
    out->auth = v->auth ? "vnc" : "none";
    rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
    for (rfbClientPtr cl; (cl = rfbClientIteratorNext(it)) && out->nclients < MON_VNC_CLIENTS;) {
        const VncClient *c = cl->clientData;
        if (c)
            out->clients[out->nclients++] = c->addr;
    }
    rfbReleaseClientIterator(it);
}

/* ---- new connections ---- */

static void vnc_accept(VncServer *v, VncListener *l)
{
    /* A handful per round: a flood of connections cannot hold the loop. */
    for (int i = 0; i < 4; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (v->npending == VNC_MAX_PENDING || v->nclients >= VNC_MAX_CLIENTS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* fails on unix: */
        v->pending[v->npending++] = (VncPending){
            fd, l->websocket ? PEND_WEBSOCKET : PEND_SNIFF,
            host_ms() + (l->websocket ? VNC_HANDSHAKE_MS : VNC_RFB_SNIFF_MS), 0 };
    }
}

/* The version libvncserver sends first (its default, RFB 3.8). */
static const char vnc_server_version[VNC_RELAY_VERSION_LEN + 1] = "RFB 003.008\n";

/* Gives a connection to libvncserver through the relay.  version: the
 * client's 12-byte version, read by vx86 after it sent the server's. */
static void vnc_hand_over(VncServer *v, int client_fd, const uint8_t *version)
{
    /* (before the relay owns client_fd and may close it) */
    vnc_describe(client_fd, true, &v->new_addr);
    v->new_addr.websocket = !version;  /* vx86 read no RFB version: an upgrade request */
    int fd = vnc_relay_add(v->relay, client_fd, version, version ? VNC_RELAY_VERSION_LEN : 0,
                           version ? vnc_server_version : NULL, &v->new_slot);
    if (fd < 0)
        return;
    if (fd >= FD_SETSIZE) {           /* libvncserver keeps its sockets in an fd_set */
        close(fd);
        return;
    }

    /* libvncserver now finds data at once: the client's version (its
     * WebSocket sniffing sees "RFB "), or a whole upgrade request. */
    sigset_t old;
    vnc_signals_block(&old);
    rfbNewClient(v->screen, fd);      /* refused: libvncserver closed it */
    vnc_signals_restore(&old);
}

/* One look at a held connection: true when it is settled (handed over
 * or closed). */
static bool vnc_settle_pending(VncServer *v, VncPending *p, int64_t now)
{
    uint8_t buf[VNC_SNIFF_MAX + 1];
    ssize_t n = recv(p->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close(p->fd);                 /* gone before it was served */
        return true;
    }
    p->seen = n > 0 ? (size_t)n : 0;
    switch (p->state) {
    case PEND_SNIFF:
        if (!p->seen) {
            if (now < p->deadline_ms)
                return false;
            /* Silent: an RFB client.  The server speaks first. */
            if (send(p->fd, vnc_server_version, VNC_RELAY_VERSION_LEN,
                     MSG_DONTWAIT | MSG_NOSIGNAL) != VNC_RELAY_VERSION_LEN) {
                close(p->fd);
                return true;
            }
            p->state = PEND_VERSION;
            p->deadline_ms = now + VNC_HANDSHAKE_MS;
            return false;
        }
        p->state = PEND_WEBSOCKET;    /* it spoke first: only a WebSocket client may */
        p->deadline_ms = now + VNC_HANDSHAKE_MS;
        return vnc_settle_pending(v, p, now);
    case PEND_VERSION:
        if (p->seen >= VNC_RELAY_VERSION_LEN) {
            uint8_t version[VNC_RELAY_VERSION_LEN];
            if (recv(p->fd, version, sizeof version, MSG_DONTWAIT) != (ssize_t)sizeof version) {
                close(p->fd);
                return true;
            }
            vnc_hand_over(v, p->fd, version);
            return true;
        }
        break;
    case PEND_WEBSOCKET:
        switch (vnc_sniff(buf, p->seen)) {
        case VNC_SNIFF_WEBSOCKET:
            vnc_hand_over(v, p->fd, NULL);
            return true;
        case VNC_SNIFF_WAIT:
            break;
        case VNC_SNIFF_RFB:           /* not a WebSocket request */
        case VNC_SNIFF_REJECT:
        default:
            close(p->fd);
            return true;
        }
        break;
    }
    if (now < p->deadline_ms)
        return false;
    close(p->fd);                     /* an incomplete version or request */
    return true;
}

static void vnc_settle_all_pending(VncServer *v)
{
    int64_t now = host_ms();
    /* Settle a copy: handing over calls into libvncserver. */
    VncPending pend[VNC_MAX_PENDING];
    int n = v->npending, k = 0;
    memcpy(pend, v->pending, sizeof(VncPending) * (size_t)n);
    v->npending = 0;
    for (int i = 0; i < n; i++)
        if (!vnc_settle_pending(v, &pend[i], now))
            pend[k++] = pend[i];
    memcpy(v->pending, pend, sizeof(VncPending) * (size_t)k);
    v->npending = k;
}

/* ---- the poll hook ---- */

static void vnc_fill(void *opaque, PollSet *ps, int *timeout_ms)
{
    VncServer *v = opaque;
    for (int i = 0; i < v->nlisteners; i++)
        v->listeners[i].poll_idx = pollset_add(ps, v->listeners[i].fd, POLLIN);
    int64_t now = host_ms();
    for (int i = 0; i < v->npending; i++) {
        VncPending *p = &v->pending[i];
        /* Readable stays readable while we only peek: a connection that
         * sent part of its request is looked at again after a while. */
        int64_t left = p->deadline_ms - now;
        if (p->seen)
            left = MIN(left, VNC_PENDING_RECHECK_MS);
        else
            pollset_add(ps, p->fd, POLLIN);
        if (left < *timeout_ms)
            *timeout_ms = left > 0 ? (int)left : 0;
    }
    for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next) {
        VncClient *c = cl->clientData;
        if (!c || cl->sock < 0)
            continue;
        /* A client that owes much is neither read nor sent to: its
         * backlog is looked at again shortly. */
        c->held = vnc_relay_backlog(v->relay, c->slot) > VNC_HOLD_BACKLOG;
        if (c->held)
            *timeout_ms = MIN(*timeout_ms, VNC_HOLD_RECHECK_MS);
        else
            c->poll_idx = pollset_add(ps, cl->sock, POLLIN);
    }
    if (v->dirty && v->nclients)
        *timeout_ms = 0;              /* updates to send: do not sleep */
}

static void vnc_dispatch(void *opaque, PollSet *ps)
{
    VncServer *v = opaque;
    for (int i = 0; i < v->nlisteners; i++)
        if (pollset_revents(ps, v->listeners[i].poll_idx) & POLLIN)
            vnc_accept(v, &v->listeners[i]);
    if (v->npending)
        vnc_settle_all_pending(v);
    bool work = v->dirty;
    for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next) {
        VncClient *c = cl->clientData;
        if (!c)
            continue;
        if (c->poll_idx >= 0)
            work |= (pollset_revents(ps, c->poll_idx) & (POLLIN | POLLHUP | POLLERR)) != 0;
        c->poll_idx = -1;
    }
    /* New clients (rfbNewClient above) are in libvncserver's list with
     * their banner sent; their answer comes with a later poll. */
    if (!work)
        return;
    v->dirty = false;
    for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next) {
        VncClient *c = cl->clientData;
        cl->onHold = c && c->held;
    }
    sigset_t old;
    vnc_signals_block(&old);
    rfbProcessEvents(v->screen, 0);
    vnc_signals_restore(&old);
    for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next)
        cl->onHold = FALSE;
}

/* ---- open / close ---- */

bool vnc_set_password(VncServer *v, const char *password, char *err, size_t errlen)
{
    if (!v || !v->auth) {
        snprintf(err, errlen, "the VNC server has no password authentication "
                              "(-vnc ...,password=on)");
        return false;
    }
    free(v->password);
    v->password = xstrdup(password);
    v->passwords[0] = v->password;
    return true;
}

void vnc_close(VncServer *v)
{
    if (!v)
        return;
    machine_remove_poll_hook(v->m, v);
    if (v->con)
        console_remove_listener(v->con, v);
    for (int i = 0; i < v->npending; i++)
        close(v->pending[i].fd);
    for (int i = 0; i < v->nlisteners; i++)
        close(v->listeners[i].fd);
    if (v->unix_path)
        unlink(v->unix_path);
    if (v->screen) {
        sigset_t old;
        vnc_signals_block(&old);
        rfbShutdownServer(v->screen, TRUE);
        vnc_signals_restore(&old);
        v->screen->cursor = v->lib_cursor;
        rfbScreenCleanup(v->screen);
    }
    vnc_relay_free(v->relay);
    timer_free(v->timer);
    free(v->blank);
    free(v->password);
    free(v->unix_path);
    free(v);
}

VncServer *vnc_open(Machine *m, Console *con, const DisplayInput *in, const VncOpt *o,
                    char *err, size_t errlen)
{
    char why[512];
    /* libvncserver would log every connection on stderr. */
    rfbLogEnable(0);
    VncServer *v = xcalloc(1, sizeof(*v));
    v->m = m;
    v->con = con;
    v->in = *in;
    v->auth = o->password;
    v->blank = xcalloc((size_t)VNC_BLANK_W * VNC_BLANK_H, 4);
    snprintf(v->desktop_name, sizeof v->desktop_name, "vx86%s%s%s",
             m->opts && m->opts->name ? " (" : "", m->opts && m->opts->name ? m->opts->name : "",
             m->opts && m->opts->name ? ")" : "");
    if (!vnc_listen(v, o, why, sizeof why)) {
        snprintf(err, errlen, "-vnc %s: %s", o->spec ? o->spec : "", why);
        vnc_close(v);
        return NULL;
    }
    vnc_describe(v->listeners[0].fd, false, &v->server_addr);
    v->relay = vnc_relay_new(why, sizeof why);
    if (!v->relay) {
        snprintf(err, errlen, "-vnc %s: %s", o->spec ? o->spec : "", why);
        vnc_close(v);
        return NULL;
    }
    int argc = 0;
    v->screen = rfbGetScreen(&argc, NULL, VNC_BLANK_W, VNC_BLANK_H, 8, 3, 4);
    if (!v->screen) {
        snprintf(err, errlen, "-vnc %s: libvncserver cannot start", o->spec ? o->spec : "");
        vnc_close(v);
        return NULL;
    }
    rfbScreenInfoPtr s = v->screen;
    s->screenData = v;
    s->frameBuffer = (char *)v->blank;
    s->desktopName = v->desktop_name;
    /* vx86 listens and accepts (above); libvncserver only serves. */
    s->port = s->ipv6port = -1;
    s->httpPort = s->http6Port = -1;
    s->autoPort = FALSE;
    s->alwaysShared = TRUE;           /* several clients at once, as QEMU's default */
    s->deferUpdateTime = 0;           /* the refresh timer already batches */
    s->deferPtrUpdateTime = 0;
    s->maxClientWait = VNC_CLIENT_WAIT_MS;
    s->ignoreSIGPIPE = TRUE;
    /* No cursor drawn into the guest's picture (it would be in the
     * console surface, and in screendumps). */
    v->lib_cursor = s->cursor;
    s->cursor = NULL;
    s->newClientHook = vnc_new_client;
    s->kbdAddEvent = vnc_key_event;
    s->kbdReleaseAllKeys = vnc_release_keys;
    s->ptrAddEvent = vnc_pointer_event;
    s->setTranslateFunction = vnc_set_translate;
    if (v->auth) {
        v->passwords[0] = NULL;       /* until change vnc password: nobody */
        s->authPasswdData = v->passwords;
        s->passwordCheck = rfbCheckPasswordByList;
        s->authPasswdFirstViewOnly = 1;
    }
    vnc_set_server_format(s);
    rfbInitServer(s);
    v->timer = timer_new(m->clock, vnc_tick, v);
    if (con) {
        ConsoleListener l = { vnc_console_resize, vnc_console_update, v };
        console_add_listener(con, &l);
    }
    if (!machine_add_poll_hook(m, vnc_fill, vnc_dispatch, v)) {
        snprintf(err, errlen, "-vnc %s: too many network backends", o->spec ? o->spec : "");
        vnc_close(v);
        return NULL;
    }
    return v;
}
