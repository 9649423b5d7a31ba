/*
 * x86 instruction decoder (16-, 32- and 64-bit code).
 *
 * The decoder turns guest bytes into an X86Insn: mnemonic, length, operand
 * and address size, prefixes, ModRM/SIB split, the memory operand, resolved
 * register numbers, immediates and an operand list in Intel order.  It is
 * driven by one declarative table, cpu/opcodes.def (see docs/decoder.md),
 * whose mnemonic rows also carry the translator's per-mnemonic semantics
 * (handler, flag liveness, SSE forms); the translator reads
 * every per-encoding property (lockable, mode limits, CPUID feature,
 * privileged, ends-block ...) from X86Insn.flags / X86Insn.feature.
 *
 * Usage:
 *     X86Insn insn;
 *     switch (x86_decode(p, avail, X86_MODE64, &insn)) {
 *     case X86_DECODE_OK:        translate(&insn); p += insn.length; break;
 *     case X86_DECODE_NEED_MORE: fetch the bytes of the next page, retry;
 *     case X86_DECODE_UD:        raise #UD;
 *     case X86_DECODE_TOO_LONG:  raise #GP(0);
 *     }
 *
 * The decoder never allocates and never touches strings on its hot path; it
 * is safe to call from several threads (its index tables are built once by
 * a constructor and are read-only afterwards).
 */
#ifndef VX86_CPU_DECODE_H
#define VX86_CPU_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* ---- mnemonics: one enum entry per MNEM() row of cpu/opcodes.def ---- */
typedef enum X86Mnem {
#define MNEM(name, ...) X86_##name,
#include "cpu/opcodes.def"
#undef MNEM
    X86_MNEM_COUNT
} X86Mnem;

/* The attrs column of the mnemonic rows of cpu/opcodes.def (CCW FLT STM UNA). */
enum {
    X86_ATTR_CCW = 1 << 0,   /* writes the arithmetic flags */
    X86_ATTR_FLT = 1 << 1,   /* may fault without a memory operand */
    X86_ATTR_STM = 1 << 2,   /* x87: stores to its memory operand */
    X86_ATTR_UNA = 1 << 3,   /* SSE: a 16-byte memory operand may be misaligned */
};

/* Upper-case SDM names ("ADD", "CMPXCHG8B"), indexed by X86Mnem. */
extern const char *const x86_mnem_name[X86_MNEM_COUNT];

/* CPUID features a table row may require (X86Insn.feature). */
typedef enum X86Feature {
    X86_FEAT_NONE = 0,
    X86_FEAT_FPU, X86_FEAT_CMOV, X86_FEAT_MMX, X86_FEAT_SSE, X86_FEAT_SSE2,
    X86_FEAT_SSE3, X86_FEAT_SSSE3, X86_FEAT_SSE41, X86_FEAT_SSE42,
    X86_FEAT_POPCNT, X86_FEAT_MOVBE, X86_FEAT_AES, X86_FEAT_PCLMUL,
    X86_FEAT_CX8, X86_FEAT_CX16, X86_FEAT_RDRAND, X86_FEAT_RDSEED,
    X86_FEAT_FSGSBASE, X86_FEAT_BMI1, X86_FEAT_LZCNT, X86_FEAT_ADX,
    X86_FEAT_XSAVE, X86_FEAT_XSAVEOPT, X86_FEAT_XSAVEC, X86_FEAT_XSAVES,
    X86_FEAT_FXSR, X86_FEAT_CLFLUSH, X86_FEAT_CLFLUSHOPT, X86_FEAT_CLWB,
    X86_FEAT_MONITOR, X86_FEAT_RDTSCP, X86_FEAT_SMAP, X86_FEAT_VMX,
    X86_FEAT_SHA, X86_FEAT_PREFETCHW, X86_FEAT_LAHF64, X86_FEAT_SYSCALL,
    X86_FEAT_SEP, X86_FEAT_MSR, X86_FEAT_TSC, X86_FEAT_RTM, X86_FEAT_PKU,
    X86_FEAT_INVPCID, X86_FEAT_SGX, X86_FEAT_AVX, X86_FEAT_BMI2,
    X86_FEAT_COUNT
} X86Feature;

/* Row flags (X86Insn.flags). */
enum {
    X86_F_LOCK      = 1u << 0,  /* LOCK allowed (memory destination only) */
    X86_F_I64       = 1u << 1,  /* invalid in 64-bit mode */
    X86_F_O64       = 1u << 2,  /* valid only in 64-bit mode */
    X86_F_D64       = 1u << 3,  /* operand size defaults to 64 in 64-bit mode */
    X86_F_F64       = 1u << 4,  /* operand size forced to 64 in 64-bit mode */
    X86_F_MODRM     = 1u << 5,  /* has a ModRM byte (derived from operands too) */
    X86_F_REP       = 1u << 6,  /* F3 means REP (string instruction) */
    X86_F_REPNE     = 1u << 7,  /* F2/F3 mean REPNE/REPE (CMPS, SCAS) */
    X86_F_PRIV      = 1u << 8,  /* CPL 0 only (#GP otherwise) */
    X86_F_SERIAL    = 1u << 9,  /* serialising: the block ends after it */
    X86_F_BRANCH    = 1u << 10, /* control transfer: the block ends after it */
    X86_F_ENDBLOCK  = 1u << 11, /* changes state the translation depends on */
    X86_F_UNIMPL    = 1u << 12, /* decoded for length only (VEX/EVEX/XOP) */
    X86_F_IO        = 1u << 13, /* I/O instruction (IOPL / bitmap checks) */
    X86_F_SHADOW    = 1u << 14, /* interrupt shadow after it (MOV SS, POP SS, STI) */
    X86_F_UNDOC     = 1u << 15, /* undocumented alias real CPUs execute */
};

typedef enum X86CpuMode {
    X86_MODE16 = 16,
    X86_MODE32 = 32,
    X86_MODE64 = 64,
} X86CpuMode;

typedef enum X86DecodeStatus {
    X86_DECODE_OK = 0,
    X86_DECODE_UD,        /* invalid opcode, prefix combination or mode: #UD */
    X86_DECODE_TOO_LONG,  /* longer than 15 bytes: #GP(0) */
    X86_DECODE_NEED_MORE, /* buffer ended first: fetch more bytes and retry */
} X86DecodeStatus;

/* Opcode maps (X86Insn.map). */
enum {
    X86_MAP_1B = 0,   /* one-byte map */
    X86_MAP_0F,       /* 0F xx */
    X86_MAP_0F38,     /* 0F 38 xx */
    X86_MAP_0F3A,     /* 0F 3A xx */
    X86_MAP_COUNT
};

/* Legacy prefixes seen (X86Insn.prefixes), whatever their effect. */
enum {
    X86_PFX_OPSIZE = 1u << 0,  /* 66 */
    X86_PFX_ADSIZE = 1u << 1,  /* 67 */
    X86_PFX_LOCK   = 1u << 2,  /* F0 */
    X86_PFX_REPNE  = 1u << 3,  /* F2 */
    X86_PFX_REP    = 1u << 4,  /* F3 */
    X86_PFX_SEG    = 1u << 5,  /* a segment override (X86Insn.seg_override) */
    X86_PFX_REX    = 1u << 6,  /* an effective REX (X86Insn.rex) */
    X86_PFX_VEX    = 1u << 7,  /* VEX/EVEX/XOP encoded (X86Insn.vex) */
};

/* Segment registers in SDM encoding order (Sreg field). */
enum { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
       X86_SEG_NONE = 0xff };

/* Register numbers.  GPRs 0-15 (RAX..R15) for every size; a 1-byte register
 * operand numbered 16-19 is AH, CH, DH, BH (only possible without REX). */
enum {
    X86_GPR_RAX, X86_GPR_RCX, X86_GPR_RDX, X86_GPR_RBX,
    X86_GPR_RSP, X86_GPR_RBP, X86_GPR_RSI, X86_GPR_RDI,
    X86_GPR_AH = 16, X86_GPR_CH, X86_GPR_DH, X86_GPR_BH,
    X86_GPR_NONE = 0xff,
};

/* Operand kinds (X86Operand.kind), Intel order in X86Insn.op[]. */
typedef enum X86OpKind {
    X86_OPK_NONE = 0,
    X86_OPK_REG,     /* general register .reg, .size bytes */
    X86_OPK_MEM,     /* X86Insn.mem (ModRM memory, moffs), .size bytes */
    X86_OPK_STR,     /* string operand: [seg:rSI] or [ES:rDI]; .reg, .seg */
    X86_OPK_IMM,     /* .imm (sign- or zero-extended as the SDM says) */
    X86_OPK_REL,     /* branch displacement .imm (target = next ip + imm) */
    X86_OPK_FARPTR,  /* Ap: .imm offset, .sel selector */
    X86_OPK_SEGREG,  /* segment register .reg (X86_SEG_*) */
    X86_OPK_CREG,    /* control register .reg (0-15; validity is runtime) */
    X86_OPK_DREG,    /* debug register .reg */
    X86_OPK_XMM,     /* xmm .reg (0-15) */
    X86_OPK_MMX,     /* mm .reg (0-7) */
    X86_OPK_ST,      /* x87 ST(.reg) */
} X86OpKind;

typedef struct X86Operand {
    uint8_t kind;    /* X86OpKind */
    uint8_t size;    /* bytes (0: no size, e.g. LEA's M, x87 env) */
    uint8_t reg;     /* register / segment number for register kinds */
    uint8_t seg;     /* X86_OPK_STR: segment used */
    uint16_t spec;   /* the SDM operand spec of the row (X86_OPND()) */
    uint16_t sel;    /* X86_OPK_FARPTR: selector */
    int64_t imm;     /* IMM/REL/FARPTR value */
} X86Operand;

/* The memory operand (ModRM memory form, moffs, or none). */
typedef struct X86Mem {
    uint8_t present;       /* 1 when the instruction has a memory operand */
    uint8_t seg;           /* effective segment: override or default (SS for
                            * rBP/rSP base), overrides of ES/CS/SS/DS ignored
                            * in 64-bit mode */
    uint8_t base;          /* GPR number or X86_GPR_NONE */
    uint8_t index;         /* GPR number or X86_GPR_NONE (RSP never) */
    uint8_t scale;         /* 1, 2, 4 or 8 */
    uint8_t rip_relative;  /* 64-bit mod=00 rm=101: add the next insn's rIP */
    uint8_t moffs;         /* A0-A3 absolute offset in disp (zero-extended) */
    int64_t disp;          /* sign-extended displacement (moffs: offset) */
} X86Mem;

typedef struct X86Insn {
    uint16_t mnem;         /* X86Mnem */
    uint8_t length;        /* bytes, 1..15 */
    uint8_t mode;          /* 16, 32, 64: the mode decoded for */
    uint8_t opsize;        /* operand size in bytes: 2, 4, 8 */
    uint8_t addrsize;      /* address size in bytes: 2, 4, 8 */
    uint8_t map;           /* X86_MAP_* */
    uint8_t opcode;        /* the opcode byte inside its map */
    uint8_t cond;          /* Jcc/SETcc/CMOVcc/FCMOVcc condition (0-15) */
    uint8_t feature;       /* X86Feature required */
    uint16_t prefixes;     /* X86_PFX_* seen */
    uint8_t seg_override;  /* last segment override prefix, X86_SEG_NONE */
    uint8_t mandatory;     /* prefix class used for the row: 0, 0x66, 0xF3, 0xF2 */
    uint8_t rex;           /* effective REX byte (0x40-0x4F) or 0 */
    uint8_t rex_w, rex_r, rex_x, rex_b; /* its bits (also from VEX/EVEX) */
    struct {
        uint8_t kind;      /* 0, 0xC5 (2-byte VEX), 0xC4, 0x62 (EVEX), 0x8F (XOP) */
        uint8_t L;         /* vector length: VEX.L, EVEX L'L */
        uint8_t pp;        /* implied prefix: 0 none, 1 66, 2 F3, 3 F2 */
        uint8_t mmmmm;     /* map select */
        uint8_t vvvv;      /* extra register (already un-inverted) */
        uint8_t W;
    } vex;
    uint8_t has_modrm, modrm, mod, reg, rm;  /* raw and split (reg/rm
                                              * without REX extension) */
    uint8_t has_sib, sib, scale, index, base; /* raw and split (without REX) */
    uint8_t disp_size, imm_size;  /* bytes of displacement / immediates */
    uint8_t nops;          /* operands in op[] */
    uint32_t flags;        /* X86_F_* of the table row */
    X86Mem mem;
    int64_t imm;           /* first immediate (or rel / far offset) */
    int64_t imm2;          /* second immediate (ENTER's Ib, far selector) */
    X86Operand op[4];      /* Intel order */
} X86Insn;

/* Decode one instruction from bytes[0..avail). */
X86DecodeStatus x86_decode(const uint8_t *bytes, size_t avail, X86CpuMode mode,
                           X86Insn *out);

/* ---- operand specs (SDM Appendix A notation), used by cpu/opcodes.def ---- */
/* Addressing methods. */
enum {
    X86_AM_NONE = 0,
    X86_AM_A, X86_AM_B, X86_AM_C, X86_AM_D, X86_AM_E, X86_AM_F, X86_AM_G,
    X86_AM_H, X86_AM_I, X86_AM_J, X86_AM_L, X86_AM_M, X86_AM_N, X86_AM_O,
    X86_AM_P, X86_AM_Q, X86_AM_R, X86_AM_S, X86_AM_U, X86_AM_V, X86_AM_W,
    X86_AM_X, X86_AM_Y,
    X86_AM_Z,     /* register in the low 3 opcode bits (+REX.B) */
    X86_AM_AX,    /* accumulator AL/AX/EAX/RAX of the given size */
    X86_AM_CL,    /* CL (shift count) */
    X86_AM_DX,    /* DX (port number) */
    X86_AM_ONE,   /* the constant 1 (shift by one) */
    X86_AM_ST0,   /* ST(0) */
    X86_AM_STI,   /* ST(i), i = ModRM.rm */
    X86_AM_ES, X86_AM_CS, X86_AM_SS, X86_AM_DS, X86_AM_FS, X86_AM_GS,
    X86_AM_XMM0,  /* implicit XMM0 (BLENDV) */
    X86_AM_IB2,   /* second immediate byte (ENTER) */
};
/* Operand sizes. */
enum {
    X86_SZ_0 = 0, /* no size (LEA's M, prefetch hints) */
    X86_SZ_a,  X86_SZ_b,  X86_SZ_c,  X86_SZ_d,  X86_SZ_dq, X86_SZ_p,
    X86_SZ_pd, X86_SZ_pi, X86_SZ_ps, X86_SZ_q,  X86_SZ_qq, X86_SZ_s,
    X86_SZ_sd, X86_SZ_ss, X86_SZ_si, X86_SZ_v,  X86_SZ_w,  X86_SZ_x,
    X86_SZ_y,  X86_SZ_z,
    X86_SZ_t,   /* 10 bytes: x87 extended real, packed BCD */
    X86_SZ_e,   /* x87 environment: 14 or 28 bytes */
    X86_SZ_st,  /* x87 state: 94 or 108 bytes */
    X86_SZ_fx,  /* 512 bytes: FXSAVE area */
};
#define X86_OPND(am, sz) ((uint16_t)(X86_AM_##am | (X86_SZ_##sz << 8)))
#define X86_OPND_AM(spec) ((spec) & 0xff)
#define X86_OPND_SZ(spec) ((spec) >> 8)

#endif
