/*
 * MC146818 RTC + CMOS RAM at ports 0x70/0x71, written from the Motorola
 * datasheet.  Port 0x70 selects one of 128 bytes (bit 7 is the PC's NMI
 * mask latch, stored and readable by the board); 0x71 reads or writes it.
 *
 * Time: the guest's UTC seconds are not stored in the registers but
 * computed from the virtual clock.  The divider chain has a phase
 * (div_origin, the virtual time of one update instant) and updates happen
 * every second after it; sec_at_origin is the guest time between
 * div_origin and the next update.  Registers 0-9 are encoded on read in
 * the current data mode (BCD or binary, 12 or 24 hours) -- except while
 * SET is 1, when updates stop and registers 0-9 hold the bytes the guest
 * writes; clearing SET turns them back into a time.  Writes to a time
 * register with SET clear change that field of the running clock.
 *
 * Modelled: time/calendar registers (day of week computed from the date,
 * 1 = Sunday), alarms with "don't care" values (0xc0-0xff), register A
 * divider (010 runs; 11x holds the chain in reset and the first update
 * follows 500 ms after release; other values stop the clock) and rate
 * select, UIP (high for the 244 us before each update), register B (SET
 * also clears UIE), register C flags (PF, AF, UF set whether or not
 * enabled; IRQF = flag AND enable; a read clears them and drops irq8),
 * register D (VRT always 1), periodic interrupt at the rate from register
 * A, alarm and update-ended interrupts.
 *
 * Not modelled: the square-wave output (SQWE is stored), daylight saving
 * (DSE stored, no effect), the other time bases; the update cycle is
 * instantaneous at the end of the UIP window.  The century byte (0x32) is
 * set at creation and used when the guest sets the year; the chip itself
 * never changes it.  Reset (the RESET pin) clears PIE, AIE, UIE, SQWE and
 * the flags; time and CMOS survive, as with the battery.
 */
#include "hw/mc146818.h"

#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define CMOS_CENTURY 0x32

#define A_UIP 0x80
#define A_DV_MASK 0x70
#define A_DV_NORMAL 0x20
#define A_RS_MASK 0x0f
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80

/* UIP rises 8 periods of 32.768 kHz (244.140625 us) before an update. */
#define UIP_LEAD_NS 244141

struct RTCState {
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_masked;
    int64_t div_origin;       /* virtual ns of an update instant */
    int64_t sec_at_origin;    /* guest UTC seconds in [div_origin, +1 s) */
    int64_t frozen_secs;      /* guest time while the clock stands still */
    int64_t pf_checked;       /* periodic ticks up to here are in PF */
    int64_t update_deadline;  /* saved timer expiries, -1 none */
    int64_t periodic_deadline;
    uint8_t irq_level;
    VClock *clock;
    Timer *update_timer, *periodic_timer;
    IRQLine *irq;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- clock state ---- */

static bool rtc_divider_running(const RTCState *s)
{
    return (s->cmos[REG_A] & A_DV_MASK) == A_DV_NORMAL;
}

static bool rtc_time_runs(const RTCState *s)
{
    return rtc_divider_running(s) && !(s->cmos[REG_B] & B_SET);
}

static int64_t rtc_seconds_since_origin(const RTCState *s, int64_t now)
{
    return floor_div(now - s->div_origin, NS_PER_SEC);
}

/* Guest UTC seconds now (not meaningful while SET holds the registers). */
static int64_t rtc_get_secs(const RTCState *s, int64_t now)
{
    if (!rtc_time_runs(s))
        return s->frozen_secs;
    return s->sec_at_origin + rtc_seconds_since_origin(s, now);
}

/* Sets the guest time, keeping the divider's phase. */
static void rtc_set_secs(RTCState *s, int64_t secs, int64_t now)
{
    if (rtc_time_runs(s))
        s->sec_at_origin = secs - rtc_seconds_since_origin(s, now);
    else
        s->frozen_secs = secs;
}

/* ---- register encoding ---- */

static uint8_t rtc_to_reg(const RTCState *s, int v)
{
    if (s->cmos[REG_B] & B_DM_BINARY)
        return (uint8_t)v;
    return (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_from_reg(const RTCState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_DM_BINARY)
        return v;
    return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_encode_hour(const RTCState *s, int hour)
{
    if (s->cmos[REG_B] & B_24H)
        return rtc_to_reg(s, hour);
    int h12 = hour % 12 ? hour % 12 : 12;
    return rtc_to_reg(s, h12) | (hour >= 12 ? 0x80 : 0);
}

static int rtc_decode_hour(const RTCState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_24H)
        return rtc_from_reg(s, v);
    int h = rtc_from_reg(s, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* Registers 0, 2, 4, 6, 7, 8, 9 for time secs. */
static void rtc_encode_time(const RTCState *s, int64_t secs, uint8_t regs[10])
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    regs[REG_SEC] = rtc_to_reg(s, tm.tm_sec);
    regs[REG_MIN] = rtc_to_reg(s, tm.tm_min);
    regs[REG_HOUR] = rtc_encode_hour(s, tm.tm_hour);
    regs[REG_WDAY] = rtc_to_reg(s, tm.tm_wday + 1);
    regs[REG_MDAY] = rtc_to_reg(s, tm.tm_mday);
    regs[REG_MONTH] = rtc_to_reg(s, tm.tm_mon + 1);
    regs[REG_YEAR] = rtc_to_reg(s, tm.tm_year % 100);
}

static int rtc_clamp_field(const char *what, int v, int lo, int hi)
{
    if (v >= lo && v <= hi)
        return v;
    LOG(LOG_GUEST_ERRORS, "mc146818: %s %d out of range %d..%d\n", what, v, lo, hi);
    return v < lo ? lo : hi;
}

/* The time the register bytes 0-9 describe (day of week ignored). */
static int64_t rtc_decode_time(const RTCState *s, const uint8_t regs[10])
{
    uint8_t c = s->cmos[CMOS_CENTURY];
    int century = (c >> 4) * 10 + (c & 0x0f);
    if ((c >> 4) > 9 || (c & 0x0f) > 9 || century < 19)
        century = 20;
    struct tm tm = {
        .tm_sec = rtc_clamp_field("second", rtc_from_reg(s, regs[REG_SEC]), 0, 59),
        .tm_min = rtc_clamp_field("minute", rtc_from_reg(s, regs[REG_MIN]), 0, 59),
        .tm_hour = rtc_clamp_field("hour", rtc_decode_hour(s, regs[REG_HOUR]), 0, 23),
        .tm_mday = rtc_clamp_field("day", rtc_from_reg(s, regs[REG_MDAY]), 1, 31),
        .tm_mon = rtc_clamp_field("month", rtc_from_reg(s, regs[REG_MONTH]), 1, 12) - 1,
        .tm_year = century * 100 + rtc_clamp_field("year", rtc_from_reg(s, regs[REG_YEAR]), 0, 99) - 1900,
    };
    return (int64_t)timegm(&tm);
}

/* ---- flags and the interrupt line ---- */

static int rtc_period_shift(const RTCState *s)
{
    int rs = s->cmos[REG_A] & A_RS_MASK;
    if (rs == 0)
        return -1;
    /* Period = 2^k / 32768 s: RS 1 and 2 repeat RS 8 and 9. */
    return rs <= 2 ? rs + 6 : rs - 1;
}

static bool rtc_periodic_runs(const RTCState *s)
{
    return rtc_divider_running(s) && rtc_period_shift(s) >= 0;
}

/* Periodic ticks completed between div_origin and t. */
static int64_t rtc_periodic_index(const RTCState *s, int64_t t)
{
    int shift = 15 - rtc_period_shift(s);
    __int128 scaled = (__int128)(t - s->div_origin) << shift;
    __int128 q = scaled / NS_PER_SEC;
    if (scaled % NS_PER_SEC != 0 && scaled < 0)
        q--;
    return (int64_t)q;
}

static int64_t rtc_periodic_time(const RTCState *s, int64_t n)
{
    int shift = 15 - rtc_period_shift(s);
    __int128 num = (__int128)n * NS_PER_SEC;
    __int128 den = (__int128)1 << shift;
    __int128 q = num / den;
    if (num % den != 0 && num > 0)
        q++;
    return s->div_origin + (int64_t)q;
}

/* PF is set at every periodic tick, enabled or not: account for the ticks
 * since we last looked. */
static void rtc_update_pf(RTCState *s, int64_t now)
{
    if (rtc_periodic_runs(s) &&
        rtc_periodic_index(s, now) > rtc_periodic_index(s, s->pf_checked))
        s->cmos[REG_C] |= C_PF;
    s->pf_checked = now;
}

static void rtc_update_irq(RTCState *s)
{
    uint8_t c = s->cmos[REG_C] & (C_PF | C_AF | C_UF);
    bool irqf = (c & s->cmos[REG_B] & (B_PIE | B_AIE | B_UIE)) != 0;
    s->cmos[REG_C] = c | (irqf ? C_IRQF : 0);
    if (irqf != s->irq_level) {
        s->irq_level = irqf;
        irq_set(s->irq, irqf);
    }
}

static bool rtc_alarm_matches(const RTCState *s, int64_t secs)
{
    static const uint8_t pairs[3][2] = {
        { REG_SEC, REG_SEC_ALARM }, { REG_MIN, REG_MIN_ALARM }, { REG_HOUR, REG_HOUR_ALARM },
    };
    uint8_t regs[10];
    rtc_encode_time(s, secs, regs);
    for (int i = 0; i < 3; i++) {
        uint8_t alarm = s->cmos[pairs[i][1]];
        if ((alarm & 0xc0) != 0xc0 && alarm != regs[pairs[i][0]])
            return false;
    }
    return true;
}

static void rtc_schedule(RTCState *s)
{
    int64_t now = clock_now(s->clock);
    if (rtc_time_runs(s)) {
        int64_t k = rtc_seconds_since_origin(s, now) + 1;
        timer_mod(s->update_timer, s->div_origin + k * NS_PER_SEC);
    } else {
        timer_del(s->update_timer);
    }
    if (rtc_periodic_runs(s) && (s->cmos[REG_B] & B_PIE))
        timer_mod(s->periodic_timer, rtc_periodic_time(s, rtc_periodic_index(s, now) + 1));
    else
        timer_del(s->periodic_timer);
}

static void rtc_update_timer_fire(void *opaque)
{
    RTCState *s = opaque;
    int64_t now = clock_now(s->clock);
    s->cmos[REG_C] |= C_UF;
    if (rtc_alarm_matches(s, rtc_get_secs(s, now)))
        s->cmos[REG_C] |= C_AF;
    rtc_update_pf(s, now);
    rtc_update_irq(s);
    rtc_schedule(s);
}

static void rtc_periodic_timer_fire(void *opaque)
{
    RTCState *s = opaque;
    rtc_update_pf(s, clock_now(s->clock));
    rtc_update_irq(s);
    rtc_schedule(s);
}

/* ---- registers ---- */

static bool rtc_uip(const RTCState *s, int64_t now)
{
    if (!rtc_time_runs(s))
        return false;
    int64_t phase = now - s->div_origin - rtc_seconds_since_origin(s, now) * NS_PER_SEC;
    return phase >= NS_PER_SEC - UIP_LEAD_NS;
}

static bool rtc_is_time_reg(int idx)
{
    return idx <= REG_YEAR && idx != REG_SEC_ALARM && idx != REG_MIN_ALARM &&
           idx != REG_HOUR_ALARM;
}

static uint8_t rtc_read_reg(RTCState *s, int idx)
{
    int64_t now = clock_now(s->clock);
    if (rtc_is_time_reg(idx) && !(s->cmos[REG_B] & B_SET)) {
        uint8_t regs[10];
        rtc_encode_time(s, rtc_get_secs(s, now), regs);
        return regs[idx];
    }
    switch (idx) {
    case REG_A:
        return (s->cmos[REG_A] & ~A_UIP) | (rtc_uip(s, now) ? A_UIP : 0);
    case REG_C: {
        rtc_update_pf(s, now);
        uint8_t v = s->cmos[REG_C];
        s->cmos[REG_C] = 0;
        rtc_update_irq(s);
        return v;
    }
    case REG_D:
        return D_VRT;
    default:
        return s->cmos[idx];
    }
}

static void rtc_write_time_reg(RTCState *s, int idx, uint8_t val, int64_t now)
{
    if (s->cmos[REG_B] & B_SET) {
        s->cmos[idx] = val;
        return;
    }
    if (idx == REG_WDAY) {
        LOG(LOG_UNIMP, "mc146818: day of week follows the date; write ignored\n");
        return;
    }
    uint8_t regs[10];
    rtc_encode_time(s, rtc_get_secs(s, now), regs);
    regs[idx] = val;
    rtc_set_secs(s, rtc_decode_time(s, regs), now);
}

static void rtc_write_a(RTCState *s, uint8_t val, int64_t now)
{
    bool was_running = rtc_divider_running(s);
    bool set = s->cmos[REG_B] & B_SET;
    int64_t secs = rtc_get_secs(s, now);
    rtc_update_pf(s, now);
    s->cmos[REG_A] = val & ~A_UIP;
    bool running = rtc_divider_running(s);
    if (!running && (val & A_DV_MASK) != 0x60 && (val & A_DV_MASK) != 0x70)
        LOG(LOG_UNIMP, "mc146818: divider 0x%x not modelled; clock stopped\n", (val >> 4) & 7);
    if (running && !was_running) {
        /* Leaving divider reset: the first update comes 500 ms later. */
        s->div_origin = now - NS_PER_SEC / 2;
    }
    if (!set)
        rtc_set_secs(s, secs, now);
    s->pf_checked = now;   /* rate or phase may have changed */
    rtc_schedule(s);
}

static void rtc_write_b(RTCState *s, uint8_t val, int64_t now)
{
    uint8_t old = s->cmos[REG_B];
    rtc_update_pf(s, now);
    if (!(old & B_SET) && (val & B_SET)) {
        /* Updates stop; the registers hold the time in the new format. */
        int64_t secs = rtc_get_secs(s, now);
        s->cmos[REG_B] = val;
        rtc_encode_time(s, secs, s->cmos);
        s->frozen_secs = secs;
    } else if ((old & B_SET) && !(val & B_SET)) {
        s->cmos[REG_B] = val;
        int64_t secs = rtc_decode_time(s, s->cmos);
        rtc_set_secs(s, secs, now);
    } else {
        s->cmos[REG_B] = val;
    }
    if (val & B_SET)
        s->cmos[REG_B] &= ~B_UIE;
    if (val & B_SQWE)
        LOG(LOG_UNIMP, "mc146818: square-wave output not modelled\n");
    rtc_update_irq(s);
    rtc_schedule(s);
}

static void rtc_write_reg(RTCState *s, int idx, uint8_t val)
{
    int64_t now = clock_now(s->clock);
    if (rtc_is_time_reg(idx)) {
        rtc_write_time_reg(s, idx, val, now);
        return;
    }
    switch (idx) {
    case REG_A:
        rtc_write_a(s, val, now);
        break;
    case REG_B:
        rtc_write_b(s, val, now);
        break;
    case REG_C:
    case REG_D:
        LOG(LOG_GUEST_ERRORS, "mc146818: register %c is read-only\n", 'A' + idx - REG_A);
        break;
    default:
        s->cmos[idx] = val;   /* alarms and CMOS RAM */
        break;
    }
}

static uint64_t rtc_ioport_read(void *opaque, uint64_t offset, unsigned size)
{
    RTCState *s = opaque;
    if (offset == 0)
        return 0xff;   /* the index register is write-only */
    return rtc_read_reg(s, s->index);
}

static void rtc_ioport_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    RTCState *s = opaque;
    if (offset == 0) {
        s->index = value & 0x7f;
        s->nmi_masked = value & 0x80;
    } else {
        rtc_write_reg(s, s->index, (uint8_t)value);
    }
}

static const MemOps rtc_io_ops = { rtc_ioport_read, rtc_ioport_write, 1, 1 };

/* ---- board interface ---- */

static void rtc_fix_checksum(RTCState *s)
{
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += s->cmos[i];
    s->cmos[0x2e] = (uint8_t)(sum >> 8);
    s->cmos[0x2f] = (uint8_t)sum;
}

void mc146818_set_cmos(RTCState *s, int index, uint8_t value)
{
    if (index < 0 || index > 0x7f)
        return;
    if (index <= REG_D) {
        rtc_write_reg(s, index, value);
        return;
    }
    s->cmos[index] = value;
    if (index >= 0x10 && index <= 0x2d)
        rtc_fix_checksum(s);
}

uint8_t mc146818_get_cmos(RTCState *s, int index)
{
    if (index < 0 || index > 0x7f)
        return 0xff;
    return s->cmos[index];
}

bool mc146818_nmi_masked(RTCState *s)
{
    return s->nmi_masked;
}

static void rtc_set_u16(RTCState *s, int index, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    s->cmos[index] = (uint8_t)v;
    s->cmos[index + 1] = (uint8_t)(v >> 8);
}

void mc146818_set_memory_size(RTCState *s, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
    const uint64_t KiB = 1024, MiB = 1024 * KiB;
    uint64_t base_kb = ram_below_4g >= 640 * KiB ? 640 : ram_below_4g / KiB;
    uint64_t ext_kb = ram_below_4g > MiB ? (ram_below_4g - MiB) / KiB : 0;
    uint64_t above_16m = ram_below_4g > 16 * MiB ? (ram_below_4g - 16 * MiB) / (64 * KiB) : 0;
    uint64_t above_4g = ram_above_4g / (64 * KiB);
    if (above_4g > 0xffffff)
        above_4g = 0xffffff;
    rtc_set_u16(s, 0x15, base_kb);
    rtc_set_u16(s, 0x17, ext_kb);
    rtc_set_u16(s, 0x30, ext_kb);
    rtc_set_u16(s, 0x34, above_16m);
    s->cmos[0x5b] = (uint8_t)above_4g;
    s->cmos[0x5c] = (uint8_t)(above_4g >> 8);
    s->cmos[0x5d] = (uint8_t)(above_4g >> 16);
    rtc_fix_checksum(s);
}

/* ---- device lifecycle ---- */

static void rtc_reset(void *opaque)
{
    RTCState *s = opaque;
    int64_t now = clock_now(s->clock);
    s->cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    s->cmos[REG_C] = 0;
    s->pf_checked = now;
    s->nmi_masked = false;
    rtc_update_irq(s);
    rtc_schedule(s);
}

static void rtc_free(void *opaque)
{
    RTCState *s = opaque;
    timer_free(s->update_timer);
    timer_free(s->periodic_timer);
    free(s);
}

static void rtc_pre_save(void *opaque)
{
    RTCState *s = opaque;
    s->update_deadline = timer_expire_time(s->update_timer);
    s->periodic_deadline = timer_expire_time(s->periodic_timer);
}

static const char *rtc_check_loaded(const RTCState *s)
{
    const int64_t max_time = INT64_MAX / 4;
    const int64_t max_secs = 1000000LL * 366 * 86400;   /* ~a million years */
    if (s->index > 0x7f)
        return "index out of range 0..0x7f";
    if (s->cmos[REG_A] & A_UIP)
        return "register A holds UIP";
    if (s->cmos[REG_C] & 0x0f)
        return "register C reserved bits set";
    if (s->irq_level > 1 || s->irq_level != !!(s->cmos[REG_C] & C_IRQF))
        return "IRQ level inconsistent with register C";
    if (s->div_origin < -max_time || s->div_origin > max_time ||
        s->pf_checked < -max_time || s->pf_checked > max_time)
        return "time base out of range";
    if (s->sec_at_origin < -max_secs || s->sec_at_origin > max_secs ||
        s->frozen_secs < -max_secs || s->frozen_secs > max_secs)
        return "wall time out of range";
    if (s->update_deadline < -1 || s->update_deadline > max_time ||
        s->periodic_deadline < -1 || s->periodic_deadline > max_time)
        return "timer deadline out of range";
    if ((s->update_deadline >= 0) != rtc_time_runs(s))
        return "update timer state inconsistent with registers A/B";
    if ((s->periodic_deadline >= 0) !=
        (rtc_periodic_runs(s) && (s->cmos[REG_B] & B_PIE)))
        return "periodic timer state inconsistent with registers A/B";
    return NULL;
}

static int rtc_post_load(void *opaque, int version, char **err)
{
    RTCState *s = opaque;
    const char *bad = rtc_check_loaded(s);
    if (bad) {
        set_error(err, "mc146818: %s", bad);
        /* Keep a runnable device: stop its timers, clear the flags. */
        s->cmos[REG_A] &= ~A_UIP;
        s->index &= 0x7f;
        s->div_origin = s->pf_checked = clock_now(s->clock);
        s->sec_at_origin = s->frozen_secs = 0;
        s->irq_level = 0;
        rtc_reset(s);
        return -1;
    }
    irq_set(s->irq, s->irq_level);
    if (s->update_deadline >= 0)
        timer_mod(s->update_timer, s->update_deadline);
    else
        timer_del(s->update_timer);
    if (s->periodic_deadline >= 0)
        timer_mod(s->periodic_timer, s->periodic_deadline);
    else
        timer_del(s->periodic_timer);
    return 0;
}

static const VMField rtc_fields[] = {
    VMF_U8_ARRAY(cmos, RTCState, 128),
    VMF_U8(index, RTCState),
    VMF_BOOL(nmi_masked, RTCState),
    VMF_I64(div_origin, RTCState),
    VMF_I64(sec_at_origin, RTCState),
    VMF_I64(frozen_secs, RTCState),
    VMF_I64(pf_checked, RTCState),
    VMF_I64(update_deadline, RTCState),
    VMF_I64(periodic_deadline, RTCState),
    VMF_U8(irq_level, RTCState),
    VMF_END
};

static const VMStateDesc rtc_vmsd = {
    .name = "mc146818", .version = 1, .min_version = 1, .fields = rtc_fields,
    .pre_save = rtc_pre_save, .post_load = rtc_post_load,
};

static const DeviceOps rtc_device_ops = {
    .name = "mc146818", .reset = rtc_reset, .free = rtc_free, .vmsd = &rtc_vmsd,
};

RTCState *mc146818_create(Machine *m, uint16_t base, IRQLine *irq8,
                          int64_t start_epoch_seconds)
{
    RTCState *s = xcalloc(1, sizeof(*s));
    if (!iospace_add(m->io, "rtc", base, 2, &rtc_io_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    int64_t now = clock_now(m->clock);
    s->clock = m->clock;
    s->irq = irq8;
    s->update_timer = timer_new(m->clock, rtc_update_timer_fire, s);
    s->periodic_timer = timer_new(m->clock, rtc_periodic_timer_fire, s);
    /* A fresh battery: divider running at 1024 Hz, 24-hour BCD, VRT. */
    s->cmos[REG_A] = A_DV_NORMAL | 0x06;
    s->cmos[REG_B] = B_24H;
    s->cmos[REG_D] = D_VRT;
    s->div_origin = now;
    s->pf_checked = now;
    s->sec_at_origin = start_epoch_seconds >= 0 ? start_epoch_seconds : (int64_t)time(NULL);
    time_t t = (time_t)s->sec_at_origin;
    struct tm tm;
    gmtime_r(&t, &tm);
    int century = (tm.tm_year + 1900) / 100 % 100;
    s->cmos[CMOS_CENTURY] = (uint8_t)((century / 10) << 4 | century % 10);
    machine_add_device(m, &rtc_device_ops, s);
    rtc_schedule(s);
    return s;
}
