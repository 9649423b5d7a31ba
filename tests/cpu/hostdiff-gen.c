/*
 * hostdiff sequence generator: random but runnable sequences of 1-8 integer
 * instructions, drawn from the rows of cpu/opcodes.def and kept only when
 * the vx86 decoder accepts them (docs/hostdiff.md, "Generator").
 *
 * Every sequence must run the same way on the host (user mode, in a child
 * process) and in the vx86 guest, so the generator enforces:
 *   - memory operands are [base + small disp] (or moffs) where the base is
 *     one of the sequence's pointer registers: they hold an address inside
 *     the data page and no instruction of the sequence writes them (RSP is
 *     always one; PUSH/POP move it by a few bytes only);
 *   - control flow: only short forward Jcc/JMP/JCXZ/LOOP inside the
 *     sequence (targets patched in after the whole sequence is drawn);
 *   - no privileged, I/O, system, timing or random-number instructions
 *     except a few that must fault (#GP) at CPL 3;
 *   - an instruction never reads a flag that an earlier one left undefined
 *     (SDM "Flags Affected"), so undefined flags cannot leak into results;
 *     the flags undefined at each instruction boundary are recorded for
 *     the comparison (HDCase.undef_before).
 * A small share of sequences is steered to exceptions: faulting pointers
 * (page-crossing, unmapped, non-canonical), #UD encodings, INT3, INT n,
 * INTO, BOUND, AAM 0, DIV/IDIV with zero or overflowing operands.
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/opcodes.h"
#include "tests/cpu/hostdiff.h"

/* ---- the table rows: the decoder's own (cpu/opcodes.h) ---- */
typedef X86OpRow GenRow;
#define SEL_HAS(s, k) ((X86_SEL_MASK(s) & (k)) != 0)
#define SEL_VAL(s, k) (X86_SEL_VAL(s) & (k))

/* ---- random numbers: splitmix64 seeding, xorshift64* stream ---- */
typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t rnd(Rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(Rng *r, uint32_t n)
{
    return (uint32_t)((rnd(r) >> 32) % n);
}

/* True with probability pct/100. */
static bool chance(Rng *r, unsigned pct)
{
    return rnd_below(r, 100) < pct;
}

/* ---- host features (CPUID) ---- */
static bool host_feat[X86_FEAT_COUNT];
static int gen_group;          /* HD_GROUP_* */

const char *const hd_group_names[HD_GROUP_COUNT] = { "int", "sse", "mmx", "x87" };
static const GenRow **rows;      /* the rows of the group, from x86_op_rows[] */
static size_t nrows;

static bool gen_mnem_wanted(int mnem);

/* Reads the features the generator cares about from CPUID leaves 1, 7.0
 * and 0x80000001 through `cpuid`. */
static void features_from(bool f[X86_FEAT_COUNT], HDCpuidFn cpuid, void *opaque)
{
    uint32_t r[4];
    memset(f, 0, X86_FEAT_COUNT * sizeof(bool));
    f[X86_FEAT_NONE] = true;
    if (cpuid(1, 0, r, opaque)) {
        f[X86_FEAT_CMOV] = r[3] & (1u << 15);
        f[X86_FEAT_CX8] = r[3] & (1u << 8);
        f[X86_FEAT_CX16] = r[2] & (1u << 13);
        f[X86_FEAT_MOVBE] = r[2] & (1u << 22);
        f[X86_FEAT_POPCNT] = r[2] & (1u << 23);
        f[X86_FEAT_SSE42] = r[2] & (1u << 20);
        f[X86_FEAT_FPU] = r[3] & (1u << 0);
        f[X86_FEAT_MMX] = r[3] & (1u << 23);
        f[X86_FEAT_SSE] = r[3] & (1u << 25);
        f[X86_FEAT_SSE2] = r[3] & (1u << 26);
        f[X86_FEAT_SSE3] = r[2] & (1u << 0);
        f[X86_FEAT_PCLMUL] = r[2] & (1u << 1);
        f[X86_FEAT_SSSE3] = r[2] & (1u << 9);
        f[X86_FEAT_SSE41] = r[2] & (1u << 19);
        f[X86_FEAT_AES] = r[2] & (1u << 25);
    }
    if (cpuid(7, 0, r, opaque)) {
        f[X86_FEAT_BMI1] = r[1] & (1u << 3);
        f[X86_FEAT_BMI2] = r[1] & (1u << 8);
        f[X86_FEAT_ADX] = r[1] & (1u << 19);
        f[X86_FEAT_SHA] = r[1] & (1u << 29);
    }
    if (cpuid(0x80000001, 0, r, opaque)) {
        f[X86_FEAT_LZCNT] = r[2] & (1u << 5);
        f[X86_FEAT_LAHF64] = r[2] & 1u;
    }
}

static bool host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *opaque)
{
    (void)opaque;
    unsigned a, b, c, d, max = __get_cpuid_max(leaf & 0x80000000u, NULL);
    if (leaf > max)
        return false;
    __cpuid_count(leaf, sub, a, b, c, d);
    r[0] = a, r[1] = b, r[2] = c, r[3] = d;
    return true;
}

static const char *const feat_names[X86_FEAT_COUNT] = {
    [X86_FEAT_CMOV] = "CMOV", [X86_FEAT_CX8] = "CX8", [X86_FEAT_CX16] = "CX16",
    [X86_FEAT_MOVBE] = "MOVBE", [X86_FEAT_POPCNT] = "POPCNT", [X86_FEAT_SSE42] = "SSE4.2",
    [X86_FEAT_BMI1] = "BMI1", [X86_FEAT_BMI2] = "BMI2", [X86_FEAT_ADX] = "ADX", [X86_FEAT_LZCNT] = "LZCNT",
    [X86_FEAT_LAHF64] = "LAHF64", [X86_FEAT_FPU] = "FPU", [X86_FEAT_MMX] = "MMX",
    [X86_FEAT_SSE] = "SSE", [X86_FEAT_SSE2] = "SSE2", [X86_FEAT_SSE3] = "SSE3",
    [X86_FEAT_SSSE3] = "SSSE3", [X86_FEAT_SSE41] = "SSE4.1", [X86_FEAT_AES] = "AES",
    [X86_FEAT_PCLMUL] = "PCLMUL",
};

void hd_gen_init(HDCpuidFn guest_cpuid, void *opaque, const char *who, int group)
{
    bool guest[X86_FEAT_COUNT];
    gen_group = group;
    features_from(host_feat, host_cpuid, NULL);
    if (guest_cpuid) {
        features_from(guest, guest_cpuid, opaque);
        char off[160] = "";
        size_t o = 0;
        for (int k = 1; k < X86_FEAT_COUNT; k++) {
            if (host_feat[k] && !guest[k] && feat_names[k] && o + 12 < sizeof(off))
                o += (size_t)snprintf(off + o, sizeof(off) - o, " %s", feat_names[k]);
            host_feat[k] = host_feat[k] && guest[k];
        }
        /* Never silent: say which instructions are left out and why. */
        if (o)
            printf("hostdiff: not generating%s instructions (%s CPUID does not report them)\n",
                   off, who);
    }
    nrows = 0;
    free(rows);
    rows = calloc(x86_op_nrows, sizeof(*rows));
    if (!rows)
        abort();
    for (size_t i = 0; i < x86_op_nrows; i++)
        if (gen_mnem_wanted(x86_op_rows[i].mnem) && host_feat[x86_op_rows[i].feature])
            rows[nrows++] = &x86_op_rows[i];
}

/* MMX/SSE-family mnemonics of the sse and mmx groups (which of the two
 * is decided by the operands, in accept()). */
static bool gen_vector_wanted(int mnem)
{
    switch (mnem) {
    case X86_LDMXCSR: case X86_STMXCSR:
        return gen_group == HD_GROUP_SSE;
    case X86_EMMS:
        return gen_group == HD_GROUP_MMX;
    default:
        return mnem >= X86_ADDPS && mnem <= X86_SHA256MSG2;
    }
}

/* x87 mnemonics of the x87 group */
static bool gen_x87_wanted(int mnem)
{
    return (mnem >= X86_F2XM1 && mnem <= X86_FNSETPM) || mnem == X86_WAIT;
}

/* The instructions the generator draws from: the integer group, or one of
 * the vector/x87 groups.  System instructions, control transfer out of the
 * sequence, timing/random sources and segment loads are never generated. */
static bool gen_mnem_wanted(int mnem)
{
    if (gen_group == HD_GROUP_SSE || gen_group == HD_GROUP_MMX)
        return gen_vector_wanted(mnem);
    if (gen_group == HD_GROUP_X87)
        return gen_x87_wanted(mnem);
    switch (mnem) {
    case X86_ADD: case X86_OR: case X86_ADC: case X86_SBB: case X86_AND:
    case X86_SUB: case X86_XOR: case X86_CMP: case X86_INC: case X86_DEC:
    case X86_TEST: case X86_NOT: case X86_NEG: case X86_MUL: case X86_IMUL:
    case X86_DIV: case X86_IDIV: case X86_XCHG: case X86_MOV: case X86_LEA:
    case X86_MOVZX: case X86_MOVSX: case X86_MOVSXD: case X86_CBW: case X86_CWD:
    case X86_CMOVCC: case X86_SETCC: case X86_BT: case X86_BTS: case X86_BTR:
    case X86_BTC: case X86_BSF: case X86_BSR: case X86_TZCNT: case X86_LZCNT:
    case X86_POPCNT: case X86_BSWAP: case X86_SHL: case X86_SHR: case X86_SAR:
    case X86_ROL: case X86_ROR: case X86_RCL: case X86_RCR: case X86_SHLD:
    case X86_SHRD: case X86_CMPXCHG: case X86_XADD: case X86_CMPXCHG8B:
    case X86_CMPXCHG16B: case X86_PUSH: case X86_POP: case X86_PUSHF:
    case X86_LAHF: case X86_SAHF: case X86_CLC: case X86_STC: case X86_CMC:
    case X86_CLD: case X86_STD: case X86_NOP: case X86_PAUSE: case X86_MOVBE:
    case X86_CRC32: case X86_ADCX: case X86_ADOX: case X86_XLAT: case X86_MOVS:
    case X86_STOS: case X86_LODS: case X86_CMPS: case X86_SCAS: case X86_JCC:
    case X86_JMP: case X86_JCXZ: case X86_LOOP: case X86_LOOPE: case X86_LOOPNE:
    case X86_INT3: case X86_INT: case X86_INTO: case X86_UD2: case X86_UD0:
    case X86_UD1: case X86_BOUND: case X86_ARPL: case X86_DAA: case X86_DAS:
    case X86_AAA: case X86_AAS: case X86_AAM: case X86_AAD: case X86_SALC:
    case X86_PUSHA: case X86_POPA: case X86_HLT: case X86_CLI: case X86_STI:
    case X86_IN: case X86_OUT: case X86_ANDN: case X86_BEXTR: case X86_BLSI:
    case X86_BLSMSK: case X86_BLSR: case X86_BZHI: case X86_MULX: case X86_PDEP:
    case X86_PEXT: case X86_RORX: case X86_SARX: case X86_SHLX: case X86_SHRX:
        return true;
    default:
        return false;
    }
}

/* ---- flag effects (Intel SDM vol. 2, "Flags Affected" of each page) ---- */
typedef struct FlagFx {
    uint32_t reads;      /* flags the instruction's result depends on */
    uint32_t defines;    /* flags it sets to a defined value */
    uint32_t undef;      /* flags it leaves undefined */
} FlagFx;

/* The flags condition code `cc` (Jcc/SETcc/CMOVcc low nibble) tests. */
static uint32_t cond_flags(unsigned cc)
{
    static const uint32_t t[8] = {
        HD_OF, HD_CF, HD_ZF, HD_CF | HD_ZF, HD_SF, HD_PF, HD_SF | HD_OF,
        HD_ZF | HD_SF | HD_OF,
    };
    return t[(cc >> 1) & 7];
}

/* Count-dependent effects of shifts and rotates.  `count` is the count
 * operand before masking, or -1 when it is not known statically. */
static bool shift_fx(const X86Insn *in, int count, FlagFx *fx)
{
    unsigned bits = in->op[0].size * 8u;
    unsigned mask = bits == 64 ? 63 : 31;
    bool rot = in->mnem == X86_ROL || in->mnem == X86_ROR;
    bool rc = in->mnem == X86_RCL || in->mnem == X86_RCR;
    bool dbl = in->mnem == X86_SHLD || in->mnem == X86_SHRD;
    if (rc)
        fx->reads |= HD_CF;
    if (count < 0) {
        /* Count 0 changes nothing, so nothing becomes defined. */
        if (dbl && bits == 16)
            return false;            /* count > 16: result undefined */
        fx->undef |= HD_OF;
        if (!rot && !rc)
            fx->undef |= HD_AF;
        if ((in->mnem == X86_SHL || in->mnem == X86_SHR) && bits < 32)
            fx->undef |= HD_CF;      /* count may reach the operand size */
        return true;
    }
    unsigned m = (unsigned)count & mask;
    if (m == 0)
        return true;
    if (dbl && m > bits)
        return false;                /* SHLD/SHRD: result undefined */
    uint32_t ofl = m == 1 ? 0 : HD_OF;
    if (rot || rc) {
        fx->defines |= HD_CF | (HD_OF & ~ofl);
        fx->undef |= ofl;
        return true;
    }
    fx->defines |= HD_CF | HD_SF | HD_ZF | HD_PF | (HD_OF & ~ofl);
    fx->undef |= HD_AF | ofl;
    if ((in->mnem == X86_SHL || in->mnem == X86_SHR) && m >= bits) {
        fx->defines &= ~HD_CF;
        fx->undef |= HD_CF;
    }
    return true;
}

/* Fills fx for one decoded instruction; false when its result itself is
 * undefined for the operands (the generator then rejects it). */
static bool flag_fx(const X86Insn *in, int cl_known, FlagFx *fx)
{
    const uint32_t logic_def = HD_CF | HD_OF | HD_SF | HD_ZF | HD_PF;
    memset(fx, 0, sizeof(*fx));
    switch (in->mnem) {
    case X86_ADD: case X86_SUB: case X86_CMP: case X86_NEG: case X86_CMPXCHG:
    case X86_XADD: case X86_POPCNT:
        fx->defines = HD_ARITH;
        break;
    case X86_ADC: case X86_SBB:
        fx->reads = HD_CF;
        fx->defines = HD_ARITH;
        break;
    case X86_AND: case X86_OR: case X86_XOR: case X86_TEST:
        fx->defines = logic_def;
        fx->undef = HD_AF;
        break;
    case X86_INC: case X86_DEC:
        fx->defines = HD_ARITH & ~HD_CF;
        break;
    case X86_MUL: case X86_IMUL:
        fx->defines = HD_CF | HD_OF;
        fx->undef = HD_SF | HD_ZF | HD_AF | HD_PF;
        break;
    case X86_DIV: case X86_IDIV:
        fx->undef = HD_ARITH;
        break;
    case X86_BT: case X86_BTS: case X86_BTR: case X86_BTC:
        fx->defines = HD_CF;
        fx->undef = HD_OF | HD_SF | HD_AF | HD_PF;
        break;
    case X86_BSF: case X86_BSR:
        fx->defines = HD_ZF;
        fx->undef = HD_CF | HD_OF | HD_SF | HD_AF | HD_PF;
        break;
    case X86_TZCNT: case X86_LZCNT:
        fx->defines = HD_CF | HD_ZF;
        fx->undef = HD_OF | HD_SF | HD_AF | HD_PF;
        break;
    case X86_SHL: case X86_SHR: case X86_SAR: case X86_ROL: case X86_ROR:
    case X86_RCL: case X86_RCR: case X86_SHLD: case X86_SHRD: {
        int count;
        const X86Operand *c = &in->op[in->nops - 1];
        if (c->kind == X86_OPK_IMM)
            count = (int)(c->imm & 0xff);
        else if (c->spec == X86_OPND(ONE, b))
            count = 1;
        else
            count = cl_known;
        return shift_fx(in, count, fx);
    }
    case X86_CMPS: case X86_SCAS:
        /* With a REP prefix and rCX = 0 nothing is compared. */
        if (!(in->prefixes & (X86_PFX_REP | X86_PFX_REPNE)))
            fx->defines = HD_ARITH;
        break;
    case X86_CMC:
        fx->reads = HD_CF;
        fx->defines = HD_CF;
        break;
    case X86_CLC: case X86_STC:
        fx->defines = HD_CF;
        break;
    case X86_SAHF:
        fx->defines = HD_SF | HD_ZF | HD_AF | HD_PF | HD_CF;
        break;
    case X86_LAHF:
        fx->reads = HD_SF | HD_ZF | HD_AF | HD_PF | HD_CF;
        break;
    case X86_PUSHF:
        fx->reads = HD_ARITH;
        break;
    case X86_JCC: case X86_SETCC: case X86_CMOVCC:
        fx->reads = cond_flags(in->cond);
        break;
    case X86_LOOPE: case X86_LOOPNE:
        fx->reads = HD_ZF;
        break;
    case X86_INTO:
        fx->reads = HD_OF;
        break;
    case X86_SALC:
        fx->reads = HD_CF;
        break;
    case X86_DAA: case X86_DAS:
        fx->reads = HD_CF | HD_AF;
        fx->defines = HD_CF | HD_AF | HD_SF | HD_ZF | HD_PF;
        fx->undef = HD_OF;
        break;
    case X86_AAA: case X86_AAS:
        fx->reads = HD_AF;
        fx->defines = HD_AF | HD_CF;
        fx->undef = HD_OF | HD_SF | HD_ZF | HD_PF;
        break;
    case X86_AAM: case X86_AAD:
        fx->defines = HD_SF | HD_ZF | HD_PF;
        fx->undef = HD_OF | HD_AF | HD_CF;
        break;
    case X86_ADCX:
        fx->reads = HD_CF;
        fx->defines = HD_CF;
        break;
    case X86_ADOX:
        fx->reads = HD_OF;
        fx->defines = HD_OF;
        break;
    case X86_ARPL: case X86_CMPXCHG8B: case X86_CMPXCHG16B:
        fx->defines = HD_ZF;
        break;
    case X86_ANDN: case X86_BLSI: case X86_BLSMSK: case X86_BLSR: case X86_BZHI:
        fx->defines = HD_SF | HD_ZF | HD_CF | HD_OF;
        fx->undef = HD_AF | HD_PF;
        break;
    case X86_BEXTR:
        fx->defines = HD_ZF | HD_CF | HD_OF;
        fx->undef = HD_AF | HD_SF | HD_PF;
        break;
    case X86_COMISS: case X86_COMISD: case X86_UCOMISS: case X86_UCOMISD: case X86_PTEST:
    case X86_PCMPESTRI: case X86_PCMPESTRM: case X86_PCMPISTRI: case X86_PCMPISTRM:
        fx->defines = HD_ARITH;
        break;
    default:
        break;
    }
    return true;
}

/* ---- registers an instruction may write (conservative) ---- */
static uint32_t reg_bit(uint8_t r)
{
    /* byte registers 16-19 are AH-BH; in the vector groups a byte-sized
     * register operand (PEXTRB/PINSRB) is the full r32 rm names: SP-DI */
    if (r >= X86_GPR_AH && r <= X86_GPR_BH)
        return 1u << (r - X86_GPR_AH + (gen_group == HD_GROUP_INT ? 0 : 4));
    return r < 16 ? 1u << r : 0;
}

enum { B_AX = 1u << 0, B_CX = 1u << 1, B_DX = 1u << 2, B_BX = 1u << 3,
       B_SP = 1u << 4, B_SI = 1u << 6, B_DI = 1u << 7 };

/* GPRs the instruction may write, and separately whether it moves rSP the
 * way a push or pop does (allowed even though rSP is a pointer). */
static uint32_t insn_writes(const X86Insn *in, bool *stack_moves)
{
    uint32_t w = 0;
    *stack_moves = false;
    switch (in->mnem) {
    case X86_CMP: case X86_TEST: case X86_BT: case X86_PUSH: case X86_BOUND:
    case X86_JCC: case X86_JMP: case X86_JCXZ:
        break;
    default:
        if (in->nops > 0 && in->op[0].kind == X86_OPK_REG)
            w |= reg_bit(in->op[0].reg);
        break;
    }
    switch (in->mnem) {
    case X86_XCHG: case X86_XADD: case X86_MULX:
        if (in->op[1].kind == X86_OPK_REG)
            w |= reg_bit(in->op[1].reg);
        break;
    case X86_CMPXCHG: case X86_CBW: case X86_LAHF: case X86_SALC: case X86_XLAT:
    case X86_DAA: case X86_DAS: case X86_AAA: case X86_AAS: case X86_AAM:
    case X86_AAD: case X86_LODS:
        w |= B_AX;
        break;
    case X86_MUL: case X86_IMUL: case X86_DIV: case X86_IDIV:
        if (in->nops == 1)
            w |= B_AX | B_DX;
        break;
    case X86_CWD:
        w |= B_DX;
        break;
    case X86_CMPXCHG8B: case X86_CMPXCHG16B:
        w |= B_AX | B_DX;
        break;
    case X86_LOOP: case X86_LOOPE: case X86_LOOPNE: case X86_PCMPESTRI:
    case X86_PCMPISTRI:
        w |= B_CX;
        break;
    case X86_PUSH: case X86_POP: case X86_PUSHF: case X86_PUSHA:
        *stack_moves = true;
        break;
    case X86_POPA:
        *stack_moves = true;
        w |= 0xefu;               /* every register but ESP */
        break;
    default:
        break;
    }
    if (in->mnem == X86_MOVS || in->mnem == X86_STOS || in->mnem == X86_LODS ||
        in->mnem == X86_CMPS || in->mnem == X86_SCAS) {
        w &= ~(B_SI | B_DI);      /* they only walk the pointers */
        if (in->prefixes & (X86_PFX_REP | X86_PFX_REPNE))
            w |= B_CX;
    }
    return w;
}

/* ---- the generator ---- */
enum { KIND_NORMAL, KIND_FAULT_PTR, KIND_UD, KIND_TRAP };

typedef struct Gen {
    Rng r;
    int mode;
    HDCase *c;
    uint32_t ptrs;           /* pointer registers (never written) */
    uint32_t written;        /* GPRs written by earlier instructions */
    uint32_t taint;          /* flags currently undefined */
    int planned;             /* instructions to draw */
    int skip_end;            /* instructions below this index may be jumped over */
    int jump_target[HD_MAX_INSNS];   /* -1, or the index a jump goes to */
    uint8_t jump_len[HD_MAX_INSNS];  /* bytes of the rel field */
    bool strings;            /* rSI/rDI are pointers: string ops allowed */
    bool want_ud;            /* this sequence should contain a #UD encoding */
} Gen;

static const uint64_t edge_values[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
    0x8000000000000000ull, 0xffffffffffffffffull, 0xfffffffffffffffeull,
    0x8000000080000000ull, 0xffffffff80000000ull, 0x00000000ffff0000ull,
};

static uint64_t random_value(Rng *r)
{
    switch (rnd_below(r, 8)) {
    case 0: case 1:
        return edge_values[rnd_below(r, sizeof(edge_values) / sizeof(edge_values[0]))];
    case 2:
        return rnd(r) & 0xff;
    case 3:
        return (uint64_t)-(int64_t)(rnd(r) & 0xff);
    case 4:
        return rnd(r) & 0xffffffffu;
    default:
        return rnd(r);
    }
}

/* A data-page address with room for [disp -128..127] accesses of up to 16
 * bytes, a 256-byte XLAT table and short string runs either way. */
static uint64_t data_pointer(Rng *r)
{
    return HD_DATA_ADDR + 0x100 + rnd_below(r, 0xe00);
}

/* A pointer that makes (some) accesses through it fault. */
static uint64_t fault_pointer(Gen *g, int reg)
{
    unsigned k = rnd_below(&g->r, g->mode == 64 ? 4 : 3);
    switch (k) {
    case 0:   /* straddles the end of the data page: page-crossing #PF */
        return HD_DATA_ADDR + HD_PAGE_SIZE - 16 + rnd_below(&g->r, 16);
    case 1:   /* the unmapped page after the data page */
        return HD_DATA_ADDR + HD_PAGE_SIZE + 0x100 + rnd_below(&g->r, 0xe00);
    case 2:   /* the unmapped page before it */
        return HD_DATA_ADDR - HD_PAGE_SIZE + 0x100 + rnd_below(&g->r, 0xe00);
    default:  /* non-canonical: #GP(0), or #SS(0) through rBP */
        (void)reg;
        return 0x8000000000000000ull ^ (rnd(&g->r) & 0x7fff000000000fffull) ^
               HD_DATA_ADDR;
    }
}

/* Vector groups: most pointers 16-byte aligned, so aligned-operand rules
 * are exercised both ways. */
static uint64_t vec_pointer(Rng *r)
{
    uint64_t p = data_pointer(r);
    if (gen_group != HD_GROUP_INT && chance(r, 92))
        p &= ~15ull;
    return p;
}

static int nregs(const Gen *g)
{
    return g->mode == 64 ? 16 : 8;
}

static void gen_fpu_state(Gen *g);

static void gen_state(Gen *g)
{
    HDState *s = &g->c->in;
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 16; i++)
        s->gpr[i] = i < nregs(g) ? random_value(&g->r) : 0;
    if (g->mode == 32)
        for (int i = 0; i < 8; i++)
            s->gpr[i] &= 0xffffffffu;
    /* DIV/IDIV: a small rDX often makes the quotient fit. */
    if (chance(&g->r, 40))
        s->gpr[2] = chance(&g->r, 50) ? 0 : (uint64_t)-(int64_t)chance(&g->r, 50);
    uint32_t fl = (uint32_t)rnd(&g->r) & HD_FLAGS_TESTED;
    s->rflags = fl | HD_FLAGS_FIXED;
    s->rip = HD_CODE_ADDR;

    /* Pointer registers: rSP always, one to three others, rSI/rDI when the
     * sequence may use string instructions (then rCX is a small count). */
    g->ptrs = B_SP;
    s->gpr[4] = HD_DATA_ADDR + 0x600 + rnd_below(&g->r, 0x400) * 8 % 0x400;
    if (gen_group != HD_GROUP_INT && chance(&g->r, 90))
        s->gpr[4] &= ~15ull;
    g->strings = chance(&g->r, 25);
    if (g->strings) {
        g->ptrs |= B_SI | B_DI;
        s->gpr[6] = data_pointer(&g->r);
        s->gpr[7] = data_pointer(&g->r);
        s->gpr[1] = rnd_below(&g->r, 10);
    }
    int extra = 1 + (int)rnd_below(&g->r, 3);
    for (int k = 0; k < extra; k++) {
        int reg = (int)rnd_below(&g->r, (uint32_t)nregs(g));
        if (reg == 4)
            continue;
        g->ptrs |= 1u << reg;
        s->gpr[reg] = vec_pointer(&g->r);
    }
    if (chance(&g->r, 8))           /* XLAT needs rBX */
        g->ptrs |= B_BX, s->gpr[3] = data_pointer(&g->r);
    /* Some sequences get a pointer that faults. */
    if (chance(&g->r, 12)) {
        uint32_t cand = g->ptrs & ~B_SP & ~(g->strings ? B_SI | B_DI : 0);
        for (int reg = 0; reg < 16; reg++)
            if ((cand >> reg) & 1) {
                s->gpr[reg] = fault_pointer(g, reg);
                break;
            }
    }
    if (g->mode == 32)
        for (int i = 0; i < 8; i++)
            s->gpr[i] &= 0xffffffffu;
    gen_fpu_state(g);
}

/* ---- floating-point operands ---- */

/* A float (bits) drawn from the interesting classes: zeros, infinities,
 * quiet and signalling NaNs, denormals, the normal extremes, values near
 * one, small integers, and random bits. */
static uint32_t fp32_value(Rng *r)
{
    uint32_t sign = chance(r, 50) ? 0x80000000u : 0;
    uint32_t m = (uint32_t)rnd(r) & 0x7fffff;
    switch (rnd_below(r, 12)) {
    case 0: return sign;
    case 1: return sign | 0x7f800000u;
    case 2: return sign | 0x7fc00000u | (m & (chance(r, 50) ? 0x3fffff : 0));
    case 3: return sign | 0x7f800000u | (m ? m & 0x3fffff : 1) ;
    case 4: return sign | (m ? m : 1);
    case 5: return sign | 0x00800000u | m;
    case 6: return sign | 0x7f000000u | m;
    case 7: return sign | (0x3f000000u + (rnd_below(r, 4) << 23)) | (m & ~0xfffu);
    case 8: { float f = (float)(int)(rnd_below(r, 2000) - 1000); uint32_t u; memcpy(&u, &f, 4); return u; }
    case 9: return sign | ((uint32_t)(rnd_below(r, 254) + 1) << 23) | m;
    default: return (uint32_t)rnd(r);
    }
}

static uint64_t fp64_value(Rng *r)
{
    uint64_t sign = chance(r, 50) ? 1ull << 63 : 0;
    uint64_t m = rnd(r) & 0xfffffffffffffull;
    switch (rnd_below(r, 12)) {
    case 0: return sign;
    case 1: return sign | 0x7ff0000000000000ull;
    case 2: return sign | 0x7ff8000000000000ull | (chance(r, 50) ? m & 0x7ffffffffffffull : 0);
    case 3: return sign | 0x7ff0000000000000ull | (m & 0x7ffffffffffffull ? m & 0x7ffffffffffffull : 1);
    case 4: return sign | (m ? m : 1);
    case 5: return sign | 0x0010000000000000ull | m;
    case 6: return sign | 0x7fe0000000000000ull | m;
    case 7: return sign | ((0x3fe0000000000000ull + ((uint64_t)rnd_below(r, 4) << 52)) | (m & ~0xffffffull));
    case 8: { double d = (double)(int64_t)(rnd_below(r, 2000000) - 1000000); uint64_t u; memcpy(&u, &d, 8); return u; }
    case 9: return sign | ((uint64_t)(rnd_below(r, 2046) + 1) << 52) | m;
    case 10: return random_value(r);
    default: return rnd(r);
    }
}

/* 16 bytes of vector data: two doubles, four floats or integers. */
static void vec_value(Rng *r, uint8_t *out)
{
    uint64_t q[2];
    switch (rnd_below(r, 3)) {
    case 0:
        q[0] = fp64_value(r), q[1] = fp64_value(r);
        break;
    case 1:
        for (int i = 0; i < 2; i++)
            q[i] = fp32_value(r) | (uint64_t)fp32_value(r) << 32;
        break;
    default:
        q[0] = random_value(r), q[1] = random_value(r);
        break;
    }
    memcpy(out, q, 16);
}

/* An x87 80-bit value (significand, sign/exponent) from the classes the
 * x87 treats differently: zeros, infinities, QNaN/SNaN, denormals,
 * pseudo-denormals, unnormals and pseudo-NaN/infinities (invalid
 * encodings), normals near 1, integers, extremes, random bits. */
static void fp80_value(Rng *r, uint8_t *out)
{
    uint64_t m = rnd(r);
    uint16_t se = (uint16_t)(chance(r, 50) ? 0x8000 : 0);
    const uint64_t J = 1ull << 63;
    switch (rnd_below(r, 14)) {
    case 0: m = 0; break;
    case 1: se |= 0x7fff; m = J; break;
    case 2: se |= 0x7fff; m |= J | (1ull << 62); break;
    case 3: se |= 0x7fff; m = (m | J) & ~(1ull << 62); m |= m == J ? 1 : 0; break;
    case 4: m &= ~J; m |= m ? 0 : 1; break;
    case 5: m |= J; break;                                 /* pseudo-denormal */
    case 6: se |= (uint16_t)(1 + rnd_below(r, 0x7ffe)); m &= ~J; break;   /* unnormal */
    case 7: se |= 0x3fff - 2 + (uint16_t)rnd_below(r, 4); m |= J; break;
    case 8: {                                              /* an integer */
        int64_t v = (int64_t)rnd_below(r, 2000001) - 1000000;
        uint64_t a = (uint64_t)(v < 0 ? -v : v);
        se = (uint16_t)(v < 0 ? 0x8000 : 0);
        if (!a) { m = 0; break; }
        int lz = __builtin_clzll(a);
        m = a << lz;
        se |= (uint16_t)(0x3fff + 63 - lz);
        break;
    }
    case 9: se |= (uint16_t)(0x7ffe - rnd_below(r, 64)); m |= J; break;
    case 10: se |= (uint16_t)(1 + rnd_below(r, 64)); m |= J; break;
    case 11: se |= (uint16_t)(0x3fff - 64 + rnd_below(r, 128)); m |= J; break;
    case 12: se = (uint16_t)rnd(r); break;
    default: se |= (uint16_t)(1 + rnd_below(r, 0x7ffe)); m |= J; break;
    }
    memcpy(out, &m, 8);
    memcpy(out + 8, &se, 2);
}

void hd_fpu_default(HDFpu *f)
{
    memset(f, 0, sizeof(*f));
    uint16_t fcw = 0x037f;
    uint32_t mxcsr = 0x1f80;
    memcpy(f->fx, &fcw, 2);
    memcpy(f->fx + 24, &mxcsr, 4);
}

/* The entry FPU state of a vector-group case: XMM0-15 and MM0-7 from the
 * classes above, random rounding control, DAZ and FZ, mostly masked
 * exceptions (sometimes some unmasked, to get #XM), random sticky flags. */
static void gen_fpu_state(Gen *g)
{
    HDFpu *f = &g->c->fin;
    hd_fpu_default(f);
    if (gen_group == HD_GROUP_INT)
        return;
    Rng *r = &g->r;
    /* The default control bits in 40% of cases: the translator's inline
     * SSE path (HF_SSE_FAST) runs only then. */
    uint32_t mxcsr = 0x1f80;
    if (!chance(r, 40)) {
        mxcsr |= rnd_below(r, 4) << 13;
        if (chance(r, 20))
            mxcsr |= 1u << 6;         /* DAZ */
        if (chance(r, 20))
            mxcsr |= 1u << 15;        /* FZ */
        /* Unmasked IE/DE/ZE/PE (#XM).  OM and UM stay masked: with them
         * unmasked the precision flag depends on the exponent-wrapped
         * result, which vx86 does not model (docs/cpu.md). */
        if (chance(r, 10))
            mxcsr &= ~((uint32_t)rnd(r) & 0x1380);
    }
    if (chance(r, 30))
        mxcsr |= (uint32_t)rnd(r) & 0x3f;
    memcpy(f->fx + 24, &mxcsr, 4);
    for (int i = 0; i < 16; i++)
        vec_value(r, f->fx + 160 + 16 * i);
    for (int i = 0; i < 8; i++) {
        uint64_t m = chance(r, 50) ? random_value(r) : fp64_value(r);
        memcpy(f->fx + 32 + 16 * i, &m, 8);
    }
    if (gen_group != HD_GROUP_X87)
        return;
    /* x87: random precision/rounding control, mostly masked exceptions,
     * TOP, empty registers, condition codes; ES/B consistent with them. */
    uint16_t fcw = (uint16_t)(0x3f | 0x40 | rnd_below(r, 4) << 8 | rnd_below(r, 4) << 10);
    if (chance(r, 10))
        fcw &= (uint16_t)~(rnd(r) & 0x3d);   /* unmask some (IE DE ZE OE UE, rarely PE) */
    uint16_t fsw = (uint16_t)(rnd_below(r, 8) << 11);
    if (chance(r, 30))
        fsw |= (uint16_t)(rnd(r) & 0x3f);
    fsw |= (uint16_t)(rnd(r) & 0x4700);       /* C0-C3 */
    if (fsw & ~fcw & 0x3f)
        fsw |= 0x8080;
    uint8_t valid = 0;
    for (int i = 0; i < 8; i++)
        if (!chance(r, 30))
            valid |= (uint8_t)(1u << i);
    memcpy(f->fx, &fcw, 2);
    memcpy(f->fx + 2, &fsw, 2);
    f->fx[4] = valid;
    for (int i = 0; i < 8; i++)
        fp80_value(r, f->fx + 32 + 16 * i);
}

static int pick_pointer(Gen *g)
{
    int list[16], n = 0;
    for (int i = 0; i < nregs(g); i++)
        if ((g->ptrs >> i) & 1)
            list[n++] = i;
    return list[rnd_below(&g->r, (uint32_t)n)];
}

static const uint8_t seg_prefixes[4] = { 0x26, 0x2e, 0x36, 0x3e };

/* Builds one candidate encoding of `row` into buf; returns its byte count
 * before decoding (the decoder decides the real length). */
static size_t build_candidate(Gen *g, const GenRow *row, uint8_t *buf)
{
    uint8_t pfx[8];
    size_t np = 0, n = 0;
    uint32_t sel = row->sel;
    bool vex = SEL_HAS(sel, X86_KEY_VEX);     /* BMI rows: VEX.pp, not prefixes */
    bool need_pfx = SEL_HAS(sel, X86_KEY_PFX) && !vex;
    unsigned pclass = SEL_VAL(sel, X86_KEY_PFX);
    bool is_jump = row->mnem == X86_JCC || row->mnem == X86_JMP ||
                   row->mnem == X86_JCXZ || row->mnem == X86_LOOP ||
                   row->mnem == X86_LOOPE || row->mnem == X86_LOOPNE;

    if (need_pfx && pclass == 0x80)
        pfx[np++] = 0x66;
    else if (!vex && !is_jump && (!need_pfx || pclass != 0) && chance(&g->r, 20))
        pfx[np++] = 0x66;
    if (need_pfx && pclass == 0x100)
        pfx[np++] = 0xf3;
    if (need_pfx && pclass == 0x180)
        pfx[np++] = 0xf2;
    if ((row->flags & X86_F_REP) && chance(&g->r, 50))
        pfx[np++] = 0xf3;
    if ((row->flags & X86_F_REPNE) && chance(&g->r, 50))
        pfx[np++] = chance(&g->r, 50) ? 0xf3 : 0xf2;
    if ((row->flags & X86_F_LOCK) && chance(&g->r, g->want_ud ? 50 : 25))
        pfx[np++] = 0xf0;
    if (chance(&g->r, 10))
        pfx[np++] = seg_prefixes[rnd_below(&g->r, 4)];
    bool counter_op = row->mnem == X86_JCXZ || row->mnem == X86_LOOP ||
                      row->mnem == X86_LOOPE || row->mnem == X86_LOOPNE;
    if ((g->mode == 64 || counter_op) && chance(&g->r, 8))
        pfx[np++] = 0x67;
    /* Legacy prefixes in random order; a mandatory F2/F3 stays last. */
    for (size_t i = 0; i + 1 < np; i++) {
        size_t j = i + rnd_below(&g->r, (uint32_t)(np - i));
        uint8_t t = pfx[i];
        pfx[i] = pfx[j];
        pfx[j] = t;
    }
    if (need_pfx && (pclass == 0x100 || pclass == 0x180))
        for (size_t i = 0; i < np; i++)
            if (pfx[i] == (pclass == 0x100 ? 0xf3 : 0xf2)) {
                pfx[i] = pfx[np - 1];
                pfx[np - 1] = pclass == 0x100 ? 0xf3 : 0xf2;
            }
    memcpy(buf, pfx, np);
    n = np;

    /* ModRM: register or memory form as the selector allows. */
    bool memform;
    if (SEL_HAS(sel, X86_KEY_MOD3))
        memform = SEL_VAL(sel, X86_KEY_MOD3) == 0;
    else
        memform = chance(&g->r, 55);
    unsigned regf = SEL_HAS(sel, X86_KEY_REG) ? SEL_VAL(sel, X86_KEY_REG) >> 3 : rnd_below(&g->r, 8);
    int base = memform ? pick_pointer(g) : -1;
    unsigned rmf = SEL_HAS(sel, X86_KEY_RM) ? SEL_VAL(sel, X86_KEY_RM) : rnd_below(&g->r, 8);

    if (vex) {
        /* 3-byte VEX (C4): inverted R X B, map; W, inverted vvvv, L, pp.
         * Outside 64-bit mode R and X must be 1 (else LES) and vvvv names
         * one of eight registers.  L = 1 (#UD) now and then. */
        static const uint8_t pp[4] = { 0, 1, 3, 2 };   /* none 66 F3 F2 */
        bool rex_r = g->mode == 64 && chance(&g->r, 40);
        bool rex_x = g->mode == 64 && chance(&g->r, 20);
        bool rex_b = g->mode == 64 && (memform ? base >= 8 : chance(&g->r, 40));
        unsigned vvvv = rnd_below(&g->r, g->mode == 64 ? 16 : 8);
        if (row->mnem == X86_RORX && !(g->want_ud && chance(&g->r, 30)))
            vvvv = 0;
        bool l1 = chance(&g->r, g->want_ud ? 30 : 1);
        buf[n++] = 0xc4;
        buf[n++] = (uint8_t)((rex_r ? 0 : 0x80) | (rex_x ? 0 : 0x40) | (rex_b ? 0 : 0x20) |
                             (row->map == X86_MAP_0F38 ? 2 : 3));
        buf[n++] = (uint8_t)((chance(&g->r, 50) ? 0x80 : 0) | (~vvvv & 15) << 3 |
                             (l1 ? 4 : 0) | pp[pclass >> 7]);
    } else if (g->mode == 64) {
        bool want_w = SEL_HAS(sel, X86_KEY_W) ? SEL_VAL(sel, X86_KEY_W) != 0 : chance(&g->r, 50);
        bool rex_b = memform ? base >= 8
                   : SEL_HAS(sel, X86_KEY_B) ? SEL_VAL(sel, X86_KEY_B) != 0 : chance(&g->r, 40);
        bool rex_r = chance(&g->r, 40);
        if (want_w || rex_b || rex_r || chance(&g->r, 30))
            buf[n++] = (uint8_t)(0x40 | (want_w ? 8 : 0) | (rex_r ? 4 : 0) |
                                 (rex_b ? 1 : 0));
    }
    if (row->map != X86_MAP_1B && !vex)
        buf[n++] = 0x0f;
    if (row->map == X86_MAP_0F38 && !vex)
        buf[n++] = 0x38;
    if (row->map == X86_MAP_0F3A && !vex)
        buf[n++] = 0x3a;
    buf[n++] = row->opcode;
    if (!memform) {
        buf[n++] = (uint8_t)(0xc0 | regf << 3 | rmf);
    } else {
        unsigned b = (unsigned)base & 7;
        unsigned mod = b == 5 ? 1 + rnd_below(&g->r, 2) : rnd_below(&g->r, 3);
        buf[n++] = (uint8_t)(mod << 6 | regf << 3 | (b == 4 ? 4 : b));
        if (b == 4)
            buf[n++] = (uint8_t)(rnd_below(&g->r, 4) << 6 | 4 << 3 | 4);
        int32_t disp = (int32_t)rnd_below(&g->r, 256) - 128;
        if (gen_group != HD_GROUP_INT && chance(&g->r, 92))
            disp &= ~15;
        if (mod == 1) {
            buf[n++] = (uint8_t)disp;
        } else if (mod == 2) {
            memcpy(buf + n, &disp, 4);
            n += 4;
        }
    }
    /* Immediates: random bytes, small values more often. */
    for (int i = 0; i < 8; i++)
        buf[n++] = chance(&g->r, 30) ? (uint8_t)rnd_below(&g->r, 4) : (uint8_t)rnd(&g->r);
    return n;
}

/* Seeds of curated #UD encodings (besides LOCK misuse and 64-bit-invalid
 * rows, which come from the table). */
static size_t ud_candidate(Gen *g, uint8_t *buf)
{
    static const uint8_t forms[][4] = {
        { 2, 0x0f, 0x0b },               /* UD2 */
        { 3, 0x0f, 0xb9, 0xc0 },         /* UD1 eax, eax */
        { 3, 0x8c, 0xf0 },               /* MOV eax, <sreg 6> */
        { 3, 0x0f, 0x0b },               /* UD2 again (most common use) */
    };
    const uint8_t *f = forms[rnd_below(&g->r, 4)];
    memcpy(buf, f + 1, f[0]);
    return f[0];
}

/* True when an instruction always ends the sequence (it raises an
 * exception whatever the state). */
static bool always_traps(const X86Insn *in)
{
    switch (in->mnem) {
    case X86_INT3: case X86_INT: case X86_UD2: case X86_UD0: case X86_UD1:
    case X86_HLT: case X86_CLI: case X86_STI: case X86_IN: case X86_OUT:
        return true;
    default:
        return false;
    }
}

/* Checks a decoded candidate against the sequence's rules and, when it
 * passes, applies its effects to the generator state. */
static bool accept(Gen *g, X86Insn *in, uint8_t *bytes, int idx)
{
    uint32_t mn = in->mnem;
    bool is_jump = mn == X86_JCC || mn == X86_JMP || mn == X86_JCXZ ||
                   mn == X86_LOOP || mn == X86_LOOPE || mn == X86_LOOPNE;
    if (!gen_mnem_wanted((int)mn))
        return false;
    if (in->feature != X86_FEAT_NONE && !host_feat[in->feature])
        return false;
    /* Memory operands: base + disp through a pointer, or a rewritten moffs. */
    if (in->mem.present) {
        if (in->seg_override == X86_SEG_FS || in->seg_override == X86_SEG_GS)
            return false;
        if (in->mem.moffs) {
            uint64_t a = data_pointer(&g->r);
            memcpy(bytes + in->length - in->addrsize, &a, in->addrsize);
        } else if (in->mem.base == X86_GPR_NONE || in->mem.index != X86_GPR_NONE ||
                   in->mem.rip_relative || !((g->ptrs >> in->mem.base) & 1)) {
            return false;
        }
        if (g->mode == 32 && in->addrsize == 2)
            return false;
        /* A displacement beyond disp8 range comes from bytes the decoder
         * read differently than the generator wrote them; far from the
         * pointer it can reach the host kernel's half, which the host maps
         * (#PF with P=1) and the guest does not. */
        if (!in->mem.moffs && (in->mem.disp < -256 || in->mem.disp > 256))
            return false;
        /* BT* with a register bit offset reaches +-2^63 bits away. */
        if ((mn == X86_BT || mn == X86_BTS || mn == X86_BTR || mn == X86_BTC) &&
            in->op[1].kind == X86_OPK_REG)
            return false;
    }
    for (int k = 0; k < in->nops; k++) {
        const X86Operand *o = &in->op[k];
        if (o->kind == X86_OPK_STR) {
            if (!g->strings || (g->mode == 32 && in->addrsize == 2))
                return false;
            if (in->seg_override == X86_SEG_FS || in->seg_override == X86_SEG_GS)
                return false;
        }
        if (o->kind == X86_OPK_SEGREG) {
            /* PUSH CS/SS/DS/ES (same selectors host and guest), MOV r/m,
             * Sreg; never loads (POP sreg, MOV sreg), never FS/GS (TLS). */
            if (mn == X86_POP || (mn == X86_MOV && k == 0) || o->reg > X86_SEG_DS)
                return false;
        }
    }
    if (mn == X86_XLAT && !((g->ptrs >> 3) & 1))
        return false;
    if (mn == X86_XLAT && (in->seg_override == X86_SEG_FS || in->seg_override == X86_SEG_GS))
        return false;             /* implicit DS:[rBX+AL]; the host's FS is its TLS */
    if (gen_group == HD_GROUP_SSE || gen_group == HD_GROUP_MMX) {
        bool mmx = mn == X86_EMMS;
        for (int k = 0; k < in->nops; k++)
            mmx |= in->op[k].kind == X86_OPK_MMX;
        if (mmx != (gen_group == HD_GROUP_MMX))
            return false;
        if ((mn == X86_MASKMOVQ || mn == X86_MASKMOVDQU) &&
            (!((g->ptrs >> 7) & 1) || in->seg_override == X86_SEG_FS ||
             in->seg_override == X86_SEG_GS || (g->mode == 32 && in->addrsize == 2)))
            return false;
    }
    if ((in->flags & X86_F_PRIV) && mn != X86_HLT)
        return false;             /* MOV CRn/DRn: #UD or #GP by register number */
    if (always_traps(in) && chance(&g->r, 75))
        return false;             /* keep most sequences running to the end */
    if ((mn == X86_JCC || mn == X86_JMP) && in->op[0].kind != X86_OPK_REL)
        return false;             /* JMP r/m */
    if (is_jump && (in->prefixes & X86_PFX_OPSIZE))
        return false;             /* 16-bit rIP truncation; AMD vs Intel in 64-bit */
    if (is_jump && (in->prefixes & (X86_PFX_REP | X86_PFX_REPNE)))
        return false;             /* reserved (SDM 2.1.1); the AMD host runs F2 LOOPE
                                     as LOOPNE and F3 LOOPNE as LOOPE; Intel: BND */
    if (mn == X86_BSWAP && in->opsize == 2)
        return false;             /* SDM: 16-bit BSWAP result undefined */
    if (mn == X86_NOP && !(in->map == X86_MAP_1B || in->opcode == 0x1f))
        return false;             /* hint-NOP space: vendor-specific meanings */
    if (mn == X86_INT) {
        unsigned v = (unsigned)in->imm & 0xff;
        if (v == 3 || v == 4 || v == 0x80 || v == 1 || v == 0xf3)
            return false;         /* DPL-3 gates (Linux; 0xF3 ends vx86 runs) */
    }
    if (mn == X86_IN || mn == X86_OUT) {
        if (in->op[0].spec == X86_OPND(DX, w) || in->op[1].spec == X86_OPND(DX, w))
            return false;         /* keep the immediate-port forms */
    }
    /* Pointer registers are never written (rSP may move by push/pop). */
    bool stack_moves;
    uint32_t w = insn_writes(in, &stack_moves);
    if (w & g->ptrs)
        return false;
    if (mn == X86_POP && in->op[0].kind == X86_OPK_REG && in->op[0].reg == 4)
        return false;
    /* Flags. */
    int cl_known = (g->written & B_CX) ? -1 : (int)(g->c->in.gpr[1] & 0xff);
    FlagFx fx;
    if (!flag_fx(in, cl_known, &fx))
        return false;
    if (fx.reads & g->taint)
        return false;
    if (mn == X86_PUSHA && g->taint)
        return false;
    if (g->want_ud && in->mnem != X86_UD2 && in->mnem != X86_UD0 && in->mnem != X86_UD1)
        return false;
    /* Accepted: apply. */
    g->c->undef_before[idx] = g->taint;
    g->taint |= fx.undef;
    if (idx >= g->skip_end)
        g->taint &= ~(fx.defines & ~fx.undef);
    g->written |= w;
    g->jump_target[idx] = -1;
    if (is_jump) {
        int t = idx + 1 + (int)rnd_below(&g->r, (uint32_t)(g->planned - idx));
        g->jump_target[idx] = t;
        g->jump_len[idx] = in->imm_size;
        if (t > g->skip_end)
            g->skip_end = t;
    }
    return true;
}

/* Draws instruction idx; returns 0 normal, 1 if it ends the sequence. */
static int gen_one(Gen *g, int idx)
{
    HDCase *c = g->c;
    uint8_t buf[48];
    for (int attempt = 0; attempt < 4000; attempt++) {
        size_t n;
        if (g->want_ud && chance(&g->r, 50))
            n = ud_candidate(g, buf);
        else
            n = build_candidate(g, rows[rnd_below(&g->r, (uint32_t)nrows)], buf);
        X86Insn in;
        X86DecodeStatus st = x86_decode(buf, n, (X86CpuMode)g->mode, &in);
        if (st == X86_DECODE_UD && g->want_ud) {
            /* Keep a decoder-#UD encoding only in a form every x86 agrees
             * on: LOCK misuse, or an opcode the table marks invalid in
             * 64-bit mode (VEX-space C4/C5 and 0x82 aside). */
            size_t p = 0;
            bool lock = false;
            while (p < n && (buf[p] == 0x66 || buf[p] == 0x67 || buf[p] == 0xf0 ||
                             buf[p] == 0xf2 || buf[p] == 0xf3 ||
                             (buf[p] & 0xe7) == 0x26))
                lock |= buf[p++] == 0xf0;
            bool i64 = g->mode == 64 && p < n &&
                       (buf[p] == 0x06 || buf[p] == 0x07 || buf[p] == 0x27 ||
                        buf[p] == 0x37 || buf[p] == 0x60 || buf[p] == 0xd4 ||
                        buf[p] == 0xd6 || buf[p] == 0xce);
            if (!lock && !i64)
                continue;
            size_t len = (n < 15 ? n : 15);
            if (c->len + len > HD_MAX_CODE - 16)
                return 1;
            /* Length unknown to the decoder; nothing follows it anyway. */
            memcpy(c->code + c->len, buf, len);
            c->insn_off[idx] = (uint8_t)c->len;
            c->insn_mnem[idx] = X86_INVALID;
            c->undef_before[idx] = g->taint;
            g->jump_target[idx] = -1;
            c->len = (uint16_t)(c->len + len);
            return 1;
        }
        if (st != X86_DECODE_OK)
            continue;
        if (c->len + in.length > HD_MAX_CODE - 16)
            continue;
        if (in.mnem == X86_VEX && g->want_ud && !in.mem.present) {
            /* a BMI row with VEX.L = 1 or RORX with vvvv != 1111b: #UD */
            memcpy(c->code + c->len, buf, in.length);
            c->insn_off[idx] = (uint8_t)c->len;
            c->insn_mnem[idx] = X86_INVALID;
            c->undef_before[idx] = g->taint;
            g->jump_target[idx] = -1;
            c->len = (uint16_t)(c->len + in.length);
            return 1;
        }
        if (!accept(g, &in, buf, idx))
            continue;
        memcpy(c->code + c->len, buf, in.length);
        c->insn_off[idx] = (uint8_t)c->len;
        c->insn_mnem[idx] = in.mnem;
        c->len = (uint16_t)(c->len + in.length);
        if (g->want_ud)
            return 1;
        return always_traps(&in) ? 1 : 0;
    }
    /* Nothing fitted (very rare): a NOP keeps the sequence valid. */
    c->insn_off[idx] = (uint8_t)c->len;
    c->insn_mnem[idx] = X86_NOP;
    c->undef_before[idx] = g->taint;
    g->jump_target[idx] = -1;
    c->code[c->len++] = 0x90;
    return 0;
}

static void patch_jumps(Gen *g)
{
    HDCase *c = g->c;
    for (int i = 0; i < c->ninsn; i++) {
        int t = g->jump_target[i];
        if (t < 0)
            continue;
        if (t > c->ninsn)
            t = c->ninsn;
        unsigned end = i + 1 <= c->ninsn ? c->insn_off[i + 1] : c->len;
        int32_t rel = (int32_t)c->insn_off[t] - (int32_t)end;
        unsigned sz = g->jump_len[i];
        if (sz == 1)
            c->code[end - 1] = (uint8_t)rel;
        else
            memcpy(c->code + end - sz, &rel, sz);
    }
}

void hd_gen_case(uint64_t seed, uint64_t index, int mode, HDCase *c)
{
    Gen g;
    memset(&g, 0, sizeof(g));
    memset(c, 0, sizeof(*c));
    c->seed = splitmix64(seed * 0x100000001b3ull ^ splitmix64(index + (uint64_t)mode));
    c->mode = mode;
    c->data_seed = splitmix64(c->seed ^ 0xda7a);
    c->group = gen_group;
    g.r.s = c->seed | 1;
    g.mode = mode;
    g.c = c;
    gen_state(&g);
    g.planned = 1 + (int)rnd_below(&g.r, HD_MAX_INSNS);
    g.want_ud = chance(&g.r, 3);
    if (g.want_ud)
        g.planned = 1 + (int)rnd_below(&g.r, 3);
    int i;
    for (i = 0; i < g.planned; i++) {
        /* A #UD instruction goes last. */
        bool ud_here = g.want_ud && i == g.planned - 1;
        bool saved = g.want_ud;
        g.want_ud = ud_here;
        int end = gen_one(&g, i);
        g.want_ud = saved;
        if (end) {
            i++;
            break;
        }
    }
    c->ninsn = (uint8_t)i;
    c->insn_off[c->ninsn] = (uint8_t)c->len;
    c->undef_before[c->ninsn] = g.taint;
    patch_jumps(&g);
}

void hd_gen_data(const HDCase *c, HDMemory *mem)
{
    Rng r = { c->data_seed | 1 };
    if (c->group != HD_GROUP_INT) {
        for (size_t i = 0; i < HD_PAGE_SIZE; i += 16)
            vec_value(&r, mem->data + i);
        return;
    }
    for (size_t i = 0; i < HD_PAGE_SIZE; i += 8) {
        uint64_t v = rnd(&r);
        if ((v & 7) == 0)
            v = 0;
        else if ((v & 7) == 1)
            v = edge_values[(v >> 8) % (sizeof(edge_values) / sizeof(edge_values[0]))];
        memcpy(mem->data + i, &v, 8);
    }
}

uint32_t hd_undef_at(const HDCase *c, uint64_t rip, int vector)
{
    (void)vector;
    for (int k = 0; k <= c->ninsn; k++)
        if (rip == HD_CODE_ADDR + (uint64_t)c->insn_off[k])
            return c->undef_before[k];
    /* Not on an instruction boundary of the sequence: every flag any
     * instruction could leave undefined. */
    uint32_t all = 0;
    for (int k = 0; k <= c->ninsn; k++)
        all |= c->undef_before[k];
    return all;
}

void hd_describe(const HDCase *c, char *out, size_t len)
{
    size_t o = 0;
    out[0] = 0;
    for (int k = 0; k < c->ninsn && o + 24 < len; k++)
        o += (size_t)snprintf(out + o, len - o, "%s%s", k ? " " : "",
                              x86_mnem_name[c->insn_mnem[k]]);
    if (o + 4 < len)
        o += (size_t)snprintf(out + o, len - o, " |");
    for (int i = 0; i < c->len && o + 4 < len; i++)
        o += (size_t)snprintf(out + o, len - o, " %02x", c->code[i]);
}

size_t hd_native_epilogue(int mode, uint8_t *out)
{
    uint32_t a;
    if (mode == 64) {
        /* jmp qword [HD_CTRL_ADDR + HDC_EXIT64] */
        out[0] = 0xff, out[1] = 0x24, out[2] = 0x25;
        a = HD_CTRL_ADDR + HDC_EXIT64;
        memcpy(out + 3, &a, 4);
        return 7;
    }
    /* jmp far dword [HD_CTRL_ADDR + HDC_FAR64] (to 0x33:bounce stub) */
    out[0] = 0xff, out[1] = 0x2d;
    a = HD_CTRL_ADDR + HDC_FAR64;
    memcpy(out + 2, &a, 4);
    return 6;
}

void hd_case_from_bytes(HDCase *c, int mode, const uint8_t *code, size_t len,
                        const HDState *in)
{
    memset(c, 0, sizeof(*c));
    c->mode = mode;
    hd_fpu_default(&c->fin);
    memcpy(c->code, code, len);
    c->len = (uint16_t)len;
    c->in = *in;
    c->in.rip = HD_CODE_ADDR;
    size_t off = 0;
    int k = 0;
    while (off < len && k < HD_MAX_INSNS) {
        X86Insn insn;
        c->insn_off[k] = (uint8_t)off;
        if (x86_decode(code + off, len - off, (X86CpuMode)mode, &insn) != X86_DECODE_OK) {
            c->insn_mnem[k++] = X86_INVALID;
            off = len;
            break;
        }
        c->insn_mnem[k++] = insn.mnem;
        off += insn.length;
    }
    c->ninsn = (uint8_t)k;
    c->insn_off[k] = (uint8_t)len;
}
