/*
 * x86-64 instruction encoder for the host backend: a handful of inline
 * functions that append machine code bytes at a cursor.  Only the forms
 * the code generator needs: ALU reg/reg, reg/imm and reg/mem, shifts,
 * moves and extensions, mul, bit counts, setcc/cmovcc/jcc, call/jmp.
 *
 *   X86Asm a = { .p = buf };
 *   x86_alu_ri(&a, ALU_ADD, true, X86_RAX, 5);        // add rax, 5
 *   x86_modrm_mem(&a, OPC_MOVL_GvEv, X86_RCX, X86_RBP, -1, 0, 16);  // mov ecx, [rbp+16]
 *
 * Opcodes are ints: the low byte is the opcode byte, higher bits ask for
 * prefixes (0x0f escape, 0x66, 0xf3, REX.W, REX for byte registers).
 */
#ifndef VX86_TCG_X86_64_EMIT_H
#define VX86_TCG_X86_64_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* prefix flags */
#define P_EXT     0x100      /* 0x0f escape */
#define P_DATA16  0x400      /* 0x66 */
#define P_REXW    0x1000     /* 64-bit operand size */
#define P_REXB_R  0x2000     /* reg field is a byte register */
#define P_REXB_RM 0x4000     /* r/m field is a byte register */
#define P_F3      0x10000
#define P_F2      0x20000
#define P_EXT38   0x40000    /* 0x0f 0x38 escape (SSSE3/SSE4.1 rows of vec-ops.def) */
#define P_EXT3A   0x80000    /* 0x0f 0x3a escape */
#define P_LOCK    0x100000   /* 0xf0: LOCK (before every other prefix) */

#define OPC_ARITH_EvIz  0x81
#define OPC_ARITH_EvIb  0x83
#define OPC_ARITH_GvEv  0x03      /* + (alu << 3) */
#define OPC_ARITH_EvGv  0x01
#define OPC_BSF         (0xbc | P_EXT)
#define OPC_BSR         (0xbd | P_EXT)
#define OPC_BSWAP       (0xc8 | P_EXT)
#define OPC_CALL_J32    0xe8
#define OPC_CMOVCC      (0x40 | P_EXT)
#define OPC_GRP3_Ev     0xf7      /* /2 not, /3 neg, /4 mul, /5 imul, /0 test imm */
#define OPC_GRP5        0xff      /* /2 call, /4 jmp */
#define OPC_IMUL_GvEv   (0xaf | P_EXT)
#define OPC_IMUL_GvEvIz 0x69
#define OPC_IMUL_GvEvIb 0x6b
#define OPC_JCC_J32     (0x80 | P_EXT)
#define OPC_JMP_J32     0xe9
#define OPC_LEA         0x8d
#define OPC_LZCNT       (0xbd | P_EXT | P_F3)
#define OPC_MOVB_EvGv   0x88
#define OPC_MOVL_EvGv   0x89
#define OPC_MOVL_GvEv   0x8b
#define OPC_MOVB_EvIb   0xc6
#define OPC_MOVL_EvIz   0xc7
#define OPC_MOVL_Iv     0xb8
#define OPC_MOVSBL      (0xbe | P_EXT)
#define OPC_MOVSWL      (0xbf | P_EXT)
#define OPC_MOVSLQ      (0x63 | P_REXW)
#define OPC_MOVZBL      (0xb6 | P_EXT)
#define OPC_MOVZWL      (0xb7 | P_EXT)
#define OPC_POPCNT      (0xb8 | P_EXT | P_F3)
#define OPC_SETCC       (0x90 | P_EXT | P_REXB_RM)
#define OPC_SHIFT_Ib    0xc1
#define OPC_SHIFT_1     0xd1
#define OPC_SHIFT_CL    0xd3
#define OPC_TESTL       0x85
#define OPC_TZCNT       (0xbc | P_EXT | P_F3)
#define OPC_XCHG        0x87
#define OPC_XCHG_EbGb   0x86
#define OPC_XADD_EbGb   (0xc0 | P_EXT)
#define OPC_XADD_EvGv   (0xc1 | P_EXT)
#define OPC_CMPXCHG_EbGb (0xb0 | P_EXT)
#define OPC_CMPXCHG_EvGv (0xb1 | P_EXT)

enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };
enum { SHIFT_ROL = 0, SHIFT_ROR = 1, SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAR = 7 };
enum { EXT3_TEST = 0, EXT3_NOT = 2, EXT3_NEG = 3, EXT3_MUL = 4, EXT3_IMUL = 5 };
enum { EXT5_CALL = 2, EXT5_JMP = 4 };

/* x86 condition codes (the low nibble of jcc/setcc/cmovcc) */
enum {
    CC_O = 0, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
    CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G,
};

typedef struct X86Asm {
    uint8_t *p;
} X86Asm;

static inline void x86_byte(X86Asm *a, unsigned v)
{
    *a->p++ = (uint8_t)v;
}

static inline void x86_u32(X86Asm *a, uint32_t v)
{
    memcpy(a->p, &v, 4);
    a->p += 4;
}

static inline void x86_u64(X86Asm *a, uint64_t v)
{
    memcpy(a->p, &v, 8);
    a->p += 8;
}

static inline bool fits_i8(int64_t v) { return v == (int8_t)v; }
static inline bool fits_i32(int64_t v) { return v == (int32_t)v; }

/* Prefixes, REX and opcode bytes.  r, rm and index are register numbers
 * (0-15) whose high bits go into REX. */
static inline void x86_opc(X86Asm *a, int opc, int r, int rm, int index)
{
    int rex = 0;
    if (opc & P_REXW)
        rex |= 8;
    rex |= (r & 8) >> 1;
    rex |= (index & 8) >> 2;
    rex |= (rm & 8) >> 3;
    /* spl/bpl/sil/dil exist only with a REX prefix */
    if (((opc & P_REXB_R) && r >= 4) || ((opc & P_REXB_RM) && rm >= 4))
        rex |= 0x40;
    if (opc & P_LOCK)
        x86_byte(a, 0xf0);
    if (opc & P_DATA16)
        x86_byte(a, 0x66);
    if (opc & P_F3)
        x86_byte(a, 0xf3);
    else if (opc & P_F2)
        x86_byte(a, 0xf2);
    if (rex)
        x86_byte(a, 0x40 | (rex & 0xf));
    if (opc & (P_EXT | P_EXT38 | P_EXT3A))
        x86_byte(a, 0x0f);
    if (opc & P_EXT38)
        x86_byte(a, 0x38);
    else if (opc & P_EXT3A)
        x86_byte(a, 0x3a);
    x86_byte(a, opc & 0xff);
}

/* op r, rm (both registers) */
static inline void x86_modrm(X86Asm *a, int opc, int r, int rm)
{
    x86_opc(a, opc, r, rm, 0);
    x86_byte(a, 0xc0 | (r & 7) << 3 | (rm & 7));
}

/* op r, [base + index << shift + disp]; index < 0 for none. */
static inline void x86_modrm_mem(X86Asm *a, int opc, int r, int base, int index,
                                 int shift, int32_t disp)
{
    x86_opc(a, opc, r, base, index < 0 ? 0 : index);
    int mod = (disp == 0 && (base & 7) != X86_RBP) ? 0 : fits_i8(disp) ? 0x40 : 0x80;
    if (index < 0 && (base & 7) != X86_RSP) {
        x86_byte(a, mod | (r & 7) << 3 | (base & 7));
    } else {
        x86_byte(a, mod | (r & 7) << 3 | 4);
        x86_byte(a, shift << 6 | ((index < 0 ? X86_RSP : index) & 7) << 3 | (base & 7));
    }
    if (mod == 0x40)
        x86_byte(a, (uint8_t)disp);
    else if (mod == 0x80)
        x86_u32(a, (uint32_t)disp);
}

static inline int rexw(bool is64)
{
    return is64 ? P_REXW : 0;
}

static inline void x86_mov_rr(X86Asm *a, bool is64, int d, int s)
{
    if (d != s || !is64)
        x86_modrm(a, OPC_MOVL_GvEv | rexw(is64), d, s);
}

/* mov r, imm.  may_clobber_flags allows xor r,r for 0. */
static inline void x86_movi(X86Asm *a, bool is64, int r, uint64_t v, bool may_clobber_flags)
{
    if (!is64)
        v = (uint32_t)v;
    if (v == 0 && may_clobber_flags) {
        x86_modrm(a, OPC_ARITH_GvEv + (ALU_XOR << 3), r, r);
    } else if (v == (uint32_t)v) {
        x86_opc(a, OPC_MOVL_Iv + (r & 7), 0, r, 0);
        x86_u32(a, (uint32_t)v);
    } else if (fits_i32((int64_t)v)) {
        x86_modrm(a, OPC_MOVL_EvIz | P_REXW, 0, r);
        x86_u32(a, (uint32_t)v);
    } else {
        x86_opc(a, (OPC_MOVL_Iv + (r & 7)) | P_REXW, 0, r, 0);
        x86_u64(a, v);
    }
}

static inline void x86_alu_rr(X86Asm *a, int alu, bool is64, int d, int s)
{
    x86_modrm(a, (OPC_ARITH_GvEv + (alu << 3)) | rexw(is64), d, s);
}

static inline void x86_alu_ri(X86Asm *a, int alu, bool is64, int r, int32_t imm)
{
    if (fits_i8(imm)) {
        x86_modrm(a, OPC_ARITH_EvIb | rexw(is64), alu, r);
        x86_byte(a, (uint8_t)imm);
    } else {
        x86_modrm(a, OPC_ARITH_EvIz | rexw(is64), alu, r);
        x86_u32(a, (uint32_t)imm);
    }
}

static inline void x86_shift_ri(X86Asm *a, int sh, bool is64, int r, unsigned n)
{
    if (n == 1) {
        x86_modrm(a, OPC_SHIFT_1 | rexw(is64), sh, r);
    } else {
        x86_modrm(a, OPC_SHIFT_Ib | rexw(is64), sh, r);
        x86_byte(a, n);
    }
}

static inline void x86_test_rr(X86Asm *a, bool is64, int x, int y)
{
    x86_modrm(a, OPC_TESTL | rexw(is64), y, x);
}

static inline void x86_jmp_rel32_to(X86Asm *a, const uint8_t *target)
{
    x86_byte(a, OPC_JMP_J32);
    x86_u32(a, (uint32_t)(int32_t)(target - (a->p + 4)));
}

static inline void x86_jcc_rel32_to(X86Asm *a, int cc, const uint8_t *target)
{
    x86_opc(a, OPC_JCC_J32 + cc, 0, 0, 0);
    x86_u32(a, (uint32_t)(int32_t)(target - (a->p + 4)));
}

/* lea r, [rip + target] */
static inline void x86_lea_rip(X86Asm *a, int r, const uint8_t *target)
{
    x86_opc(a, OPC_LEA | P_REXW, r, 0, 0);
    x86_byte(a, 0x05 | (r & 7) << 3);
    x86_u32(a, (uint32_t)(int32_t)(target - (a->p + 4)));
}

static inline void x86_push(X86Asm *a, int r)
{
    x86_opc(a, 0x50 + (r & 7), 0, r, 0);
}

static inline void x86_pop(X86Asm *a, int r)
{
    x86_opc(a, 0x58 + (r & 7), 0, r, 0);
}

/* call/jmp to an absolute address: rel32 when reachable, else through scratch. */
static inline void x86_call_abs(X86Asm *a, const void *fn, int scratch)
{
    int64_t d = (const uint8_t *)fn - (a->p + 5);
    if (fits_i32(d)) {
        x86_byte(a, OPC_CALL_J32);
        x86_u32(a, (uint32_t)(int32_t)d);
    } else {
        x86_movi(a, true, scratch, (uint64_t)(uintptr_t)fn, false);
        x86_modrm(a, OPC_GRP5, EXT5_CALL, scratch);
    }
}

#endif
