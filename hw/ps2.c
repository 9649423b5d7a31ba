/*
 * PS/2 keyboard and mouse: the command sets from the IBM PS/2 keyboard and
 * mouse technical references, the MF2 keyboard's scan code sets 1 and 2,
 * and the IntelliMouse wheel extensions (ID 3 after sample rates 200, 100,
 * 80; ID 4, five buttons, after 200, 200, 80 from ID 3).
 *
 * Not modelled: scan code set 3 (the keyboard answers 0xF0 0x03 with
 * Resend, as keyboards without set 3 do, and guests fall back to set 2);
 * typematic repeat (the UI delivers host key repeats as further make
 * codes; the rate byte is kept); the mouse's sample-rate pacing (a packet
 * goes out per event) and the overflow bits (big moves are split instead).
 */
#include "hw/ps2.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define PS2_QUEUE_SIZE 256

#define PS2_ACK    0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa
#define PS2_ECHO   0xee

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint16_t head, count;
} PS2Queue;

struct PS2Kbd {
    Machine *m;
    PS2NotifyFn notify;
    void *opaque;
    PS2Queue q;
    uint8_t pending_cmd;      /* command waiting for its parameter, 0: none */
    uint8_t scancode_set;     /* 1 or 2 */
    uint8_t leds;             /* bit 0 Scroll, 1 Num, 2 Caps */
    uint8_t typematic;
    bool scanning;
    uint8_t last_sent;        /* for Resend */
};

struct PS2Mouse {
    Machine *m;
    PS2NotifyFn notify;
    void *opaque;
    PS2Queue q;
    uint8_t pending_cmd;
    uint8_t sample_rate, resolution;
    bool scaling21, reporting, remote, wrap;
    uint8_t id;               /* 0, 3 (wheel) or 4 (wheel + 5 buttons) */
    uint8_t buttons;          /* PS2_BUTTON_* */
    bool report_pending;      /* buttons changed, packet not yet queued */
    int32_t dx, dy, dz;       /* movement not yet reported; dy points up */
    uint8_t knock[3];         /* the last three sample rates set */
    uint8_t last_sent;
};

/* ---- the byte queue both devices use ---- */

static unsigned queue_room(const PS2Queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

static void queue_put(PS2Queue *q, uint8_t b)
{
    if (q->count >= PS2_QUEUE_SIZE)
        return;
    q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = b;
    q->count++;
}

static int queue_get(PS2Queue *q)
{
    if (q->count == 0)
        return -1;
    uint8_t b = q->data[q->head];
    q->head = (q->head + 1) % PS2_QUEUE_SIZE;
    q->count--;
    return b;
}

static void queue_clear(PS2Queue *q)
{
    q->head = 0;
    q->count = 0;
}

static const VMField ps2_queue_fields[] = {
    VMF_U8_ARRAY(data, PS2Queue, PS2_QUEUE_SIZE),
    VMF_U16(head, PS2Queue),
    VMF_U16(count, PS2Queue),
    VMF_END
};
static const VMStateDesc ps2_queue_vmsd = {
    .name = "ps2-queue", .version = 1, .min_version = 1, .fields = ps2_queue_fields,
};

static bool queue_valid(const PS2Queue *q)
{
    return q->head < PS2_QUEUE_SIZE && q->count <= PS2_QUEUE_SIZE;
}

/* ---- scan code set 2 to set 1 (the 8042's translation table) ---- */

static const uint8_t set2_to_set1[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t ps2_set2_to_set1(uint8_t code)
{
    if (code < 0x80)
        return set2_to_set1[code];
    if (code == 0x83)       /* F7: the one set-2 code above 0x7f */
        return 0x41;
    if (code == 0x84)       /* Alt+SysRq */
        return 0x54;
    return code;            /* prefixes and replies (E0, FA, AA, ...) pass */
}

/* ======================== keyboard ======================== */

static void kbd_notify(PS2Kbd *k)
{
    if (k->q.count && k->notify)
        k->notify(k->opaque);
}

static void kbd_set_defaults(PS2Kbd *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2b;      /* 10.9 characters/s, 500 ms delay */
    k->pending_cmd = 0;
}

static void kbd_reset(void *opaque)
{
    PS2Kbd *k = opaque;
    queue_clear(&k->q);
    kbd_set_defaults(k);
    k->leds = 0;
    k->scanning = true;
    k->last_sent = 0;
}

/* The parameter byte of ED (LEDs), F3 (typematic), F0 (scan code set) or
 * of the set-3 key commands FB/FC/FD. */
static void kbd_write_param(PS2Kbd *k, uint8_t cmd, uint8_t b)
{
    switch (cmd) {
    case 0xed:
        k->leds = b & 7;
        queue_put(&k->q, PS2_ACK);
        break;
    case 0xf3:
        k->typematic = b & 0x7f;
        queue_put(&k->q, PS2_ACK);
        break;
    case 0xf0:
        if (b == 0) {
            queue_put(&k->q, PS2_ACK);
            queue_put(&k->q, k->scancode_set);
        } else if (b == 1 || b == 2) {
            k->scancode_set = b;
            queue_put(&k->q, PS2_ACK);
        } else {
            queue_put(&k->q, PS2_RESEND);   /* set 3 not supported */
        }
        break;
    default:
        queue_put(&k->q, PS2_ACK);
        break;
    }
}

void ps2_kbd_write(PS2Kbd *k, uint8_t b)
{
    /* Bytes from 0xED up are commands even while a parameter is expected
     * (no valid parameter is that large). */
    if (k->pending_cmd && b < 0xed) {
        uint8_t cmd = k->pending_cmd;
        k->pending_cmd = 0;
        kbd_write_param(k, cmd, b);
        kbd_notify(k);
        return;
    }
    k->pending_cmd = 0;
    switch (b) {
    case 0xff:                  /* reset and self test */
        kbd_reset(k);
        queue_put(&k->q, PS2_ACK);
        queue_put(&k->q, PS2_BAT_OK);
        break;
    case 0xfe:                  /* resend the last byte */
        queue_put(&k->q, k->last_sent);
        break;
    case 0xf6:                  /* set defaults, keep scanning state */
        queue_clear(&k->q);
        kbd_set_defaults(k);
        queue_put(&k->q, PS2_ACK);
        break;
    case 0xf5:                  /* defaults and stop scanning */
        queue_clear(&k->q);
        kbd_set_defaults(k);
        k->scanning = false;
        queue_put(&k->q, PS2_ACK);
        break;
    case 0xf4:                  /* clear buffer and scan */
        queue_clear(&k->q);
        k->scanning = true;
        queue_put(&k->q, PS2_ACK);
        break;
    case 0xf2:                  /* identify: MF2 keyboard */
        queue_put(&k->q, PS2_ACK);
        queue_put(&k->q, 0xab);
        queue_put(&k->q, 0x83);
        break;
    case 0xee:
        queue_put(&k->q, PS2_ECHO);
        break;
    case 0xed: case 0xf3: case 0xf0: case 0xfb: case 0xfc: case 0xfd:
        k->pending_cmd = b;
        queue_put(&k->q, PS2_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa:   /* set-3 "all keys" modes */
        queue_put(&k->q, PS2_ACK);
        break;
    default:
        LOG(LOG_GUEST_ERRORS, "ps2-kbd: unknown command 0x%02x\n", b);
        queue_put(&k->q, PS2_RESEND);
        break;
    }
    kbd_notify(k);
}

int ps2_kbd_read(PS2Kbd *k)
{
    int b = queue_get(&k->q);
    if (b >= 0)
        k->last_sent = (uint8_t)b;
    return b;
}

bool ps2_kbd_has_data(const PS2Kbd *k)
{
    return k->q.count > 0;
}

/* Builds the byte sequence for one key event in the current set. */
static unsigned kbd_encode_key(const PS2Kbd *k, int keycode, bool down, uint8_t *out)
{
    unsigned n = 0;
    if (keycode == PS2_KEY_PAUSE) {
        static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
        static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
        if (!down)
            return 0;         /* Pause has no break code */
        const uint8_t *seq = k->scancode_set == 1 ? pause1 : pause2;
        n = k->scancode_set == 1 ? sizeof(pause1) : sizeof(pause2);
        memcpy(out, seq, n);
        return n;
    }
    if (keycode < 0 || (keycode > 0xff && (keycode >> 8) != 0xe0))
        return 0;
    uint8_t code = keycode & 0xff;
    if (keycode >> 8)
        out[n++] = 0xe0;
    if (k->scancode_set == 1) {
        out[n++] = (uint8_t)(ps2_set2_to_set1(code) | (down ? 0 : 0x80));
    } else {
        if (!down)
            out[n++] = 0xf0;
        out[n++] = code;
    }
    return n;
}

void ps2_kbd_key_event(PS2Kbd *k, int keycode, bool down)
{
    if (!k->scanning)
        return;
    uint8_t seq[8];
    unsigned n = kbd_encode_key(k, keycode, down, seq);
    if (n == 0) {
        if (down || keycode != PS2_KEY_PAUSE)
            LOG(LOG_UNIMP, "ps2-kbd: no scan code for keycode 0x%x\n", keycode);
        return;
    }
    if (queue_room(&k->q) < n) {
        LOG(LOG_GUEST_ERRORS, "ps2-kbd: buffer full, key 0x%x dropped\n", keycode);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        queue_put(&k->q, seq[i]);
    kbd_notify(k);
}

int ps2_kbd_scancode_set(const PS2Kbd *k) { return k->scancode_set; }
uint8_t ps2_kbd_leds(const PS2Kbd *k) { return k->leds; }
bool ps2_kbd_scanning(const PS2Kbd *k) { return k->scanning; }

static int kbd_post_load(void *opaque, int version, char **err)
{
    PS2Kbd *k = opaque;
    const char *bad = NULL;
    if (!queue_valid(&k->q))
        bad = "output queue index/count out of range";
    else if (k->scancode_set != 1 && k->scancode_set != 2)
        bad = "scan code set not 1 or 2";
    if (bad) {
        set_error(err, "ps2-kbd: %s", bad);
        queue_clear(&k->q);
        k->scancode_set = 2;
        return -1;
    }
    return 0;
}

static const VMField kbd_fields[] = {
    VMF_STRUCT(q, PS2Kbd, ps2_queue_vmsd),
    VMF_U8(pending_cmd, PS2Kbd),
    VMF_U8(scancode_set, PS2Kbd),
    VMF_U8(leds, PS2Kbd),
    VMF_U8(typematic, PS2Kbd),
    VMF_BOOL(scanning, PS2Kbd),
    VMF_U8(last_sent, PS2Kbd),
    VMF_END
};
static const VMStateDesc kbd_vmsd = {
    .name = "ps2-kbd", .version = 1, .min_version = 1,
    .fields = kbd_fields, .post_load = kbd_post_load,
};

static const DeviceOps kbd_device_ops = {
    .name = "ps2-kbd", .reset = kbd_reset, .free = free, .vmsd = &kbd_vmsd,
};

PS2Kbd *ps2_kbd_create(Machine *m, PS2NotifyFn notify, void *opaque)
{
    PS2Kbd *k = xcalloc(1, sizeof(*k));
    k->m = m;
    k->notify = notify;
    k->opaque = opaque;
    kbd_reset(k);
    machine_add_device(m, &kbd_device_ops, k);
    return k;
}

/* ======================== mouse ======================== */

static void mouse_notify(PS2Mouse *ms)
{
    if (ms->q.count && ms->notify)
        ms->notify(ms->opaque);
}

static void mouse_clear_counters(PS2Mouse *ms)
{
    ms->dx = ms->dy = ms->dz = 0;
    ms->report_pending = false;
}

static void mouse_set_defaults(PS2Mouse *ms)
{
    ms->sample_rate = 100;
    ms->resolution = 2;       /* 4 counts/mm */
    ms->scaling21 = false;
    ms->reporting = false;
    ms->pending_cmd = 0;
    mouse_clear_counters(ms);
}

static void mouse_reset(void *opaque)
{
    PS2Mouse *ms = opaque;
    queue_clear(&ms->q);
    mouse_set_defaults(ms);
    ms->remote = false;
    ms->wrap = false;
    ms->id = 0;
    memset(ms->knock, 0, sizeof(ms->knock));
    ms->last_sent = 0;
}

static unsigned mouse_packet_size(const PS2Mouse *ms)
{
    return ms->id ? 4 : 3;
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling of stream reports (PS/2 mouse reference table). */
static int32_t mouse_scale21(int32_t v)
{
    static const int8_t small[6] = { 0, 1, 1, 3, 6, 9 };
    int32_t a = v < 0 ? -v : v;
    int32_t r = a < 6 ? small[a] : 2 * a;
    return v < 0 ? -r : r;
}

/* Queues one movement packet from the counters, taking out what it
 * reports (the rest waits for the next packet). */
static void mouse_queue_packet(PS2Mouse *ms, bool stream)
{
    int32_t dx = clamp32(ms->dx, -256, 255);
    int32_t dy = clamp32(ms->dy, -256, 255);
    int32_t dz = ms->id == 4 ? clamp32(ms->dz, -8, 7) : clamp32(ms->dz, -128, 127);
    ms->dx -= dx;
    ms->dy -= dy;
    if (ms->id)
        ms->dz -= dz;
    else
        ms->dz = 0;         /* no wheel byte: wheel motion is lost */
    if (stream && ms->scaling21) {
        dx = clamp32(mouse_scale21(dx), -256, 255);
        dy = clamp32(mouse_scale21(dy), -256, 255);
    }
    uint8_t b0 = 0x08;
    b0 |= (ms->buttons & PS2_BUTTON_LEFT) ? 0x01 : 0;
    b0 |= (ms->buttons & PS2_BUTTON_RIGHT) ? 0x02 : 0;
    b0 |= (ms->buttons & PS2_BUTTON_MIDDLE) ? 0x04 : 0;
    b0 |= dx < 0 ? 0x10 : 0;
    b0 |= dy < 0 ? 0x20 : 0;
    queue_put(&ms->q, b0);
    queue_put(&ms->q, (uint8_t)dx);
    queue_put(&ms->q, (uint8_t)dy);
    if (ms->id == 3) {
        queue_put(&ms->q, (uint8_t)dz);
    } else if (ms->id == 4) {
        uint8_t b3 = (uint8_t)(dz & 0x0f);
        b3 |= (ms->buttons & PS2_BUTTON_4) ? 0x10 : 0;
        b3 |= (ms->buttons & PS2_BUTTON_5) ? 0x20 : 0;
        queue_put(&ms->q, b3);
    }
    ms->report_pending = false;
}

static bool mouse_has_report(const PS2Mouse *ms)
{
    return ms->report_pending || ms->dx || ms->dy || (ms->id && ms->dz);
}

/* Stream mode: send what is pending while whole packets fit. */
static void mouse_flush_stream(PS2Mouse *ms)
{
    if (!ms->reporting || ms->remote || ms->wrap)
        return;
    while (mouse_has_report(ms) && queue_room(&ms->q) >= mouse_packet_size(ms))
        mouse_queue_packet(ms, true);
}

void ps2_mouse_event(PS2Mouse *ms, int dx, int dy, int dz, unsigned buttons)
{
    buttons &= 0x1f;
    if (buttons != ms->buttons) {
        ms->buttons = (uint8_t)buttons;
        ms->report_pending = true;
    }
    /* Stream mode with reporting off: the mouse is not counting. */
    if (!ms->remote && !ms->reporting) {
        mouse_clear_counters(ms);
        return;
    }
    /* Saturate so a runaway host cannot overflow the counters. */
    const int32_t lim = 1 << 16;
    ms->dx = clamp32(ms->dx + clamp32(dx, -lim, lim), -lim, lim);
    ms->dy = clamp32(ms->dy - clamp32(dy, -lim, lim), -lim, lim);
    ms->dz = clamp32(ms->dz + clamp32(dz, -lim, lim), -lim, lim);
    mouse_flush_stream(ms);
    mouse_notify(ms);
}

static bool mouse_rate_valid(uint8_t r)
{
    static const uint8_t rates[] = { 10, 20, 40, 60, 80, 100, 200 };
    for (size_t i = 0; i < ARRAY_SIZE(rates); i++)
        if (rates[i] == r)
            return true;
    return false;
}

/* The IntelliMouse "knocks": particular sample-rate sequences. */
static void mouse_check_knock(PS2Mouse *ms)
{
    const uint8_t *k = ms->knock;
    if (ms->id == 0 && k[0] == 200 && k[1] == 100 && k[2] == 80)
        ms->id = 3;
    else if (ms->id == 3 && k[0] == 200 && k[1] == 200 && k[2] == 80)
        ms->id = 4;
}

static void mouse_write_param(PS2Mouse *ms, uint8_t cmd, uint8_t b)
{
    if (cmd == 0xf3) {
        if (!mouse_rate_valid(b)) {
            queue_put(&ms->q, PS2_RESEND);
            return;
        }
        ms->sample_rate = b;
        ms->knock[0] = ms->knock[1];
        ms->knock[1] = ms->knock[2];
        ms->knock[2] = b;
        mouse_check_knock(ms);
        queue_put(&ms->q, PS2_ACK);
    } else {        /* 0xe8: resolution */
        if (b > 3) {
            queue_put(&ms->q, PS2_RESEND);
            return;
        }
        ms->resolution = b;
        queue_put(&ms->q, PS2_ACK);
    }
}

static void mouse_queue_status(PS2Mouse *ms)
{
    uint8_t s = 0;
    s |= ms->remote ? 0x40 : 0;
    s |= ms->reporting ? 0x20 : 0;
    s |= ms->scaling21 ? 0x10 : 0;
    s |= (ms->buttons & PS2_BUTTON_LEFT) ? 0x04 : 0;
    s |= (ms->buttons & PS2_BUTTON_MIDDLE) ? 0x02 : 0;
    s |= (ms->buttons & PS2_BUTTON_RIGHT) ? 0x01 : 0;
    queue_put(&ms->q, PS2_ACK);
    queue_put(&ms->q, s);
    queue_put(&ms->q, ms->resolution);
    queue_put(&ms->q, ms->sample_rate);
}

static void mouse_command(PS2Mouse *ms, uint8_t b)
{
    switch (b) {
    case 0xff:                  /* reset: ACK, BAT passed, ID */
        mouse_reset(ms);
        queue_put(&ms->q, PS2_ACK);
        queue_put(&ms->q, PS2_BAT_OK);
        queue_put(&ms->q, 0x00);
        break;
    case 0xfe:
        queue_put(&ms->q, ms->last_sent);
        break;
    case 0xf6:
        mouse_set_defaults(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xf5:
        ms->reporting = false;
        mouse_clear_counters(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xf4:
        ms->reporting = true;
        mouse_clear_counters(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xf3: case 0xe8:
        ms->pending_cmd = b;
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xf2:
        queue_put(&ms->q, PS2_ACK);
        queue_put(&ms->q, ms->id);
        break;
    case 0xf0:                  /* remote mode */
        ms->remote = true;
        mouse_clear_counters(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xee:                  /* wrap (echo) mode */
        ms->wrap = true;
        mouse_clear_counters(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xec:
        ms->wrap = false;
        mouse_clear_counters(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xeb:                  /* read data: one packet, any mode */
        queue_put(&ms->q, PS2_ACK);
        if (queue_room(&ms->q) >= mouse_packet_size(ms))
            mouse_queue_packet(ms, false);
        break;
    case 0xea:                  /* stream mode */
        ms->remote = false;
        mouse_clear_counters(ms);
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xe9:
        mouse_queue_status(ms);
        break;
    case 0xe7:
        ms->scaling21 = true;
        queue_put(&ms->q, PS2_ACK);
        break;
    case 0xe6:
        ms->scaling21 = false;
        queue_put(&ms->q, PS2_ACK);
        break;
    default:
        LOG(LOG_GUEST_ERRORS, "ps2-mouse: unknown command 0x%02x\n", b);
        queue_put(&ms->q, PS2_RESEND);
        break;
    }
}

void ps2_mouse_write(PS2Mouse *ms, uint8_t b)
{
    if (ms->wrap && b != 0xff && b != 0xec) {
        queue_put(&ms->q, b);     /* wrap mode echoes everything else */
    } else if (ms->pending_cmd && b < 0xe6) {
        uint8_t cmd = ms->pending_cmd;
        ms->pending_cmd = 0;
        mouse_write_param(ms, cmd, b);
    } else {
        ms->pending_cmd = 0;
        mouse_command(ms, b);
    }
    mouse_notify(ms);
}

int ps2_mouse_read(PS2Mouse *ms)
{
    int b = queue_get(&ms->q);
    if (b >= 0)
        ms->last_sent = (uint8_t)b;
    /* Movement that did not fit goes out as the queue drains.  No notify
     * here: the controller is the caller and looks at the queue next. */
    if (ms->q.count == 0 && mouse_has_report(ms))
        mouse_flush_stream(ms);
    return b;
}

bool ps2_mouse_has_data(const PS2Mouse *ms)
{
    return ms->q.count > 0;
}

uint8_t ps2_mouse_id(const PS2Mouse *ms) { return ms->id; }

static int mouse_post_load(void *opaque, int version, char **err)
{
    PS2Mouse *ms = opaque;
    const char *bad = NULL;
    const int32_t lim = 1 << 16;
    if (!queue_valid(&ms->q))
        bad = "output queue index/count out of range";
    else if (ms->id != 0 && ms->id != 3 && ms->id != 4)
        bad = "device ID not 0, 3 or 4";
    else if (ms->resolution > 3)
        bad = "resolution out of range";
    else if (ms->dx < -lim || ms->dx > lim || ms->dy < -lim || ms->dy > lim ||
             ms->dz < -lim || ms->dz > lim)
        bad = "movement counters out of range";
    if (bad) {
        set_error(err, "ps2-mouse: %s", bad);
        queue_clear(&ms->q);
        mouse_set_defaults(ms);
        ms->id = 0;
        return -1;
    }
    return 0;
}

static const VMField mouse_fields[] = {
    VMF_STRUCT(q, PS2Mouse, ps2_queue_vmsd),
    VMF_U8(pending_cmd, PS2Mouse),
    VMF_U8(sample_rate, PS2Mouse),
    VMF_U8(resolution, PS2Mouse),
    VMF_BOOL(scaling21, PS2Mouse),
    VMF_BOOL(reporting, PS2Mouse),
    VMF_BOOL(remote, PS2Mouse),
    VMF_BOOL(wrap, PS2Mouse),
    VMF_U8(id, PS2Mouse),
    VMF_U8(buttons, PS2Mouse),
    VMF_BOOL(report_pending, PS2Mouse),
    VMF_I32(dx, PS2Mouse),
    VMF_I32(dy, PS2Mouse),
    VMF_I32(dz, PS2Mouse),
    VMF_U8_ARRAY(knock, PS2Mouse, 3),
    VMF_U8(last_sent, PS2Mouse),
    VMF_END
};
static const VMStateDesc mouse_vmsd = {
    .name = "ps2-mouse", .version = 1, .min_version = 1,
    .fields = mouse_fields, .post_load = mouse_post_load,
};

static const DeviceOps mouse_device_ops = {
    .name = "ps2-mouse", .reset = mouse_reset, .free = free, .vmsd = &mouse_vmsd,
};

PS2Mouse *ps2_mouse_create(Machine *m, PS2NotifyFn notify, void *opaque)
{
    PS2Mouse *ms = xcalloc(1, sizeof(*ms));
    ms->m = m;
    ms->notify = notify;
    ms->opaque = opaque;
    mouse_reset(ms);
    machine_add_device(m, &mouse_device_ops, ms);
    return ms;
}
