/*
 * irfuzz: differential fuzzer for the IR engines.
 *
 *   build/cc/tests/cpu/irfuzz --seed 1 --count 20000 [--verbose]
 *
 * Generates random IR blocks (seeded): straight-line code and forward
 * branches, bounded loops, every op in both types, constants at edge
 * values, guest loads/stores through a fake soft TLB (hits, misses that
 * refill it, page-crossing and aligned-checked accesses, MMIO and code
 * pages whose slow paths have side effects, including on a global),
 * helper calls with every flag combination, host loads/stores on env.
 * Each block runs from the same initial state:
 *   A  the interpreter on the block as generated (the reference),
 *   B  the interpreter after ir_optimize,
 *   C  the x86-64 backend after ir_optimize,
 *   D  the x86-64 backend on the unoptimised block,
 *   E  like C with the host's lzcnt/tzcnt/popcnt/andn/shlx masked off
 *      (every fourth block),
 * and env, guest memory and the exit value must agree bit for bit.  The
 * fake memory callbacks count real TLB misses and record the guest pc
 * that the engine's restore() finds for the access, and one helper
 * records restore() for its own return address, so the fast-path
 * decision and the host-pc -> guest-pc tables are checked too.
 * Prints "irfuzz: N blocks, M mismatches"; exits non-zero on a mismatch.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcg/engine.h"
#include "tcg/interp.h"
#include "tcg/optimize.h"
#include "tcg/x86_64/backend.h"
#include "tcg/x86_64/x86_64.h"

#define NG 6            /* globals of each type */
#define NL 3            /* locals of each type */
#define NE 12           /* EBB temps of each type */
#define NLOG 16

typedef struct FuzzEnv {
    uint64_t g64[NG];
    uint32_t g32[NG];
    uint8_t host[64];           /* host ld/st target, not globals */
    uint64_t slow_count;        /* TLB misses seen by the callbacks */
    uint64_t mmio_acc;
    uint64_t log[NLOG];         /* guest pcs found by restore() */
    uint64_t nlog;
    uint64_t helper_acc;
    SoftTLB tlb;
} FuzzEnv;

/* Guest pages backed by RAM; two collide in the TLB (index 0xff). */
static const uint64_t ram_vpage[] = {
    0x1000, 0x2000, 0xdeadb000, 0x12345000, 0x7ffffffff000, 0xfffffffffffff000,
};
#define NPAGES (sizeof(ram_vpage) / sizeof(ram_vpage[0]))
#define MMIO_PAGE 0xfee00000ULL
#define RAM_SIZE (NPAGES * TLB_PAGE_SIZE)

typedef struct Machine {
    FuzzEnv env;
    uint8_t ram[RAM_SIZE];
} Machine;

/* What the callbacks need to know about the run in progress. */
static struct {
    uint8_t *ram;
    const IREngine *engine;     /* NULL while the interpreter runs */
    IREngineCtx *ctx;
    IRInterpState *ist;
} cur;

/* ---- random numbers ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static uint64_t edge_value(IRType t)
{
    static const uint64_t edges[] = {
        0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 65, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
        0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
        0x8000000000000000ULL, ~0ULL, ~1ULL, 0xfffffffffffff000ULL,
    };
    uint64_t v;
    switch (rn(4)) {
    case 0: v = rnd(); break;
    case 1: v = rnd() & 0xff; break;
    default: v = edges[rn(sizeof(edges) / sizeof(edges[0]))]; break;
    }
    if (rn(8) == 0)
        v = -v;
    return t == IR_I32 ? (uint32_t)v : v;
}

/* ---- the fake guest memory ---- */

static int ram_page_index(uint64_t page)
{
    for (unsigned i = 0; i < NPAGES; i++)
        if (ram_vpage[i] == page)
            return (int)i;
    return -1;
}

static uint64_t current_pc(uintptr_t ra)
{
    /* Dispatch on the engine that runs, not on bit 0 of ra: a host
     * return address may be odd too. */
    uint64_t is[2] = { 0, 0 };
    if (!cur.engine)
        return ir_interp_state_from_ra(ra)->insn_start[0];
    if (cur.engine->restore(cur.ctx, ra, is))
        return is[0];
    return 0xbad0bad0;
}

static void log_pc(FuzzEnv *e, uint64_t pc)
{
    e->log[e->nlog % NLOG] = pc;
    e->nlog++;
}

static void tlb_fill(FuzzEnv *e, unsigned mmu, uint64_t page, int idx)
{
    TLBEntry *te = &e->tlb.table[mmu][tlb_index(page)];
    te->addr_read = page;
    if ((te->addr_write & TLB_PAGE_MASK) != page || !(te->addr_write & TLB_CODE))
        te->addr_write = page;
    te->addr_code = page;
    te->addend = (uintptr_t)(cur.ram + idx * TLB_PAGE_SIZE) - (uintptr_t)page;
}

/* Would the inline fast path have handled this access? */
static bool fast_path_hits(FuzzEnv *e, uint64_t addr, IRMemOp mo, bool store)
{
    unsigned size = 1u << (mo & IR_MO_SIZE);
    unsigned mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    const TLBEntry *te = &e->tlb.table[mmu][tlb_index(addr)];
    uint64_t tag = store ? te->addr_write : te->addr_read;
    if ((mo & IR_MO_ALIGN_CHECK) && (addr & (size - 1)))
        return false;
    return (addr & TLB_PAGE_MASK) == tag && (addr & ~TLB_PAGE_MASK) + size <= TLB_PAGE_SIZE;
}

static uint8_t *ram_byte(uint64_t a)
{
    int i = ram_page_index(a & TLB_PAGE_MASK);
    return i < 0 ? NULL : cur.ram + i * TLB_PAGE_SIZE + (a & ~TLB_PAGE_MASK);
}

static uint64_t fuzz_load(void *env, uint64_t addr, IRMemOp mo, uintptr_t ra)
{
    FuzzEnv *e = env;
    unsigned size = 1u << (mo & IR_MO_SIZE);
    unsigned mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    uint64_t v = 0;
    if (fast_path_hits(e, addr, mo, false)) {
        const TLBEntry *te = &e->tlb.table[mmu][tlb_index(addr)];
        memcpy(&v, (void *)(uintptr_t)(addr + te->addend), size);
        return v;
    }
    e->slow_count++;
    log_pc(e, current_pc(ra));
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        uint8_t *p = ram_byte(a);
        uint8_t byte;
        if (p) {
            byte = *p;
        } else if ((a & TLB_PAGE_MASK) == MMIO_PAGE) {
            byte = (uint8_t)((a * 0x45) ^ e->mmio_acc);
            e->g32[0] += 1;             /* device side effect on guest state */
        } else {
            byte = 0xff;                /* open bus */
        }
        v |= (uint64_t)byte << (8 * i);
    }
    e->mmio_acc = (e->mmio_acc << 7 | e->mmio_acc >> 57) ^ v ^ addr;
    int idx = ram_page_index(addr & TLB_PAGE_MASK);
    if (idx >= 0)
        tlb_fill(e, mmu, addr & TLB_PAGE_MASK, idx);
    return v;
}

static void fuzz_store(void *env, uint64_t addr, uint64_t val, IRMemOp mo, uintptr_t ra)
{
    FuzzEnv *e = env;
    unsigned size = 1u << (mo & IR_MO_SIZE);
    unsigned mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    if (fast_path_hits(e, addr, mo, true)) {
        const TLBEntry *te = &e->tlb.table[mmu][tlb_index(addr)];
        memcpy((void *)(uintptr_t)(addr + te->addend), &val, size);
        return;
    }
    e->slow_count++;
    log_pc(e, current_pc(ra));
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        uint8_t *p = ram_byte(a);
        if (p)
            *p = (uint8_t)(val >> (8 * i));
        else if ((a & TLB_PAGE_MASK) == MMIO_PAGE)
            e->g64[NG - 1] ^= (uint64_t)(uint8_t)(val >> (8 * i)) << (i * 8);
    }
    e->mmio_acc = (e->mmio_acc << 5 | e->mmio_acc >> 59) ^ (val & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1)) ^ addr;
    int idx = ram_page_index(addr & TLB_PAGE_MASK);
    if (idx >= 0)
        tlb_fill(e, mmu, addr & TLB_PAGE_MASK, idx);
}

/* guest_atomic: the fast path's host bytes when the write tag hits, else
 * the slow path: each byte read as fuzz_load does and written as
 * fuzz_store does (device side effects included), counted once. */
static uint64_t fuzz_atomic(void *env, uint64_t addr, uint64_t val, uint64_t newv, IRMemOp mo,
                            uintptr_t ra)
{
    FuzzEnv *e = env;
    unsigned sz = mo & IR_MO_SIZE, size = 1u << sz;
    unsigned mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    IRAtomicOp op = ir_memop_atomic(mo);
    uint64_t old = 0, nv;
    if (fast_path_hits(e, addr, mo, true)) {
        const TLBEntry *te = &e->tlb.table[mmu][tlb_index(addr)];
        void *p = (void *)(uintptr_t)(addr + te->addend);
        memcpy(&old, p, size);
        nv = ir_atomic_apply(op, sz, old, val, newv);
        memcpy(p, &nv, size);
        return old;
    }
    e->slow_count++;
    log_pc(e, current_pc(ra));
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        uint8_t *p = ram_byte(a);
        uint8_t byte = 0xff;
        if (p) {
            byte = *p;
        } else if ((a & TLB_PAGE_MASK) == MMIO_PAGE) {
            byte = (uint8_t)((a * 0x45) ^ e->mmio_acc);
            e->g32[0] += 1;
        }
        old |= (uint64_t)byte << (8 * i);
    }
    nv = ir_atomic_apply(op, sz, old, val, newv);
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        uint8_t *p = ram_byte(a);
        if (p)
            *p = (uint8_t)(nv >> (8 * i));
        else if ((a & TLB_PAGE_MASK) == MMIO_PAGE)
            e->g64[NG - 1] ^= (uint64_t)(uint8_t)(nv >> (8 * i)) << (i * 8);
    }
    e->mmio_acc = (e->mmio_acc << 3 | e->mmio_acc >> 61) ^ old ^ nv ^ addr;
    int idx = ram_page_index(addr & TLB_PAGE_MASK);
    if (idx >= 0)
        tlb_fill(e, mmu, addr & TLB_PAGE_MASK, idx);
    return old;
}

static const IRGuestMemOps fuzz_mem = { fuzz_load, fuzz_store, fuzz_atomic };

/* ---- helpers, one per flag combination; each keeps its promises ---- */

static uint64_t h_pure2(uint64_t a, uint64_t b)
{
    return a * 0x9e3779b97f4a7c15ULL ^ (b >> 3) ^ (b << 17);
}

static uint64_t h_six(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)
{
    return a + 3 * b + 5 * c + 7 * d + 11 * e + 13 * f;
}

static uint64_t h_read(uint64_t envp, uint64_t a)
{
    FuzzEnv *e = (FuzzEnv *)(uintptr_t)envp;
    return (e->g64[1] ^ e->g32[2]) * (a | 1) + e->g64[3];
}

static uint64_t h_write(uint64_t envp, uint64_t a)
{
    FuzzEnv *e = (FuzzEnv *)(uintptr_t)envp;
    e->g64[2] = a * 3;
    e->g32[3] = (uint32_t)(a ^ 0x55);
    return ~a;
}

static uint64_t h_rw(uint64_t envp, uint64_t a, uint64_t b)
{
    FuzzEnv *e = (FuzzEnv *)(uintptr_t)envp;
    e->g64[0] += a;
    e->g32[1] ^= (uint32_t)b;
    e->helper_acc = e->helper_acc * 31 + e->g64[4] + e->g32[4];
    return e->g64[0] ^ e->g32[1];
}

/* Can fault: checks the guest pc recorded for its return address. */
static uint64_t __attribute__((noinline)) h_fault(uint64_t envp, uint64_t a)
{
    FuzzEnv *e = (FuzzEnv *)(uintptr_t)envp;
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    uint64_t pc = cur.engine ? current_pc(ra) : cur.ist->insn_start[0];
    log_pc(e, pc);
    e->helper_acc ^= e->g64[5] + e->g32[5] * 7 + a;
    return pc;
}

static uint64_t h_side(uint64_t envp)
{
    FuzzEnv *e = (FuzzEnv *)(uintptr_t)envp;
    e->helper_acc += 0x1234567;
    return 0;
}

static uint64_t h_garbage(uint64_t a)
{
    return a | 0xdead000000000000ULL;   /* high bits an i32 result must drop */
}

static const IRHelper hp_pure2 = IR_HELPER(h_pure2, IR_CALL_PURE | IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper hp_six = IR_HELPER(h_six, IR_CALL_PURE | IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper hp_read = IR_HELPER(h_read, IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper hp_write = IR_HELPER(h_write, IR_CALL_NO_READ_GLOBALS);
static const IRHelper hp_rw = IR_HELPER(h_rw, 0);
static const IRHelper hp_fault = IR_HELPER(h_fault, IR_CALL_CAN_FAULT | IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper hp_side = IR_HELPER(h_side, IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS);
static const IRHelper hp_garbage = IR_HELPER(h_garbage, IR_CALL_PURE | IR_CALL_NO_READ_GLOBALS | IR_CALL_NO_WRITE_GLOBALS);

/* ---- the block generator ---- */

typedef struct Gen {
    IRBlock *b;
    IRTemp g[2][NG], loc[2][NL], ebb[2][NE];
    bool def[2][NE];
    IRTemp counter;             /* loop counter, never a random operand */
    uint32_t pending[16];
    unsigned npending;
    uint64_t pc;
    unsigned depth;             /* inside a loop body */
} Gen;

static IRType rtype(void)
{
    return rn(2) ? IR_I64 : IR_I32;
}

static IRTemp pick_in(Gen *g, IRType t)
{
    for (;;) {
        switch (rn(10)) {
        case 0: case 1:
            return ir_const(g->b, t, (int64_t)edge_value(t));
        case 2: case 3: case 4:
            return g->g[t][rn(NG)];
        case 5: case 6:
            return g->loc[t][rn(NL)];
        default: {
            unsigned i = rn(NE);
            if (g->def[t][i])
                return g->ebb[t][i];
            break;
        }
        }
    }
}

static IRTemp pick_out(Gen *g, IRType t)
{
    switch (rn(10)) {
    case 0: case 1: case 2:
        return g->g[t][rn(NG)];
    case 3: case 4:
        return g->loc[t][rn(NL)];
    default: {
        unsigned i = rn(NE);
        g->def[t][i] = true;
        return g->ebb[t][i];
    }
    }
}

static void gen_label_here(Gen *g, uint32_t l)
{
    ir_set_label(g->b, l);
    memset(g->def, 0, sizeof(g->def));
    /* Contract: code after a label reached from elsewhere starts a new
     * insn_start, so "last insn_start executed" (interpreter) and "last
     * insn_start before this host pc" (restore tables) agree. */
    g->pc += 1 + rn(15);
    ir_insn_start(g->b, g->pc, rnd() & 0xffff);
}

static void place_pending(Gen *g)
{
    if (!g->npending)
        return;
    unsigned i = rn(g->npending);
    uint32_t l = g->pending[i];
    g->pending[i] = g->pending[--g->npending];
    gen_label_here(g, l);
}

static IRTemp guest_addr(Gen *g)
{
    IRBlock *b = g->b;
    uint64_t page;
    switch (rn(8)) {
    case 0: page = MMIO_PAGE; break;
    case 1: page = 0x5000 + (rnd() & 0xff000); break;      /* unmapped */
    default: page = ram_vpage[rn(NPAGES)]; break;
    }
    if (rn(3) == 0) {
        uint64_t off = rn(2) ? rn(TLB_PAGE_SIZE) : TLB_PAGE_SIZE - 1 - rn(8);
        return ir_const(b, IR_I64, (int64_t)(page + off));
    }
    /* page + (some value & 0xfff): offsets from the data */
    IRTemp t = ir_temp(b, IR_I64), x = pick_in(g, IR_I64);
    ir_and(b, IR_I64, t, x, ir_const(b, IR_I64, 0xfff));
    ir_add(b, IR_I64, t, t, ir_const(b, IR_I64, (int64_t)page));
    return t;
}

static void gen_call_op(Gen *g)
{
    IRBlock *b = g->b;
    IRTemp args[6];
    switch (rn(8)) {
    case 0:
        args[0] = pick_in(g, IR_I64);
        args[1] = pick_in(g, IR_I64);
        ir_call(b, &hp_pure2, IR_I64, 1, pick_out(g, IR_I64), 2, args);
        break;
    case 1: {
        IRType t = rtype();
        for (int i = 0; i < 6; i++)
            args[i] = pick_in(g, rtype());
        ir_call(b, &hp_six, t, 1, pick_out(g, t), 6, args);
        break;
    }
    case 2: {
        IRType t = rtype();
        args[0] = IR_ENV;
        args[1] = pick_in(g, rtype());
        ir_call(b, &hp_read, t, 1, pick_out(g, t), 2, args);
        break;
    }
    case 3:
        args[0] = IR_ENV;
        args[1] = pick_in(g, IR_I64);
        ir_call(b, &hp_write, IR_I64, 1, pick_out(g, IR_I64), 2, args);
        break;
    case 4:
        args[0] = IR_ENV;
        args[1] = pick_in(g, IR_I64);
        args[2] = pick_in(g, IR_I32);
        ir_call(b, &hp_rw, IR_I32, 1, pick_out(g, IR_I32), 3, args);
        break;
    case 5:
        args[0] = IR_ENV;
        args[1] = pick_in(g, IR_I64);
        if (rn(2))
            ir_call(b, &hp_fault, IR_I64, 1, pick_out(g, IR_I64), 2, args);
        else
            ir_call(b, &hp_fault, IR_I64, 0, 0, 2, args);
        break;
    case 6:
        args[0] = IR_ENV;
        ir_call(b, &hp_side, IR_I64, 0, 0, 1, args);
        break;
    default:
        args[0] = pick_in(g, IR_I32);
        ir_call(b, &hp_garbage, IR_I32, 1, pick_out(g, IR_I32), 1, args);
        break;
    }
}

static void gen_mem_op(Gen *g)
{
    IRBlock *b = g->b;
    IRType t = rtype();
    unsigned size = rn(t == IR_I64 ? 4 : 3);
    IRMemOp mo = ir_memop(size, rn(2), rn(TLB_NB_MMU_MODES));
    if (rn(6) == 0)
        mo |= IR_MO_ALIGN_CHECK;
    IRTemp addr = guest_addr(g);
    if (rn(5) == 0) {
        IRAtomicOp op = (IRAtomicOp)rn(IR_ATOMIC_NB);
        IRTemp v = pick_in(g, t);
        IRTemp nv = op == IR_ATOMIC_CMPXCHG ? pick_in(g, t) : 0;
        ir_guest_atomic(b, t, pick_out(g, t), addr, v, nv, mo & ~IR_MO_SIGN, op);
    } else if (rn(2))
        ir_guest_ld(b, t, pick_out(g, t), addr, mo);
    else
        ir_guest_st(b, t, pick_in(g, t), addr, mo & ~IR_MO_SIGN);
}

static void gen_host_mem_op(Gen *g)
{
    static const IROpcode loads[] = { IR_ld8u, IR_ld8s, IR_ld16u, IR_ld16s, IR_ld32u, IR_ld32s, IR_ld };
    static const IROpcode stores[] = { IR_st8, IR_st16, IR_st32, IR_st };
    IRBlock *b = g->b;
    IRType t = rtype();
    int64_t off = (int64_t)offsetof(FuzzEnv, host) + rn(sizeof(((FuzzEnv *)0)->host) - 8);
    IRTemp base = IR_ENV;
    if (rn(3) == 0) {               /* through a pointer temp */
        base = ir_temp(b, IR_I64);
        ir_add(b, IR_I64, base, IR_ENV, ir_const(b, IR_I64, 16));
        off -= 16;
    }
    if (rn(2)) {
        IROpcode op = loads[rn(t == IR_I64 ? 7 : 7)];
        if (op == IR_ld32s && t == IR_I32)
            op = IR_ld32u;
        ir_ld(b, op, t, pick_out(g, t), base, off);
    } else {
        IROpcode op = stores[rn(4)];
        ir_st(b, op, t, pick_in(g, t), base, off);
    }
}

static void gen_simple_op(Gen *g)
{
    static const IROpcode bin[] = { IR_add, IR_sub, IR_mul, IR_and, IR_or, IR_xor, IR_andc,
                                    IR_shl, IR_shr, IR_sar, IR_rotl, IR_rotr };
    static const IROpcode un[] = { IR_neg, IR_not, IR_ext8s, IR_ext8u, IR_ext16s, IR_ext16u,
                                   IR_bswap16, IR_bswap32, IR_ctpop, IR_mov,
                                   IR_ext32s, IR_ext32u, IR_bswap64 };
    IRBlock *b = g->b;
    IRType t = rtype();
    unsigned w = t == IR_I64 ? 64 : 32;
    switch (rn(14)) {
    case 0: case 1: case 2: case 3: {
        IROpcode op = bin[rn(sizeof(bin) / sizeof(bin[0]))];
        IRTemp a = pick_in(g, t), c;
        if (op >= IR_shl && rn(2))
            c = ir_const(b, t, rn(2 * w + 2));
        else
            c = pick_in(g, t);
        ir_op2(b, op, t, pick_out(g, t), a, c);
        break;
    }
    case 4: case 5: {
        /* operands are picked before outputs: argument evaluation order
         * is unspecified, and an output marks an EBB temp defined */
        unsigned n = t == IR_I64 ? 13 : 10;
        IRTemp x = pick_in(g, t);
        ir_op1(b, un[rn(n)], t, pick_out(g, t), x);
        break;
    }
    case 6: {
        unsigned k = rn(4);
        IRType ti = k < 2 ? IR_I32 : IR_I64, to = k < 2 ? IR_I64 : IR_I32;
        static const IROpcode conv[] = { IR_extu_i32, IR_exts_i32, IR_extrl_i64, IR_extrh_i64 };
        IRTemp x = pick_in(g, ti);
        ir_op1(b, conv[k], to, pick_out(g, to), x);
        break;
    }
    case 7: {
        IRTemp fallback = rn(2) ? ir_const(b, t, w) : pick_in(g, t);
        IRTemp x = pick_in(g, t);
        ir_op2(b, rn(2) ? IR_clz : IR_ctz, t, pick_out(g, t), x, fallback);
        break;
    }
    case 8: {
        IRTemp outs[2], ins[2];
        ins[0] = pick_in(g, t);
        ins[1] = pick_in(g, t);
        bool saved[2][NE];
        memcpy(saved, g->def, sizeof(saved));
        for (;;) {
            outs[0] = pick_out(g, t);
            outs[1] = pick_out(g, t);
            if (outs[0] != outs[1])
                break;
            memcpy(g->def, saved, sizeof(saved));
        }
        ir_emit(b, rn(2) ? IR_mulu2 : IR_muls2, t, outs, ins, NULL);
        break;
    }
    case 9: {
        unsigned len = 1 + rn(w), pos = rn(w - len + 1);
        if (rn(3) == 0) {
            static const unsigned common[][2] = { {0, 8}, {8, 8}, {0, 16}, {0, 32}, {16, 16}, {32, 32} };
            const unsigned *pl = common[rn(t == IR_I64 ? 6 : 5)];
            pos = pl[0];
            len = pl[1];
            if (pos + len > w)
                pos = 0;
        }
        IRTemp x = pick_in(g, t), y = pick_in(g, t);
        if (rn(3) == 0)
            ir_deposit(b, t, pick_out(g, t), x, y, pos, len);
        else
            ir_emit(b, rn(2) ? IR_extract : IR_sextract, t, (IRTemp[]){ pick_out(g, t) },
                    (IRTemp[]){ x }, (uint64_t[]){ pos, len });
        break;
    }
    case 10: {
        IRTemp x = pick_in(g, t), y = pick_in(g, t);
        ir_setcond(b, t, (IRCond)rn(14), pick_out(g, t), x, y);
        break;
    }
    case 11: {
        IRTemp x = pick_in(g, t), y = pick_in(g, t), v1 = pick_in(g, t), v2 = pick_in(g, t);
        ir_movcond(b, t, (IRCond)rn(14), pick_out(g, t), x, y, v1, v2);
        break;
    }
    case 12:
        ir_movi(b, t, pick_out(g, t), (int64_t)edge_value(t));
        break;
    default: {
        /* same operand twice, and global = global op x */
        IRTemp x = pick_in(g, t);
        IRTemp d = rn(2) ? x : pick_out(g, t);
        if (ir_temp_info(b, d)->kind == IR_TEMP_CONST)
            d = pick_out(g, t);
        ir_op2(b, bin[rn(7)], t, d, x, x);
        break;
    }
    }
}

static void gen_straight(Gen *g)
{
    IRBlock *b = g->b;
    if (rn(3) == 0) {
        g->pc += 1 + rn(15);
        ir_insn_start(b, g->pc, rnd() & 0xffff);
    }
    switch (rn(20)) {
    case 0: case 1: case 2:
        gen_mem_op(g);
        break;
    case 3:
        gen_call_op(g);
        break;
    case 4:
        gen_host_mem_op(g);
        break;
    case 5:
        if (rn(4) == 0)
            ir_emit(b, IR_mb, IR_I64, NULL, NULL, (uint64_t[]){ 0 });
        else {
            IRType t = rtype();
            unsigned i = rn(NE);
            if (g->def[t][i]) {
                ir_discard(b, g->ebb[t][i]);
                g->def[t][i] = false;
            }
        }
        break;
    default:
        gen_simple_op(g);
        break;
    }
}

static void gen_control(Gen *g)
{
    IRBlock *b = g->b;
    switch (rn(6)) {
    case 0: case 1: {                   /* forward conditional branch */
        if (g->npending >= 16)
            break;
        uint32_t l = ir_new_label(b);
        IRType t = rtype();
        IRTemp x = pick_in(g, t), y = pick_in(g, t);
        ir_brcond(b, t, (IRCond)rn(14), x, y, l);
        g->pending[g->npending++] = l;
        break;
    }
    case 2:
        place_pending(g);
        break;
    case 3: {                           /* conditional early exit */
        uint32_t l = ir_new_label(b);
        IRType t = rtype();
        IRTemp x = pick_in(g, t), y = pick_in(g, t);
        ir_brcond(b, t, (IRCond)rn(14), x, y, l);
        if (rn(2))
            ir_goto_tb(b, 1);
        ir_exit_tb(b, 0x100 + rn(100));
        gen_label_here(g, l);
        break;
    }
    case 4: {                           /* forward br, then its label */
        if (g->npending >= 16)
            break;
        uint32_t l = ir_new_label(b);
        ir_br(b, l);
        g->pending[g->npending++] = l;
        place_pending(g);
        break;
    }
    default: {                          /* bounded loop on a local counter */
        if (g->depth)
            break;
        uint32_t top = ir_new_label(b);
        ir_movi(b, IR_I32, g->counter, 1 + rn(3));
        gen_label_here(g, top);
        g->depth++;
        for (unsigned n = 2 + rn(6); n-- > 0;)
            gen_straight(g);
        g->depth--;
        ir_sub(b, IR_I32, g->counter, g->counter, ir_const(b, IR_I32, 1));
        ir_brcond(b, IR_I32, IR_COND_NE, g->counter, ir_const(b, IR_I32, 0), top);
        break;
    }
    }
}

static IRBlock *gen_block(void)
{
    Gen g = { .b = ir_block_new() };
    IRBlock *b = g.b;
    static const char *const names[2][NG] = {
        { "g32_0", "g32_1", "g32_2", "g32_3", "g32_4", "g32_5" },
        { "g64_0", "g64_1", "g64_2", "g64_3", "g64_4", "g64_5" },
    };
    for (int i = 0; i < NG; i++) {
        g.g[IR_I32][i] = ir_global(b, IR_I32, offsetof(FuzzEnv, g32[i]), names[0][i]);
        g.g[IR_I64][i] = ir_global(b, IR_I64, offsetof(FuzzEnv, g64[i]), names[1][i]);
    }
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < NL; i++)
            g.loc[t][i] = ir_local(b, (IRType)t);
        for (int i = 0; i < NE; i++)
            g.ebb[t][i] = ir_temp(b, (IRType)t);
    }
    g.counter = ir_local(b, IR_I32);
    g.pc = 0x1000 + (rnd() & 0xfff0);
    ir_insn_start(b, g.pc, 0);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NL; i++) {
            if (rn(2))
                ir_movi(b, (IRType)t, g.loc[t][i], (int64_t)edge_value((IRType)t));
            else
                ir_mov(b, (IRType)t, g.loc[t][i], g.g[t][rn(NG)]);
        }
    unsigned n = 4 + rn(60);
    for (unsigned i = 0; i < n; i++) {
        if (rn(6) == 0)
            gen_control(&g);
        else
            gen_straight(&g);
    }
    while (g.npending)
        place_pending(&g);
    switch (rn(4)) {
    case 0:
        ir_exit_tb(b, rnd() & 0xffffffffff);
        break;
    case 1:
        ir_goto_tb(b, 0);
        ir_exit_tb(b, 0x42);
        break;
    case 2:
        ir_goto_ptr(b, ir_const(b, IR_I64, 0));
        break;
    default:
        break;                          /* falls off the end: returns 0 */
    }
    return b;
}

/* ---- running and comparing ---- */

static void disas(const uint8_t *code, size_t len)
{
    csh h;
    cs_insn *insn;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
        return;
    size_t n = cs_disasm(h, code, len, (uint64_t)(uintptr_t)code, 0, &insn);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %" PRIx64 ": %s %s\n", insn[i].address, insn[i].mnemonic, insn[i].op_str);
    cs_free(insn, n);
    cs_close(&h);
}

static void *last_code;
static IREngineCtx *last_ctx;

static IRBlock *block_clone(const IRBlock *src)
{
    IRBlock *b = ir_block_new();
    free(b->temps);
    free(b->insns);
    *b = *src;
    b->temps = malloc(src->temps_cap * sizeof(*b->temps));
    memcpy(b->temps, src->temps, src->ntemps * sizeof(*b->temps));
    b->insns = malloc((src->insns_cap ? src->insns_cap : 1) * sizeof(*b->insns));
    memcpy(b->insns, src->insns, src->ninsns * sizeof(*b->insns));
    return b;
}

static void init_machine(Machine *m)
{
    memset(m, 0, sizeof(*m));
    FuzzEnv *e = &m->env;
    for (int i = 0; i < NG; i++) {
        e->g64[i] = edge_value(IR_I64);
        e->g32[i] = (uint32_t)edge_value(IR_I32);
    }
    for (size_t i = 0; i < sizeof(e->host); i++)
        e->host[i] = (uint8_t)rnd();
    for (size_t i = 0; i < RAM_SIZE; i += 8) {
        uint64_t v = rnd();
        memcpy(m->ram + i, &v, 8);
    }
    for (unsigned mmu = 0; mmu < TLB_NB_MMU_MODES; mmu++) {
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            TLBEntry *te = &e->tlb.table[mmu][i];
            te->addr_read = te->addr_write = te->addr_code = TLB_INVALID;
        }
        TLBEntry *mm = &e->tlb.table[mmu][tlb_index(MMIO_PAGE)];
        mm->addr_read = mm->addr_write = MMIO_PAGE | TLB_MMIO;
    }
}

/* Fills TLB entries for RAM pages (host addends depend on where this
 * machine's RAM is, so this runs on each copy). */
static void init_tlb(Machine *m, uint64_t seed)
{
    uint64_t saved = rng_state;
    rng_state = seed;
    cur.ram = m->ram;
    for (unsigned mmu = 0; mmu < TLB_NB_MMU_MODES; mmu++)
        for (unsigned i = 0; i < NPAGES; i++)
            if (rn(2)) {
                tlb_fill(&m->env, mmu, ram_vpage[i], (int)i);
                if (rn(6) == 0)
                    m->env.tlb.table[mmu][tlb_index(ram_vpage[i])].addr_write |= TLB_CODE;
            }
    rng_state = saved;
}

/* Addends differ between machine copies; compare them as RAM offsets. */
static void normalise_tlb(Machine *m)
{
    for (unsigned mmu = 0; mmu < TLB_NB_MMU_MODES; mmu++)
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            TLBEntry *te = &m->env.tlb.table[mmu][i];
            if (te->addend)
                te->addend -= (uintptr_t)m->ram;
        }
}

/* Random garbage where the engines keep temps (the x86-64 frame sits
 * below the caller's stack; the interpreter's scratch array), so a read
 * of a slot that was never written shows up as a mismatch. */
static void __attribute__((noinline)) poison_stack(uint64_t seed)
{
    volatile uint64_t area[4096];
    for (unsigned i = 0; i < 4096; i++)
        area[i] = seed += 0x9e3779b97f4a7c15ULL;
    (void)area[seed & 4095];
}

static uint64_t run_interp(Machine *m, const IRBlock *b)
{
    IRInterpCode *code = ir_interp_prepare(b);
    IRInterpState st = { .mem = &fuzz_mem };
    st.scratch_len = b->ntemps + 64;
    st.scratch = malloc(st.scratch_len * sizeof(uint64_t));
    for (size_t i = 0; i < st.scratch_len; i++)
        st.scratch[i] = rnd();
    cur.engine = NULL;
    cur.ist = &st;
    cur.ram = m->ram;
    uint64_t r = ir_interp_run(code, &m->env, &st);
    ir_interp_state_free(&st);
    ir_interp_free(code);
    return r;
}

static uint64_t run_x86(Machine *m, IREngineCtx *ctx, const IRBlock *b)
{
    const IREngine *e = &ir_engine_x86_64;
    void *code = e->compile(ctx, b);
    if (!code) {
        e->flush(ctx);
        code = e->compile(ctx, b);
        if (!code) {
            fprintf(stderr, "irfuzz: block does not fit an empty code buffer\n");
            exit(2);
        }
    }
    cur.engine = e;
    cur.ctx = ctx;
    cur.ram = m->ram;
    last_code = code;
    last_ctx = ctx;
    poison_stack(rnd());
    return e->run(ctx, code, &m->env);
}

static bool same_state(const char *what, Machine *ref, uint64_t rref, Machine *m, uint64_t r,
                       bool verbose)
{
    normalise_tlb(m);
    bool ok = r == rref && !memcmp(&ref->env, &m->env, sizeof(m->env)) &&
              !memcmp(ref->ram, m->ram, RAM_SIZE);
    if (!ok && verbose) {
        fprintf(stderr, "  %s differs: exit %#" PRIx64 " vs %#" PRIx64 "\n", what, r, rref);
        for (int i = 0; i < NG; i++) {
            if (ref->env.g64[i] != m->env.g64[i])
                fprintf(stderr, "    g64_%d %#" PRIx64 " vs %#" PRIx64 "\n", i, m->env.g64[i], ref->env.g64[i]);
            if (ref->env.g32[i] != m->env.g32[i])
                fprintf(stderr, "    g32_%d %#x vs %#x\n", i, m->env.g32[i], ref->env.g32[i]);
        }
        if (memcmp(ref->env.host, m->env.host, sizeof(m->env.host)))
            fprintf(stderr, "    host area differs\n");
        if (ref->env.slow_count != m->env.slow_count)
            fprintf(stderr, "    slow paths %" PRIu64 " vs %" PRIu64 "\n", m->env.slow_count, ref->env.slow_count);
        if (memcmp(ref->env.log, m->env.log, sizeof(m->env.log)) || ref->env.nlog != m->env.nlog)
        {
            fprintf(stderr, "    restore log differs (%" PRIu64 " vs %" PRIu64 " entries)\n", m->env.nlog, ref->env.nlog);
            for (int i = 0; i < NLOG && i < (int)ref->env.nlog; i++)
                fprintf(stderr, "      %#" PRIx64 " vs %#" PRIx64 "\n", m->env.log[i], ref->env.log[i]);
        }
        if (ref->env.mmio_acc != m->env.mmio_acc || ref->env.helper_acc != m->env.helper_acc)
            fprintf(stderr, "    mmio/helper accumulators differ\n");
        if (memcmp(&ref->env.tlb, &m->env.tlb, sizeof(m->env.tlb)))
            fprintf(stderr, "    tlb differs\n");
        if (memcmp(ref->ram, m->ram, RAM_SIZE))
            fprintf(stderr, "    guest ram differs\n");
    }
    return ok;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --bench: time ir_optimize and the x86-64 compile per IR op. */
static int bench(uint64_t seed, unsigned long count)
{
    enum { NB = 1000 };
    IRBlock *blocks[NB], *work[NB];
    uint64_t nops = 0, nops_opt = 0, bytes = 0;
    for (unsigned i = 0; i < NB; i++) {
        rng_state = seed * 0x100000001b3ULL + i * 0x9e3779b97f4a7c15ULL;
        blocks[i] = gen_block();
        nops += blocks[i]->ninsns;
    }
    IREngineTarget tgt = { .tlb_offset = offsetof(FuzzEnv, tlb), .mem = &fuzz_mem };
    IREngineCtx *ctx = x86_64_create_sized(&tgt, 64u << 20);
    double t_opt = 0, t_comp = 0;
    unsigned long rounds = count / NB ? count / NB : 1;
    for (unsigned long r = 0; r < rounds; r++) {
        ir_engine_x86_64.flush(ctx);
        for (unsigned i = 0; i < NB; i++) {
            /* cache-warm, as a block fresh from the front end is */
            work[i] = block_clone(blocks[i]);
            double t0 = now_sec();
            ir_optimize(work[i]);
            double t1 = now_sec();
            void *code = ir_engine_x86_64.compile(ctx, work[i]);
            double t2 = now_sec();
            if (r == 0)
                bytes += ir_engine_x86_64.code_size(ctx, code);
            t_opt += t1 - t0;
            t_comp += t2 - t1;
        }
        for (unsigned i = 0; i < NB; i++) {
            if (r == 0)
                nops_opt += work[i]->ninsns;
            ir_block_free(work[i]);
        }
    }
    double total = (double)nops * rounds;
    printf("irfuzz bench: %u blocks x %lu rounds, %.1f IR ops/block (%.1f after optimise)\n",
           NB, rounds, (double)nops / NB, (double)nops_opt / NB);
    printf("  optimise %.1f ns/op, x86-64 compile %.1f ns/op (per input op), %.1f host bytes/op\n",
           t_opt * 1e9 / total, t_comp * 1e9 / total, (double)bytes / nops_opt);
    for (unsigned i = 0; i < NB; i++)
        ir_block_free(blocks[i]);
    ir_engine_x86_64.destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    unsigned long count = 1000;
    bool verbose = false;
    long only = -1;
    unsigned long buf_kib = 4096;
    bool do_bench = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--verbose"))
            verbose = true;
        else if (!strcmp(argv[i], "--bench"))
            do_bench = true;
        else if (!strcmp(argv[i], "--buf-kib") && i + 1 < argc)
            buf_kib = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--block") && i + 1 < argc)
            only = strtol(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: irfuzz [--seed N] [--count N] [--block N] [--buf-kib N] [--verbose] [--bench]\n");
            return 2;
        }
    }
    if (do_bench)
        return bench(seed, count);
    IREngineTarget tgt = { .tlb_offset = offsetof(FuzzEnv, tlb), .mem = &fuzz_mem };
    IREngineCtx *ctx = x86_64_create_sized(&tgt, buf_kib << 10);
    IREngineCtx *ctx_plain = x86_64_create_sized(&tgt, buf_kib << 10);
    x86_64_set_features(ctx_plain, 0);
    static Machine m0, ma, mb, mc;
    unsigned long mismatches = 0;
    for (unsigned long n = 0; n < count; n++) {
        rng_state = seed * 0x100000001b3ULL + n * 0x9e3779b97f4a7c15ULL;
        IRBlock *b = gen_block();
        if (only >= 0 && (long)n != only) {
            ir_block_free(b);
            continue;
        }
        if (!ir_verify(b, stderr)) {
            fprintf(stderr, "irfuzz: generator made an invalid block (seed %" PRIu64 " block %lu)\n", seed, n);
            ir_dump(b, stderr);
            return 2;
        }
        IRBlock *opt = block_clone(b);
        ir_optimize(opt);
        if (!ir_verify(opt, stderr)) {
            fprintf(stderr, "irfuzz: ir_optimize made an invalid block (seed %" PRIu64 " block %lu)\n", seed, n);
            mismatches++;
            ir_block_free(b);
            ir_block_free(opt);
            continue;
        }
        init_machine(&m0);
        uint64_t tlb_seed = rnd();
        ma = m0;
        init_tlb(&ma, tlb_seed);
        uint64_t ra = run_interp(&ma, b);
        normalise_tlb(&ma);

        struct { const char *name; const IRBlock *blk; IREngineCtx *ctx; } runs[] = {
            { "optimised interp", opt, NULL },
            { "x86-64 optimised", opt, ctx },
            { "x86-64 unoptimised", b, ctx },
            { "x86-64 no-bmi optimised", opt, ctx_plain },
        };
        bool bad = false;
        for (unsigned k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
            if (k == 3 && n % 4 != 3)
                continue;
            mb = m0;
            init_tlb(&mb, tlb_seed);
            uint64_t r = runs[k].ctx ? run_x86(&mb, runs[k].ctx, runs[k].blk)
                                     : run_interp(&mb, runs[k].blk);
            if (!same_state(runs[k].name, &ma, ra, &mb, r, verbose)) {
                if (!bad && verbose) {
                    fprintf(stderr, "irfuzz: mismatch, seed %" PRIu64 " block %lu (%s)\n", seed, n, runs[k].name);
                    if (runs[k].ctx) {
                        size_t len;
                        const uint8_t *hc = ir_engine_x86_64.host_code(last_ctx, last_code, &len);
                        disas(hc, len);
                    }
                }
                bad = true;
            }
        }
        if (bad) {
            mismatches++;
            if (verbose) {
                fprintf(stderr, "--- block as generated:\n");
                ir_dump(b, stderr);
                fprintf(stderr, "--- optimised:\n");
                ir_dump(opt, stderr);
            } else if (mismatches <= 5) {
                fprintf(stderr, "irfuzz: mismatch at seed %" PRIu64 " block %lu (rerun with --verbose)\n", seed, n);
            }
        }
        (void)mc;
        ir_block_free(b);
        ir_block_free(opt);
    }
    ir_engine_x86_64.destroy(ctx);
    ir_engine_x86_64.destroy(ctx_plain);
    printf("irfuzz: %lu blocks, %lu mismatches\n", count, mismatches);
    return mismatches ? 1 : 0;
}
