/*
 * decodefuzz: differential test of the x86 decoder (cpu/decode.c) against
 * capstone.  It generates seeded random but realistic instructions (prefix
 * sequences, REX, every opcode map, rows taken from cpu/opcodes.def with a
 * ModRM that matches their selector, random ModRM/SIB/displacements, VEX/
 * EVEX/XOP) and compares, for each, whether the bytes are valid and the
 * instruction length.  Known capstone 4.0.2 departures from the Intel SDM
 * are listed in exception_category() below, each with its SDM reference,
 * and are counted and printed by category, never silently dropped.
 *
 *   tests/cpu/decodefuzz --mode 64 --seed 1 --count 2000000 [--show N]
 *
 * Exit status is non-zero on any disagreement.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/opcodes.h"

/* ---- the table rows: the decoder's own (cpu/opcodes.h) ---- */
typedef X86OpRow FuzzRow;

/* ---- random numbers (xorshift64*) ---- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

#define BUFLEN 24

/* Builds one test instruction; returns the row used or -1. */
static int gen_insn(uint8_t *b, int mode)
{
    static const uint8_t legacy[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26,
                                      0x2e, 0x36, 0x3e, 0x64, 0x65 };
    unsigned n = 0;
    int row = -1;
    for (unsigned i = 0; i < BUFLEN; i++)
        b[i] = (uint8_t)rnd();
    if (rndn(4) == 0)
        return -1;                              /* uniform random bytes */
    /* prefixes */
    unsigned np = rndn(3) ? rndn(3) : rndn(15);
    for (unsigned i = 0; i < np; i++) {
        if (mode == 64 && rndn(5) == 0)
            b[n++] = (uint8_t)(0x40 + rndn(16));
        else
            b[n++] = legacy[rndn(sizeof(legacy))];
    }
    if (mode == 64 && rndn(3) == 0)
        b[n++] = (uint8_t)(0x40 + rndn(16));
    unsigned kind = rndn(20);
    if (kind < 2) {                             /* VEX / EVEX / XOP */
        static const uint8_t vx[] = { 0xc4, 0xc5, 0x62, 0x8f };
        b[n++] = vx[rndn(4)];
        if (b[n - 1] == 0xc4 || b[n - 1] == 0x8f) {
            b[n] = (uint8_t)((rnd() & 0xe0) | (b[n - 1] == 0xc4 ? 1 + rndn(3) : 8 + rndn(3)));
            if (mode != 64 && rndn(4))
                b[n] |= 0xc0;
        } else if (b[n - 1] == 0x62) {
            b[n] = (uint8_t)((rnd() & 0xf0) | (rndn(8) ? 1 + rndn(3) : rndn(16)));
            if (mode != 64 && rndn(4))
                b[n] |= 0xc0;
            b[n + 1] |= rndn(8) ? 4 : 0;
        } else if (mode != 64 && rndn(4)) {
            b[n] |= 0xc0;
        }
        return -1;
    }
    if (kind < 12) {                            /* a table row */
        row = (int)rndn((unsigned)x86_op_nrows);
        const FuzzRow *r = &x86_op_rows[row];
        uint16_t mask = r->sel >> 16, val = r->sel & 0xffff;
        if (mask & X86_KEY_VEX) {
            /* 3-byte VEX: R X B inverted (all 1 outside 64-bit mode, else
             * LES), map, W, vvvv, L = 0 mostly, pp = the row's class */
            static const uint8_t pp[4] = { 0, 1, 3, 2 };  /* 66 F3 F2 */
            b[n++] = 0xc4;
            b[n++] = (uint8_t)((mode == 64 ? rnd() & 0xe0 : 0xe0) |
                               (r->map == X86_MAP_0F38 ? 2 : 3));
            b[n++] = (uint8_t)((rnd() & 0xf8) | (rndn(8) ? 0 : 4) |
                               pp[(val & X86_KEY_PFX) >> 7]);
            b[n++] = r->opcode;
            uint8_t modrm = (uint8_t)rnd();
            if (mask & X86_KEY_REG)
                modrm = (uint8_t)((modrm & ~0x38) | (val & 0x38));
            b[n++] = modrm;
            return row;
        }
        if ((mask & X86_KEY_PFX) && rndn(8)) {
            unsigned cls = (val & X86_KEY_PFX) >> 7;
            static const uint8_t pfx[4] = { 0, 0x66, 0xf3, 0xf2 };
            if (cls) {
                /* insert before any trailing REX so the REX stays effective */
                unsigned at = n;
                while (at > 0 && mode == 64 && (b[at - 1] & 0xf0) == 0x40)
                    at--;
                memmove(b + at + 1, b + at, n - at);
                b[at] = pfx[cls];
                n++;
            }
        }
        if (r->map != X86_MAP_1B)
            b[n++] = 0x0f;
        if (r->map == X86_MAP_0F38)
            b[n++] = 0x38;
        if (r->map == X86_MAP_0F3A)
            b[n++] = 0x3a;
        b[n++] = r->opcode;
        uint8_t modrm = (uint8_t)rnd();
        if (mask & X86_KEY_MOD3)
            modrm = (uint8_t)((val & X86_KEY_MOD3) ? (modrm | 0xc0) : ((modrm & 0x3f) | (rndn(3) << 6)));
        if (mask & X86_KEY_REG)
            modrm = (uint8_t)((modrm & ~0x38) | (val & 0x38));
        if (mask & X86_KEY_RM)
            modrm = (uint8_t)((modrm & ~7) | (val & 7));
        b[n++] = modrm;
        return row;
    }
    if (kind < 17) {
        b[n++] = (uint8_t)rnd();                /* one-byte map */
    } else if (kind < 19) {
        b[n++] = 0x0f;
        b[n++] = (uint8_t)rnd();
    } else {
        b[n++] = 0x0f;
        b[n++] = rndn(2) ? 0x38 : 0x3a;
        b[n++] = (uint8_t)rnd();
    }
    return -1;
}

/* ---- known capstone 4.0.2 departures from the SDM ---- */
typedef struct Category {
    const char *name;
    const char *why;
    unsigned long count;
} Category;

/*
 * Each category: a departure of capstone 4.0.2 (Debian 12) from the Intel
 * SDM, or a deliberate decoder decision that capstone does not share.
 */
enum {
    CAT_LOCK, CAT_VEX, CAT_CS16_SSE, CAT_SSE_PFX_ORDER, CAT_BRANCH66,
    CAT_UD01, CAT_AMD, CAT_HINTNOP, CAT_MULTI_REX, CAT_MOVCS, CAT_SREG_REX,
    CAT_NEWER, CAT_VEX_PFX, CAT_O64, CAT_REXW_NP, CAT_OPSIZE_REP,
    CAT_EVEX_RC, CAT_REXW_BRANCH, CAT_EVEX_A32, CAT_COUNT
};
static Category cats[CAT_COUNT] = {
    [CAT_LOCK] = { "lock", "capstone accepts LOCK on any instruction; SDM Vol 2 "
        "LOCK: #UD unless the instruction is ADD..XCHG/CMPXCHG/BTx/INC/DEC/NEG/NOT "
        "with a memory destination", 0 },
    [CAT_VEX] = { "vex-validity", "we measure VEX/EVEX/XOP encodings without a "
        "per-opcode table (all are #UD in the translator); capstone knows which "
        "VEX opcodes exist", 0 },
    [CAT_CS16_SSE] = { "cs16-sse-prefix", "capstone 4 in 16-bit mode ignores the "
        "66/F2/F3 mandatory prefixes (F3 0F 58 as ADDPS, 66 0F D2 as MMX); SDM "
        "Vol 2 2.1.2 / Appendix A.3: mandatory prefixes select the instruction "
        "in every mode", 0 },
    [CAT_SSE_PFX_ORDER] = { "sse-prefix-order", "capstone honours a 66/F2/F3 "
        "mandatory prefix only when it is the last legacy prefix (and lets a 66 "
        "after F2/F3 win); SDM Vol 2 2.1.1: prefixes of groups 1-4 may come in "
        "any order; like Intel XED we take the last F2/F3, else 66", 0 },
    [CAT_BRANCH66] = { "branch66-64", "capstone gives 66-prefixed near branches "
        "a 16-bit displacement in 64-bit mode (AMD); SDM Vol 2 JMP/Jcc/CALL: "
        "operand size is forced to 64 bits in 64-bit mode, displacement rel32", 0 },
    [CAT_UD01] = { "ud0-ud1", "capstone decodes UD0 (0F FF) and UD1 (0F B9) "
        "without ModRM or not at all; SDM Vol 2 UD: UD0 0F FF /r, UD1 0F B9 /r", 0 },
    [CAT_AMD] = { "amd-via-only", "capstone decodes AMD/VIA-only encodings "
        "(3DNow! 0F 0E/0F 0F, SVM 0F 01 D8-DF, SSE4a 0F 78/79 (also taken "
        "for REX.W 0F 78 VMREAD) and F2/F3 0F 2B, "
        "SYSCALL/SYSRET outside 64-bit mode, VIA PadLock 0F A6/A7, XOP lengths: "
        "capstone sizes XOP map-A immediates by operand size in 16-bit mode, "
        "AMD APM: imm32); we model an "
        "Intel CPU, SDM opcode map: #UD", 0 },
    [CAT_HINTNOP] = { "hint-nop", "capstone rejects many 0F 18-1F register forms; "
        "SDM Vol 2 Table A-3: 0F 18-1F are (reserved-)NOP Ev for every ModRM", 0 },
    [CAT_MULTI_REX] = { "multi-rex", "capstone rejects some instructions with "
        "several REX prefixes; SDM Vol 2 2.2.1: a REX prefix not immediately "
        "before the opcode is ignored (only the last one counts)", 0 },
    [CAT_MOVCS] = { "mov-cs", "capstone accepts MOV CS, r/m (8E /1); SDM Vol 2 "
        "MOV: #UD if an attempt is made to load the CS register", 0 },
    [CAT_SREG_REX] = { "sreg-rex", "capstone rejects MOV to/from Sreg with REX.R "
        "or REX.W; SDM Vol 2 Table 2-4: REX.R is ignored when ModRM.reg is not a "
        "GPR/SSE/CR/DR, and MOV lists REX.W + 8C/8E forms", 0 },
    [CAT_NEWER] = { "newer-than-capstone", "instructions in the current SDM "
        "that capstone 4.0.2 does not know: RDPKRU/WRPKRU (0F 01 EE/EF)", 0 },
    [CAT_VEX_PFX] = { "vex-legacy-prefix", "capstone accepts 66/F2/F3/REX/LOCK "
        "before VEX/EVEX; SDM Vol 2 2.3.2: any VEX-encoded instruction with a "
        "66, F2, F3, REX or LOCK prefix preceding VEX will #UD", 0 },
    [CAT_O64] = { "o64-outside-64", "capstone decodes SWAPGS outside 64-bit mode; "
        "SDM Vol 2 SWAPGS: #UD if not in 64-bit mode", 0 },
    [CAT_REXW_NP] = { "rexw-no-66", "with REX.W capstone decodes 66-only SSE "
        "instructions (0F E6, 0F 38 xx, INVEPT ...) without their 66 prefix; SDM: "
        "no unprefixed form exists, #UD", 0 },
    [CAT_OPSIZE_REP] = { "opsize-before-rep", "capstone drops a 66 operand-size "
        "prefix that is followed by F2/F3 (66 F2 E8 as CALL rel32); SDM Vol 2 "
        "2.1.1: prefix order is free, 66 still selects 16-bit operands", 0 },
    [CAT_EVEX_RC] = { "evex-rounding", "capstone counts one byte too many for "
        "some EVEX register forms (it prints embedded rounding {rn-sae}); SDM Vol 2 "
        "2.6: the EVEX prefix is 4 bytes, rounding lives in EVEX.L'L/b", 0 },
    [CAT_REXW_BRANCH] = { "rexw-branch", "capstone mis-sizes REX.W near CALL/"
        "JMP rel32 (as rel16) and RET imm16 (as imm32); SDM Vol 2 CALL/JMP/RET: "
        "REX.W changes nothing, rel32 and imm16", 0 },
    [CAT_EVEX_A32] = { "evex-addr32", "capstone mis-decodes EVEX memory operands "
        "with a 67 prefix in 64-bit mode (applies EVEX.B to mod=00 rm=101, "
        "wrong SIB); SDM Vol 2 2.2.1.6: mod=00 rm=101 is RIP/EIP-relative "
        "whatever REX.B/EVEX.B say", 0 },
};
static const unsigned ncats = CAT_COUNT;

typedef struct PfxInfo {
    unsigned opc;         /* index of the first opcode byte */
    unsigned nrex;        /* REX bytes seen */
    int lastlegacy;       /* position of the last legacy prefix, -1 if none */
    bool lock, has66, has67;
    int last66, lastrep;  /* positions, -1 when absent */
    uint8_t rex;
} PfxInfo;

static PfxInfo scan_prefixes(const uint8_t *b, int mode)
{
    PfxInfo p = { 0, 0, -1, false, false, false, -1, -1, 0 };
    for (unsigned i = 0; i < 15; i++) {
        uint8_t c = b[i];
        if (mode == 64 && (c & 0xf0) == 0x40) {
            p.rex = c;
            p.nrex++;
            continue;
        }
        p.lastlegacy = (int)i;
        if (c == 0x66) {
            p.has66 = true;
            p.last66 = (int)i;
        } else if (c == 0xf2 || c == 0xf3) {
            p.lastrep = (int)i;
        } else if (c == 0xf0) {
            p.lock = true;
        } else if (c == 0x67) {
            p.has67 = true;
        } else if (c != 0x67 && c != 0x26 && c != 0x2e && c != 0x36 &&
                   c != 0x3e && c != 0x64 && c != 0x65) {
            p.opc = i;
            p.lastlegacy = i ? p.lastlegacy : -1;
            for (int k = (int)i - 1; k >= 0; k--) {
                if (mode == 64 && (b[k] & 0xf0) == 0x40)
                    continue;
                p.lastlegacy = k;
                break;
            }
            return p;
        }
        p.rex = 0;
    }
    p.opc = 15;
    return p;
}

/* Our decode of b with every LOCK prefix replaced by a DS override. */
static X86DecodeStatus decode_without_lock(const uint8_t *b, int mode,
                                           const PfxInfo *p, X86Insn *out)
{
    uint8_t c[BUFLEN];
    memcpy(c, b, BUFLEN);
    for (unsigned i = 0; i < p->opc && i < BUFLEN; i++)
        if (c[i] == 0xf0)
            c[i] = 0x3e;
    return x86_decode(c, BUFLEN, (X86CpuMode)mode, out);
}

static bool is_amd_only(const uint8_t *o, const PfxInfo *p)
{
    if (o[0] != 0x0f)
        return false;
    if (o[1] == 0x0e || o[1] == 0x0f)
        return true;                                   /* 3DNow! */
    if (o[1] == 0x01 && (o[2] & 0xf8) == 0xd8)
        return true;                                   /* SVM */
    if ((o[1] == 0x78 || o[1] == 0x79) && (p->has66 || p->lastrep >= 0 ||
                                           (p->rex & 8)))
        return true;                                   /* SSE4a EXTRQ/INSERTQ */
    if (o[1] == 0x2b && p->lastrep >= 0)
        return true;                                   /* SSE4a MOVNTSS/SD */
    if (o[1] == 0xa6 || o[1] == 0xa7)
        return true;                                   /* VIA PadLock */
    return false;
}

/*
 * Returns the exception category for a disagreement, or -1 when it is a
 * real disagreement.  cs_len is capstone's length, 0 when it rejects.
 */
static int exception_category(const uint8_t *b, int mode, const X86Insn *in,
                              X86DecodeStatus st, unsigned cs_len);
static int exception_category(const uint8_t *b, int mode, const X86Insn *in,
                              X86DecodeStatus st, unsigned cs_len)
{
    PfxInfo p = scan_prefixes(b, mode);
    if (p.opc >= 15)
        return -1;
    const uint8_t *o = b + p.opc;
    bool ok = st == X86_DECODE_OK;
    if (!ok && p.lock && cs_len) {
        X86Insn nl;
        X86DecodeStatus nst = decode_without_lock(b, mode, &p, &nl);
        /* without LOCK we agree, or differ only for another listed reason */
        if (nst == X86_DECODE_OK && nl.length == cs_len)
            return CAT_LOCK;
        if (nst != X86_DECODE_UD) {
            uint8_t c[BUFLEN];
            memcpy(c, b, BUFLEN);
            for (unsigned i = 0; i < p.opc; i++)
                if (c[i] == 0xf0)
                    c[i] = 0x3e;
            if (exception_category(c, mode, &nl, nst, cs_len) >= 0)
                return CAT_LOCK;
        }
    }
    if (ok && in->mnem == X86_EVEX && in->mod == 3 && cs_len == in->length + 1u)
        return CAT_EVEX_RC;
    if (ok && in->mnem == X86_XOP && cs_len)
        return CAT_AMD;
    if (ok && in->mnem == X86_EVEX && mode == 64 && p.has67)
        return CAT_EVEX_A32;
    if (mode == 64 && (p.rex & 8) && (ok || st == X86_DECODE_TOO_LONG) &&
        (o[0] == 0xe8 || o[0] == 0xe9 || o[0] == 0xc2 || o[0] == 0xca))
        return CAT_REXW_BRANCH;
    if (ok && (in->mnem == X86_VEX || in->mnem == X86_EVEX || in->mnem == X86_XOP)
        && !cs_len)
        return CAT_VEX;
    if ((o[0] == 0xc4 || o[0] == 0xc5 || o[0] == 0x62 || o[0] == 0x8f) && !ok &&
        cs_len && (p.has66 || p.lastrep >= 0 || p.lock || p.rex))
        return CAT_VEX_PFX;
    if (mode != 64 && o[0] == 0x0f && o[1] == 0x01 && o[2] == 0xf8 && !ok && cs_len)
        return CAT_O64;
    if (mode == 64 && (p.rex & 8) && !p.has66 && p.lastrep < 0 && o[0] == 0x0f &&
        !ok && cs_len)
        return CAT_REXW_NP;
    if (o[0] != 0x0f && p.has66 && p.lastrep > p.last66 &&
        (!cs_len || cs_len != in->length))
        return CAT_OPSIZE_REP;
    if (is_amd_only(o, &p) || (mode != 64 && o[0] == 0x0f &&
                               (o[1] == 0x05 || o[1] == 0x07) && !ok && cs_len))
        return CAT_AMD;          /* incl. SYSCALL/SYSRET outside 64-bit mode */
    if (o[0] == 0x0f && o[1] == 0x01 && (o[2] == 0xee || o[2] == 0xef) && ok &&
        !cs_len)
        return CAT_NEWER;
    if (o[0] == 0x0f && (o[1] == 0xff || o[1] == 0xb9))
        return CAT_UD01;
    if (o[0] == 0x0f && o[1] >= 0x18 && o[1] <= 0x1f && ok && !cs_len)
        return CAT_HINTNOP;
    if (o[0] == 0x8e && ((o[1] >> 3) & 7) == 1 && !ok && cs_len)
        return CAT_MOVCS;
    bool jz = o[0] == 0xe8 || o[0] == 0xe9 || (o[0] == 0x0f && (o[1] & 0xf0) == 0x80);
    if (mode == 64 && p.has66 && jz && cs_len &&
        ((ok && cs_len + 2 == in->length) ||
         (st == X86_DECODE_TOO_LONG && cs_len + 2 > 15)))
        return CAT_BRANCH66;
    if (o[0] == 0x0f && (p.has66 || p.lastrep >= 0)) {
        if (mode == 16)
            return CAT_CS16_SSE;
        uint8_t decisive = p.lastrep >= 0 ? b[p.lastrep] : 0x66;
        if (p.lastlegacy < 0 || b[p.lastlegacy] != decisive ||
            (p.lastrep >= 0 && p.last66 > p.lastrep))
            return CAT_SSE_PFX_ORDER;
        if (p.has66 && p.lastrep >= 0)
            return CAT_SSE_PFX_ORDER;     /* capstone: the last of 66/F2/F3 */
    }
    if (mode == 64 && p.nrex > 1 && ok && !cs_len)
        return CAT_MULTI_REX;
    if (mode == 64 && (o[0] == 0x8c || o[0] == 0x8e) && (p.rex & 0xc) && ok &&
        !cs_len)
        return CAT_SREG_REX;
    return -1;
}

static void hex(const uint8_t *b, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02x ", b[i]);
}

int main(int argc, char **argv)
{
    unsigned long count = 100000, seed = 1;
    int mode = 64;
    unsigned long show = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--show") && i + 1 < argc)
            show = strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--mode 16|32|64] [--seed N] [--count N] [--show N]\n",
                    argv[0]);
            return 2;
        }
    }
    if (mode != 16 && mode != 32 && mode != 64) {
        fprintf(stderr, "decodefuzz: --mode must be 16, 32 or 64\n");
        return 2;
    }
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    csh h;
    if (cs_open(CS_ARCH_X86, mode == 16 ? CS_MODE_16 : mode == 32 ? CS_MODE_32
                                                                 : CS_MODE_64, &h)) {
        fprintf(stderr, "decodefuzz: capstone cs_open failed\n");
        return 2;
    }
    cs_insn *ci = cs_malloc(h);
    unsigned long *row_hits = calloc(x86_op_nrows, sizeof(*row_hits));
    if (!row_hits)
        return 2;
    unsigned long agreed = 0, disagreed = 0, excepted = 0, valid = 0;
    for (unsigned long t = 0; t < count; t++) {
        uint8_t b[BUFLEN];
        int row = gen_insn(b, mode);
        X86Insn in;
        X86DecodeStatus st = x86_decode(b, BUFLEN, (X86CpuMode)mode, &in);
        const uint8_t *p = b;
        size_t left = BUFLEN;
        uint64_t addr = 0x1000;
        unsigned cs_len = cs_disasm_iter(h, &p, &left, &addr, ci) ? ci->size : 0;
        bool ok = st == X86_DECODE_OK;
        if (row >= 0 && ok && in.mnem == x86_op_rows[row].mnem && in.map == x86_op_rows[row].map &&
            in.opcode == x86_op_rows[row].opcode)
            row_hits[row]++;
        if (ok)
            valid++;
        if (ok == (cs_len != 0) && (!ok || in.length == cs_len)) {
            agreed++;
            continue;
        }
        int cat = exception_category(b, mode, &in, st, cs_len);
        if (cat >= 0) {
            cats[cat].count++;
            excepted++;
            continue;
        }
        disagreed++;
        if (disagreed <= show) {
            char hx[3 * BUFLEN + 1];
            hex(b, 16, hx);
            printf("DISAGREE mode %d: %s| ours %s len %u (%s)  capstone %s%s%s len %u\n",
                   mode, hx,
                   st == X86_DECODE_OK ? "ok" : st == X86_DECODE_UD ? "UD"
                   : st == X86_DECODE_TOO_LONG ? "too-long" : "need-more",
                   in.length, ok ? x86_mnem_name[in.mnem] : "-",
                   cs_len ? ci->mnemonic : "invalid", cs_len ? " " : "",
                   cs_len ? ci->op_str : "", cs_len);
        }
    }
    unsigned long unhit = 0;
    for (unsigned i = 0; i < x86_op_nrows; i++) {
        if (row_hits[i])
            continue;
        unhit++;
        if (show > 20)
            printf("row never decoded: map %u opcode %02x sel %08x\n",
                   x86_op_rows[i].map, x86_op_rows[i].opcode, (unsigned)x86_op_rows[i].sel);
    }
    printf("decodefuzz mode %d: %lu agreed, %lu disagreed, %lu excepted (", mode,
           agreed, disagreed, excepted);
    bool first = true;
    for (unsigned i = 0; i < ncats; i++) {
        if (!cats[i].count)
            continue;
        printf("%s%s %lu", first ? "" : ", ", cats[i].name, cats[i].count);
        first = false;
    }
    printf("%s); %lu valid; %lu of %zu table rows never decoded\n",
           first ? "none" : "", valid, unhit, (size_t)x86_op_nrows);
    free(row_hits);
    cs_free(ci, 1);
    cs_close(&h);
    return disagreed ? 1 : 0;
}
