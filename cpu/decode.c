/*
 * x86 instruction decoder: prefixes, opcode maps, ModRM/SIB/displacement,
 * immediates and operand resolution, driven by the rows of cpu/opcodes.def.
 *
 * How it works: a constructor sorts the table rows into per-opcode candidate
 * lists (most specific selector first).  x86_decode() reads the prefixes,
 * the opcode (and escape bytes), the ModRM byte when the opcode has one,
 * builds a 12-bit selection key (ModRM rm/reg/mod==3, mandatory prefix class,
 * REX.W, 64-bit mode, REX.B) and takes the first candidate whose
 * (mask, value) selector matches.  The row's operand specs then say which
 * displacement and immediate bytes follow.  VEX, EVEX and XOP instructions
 * are measured only (X86_F_UNIMPL).  See docs/decoder.md.
 */
#include <stdbool.h>
#include <string.h>

#include "cpu/decode.h"

/* ---- the table (cpu/opcodes.h: the row type and the notation) ---- */
#define X86_OPCODES_NOTATION
#include "cpu/opcodes.h"
const X86OpRow x86_op_rows[] = {
#include "cpu/opcodes.def"
};
const size_t x86_op_nrows = sizeof(x86_op_rows) / sizeof(x86_op_rows[0]);
#undef OP
#define VEXIMM(map_, opc) { X86_MAP_##map_, opc },
static const uint8_t x86_vex_imm[][2] = {
#include "cpu/opcodes.def"
};
#undef VEXIMM
#undef X86_OPCODES_NOTATION
#include "cpu/opcodes.h"

#define MNEM(name, ...) #name,
const char *const x86_mnem_name[X86_MNEM_COUNT] = {
#include "cpu/opcodes.def"
};
#undef MNEM

/* ---- index built once from the table ---- */
#define NROWS (sizeof(x86_op_rows) / sizeof(x86_op_rows[0]))
static uint16_t x86_cand[NROWS];                   /* row numbers */
static uint16_t x86_first[X86_MAP_COUNT * 256];
static uint8_t x86_count[X86_MAP_COUNT * 256];
static uint8_t x86_has_modrm[X86_MAP_COUNT * 256];
static uint8_t x86_vex_has_imm[X86_MAP_COUNT * 256];
static uint8_t x86_has_legacy[X86_MAP_COUNT * 256];  /* a non-VX row exists */

static bool row_is_vex(const X86OpRow *r)
{
    return X86_SEL_MASK(r->sel) & X86_KEY_VEX;
}

static bool spec_uses_modrm(uint16_t spec)
{
    switch (X86_OPND_AM(spec)) {
    case X86_AM_C: case X86_AM_D: case X86_AM_E: case X86_AM_G:
    case X86_AM_M: case X86_AM_N: case X86_AM_P: case X86_AM_Q:
    case X86_AM_R: case X86_AM_S: case X86_AM_U: case X86_AM_V:
    case X86_AM_W: case X86_AM_STI:
        return true;
    default:
        return false;
    }
}

static bool row_uses_modrm(const X86OpRow *r)
{
    if (X86_SEL_MASK(r->sel) & X86_KEY_MODRM_BITS)
        return true;
    for (int i = 0; i < 3; i++)
        if (spec_uses_modrm(r->ops[i]))
            return true;
    return false;
}

/* More constrained selectors are tried first. */
static int row_specificity(const X86OpRow *r)
{
    return __builtin_popcount(X86_SEL_MASK(r->sel));
}

static void __attribute__((constructor)) x86_decode_build_index(void)
{
    unsigned n = 0;
    for (unsigned slot = 0; slot < X86_MAP_COUNT * 256; slot++) {
        unsigned map = slot >> 8, opc = slot & 0xff;
        x86_first[slot] = (uint16_t)n;
        for (unsigned i = 0; i < NROWS; i++) {
            const X86OpRow *r = &x86_op_rows[i];
            if (r->map != map || r->opcode != opc)
                continue;
            /* insertion sort by specificity, stable */
            unsigned j = n;
            while (j > x86_first[slot] &&
                   row_specificity(&x86_op_rows[x86_cand[j - 1]]) < row_specificity(r)) {
                x86_cand[j] = x86_cand[j - 1];
                j--;
            }
            x86_cand[j] = (uint16_t)i;
            n++;
            /* VX rows do not change how legacy encodings are measured */
            if (!row_is_vex(r))
                x86_has_legacy[slot] = 1;
            if (!row_is_vex(r) && row_uses_modrm(r))
                x86_has_modrm[slot] = 1;
        }
        x86_count[slot] = (uint8_t)(n - x86_first[slot]);
    }
    for (unsigned i = 0; i < sizeof(x86_vex_imm) / sizeof(x86_vex_imm[0]); i++)
        x86_vex_has_imm[x86_vex_imm[i][0] * 256 + x86_vex_imm[i][1]] = 1;
}

/* ---- byte fetching with the 15-byte limit ---- */
typedef struct Fetch {
    const uint8_t *p;
    size_t avail;
    unsigned pos;
} Fetch;

/* Makes n more bytes available or says why not. */
static X86DecodeStatus fetch_need(const Fetch *f, unsigned n)
{
    if (f->pos + n > 15)
        return X86_DECODE_TOO_LONG;
    if (f->pos + n > f->avail)
        return X86_DECODE_NEED_MORE;
    return X86_DECODE_OK;
}

static uint64_t fetch_le(Fetch *f, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)f->p[f->pos + i] << (8 * i);
    f->pos += n;
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    unsigned shift = 64 - 8 * bytes;
    return bytes >= 8 ? (int64_t)v : (int64_t)(v << shift) >> shift;
}

#define TRY(expr) do { X86DecodeStatus st_ = (expr); \
                       if (st_ != X86_DECODE_OK) return st_; } while (0)

/* ---- prefixes ---- */
enum { PK_NONE, PK_66, PK_67, PK_LOCK, PK_F2, PK_F3, PK_SEG };

static const uint8_t prefix_kind[256] = {
    [0x66] = PK_66, [0x67] = PK_67, [0xf0] = PK_LOCK, [0xf2] = PK_F2,
    [0xf3] = PK_F3, [0x26] = PK_SEG, [0x2e] = PK_SEG, [0x36] = PK_SEG,
    [0x3e] = PK_SEG, [0x64] = PK_SEG, [0x65] = PK_SEG,
};
static const uint8_t prefix_seg[8] = { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS,
                                       X86_SEG_DS };

/* Reads legacy and REX prefixes; leaves f->pos at the opcode byte. */
static X86DecodeStatus decode_prefixes(Fetch *f, X86Insn *in, uint8_t *last_rep)
{
    for (;;) {
        TRY(fetch_need(f, 1));
        uint8_t b = f->p[f->pos];
        if (in->mode == 64 && (b & 0xf0) == 0x40) {
            in->rex = b;              /* only the last one, and only if it */
            f->pos++;                 /* comes right before the opcode */
            continue;
        }
        switch (prefix_kind[b]) {
        case PK_66: in->prefixes |= X86_PFX_OPSIZE; break;
        case PK_67: in->prefixes |= X86_PFX_ADSIZE; break;
        case PK_LOCK: in->prefixes |= X86_PFX_LOCK; break;
        case PK_F2: in->prefixes |= X86_PFX_REPNE; *last_rep = 0xf2; break;
        case PK_F3: in->prefixes |= X86_PFX_REP; *last_rep = 0xf3; break;
        case PK_SEG: {
            uint8_t so = b == 0x64 ? X86_SEG_FS : b == 0x65 ? X86_SEG_GS
                       : prefix_seg[(b >> 3) & 3];
            in->prefixes |= X86_PFX_SEG;
            /* 64-bit mode ignores ES/CS/SS/DS prefixes: they do not cancel
             * an earlier FS/GS one (what the host CPU does, hostdiff) */
            if (!(in->mode == 64 && so < X86_SEG_FS &&
                  (in->seg_override == X86_SEG_FS || in->seg_override == X86_SEG_GS)))
                in->seg_override = so;
            break;
        }
        default:
            return X86_DECODE_OK;
        }
        in->rex = 0;                  /* a legacy prefix after REX cancels it */
        f->pos++;
    }
}

static void set_rex_bits(X86Insn *in)
{
    if (in->rex) {
        in->prefixes |= X86_PFX_REX;
        in->rex_w = (in->rex >> 3) & 1;
        in->rex_r = (in->rex >> 2) & 1;
        in->rex_x = (in->rex >> 1) & 1;
        in->rex_b = in->rex & 1;
    }
}

/* ---- ModRM / SIB / displacement ---- */
static uint8_t default_seg(const X86Insn *in, uint8_t dflt)
{
    uint8_t o = in->seg_override;
    if (o == X86_SEG_NONE)
        return dflt;
    if (in->mode == 64 && o < X86_SEG_FS)
        return dflt;                  /* ES/CS/SS/DS overrides ignored */
    return o;
}

static X86DecodeStatus decode_mem16(Fetch *f, X86Insn *in)
{
    static const uint8_t base16[8] = { X86_GPR_RBX, X86_GPR_RBX, X86_GPR_RBP,
        X86_GPR_RBP, X86_GPR_RSI, X86_GPR_RDI, X86_GPR_RBP, X86_GPR_RBX };
    static const uint8_t index16[8] = { X86_GPR_RSI, X86_GPR_RDI, X86_GPR_RSI,
        X86_GPR_RDI, X86_GPR_NONE, X86_GPR_NONE, X86_GPR_NONE, X86_GPR_NONE };
    X86Mem *m = &in->mem;
    unsigned dsize = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
    m->base = base16[in->rm];
    m->index = index16[in->rm];
    m->scale = 1;
    if (in->mod == 0 && in->rm == 6) {
        m->base = X86_GPR_NONE;
        dsize = 2;
    }
    TRY(fetch_need(f, dsize));
    in->disp_size = (uint8_t)dsize;
    m->disp = dsize ? sign_extend(fetch_le(f, dsize), dsize) : 0;
    m->seg = default_seg(in, m->base == X86_GPR_RBP ? X86_SEG_SS : X86_SEG_DS);
    return X86_DECODE_OK;
}

static X86DecodeStatus decode_mem32(Fetch *f, X86Insn *in)
{
    X86Mem *m = &in->mem;
    unsigned dsize = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
    m->scale = 1;
    m->index = X86_GPR_NONE;
    if (in->rm == 4) {
        TRY(fetch_need(f, 1));
        in->has_sib = 1;
        in->sib = (uint8_t)fetch_le(f, 1);
        in->scale = in->sib >> 6;
        in->index = (in->sib >> 3) & 7;
        in->base = in->sib & 7;
        m->scale = (uint8_t)(1u << in->scale);
        unsigned idx = in->index | (in->rex_x << 3);
        m->index = idx == 4 ? X86_GPR_NONE : (uint8_t)idx;
        if (in->base == 5 && in->mod == 0) {
            m->base = X86_GPR_NONE;
            dsize = 4;
        } else {
            m->base = (uint8_t)(in->base | (in->rex_b << 3));
        }
    } else if (in->rm == 5 && in->mod == 0) {
        m->base = X86_GPR_NONE;
        m->rip_relative = in->mode == 64;
        dsize = 4;
    } else {
        m->base = (uint8_t)(in->rm | (in->rex_b << 3));
    }
    TRY(fetch_need(f, dsize));
    in->disp_size = (uint8_t)dsize;
    m->disp = dsize ? sign_extend(fetch_le(f, dsize), dsize) : 0;
    bool stack = m->base == X86_GPR_RSP || m->base == X86_GPR_RBP;
    m->seg = default_seg(in, stack ? X86_SEG_SS : X86_SEG_DS);
    return X86_DECODE_OK;
}

static X86DecodeStatus decode_modrm_mem(Fetch *f, X86Insn *in)
{
    in->mem.present = 1;
    return in->addrsize == 2 ? decode_mem16(f, in) : decode_mem32(f, in);
}

/* ---- operand sizes ---- */
static unsigned spec_size(const X86Insn *in, unsigned sz)
{
    unsigned os = in->opsize;
    switch (sz) {
    case X86_SZ_b: return 1;
    case X86_SZ_w: return 2;
    case X86_SZ_d: case X86_SZ_ss: case X86_SZ_si: return 4;
    case X86_SZ_q: case X86_SZ_sd: case X86_SZ_pi: return 8;
    case X86_SZ_dq: case X86_SZ_ps: case X86_SZ_pd: return 16;
    case X86_SZ_x: return in->vex.L ? 32 : 16;
    case X86_SZ_qq: return 32;
    case X86_SZ_v: return os;
    case X86_SZ_z: return os == 2 ? 2 : 4;
    case X86_SZ_y: return os == 8 ? 8 : 4;
    case X86_SZ_c: return os == 2 ? 1 : 2;
    case X86_SZ_a: return 2 * os;
    case X86_SZ_p: return 2 + os;
    case X86_SZ_s: return in->mode == 64 ? 10 : 6;
    case X86_SZ_t: return 10;
    case X86_SZ_e: return os == 2 ? 14 : 28;
    case X86_SZ_st: return os == 2 ? 94 : 108;
    default: return 0;  /* 0 and fx (512 does not fit a byte: see .spec) */
    }
}

/* A 1-byte general register: without REX, 4-7 are AH, CH, DH, BH. */
static uint8_t gpr(const X86Insn *in, unsigned num, unsigned size)
{
    if (size == 1 && !in->rex && num >= 4 && num < 8)
        return (uint8_t)(X86_GPR_AH + num - 4);
    return (uint8_t)num;
}

/* Fetches the immediate bytes an operand spec calls for. */
static X86DecodeStatus decode_imm(Fetch *f, X86Insn *in, X86Operand *o,
                                  unsigned am, unsigned sz)
{
    unsigned n;
    switch (am) {
    case X86_AM_I:
        n = sz == X86_SZ_v ? in->opsize : spec_size(in, sz);
        if (n > 4 && sz != X86_SZ_v)
            n = 4;
        TRY(fetch_need(f, n));
        o->kind = X86_OPK_IMM;
        o->imm = sign_extend(fetch_le(f, n), n);
        in->imm = o->imm;
        break;
    case X86_AM_IB2:
        TRY(fetch_need(f, 1));
        o->kind = X86_OPK_IMM;
        o->imm = (int64_t)fetch_le(f, 1);
        in->imm2 = o->imm;
        n = 1;
        break;
    case X86_AM_J:
        n = sz == X86_SZ_b ? 1 : in->opsize == 2 ? 2 : 4;
        TRY(fetch_need(f, n));
        o->kind = X86_OPK_REL;
        o->imm = sign_extend(fetch_le(f, n), n);
        in->imm = o->imm;
        break;
    case X86_AM_A: {
        unsigned off = in->opsize == 2 ? 2 : 4;
        n = off + 2;
        TRY(fetch_need(f, n));
        o->kind = X86_OPK_FARPTR;
        o->imm = (int64_t)fetch_le(f, off);
        o->sel = (uint16_t)fetch_le(f, 2);
        in->imm = o->imm;
        in->imm2 = o->sel;
        break;
    }
    case X86_AM_O:
        n = in->addrsize;
        TRY(fetch_need(f, n));
        o->kind = X86_OPK_MEM;
        in->mem.present = 1;
        in->mem.moffs = 1;
        in->mem.base = in->mem.index = X86_GPR_NONE;
        in->mem.scale = 1;
        in->mem.disp = (int64_t)fetch_le(f, n);
        in->mem.seg = default_seg(in, X86_SEG_DS);
        in->disp_size = (uint8_t)n;
        return X86_DECODE_OK;
    default:
        return X86_DECODE_OK;
    }
    in->imm_size = (uint8_t)(in->imm_size + n);
    return X86_DECODE_OK;
}

/* Resolves one non-immediate operand; false means #UD. */
static bool resolve_operand(X86Insn *in, X86Operand *o, unsigned am,
                            unsigned size, bool regform)
{
    unsigned reg = in->reg, rm = in->rm;
    switch (am) {
    case X86_AM_E: case X86_AM_W: case X86_AM_Q:
        if (!regform) {
            o->kind = X86_OPK_MEM;
            return true;
        }
        if (am == X86_AM_Q) {
            o->kind = X86_OPK_MMX;
            o->reg = (uint8_t)rm;
        } else if (am == X86_AM_W) {
            o->kind = X86_OPK_XMM;
            o->reg = (uint8_t)(rm | in->rex_b << 3);
        } else {
            o->kind = X86_OPK_REG;
            o->reg = gpr(in, rm | in->rex_b << 3, size);
        }
        return true;
    case X86_AM_M:
        o->kind = X86_OPK_MEM;
        return !regform;
    case X86_AM_R: case X86_AM_U: case X86_AM_N:
        if (!regform)
            return false;
        o->kind = am == X86_AM_R ? X86_OPK_REG : am == X86_AM_U ? X86_OPK_XMM
                                                                : X86_OPK_MMX;
        o->reg = am == X86_AM_N ? (uint8_t)rm : (uint8_t)(rm | in->rex_b << 3);
        if (am == X86_AM_R)
            o->reg = gpr(in, o->reg, size);
        return true;
    case X86_AM_G:
        o->kind = X86_OPK_REG;
        o->reg = gpr(in, reg | in->rex_r << 3, size);
        return true;
    case X86_AM_V:
        o->kind = X86_OPK_XMM;
        o->reg = (uint8_t)(reg | in->rex_r << 3);
        return true;
    case X86_AM_P:
        o->kind = X86_OPK_MMX;
        o->reg = (uint8_t)reg;
        return true;
    case X86_AM_S:
        o->kind = X86_OPK_SEGREG;
        o->reg = (uint8_t)reg;
        return reg <= X86_SEG_GS;
    case X86_AM_C: case X86_AM_D:
        o->kind = am == X86_AM_C ? X86_OPK_CREG : X86_OPK_DREG;
        o->reg = (uint8_t)(reg | in->rex_r << 3);
        return true;
    case X86_AM_Z:
        o->kind = X86_OPK_REG;
        o->reg = gpr(in, (in->opcode & 7) | in->rex_b << 3, size);
        return true;
    case X86_AM_AX: case X86_AM_CL: case X86_AM_DX:
        o->kind = X86_OPK_REG;
        o->reg = am == X86_AM_AX ? X86_GPR_RAX : am == X86_AM_CL ? X86_GPR_RCX
                                                                 : X86_GPR_RDX;
        return true;
    case X86_AM_ONE:
        o->kind = X86_OPK_IMM;
        o->imm = 1;
        return true;
    case X86_AM_X:
        o->kind = X86_OPK_STR;
        o->reg = X86_GPR_RSI;
        o->seg = default_seg(in, X86_SEG_DS);
        return true;
    case X86_AM_Y:
        o->kind = X86_OPK_STR;
        o->reg = X86_GPR_RDI;
        o->seg = X86_SEG_ES;         /* not overridable */
        return true;
    case X86_AM_ST0: case X86_AM_STI:
        o->kind = X86_OPK_ST;
        o->reg = am == X86_AM_ST0 ? 0 : (uint8_t)rm;
        return true;
    case X86_AM_ES: case X86_AM_CS: case X86_AM_SS:
    case X86_AM_DS: case X86_AM_FS: case X86_AM_GS:
        o->kind = X86_OPK_SEGREG;
        o->reg = (uint8_t)(am - X86_AM_ES);
        return true;
    case X86_AM_XMM0:
        o->kind = X86_OPK_XMM;
        o->reg = 0;
        return true;
    default:
        return true;
    }
}

/* ---- VEX-encoded rows (BMI1/BMI2): operands of a measured VEX insn ---- */
static const X86OpRow *find_row(unsigned slot, unsigned key);

/* Gives a measured VEX instruction the mnemonic and operands of its VX
 * row, if it has one and the encoding is valid for it (VEX.L = 0, vvvv =
 * 1111b when the row has no B operand).  Otherwise it stays X86_VEX with
 * X86_F_UNIMPL (#UD in the translator), so lengths never change. */
static void decode_vex_row(X86Insn *in)
{
    if (in->vex.kind != 0xc4 && in->vex.kind != 0xc5)
        return;
    if (in->map < X86_MAP_0F || in->map > X86_MAP_0F3A || !in->has_modrm || in->vex.L)
        return;
    static const unsigned pp_key[4] = { 0, 0x80, 0x100, 0x180 };
    unsigned key = (in->modrm & 0x3f) | (in->mod == 3 ? X86_KEY_MOD3 : 0) |
                   pp_key[in->vex.pp & 3] | X86_KEY_VEX;
    if (in->mode == X86_MODE64)
        key |= X86_KEY_X64 | (in->vex.W ? X86_KEY_W : 0);
    const X86OpRow *row = find_row(in->map * 256u + in->opcode, key);
    if (!row || !row_is_vex(row))
        return;
    bool uses_vvvv = false;
    for (unsigned i = 0; i < 3; i++)
        uses_vvvv |= X86_OPND_AM(row->ops[i]) == X86_AM_B;
    if (!uses_vvvv && in->vex.vvvv != 0)
        return;
    X86Insn t = *in;
    /* VEX.W selects 64-bit operands in 64-bit mode and is ignored elsewhere */
    t.opsize = in->mode == X86_MODE64 && in->vex.W ? 8 : 4;
    t.mnem = row->mnem;
    t.feature = row->feature;
    t.flags = (row->flags & 0xffff) | X86_F_MODRM;
    t.mandatory = (uint8_t)(in->vex.pp == 1 ? 0x66 : in->vex.pp == 2 ? 0xf3 :
                            in->vex.pp == 3 ? 0xf2 : 0);
    unsigned nops = 0;
    for (unsigned i = 0; i < 3 && row->ops[i]; i++, nops++) {
        X86Operand *o = &t.op[i];
        unsigned am = X86_OPND_AM(row->ops[i]), sz = X86_OPND_SZ(row->ops[i]);
        o->spec = row->ops[i];
        o->size = (uint8_t)spec_size(&t, sz);
        if (am == X86_AM_B) {
            o->kind = X86_OPK_REG;
            o->reg = (uint8_t)(in->mode == X86_MODE64 ? in->vex.vvvv : in->vex.vvvv & 7);
        } else if (am == X86_AM_I) {
            o->kind = X86_OPK_IMM;
            o->imm = in->imm;          /* measured by decode_vex */
        } else if (!resolve_operand(&t, o, am, o->size, in->mod == 3)) {
            return;
        }
    }
    t.nops = (uint8_t)nops;
    *in = t;
}

/* ---- VEX / EVEX / XOP: length only ---- */
static X86DecodeStatus decode_vex(Fetch *f, X86Insn *in, uint8_t kind)
{
    if (in->rex || (in->prefixes & (X86_PFX_OPSIZE | X86_PFX_LOCK |
                                    X86_PFX_REP | X86_PFX_REPNE)))
        return X86_DECODE_UD;
    const uint8_t *p = f->p + f->pos;
    unsigned map;
    in->prefixes |= X86_PFX_VEX;
    in->vex.kind = kind;
    if (kind == 0xc5) {
        TRY(fetch_need(f, 2));
        in->rex_r = !(p[1] & 0x80);
        in->vex.vvvv = (~p[1] >> 3) & 15;
        in->vex.L = (p[1] >> 2) & 1;
        in->vex.pp = p[1] & 3;
        in->vex.mmmmm = map = 1;
        f->pos += 2;
    } else if (kind == 0x62) {
        TRY(fetch_need(f, 4));
        in->rex_r = !(p[1] & 0x80);
        in->rex_x = !(p[1] & 0x40);
        in->rex_b = !(p[1] & 0x20);
        in->vex.mmmmm = map = p[1] & 3;
        in->vex.W = in->rex_w = p[2] >> 7;
        in->vex.vvvv = (~p[2] >> 3) & 15;
        in->vex.pp = p[2] & 3;
        in->vex.L = (p[3] >> 5) & 3;
        f->pos += 4;
        if ((p[1] & 0x0c) || !(p[2] & 0x04) || map == 0)
            return X86_DECODE_UD;
    } else {                          /* C4 VEX and 8F XOP: 3-byte form */
        TRY(fetch_need(f, 3));
        in->rex_r = !(p[1] & 0x80);
        in->rex_x = !(p[1] & 0x40);
        in->rex_b = !(p[1] & 0x20);
        in->vex.mmmmm = map = p[1] & 0x1f;
        in->vex.W = in->rex_w = p[2] >> 7;
        in->vex.vvvv = (~p[2] >> 3) & 15;
        in->vex.L = (p[2] >> 2) & 1;
        in->vex.pp = p[2] & 3;
        f->pos += 3;
        if (kind == 0xc4 && (map < 1 || map > 3))
            return X86_DECODE_UD;
        if (kind == 0x8f && (map < 8 || map > 10))
            return X86_DECODE_UD;
    }
    if (in->mode != 64)
        in->rex_b = in->rex_x = 0;    /* not encodable outside 64-bit mode */
    in->mnem = kind == 0x62 ? X86_EVEX : kind == 0x8f ? X86_XOP : X86_VEX;
    in->flags = X86_F_UNIMPL | X86_F_MODRM;
    TRY(fetch_need(f, 1));
    in->opcode = (uint8_t)fetch_le(f, 1);
    in->map = kind == 0x8f ? X86_MAP_1B : (uint8_t)map;
    bool modrm = !(kind != 0x8f && map == 1 && in->opcode == 0x77);
    if (modrm) {
        TRY(fetch_need(f, 1));
        in->has_modrm = 1;
        in->modrm = (uint8_t)fetch_le(f, 1);
        in->mod = in->modrm >> 6;
        in->reg = (in->modrm >> 3) & 7;
        in->rm = in->modrm & 7;
        if (in->mod != 3)
            TRY(decode_modrm_mem(f, in));
    } else {
        in->flags &= ~X86_F_MODRM;
    }
    unsigned imm = 0;
    if (kind == 0x8f)
        imm = map == 8 ? 1 : map == 10 ? 4 : 0;
    else if (map == 3 || (map == 1 && x86_vex_has_imm[256 + in->opcode]))
        imm = 1;
    TRY(fetch_need(f, imm));
    in->imm = sign_extend(fetch_le(f, imm), imm ? imm : 1);
    in->imm_size = (uint8_t)imm;
    in->length = (uint8_t)f->pos;
    decode_vex_row(in);
    return X86_DECODE_OK;
}

/* Is C4/C5/62/8F at f->pos a VEX/EVEX/XOP prefix (0 when not)? */
static X86DecodeStatus vex_kind(Fetch *f, const X86Insn *in, uint8_t op,
                                uint8_t *kind)
{
    *kind = 0;
    if (op != 0xc4 && op != 0xc5 && op != 0x62 && op != 0x8f)
        return X86_DECODE_OK;
    if (op != 0x8f && in->mode == 64) {
        *kind = op;
        return X86_DECODE_OK;
    }
    f->pos++;
    X86DecodeStatus st = fetch_need(f, 1);
    f->pos--;
    if (st != X86_DECODE_OK)
        return st;
    uint8_t next = f->p[f->pos + 1];
    if (op == 0x8f)
        *kind = (next & 0x1f) >= 8 ? op : 0;
    else
        *kind = (next & 0xc0) == 0xc0 ? op : 0;  /* else LES/LDS/BOUND */
    return X86_DECODE_OK;
}

/* ---- the table row ---- */
static const X86OpRow *find_row(unsigned slot, unsigned key)
{
    const uint16_t *c = &x86_cand[x86_first[slot]];
    for (unsigned i = 0, n = x86_count[slot]; i < n; i++) {
        const X86OpRow *r = &x86_op_rows[c[i]];
        if ((key & X86_SEL_MASK(r->sel)) == X86_SEL_VAL(r->sel))
            return r;
    }
    return NULL;
}

static void set_sizes(X86Insn *in, uint32_t flags)
{
    bool o16 = in->prefixes & X86_PFX_OPSIZE, a16 = in->prefixes & X86_PFX_ADSIZE;
    switch (in->mode) {
    case 16:
        in->opsize = o16 ? 4 : 2;
        in->addrsize = a16 ? 4 : 2;
        break;
    case 32:
        in->opsize = o16 ? 2 : 4;
        in->addrsize = a16 ? 2 : 4;
        break;
    default:
        in->addrsize = a16 ? 4 : 8;
        if (in->rex_w || (flags & X86_F_F64))
            in->opsize = 8;
        else if (flags & X86_F_D64)
            in->opsize = o16 ? 2 : 8;
        else
            in->opsize = o16 ? 2 : 4;
        break;
    }
}

X86DecodeStatus x86_decode(const uint8_t *bytes, size_t avail, X86CpuMode mode,
                           X86Insn *in)
{
    Fetch f = { bytes, avail, 0 };
    uint8_t last_rep = 0, vkind;

    memset(in, 0, sizeof(*in));
    in->mode = (uint8_t)mode;
    in->seg_override = X86_SEG_NONE;
    in->mem.seg = X86_SEG_NONE;
    in->mem.base = in->mem.index = X86_GPR_NONE;

    TRY(decode_prefixes(&f, in, &last_rep));
    set_rex_bits(in);
    uint8_t op = bytes[f.pos];
    TRY(vex_kind(&f, in, op, &vkind));
    if (vkind) {
        set_sizes(in, 0);
        return decode_vex(&f, in, vkind);
    }
    f.pos++;
    unsigned map = X86_MAP_1B;
    if (op == 0x0f) {
        TRY(fetch_need(&f, 1));
        op = (uint8_t)fetch_le(&f, 1);
        map = X86_MAP_0F;
        if (op == 0x38 || op == 0x3a) {
            map = op == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            TRY(fetch_need(&f, 1));
            op = (uint8_t)fetch_le(&f, 1);
        }
    }
    in->map = (uint8_t)map;
    in->opcode = op;
    unsigned slot = map * 256 + op;
    if (!x86_has_legacy[slot])
        return X86_DECODE_UD;

    /* the selection key */
    unsigned key = 0;
    if (x86_has_modrm[slot]) {
        TRY(fetch_need(&f, 1));
        in->has_modrm = 1;
        in->modrm = (uint8_t)fetch_le(&f, 1);
        in->mod = in->modrm >> 6;
        in->reg = (in->modrm >> 3) & 7;
        in->rm = in->modrm & 7;
        key = (in->modrm & 0x3f) | (in->mod == 3 ? X86_KEY_MOD3 : 0);
    }
    if (last_rep == 0xf3)
        in->mandatory = 0xf3, key |= 0x100;
    else if (last_rep == 0xf2)
        in->mandatory = 0xf2, key |= 0x180;
    else if (in->prefixes & X86_PFX_OPSIZE)
        in->mandatory = 0x66, key |= 0x80;
    if (in->rex_w)
        key |= X86_KEY_W;
    if (mode == X86_MODE64)
        key |= X86_KEY_X64;
    if (in->rex_b)
        key |= X86_KEY_B;

    /* No row for the mandatory-prefix class: fall back to the 66 form (when
     * 66 is present too), then to the unprefixed one, as the hardware
     * ignores an F2/F3/66 that the opcode does not use. */
    const X86OpRow *row = find_row(slot, key);
    if (!row && (key & X86_KEY_PFX) >= 0x100 && (in->prefixes & X86_PFX_OPSIZE)) {
        key = (key & ~X86_KEY_PFX) | 0x80;
        in->mandatory = 0x66;
        row = find_row(slot, key);
    }
    if (!row && (key & X86_KEY_PFX)) {
        key &= ~X86_KEY_PFX;
        in->mandatory = 0;
        row = find_row(slot, key);
    }
    if (!row)
        return X86_DECODE_UD;
    uint32_t flags = row->flags;
    if ((flags & X86_F_I64) && mode == X86_MODE64)
        return X86_DECODE_UD;
    if ((flags & X86_F_O64) && mode != X86_MODE64)
        return X86_DECODE_UD;
    if (X86_SEL_MASK(row->sel) & X86_KEY_PFX) {
        /* a mandatory prefix is not an operand-size / REP prefix */
    } else {
        in->mandatory = 0;
    }
    in->mnem = row->mnem;
    in->feature = row->feature;
    in->flags = (flags & 0xffff) | (in->has_modrm ? X86_F_MODRM : 0);
    if ((map == X86_MAP_1B && (op & 0xf0) == 0x70) ||
        (map == X86_MAP_0F && ((op & 0xf0) == 0x80 || (op & 0xf0) == 0x90 ||
                               (op & 0xf0) == 0x40)))
        in->cond = op & 15;
    set_sizes(in, flags);

    bool regform = in->mod == 3 || (flags & X86_F_FREG);
    if (in->has_modrm && !regform)
        TRY(decode_modrm_mem(&f, in));

    /* LOCK: only lockable rows with a memory destination */
    if ((in->prefixes & X86_PFX_LOCK) &&
        (!(flags & X86_F_LOCK) || regform))
        return X86_DECODE_UD;

    /* immediates (in operand order) and operand resolution */
    unsigned nops = 0;
    for (unsigned i = 0; i < 3 && row->ops[i]; i++, nops++) {
        X86Operand *o = &in->op[i];
        unsigned am = X86_OPND_AM(row->ops[i]), sz = X86_OPND_SZ(row->ops[i]);
        o->spec = row->ops[i];
        o->size = (uint8_t)spec_size(in, sz);
        if (am == X86_AM_I || am == X86_AM_IB2 || am == X86_AM_J ||
            am == X86_AM_A || am == X86_AM_O)
            TRY(decode_imm(&f, in, o, am, sz));
        else if (!resolve_operand(in, o, am, o->size, regform))
            return X86_DECODE_UD;
    }
    in->nops = (uint8_t)nops;
    /* MOV Sreg: loading CS is #UD */
    if (row->mnem == X86_MOV && in->op[0].kind == X86_OPK_SEGREG &&
        in->op[0].reg == X86_SEG_CS)
        return X86_DECODE_UD;
    in->length = (uint8_t)f.pos;
    return X86_DECODE_OK;
}
