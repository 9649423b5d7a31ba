/*
 * Arithmetic helpers: DIV/IDIV (#DE), the BCD adjustments (DAA DAS AAA
 * AAS AAM AAD), rotates (result and flags in two calls, so a faulting
 * store leaves the flags unchanged), SHLD/SHRD and CMPXCHG8B/16B.
 */
#include "cpu/helpers.h"

#include "cpu/exec.h"
#include "cpu/mmu.h"

#define HFLAGS (IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS)
#define FAULT IR_CALL_CAN_FAULT

static uint64_t mask_of(unsigned ot)
{
    return ot == 3 ? ~0ULL : (1ULL << (8u << ot)) - 1;
}

static void set_reg_sized(CPUState *cpu, int r, unsigned ot, uint64_t v)
{
    switch (ot) {
    case 0: cpu->regs[r] = (cpu->regs[r] & ~0xffULL) | (v & 0xff); break;
    case 1: cpu->regs[r] = (cpu->regs[r] & ~0xffffULL) | (v & 0xffff); break;
    case 2: cpu->regs[r] = (uint32_t)v; break;
    default: cpu->regs[r] = v; break;
    }
}

static void set_flags(CPUState *cpu, uint32_t flags)
{
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cc_src = flags & CC_ALL;
}

/* ---- divide ---- */

static u64 helper_div(u64 env, u64 ot, u64 d)
{
    CPUState *cpu = (CPUState *)env;
    uint64_t m = mask_of((unsigned)ot);
    d &= m;
    if (d == 0)
        cpu_raise_exception(cpu, EXC_DE, 0, 0);
    if (ot == 0) {
        uint32_t n = (uint16_t)cpu->regs[R_EAX];
        uint32_t q = n / (uint32_t)d, r = n % (uint32_t)d;
        if (q > 0xff)
            cpu_raise_exception(cpu, EXC_DE, 0, 0);
        set_reg_sized(cpu, R_EAX, 1, q | r << 8);
        return 0;
    }
    unsigned bits = 8u << ot;
    unsigned __int128 n = ot == 3 ? ((unsigned __int128)cpu->regs[R_EDX] << 64 | cpu->regs[R_EAX])
                                  : (unsigned __int128)((cpu->regs[R_EDX] & m) << bits |
                                                        (cpu->regs[R_EAX] & m));
    unsigned __int128 q = n / d, r = n % d;
    if (q > m)
        cpu_raise_exception(cpu, EXC_DE, 0, 0);
    set_reg_sized(cpu, R_EAX, (unsigned)ot, (uint64_t)q);
    set_reg_sized(cpu, R_EDX, (unsigned)ot, (uint64_t)r);
    return 0;
}
const IRHelper hlp_div = IR_HELPER(helper_div, FAULT);

static int64_t sext(uint64_t v, unsigned bits)
{
    return bits >= 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
}

static u64 helper_idiv(u64 env, u64 ot, u64 dv)
{
    CPUState *cpu = (CPUState *)env;
    unsigned bits = 8u << ot;
    int64_t d = sext(dv, bits);
    if (d == 0)
        cpu_raise_exception(cpu, EXC_DE, 0, 0);
    __int128 n;
    if (ot == 0)
        n = (int16_t)cpu->regs[R_EAX];
    else if (ot == 3)
        n = (__int128)((unsigned __int128)cpu->regs[R_EDX] << 64 | cpu->regs[R_EAX]);
    else
        n = sext((cpu->regs[R_EDX] & mask_of((unsigned)ot)) << bits |
                 (cpu->regs[R_EAX] & mask_of((unsigned)ot)), bits * 2);
    if (ot == 3 && n == (__int128)((unsigned __int128)1 << 127) && d == -1)
        cpu_raise_exception(cpu, EXC_DE, 0, 0);
    __int128 q = n / d, r = n % d;
    __int128 lim = (__int128)1 << (bits - 1);
    if (q >= lim || q < -lim)
        cpu_raise_exception(cpu, EXC_DE, 0, 0);
    if (ot == 0) {
        set_reg_sized(cpu, R_EAX, 1, ((uint64_t)q & 0xff) | ((uint64_t)r & 0xff) << 8);
        return 0;
    }
    set_reg_sized(cpu, R_EAX, (unsigned)ot, (uint64_t)q);
    set_reg_sized(cpu, R_EDX, (unsigned)ot, (uint64_t)r);
    return 0;
}
const IRHelper hlp_idiv = IR_HELPER(helper_idiv, FAULT);

/* ---- BCD ---- */

static uint32_t szp8(uint8_t v)
{
    return cpu_cc_compute_all(CC_OP_LOGIC, v, 0, 0);
}

static u64 helper_daa(u64 env, u64 unused)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t f = cpu_get_eflags(cpu);
    uint8_t al = (uint8_t)cpu->regs[R_EAX], old_al = al;
    bool old_cf = f & CC_C, cf = false, af = false;
    if ((al & 0xf) > 9 || (f & CC_A)) {
        cf = old_cf || al > 0xf9;
        al += 6;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al += 0x60;
        cf = true;
    } else {
        cf = false;
    }
    set_reg_sized(cpu, R_EAX, 0, al);
    set_flags(cpu, szp8(al) | (cf ? CC_C : 0) | (af ? CC_A : 0) |
                   (((old_al ^ al) & al & 0x80) ? CC_O : 0));
    return 0;
}
const IRHelper hlp_daa = IR_HELPER(helper_daa, 0);

static u64 helper_das(u64 env, u64 unused)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t f = cpu_get_eflags(cpu);
    uint8_t al = (uint8_t)cpu->regs[R_EAX], old_al = al;
    bool old_cf = f & CC_C, cf = false, af = false;
    if ((al & 0xf) > 9 || (f & CC_A)) {
        cf = old_cf || al < 6;
        al -= 6;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al -= 0x60;
        cf = true;
    }
    set_reg_sized(cpu, R_EAX, 0, al);
    set_flags(cpu, szp8(al) | (cf ? CC_C : 0) | (af ? CC_A : 0) |
                   (((old_al ^ al) & old_al & 0x80) ? CC_O : 0));
    return 0;
}
const IRHelper hlp_das = IR_HELPER(helper_das, 0);

static u64 helper_aaa(u64 env, u64 unused)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t f = cpu_get_eflags(cpu);
    uint16_t ax = (uint16_t)cpu->regs[R_EAX];
    bool adj = (ax & 0xf) > 9 || (f & CC_A);
    if (adj)
        ax = (uint16_t)(ax + 0x106);
    ax &= 0xff0f;
    set_reg_sized(cpu, R_EAX, 1, ax);
    set_flags(cpu, szp8((uint8_t)ax) | (adj ? CC_C | CC_A : 0));
    return 0;
}
const IRHelper hlp_aaa = IR_HELPER(helper_aaa, 0);

static u64 helper_aas(u64 env, u64 unused)
{
    CPUState *cpu = (CPUState *)env;
    uint32_t f = cpu_get_eflags(cpu);
    uint16_t ax = (uint16_t)cpu->regs[R_EAX];
    bool adj = (ax & 0xf) > 9 || (f & CC_A);
    if (adj)
        ax = (uint16_t)(ax - 0x106);
    ax &= 0xff0f;
    set_reg_sized(cpu, R_EAX, 1, ax);
    set_flags(cpu, szp8((uint8_t)ax) | (adj ? CC_C | CC_A : 0));
    return 0;
}
const IRHelper hlp_aas = IR_HELPER(helper_aas, 0);

static u64 helper_aam(u64 env, u64 imm)
{
    CPUState *cpu = (CPUState *)env;
    if ((imm & 0xff) == 0)
        cpu_raise_exception(cpu, EXC_DE, 0, 0);
    uint8_t al = (uint8_t)cpu->regs[R_EAX];
    uint8_t ah = al / (uint8_t)imm;
    al = al % (uint8_t)imm;
    set_reg_sized(cpu, R_EAX, 1, al | ah << 8);
    set_flags(cpu, szp8(al));
    return 0;
}
const IRHelper hlp_aam = IR_HELPER(helper_aam, FAULT);

static u64 helper_aad(u64 env, u64 imm)
{
    CPUState *cpu = (CPUState *)env;
    uint8_t al = (uint8_t)cpu->regs[R_EAX], ah = (uint8_t)(cpu->regs[R_EAX] >> 8);
    /* Flags as the 8-bit addition al + ah * imm leaves them. */
    uint8_t prod = (uint8_t)(ah * (uint8_t)imm);
    uint8_t r = (uint8_t)(al + prod);
    set_reg_sized(cpu, R_EAX, 1, r);
    set_flags(cpu, cpu_cc_compute_all(CC_OP_ADD, r, prod, 0));
    return 0;
}
const IRHelper hlp_aad = IR_HELPER(helper_aad, 0);

/* ---- rotates ---- */

/* desc: kind | ot << 4 | 0x100 to return the flags instead of the value */
static u64 helper_rotate(u64 env, u64 desc, u64 val, u64 count, u64 flags)
{
    unsigned kind = desc & 15, ot = (desc >> 4) & 3, bits = 8u << ot;
    bool want_flags = desc & 0x100;
    uint64_t m = mask_of(ot), sb = 1ULL << (bits - 1);
    uint64_t v = val & m;
    unsigned c = (unsigned)count & (ot == 3 ? 63 : 31);
    uint32_t f = (uint32_t)flags & CC_ALL;
    if (c == 0)
        return want_flags ? f : v;
    bool cf = f & CC_C, of;
    switch (kind) {
    case ROT_ROL: {
        unsigned n = c % bits;
        if (n)
            v = ((v << n) | (v >> (bits - n))) & m;
        cf = v & 1;
        of = ((v & sb) != 0) != cf;
        break;
    }
    case ROT_ROR: {
        unsigned n = c % bits;
        if (n)
            v = ((v >> n) | (v << (bits - n))) & m;
        cf = (v & sb) != 0;
        of = ((v & sb) != 0) != ((v & (sb >> 1)) != 0);
        break;
    }
    case ROT_RCL: {
        unsigned n = c % (bits + 1);
        for (unsigned i = 0; i < n; i++) {
            bool out = (v & sb) != 0;
            v = ((v << 1) | (cf ? 1 : 0)) & m;
            cf = out;
        }
        of = ((v & sb) != 0) != cf;
        break;
    }
    default: {  /* RCR */
        unsigned n = c % (bits + 1);
        of = ((v & sb) != 0) != cf;
        for (unsigned i = 0; i < n; i++) {
            bool out = v & 1;
            v = (v >> 1) | (cf ? sb : 0);
            cf = out;
        }
        break;
    }
    }
    if (!want_flags)
        return v;
    return (f & ~(uint32_t)(CC_C | CC_O)) | (cf ? CC_C : 0) | (of ? CC_O : 0);
}
const IRHelper hlp_rotate = IR_HELPER(helper_rotate, HFLAGS | IR_CALL_PURE);

/* ---- double shifts ---- */

static u64 dshift(unsigned ot, uint64_t dst, uint64_t src, uint64_t count, uint32_t f,
                  bool left, bool want_flags)
{
    unsigned bits = 8u << ot;
    uint64_t m = mask_of(ot), sb = 1ULL << (bits - 1);
    unsigned c = (unsigned)count & (ot == 3 ? 63 : 31);
    dst &= m;
    src &= m;
    f &= CC_ALL;
    if (c == 0)
        return want_flags ? f : dst;
    uint64_t r;
    bool cf;
    if (ot == 1) {
        /* 16-bit: the operands act as a 32-bit (and beyond 16, repeating)
         * value; counts over 16 give the result real CPUs produce. */
        uint64_t cat = left ? (dst << 32 | src << 16 | dst) : (dst | src << 16 | dst << 32);
        if (left) {
            uint64_t t = cat << c;
            r = (t >> 32) & 0xffff;
            cf = (cat >> (48 - c)) & 1;
        } else {
            r = (cat >> c) & 0xffff;
            cf = (cat >> (c - 1)) & 1;
        }
    } else if (left) {
        r = ((dst << c) | (c < bits ? src >> (bits - c) : 0)) & m;
        cf = (dst >> (bits - c)) & 1;
    } else {
        r = ((dst >> c) | (c < bits ? src << (bits - c) : 0)) & m;
        cf = (dst >> (c - 1)) & 1;
    }
    if (!want_flags)
        return r;
    uint32_t nf = cpu_cc_compute_all(CC_OP_LOGIC + ot, r, 0, 0);
    if (cf)
        nf |= CC_C;
    if (((r ^ dst) & sb) != 0)
        nf |= CC_O;
    return nf;
}

static u64 helper_shld(u64 ot, u64 dst, u64 src, u64 count, u64 f, u64 mode)
{
    return dshift((unsigned)ot, dst, src, count, (uint32_t)f, true, mode != 0);
}
const IRHelper hlp_shld = IR_HELPER(helper_shld, HFLAGS | IR_CALL_PURE);

static u64 helper_shrd(u64 ot, u64 dst, u64 src, u64 count, u64 f, u64 mode)
{
    return dshift((unsigned)ot, dst, src, count, (uint32_t)f, false, mode != 0);
}
const IRHelper hlp_shrd = IR_HELPER(helper_shrd, HFLAGS | IR_CALL_PURE);

/* ---- CMPXCHG8B / CMPXCHG16B ---- */

static int cpu_mmu(CPUState *cpu)
{
    return cpu_mmu_index(cpu);
}

/* stack: an SS-relative operand in 64-bit mode (non-canonical: #SS(0)) */
static void check_canonical(CPUState *cpu, u64 lin, unsigned size, u64 stack)
{
    if (!(cpu->hflags & HF_LMA))
        return;
    u64 last = lin + size - 1;
    if ((u64)((int64_t)(lin << 16) >> 16) != lin || (u64)((int64_t)(last << 16) >> 16) != last)
        cpu_raise_exception(cpu, stack ? EXC_SS : EXC_GP, 0, 0);
}

/* Both run as host atomics on guest RAM (cpu_atomic_rmw,
 * cpu_atomic_cmpxchg16), locked or not: without LOCK the instruction is
 * not atomic for other CPUs on hardware either, so doing it atomically is
 * one of its allowed outcomes. */
static u64 helper_cmpxchg8b(u64 env, u64 lin, u64 stack)
{
    CPUState *cpu = (CPUState *)env;
    int mmu = cpu_mmu(cpu);
    check_canonical(cpu, lin, 8, stack);
    uint64_t cmp = (uint32_t)cpu->regs[R_EAX] | (cpu->regs[R_EDX] & 0xffffffffULL) << 32;
    uint64_t nv = (uint32_t)cpu->regs[R_EBX] | (cpu->regs[R_ECX] & 0xffffffffULL) << 32;
    uint32_t f = cpu_get_eflags(cpu) & CC_ALL;
    uint64_t v = cpu_atomic_rmw(cpu, lin, 3, IR_ATOMIC_CMPXCHG, cmp, nv, mmu, 0);
    if (v == cmp) {
        set_flags(cpu, f | CC_Z);
    } else {
        cpu->regs[R_EAX] = (uint32_t)v;
        cpu->regs[R_EDX] = v >> 32;
        set_flags(cpu, f & ~(uint32_t)CC_Z);
    }
    return 0;
}
const IRHelper hlp_cmpxchg8b = IR_HELPER(helper_cmpxchg8b, FAULT);

static u64 helper_cmpxchg16b(u64 env, u64 lin, u64 stack)
{
    CPUState *cpu = (CPUState *)env;
    int mmu = cpu_mmu(cpu);
    if (lin & 15)      /* before the canonical check, as the host does */
        cpu_raise_exception(cpu, EXC_GP, 0, 0);
    check_canonical(cpu, lin, 16, stack);
    const uint64_t cmp[2] = { cpu->regs[R_EAX], cpu->regs[R_EDX] };
    const uint64_t nv[2] = { cpu->regs[R_EBX], cpu->regs[R_ECX] };
    uint64_t old[2];
    uint32_t f = cpu_get_eflags(cpu) & CC_ALL;
    if (cpu_atomic_cmpxchg16(cpu, lin, cmp, nv, old, mmu, 0)) {
        set_flags(cpu, f | CC_Z);
    } else {
        cpu->regs[R_EAX] = old[0];
        cpu->regs[R_EDX] = old[1];
        set_flags(cpu, f & ~(uint32_t)CC_Z);
    }
    return 0;
}
const IRHelper hlp_cmpxchg16b = IR_HELPER(helper_cmpxchg16b, FAULT);
