/*
 * Network clients (see net.h): peers, the bounded queue in front of a
 * receiver, MAC helpers, the -netdev dispatcher and the test backend.
 */
#include "net/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "net/net-int.h"

struct NetQueued {
    NetQueued *next;
    size_t len;
    uint8_t data[];
};

NetClient *net_client_new(const NetClientOps *ops, const char *id, void *opaque)
{
    NetClient *nc = xcalloc(1, sizeof *nc);
    nc->ops = ops;
    nc->opaque = opaque;
    snprintf(nc->id, sizeof nc->id, "%s", id ? id : ops->type);
    return nc;
}

static void queue_purge(NetClient *nc)
{
    NetQueued *q = nc->q_head;
    while (q) {
        NetQueued *next = q->next;
        free(q);
        q = next;
    }
    nc->q_head = nc->q_tail = NULL;
    nc->q_frames = 0;
    nc->q_bytes = 0;
}

void net_client_free(NetClient *nc)
{
    if (!nc)
        return;
    if (nc->peer)
        nc->peer->peer = NULL;
    nc->peer = NULL;
    queue_purge(nc);
    if (nc->ops->cleanup)
        nc->ops->cleanup(nc);
    free(nc);
}

void net_client_connect(NetClient *a, NetClient *b)
{
    if (a && a->peer)
        a->peer->peer = NULL;
    if (b && b->peer)
        b->peer->peer = NULL;
    if (a)
        a->peer = b;
    if (b)
        b->peer = a;
}

static bool can_receive(NetClient *nc)
{
    return !nc->ops->can_receive || nc->ops->can_receive(nc);
}

static bool enqueue(NetClient *to, const uint8_t *buf, size_t len)
{
    if (to->q_frames >= NET_QUEUE_MAX_FRAMES || to->q_bytes + len > NET_QUEUE_MAX_BYTES) {
        to->dropped++;
        return false;
    }
    NetQueued *q = xmalloc(sizeof *q + len);
    q->next = NULL;
    q->len = len;
    memcpy(q->data, buf, len);
    if (to->q_tail)
        to->q_tail->next = q;
    else
        to->q_head = q;
    to->q_tail = q;
    to->q_frames++;
    to->q_bytes += len;
    return true;
}

bool net_send(NetClient *nc, const uint8_t *buf, size_t len)
{
    if (nc->send_hook) {
        nc->send_hook(nc->send_hook_opaque, nc, buf, len);
        return true;
    }
    return net_deliver(nc, buf, len);
}

void net_queue_save(const NetClient *nc, uint8_t **buf, size_t *len)
{
    for (const NetQueued *q = nc->q_head; q; q = q->next) {
        *buf = xrealloc(*buf, *len + 4 + q->len);
        uint32_t l = (uint32_t)q->len;
        memcpy(*buf + *len, &l, 4);
        memcpy(*buf + *len + 4, q->data, q->len);
        *len += 4 + q->len;
    }
}

bool net_queue_restore(NetClient *nc, const uint8_t *buf, size_t len)
{
    queue_purge(nc);
    size_t off = 0;
    while (off < len) {
        uint32_t l;
        if (len - off < 4)
            return false;
        memcpy(&l, buf + off, 4);
        off += 4;
        if (l > len - off || !enqueue(nc, buf + off, l))
            return false;
        off += l;
    }
    return true;
}

bool net_deliver(NetClient *nc, const uint8_t *buf, size_t len)
{
    NetClient *to = nc->peer;
    if (!to || nc->link_down || to->link_down || len == 0 || len > NET_MAX_FRAME) {
        nc->dropped++;
        return false;
    }
    nc->tx_frames++;
    /* Keep order: behind frames already waiting. */
    if (!to->q_head && !to->flushing && can_receive(to)) {
        to->rx_frames++;
        if (to->ops->receive(to, buf, len))
            return true;
        to->rx_frames--;
    }
    return enqueue(to, buf, len);
}

void net_flush(NetClient *nc)
{
    if (nc->flushing)
        return;
    nc->flushing = true;
    bool drained = false;
    while (nc->q_head && can_receive(nc)) {
        NetQueued *q = nc->q_head;
        if (!nc->ops->receive(nc, q->data, q->len))
            break;
        nc->rx_frames++;
        nc->q_head = q->next;
        if (!nc->q_head)
            nc->q_tail = NULL;
        nc->q_frames--;
        nc->q_bytes -= q->len;
        free(q);
        drained = !nc->q_head;
    }
    nc->flushing = false;
    if (drained && nc->peer && nc->peer->ops->peer_drained)
        nc->peer->ops->peer_drained(nc->peer);
}

bool net_peer_busy(const NetClient *nc)
{
    return nc->peer && (nc->peer->q_head || !can_receive(nc->peer));
}

void net_set_link(NetClient *nc, bool up)
{
    nc->link_down = !up;
    if (nc->ops->link_changed)
        nc->ops->link_changed(nc, up);
    if (nc->peer && nc->peer->ops->link_changed)
        nc->peer->ops->link_changed(nc->peer, up);
}

/* ---- MAC addresses ---- */

bool net_parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi, lo;
        char c1 = s[0], c2 = c1 ? s[1] : 0;
        hi = (c1 >= '0' && c1 <= '9') ? c1 - '0' : (c1 | 0x20) >= 'a' && (c1 | 0x20) <= 'f' ? (c1 | 0x20) - 'a' + 10 : -1;
        lo = (c2 >= '0' && c2 <= '9') ? c2 - '0' : (c2 | 0x20) >= 'a' && (c2 | 0x20) <= 'f' ? (c2 | 0x20) - 'a' + 10 : -1;
        if (hi < 0 || lo < 0)
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5) {
            if (*s != ':' && *s != '-')
                return false;
            s++;
        }
    }
    return *s == '\0';
}

void net_default_mac(int index, uint8_t mac[6])
{
    static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(0x56 + index);
}

/* ---- spec parsing: TYPE,key=value,... (keys may repeat) ---- */

void netopts_free(NetOpts *o)
{
    for (int i = 0; i < o->n; i++) {
        free(o->key[i]);
        free(o->val[i]);
    }
    free(o->type);
    memset(o, 0, sizeof *o);
}

bool netopts_parse(const char *spec, NetOpts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    const char *p = spec;
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n == 0) {
        snprintf(err, errlen, "'%s': expected TYPE[,key=value...]", spec);
        return false;
    }
    o->type = strndup(p, n);
    p = comma ? comma + 1 : p + n;
    while (comma && *p) {
        comma = strchr(p, ',');
        n = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq || eq == p) {
            snprintf(err, errlen, "'%.*s': expected key=value", (int)n, p);
            netopts_free(o);
            return false;
        }
        if (o->n == NETOPTS_MAX) {
            snprintf(err, errlen, "too many options");
            netopts_free(o);
            return false;
        }
        o->key[o->n] = strndup(p, (size_t)(eq - p));
        o->val[o->n] = strndup(eq + 1, n - (size_t)(eq - p) - 1);
        o->n++;
        p = comma ? comma + 1 : p + n;
    }
    return true;
}

const char *netopts_get(const NetOpts *o, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->key[i], key))
            v = o->val[i];                /* the last one wins */
    return v;
}

int netopts_bool(const NetOpts *o, const char *key, bool dflt)
{
    const char *v = netopts_get(o, key);
    if (!v)
        return dflt;
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    return -1;
}

/* Unknown keys are refused, so a typo is not silently ignored. */
bool netopts_check_keys(const NetOpts *o, const char *const *known, char *err, size_t errlen)
{
    for (int i = 0; i < o->n; i++) {
        bool ok = !strcmp(o->key[i], "id");
        for (int k = 0; !ok && known[k]; k++)
            ok = !strcmp(o->key[i], known[k]);
        if (!ok) {
            snprintf(err, errlen, "%s: unknown option '%s'", o->type, o->key[i]);
            return false;
        }
    }
    return true;
}

static const NetBackend *const backends[] = {
    &net_user_backend, &net_socket_backend, &net_stream_backend, &net_dgram_backend,
    &net_tap_backend,
};

static const NetBackend *find_backend(const char *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
        if (!strcmp(backends[i]->type, type))
            return backends[i];
    return NULL;
}

static bool check_common(const NetOpts *o, const NetBackend **b, char *err, size_t errlen)
{
    *b = find_backend(o->type);
    if (!*b) {
        snprintf(err, errlen, "network backend '%s' not supported (user, socket, stream, dgram, tap)",
                 o->type);
        return false;
    }
    return netopts_check_keys(o, (*b)->keys, err, errlen) && (*b)->check(o, err, errlen);
}

bool netdev_check(const char *spec, char *err, size_t errlen)
{
    NetOpts o;
    if (!netopts_parse(spec, &o, err, errlen))
        return false;
    const NetBackend *b;
    bool ok = check_common(&o, &b, err, errlen);
    netopts_free(&o);
    return ok;
}

NetClient *netdev_open(Machine *m, const char *spec, const char *id, char *err, size_t errlen)
{
    NetOpts o;
    if (!netopts_parse(spec, &o, err, errlen))
        return NULL;
    const NetBackend *b;
    NetClient *nc = NULL;
    if (check_common(&o, &b, err, errlen)) {
        const char *name = id ? id : netopts_get(&o, "id");
        nc = b->open(m, &o, name ? name : o.type, err, errlen);
    }
    netopts_free(&o);
    return nc;
}

/* ---- the test backend ---- */

#define TEST_KEEP 64

typedef struct TestNet {
    uint8_t *frames[TEST_KEEP];
    size_t lens[TEST_KEEP];
    size_t count;                     /* frames received in all */
} TestNet;

static bool test_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    TestNet *t = nc->opaque;
    size_t slot = t->count % TEST_KEEP;
    free(t->frames[slot]);
    t->frames[slot] = xmalloc(len);
    memcpy(t->frames[slot], buf, len);
    t->lens[slot] = len;
    t->count++;
    return true;
}

static void test_cleanup(NetClient *nc)
{
    TestNet *t = nc->opaque;
    for (int i = 0; i < TEST_KEEP; i++)
        free(t->frames[i]);
    free(t);
}

static const NetClientOps test_ops = {
    .type = "test", .receive = test_receive, .cleanup = test_cleanup,
};

NetClient *test_netdev_new(const char *id)
{
    return net_client_new(&test_ops, id, xcalloc(1, sizeof(TestNet)));
}

size_t test_netdev_count(NetClient *nc)
{
    return ((TestNet *)nc->opaque)->count;
}

const uint8_t *test_netdev_frame(NetClient *nc, size_t n, size_t *len)
{
    TestNet *t = nc->opaque;
    size_t kept = t->count < TEST_KEEP ? t->count : TEST_KEEP;
    if (n >= kept)
        return NULL;
    size_t slot = (t->count - kept + n) % TEST_KEEP;
    *len = t->lens[slot];
    return t->frames[slot];
}

void test_netdev_clear(NetClient *nc)
{
    TestNet *t = nc->opaque;
    for (int i = 0; i < TEST_KEEP; i++) {
        free(t->frames[i]);
        t->frames[i] = NULL;
    }
    t->count = 0;
}

bool test_netdev_inject(NetClient *nc, const uint8_t *buf, size_t len)
{
    return net_send(nc, buf, len);
}

/* ---- backends as machine devices ---- */

#include "core/machine.h"

static void netdev_device_free(void *opaque)
{
    net_client_free(opaque);
}

static const DeviceOps netdev_device_ops = {
    .name = "netdev", .free = netdev_device_free,
};

void netdev_attach(Machine *m, NetClient *nc)
{
    machine_add_device(m, &netdev_device_ops, nc);
}
