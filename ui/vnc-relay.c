/*
 * The VNC socket relay (see vnc-relay.h): one thread, poll() over every
 * client's socket and its socket pair.
 */
#include "ui/vnc-relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define RELAY_CHUNK 65536
#define RELAY_UP_MAX (256u << 10)     /* client input buffered towards libvncserver */

typedef struct RelayBuf {
    uint8_t *data;
    size_t start, len, cap;
} RelayBuf;

typedef struct RelayConn {
    int slot;                 /* in VncRelay.backlog */
    int cfd;                  /* the client's socket */
    int lfd;                  /* our end of libvncserver's socket pair */
    RelayBuf up;              /* client -> libvncserver */
    RelayBuf down;            /* libvncserver -> client */
    char said[VNC_RELAY_VERSION_LEN];  /* what libvncserver must say first... */
    int nsaid;                /* ... bytes of it still to check and drop */
    bool client_eof;          /* the client sent all it will */
    bool client_dead;         /* the client's socket failed: nothing more to it */
    bool up_shut;             /* libvncserver was told end-of-file */
    bool lib_eof;             /* libvncserver closed its end */
    int64_t linger_until;     /* after lib_eof: the last moment to deliver */
} RelayConn;

struct VncRelay {
    pthread_t thread;
    int wake[2];                      /* main thread -> relay thread */
    pthread_mutex_t lock;             /* guards incoming and stop */
    RelayConn **incoming;
    int nincoming, incoming_cap;
    bool stop;
    /* Per slot: taken (claimed by vnc_relay_add, freed by the thread) and
     * the bytes the client owes (written by the thread). */
    atomic_bool slot_used[VNC_RELAY_SLOTS];
    atomic_size_t backlog[VNC_RELAY_SLOTS];
    /* The relay thread's own. */
    RelayConn **conns;
    int nconns, conns_cap;
};

static int64_t now_ms(void)
{
    return host_monotonic_ns() / 1000000;
}

/* ---- buffers ---- */

static void buf_append(RelayBuf *b, const uint8_t *p, size_t n)
{
    if (b->start + b->len + n > b->cap) {
        if (b->start) {               /* slide down first */
            memmove(b->data, b->data + b->start, b->len);
            b->start = 0;
        }
        if (b->len + n > b->cap) {
            b->cap = MAX(b->cap * 2, b->len + n);
            b->data = xrealloc(b->data, b->cap);
        }
    }
    memcpy(b->data + b->start + b->len, p, n);
    b->len += n;
}

static void buf_consume(RelayBuf *b, size_t n)
{
    b->start += n;
    b->len -= n;
    if (!b->len)
        b->start = 0;
}

/* Sends what b holds to fd; false when fd failed. */
static bool buf_flush(RelayBuf *b, int fd)
{
    while (b->len) {
        ssize_t n = send(fd, b->data + b->start, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(b, (size_t)n);
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    return true;
}

/* Reads what fd has into b: 1 data or nothing yet, 0 end-of-file, -1 error. */
static int buf_fill(RelayBuf *b, int fd, size_t limit)
{
    uint8_t tmp[RELAY_CHUNK];
    while (b->len < limit) {
        ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n > 0) {
            buf_append(b, tmp, (size_t)n);
            continue;
        }
        if (n == 0)
            return 0;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 1 : -1;
    }
    return 1;
}

static void conn_free(VncRelay *r, RelayConn *c)
{
    atomic_store(&r->backlog[c->slot], 0);
    atomic_store(&r->slot_used[c->slot], false);
    if (c->cfd >= 0)
        close(c->cfd);
    if (c->lfd >= 0)
        close(c->lfd);
    free(c->up.data);
    free(c->down.data);
    free(c);
}

/* ---- one connection's work ---- */

/* Drops libvncserver's first bytes, which vx86 already sent the client
 * (see vnc_relay_add); false when libvncserver said something else. */
static bool drop_said(RelayConn *c)
{
    while (c->nsaid && c->down.len) {
        int i = VNC_RELAY_VERSION_LEN - c->nsaid;
        if (c->down.data[c->down.start] != (uint8_t)c->said[i])
            return false;
        buf_consume(&c->down, 1);
        c->nsaid--;
    }
    return true;
}

/* Moves what can move; false when the connection is finished.
 * client_ev: what poll said of the client's socket. */
static bool conn_step(RelayConn *c, int64_t now, short client_ev)
{
    if (!c->client_eof && !c->client_dead) {
        int r = buf_fill(&c->up, c->cfd, RELAY_UP_MAX);
        if (r <= 0)
            c->client_eof = true;
        if (r < 0)
            c->client_dead = true;
    }
    /* Hung up both ways (or reset) after its last byte: nothing more to
     * send it either. */
    if (c->client_eof && (client_ev & (POLLHUP | POLLERR)))
        c->client_dead = true;
    if (!c->up_shut) {
        if (!buf_flush(&c->up, c->lfd))
            return false;             /* libvncserver's end is gone */
        if (c->client_dead)
            c->up.len = 0;
        if (c->client_eof && !c->up.len) {
            shutdown(c->lfd, SHUT_WR);   /* libvncserver reads end-of-file */
            c->up_shut = true;
        }
    }
    if (!c->lib_eof) {
        int r = buf_fill(&c->down, c->lfd, VNC_RELAY_MAX_BACKLOG + 1);
        if (r <= 0) {
            c->lib_eof = true;
            c->linger_until = now + VNC_RELAY_LINGER_MS;
        }
        if (c->down.len > VNC_RELAY_MAX_BACKLOG)
            return false;             /* a client that does not read: dropped */
        if (!drop_said(c))
            return false;
    }
    if (!c->client_dead && !buf_flush(&c->down, c->cfd))
        c->client_dead = true;
    if (c->client_dead)
        c->down.len = 0;
    if (c->lib_eof && (!c->down.len || now >= c->linger_until))
        return false;
    return true;
}

static short conn_client_events(const RelayConn *c)
{
    short ev = 0;
    if (!c->client_eof && !c->client_dead && c->up.len < RELAY_UP_MAX)
        ev |= POLLIN;
    if (c->down.len && !c->client_dead)
        ev |= POLLOUT;
    return ev;
}

static short conn_lib_events(const RelayConn *c)
{
    short ev = 0;
    if (!c->lib_eof)
        ev |= POLLIN;
    if (c->up.len && !c->up_shut)
        ev |= POLLOUT;
    return ev;
}

/* ---- the thread ---- */

/* Takes the connections vnc_relay_add queued; false when told to stop. */
static bool relay_take_incoming(VncRelay *r)
{
    uint8_t junk[64];
    while (read(r->wake[0], junk, sizeof junk) > 0)
        ;
    pthread_mutex_lock(&r->lock);
    bool stop = r->stop;
    for (int i = 0; i < r->nincoming; i++) {
        if (r->nconns == r->conns_cap) {
            r->conns_cap = r->conns_cap ? r->conns_cap * 2 : 16;
            r->conns = xrealloc(r->conns, sizeof(*r->conns) * (size_t)r->conns_cap);
        }
        r->conns[r->nconns++] = r->incoming[i];
    }
    r->nincoming = 0;
    pthread_mutex_unlock(&r->lock);
    return !stop;
}

static void *relay_thread(void *opaque)
{
    VncRelay *r = opaque;
    struct pollfd *pfd = NULL;
    int pfd_cap = 0;
    for (;;) {
        int need = 1 + 2 * r->nconns;
        if (need > pfd_cap) {
            pfd_cap = need * 2;
            pfd = xrealloc(pfd, sizeof(*pfd) * (size_t)pfd_cap);
        }
        pfd[0] = (struct pollfd){ .fd = r->wake[0], .events = POLLIN };
        int64_t now = now_ms(), timeout = -1;
        for (int i = 0; i < r->nconns; i++) {
            RelayConn *c = r->conns[i];
            /* A side that is done is not polled at all: a hung-up socket
             * would report POLLHUP forever. */
            pfd[1 + 2 * i] = (struct pollfd){ .fd = c->client_dead ? -1 : c->cfd,
                                              .events = conn_client_events(c) };
            pfd[2 + 2 * i] = (struct pollfd){ .fd = c->lib_eof ? -1 : c->lfd,
                                              .events = conn_lib_events(c) };
            if (c->lib_eof) {
                int64_t left = MAX(c->linger_until - now, 0);
                timeout = timeout < 0 ? left : MIN(timeout, left);
            }
        }
        if (poll(pfd, (nfds_t)need, (int)timeout) < 0 && errno != EINTR)
            break;
        now = now_ms();
        /* Every connection takes a step (they are non-blocking): simpler
         * than sorting out which event meant what, and as cheap. */
        int k = 0;
        for (int i = 0; i < r->nconns; i++) {
            RelayConn *c = r->conns[i];
            bool touched = pfd[1 + 2 * i].revents || pfd[2 + 2 * i].revents || c->lib_eof;
            if (touched && !conn_step(c, now, pfd[1 + 2 * i].revents)) {
                conn_free(r, c);
                continue;
            }
            atomic_store(&r->backlog[c->slot], c->down.len);
            r->conns[k++] = c;
        }
        r->nconns = k;
        if ((pfd[0].revents & POLLIN) && !relay_take_incoming(r))
            break;
    }
    free(pfd);
    return NULL;
}

/* ---- the main thread's side ---- */

VncRelay *vnc_relay_new(char *err, size_t errlen)
{
    VncRelay *r = xcalloc(1, sizeof(*r));
    if (pipe2(r->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    for (int i = 0; i < VNC_RELAY_SLOTS; i++) {
        atomic_init(&r->slot_used[i], false);
        atomic_init(&r->backlog[i], 0);
    }
    /* The machine's signals (timer, kick, Ctrl-C) stay the main thread's. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, relay_thread, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf(err, errlen, "cannot start the relay thread: %s", strerror(rc));
        close(r->wake[0]);
        close(r->wake[1]);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    return r;
}

static int claim_slot(VncRelay *r)
{
    for (int i = 0; i < VNC_RELAY_SLOTS; i++) {
        bool free_slot = false;
        if (atomic_compare_exchange_strong(&r->slot_used[i], &free_slot, true))
            return i;
    }
    return -1;
}

size_t vnc_relay_backlog(VncRelay *r, int slot)
{
    return slot >= 0 && slot < VNC_RELAY_SLOTS ? atomic_load(&r->backlog[slot]) : 0;
}

int vnc_relay_add(VncRelay *r, int client_fd, const void *to_lib, size_t n, const char *said,
                  int *slot)
{
    int sv[2];
    *slot = claim_slot(r);
    if (*slot < 0) {
        close(client_fd);
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        atomic_store(&r->slot_used[*slot], false);
        close(client_fd);
        return -1;
    }
    /* Written before libvncserver looks (an empty socket pair takes a
     * few bytes at once). */
    if (n && write(sv[0], to_lib, n) != (ssize_t)n) {
        atomic_store(&r->slot_used[*slot], false);
        close(sv[0]);
        close(sv[1]);
        close(client_fd);
        return -1;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    fcntl(client_fd, F_SETFL, fcntl(client_fd, F_GETFL) | O_NONBLOCK);
    RelayConn *c = xcalloc(1, sizeof(*c));
    c->slot = *slot;
    atomic_store(&r->backlog[*slot], 0);
    c->cfd = client_fd;
    c->lfd = sv[0];
    if (said) {
        memcpy(c->said, said, VNC_RELAY_VERSION_LEN);
        c->nsaid = VNC_RELAY_VERSION_LEN;
    }
    pthread_mutex_lock(&r->lock);
    if (r->nincoming == r->incoming_cap) {
        r->incoming_cap = r->incoming_cap ? r->incoming_cap * 2 : 8;
        r->incoming = xrealloc(r->incoming, sizeof(*r->incoming) * (size_t)r->incoming_cap);
    }
    r->incoming[r->nincoming++] = c;
    pthread_mutex_unlock(&r->lock);
    ssize_t w = write(r->wake[1], "", 1);  /* a full pipe wakes the thread anyway */
    (void)w;
    return sv[1];
}

void vnc_relay_free(VncRelay *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_mutex_unlock(&r->lock);
    ssize_t w = write(r->wake[1], "", 1);
    (void)w;
    pthread_join(r->thread, NULL);
    for (int i = 0; i < r->nconns; i++)
        conn_free(r, r->conns[i]);
    for (int i = 0; i < r->nincoming; i++)
        conn_free(r, r->incoming[i]);
    free(r->conns);
    free(r->incoming);
    close(r->wake[0]);
    close(r->wake[1]);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
