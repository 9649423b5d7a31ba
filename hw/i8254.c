/*
 * Intel 8254 PIT (ports 0x40-0x43) and the PC's system control port B
 * (0x61), written from the 82C54 datasheet.  Port 0x61 lives in this
 * device because its interesting bits (gate 2, OUT2) are the PIT's.
 *
 * Nothing ticks: each channel remembers when it started counting and how
 * many input clocks it had already counted before a gate pause, and the
 * count and OUT level at any instant are computed from the virtual clock
 * (1.193182 MHz, so tick k is at ceil(k * 1e9 / 1193182) ns after the
 * start).  Channel 0's OUT drives irq0; a Timer is armed for each of its
 * edges (two per period in modes 2 and 3), so IRQ0 rises at the exact
 * virtual time of the terminal count.
 *
 * Modelled: all six modes, binary and BCD counting, LSB/MSB/LSB-then-MSB
 * access with the read and write flip-flops, the counter latch command,
 * the read-back command (count and/or status, several channels at once),
 * the null-count flag, gates (channel 2 from port 0x61 bit 0; channels 0
 * and 1 have GATE tied high as on a PC), OUT2 at port 0x61 bit 5, and the
 * refresh-request toggle at port 0x61 bit 4 (flips every 15 us).
 *
 * Simplifications, all within one or two input clocks: a written count
 * loads into the counting element at the write instant rather than at the
 * next CLK edge (so the null-count flag clears at once for modes 0, 2, 3,
 * 4); a new count written while mode 2 or 3 is counting restarts the
 * period at once instead of at the end of the current one; writing only
 * the first byte of an LSB-then-MSB count does not pause mode 0; a new
 * count in mode 1 or 5 applies to the running one-shot.  Counts of 1 in
 * mode 2 (illegal per the datasheet) keep OUT high.  Late timer callbacks
 * (host clock) deliver one complete IRQ0 pulse and drop the missed ones,
 * like lost timer ticks.  The speaker itself is not modelled; port 0x61
 * bits 6-7 (parity/IOCHK NMI status) read 0.
 *
 * Power-on state is undefined in the datasheet; reset puts every channel
 * in mode 0, LSB-then-MSB, binary, with no count written (OUT low).
 */
#include "hw/i8254.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"

#define PIT_NUM_CHANNELS 3
#define PIT_NO_EDGE UINT64_MAX
#define REFRESH_PERIOD_NS 15000

typedef struct PITChannel {
    uint32_t count;         /* initial count: 1..0x10000 (binary), ..10000 (BCD) */
    uint8_t mode;           /* 0..5 */
    uint8_t rw_mode;        /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool gate;
    bool loaded;            /* a count was written since the control word */
    bool armed;             /* counting has begun (modes 1/5: triggered) */
    bool write_hi_next;     /* write flip-flop: the next byte is the MSB */
    uint8_t write_lsb;
    bool read_hi_next;      /* read flip-flop */
    bool count_latched;
    uint16_t latched_count;
    bool status_latched;
    uint8_t latched_status;
    int64_t null_until;     /* null count reads 1 while now < null_until */
    uint64_t ticks_before;  /* input clocks counted before run_start */
    int64_t run_start;      /* ns when counting (re)started; -1 paused */
    /* Channel 0 only: the IRQ0 edge timer and the level driven. */
    uint64_t edge_tick;     /* elapsed ticks at which the armed edge happens */
    int64_t edge_deadline;  /* saved expiry of the timer, -1 none */
    uint8_t irq_level;
} PITChannel;

struct PITState {
    PITChannel chan[PIT_NUM_CHANNELS];
    uint8_t port61;         /* bits 0-3 as written */
    VClock *clock;
    Timer *irq_timer;
    IRQLine *irq0;
};

/* ---- time arithmetic ---- */

static uint64_t ns_to_ticks(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return (uint64_t)((unsigned __int128)ns * PIT_FREQ_HZ / NS_PER_SEC);
}

/* The first ns at which ns_to_ticks() reaches ticks. */
static int64_t ticks_to_ns(uint64_t ticks)
{
    unsigned __int128 ns = ((unsigned __int128)ticks * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
    return ns > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ns;
}

static uint64_t chan_elapsed(const PITChannel *c, int64_t now)
{
    if (c->run_start < 0)
        return c->ticks_before;
    return c->ticks_before + ns_to_ticks(now - c->run_start);
}

/* Virtual time of elapsed tick d of a running channel. */
static int64_t chan_tick_time(const PITChannel *c, uint64_t d)
{
    return c->run_start + ticks_to_ns(d - c->ticks_before);
}

static uint32_t chan_modulus(const PITChannel *c)
{
    return c->bcd ? 10000 : 0x10000;
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* ---- the counting element and OUT as functions of elapsed ticks ---- */

static bool chan_is_counting(const PITChannel *c)
{
    return c->loaded && c->armed;
}

static int chan_out_at(const PITChannel *c, uint64_t d)
{
    if (!chan_is_counting(c))
        return c->mode != 0;     /* mode 0 OUT is low from the control word */
    uint64_t n = c->count;
    switch (c->mode) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        if (!c->gate || n < 2)
            return 1;
        return d % n != n - 1;   /* low while the count is 1 */
    case 3:
        if (!c->gate)
            return 1;
        return d % n < (n + 1) / 2;   /* odd counts: high half one clock longer */
    default:                     /* 4, 5: one clock low at terminal count */
        return d != n;
    }
}

static uint32_t chan_count_at(const PITChannel *c, uint64_t d)
{
    uint32_t n = c->count, mod = chan_modulus(c);
    uint32_t v;
    if (!c->loaded)
        return 0;
    if (!c->armed)
        return n % mod;
    switch (c->mode) {
    case 2:
        v = n - (uint32_t)(d % n);
        break;
    case 3: {
        uint32_t p = (uint32_t)(d % n), half = (n + 1) / 2;
        uint32_t start = (n & 1) ? n - 1 : n;   /* odd counts load N-1 */
        v = start - 2 * (p < half ? p : p - half);
        break;
    }
    default:                     /* 0, 1, 4, 5 wrap after terminal count */
        v = (uint32_t)((n + mod - d % mod) % mod);
        break;
    }
    v %= mod;
    return c->bcd ? to_bcd(v) : v;
}

/* The next elapsed tick after d at which OUT changes, or PIT_NO_EDGE. */
static uint64_t chan_next_edge(const PITChannel *c, uint64_t d)
{
    if (!chan_is_counting(c) || c->run_start < 0)
        return PIT_NO_EDGE;
    uint64_t n = c->count, p = d % n, base = d - p;
    switch (c->mode) {
    case 0:
    case 1:
        return d < n ? n : PIT_NO_EDGE;
    case 2:
        if (n < 2)
            return PIT_NO_EDGE;
        return p < n - 1 ? base + n - 1 : base + n;
    case 3:
        if (n < 2)
            return PIT_NO_EDGE;
        return p < (n + 1) / 2 ? base + (n + 1) / 2 : base + n;
    default:
        return d < n ? n : d == n ? n + 1 : PIT_NO_EDGE;
    }
}

static uint8_t chan_status(const PITChannel *c, int64_t now)
{
    return (uint8_t)(chan_out_at(c, chan_elapsed(c, now)) << 7 |
                     (now < c->null_until) << 6 | c->rw_mode << 4 |
                     c->mode << 1 | c->bcd);
}

/* ---- IRQ0 ---- */

static void pit_drive_irq0(PITState *s, int level)
{
    PITChannel *c = &s->chan[0];
    if (level != c->irq_level) {
        c->irq_level = (uint8_t)level;
        irq_set(s->irq0, level);
    }
}

static void pit_schedule_edge(PITState *s, uint64_t after)
{
    PITChannel *c = &s->chan[0];
    uint64_t e = chan_next_edge(c, after);
    if (e == PIT_NO_EDGE) {
        timer_del(s->irq_timer);
        return;
    }
    c->edge_tick = e;
    timer_mod(s->irq_timer, chan_tick_time(c, e));
}

/* After any change to channel 0: drive OUT as it is now, arm the next edge. */
static void pit_sync_irq0(PITState *s)
{
    int64_t now = clock_now(s->clock);
    uint64_t d = chan_elapsed(&s->chan[0], now);
    pit_drive_irq0(s, chan_out_at(&s->chan[0], d));
    pit_schedule_edge(s, d);
}

static void pit_irq_timer_fire(void *opaque)
{
    PITState *s = opaque;
    PITChannel *c = &s->chan[0];
    int64_t now = clock_now(s->clock);
    uint64_t e = c->edge_tick;
    int level = chan_out_at(c, e);
    pit_drive_irq0(s, level);
    if (level == 0) {
        /* Running late past the end of a low pulse: finish the pulse so
         * the edge-triggered PIC still sees one interrupt. */
        uint64_t next = chan_next_edge(c, e);
        if (next != PIT_NO_EDGE && chan_tick_time(c, next) <= now)
            pit_drive_irq0(s, chan_out_at(c, next));
    }
    pit_sync_irq0(s);
}

static void pit_channel_changed(PITState *s, PITChannel *c)
{
    if (c == &s->chan[0])
        pit_sync_irq0(s);
}

/* ---- programming ---- */

static void chan_load_count(PITState *s, PITChannel *c, uint32_t n)
{
    int64_t now = clock_now(s->clock);
    c->count = n;
    c->loaded = true;
    if (c->mode == 1 || c->mode == 5) {
        /* Waits for a gate trigger; stays "null" until then. */
        if (!c->armed)
            c->null_until = INT64_MAX;
    } else {
        if (c->mode == 2 && n == 1)
            LOG(LOG_GUEST_ERRORS, "i8254: count 1 is illegal in mode 2\n");
        c->armed = true;
        c->null_until = now;
        c->ticks_before = 0;
        c->run_start = c->gate ? now : -1;
    }
    pit_channel_changed(s, c);
}

static uint32_t chan_decode_count(const PITChannel *c, uint16_t raw)
{
    if (!c->bcd)
        return raw ? raw : 0x10000;
    uint32_t v = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned digit = (raw >> shift) & 0xf;
        if (digit > 9)
            LOG(LOG_GUEST_ERRORS, "i8254: count 0x%04x is not BCD\n", raw);
        v = v * 10 + digit;
    }
    v %= 10000;
    return v ? v : 10000;
}

static void chan_write_count(PITState *s, PITChannel *c, uint8_t val)
{
    uint16_t raw;
    switch (c->rw_mode) {
    case 1:
        raw = val;
        break;
    case 2:
        raw = (uint16_t)(val << 8);
        break;
    default:
        if (!c->write_hi_next) {
            c->write_lsb = val;
            c->write_hi_next = true;
            return;
        }
        c->write_hi_next = false;
        raw = (uint16_t)(c->write_lsb | val << 8);
        break;
    }
    chan_load_count(s, c, chan_decode_count(c, raw));
}

static uint8_t chan_read(PITState *s, PITChannel *c)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->latched_status;
    }
    uint16_t v;
    if (c->count_latched)
        v = c->latched_count;
    else
        v = (uint16_t)chan_count_at(c, chan_elapsed(c, clock_now(s->clock)));
    uint8_t byte;
    switch (c->rw_mode) {
    case 1:
        byte = v & 0xff;
        c->count_latched = false;
        break;
    case 2:
        byte = v >> 8;
        c->count_latched = false;
        break;
    default:
        byte = c->read_hi_next ? v >> 8 : v & 0xff;
        if (c->read_hi_next)
            c->count_latched = false;
        c->read_hi_next = !c->read_hi_next;
        break;
    }
    return byte;
}

static void chan_latch_count(PITState *s, PITChannel *c)
{
    /* Further latches are ignored until the latched value is read. */
    if (c->count_latched)
        return;
    c->latched_count = (uint16_t)chan_count_at(c, chan_elapsed(c, clock_now(s->clock)));
    c->count_latched = true;
}

static void chan_latch_status(PITState *s, PITChannel *c)
{
    if (c->status_latched)
        return;
    c->latched_status = chan_status(c, clock_now(s->clock));
    c->status_latched = true;
}

static void chan_set_mode(PITState *s, PITChannel *c, uint8_t ctrl)
{
    uint8_t mode = (ctrl >> 1) & 7;
    c->mode = mode > 5 ? mode - 4 : mode;   /* x10 = mode 2, x11 = mode 3 */
    c->rw_mode = (ctrl >> 4) & 3;
    c->bcd = ctrl & 1;
    /* A control word resets the channel's logic: flip-flops, latches, and
     * counting stops until a count arrives. */
    c->write_hi_next = false;
    c->read_hi_next = false;
    c->count_latched = false;
    c->status_latched = false;
    c->loaded = false;
    c->armed = false;
    c->null_until = INT64_MAX;
    c->ticks_before = 0;
    c->run_start = -1;
    pit_channel_changed(s, c);
}

static void pit_read_back(PITState *s, uint8_t cmd)
{
    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        if (!(cmd & (2u << i)))
            continue;
        if (!(cmd & 0x20))
            chan_latch_count(s, &s->chan[i]);
        if (!(cmd & 0x10))
            chan_latch_status(s, &s->chan[i]);
    }
}

static void pit_write_control(PITState *s, uint8_t val)
{
    int sc = val >> 6;
    if (sc == 3) {
        pit_read_back(s, val);
        return;
    }
    PITChannel *c = &s->chan[sc];
    if (((val >> 4) & 3) == 0)
        chan_latch_count(s, c);
    else
        chan_set_mode(s, c, val);
}

static void chan_set_gate(PITState *s, PITChannel *c, bool gate)
{
    if (gate == c->gate)
        return;
    int64_t now = clock_now(s->clock);
    c->gate = gate;
    if (!c->loaded)
        return;
    switch (c->mode) {
    case 0:
    case 4:
        /* GATE low suspends counting; high resumes it. */
        if (!gate) {
            c->ticks_before = chan_elapsed(c, now);
            c->run_start = -1;
        } else {
            c->run_start = now;
        }
        break;
    case 2:
    case 3:
        /* Low stops counting (OUT high); the rising edge reloads. */
        c->ticks_before = 0;
        c->run_start = gate ? now : -1;
        break;
    default:
        /* Modes 1 and 5: a rising edge (re)triggers the one-shot. */
        if (gate) {
            c->armed = true;
            c->null_until = now;
            c->ticks_before = 0;
            c->run_start = now;
        }
        break;
    }
    pit_channel_changed(s, c);
}

static uint64_t pit_ioport_read(void *opaque, uint64_t offset, unsigned size)
{
    PITState *s = opaque;
    if (offset == 3) {
        LOG(LOG_GUEST_ERRORS, "i8254: read of the control word register\n");
        return 0xff;
    }
    return chan_read(s, &s->chan[offset]);
}

static void pit_ioport_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PITState *s = opaque;
    if (offset == 3)
        pit_write_control(s, (uint8_t)value);
    else
        chan_write_count(s, &s->chan[offset], (uint8_t)value);
}

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
    PITState *s = opaque;
    int64_t now = clock_now(s->clock);
    PITChannel *c2 = &s->chan[2];
    uint8_t refresh = (uint8_t)((now / REFRESH_PERIOD_NS) & 1);
    uint8_t out2 = (uint8_t)chan_out_at(c2, chan_elapsed(c2, now));
    return (s->port61 & 0x0f) | refresh << 4 | out2 << 5;
}

static void port61_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PITState *s = opaque;
    s->port61 = value & 0x0f;
    chan_set_gate(s, &s->chan[2], value & 1);
}

static const MemOps pit_io_ops = { pit_ioport_read, pit_ioport_write, 1, 1 };
static const MemOps port61_ops = { port61_read, port61_write, 1, 1 };

/* ---- device lifecycle ---- */

static void pit_reset(void *opaque)
{
    PITState *s = opaque;
    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        s->chan[i] = (PITChannel){
            .count = 0x10000, .rw_mode = 3, .gate = i != 2,
            .null_until = INT64_MAX, .run_start = -1, .edge_deadline = -1,
            .irq_level = s->chan[i].irq_level,
        };
    }
    s->port61 = 0;
    pit_sync_irq0(s);
}

static void pit_free(void *opaque)
{
    PITState *s = opaque;
    timer_free(s->irq_timer);
    free(s);
}

static void pit_pre_save(void *opaque)
{
    PITState *s = opaque;
    s->chan[0].edge_deadline = timer_expire_time(s->irq_timer);
}

static int pit_check_channel(const PITChannel *c, int i, char **err)
{
    const char *bad = NULL;
    if (c->mode > 5)
        bad = "mode out of range 0..5";
    else if (c->rw_mode < 1 || c->rw_mode > 3)
        bad = "read/write mode out of range 1..3";
    else if (c->count < 1 || c->count > chan_modulus(c))
        bad = "initial count out of range";
    else if (c->run_start < -1 || c->run_start > INT64_MAX / 4 ||
             c->edge_deadline < -1 || c->edge_deadline > INT64_MAX / 4 ||
             c->null_until < 0 || c->ticks_before > (UINT64_MAX >> 4))
        bad = "time out of range";
    else if (c->edge_deadline >= 0 && (c->run_start < 0 || c->edge_tick < c->ticks_before))
        bad = "IRQ timer armed on a stopped channel";
    else if (i != 2 && !c->gate)
        bad = "gate of channel 0/1 must be high";
    else if (c->irq_level > 1)
        bad = "IRQ level not 0/1";
    if (bad) {
        set_error(err, "i8254 channel %d: %s", i, bad);
        return -1;
    }
    return 0;
}

static int pit_post_load(void *opaque, int version, char **err)
{
    PITState *s = opaque;
    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        if (pit_check_channel(&s->chan[i], i, err) < 0) {
            pit_reset(s);
            return -1;
        }
    }
    if ((s->port61 & ~0x0f) || (s->port61 & 1) != s->chan[2].gate) {
        set_error(err, "i8254: port 0x61 value 0x%02x inconsistent with gate 2", s->port61);
        pit_reset(s);
        return -1;
    }
    PITChannel *c = &s->chan[0];
    irq_set(s->irq0, c->irq_level);
    if (c->edge_deadline >= 0)
        timer_mod(s->irq_timer, c->edge_deadline);
    else
        timer_del(s->irq_timer);
    return 0;
}

static const VMField pit_channel_fields[] = {
    VMF_U32(count, PITChannel), VMF_U8(mode, PITChannel),
    VMF_U8(rw_mode, PITChannel), VMF_BOOL(bcd, PITChannel),
    VMF_BOOL(gate, PITChannel), VMF_BOOL(loaded, PITChannel),
    VMF_BOOL(armed, PITChannel), VMF_BOOL(write_hi_next, PITChannel),
    VMF_U8(write_lsb, PITChannel), VMF_BOOL(read_hi_next, PITChannel),
    VMF_BOOL(count_latched, PITChannel), VMF_U16(latched_count, PITChannel),
    VMF_BOOL(status_latched, PITChannel), VMF_U8(latched_status, PITChannel),
    VMF_I64(null_until, PITChannel), VMF_U64(ticks_before, PITChannel),
    VMF_I64(run_start, PITChannel), VMF_U64(edge_tick, PITChannel),
    VMF_I64(edge_deadline, PITChannel), VMF_U8(irq_level, PITChannel),
    VMF_END
};

static const VMStateDesc pit_channel_vmsd = {
    .name = "i8254-channel", .version = 1, .min_version = 1,
    .fields = pit_channel_fields,
};

static const VMField pit_fields[] = {
    VMF_STRUCT_ARRAY(chan, PITState, PIT_NUM_CHANNELS, pit_channel_vmsd),
    VMF_U8(port61, PITState),
    VMF_END
};

static const VMStateDesc pit_vmsd = {
    .name = "i8254", .version = 1, .min_version = 1, .fields = pit_fields,
    .pre_save = pit_pre_save, .post_load = pit_post_load,
};

static const DeviceOps pit_device_ops = {
    .name = "i8254", .reset = pit_reset, .free = pit_free, .vmsd = &pit_vmsd,
};

PITState *i8254_create(Machine *m, uint16_t base, uint16_t port61, IRQLine *irq0)
{
    PITState *s = xcalloc(1, sizeof(*s));
    s->clock = m->clock;
    s->irq0 = irq0;
    if (!iospace_add(m->io, "pit", base, 4, &pit_io_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "port61", port61, 1, &port61_ops, s, NULL)) {
        iospace_remove(m->io, base, 4);
        free(s);
        return NULL;
    }
    s->irq_timer = timer_new(m->clock, pit_irq_timer_fire, s);
    machine_add_device(m, &pit_device_ops, s);
    pit_reset(s);
    return s;
}
