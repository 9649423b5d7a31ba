/*
 * BMI1/BMI2 handlers (cpu/translate-bmi.c) and their rows of the handler
 * table x86_op_info[] (translate-ops.c includes X86_BMI_HANDLERS).
 */
#ifndef VX86_CPU_TRANSLATE_BMI_H
#define VX86_CPU_TRANSLATE_BMI_H

#include "cpu/translate.h"

void gen_ANDN(DisasContext *s, const X86Insn *insn);
void gen_BEXTR(DisasContext *s, const X86Insn *insn);
void gen_BLSI(DisasContext *s, const X86Insn *insn);
void gen_BLSMSK(DisasContext *s, const X86Insn *insn);
void gen_BLSR(DisasContext *s, const X86Insn *insn);
void gen_BZHI(DisasContext *s, const X86Insn *insn);
void gen_MULX(DisasContext *s, const X86Insn *insn);
void gen_PDEP(DisasContext *s, const X86Insn *insn);
void gen_PEXT(DisasContext *s, const X86Insn *insn);
void gen_RORX(DisasContext *s, const X86Insn *insn);
void gen_SARX(DisasContext *s, const X86Insn *insn);
void gen_SHLX(DisasContext *s, const X86Insn *insn);
void gen_SHRX(DisasContext *s, const X86Insn *insn);

/* All may raise #UD (real and virtual-8086 mode), so all are "fault". The
 * BMI1 ones (and BZHI) write all six flags; the other BMI2 ones none. */
#define X86_BMI_HANDLERS \
    H(ANDN, gen_ANDN, 0, 0, true, true), \
    H(BEXTR, gen_BEXTR, 0, 0, true, true), \
    H(BLSI, gen_BLSI, 0, 0, true, true), \
    H(BLSMSK, gen_BLSMSK, 0, 0, true, true), \
    H(BLSR, gen_BLSR, 0, 0, true, true), \
    H(BZHI, gen_BZHI, 0, 0, true, true), \
    H(MULX, gen_MULX, 0, 0, false, true), \
    H(PDEP, gen_PDEP, 0, 0, false, true), \
    H(PEXT, gen_PEXT, 0, 0, false, true), \
    H(RORX, gen_RORX, 0, 0, false, true), \
    H(SARX, gen_SARX, 0, 0, false, true), \
    H(SHLX, gen_SHLX, 0, 0, false, true), \
    H(SHRX, gen_SHRX, 0, 0, false, true)

#endif
