/*
 * Local APIC model (see lapic.h for the wiring and the timer clock).
 *
 * Facts: Intel SDM vol. 3A chapter 11 (register layout 11-1 and 11-6,
 * PPR rule 11.8.3.1, acceptance/EOI 11.8.4-11.8.5, divide configuration
 * 11-10, timer modes 11.5.4, x2APIC MSR map and access rules 11.12,
 * IA32_APIC_BASE state transitions 11.12.5).
 */
#include "hw/lapic.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_NUM };

static const uint32_t lvt_wmask[LVT_NUM] = {
    [LVT_TIMER] = 0x000700ff,     /* vector, mask, timer mode */
    [LVT_THERMAL] = 0x000107ff,   /* vector, delivery mode, mask */
    [LVT_PERF] = 0x000107ff,
    [LVT_LINT0] = 0x0001a7ff,     /* + polarity, trigger mode */
    [LVT_LINT1] = 0x0001a7ff,
    [LVT_ERROR] = 0x000100ff,
};

struct LAPICState {
    Machine *m;
    IRQLine *intr;
    int intr_level;
    IRQLine lint_in[2];
    LAPICIPIFn ipi_fn;
    void *ipi_opaque;
    LAPICEOIFn eoi_fn;
    void *eoi_opaque;
    MemRegion *mmio;
    uint64_t tsc_hz;
    Timer *timer;
    uint32_t initial_id;

    /* architectural state */
    uint64_t apicbase;
    uint32_t id;
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr, esr_pending;
    uint32_t icr_lo, icr_hi;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t lvt[LVT_NUM];
    uint32_t timer_initial, timer_dcr;
    int64_t timer_start;          /* virtual ns when the count was loaded */
    uint64_t tsc_deadline;
    int64_t timer_expire;         /* snapshot of the armed deadline, 0 = none */
    uint8_t lint_level[2];
    bool nmi_pending, init_pending;
    int32_t sipi_vector;
    /* The CPU is in wait-for-SIPI (an AP after RESET or INIT): it runs
     * nothing until a start-up IPI, and takes only INIT meanwhile. */
    bool wait_sipi;
};

/* ---- helpers ---- */

static bool lapic_x2apic(const LAPICState *s)
{
    return (s->apicbase & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool lapic_hw_enabled(const LAPICState *s)
{
    return (s->apicbase & APIC_BASE_EN) != 0;
}

static bool lapic_sw_enabled(const LAPICState *s)
{
    return lapic_hw_enabled(s) && (s->svr & APIC_SVR_ENABLE);
}

static int highest_bit(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--)
        if (v[i])
            return i * 32 + 31 - __builtin_clz(v[i]);
    return -1;
}

static void bit_set(uint32_t *v, int n) { v[n >> 5] |= 1u << (n & 31); }
static void bit_clear(uint32_t *v, int n) { v[n >> 5] &= ~(1u << (n & 31)); }
static bool bit_test(const uint32_t *v, int n) { return (v[n >> 5] >> (n & 31)) & 1; }

static uint32_t lapic_ppr(const LAPICState *s)
{
    int isrv = highest_bit(s->isr);
    if (isrv < 0)
        isrv = 0;
    if ((s->tpr & 0xf0) >= ((uint32_t)isrv & 0xf0))
        return s->tpr & 0xff;
    return (uint32_t)isrv & 0xf0;
}

static unsigned lapic_divisor(const LAPICState *s)
{
    unsigned v = (s->timer_dcr & 3) | ((s->timer_dcr >> 1) & 4);
    return 1u << ((v + 1) & 7);    /* 0..6 -> 2..128, 7 -> 1 */
}

static unsigned lapic_timer_mode(const LAPICState *s)
{
    return (s->lvt[LVT_TIMER] >> 17) & 3;
}

static void lapic_update_intr(LAPICState *s)
{
    int want = lapic_has_interrupt(s) || s->nmi_pending || s->init_pending ||
               s->sipi_vector >= 0 || (s->lint_level[0] && lapic_lint0_extint(s));
    if (want != s->intr_level) {
        s->intr_level = want;
        irq_set(s->intr, want);
    }
}

static void lapic_error(LAPICState *s, uint32_t bit)
{
    bool first = !(s->esr_pending & bit);
    s->esr_pending |= bit;
    uint32_t lvt = s->lvt[LVT_ERROR];
    if (first && !(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16) {
        bit_set(s->irr, lvt & 0xff);
        bit_clear(s->tmr, lvt & 0xff);
    }
    lapic_update_intr(s);
}

/* ---- acceptance ---- */

void lapic_set_irq(LAPICState *s, int vector, bool level_trig)
{
    if (vector < 16 || vector > 255) {
        lapic_error(s, APIC_ESR_RECV_ILLEGAL);
        return;
    }
    bit_set(s->irr, vector);
    if (level_trig)
        bit_set(s->tmr, vector);
    else
        bit_clear(s->tmr, vector);
    lapic_update_intr(s);
}

void lapic_deliver(LAPICState *s, int mode, int vector, bool level_trig)
{
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        lapic_set_irq(s, vector, level_trig);
        break;
    case APIC_DM_NMI:
        s->nmi_pending = true;
        break;
    case APIC_DM_INIT:
        s->init_pending = true;
        /* The BSP restarts at the reset vector; an AP waits for a SIPI. */
        if (!(s->apicbase & APIC_BASE_BSP))
            s->wait_sipi = true;
        break;
    case APIC_DM_SIPI:
        /* Only a CPU waiting for one takes it (SDM 3A 8.4.4.1): Linux
         * and the MP spec send two, the second is dropped. */
        if (!s->wait_sipi)
            return;
        s->wait_sipi = false;
        s->sipi_vector = vector & 0xff;
        break;
    default:
        LOG(LOG_UNIMP, "lapic %u: delivery mode %d not supported\n", s->id, mode);
        return;
    }
    lapic_update_intr(s);
}

bool lapic_has_interrupt(LAPICState *s)
{
    if (!lapic_sw_enabled(s))
        return false;
    int irrv = highest_bit(s->irr);
    return irrv >= 0 && ((uint32_t)irrv & 0xf0) > (lapic_ppr(s) & 0xf0);
}

int lapic_ack_interrupt(LAPICState *s)
{
    if (!lapic_has_interrupt(s))
        return (int)(s->svr & 0xff);      /* spurious vector */
    int v = highest_bit(s->irr);
    bit_clear(s->irr, v);
    bit_set(s->isr, v);
    lapic_update_intr(s);
    return v;
}

static void lapic_eoi(LAPICState *s)
{
    int v = highest_bit(s->isr);
    if (v < 0)
        return;
    bit_clear(s->isr, v);
    if (bit_test(s->tmr, v) && s->eoi_fn)
        s->eoi_fn(s->eoi_opaque, v);
    lapic_update_intr(s);
}

bool lapic_lint0_extint(LAPICState *s)
{
    uint32_t lvt = s->lvt[LVT_LINT0];
    /* Globally disabled, the APIC is out of the way: LINT0 is INTR. */
    if (!lapic_hw_enabled(s))
        return true;
    return !(lvt & APIC_LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT;
}

bool lapic_take_nmi(LAPICState *s)
{
    bool v = s->nmi_pending;
    s->nmi_pending = false;
    lapic_update_intr(s);
    return v;
}

bool lapic_take_init(LAPICState *s)
{
    bool v = s->init_pending;
    s->init_pending = false;
    lapic_update_intr(s);
    return v;
}

bool lapic_waits_for_sipi(LAPICState *s)
{
    return s->wait_sipi;
}

int lapic_take_sipi(LAPICState *s)
{
    int v = s->sipi_vector;
    s->sipi_vector = -1;
    lapic_update_intr(s);
    return v;
}

/* LVT-sourced interrupt (timer, error, LINTn in fixed/NMI mode). */
static void lapic_local_deliver(LAPICState *s, int lvt_index)
{
    uint32_t lvt = s->lvt[lvt_index];
    if (lvt & APIC_LVT_MASKED)
        return;
    int mode = lvt_index == LVT_TIMER || lvt_index == LVT_ERROR ? APIC_DM_FIXED
                                                                : (int)((lvt >> 8) & 7);
    bool level = (lvt_index == LVT_LINT0 || lvt_index == LVT_LINT1) && (lvt & APIC_LVT_LEVEL);
    if (mode == APIC_DM_EXTINT) {
        lapic_update_intr(s);             /* the CPU asks the PIC */
        return;
    }
    lapic_deliver(s, mode, (int)(lvt & 0xff), level);
}

static void lapic_lint_input(void *opaque, int n, int level)
{
    LAPICState *s = opaque;
    int old = s->lint_level[n];
    s->lint_level[n] = level != 0;
    if (!lapic_hw_enabled(s)) {
        /* APIC out of the way: LINT0 is INTR, LINT1 is the NMI pin. */
        if (n == 1 && level && !old)
            s->nmi_pending = true;
        lapic_update_intr(s);
        return;
    }
    int idx = n ? LVT_LINT1 : LVT_LINT0;
    uint32_t lvt = s->lvt[idx];
    if (((lvt >> 8) & 7) == APIC_DM_EXTINT) {
        lapic_update_intr(s);
        return;
    }
    /* Edge: deliver on the rising edge; level: while asserted. */
    if (level && (!old || (lvt & APIC_LVT_LEVEL)))
        lapic_local_deliver(s, idx);
}

/* ---- destination matching (SDM 11.6.2) ---- */

bool lapic_match_dest(LAPICState *s, uint32_t dest, bool logical)
{
    if (!lapic_hw_enabled(s))
        return false;
    if (lapic_x2apic(s)) {
        if (dest == 0xffffffffu)
            return true;
        if (!logical)
            return dest == s->id;
        return (dest >> 16) == (s->ldr >> 16) && (dest & s->ldr & 0xffff);
    }
    dest &= 0xff;
    if (dest == 0xff)
        return true;
    if (!logical)
        return dest == (s->id & 0xff);
    uint32_t ldr = s->ldr >> 24;
    if ((s->dfr >> 28) == 0xf)            /* flat model */
        return (dest & ldr) != 0;
    /* cluster model: high nibble cluster, low nibble member mask */
    return ((dest >> 4) == (ldr >> 4) || (dest >> 4) == 0xf) && (dest & ldr & 0xf);
}

bool lapic_parse_msi(uint64_t addr, uint32_t data, uint32_t *dest, bool *logical, int *mode,
                     int *vector)
{
    if ((addr & 0xfff00000u) != 0xfee00000u || (addr >> 32)) {
        LOG(LOG_GUEST_ERRORS, "lapic: MSI address 0x%llx outside 0xfeexxxxx\n",
            (unsigned long long)addr);
        return false;
    }
    *dest = (uint32_t)(addr >> 12) & 0xff;
    *logical = (addr >> 2) & 1;
    *vector = data & 0xff;
    *mode = (data >> 8) & 7;
    if (data & (1u << 15))
        LOG(LOG_GUEST_ERRORS, "lapic: level-triggered MSI taken as edge\n");
    if (*mode != APIC_DM_FIXED && *mode != APIC_DM_LOWEST && *mode != APIC_DM_NMI) {
        LOG(LOG_UNIMP, "lapic: MSI delivery mode %d not supported\n", *mode);
        return false;
    }
    return true;
}

bool lapic_deliver_msi(LAPICState *s, uint64_t addr, uint32_t data)
{
    uint32_t dest;
    bool logical;
    int mode, vector;
    if (!lapic_parse_msi(addr, data, &dest, &logical, &mode, &vector) ||
        !lapic_match_dest(s, dest, logical))
        return false;
    lapic_deliver(s, mode, vector, false);
    return true;
}

uint32_t lapic_arb_priority(LAPICState *s)
{
    return lapic_ppr(s);
}

bool lapic_mmio_enabled(LAPICState *s)
{
    return lapic_hw_enabled(s) && !lapic_x2apic(s);
}

/* ---- ICR ---- */

static void lapic_send_ipi(LAPICState *s)
{
    uint32_t lo = s->icr_lo;
    int vector = lo & 0xff, mode = (lo >> 8) & 7;
    bool logical = (lo >> 11) & 1, trig = (lo >> 15) & 1, assert_ = (lo >> 14) & 1;
    unsigned shorthand = (lo >> 18) & 3;
    uint32_t dest = lapic_x2apic(s) ? s->icr_hi : s->icr_hi >> 24;

    if (mode == APIC_DM_INIT && !assert_ && trig)
        return;                           /* INIT level de-assert: no-op since P4 */
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
        lapic_error(s, APIC_ESR_SEND_ILLEGAL);
        return;
    }
    /* The bus (the board) delivers everything but a self IPI, the sender
     * included when the destination selects it: lowest-priority
     * arbitration needs every candidate at once. */
    if (shorthand != 1 && s->ipi_fn) {
        s->ipi_fn(s->ipi_opaque, s, dest, lo);
        return;
    }
    if (shorthand == 1 || shorthand == 2 ||
        (shorthand == 0 && lapic_match_dest(s, dest, logical)))
        lapic_deliver(s, mode, vector, trig);
}

/* ---- timer ---- */

static int64_t lapic_tsc_to_ns(LAPICState *s, uint64_t tsc)
{
    unsigned __int128 ns = ((unsigned __int128)tsc * NS_PER_SEC + s->tsc_hz - 1) / s->tsc_hz;
    return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static uint32_t lapic_current_count(LAPICState *s)
{
    if (!s->timer_initial || lapic_timer_mode(s) == 2)
        return 0;
    int64_t elapsed = clock_now(s->m->clock) - s->timer_start;
    if (elapsed < 0)
        elapsed = 0;
    uint64_t ticks = (uint64_t)elapsed / lapic_divisor(s);
    if (lapic_timer_mode(s) == 1)
        return s->timer_initial - (uint32_t)(ticks % s->timer_initial);
    return ticks >= s->timer_initial ? 0 : s->timer_initial - (uint32_t)ticks;
}

static int64_t lapic_period_ns(LAPICState *s)
{
    return (int64_t)s->timer_initial * lapic_divisor(s);
}

static void lapic_timer_start(LAPICState *s)
{
    s->timer_start = clock_now(s->m->clock);
    if (s->timer_initial)
        timer_mod(s->timer, s->timer_start + lapic_period_ns(s));
    else
        timer_del(s->timer);
}

static void lapic_timer_fire(void *opaque)
{
    LAPICState *s = opaque;
    unsigned mode = lapic_timer_mode(s);
    if (mode == 2) {
        s->tsc_deadline = 0;              /* one shot: the MSR reads 0 after */
    } else if (mode == 1 && s->timer_initial) {
        int64_t now = clock_now(s->m->clock);
        int64_t period = lapic_period_ns(s);
        s->timer_start += period;
        if (s->timer_start + period <= now)   /* far behind: drop lost ticks */
            s->timer_start = now - (now - s->timer_start) % period;
        int64_t next = s->timer_start + period;
        if (next < now + LAPIC_MIN_PERIOD_NS && period < LAPIC_MIN_PERIOD_NS)
            next = now + LAPIC_MIN_PERIOD_NS;
        timer_mod(s->timer, next);
    }
    lapic_local_deliver(s, LVT_TIMER);
}

void lapic_set_tsc_deadline(LAPICState *s, uint64_t tsc)
{
    if (lapic_timer_mode(s) != 2)
        return;                           /* ignored outside TSC-deadline mode */
    s->tsc_deadline = tsc;
    if (!tsc) {
        timer_del(s->timer);
        return;
    }
    int64_t when = lapic_tsc_to_ns(s, tsc);
    int64_t now = clock_now(s->m->clock);
    timer_mod(s->timer, when < now ? now : when);
}

uint64_t lapic_get_tsc_deadline(LAPICState *s)
{
    return lapic_timer_mode(s) == 2 ? s->tsc_deadline : 0;
}

/* ---- register file ---- */

static void lapic_mask_all_lvts(LAPICState *s)
{
    for (int i = 0; i < LVT_NUM; i++)
        s->lvt[i] |= APIC_LVT_MASKED;
}

static bool lapic_write_lvt(LAPICState *s, int idx, uint32_t val)
{
    uint32_t old = s->lvt[idx];
    uint32_t v = val & lvt_wmask[idx];
    if (!(s->svr & APIC_SVR_ENABLE))
        v |= APIC_LVT_MASKED;            /* software-disabled: stays masked */
    if (idx == LVT_TIMER && ((v >> 17) & 3) == 3)
        v &= ~(3u << 17);                /* reserved mode: one-shot */
    s->lvt[idx] = v | (old & (1u << 14));    /* remote IRR is read-only */
    if (idx == LVT_TIMER && ((old ^ v) >> 17 & 3)) {
        /* Mode change disarms the timer (SDM 11.5.4.1). */
        timer_del(s->timer);
        s->timer_initial = 0;
        s->tsc_deadline = 0;
    }
    lapic_update_intr(s);
    return true;
}

/* Reads register at xAPIC offset reg.  false: no such register. */
static bool lapic_reg_read(LAPICState *s, uint32_t reg, uint32_t *out)
{
    uint32_t v;
    switch (reg) {
    case APIC_ID:   v = lapic_x2apic(s) ? s->id : s->id << 24; break;
    case APIC_LVR:  v = LAPIC_VERSION; break;
    case APIC_TPR:  v = s->tpr; break;
    case APIC_APR:  v = 0; break;
    case APIC_PPR:  v = lapic_ppr(s); break;
    case APIC_LDR:  v = s->ldr; break;
    case APIC_DFR:  v = s->dfr; break;
    case APIC_SVR:  v = s->svr; break;
    case APIC_ESR:  v = s->esr; break;
    case APIC_ICR_LO: v = s->icr_lo & ~(1u << 12); break;   /* always idle */
    case APIC_ICR_HI: v = s->icr_hi; break;
    case APIC_TMICT: v = s->timer_initial; break;
    case APIC_TMCCT: v = lapic_current_count(s); break;
    case APIC_TDCR:  v = s->timer_dcr; break;
    default:
        if (reg >= APIC_ISR && reg < APIC_ISR + 0x80)
            v = s->isr[(reg - APIC_ISR) >> 4];
        else if (reg >= APIC_TMR && reg < APIC_TMR + 0x80)
            v = s->tmr[(reg - APIC_TMR) >> 4];
        else if (reg >= APIC_IRR && reg < APIC_IRR + 0x80)
            v = s->irr[(reg - APIC_IRR) >> 4];
        else if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR)
            v = s->lvt[(reg - APIC_LVT_TIMER) >> 4];
        else
            return false;
    }
    *out = v;
    return true;
}

static bool lapic_reg_write(LAPICState *s, uint32_t reg, uint32_t val)
{
    switch (reg) {
    case APIC_ID:
        s->id = val >> 24;
        return true;
    case APIC_TPR:
        s->tpr = val & 0xff;
        lapic_update_intr(s);
        return true;
    case APIC_EOI:
        lapic_eoi(s);
        return true;
    case APIC_LDR:
        s->ldr = val & 0xff000000u;
        return true;
    case APIC_DFR:
        s->dfr = val | 0x0fffffffu;
        return true;
    case APIC_SVR:
        s->svr = val & 0x3ff;
        if (!(s->svr & APIC_SVR_ENABLE))
            lapic_mask_all_lvts(s);
        lapic_update_intr(s);
        return true;
    case APIC_ESR:
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        return true;
    case APIC_ICR_LO:
        s->icr_lo = val & 0x000ccfff;
        lapic_send_ipi(s);
        return true;
    case APIC_ICR_HI:
        s->icr_hi = val & 0xff000000u;
        return true;
    case APIC_TMICT:
        if (lapic_timer_mode(s) == 2)
            return true;                 /* ignored in TSC-deadline mode */
        s->timer_initial = val;
        lapic_timer_start(s);
        return true;
    case APIC_TDCR: {
        uint32_t cur = lapic_current_count(s);
        s->timer_dcr = val & 0xb;
        /* Keep counting from the current value at the new rate. */
        if (s->timer_initial && lapic_timer_mode(s) != 2) {
            int64_t now = clock_now(s->m->clock);
            s->timer_start = now - (int64_t)(s->timer_initial - cur) * lapic_divisor(s);
            if (cur)
                timer_mod(s->timer, now + (int64_t)cur * lapic_divisor(s));
        }
        return true;
    }
    default:
        if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR)
            return lapic_write_lvt(s, (int)((reg - APIC_LVT_TIMER) >> 4), val);
        return false;                    /* read-only or reserved */
    }
}

static bool lapic_reg_readonly(uint32_t reg)
{
    return reg == APIC_LVR || reg == APIC_PPR || reg == APIC_APR || reg == APIC_TMCCT ||
           (reg >= APIC_ISR && reg < APIC_IRR + 0x80);
}

uint32_t lapic_mmio_read(LAPICState *s, uint32_t offset)
{
    uint32_t v = 0;
    if (offset & 0xf)
        return 0;
    if (!lapic_reg_read(s, offset & 0xff0, &v) || offset == APIC_SELF_IPI) {
        lapic_error(s, APIC_ESR_ILLEGAL_REG);
        return 0;
    }
    return v;
}

void lapic_mmio_write(LAPICState *s, uint32_t offset, uint32_t val)
{
    if (offset & 0xf)
        return;
    offset &= 0xff0;
    if (lapic_reg_readonly(offset))
        return;                          /* writes to read-only registers are dropped */
    if (!lapic_reg_write(s, offset, val))
        lapic_error(s, APIC_ESR_ILLEGAL_REG);
}

static uint64_t lapic_mmio_ops_read(void *opaque, uint64_t off, unsigned size)
{
    (void)size;
    return lapic_mmio_read(opaque, (uint32_t)off);
}

static void lapic_mmio_ops_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    (void)size;
    lapic_mmio_write(opaque, (uint32_t)off, (uint32_t)val);
}

static const MemOps lapic_mmio_ops = {
    .read = lapic_mmio_ops_read, .write = lapic_mmio_ops_write, .min_size = 4, .max_size = 4,
};

/* ---- IA32_APIC_BASE and x2APIC MSRs ---- */

static void lapic_update_mmio(LAPICState *s)
{
    if (!s->mmio)
        return;
    uint64_t base = s->apicbase & ~0xfffULL;
    if (s->mmio->base != base) {
        memmap_remove(s->m->mem, s->mmio);
        s->mmio = memmap_add_mmio(s->m->mem, "lapic", base, 0x1000, &lapic_mmio_ops, s,
                                  LAPIC_MMIO_PRIORITY, NULL);
        if (!s->mmio) {
            LOG(LOG_GUEST_ERRORS, "lapic: cannot map the APIC page at 0x%llx\n",
                (unsigned long long)base);
            return;
        }
    }
    memmap_enable(s->m->mem, s->mmio, lapic_hw_enabled(s) && !lapic_x2apic(s));
}

static void lapic_reset_registers(LAPICState *s)
{
    s->tpr = 0;
    s->ldr = 0;
    s->dfr = 0xffffffffu;
    s->svr = 0xff;
    s->esr = s->esr_pending = 0;
    s->icr_lo = s->icr_hi = 0;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    for (int i = 0; i < LVT_NUM; i++)
        s->lvt[i] = APIC_LVT_MASKED;
    s->timer_initial = 0;
    s->timer_dcr = 0;
    s->timer_start = 0;
    s->tsc_deadline = 0;
    s->nmi_pending = s->init_pending = false;
    s->sipi_vector = -1;
    timer_del(s->timer);
}

static bool lapic_set_base(LAPICState *s, uint64_t val)
{
    const uint64_t reserved = 0xffULL | (1ULL << 9) | (~0ULL << 52);
    if (val & reserved)
        return false;
    bool en = val & APIC_BASE_EN, extd = val & APIC_BASE_EXTD;
    bool was_en = lapic_hw_enabled(s), was_x2 = lapic_x2apic(s);
    if (extd && !en)
        return false;                    /* invalid state */
    if (was_x2 && en && !extd)
        return false;                    /* x2APIC -> xAPIC must pass through disabled */
    if (!was_en && en && extd)
        return false;                    /* disabled -> x2APIC must pass through xAPIC */
    s->apicbase = (val & ~(uint64_t)APIC_BASE_BSP) | (s->apicbase & APIC_BASE_BSP);
    if (was_en && !en) {
        lapic_reset_registers(s);        /* like a power-up reset, ID kept */
        s->id = s->initial_id;
    }
    if (!was_x2 && lapic_x2apic(s)) {
        s->id = s->initial_id;
        s->ldr = ((s->id >> 4) << 16) | (1u << (s->id & 0xf));
    }
    lapic_update_mmio(s);
    lapic_update_intr(s);
    return true;
}

static bool lapic_x2apic_read(LAPICState *s, uint32_t reg, uint64_t *out)
{
    if (reg == APIC_ICR_LO) {
        *out = (uint64_t)s->icr_hi << 32 | (s->icr_lo & ~(1u << 12));
        return true;
    }
    if (reg == APIC_EOI || reg == APIC_DFR || reg == APIC_ICR_HI || reg == APIC_SELF_IPI ||
        reg == APIC_APR)
        return false;
    uint32_t v;
    if (!lapic_reg_read(s, reg, &v))
        return false;
    *out = v;
    return true;
}

static bool lapic_x2apic_write(LAPICState *s, uint32_t reg, uint64_t val)
{
    if (reg == APIC_ICR_LO) {
        s->icr_hi = (uint32_t)(val >> 32);
        s->icr_lo = (uint32_t)val & 0x000ccfff;
        lapic_send_ipi(s);
        return true;
    }
    if (val >> 32)
        return false;
    switch (reg) {
    case APIC_ID: case APIC_LDR: case APIC_DFR: case APIC_ICR_HI: case APIC_APR:
        return false;                    /* read-only or absent in x2APIC mode */
    case APIC_EOI:
        if (val)
            return false;
        lapic_eoi(s);
        return true;
    case APIC_ESR:
        if (val)
            return false;
        return lapic_reg_write(s, reg, 0);
    case APIC_SELF_IPI:
        lapic_set_irq(s, (int)(val & 0xff), false);
        return true;
    default:
        if (lapic_reg_readonly(reg))
            return false;
        return lapic_reg_write(s, reg, (uint32_t)val);
    }
}

uint64_t lapic_msr_read(LAPICState *s, uint32_t msr, bool *ok)
{
    uint64_t v = 0;
    bool good = true;
    if (msr == MSR_IA32_APIC_BASE)
        v = s->apicbase;
    else if (msr == MSR_IA32_TSC_DEADLINE)
        v = lapic_get_tsc_deadline(s);
    else if (msr >= 0x800 && msr <= 0x8ff && lapic_x2apic(s))
        good = lapic_x2apic_read(s, (msr - 0x800) << 4, &v);
    else
        good = false;
    if (ok)
        *ok = good;
    return good ? v : 0;
}

bool lapic_msr_write(LAPICState *s, uint32_t msr, uint64_t val)
{
    if (msr == MSR_IA32_APIC_BASE)
        return lapic_set_base(s, val);
    if (msr == MSR_IA32_TSC_DEADLINE) {
        lapic_set_tsc_deadline(s, val);
        return true;
    }
    if (msr >= 0x800 && msr <= 0x8ff && lapic_x2apic(s))
        return lapic_x2apic_write(s, (msr - 0x800) << 4, val);
    return false;
}

/* ---- public setup ---- */

IRQLine *lapic_lint0(LAPICState *s) { return &s->lint_in[0]; }
IRQLine *lapic_lint1(LAPICState *s) { return &s->lint_in[1]; }
uint32_t lapic_get_id(LAPICState *s) { return s->id; }

void lapic_set_ipi_handler(LAPICState *s, LAPICIPIFn fn, void *opaque)
{
    s->ipi_fn = fn;
    s->ipi_opaque = opaque;
}

void lapic_set_eoi_handler(LAPICState *s, LAPICEOIFn fn, void *opaque)
{
    s->eoi_fn = fn;
    s->eoi_opaque = opaque;
}

void lapic_set_tsc_hz(LAPICState *s, uint64_t hz)
{
    s->tsc_hz = hz ? hz : NS_PER_SEC;
}

static void lapic_reset(void *opaque)
{
    LAPICState *s = opaque;
    bool bsp = s->apicbase & APIC_BASE_BSP;
    lapic_reset_registers(s);
    s->apicbase = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (bsp ? APIC_BASE_BSP : 0);
    s->id = s->initial_id;
    s->wait_sipi = !bsp;                 /* APs wait for a start-up IPI */
    /* Every LVT entry resets masked (SDM vol. 3 11.4.7.1): PIC interrupts
     * reach the CPU only once firmware sets up the virtual wire, which a
     * firmware-less board does with lapic_set_virtual_wire(). */
    lapic_update_mmio(s);
    s->intr_level = -1;                  /* force the output to be driven */
    lapic_update_intr(s);
}

void lapic_init_reset(LAPICState *s)
{
    /* SDM 3A 10.4.7.3: INIT resets the registers; ID and IA32_APIC_BASE
     * (hence the mode, xAPIC or x2APIC) are kept. */
    uint32_t id = s->id, ldr = s->ldr;
    lapic_reset_registers(s);
    s->id = id;
    if (lapic_x2apic(s))
        s->ldr = ldr;                    /* derived from the ID, read-only */
    lapic_update_intr(s);
}

void lapic_set_virtual_wire(LAPICState *s)
{
    /* MP spec 3.6.2.2: LINT0 ExtINT (the 8259's INTR), LINT1 NMI. */
    s->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    s->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
    lapic_update_intr(s);
}

static void lapic_pre_save(void *opaque)
{
    LAPICState *s = opaque;
    s->timer_expire = timer_pending(s->timer) ? timer_expire_time(s->timer) : 0;
}

static int lapic_post_load(void *opaque, int version, char **err)
{
    LAPICState *s = opaque;
    (void)version;
    const uint64_t reserved = 0xffULL | (1ULL << 9) | (~0ULL << 52);
    if ((s->apicbase & reserved) ||
        (s->apicbase & (APIC_BASE_EN | APIC_BASE_EXTD)) == APIC_BASE_EXTD) {
        set_error(err, "lapic: invalid IA32_APIC_BASE 0x%llx",
                  (unsigned long long)s->apicbase);
        return -1;
    }
    if (s->sipi_vector < -1 || s->sipi_vector > 255 || s->lint_level[0] > 1 ||
        s->lint_level[1] > 1) {
        set_error(err, "lapic: pending-event fields out of range");
        return -1;
    }
    for (int i = 0; i < LVT_NUM; i++)
        s->lvt[i] &= lvt_wmask[i] | (1u << 14);
    if (lapic_timer_mode(s) == 3)
        s->lvt[LVT_TIMER] &= ~(3u << 17);
    s->timer_dcr &= 0xb;
    s->tpr &= 0xff;
    s->svr &= 0x3ff;
    if (s->timer_expire > 0)
        timer_mod(s->timer, s->timer_expire);
    else
        timer_del(s->timer);
    lapic_update_mmio(s);
    s->intr_level = -1;
    lapic_update_intr(s);
    return 0;
}

static const VMField lapic_fields[] = {
    VMF_U64(apicbase, LAPICState),
    VMF_U32(id, LAPICState),
    VMF_U32(tpr, LAPICState),
    VMF_U32(ldr, LAPICState),
    VMF_U32(dfr, LAPICState),
    VMF_U32(svr, LAPICState),
    VMF_U32(esr, LAPICState),
    VMF_U32(esr_pending, LAPICState),
    VMF_U32(icr_lo, LAPICState),
    VMF_U32(icr_hi, LAPICState),
    VMF_U32_ARRAY(isr, LAPICState, 8),
    VMF_U32_ARRAY(tmr, LAPICState, 8),
    VMF_U32_ARRAY(irr, LAPICState, 8),
    VMF_U32_ARRAY(lvt, LAPICState, LVT_NUM),
    VMF_U32(timer_initial, LAPICState),
    VMF_U32(timer_dcr, LAPICState),
    VMF_I64(timer_start, LAPICState),
    VMF_U64(tsc_deadline, LAPICState),
    VMF_I64(timer_expire, LAPICState),
    VMF_U8_ARRAY(lint_level, LAPICState, 2),
    VMF_BOOL(nmi_pending, LAPICState),
    VMF_BOOL(init_pending, LAPICState),
    VMF_I32(sipi_vector, LAPICState),
    { .name = "wait_sipi", .offset = offsetof(LAPICState, wait_sipi), .type = VMF_TYPE_BOOL,
      .size = sizeof(bool), .count = 1, .version = 2 },
    VMF_END
};

/* Version 2: wait_sipi (SMP).  A version-1 stream comes from a one-CPU
 * machine, whose CPU never waits. */
static const VMStateDesc lapic_vmsd = {
    .name = "lapic", .version = 2, .min_version = 1, .fields = lapic_fields,
    .pre_save = lapic_pre_save, .post_load = lapic_post_load,
};

static void lapic_free(void *opaque)
{
    LAPICState *s = opaque;
    timer_free(s->timer);
    free(s);
}

static const DeviceOps lapic_device_ops = {
    .name = "lapic", .reset = lapic_reset, .free = lapic_free, .vmsd = &lapic_vmsd,
};

LAPICState *lapic_create(Machine *m, uint32_t apic_id, bool bsp, bool map_mmio,
                         IRQLine *intr)
{
    LAPICState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->intr = intr;
    s->initial_id = apic_id;
    s->tsc_hz = NS_PER_SEC;
    s->timer = timer_new(m->clock, lapic_timer_fire, s);
    irq_init(&s->lint_in[0], lapic_lint_input, s, 0);
    irq_init(&s->lint_in[1], lapic_lint_input, s, 1);
    if (map_mmio) {
        char *err = NULL;
        s->mmio = memmap_add_mmio(m->mem, "lapic", LAPIC_DEFAULT_BASE, 0x1000,
                                  &lapic_mmio_ops, s, LAPIC_MMIO_PRIORITY, &err);
        if (!s->mmio) {
            LOG(LOG_GUEST_ERRORS, "lapic: %s\n", err);
            free(err);
        }
    }
    s->apicbase = bsp ? APIC_BASE_BSP : 0;
    machine_add_device(m, &lapic_device_ops, s);
    lapic_reset(s);
    return s;
}

/* ---- info lapic ---- */

static void dump_lvt(FILE *f, const char *name, uint32_t v, bool timer)
{
    static const char *const mode[8] = { "Fixed ", "...", "SMI", "...", "NMI", "...",
                                         "...", "ExtINT" };
    static const char *const tmode[4] = { "one-shot", "periodic", "tsc-deadline", "..." };
    unsigned dm = timer ? 0 : (v >> 8) & 7;
    fprintf(f, "%s\t 0x%08x %s %-5s %-15s%-12s %-6s", name, v,
            v & (1u << 13) ? "active-lo" : "active-hi", v & (1u << 15) ? "level" : "edge",
            v & (1u << 16) ? "masked" : "", timer ? tmode[(v >> 17) & 3] : "", mode[dm]);
    if (dm != 4)                      /* NMI has no vector */
        fprintf(f, " (vec %u)", v & 0xff);
    fprintf(f, "\n");
}

static void dump_bits(FILE *f, const char *name, const uint32_t *bits)
{
    bool any = false;
    fprintf(f, "%s\t", name);
    for (int v = 0; v < 256; v++)
        if (bits[v / 32] >> (v % 32) & 1) {
            fprintf(f, " %d", v);
            any = true;
        }
    fprintf(f, "%s\n", any ? "" : " (none)");
}

void lapic_dump(LAPICState *s, int cpu, FILE *f)
{
    static const char *const shorthand[4] = { "", "self", "all-self", "all" };
    uint32_t dcr = s->timer_dcr & 0xb;
    unsigned div = ((dcr & 3) | (dcr >> 1 & 4)) == 7 ? 1 : 2u << ((dcr & 3) | (dcr >> 1 & 4));
    fprintf(f, "dumping local APIC state for CPU %d \n\n", cpu);
    dump_lvt(f, "LVT0", s->lvt[LVT_LINT0], false);
    dump_lvt(f, "LVT1", s->lvt[LVT_LINT1], false);
    dump_lvt(f, "LVTPC", s->lvt[LVT_PERF], false);
    dump_lvt(f, "LVTERR", s->lvt[LVT_ERROR], false);
    dump_lvt(f, "LVTTHMR", s->lvt[LVT_THERMAL], false);
    dump_lvt(f, "LVTT", s->lvt[LVT_TIMER], true);
    fprintf(f, "Timer\t DCR=0x%x (divide by %u) initial_count = %u current_count = %u\n",
            dcr, div, s->timer_initial, lapic_current_count(s));
    fprintf(f, "SPIV\t 0x%08x APIC %s, focus=%s, spurious vec %u\n", s->svr,
            s->svr & 0x100 ? "enabled" : "disabled", s->svr & 0x200 ? "on" : "off",
            s->svr & 0xff);
    uint32_t icr = s->icr_lo;
    fprintf(f, "ICR\t 0x%08x %s %s %s %s\n", icr, icr & (1u << 11) ? "logical" : "physical",
            icr & (1u << 15) ? "level" : "edge", icr & (1u << 14) ? "assert" : "de-assert",
            (icr >> 18) & 3 ? shorthand[(icr >> 18) & 3] : "");
    fprintf(f, "ICR2\t 0x%08x\n", s->icr_hi);
    fprintf(f, "ESR\t 0x%08x\n", s->esr);
    dump_bits(f, "ISR", s->isr);
    dump_bits(f, "IRR", s->irr);
    fprintf(f, "\nAPR 0x%02x TPR 0x%02x DFR 0x%02x LDR 0x%02x PPR 0x%02x\n",
            lapic_arb_priority(s) & 0xff, s->tpr & 0xff, s->dfr >> 28, s->ldr >> 24,
            lapic_ppr(s) & 0xff);
}
