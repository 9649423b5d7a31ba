/*
 * The rows of cpu/opcodes.def as data, and the notation the table is
 * written in: one header for the decoder (cpu/decode.c, which expands the
 * rows into x86_op_rows[]) and the programs that generate instructions from
 * the rows (tests/cpu/decodefuzz.c, tests/cpu/hostdiff-gen.c, which read
 * x86_op_rows[]).
 *
 * A row's selector `sel` is a (mask, value) pair over a 13-bit selection
 * key built from the instruction: ModRM rm/reg/mod==3, the mandatory prefix
 * class, REX.W, 64-bit mode, REX.B and VEX.  A row matches when
 * (key & X86_SEL_MASK(sel)) == X86_SEL_VAL(sel).
 */
#ifndef VX86_CPU_OPCODES_H
#define VX86_CPU_OPCODES_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/decode.h"

/* ---- selection key bits ---- */
enum {
    X86_KEY_RM = 0x007,
    X86_KEY_REG = 0x038,
    X86_KEY_MOD3 = 0x040,
    X86_KEY_PFX = 0x180,      /* 0 none, 0x80 66, 0x100 F3, 0x180 F2 */
    X86_KEY_W = 0x200,
    X86_KEY_X64 = 0x400,
    X86_KEY_B = 0x800,
    X86_KEY_VEX = 0x1000,     /* VEX-encoded (rows with the VX selector) */
    X86_KEY_MODRM_BITS = X86_KEY_RM | X86_KEY_REG | X86_KEY_MOD3,
};
#define X86_SEL(mask, val) (((uint32_t)(mask) << 16) | (uint32_t)(val))
#define X86_SEL_MASK(s) ((uint16_t)((s) >> 16))
#define X86_SEL_VAL(s) ((uint16_t)((s) & 0xffff))

/* Row flag of the table only: ModRM.mod is ignored (MOV to/from CRn/DRn). */
#define X86_F_FREG (1u << 16)

/* One OP() row. */
typedef struct X86OpRow {
    uint32_t sel;
    uint32_t flags;          /* X86_F_* (and X86_F_FREG) */
    uint16_t mnem;           /* X86Mnem */
    uint16_t ops[3];         /* X86_OPND() specs, Intel order */
    uint8_t map, opcode, feature;
} X86OpRow;

/* Every OP() row of cpu/opcodes.def, in table order (cpu/decode.c). */
extern const X86OpRow x86_op_rows[];
extern const size_t x86_op_nrows;

#endif

/*
 * The notation of the OP() rows (documented at the top of cpu/opcodes.def),
 * for the file that expands them (cpu/decode.c):
 *
 *     #define X86_OPCODES_NOTATION
 *     #include "cpu/opcodes.h"          defines ANY RG() NP LK O() NO OP() ...
 *     ... #include "cpu/opcodes.def" ...
 *     #undef X86_OPCODES_NOTATION
 *     #include "cpu/opcodes.h"          undefines them again
 *
 * (outside the include guard on purpose).
 */
#if defined(X86_OPCODES_NOTATION) && !defined(X86_OPCODES_NOTATION_ON)
#define X86_OPCODES_NOTATION_ON
#define ANY 0
#define RG(n) X86_SEL(X86_KEY_REG, (n) << 3)
#define RM(n) X86_SEL(X86_KEY_RM, (n))
#define M3 X86_SEL(X86_KEY_MOD3, X86_KEY_MOD3)
#define MEM X86_SEL(X86_KEY_MOD3, 0)
#define NP X86_SEL(X86_KEY_PFX, 0)
#define P66 X86_SEL(X86_KEY_PFX, 0x80)
#define PF3 X86_SEL(X86_KEY_PFX, 0x100)
#define PF2 X86_SEL(X86_KEY_PFX, 0x180)
#define W0 X86_SEL(X86_KEY_W, 0)
#define W1 X86_SEL(X86_KEY_W, X86_KEY_W)
#define X64 X86_SEL(X86_KEY_X64, X86_KEY_X64)
#define N64 X86_SEL(X86_KEY_X64, 0)
#define B0 X86_SEL(X86_KEY_B, 0)
#define B1 X86_SEL(X86_KEY_B, X86_KEY_B)
#define VX X86_SEL(X86_KEY_VEX, X86_KEY_VEX)
#define LK X86_F_LOCK
#define I64 X86_F_I64
#define O64 X86_F_O64
#define D64 X86_F_D64
#define F64 X86_F_F64
#define REP X86_F_REP
#define REPNE X86_F_REPNE
#define PRIV X86_F_PRIV
#define SER X86_F_SERIAL
#define BR X86_F_BRANCH
#define END X86_F_ENDBLOCK
#define IO X86_F_IO
#define SHD X86_F_SHADOW
#define UNDOC X86_F_UNDOC
#define FREG X86_F_FREG
#define UNIMPL X86_F_UNIMPL
#define O(am, sz) X86_OPND(am, sz)
#define NO 0
#define OP(map_, opc, sel_, mn, fl, feat, o1, o2, o3)                     \
    { .sel = (sel_), .flags = (fl), .mnem = X86_##mn, .ops = { o1, o2, o3 }, \
      .map = X86_MAP_##map_, .opcode = (opc), .feature = X86_FEAT_##feat },
#elif !defined(X86_OPCODES_NOTATION) && defined(X86_OPCODES_NOTATION_ON)
#undef X86_OPCODES_NOTATION_ON
#undef ANY
#undef RG
#undef RM
#undef M3
#undef MEM
#undef NP
#undef P66
#undef PF3
#undef PF2
#undef W0
#undef W1
#undef X64
#undef N64
#undef B0
#undef B1
#undef VX
#undef LK
#undef I64
#undef O64
#undef D64
#undef F64
#undef REP
#undef REPNE
#undef PRIV
#undef SER
#undef BR
#undef END
#undef IO
#undef SHD
#undef UNDOC
#undef FREG
#undef UNIMPL
#undef O
#undef NO
#undef OP
#endif
