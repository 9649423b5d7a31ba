/*
 * Handlers of translate-sys.c (system, far control, interrupts, string and
 * I/O instructions), listed in the handler table of translate-ops.c.
 */
#ifndef VX86_CPU_TRANSLATE_SYS_H
#define VX86_CPU_TRANSLATE_SYS_H

#include "cpu/translate.h"

void gen_load_seg(DisasContext *s, int seg, IRTemp sel);
void gen_mov_crdr(DisasContext *s, const X86Insn *insn);

#define X(n) void gen_##n(DisasContext *s, const X86Insn *insn);
X(PUSHF) X(POPF) X(ENTER) X(JMPF) X(CALLF) X(RETF) X(IRET) X(INT) X(INT3) X(INT1)
X(INTO) X(BOUND) X(HLT) X(CLI) X(STI) X(IN) X(OUT) X(MOVS) X(STOS) X(LODS) X(CMPS)
X(SCAS) X(INS) X(OUTS) X(LxS) X(CPUID) X(RDTSC) X(RDTSCP) X(RDPMC) X(RDMSR) X(WRMSR)
X(LGDT) X(LIDT) X(SGDT) X(SIDT) X(LLDT) X(LTR) X(SLDT) X(STR) X(LMSW) X(SMSW) X(CLTS)
X(INVLPG) X(LAR) X(LSL) X(VERR) X(VERW) X(ARPL) X(SYSCALL) X(SYSRET) X(SYSENTER)
X(SYSEXIT) X(SWAPGS) X(CLAC) X(STAC) X(RDFSGSBASE) X(WRFSGSBASE)
#undef X

#endif
