/*
 * x87 / MMX / SSE / XSAVE: declarations shared by the translator files
 * (translate-fpu.c, translate-sse.c) and their helpers (helpers-fpu.c,
 * helpers-sse.c).  The state itself is in CPUState (cpu/cpu.h); the
 * approach and the instruction groups are described in docs/cpu.md.
 */
#ifndef VX86_CPU_FPU_H
#define VX86_CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "tcg/ir.h"

/* x87 status word bits */
enum {
    FSW_IE = 1u << 0, FSW_DE = 1u << 1, FSW_ZE = 1u << 2, FSW_OE = 1u << 3,
    FSW_UE = 1u << 4, FSW_PE = 1u << 5, FSW_SF = 1u << 6, FSW_ES = 1u << 7,
    FSW_C0 = 1u << 8, FSW_C1 = 1u << 9, FSW_C2 = 1u << 10, FSW_TOP = 7u << 11,
    FSW_C3 = 1u << 14, FSW_B = 1u << 15,
    FSW_EXC = 0x3f,
};
#define FPUC_DEFAULT 0x037f

/* helpers-fpu.c: control, state save/restore */
extern const IRHelper hlp_fninit, hlp_fnclex, hlp_fldcw, hlp_fnstsw, hlp_fwait,
    hlp_fxsave, hlp_fxrstor, hlp_ldmxcsr, hlp_stmxcsr, hlp_xsave, hlp_xrstor, hlp_xgetbv, hlp_xsetbv,
    hlp_fpu_enter_mmx, hlp_emms;
/* the x87 status word with TOP */
uint16_t fpu_get_fsw(const CPUState *cpu);
/* sets ES/B from the exception flags and the control word masks */
void fpu_update_es(CPUState *cpu);

/* helpers-x87.c: helper_x87(env, lin, opcode << 8 | modrm, eflags) runs
 * one D8-DF instruction; helper_x87_env(env, lin, kind, opsize | real << 8)
 * does FNSTENV (0), FLDENV (1), FNSAVE (2), FRSTOR (3). */
extern const IRHelper hlp_x87, hlp_x87_env;
/* Memory operand size (0: none) and direction of x87 opcode /reg. */
unsigned x87_operand_size(unsigned opcode, unsigned reg, bool *write);

/* helpers-sse-int.c: helper_sse_int(env, mnem, dst_off, src_off, arg),
 * arg = imm8 | width << 8 | SSEI_IMMCOUNT */
enum { SSEI_IMMCOUNT = 1u << 16, SSE_Q64 = 1u << 17 };
extern const IRHelper hlp_sse_int;
/* helpers-sse-crypto.c: AES rounds (false: not a crypto mnemonic) */
bool sse_int_op_crypto(unsigned mnem, XMMReg *r, const XMMReg *a, const XMMReg *b,
                       unsigned imm);
/* helpers-sse-str.c: PCMPxSTRx (op = mnem | imm8 << 16 | REX.W << 24,
 * returns flags | index << 16) and CRC32 (crc, value, bytes) */
extern const IRHelper hlp_pcmpstr, hlp_crc32;
/* The two implementations behind hlp_pcmpstr, for the unit tests: the
 * generic one (the -M forms store into *mask), and the host's own SSE4.2
 * instruction for PCMPISTRI and 32-bit PCMPESTRI (false: not available for
 * this op or host). */
uint64_t pcmpstr_generic(uint64_t op, const XMMReg *a, const XMMReg *b, uint64_t rax,
                         uint64_t rdx, XMMReg *mask);
bool pcmpstr_host(uint64_t op, const XMMReg *a, const XMMReg *b, uint64_t rax, uint64_t rdx,
                  uint64_t *res);
bool pcmpstr_host_ok(void);
/* helpers-sse.c: floating point (host SSE under the guest MXCSR) and
 * operations with general-register operands or flag results */
extern const IRHelper hlp_sse_fp, hlp_sse_cvt2int, hlp_sse_cvtfromint, hlp_sse_comi,
    hlp_sse_toreg, hlp_sse_fromreg, hlp_sse_maskmov, hlp_sse_ptest, hlp_probe_write16;

#endif
