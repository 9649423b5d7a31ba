/* virtio-serial driven through its registers and queues with no guest
 * (tests/unit/vdriver.h), ports on "buffer" chardevs: the multiport
 * handshake as Linux's virtio_console driver does it (DEVICE_READY,
 * PORT_READY, PORT_OPEN) and the device's answers (DEVICE_ADD,
 * CONSOLE_PORT, PORT_NAME, PORT_OPEN), output to the chardev, input held
 * back until the guest opens the port, a driver without MULTIPORT, port
 * numbering and malformed control traffic. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "host/chardev.h"
#include "hw/virtio-serial.h"
#include "tests/unit/unit.h"
#include "tests/unit/vdriver.h"

#define CRX 2
#define CTX 3
#define CTRL_BUFS 0x300000u
#define NPORTS 4
#define NQ (2 * NPORTS + 2)

typedef struct Ser {
    VDrv *d;
    VirtIOSerial *s;
    CharDev *con, *port;
    uint64_t features;
    int next_ctrl;                     /* control receive buffer slot */
} Ser;

static CharDev *buffer_chardev(void)
{
    char err[128];
    CharDev *c = chardev_open("buffer", err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

/* A console (port 0) and "org.x.y" (port 1) on a 4-port device. */
static Ser *ser_new(uint64_t want, uint32_t max_ports)
{
    char err[128];
    Ser *t = calloc(1, sizeof *t);
    t->d = vdrv_new();
    t->s = virtio_serial_create(t->d->m, max_ports);
    t->con = buffer_chardev();
    t->port = buffer_chardev();
    ck_assert_int_eq(virtio_serial_add_port(t->s, t->con, true, NULL, -1, err, sizeof err), 0);
    if (max_ports > 1)
        ck_assert_int_eq(virtio_serial_add_port(t->s, t->port, false, "org.x.y", -1, err,
                                                sizeof err), 1);
    vdrv_attach(t->d, virtio_serial_vdev(t->s));
    t->features = vdrv_init(t->d, want, max_ports > 1 ? (int)(2 * max_ports + 2) : 2);
    return t;
}

static void ser_free(Ser *t)
{
    vdrv_free(t->d);
    chardev_free(t->con);
    chardev_free(t->port);
    free(t);
}

/* Gives the device n control receive buffers of 256 bytes. */
static void ctrl_buffers(Ser *t, int n)
{
    for (int i = 0; i < n; i++) {
        int slot = t->next_ctrl++ % VDRV_QSZ;
        vdrv_desc(t->d, CRX, slot, CTRL_BUFS + 256u * (unsigned)slot, 256, VIRTQ_DESC_F_WRITE, 0);
        vdrv_make_avail(t->d, CRX, (uint16_t)slot);
    }
    vdrv_notify(t->d, CRX);
}

/* The driver's control message. */
static void send_ctrl(Ser *t, uint32_t id, uint16_t event, uint16_t value)
{
    uint8_t m[8];
    memcpy(m, &id, 4);
    memcpy(m + 4, &event, 2);
    memcpy(m + 6, &value, 2);
    static int slot;
    slot = (slot + 1) % VDRV_QSZ;
    vdrv_put(t->d, CTRL_BUFS + 0x10000 + 16u * (unsigned)slot, m, 8);
    vdrv_desc(t->d, CTX, slot, CTRL_BUFS + 0x10000 + 16u * (unsigned)slot, 8, 0, 0);
    vdrv_publish(t->d, CTX, (uint16_t)slot);
    uint32_t uid, len;
    ck_assert(vdrv_used(t->d, CTX, &uid, &len));
}

typedef struct Msg {
    uint32_t id;
    uint16_t event, value;
    char extra[64];
} Msg;

/* The device's next control message; false when there is none. */
static bool recv_ctrl(Ser *t, Msg *m)
{
    uint32_t slot, len;
    if (!vdrv_used(t->d, CRX, &slot, &len))
        return false;
    uint8_t b[256];
    ck_assert_uint_ge(len, 8);
    ck_assert_uint_le(len, 256);
    vdrv_get(t->d, CTRL_BUFS + 256u * slot, b, len);
    memset(m, 0, sizeof *m);
    memcpy(&m->id, b, 4);
    memcpy(&m->event, b + 4, 2);
    memcpy(&m->value, b + 6, 2);
    memcpy(m->extra, b + 8, MIN(len - 8, sizeof m->extra - 1));
    return true;
}

static void expect(Ser *t, uint32_t id, uint16_t event, uint16_t value, const char *extra)
{
    Msg m;
    ck_assert_msg(recv_ctrl(t, &m), "no control message (wanted event %u)", event);
    ck_assert_uint_eq(m.id, id);
    ck_assert_uint_eq(m.event, event);
    ck_assert_uint_eq(m.value, value);
    if (extra)
        ck_assert_str_eq(m.extra, extra);
}

/* The handshake of a multiport driver; leaves port 1 open by the guest. */
static void handshake(Ser *t)
{
    ctrl_buffers(t, 8);
    send_ctrl(t, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect(t, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
    expect(t, 1, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
    send_ctrl(t, 0, VIRTIO_CONSOLE_PORT_READY, 1);
    expect(t, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
    expect(t, 0, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    send_ctrl(t, 1, VIRTIO_CONSOLE_PORT_READY, 1);
    expect(t, 1, VIRTIO_CONSOLE_PORT_NAME, 1, "org.x.y");
    expect(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    Msg m;
    ck_assert(!recv_ctrl(t, &m));
}

/* Guest output on port id's transmit queue. */
static void guest_write(Ser *t, uint32_t id, const char *s)
{
    int q = id == 0 ? 1 : (int)(2 * id + 3);
    vdrv_put(t->d, VDRV_BUF, s, strlen(s));
    vdrv_desc(t->d, q, 0, VDRV_BUF, (uint32_t)strlen(s), 0, 0);
    vdrv_publish(t->d, q, 0);
    uint32_t uid, len;
    ck_assert(vdrv_used(t->d, q, &uid, &len));
}

/* One receive buffer on port id; returns what arrived ("" if nothing). */
static void guest_buffer(Ser *t, uint32_t id)
{
    int q = id == 0 ? 0 : (int)(2 * id + 2);
    vdrv_desc(t->d, q, 0, VDRV_BUF + 0x1000, 64, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(t->d, q, 0);
}

static bool guest_read(Ser *t, uint32_t id, char *out)
{
    int q = id == 0 ? 0 : (int)(2 * id + 2);
    uint32_t uid, len;
    if (!vdrv_used(t->d, q, &uid, &len))
        return false;
    vdrv_get(t->d, VDRV_BUF + 0x1000, out, len);
    out[len] = 0;
    return true;
}

START_TEST(test_multiport_handshake_and_data)
{
    Ser *t = ser_new(~0ULL, NPORTS);
    ck_assert(t->features & 1ULL << VIRTIO_CONSOLE_F_MULTIPORT);
    ck_assert_uint_eq(vdrv_cr(t->d, VIRTIO_PCI_DEVICE_OFF + 4, 4), NPORTS);
    ck_assert_uint_eq(pci_get_word(virtio_pci_device(t->d->t), PCI_DEVICE_ID), 0x1003);
    handshake(t);
    /* Output of both ports reaches their chardevs. */
    guest_write(t, 0, "console says hi\n");
    guest_write(t, 1, "port data");
    size_t n;
    const uint8_t *b = chardev_buffer_data(t->con, &n);
    ck_assert_uint_eq(n, 16);
    ck_assert_mem_eq(b, "console says hi\n", 16);
    b = chardev_buffer_data(t->port, &n);
    ck_assert_uint_eq(n, 9);
    ck_assert_mem_eq(b, "port data", 9);
    /* Input waits for the guest's PORT_OPEN: Linux drops what comes before. */
    guest_buffer(t, 1);
    ck_assert_uint_eq(chardev_push_input(t->port, (const uint8_t *)"abc", 3), 3);
    char got[80];
    ck_assert(!guest_read(t, 1, got));
    send_ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    ck_assert(guest_read(t, 1, got));
    ck_assert_str_eq(got, "abc");
    /* Closed again: held back again. */
    send_ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 0);
    guest_buffer(t, 1);
    chardev_push_input(t->port, (const uint8_t *)"xyz", 3);
    ck_assert(!guest_read(t, 1, got));
    ck_assert_uint_eq(chardev_input_pending(t->port), 3);
    ser_free(t);
}
END_TEST

START_TEST(test_no_multiport)
{
    /* A driver without MULTIPORT: port 0 only, open from the start. */
    Ser *t = ser_new(~(1ULL << VIRTIO_CONSOLE_F_MULTIPORT), NPORTS);
    guest_buffer(t, 0);
    chardev_push_input(t->con, (const uint8_t *)"in", 2);
    char got[80];
    ck_assert(guest_read(t, 0, got));
    ck_assert_str_eq(got, "in");
    guest_write(t, 0, "out");
    size_t n;
    chardev_buffer_data(t->con, &n);
    ck_assert_uint_eq(n, 3);
    ser_free(t);
    /* max_ports=1: no MULTIPORT offered at all, two queues. */
    t = ser_new(~0ULL, 1);
    ck_assert(!(t->features & 1ULL << VIRTIO_CONSOLE_F_MULTIPORT));
    ck_assert_uint_eq(vdrv_cr(t->d, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    ser_free(t);
}
END_TEST

START_TEST(test_port_numbers)
{
    char err[128];
    VDrv *d = vdrv_new();
    VirtIOSerial *s = virtio_serial_create(d->m, 3);
    /* A serial port never takes 0; a console takes 0 only when free. */
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, false, "a", -1, err, sizeof err), 1);
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, false, "b", 0, err, sizeof err), -1);
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, true, NULL, -1, err, sizeof err), 0);
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, false, "a", -1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "named a"));
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, true, NULL, -1, err, sizeof err), 2);
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, false, "c", -1, err, sizeof err), -1);
    ck_assert_int_eq(virtio_serial_add_port(s, NULL, false, "c", 3, err, sizeof err), -1);
    vdrv_free(d);
}
END_TEST

START_TEST(test_malformed_control)
{
    Ser *t = ser_new(~0ULL, NPORTS);
    ctrl_buffers(t, 4);
    /* Events for ports that do not exist, unknown events, a short message,
     * a READY that failed: logged and ignored. */
    send_ctrl(t, 7, VIRTIO_CONSOLE_PORT_READY, 1);
    send_ctrl(t, 1000, VIRTIO_CONSOLE_PORT_OPEN, 1);
    send_ctrl(t, 0, 99, 1);
    send_ctrl(t, 0, VIRTIO_CONSOLE_DEVICE_READY, 0);
    vdrv_desc(t->d, CTX, 9, VDRV_BUF, 3, 0, 0);
    vdrv_publish(t->d, CTX, 9);
    Msg m;
    ck_assert(!recv_ctrl(t, &m));
    /* Output on the queues of a port nobody added. */
    guest_write(t, 3, "nobody");
    ck_assert_uint_eq(vdrv_status(t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    /* DEVICE_READY over and over without taking the answers: the device
     * keeps a bounded backlog. */
    for (int i = 0; i < 200; i++)
        send_ctrl(t, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    int got = 0;
    while (recv_ctrl(t, &m))
        got++;
    ck_assert_int_eq(got, 4);              /* the buffers it had */
    /* A control buffer too small for a name is skipped, not overrun. */
    ser_free(t);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    Ser *t = ser_new(~0ULL, NPORTS);
    handshake(t);
    send_ctrl(t, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(t->d->m, &b);
    Ser *u = ser_new(~0ULL, NPORTS);
    char *err = NULL;
    ck_assert_msg(machine_load_devices(u->d->m, b.data, b.len, &err) == 0, "%s", err);
    /* The guest's open port came along: input flows at once. */
    guest_buffer(u, 1);
    chardev_push_input(u->port, (const uint8_t *)"after", 5);
    char got[80];
    ck_assert(guest_read(u, 1, got));
    ck_assert_str_eq(got, "after");
    vmbuf_free(&b);
    ser_free(u);
    ser_free(t);
}
END_TEST

static Suite *virtio_serial_suite(void)
{
    Suite *s = suite_create("virtio-serial");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_multiport_handshake_and_data);
    tcase_add_test(tc, test_no_multiport);
    tcase_add_test(tc, test_port_numbers);
    tcase_add_test(tc, test_malformed_control);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(virtio_serial_suite)
