/*
 * HPET model (see hpet.h).
 *
 * Facts: IA-PC HPET specification 1.0a, section 2.3 (register map;
 * GCAP_ID fields: REV_ID 7:0, NUM_TIM_CAP 12:8 = timers - 1, COUNT_SIZE_CAP
 * 13, LEG_RT_CAP 15, VENDOR_ID 31:16, COUNTER_CLK_PERIOD 63:32 in fs;
 * GEN_CONF ENABLE_CNF bit 0, LEG_RT_CNF bit 1 (timer 0 -> IRQ0, timer 1 ->
 * IRQ8); GINTR_STA bit n is write-one-to-clear and only meaningful for
 * level-triggered timers; Tn_CONF bits: INT_TYPE 1 (level), INT_ENB 2,
 * TYPE 3 (periodic), PER_INT_CAP 4, SIZE_CAP 5, VAL_SET 6, 32MODE 8,
 * INT_ROUTE 13:9, route capability in 63:32).  In periodic mode each match
 * adds the last value written to the comparator (the period) to it;
 * VAL_SET lets that write set the comparator itself too, then clears.
 */
#include "hw/hpet.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define TN_CONF_WMASK (HPET_TN_INT_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC | \
                       HPET_TN_VAL_SET | HPET_TN_32BIT | (0x1fu << HPET_TN_ROUTE_SHIFT))

typedef struct HPETTimer {
    HPETState *s;
    int index;
    Timer *timer;
    uint64_t config;
    uint64_t cmp;
    uint64_t period;
    int64_t expire;          /* snapshot of the armed deadline, 0 = none */
    int8_t asserted;         /* irq index held high (level mode), -1 none */
} HPETTimer;

struct HPETState {
    Machine *m;
    IRQLine *irq[24];
    HPETLegacyFn legacy_fn;
    void *legacy_opaque;

    uint64_t config;
    uint64_t isr;
    uint64_t counter_base;   /* counter value at counter_ns (frozen when halted) */
    int64_t counter_ns;
    HPETTimer t[HPET_NUM_TIMERS];
};

uint32_t hpet_block_id(void)
{
    return (uint32_t)HPET_VENDOR_ID << 16 | 1u << 15 | 1u << 13 |
           (uint32_t)(HPET_NUM_TIMERS - 1) << 8 | 0x01;
}

static bool hpet_enabled(const HPETState *s)
{
    return s->config & HPET_CONF_ENABLE;
}

static uint64_t hpet_counter(HPETState *s)
{
    if (!hpet_enabled(s))
        return s->counter_base;
    int64_t d = clock_now(s->m->clock) - s->counter_ns;
    return s->counter_base + (uint64_t)(d > 0 ? d : 0) / HPET_NS_PER_TICK;
}

/* Which irq[] entry timer n drives now, or -1. */
static int hpet_route(HPETState *s, int n)
{
    if ((s->config & HPET_CONF_LEGACY) && n < 2)
        return n == 0 ? 0 : 8;
    int r = (int)((s->t[n].config >> HPET_TN_ROUTE_SHIFT) & 0x1f);
    return (HPET_ROUTE_CAP >> r) & 1 ? r : -1;
}

/* Level mode: the line is high while the status bit, INT_ENB and the
 * global enable are all set. */
static void hpet_update_level(HPETState *s, int n)
{
    HPETTimer *t = &s->t[n];
    int want = -1;
    if ((t->config & HPET_TN_INT_LEVEL) && (t->config & HPET_TN_INT_ENB) &&
        hpet_enabled(s) && (s->isr & (1u << n)))
        want = hpet_route(s, n);
    if (want == t->asserted)
        return;
    if (t->asserted >= 0)
        irq_lower(s->irq[t->asserted]);
    t->asserted = (int8_t)want;
    if (want >= 0)
        irq_raise(s->irq[want]);
}

static void hpet_schedule(HPETState *s, int n)
{
    HPETTimer *t = &s->t[n];
    timer_del(t->timer);
    if (!hpet_enabled(s))
        return;
    uint64_t now_cnt = hpet_counter(s);
    uint64_t diff;
    if (t->config & HPET_TN_32BIT) {
        diff = (uint32_t)((uint32_t)t->cmp - (uint32_t)now_cnt);
        if (diff == 0)
            diff = 1ULL << 32;           /* just matched: next match is after a wrap */
    } else {
        diff = t->cmp - now_cnt;
        if (diff == 0)
            return;                      /* 64-bit wrap: never in practice */
    }
    int64_t now = clock_now(s->m->clock);
    if (diff > (uint64_t)(INT64_MAX - now) / HPET_NS_PER_TICK - 1)
        return;                          /* centuries away */
    /* To the tick boundary at which the counter reaches cmp. */
    int64_t into_tick = (now - s->counter_ns) % HPET_NS_PER_TICK;
    timer_mod(t->timer, now - into_tick + (int64_t)diff * HPET_NS_PER_TICK);
}

/* The shortest interval between two interrupts of a periodic timer: 1 us
 * (a 1 MHz interrupt rate; Linux's periodic HPET tick is 1-4 ms). */
#define HPET_MIN_PERIOD_TICKS (1000 / HPET_NS_PER_TICK)

static void hpet_fire(void *opaque)
{
    HPETTimer *t = opaque;
    HPETState *s = t->s;
    int n = t->index;
    if ((t->config & HPET_TN_PERIODIC) && t->period) {
        uint64_t cnt = hpet_counter(s);
        uint64_t mask = (t->config & HPET_TN_32BIT) ? 0xffffffffULL : ~0ULL;
        t->cmp = (t->cmp + t->period) & mask;
        uint64_t behind = (cnt - t->cmp) & mask;
        if (behind && behind < (mask >> 1)) {
            /* Missed periods (host hiccup): skip them, keep the phase. */
            t->cmp = (t->cmp + (behind / t->period + 1) * t->period) & mask;
        }
        if (t->period < HPET_MIN_PERIOD_TICKS) {
            /* A guest's tiny period fires at most once per minimum
             * interval, the periods between counting as missed: a 1-tick
             * period must not keep the host running nothing but timers
             * (KVM bounds periodic LAPIC timers likewise). */
            uint64_t skip = (HPET_MIN_PERIOD_TICKS + t->period - 1) / t->period - 1;
            t->cmp = (t->cmp + skip * t->period) & mask;
        }
    }
    if (t->config & HPET_TN_INT_LEVEL) {
        s->isr |= 1u << n;
        hpet_update_level(s, n);
    } else if (t->config & HPET_TN_INT_ENB) {
        int r = hpet_route(s, n);
        if (r >= 0)
            irq_pulse(s->irq[r]);
    }
    hpet_schedule(s, n);
}

static void hpet_set_config(HPETState *s, uint64_t val)
{
    uint64_t old = s->config;
    uint64_t cnt = hpet_counter(s);
    s->config = val & (HPET_CONF_ENABLE | HPET_CONF_LEGACY);
    if ((old ^ s->config) & HPET_CONF_ENABLE) {
        /* Starting or halting: the counter keeps its value. */
        s->counter_base = cnt;
        s->counter_ns = clock_now(s->m->clock);
    }
    for (int n = 0; n < HPET_NUM_TIMERS; n++) {
        hpet_update_level(s, n);
        hpet_schedule(s, n);
    }
    if (((old ^ s->config) & HPET_CONF_LEGACY) && s->legacy_fn)
        s->legacy_fn(s->legacy_opaque, s->config & HPET_CONF_LEGACY);
}

static void hpet_set_counter(HPETState *s, uint64_t val)
{
    if (hpet_enabled(s))
        LOG(LOG_GUEST_ERRORS, "hpet: main counter written while running\n");
    s->counter_base = val;
    s->counter_ns = clock_now(s->m->clock);
    for (int n = 0; n < HPET_NUM_TIMERS; n++)
        hpet_schedule(s, n);
}

static void hpet_set_timer_config(HPETState *s, int n, uint64_t val)
{
    HPETTimer *t = &s->t[n];
    uint64_t v = val & TN_CONF_WMASK;
    unsigned route = (unsigned)(v >> HPET_TN_ROUTE_SHIFT) & 0x1f;
    if (!((HPET_ROUTE_CAP >> route) & 1)) {
        /* Unsupported route: the old value stays (and reads back). */
        v = (v & ~(0x1fULL << HPET_TN_ROUTE_SHIFT)) |
            (t->config & (0x1fULL << HPET_TN_ROUTE_SHIFT));
    }
    t->config = v;
    if (v & HPET_TN_32BIT) {
        t->cmp &= 0xffffffffULL;
        t->period &= 0xffffffffULL;
    }
    if (!(v & HPET_TN_INT_LEVEL))
        s->isr &= ~(1ULL << n);          /* status is meaningless for edge */
    hpet_update_level(s, n);
    hpet_schedule(s, n);
}

static void hpet_set_comparator(HPETState *s, int n, uint64_t val)
{
    HPETTimer *t = &s->t[n];
    if (t->config & HPET_TN_32BIT)
        val &= 0xffffffffULL;
    if (!(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_VAL_SET))
        t->cmp = val;
    t->period = val;
    t->config &= ~(uint64_t)HPET_TN_VAL_SET;
    hpet_schedule(s, n);
}

static uint64_t hpet_reg_read(HPETState *s, uint64_t reg)
{
    if (reg == HPET_GCAP_ID)
        return (uint64_t)HPET_PERIOD_FS << 32 | hpet_block_id();
    if (reg == HPET_GEN_CONF)
        return s->config;
    if (reg == HPET_GINTR_STA)
        return s->isr;
    if (reg == HPET_MAIN_COUNTER)
        return hpet_counter(s);
    if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_NUM_TIMERS) {
        int n = (int)((reg - 0x100) / 0x20);
        HPETTimer *t = &s->t[n];
        switch ((reg - 0x100) % 0x20) {
        case 0x00:
            return (uint64_t)HPET_ROUTE_CAP << 32 | HPET_TN_PER_CAP | HPET_TN_SIZE_CAP |
                   t->config;
        case 0x08:
            return t->cmp;
        default:
            return 0;                    /* FSB route: not offered */
        }
    }
    return 0;
}

static void hpet_reg_write(HPETState *s, uint64_t reg, uint64_t val, uint64_t mask)
{
    uint64_t merged = (hpet_reg_read(s, reg) & ~mask) | (val & mask);
    if (reg == HPET_GEN_CONF) {
        hpet_set_config(s, merged);
    } else if (reg == HPET_GINTR_STA) {
        s->isr &= ~(val & mask);
        for (int n = 0; n < HPET_NUM_TIMERS; n++)
            hpet_update_level(s, n);
    } else if (reg == HPET_MAIN_COUNTER) {
        hpet_set_counter(s, merged);
    } else if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_NUM_TIMERS) {
        int n = (int)((reg - 0x100) / 0x20);
        unsigned sub = (unsigned)((reg - 0x100) % 0x20);
        if (sub == 0x00) {
            hpet_set_timer_config(s, n, merged);
        } else if (sub == 0x08) {
            /* Comparator writes use the stored comparator for the other
             * half, except in periodic mode where the period is written. */
            HPETTimer *t = &s->t[n];
            uint64_t base = (t->config & HPET_TN_PERIODIC) &&
                            !(t->config & HPET_TN_VAL_SET) ? t->period : t->cmp;
            hpet_set_comparator(s, n, (base & ~mask) | (val & mask));
        }
    }
}

static uint64_t hpet_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = hpet_reg_read(opaque, off & ~7ULL);
    if (size == 4)
        return (off & 4) ? v >> 32 : (uint32_t)v;
    return v;
}

static void hpet_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    unsigned shift = size == 4 ? (unsigned)(off & 4) * 8 : 0;
    uint64_t mask = size == 4 ? 0xffffffffULL << shift : ~0ULL;
    hpet_reg_write(opaque, off & ~7ULL, val << shift, mask);
}

static const MemOps hpet_mmio_ops = {
    .read = hpet_mmio_read, .write = hpet_mmio_write, .min_size = 4, .max_size = 8,
};

void hpet_set_legacy_notify(HPETState *s, HPETLegacyFn fn, void *opaque)
{
    s->legacy_fn = fn;
    s->legacy_opaque = opaque;
}

bool hpet_legacy_enabled(HPETState *s)
{
    return s->config & HPET_CONF_LEGACY;
}

static void hpet_reset(void *opaque)
{
    HPETState *s = opaque;
    bool was_legacy = s->config & HPET_CONF_LEGACY;
    s->config = 0;
    s->isr = 0;
    s->counter_base = 0;
    s->counter_ns = clock_now(s->m->clock);
    for (int n = 0; n < HPET_NUM_TIMERS; n++) {
        HPETTimer *t = &s->t[n];
        timer_del(t->timer);
        t->config = 20ULL << HPET_TN_ROUTE_SHIFT;   /* a valid route */
        t->cmp = ~0ULL;
        t->period = 0;
        hpet_update_level(s, n);
    }
    if (was_legacy && s->legacy_fn)
        s->legacy_fn(s->legacy_opaque, false);
}

static void hpet_pre_save(void *opaque)
{
    HPETState *s = opaque;
    for (int n = 0; n < HPET_NUM_TIMERS; n++) {
        HPETTimer *t = &s->t[n];
        t->expire = timer_pending(t->timer) ? timer_expire_time(t->timer) : 0;
    }
}

static int hpet_post_load(void *opaque, int version, char **err)
{
    HPETState *s = opaque;
    (void)version;
    s->config &= HPET_CONF_ENABLE | HPET_CONF_LEGACY;
    s->isr &= (1u << HPET_NUM_TIMERS) - 1;
    for (int n = 0; n < HPET_NUM_TIMERS; n++) {
        HPETTimer *t = &s->t[n];
        if (t->asserted < -1 || t->asserted > 23) {
            set_error(err, "hpet: timer %d asserted line %d out of range", n, t->asserted);
            return -1;
        }
        t->config &= TN_CONF_WMASK;
        unsigned route = (unsigned)(t->config >> HPET_TN_ROUTE_SHIFT) & 0x1f;
        if (!((HPET_ROUTE_CAP >> route) & 1)) {
            set_error(err, "hpet: timer %d route %u not supported", n, route);
            return -1;
        }
        if (t->expire > 0)
            timer_mod(t->timer, t->expire);
        else
            timer_del(t->timer);
    }
    return 0;
}

static const VMField hpet_timer_fields[] = {
    VMF_U64(config, HPETTimer),
    VMF_U64(cmp, HPETTimer),
    VMF_U64(period, HPETTimer),
    VMF_I64(expire, HPETTimer),
    { .name = "asserted", .offset = offsetof(HPETTimer, asserted), .type = VMF_TYPE_U8,
      .size = 1, .count = 1 },
    VMF_END
};

static const VMStateDesc hpet_timer_vmsd = {
    .name = "hpet-timer", .version = 1, .min_version = 1, .fields = hpet_timer_fields,
};

static const VMField hpet_fields[] = {
    VMF_U64(config, HPETState),
    VMF_U64(isr, HPETState),
    VMF_U64(counter_base, HPETState),
    VMF_I64(counter_ns, HPETState),
    VMF_STRUCT_ARRAY(t, HPETState, HPET_NUM_TIMERS, hpet_timer_vmsd),
    VMF_END
};

static const VMStateDesc hpet_vmsd = {
    .name = "hpet", .version = 1, .min_version = 1, .fields = hpet_fields,
    .pre_save = hpet_pre_save, .post_load = hpet_post_load,
};

static void hpet_free(void *opaque)
{
    HPETState *s = opaque;
    for (int n = 0; n < HPET_NUM_TIMERS; n++)
        timer_free(s->t[n].timer);
    free(s);
}

static const DeviceOps hpet_device_ops = {
    .name = "hpet", .reset = hpet_reset, .free = hpet_free, .vmsd = &hpet_vmsd,
};

HPETState *hpet_create(Machine *m, uint64_t base, IRQLine *const irq[24])
{
    HPETState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    if (irq)
        memcpy(s->irq, irq, sizeof(s->irq));
    for (int n = 0; n < HPET_NUM_TIMERS; n++) {
        s->t[n].s = s;
        s->t[n].index = n;
        s->t[n].asserted = -1;
        s->t[n].timer = timer_new(m->clock, hpet_fire, &s->t[n]);
    }
    char *err = NULL;
    if (!memmap_add_mmio(m->mem, "hpet", base, HPET_MMIO_SIZE, &hpet_mmio_ops, s,
                         HPET_MMIO_PRIORITY, &err)) {
        LOG(LOG_GUEST_ERRORS, "hpet: %s\n", err);
        free(err);
        hpet_free(s);
        return NULL;
    }
    machine_add_device(m, &hpet_device_ops, s);
    hpet_reset(s);
    return s;
}
