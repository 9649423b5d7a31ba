/*
 * virtio-serial (see virtio-serial.h).  Facts used, virtio 1.2 section 5.3:
 * - queues: port 0 receiveq 0 / transmitq 1, control receiveq 2 / transmitq
 *   3, then port n (n >= 1) receiveq 2n + 2 / transmitq 2n + 3; with
 *   MULTIPORT (feature 1) (max_nr_ports + 1) * 2 queues, without it 2.
 * - configuration: le16 cols, le16 rows (F_SIZE), le32 max_nr_ports
 *   (MULTIPORT), le32 emerg_wr.
 * - control messages {le32 id, le16 event, le16 value}: the driver sends
 *   DEVICE_READY (value 1 = ready), PORT_READY (id, 1 = ready), PORT_OPEN
 *   (id, 1 open / 0 closed); the device sends DEVICE_ADD (id) per port,
 *   CONSOLE_PORT (id, 1) for a console, PORT_NAME (id) followed by the name
 *   bytes, PORT_OPEN (id, 1/0) for the host side of the connection.
 * Linux's driver (drivers/char/virtio_console.c, its behaviour only):
 * writes to a non-console port wait until the host side is open, and data
 * that arrives for a port the guest has not opened is thrown away, so the
 * device holds host input back until PORT_OPEN.
 */
#include "hw/virtio-serial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "core/util.h"

#define CTRL_RXQ        2
#define CTRL_TXQ        3
#define CTRL_MSG        8
#define TX_CHUNK        4096
#define TX_RETRY_NS     1000000   /* a full chardev is tried again after 1 ms */
/* Control messages waiting for the driver's buffers: a driver that keeps
 * saying DEVICE_READY without taking the answers cannot grow this. */
#define CTRL_PENDING_MAX (4 * VIRTIO_SERIAL_MAX_PORTS + 16)

typedef struct VSPort {
    struct VirtIOSerial *s;
    uint32_t id;
    bool used, console;
    char *name;
    CharDev *chr;
    bool ready;           /* the driver said PORT_READY */
    bool guest_open;      /* PORT_OPEN from the driver */
    bool host_open;       /* what we last told the driver */
    /* Output a socket chardev could not take yet: the element stays ours
     * (not used) and the rest goes out from tx_off when tx_timer fires. */
    VirtQueueElement *tx_elem;
    uint64_t tx_off;
    Timer *tx_timer;
} VSPort;

typedef struct CtrlMsg {
    struct CtrlMsg *next;
    size_t len;
    uint8_t data[];
} CtrlMsg;

struct VirtIOSerial {
    VirtIODevice vdev;    /* first: the state section nests it */
    uint32_t max_ports;
    VSPort ports[VIRTIO_SERIAL_MAX_PORTS];
    CtrlMsg *pending, *pending_tail;
    unsigned npending;
    uint8_t *buf;         /* TX_CHUNK */
};

static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint32_t v) { st16(p, (uint16_t)v); st16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }

VirtIODevice *virtio_serial_vdev(VirtIOSerial *s)
{
    return &s->vdev;
}

static bool multiport(const VirtIOSerial *s)
{
    return virtio_has_feature(&s->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

static int rx_queue(uint32_t id)
{
    return id == 0 ? 0 : (int)(2 * id + 2);
}

/* The port a data queue belongs to (queues 2 and 3 are control). */
static VSPort *queue_port(VirtIOSerial *s, int q)
{
    uint32_t id = q < 2 ? 0 : (uint32_t)(q - 2) / 2;
    return id < s->max_ports && s->ports[id].used ? &s->ports[id] : NULL;
}

static bool running(const VirtIOSerial *s)
{
    return (s->vdev.status & VIRTIO_STATUS_DRIVER_OK) && !s->vdev.broken;
}

/* ---- control messages to the driver ---- */

static void ctrl_flush(VirtIOSerial *s)
{
    VirtQueue *vq = &s->vdev.vq[CTRL_RXQ];
    if (!running(s) || !multiport(s) || !vq->ready)
        return;
    bool any = false;
    while (s->pending) {
        VirtQueueElement *e = virtqueue_pop(vq);
        if (!e)
            break;                        /* more when the driver adds buffers */
        CtrlMsg *m = s->pending;
        if (e->in_len < m->len) {
            LOG(LOG_GUEST_ERRORS, "virtio-serial: control buffer of %llu bytes for a "
                "%zu-byte message: message dropped\n", (unsigned long long)e->in_len, m->len);
            virtqueue_unpop(vq, e);
        } else {
            virtio_elem_write(&s->vdev, e, 0, m->data, m->len);
            virtqueue_push(vq, e, (uint32_t)m->len);
            any = true;
        }
        s->pending = m->next;
        if (!s->pending)
            s->pending_tail = NULL;
        s->npending--;
        free(m);
    }
    if (any)
        virtqueue_notify(vq);
}

static void ctrl_send(VirtIOSerial *s, uint32_t id, uint16_t event, uint16_t value,
                      const char *extra)
{
    size_t elen = extra ? strlen(extra) : 0;
    if (s->npending >= CTRL_PENDING_MAX) {
        LOG(LOG_GUEST_ERRORS, "virtio-serial: driver takes no control messages: event %u "
            "for port %u dropped\n", event, id);
        return;
    }
    CtrlMsg *m = xmalloc(sizeof *m + CTRL_MSG + elen);
    m->next = NULL;
    m->len = CTRL_MSG + elen;
    st32(m->data, id);
    st16(m->data + 4, event);
    st16(m->data + 6, value);
    if (elen)
        memcpy(m->data + CTRL_MSG, extra, elen);
    if (s->pending_tail)
        s->pending_tail->next = m;
    else
        s->pending = m;
    s->pending_tail = m;
    s->npending++;
    ctrl_flush(s);
}

static void ctrl_drop_pending(VirtIOSerial *s)
{
    while (s->pending) {
        CtrlMsg *m = s->pending;
        s->pending = m->next;
        free(m);
    }
    s->pending_tail = NULL;
    s->npending = 0;
}

/* ---- control messages from the driver ---- */

static void port_ready(VirtIOSerial *s, VSPort *p)
{
    p->ready = true;
    if (p->console)
        ctrl_send(s, p->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
    if (p->name)
        ctrl_send(s, p->id, VIRTIO_CONSOLE_PORT_NAME, 1, p->name);
    p->host_open = !p->chr || chardev_connected(p->chr);
    if (p->host_open)
        ctrl_send(s, p->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
}

static void ctrl_event(VirtIOSerial *s, uint32_t id, uint16_t event, uint16_t value)
{
    VSPort *p = id < s->max_ports && s->ports[id].used ? &s->ports[id] : NULL;
    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        if (value != 1) {
            LOG(LOG_GUEST_ERRORS, "virtio-serial: driver failed to initialise\n");
            return;
        }
        for (uint32_t i = 0; i < s->max_ports; i++)
            if (s->ports[i].used)
                ctrl_send(s, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
        return;
    case VIRTIO_CONSOLE_PORT_READY:
        if (p && value == 1)
            port_ready(s, p);
        else
            LOG(LOG_GUEST_ERRORS, "virtio-serial: PORT_READY %u for port %u %s\n", value, id,
                p ? "(driver could not add it)" : "that does not exist");
        return;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (!p) {
            LOG(LOG_GUEST_ERRORS, "virtio-serial: PORT_OPEN for port %u that does not exist\n", id);
            return;
        }
        p->guest_open = value != 0;
        if (p->guest_open && p->chr)
            chardev_accept_input(p->chr);
        return;
    default:
        LOG(LOG_GUEST_ERRORS, "virtio-serial: control event %u from the driver ignored\n", event);
        return;
    }
}

static void ctrl_receive(VirtIOSerial *s, VirtQueue *vq)
{
    bool any = false;
    VirtQueueElement *e;
    while ((e = virtqueue_pop(vq))) {
        uint8_t b[CTRL_MSG];
        if (virtio_elem_read(&s->vdev, e, 0, b, CTRL_MSG) == CTRL_MSG)
            ctrl_event(s, ld32(b), ld16(b + 4), ld16(b + 6));
        else
            LOG(LOG_GUEST_ERRORS, "virtio-serial: control message of %llu bytes ignored\n",
                (unsigned long long)e->out_len);
        virtqueue_push(vq, e, 0);
        any = true;
    }
    if (any)
        virtqueue_notify(vq);
}

/* ---- data ---- */

/* Copies e's bytes from *off to the chardev; false when the chardev took
 * only part (it is full: *off says how far it got). */
static bool port_write(VirtIOSerial *s, VSPort *p, VirtQueueElement *e, uint64_t *off)
{
    while (*off < e->out_len) {
        size_t n = virtio_elem_read(&s->vdev, e, *off, s->buf, TX_CHUNK);
        if (!n)
            return true;                  /* the buffer stopped being RAM */
        size_t w = p && p->chr ? chardev_write_some(p->chr, s->buf, n) : n;
        *off += w;
        if (w < n)
            return false;
    }
    return true;
}

/* Guest output: to the port's chardev, in chunks.  A chardev that is full
 * (a socket whose client reads slowly) holds the queue: the element is
 * kept and the rest written when the retry timer fires, so nothing the
 * guest wrote is lost and the guest waits like on a real line. */
static void port_transmit(VirtIOSerial *s, VirtQueue *vq, VSPort *p)
{
    bool any = false;
    for (;;) {
        VirtQueueElement *e = p && p->tx_elem ? p->tx_elem : virtqueue_pop(vq);
        if (!e)
            break;
        uint64_t off = p && p->tx_elem ? p->tx_off : 0;
        if (p)
            p->tx_elem = NULL;
        if (!p)
            LOG(LOG_GUEST_ERRORS, "virtio-serial: output on queue %d (no port) dropped\n",
                vq->index);
        if (!port_write(s, p, e, &off)) {
            p->tx_elem = e;
            p->tx_off = off;
            timer_mod(p->tx_timer, clock_now(s->vdev.m->clock) + TX_RETRY_NS);
            break;
        }
        virtqueue_push(vq, e, 0);
        any = true;
    }
    if (any)
        virtqueue_notify(vq);
}

static void port_tx_retry(void *opaque)
{
    VSPort *p = opaque;
    VirtIOSerial *s = p->s;
    VirtQueue *vq = &s->vdev.vq[rx_queue(p->id) + 1];
    if (p->tx_elem && running(s) && vq->ready)
        port_transmit(s, vq, p);
}

/* Input reaches a port only while the guest has it open (a driver without
 * MULTIPORT has port 0 open always). */
static bool port_input_open(const VSPort *p)
{
    const VirtIOSerial *s = p->s;
    if (!running(s) || !s->vdev.vq[rx_queue(p->id)].ready)
        return false;
    return multiport(s) ? p->ready && p->guest_open : p->id == 0;
}

/* The room of the next receive chain, looked at without taking it.
 * Chains with no writable bytes are returned empty on the way. */
static size_t port_can_receive(void *opaque)
{
    VSPort *p = opaque;
    VirtIOSerial *s = p->s;
    if (!port_input_open(p))
        return 0;
    VirtQueue *vq = &s->vdev.vq[rx_queue(p->id)];
    for (unsigned i = 0; i < vq->num; i++) {
        VirtQueueElement *e = virtqueue_pop(vq);
        if (!e)
            return 0;
        if (e->in_len) {
            size_t room = (size_t)MIN(e->in_len, (uint64_t)TX_CHUNK);
            virtqueue_unpop(vq, e);
            return room;
        }
        virtqueue_push(vq, e, 0);
        virtqueue_notify(vq);
    }
    return 0;
}

static void port_receive(void *opaque, const uint8_t *buf, size_t len)
{
    VSPort *p = opaque;
    VirtIOSerial *s = p->s;
    VirtQueue *vq = &s->vdev.vq[rx_queue(p->id)];
    VirtQueueElement *e = port_input_open(p) ? virtqueue_pop(vq) : NULL;
    if (!e) {
        LOG(LOG_GUEST_ERRORS, "virtio-serial: %zu bytes for port %u lost\n", len, p->id);
        return;
    }
    size_t n = virtio_elem_write(&s->vdev, e, 0, buf, len);
    virtqueue_push(vq, e, (uint32_t)n);
    virtqueue_notify(vq);
}

/* A client connected to the port's socket. */
static void port_connected(void *opaque)
{
    VSPort *p = opaque;
    if (p->ready && !p->host_open && running(p->s) && multiport(p->s)) {
        p->host_open = true;
        ctrl_send(p->s, p->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    }
}

/* ---- device ---- */

static void vser_queue_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;
    int q = vq->index;
    if (q == CTRL_RXQ) {
        ctrl_flush(s);
        return;
    }
    if (q == CTRL_TXQ) {
        if (multiport(s))
            ctrl_receive(s, vq);
        return;
    }
    VSPort *p = queue_port(s, q);
    if (q & 1)
        port_transmit(s, vq, p);
    else if (p && p->chr)
        chardev_accept_input(p->chr);     /* new receive buffers */
}

static void vser_get_config(VirtIODevice *vdev, uint8_t *cfg)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;
    st16(cfg, 0);
    st16(cfg + 2, 0);
    st32(cfg + 4, s->max_ports);
    st32(cfg + 8, 0);
}

static void vser_reset(VirtIODevice *vdev)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;
    ctrl_drop_pending(s);
    for (uint32_t i = 0; i < s->max_ports; i++) {
        VSPort *p = &s->ports[i];
        p->ready = p->guest_open = p->host_open = false;
        if (p->tx_elem)
            virtqueue_discard(&vdev->vq[rx_queue(p->id) + 1], p->tx_elem);
        p->tx_elem = NULL;
        if (p->tx_timer)
            timer_del(p->tx_timer);
    }
}

static const VirtIODeviceClass virtio_serial_class = {
    .name = "virtio-serial",
    .device_id = VIRTIO_ID_CONSOLE,
    .pci_class = 0x078000,            /* communication controller, other (as QEMU) */
    .config_size = 12,
    .get_config = vser_get_config,
    .queue_notify = vser_queue_notify,
    .reset = vser_reset,
};

static const VMField vsport_fields[] = {
    VMF_BOOL(ready, VSPort),
    VMF_BOOL(guest_open, VSPort),
    VMF_BOOL(host_open, VSPort),
    VMF_END
};

static const VMStateDesc vsport_vmsd = {
    .name = "virtio-serial-port", .version = 1, .min_version = 1, .fields = vsport_fields,
};

static const VMField vser_fields[] = {
    VMF_STRUCT(vdev, VirtIOSerial, virtio_vmsd),
    VMF_STRUCT_ARRAY(ports, VirtIOSerial, VIRTIO_SERIAL_MAX_PORTS, vsport_vmsd),
    VMF_END
};

/* Control messages still waiting for the driver's buffers are not part
 * of the state (a driver announces itself with DEVICE_READY again after a
 * reset), nor is output held back for a full chardev (the copy of the
 * machine loses it; the running machine keeps it). */
static const VMStateDesc vser_vmsd = {
    .name = "virtio-serial", .version = 1, .min_version = 1, .fields = vser_fields,
};

static void vser_free(void *opaque)
{
    VirtIOSerial *s = opaque;
    ctrl_drop_pending(s);
    for (uint32_t i = 0; i < VIRTIO_SERIAL_MAX_PORTS; i++) {
        if (s->ports[i].chr) {
            chardev_set_frontend(s->ports[i].chr, NULL, NULL, NULL);
            chardev_set_connect_handler(s->ports[i].chr, NULL, NULL);
        }
        free(s->ports[i].name);
        free(s->ports[i].tx_elem);
        timer_free(s->ports[i].tx_timer);
    }
    virtio_cleanup(&s->vdev);
    free(s->buf);
    free(s);
}

static const DeviceOps vser_device_ops = {
    .name = "virtio-serial", .free = vser_free, .vmsd = &vser_vmsd,
};

VirtIOSerial *virtio_serial_create(Machine *m, uint32_t max_ports)
{
    VirtIOSerial *s = xcalloc(1, sizeof *s);
    if (max_ports < 1)
        max_ports = 1;
    if (max_ports > VIRTIO_SERIAL_MAX_PORTS)
        max_ports = VIRTIO_SERIAL_MAX_PORTS;
    s->max_ports = max_ports;
    s->buf = xmalloc(TX_CHUNK);
    for (uint32_t i = 0; i < VIRTIO_SERIAL_MAX_PORTS; i++) {
        s->ports[i].s = s;
        s->ports[i].id = i;
    }
    uint64_t features = max_ports > 1 ? 1ULL << VIRTIO_CONSOLE_F_MULTIPORT : 0;
    int nvq = max_ports > 1 ? (int)(2 * max_ports + 2) : 2;
    virtio_init(&s->vdev, &virtio_serial_class, m, features, nvq, VIRTIO_SERIAL_QUEUE_SIZE);
    machine_add_device(m, &vser_device_ops, s);
    return s;
}

int virtio_serial_add_port(VirtIOSerial *s, CharDev *chr, bool console, const char *name,
                           int nr, char *err, size_t errlen)
{
    if (nr >= 0 && (uint32_t)nr >= s->max_ports) {
        snprintf(err, errlen, "port number %d is out of range (max_ports=%u)", nr, s->max_ports);
        return -1;
    }
    if (nr == 0 && !console) {
        snprintf(err, errlen, "port number 0 is kept for a virtconsole");
        return -1;
    }
    if (nr < 0 && console && !s->ports[0].used)
        nr = 0;
    for (uint32_t i = 1; nr < 0 && i < s->max_ports; i++)
        if (!s->ports[i].used)
            nr = (int)i;
    if (nr < 0) {
        snprintf(err, errlen, "no free port (max_ports=%u)", s->max_ports);
        return -1;
    }
    VSPort *p = &s->ports[nr];
    if (p->used) {
        snprintf(err, errlen, "port number %d is taken", nr);
        return -1;
    }
    for (uint32_t i = 0; name && i < s->max_ports; i++)
        if (s->ports[i].used && s->ports[i].name && !strcmp(s->ports[i].name, name)) {
            snprintf(err, errlen, "a port named %s exists already", name);
            return -1;
        }
    p->used = true;
    p->console = console;
    p->name = name && *name ? strndup(name, VIRTIO_SERIAL_NAME_MAX) : NULL;
    p->chr = chr;
    p->tx_timer = timer_new(s->vdev.m->clock, port_tx_retry, p);
    if (chr) {
        chardev_set_frontend(chr, port_can_receive, port_receive, p);
        chardev_set_connect_handler(chr, port_connected, p);
    }
    return nr;
}
