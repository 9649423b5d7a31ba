/*
 * The machine self-test: checks of the core (memory map, ports, timers,
 * state stream) run on a whole Machine by tests/unit/test_selftest.c.
 * It used to ship in the binary (`vx86 -selftest`); it lives with the
 * unit tests now.
 *
 * Each check has a short name; the first that fails is printed and the
 * test stops.  The expected values come from the documented behaviour of
 * the core (core/memory.h, core/clock.h, core/vmstate.h), not from running
 * the code:
 *   - RAM: host memory and the memory map agree at the first and last page,
 *     little-endian; bytes past the end of RAM read as all ones.
 *   - MMIO and ports: accesses reach the device at the right offset and
 *     size; wider accesses than the device takes are split little-endian;
 *     equal-priority overlaps are refused; removal unmaps.
 *   - Timers: due timers fire earliest first, equal deadlines in arming
 *     order; a future timer does not fire; a stopped clock stands still.
 *   - State: a device's fields survive save, change, load; a corrupted or
 *     truncated stream is refused and changes nothing.
 * Everything registered here is removed again before returning.
 */
#include "tests/unit/selftest.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/vmstate.h"

typedef struct SelfTest {
    FILE *out;
    int passed;
    const char *failed;   /* name of the first failed check */
} SelfTest;

/* Counts a check; on failure remembers its name and jumps to the
 * section's cleanup label `done`. */
#define CHECK(st, cond, name) do {                  \
        if (!(cond)) {                              \
            (st)->failed = (name);                  \
            goto done;                              \
        }                                           \
        (st)->passed++;                             \
    } while (0)

/* ---- a tiny register-file device for MMIO and ports ---- */

typedef struct ProbeDev {
    uint8_t regs[16];
    unsigned reads, writes;
    uint64_t last_off, last_val;
    unsigned last_size;
} ProbeDev;

static uint64_t probe_read(void *opaque, uint64_t off, unsigned size)
{
    ProbeDev *d = opaque;
    uint64_t v = 0;
    d->reads++;
    d->last_off = off;
    d->last_size = size;
    if (off < sizeof(d->regs) && size <= sizeof(d->regs) - off)
        memcpy(&v, d->regs + off, size);
    return v;
}

static void probe_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ProbeDev *d = opaque;
    d->writes++;
    d->last_off = off;
    d->last_val = val;
    d->last_size = size;
    if (off < sizeof(d->regs) && size <= sizeof(d->regs) - off)
        memcpy(d->regs + off, &val, size);
}

/* MMIO probe takes 1..4 byte accesses, the port probe 1..2. */
static const MemOps probe_mmio_ops = { probe_read, probe_write, 1, 4 };
static const MemOps probe_io_ops = { probe_read, probe_write, 1, 2 };

/* Far above the 64 TiB RAM limit, where a PC maps nothing. */
#define PROBE_MMIO_BASE (1ULL << 47)

/* ---- RAM ---- */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void selftest_ram(SelfTest *st, Machine *m)
{
    MemRegion *mapped = NULL;
    uint64_t size = m->ram_size;
    uint64_t last = size >= 8 ? size - 8 : 0;
    const uint64_t pat_a = 0x0123456789abcdefULL, pat_b = 0xfedcba9876543210ULL;

    CHECK(st, m->ram != NULL && size >= 8, "RAM is mapped");
    /* Touch the first and last page directly. */
    m->ram[0] = 0x5a;
    m->ram[size - 1] = 0xa5;
    CHECK(st, m->ram[0] == 0x5a && m->ram[size - 1] == 0xa5, "RAM first/last byte hold data");

    /* Through the memory map: map RAM at 0 when the board has not. */
    if (!memmap_find(m->mem, 0)) {
        mapped = memmap_add_ram(m->mem, "selftest-ram", 0, size, m->ram, NULL);
        CHECK(st, mapped != NULL, "RAM can be mapped at address 0");
        memmap_write(m->mem, 0, pat_a, 8);
        CHECK(st, m->ram[0] == 0xef && m->ram[7] == 0x01, "memmap write to RAM is little-endian");
        memmap_write(m->mem, last, pat_b, 8);
        CHECK(st, load_le64(m->ram + last) == pat_b, "memmap write reaches the last page");
        CHECK(st, memmap_read(m->mem, last, 8) == pat_b, "memmap read of the last page");
        CHECK(st, memmap_read(m->mem, last + 4, 4) == (pat_b >> 32), "memmap narrow read at an offset");
        /* Two bytes of RAM, two unassigned bytes beyond its end. */
        CHECK(st, memmap_read(m->mem, size - 2, 4) == (0xffff0000u | (uint32_t)(pat_b >> 48)),
              "reads past the end of RAM return ones");
        CHECK(st, memmap_host_ptr(m->mem, 0, size, true) == m->ram, "host pointer covers all RAM");
    } else {
        /* A board mapped RAM: at least the first page must be ours. */
        memmap_write(m->mem, 0, pat_a, 8);
        CHECK(st, load_le64(m->ram) == pat_a, "RAM at address 0 is the machine's RAM");
    }
done:
    if (mapped)
        memmap_remove(m->mem, mapped);
    if (m->ram && size >= 8) {
        memset(m->ram, 0, 8);
        memset(m->ram + last, 0, size - last);
    }
}

/* ---- MMIO ---- */

static void selftest_mmio(SelfTest *st, Machine *m)
{
    ProbeDev dev = { .reads = 0 };
    MemRegion *r = NULL;
    char *err = NULL;
    const uint64_t base = PROBE_MMIO_BASE;

    CHECK(st, !memmap_find(m->mem, base), "MMIO test address is free");
    r = memmap_add_mmio(m->mem, "selftest-mmio", base, sizeof(dev.regs), &probe_mmio_ops,
                        &dev, 0, NULL);
    CHECK(st, r != NULL, "MMIO region registers");
    CHECK(st, memmap_find(m->mem, base + 15) == r, "MMIO region covers its last byte");

    memmap_write(m->mem, base + 4, 0xdeadbeef, 4);
    CHECK(st, dev.writes == 1 && dev.last_off == 4 && dev.last_size == 4 &&
              dev.last_val == 0xdeadbeef, "MMIO write reaches the device at its offset");
    CHECK(st, memmap_read(m->mem, base + 4, 2) == 0xbeef && dev.last_size == 2,
          "MMIO 2-byte read");
    dev.writes = 0;
    memmap_write(m->mem, base + 8, 0x1122334455667788ULL, 8);
    CHECK(st, dev.writes == 2 && dev.last_off == 12 && dev.last_val == 0x11223344,
          "8-byte MMIO write split into two 4-byte writes");
    CHECK(st, memmap_read(m->mem, base + 8, 8) == 0x1122334455667788ULL,
          "8-byte MMIO read reassembled");
    CHECK(st, memmap_read(m->mem, base + 16, 4) == 0xffffffffu, "read past the MMIO region returns ones");

    CHECK(st, memmap_add_mmio(m->mem, "selftest-overlap", base + 8, 16, &probe_mmio_ops,
                              &dev, 0, &err) == NULL && err != NULL,
          "equal-priority MMIO overlap is refused");
    memmap_remove(m->mem, r);
    r = NULL;
    CHECK(st, memmap_find(m->mem, base) == NULL, "removed MMIO region is unmapped");
done:
    free(err);
    if (r)
        memmap_remove(m->mem, r);
}

/* ---- IO ports ---- */

/* A run of 8 ports nobody owns, searched from the top of the space, where
 * PC devices are rare. */
static int find_free_ports(IOSpace *io)
{
    for (int base = 0xfff0; base >= 0x1000; base -= 0x10) {
        bool free_run = true;
        for (int p = base; p < base + 8 && free_run; p++)
            free_run = iospace_owner(io, (uint16_t)p) == NULL;
        if (free_run)
            return base;
    }
    return -1;
}

static void selftest_ports(SelfTest *st, Machine *m)
{
    ProbeDev dev = { .reads = 0 };
    char *err = NULL;
    bool added = false;
    int base = find_free_ports(m->io);

    CHECK(st, base >= 0, "a free IO port range exists");
    added = iospace_add(m->io, "selftest-io", (uint32_t)base, 8, &probe_io_ops, &dev, NULL);
    CHECK(st, added, "IO port range registers");
    CHECK(st, iospace_owner(m->io, (uint16_t)(base + 7)) &&
              !strcmp(iospace_owner(m->io, (uint16_t)(base + 7)), "selftest-io"),
          "IO port owner is recorded");

    iospace_write(m->io, (uint16_t)(base + 1), 0x42, 1);
    CHECK(st, dev.writes == 1 && dev.last_off == 1 && dev.last_size == 1 && dev.regs[1] == 0x42,
          "port write reaches the device at its offset");
    dev.writes = 0;
    iospace_write(m->io, (uint16_t)(base + 4), 0xcafef00d, 4);
    CHECK(st, dev.writes == 2 && dev.last_off == 6 && dev.last_val == 0xcafe,
          "4-byte port write split for a 2-byte device");
    CHECK(st, iospace_read(m->io, (uint16_t)(base + 4), 4) == 0xcafef00d, "4-byte port read reassembled");
    CHECK(st, !iospace_add(m->io, "selftest-overlap", (uint32_t)base + 4, 8, &probe_io_ops, &dev, &err) &&
              err != NULL, "overlapping port range is refused");

    iospace_remove(m->io, (uint32_t)base, 8);
    added = false;
    CHECK(st, iospace_owner(m->io, (uint16_t)base) == NULL &&
              iospace_read(m->io, (uint16_t)base, 2) == 0xffff,
          "removed ports are unassigned and read ones");
done:
    free(err);
    if (added)
        iospace_remove(m->io, (uint32_t)base, 8);
}

/* ---- clock and timers ---- */

typedef struct TimerLog {
    int order[8];
    int n;
} TimerLog;

typedef struct TimerProbe {
    TimerLog *log;
    int id;
} TimerProbe;

static void timer_probe_fire(void *opaque)
{
    TimerProbe *p = opaque;
    if (p->log->n < (int)ARRAY_SIZE(p->log->order))
        p->log->order[p->log->n++] = p->id;
}

static void selftest_timers(SelfTest *st, Machine *m)
{
    TimerLog log = { .n = 0 };
    TimerProbe probes[5];
    Timer *t[5] = { NULL };
    VClock *clk = m->clock;

    for (int i = 0; i < 5; i++) {
        probes[i] = (TimerProbe){ .log = &log, .id = i };
        t[i] = timer_new(clk, timer_probe_fire, &probes[i]);
    }
    int64_t a = clock_now(clk), b = clock_now(clk);
    CHECK(st, b >= a, "clock does not go backwards");

    /* Deadlines already due, armed out of order; 2 and 3 share one. */
    int64_t now = clock_now(clk);
    int64_t far = now + 1000 * NS_PER_SEC;
    timer_mod(t[0], now - 10);
    timer_mod(t[1], now - 30);
    timer_mod(t[2], now - 20);
    timer_mod(t[3], now - 20);
    timer_mod(t[4], far);
    CHECK(st, timer_pending(t[0]) && timer_expire_time(t[0]) == now - 10, "armed timer is pending");
    int fired = clock_run_timers(clk);
    CHECK(st, fired >= 4 && log.n == 4, "all due timers fire, the future one does not");
    CHECK(st, log.order[0] == 1 && log.order[1] == 2 && log.order[2] == 3 && log.order[3] == 0,
          "timers fire earliest first, equal deadlines in arming order");
    CHECK(st, !timer_pending(t[0]) && timer_pending(t[4]), "fired timers are disarmed");
    CHECK(st, clock_next_deadline(clk) <= far, "next deadline is no later than the armed timer");

    timer_mod(t[4], now - 40);                /* re-arming moves the deadline */
    CHECK(st, timer_expire_time(t[4]) == now - 40, "re-armed timer has its new deadline");
    timer_del(t[4]);
    CHECK(st, !timer_pending(t[4]) && timer_expire_time(t[4]) == -1, "deleted timer is disarmed");
    clock_run_timers(clk);
    CHECK(st, log.n == 4, "deleted timer does not fire");

    clock_stop(clk);
    a = clock_now(clk);
    for (volatile int spin = 0; spin < 100000; spin++)
        ;
    b = clock_now(clk);
    clock_start(clk);
    CHECK(st, a == b, "stopped clock stands still");
done:
    for (int i = 0; i < 5; i++)
        timer_free(t[i]);
}

/* ---- device state save/load ---- */

typedef struct StateProbe {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    bool flag;
    uint16_t arr[3];
    uint8_t blob[5];
    int post_loads;       /* not saved */
} StateProbe;

static int state_probe_post_load(void *opaque, int version, char **err)
{
    ((StateProbe *)opaque)->post_loads++;
    return 0;
}

static const VMField state_probe_fields[] = {
    VMF_U8(u8, StateProbe),
    VMF_U16(u16, StateProbe),
    VMF_U32(u32, StateProbe),
    VMF_U64(u64, StateProbe),
    VMF_I32(i32, StateProbe),
    VMF_BOOL(flag, StateProbe),
    VMF_U16_ARRAY(arr, StateProbe, 3),
    VMF_BUFFER(blob, StateProbe),
    VMF_END
};

static const VMStateDesc state_probe_vmsd = {
    .name = "selftest", .version = 1, .min_version = 1,
    .fields = state_probe_fields, .post_load = state_probe_post_load,
};

static const DeviceOps state_probe_ops = { .name = "selftest", .vmsd = &state_probe_vmsd };

static const StateProbe state_probe_saved = {
    .u8 = 0xa1, .u16 = 0xb2c3, .u32 = 0xd4e5f607, .u64 = 0x8192a3b4c5d6e7f8ULL,
    .i32 = -12345, .flag = true, .arr = { 1, 0xffff, 3 }, .blob = { 9, 8, 7, 6, 5 },
};

static bool state_probe_equal(const StateProbe *a, const StateProbe *b)
{
    return a->u8 == b->u8 && a->u16 == b->u16 && a->u32 == b->u32 && a->u64 == b->u64 &&
           a->i32 == b->i32 && a->flag == b->flag && !memcmp(a->arr, b->arr, sizeof(a->arr)) &&
           !memcmp(a->blob, b->blob, sizeof(a->blob));
}

static void state_probe_scribble(StateProbe *s)
{
    s->u8 = 0;
    s->u16 = 1;
    s->u32 = 2;
    s->u64 = 3;
    s->i32 = 4;
    s->flag = false;
    memset(s->arr, 0x55, sizeof(s->arr));
    memset(s->blob, 0x66, sizeof(s->blob));
}

/* Takes the probe device off the machine's list again. */
static void device_unlink(Machine *m, Device *d)
{
    for (Device **pp = &m->devices; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            free(d);
            return;
        }
    }
}

static void selftest_state(SelfTest *st, Machine *m)
{
    StateProbe s = state_probe_saved, scribbled;
    VMBuf buf;
    uint8_t *bad = NULL;
    char *err = NULL;
    vmbuf_init(&buf);
    Device *d = machine_add_device(m, &state_probe_ops, &s);

    CHECK(st, d && machine_find_device(m, d->id) == d, "test device registers");
    machine_save_devices(m, &buf);
    CHECK(st, buf.len > 0, "device state saves");

    state_probe_scribble(&s);
    scribbled = s;
    CHECK(st, machine_load_devices(m, buf.data, buf.len, &err) == 0, "saved state loads back");
    CHECK(st, state_probe_equal(&s, &state_probe_saved), "every field is restored");
    CHECK(st, s.post_loads == 1, "post_load runs once");

    /* A flipped byte in the middle must fail the CRC; nothing changes. */
    state_probe_scribble(&s);
    bad = xmalloc(buf.len);
    memcpy(bad, buf.data, buf.len);
    bad[buf.len / 2] ^= 0x40;
    CHECK(st, machine_load_devices(m, bad, buf.len, &err) < 0 && err != NULL,
          "corrupted state stream is refused");
    CHECK(st, state_probe_equal(&s, &scribbled), "refused stream changes nothing");
    free(err);
    err = NULL;
    CHECK(st, machine_load_devices(m, buf.data, buf.len - 5, &err) < 0 && err != NULL,
          "truncated state stream is refused");
done:
    free(err);
    free(bad);
    vmbuf_free(&buf);
    if (d)
        device_unlink(m, d);
}

int machine_selftest(Machine *m, FILE *out)
{
    SelfTest st = { .out = out };
    void (*sections[])(SelfTest *, Machine *) = {
        selftest_ram, selftest_mmio, selftest_ports, selftest_timers, selftest_state,
    };
    for (size_t i = 0; i < ARRAY_SIZE(sections) && !st.failed; i++)
        sections[i](&st, m);
    if (st.failed) {
        fprintf(out, "vx86 self-test: FAILED: %s (after %d checks passed)\n", st.failed, st.passed);
        return 1;
    }
    fprintf(out, "vx86 self-test: %d checks passed\n", st.passed);
    return 0;
}
