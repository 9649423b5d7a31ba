/*
 * x87 / MMX / SSE translation (translate-fpu.c, translate-sse.c): the
 * availability check the block loop makes for every instruction, and the
 * handler-table entries translate-ops.c includes (X86_FPU_SSE_HANDLERS).
 */
#ifndef VX86_CPU_TRANSLATE_FPU_H
#define VX86_CPU_TRANSLATE_FPU_H

#include "cpu/translate.h"

/* The one CR0.EM/TS/MP + CR4.OSFXSR check for x87, MMX, SSE and FXSAVE
 * (SDM Vol. 3 Table 2-2 and Vol. 2 exception classes): emits #UD/#NM and
 * returns true when the instruction may not run in the current mode. */
bool gen_fpu_check(DisasContext *s, const X86Insn *insn);

#define X(n) void gen_##n(DisasContext *s, const X86Insn *insn);
/* translate-fpu.c */
X(FNINIT) X(FNCLEX) X(FNSTSW) X(FNSTCW) X(FLDCW) X(FWAIT) X(FNOP) X(FXSAVE) X(FXRSTOR)
X(LDMXCSR) X(STMXCSR) X(XSAVE) X(XRSTOR) X(XGETBV) X(XSETBV) X(EMMS)
#undef X

/* Handler-table rows (expanded inside x86_op_info[] of translate-ops.c,
 * where H() is defined). */
#define X86_FPU_HANDLERS \
    H(FNINIT, gen_FNINIT, 0, 0, false, true), \
    H(FNCLEX, gen_FNCLEX, 0, 0, false, true), \
    H(FNSTSW, gen_FNSTSW, 0, 0, false, true), \
    H(FNSTCW, gen_FNSTCW, 0, 0, false, true), \
    H(FLDCW, gen_FLDCW, 0, 0, false, true), \
    H(WAIT, gen_FWAIT, 0, 0, false, true), \
    H(FNOP, gen_FNOP, 0, 0, false, true), \
    H(FNENI, gen_FNOP, 0, 0, false, true), \
    H(FNDISI, gen_FNOP, 0, 0, false, true), \
    H(FNSETPM, gen_FNOP, 0, 0, false, true), \
    H(FXSAVE, gen_FXSAVE, 0, 0, false, true), \
    H(FXRSTOR, gen_FXRSTOR, 0, 0, false, true), \
    H(LDMXCSR, gen_LDMXCSR, 0, 0, false, true), \
    H(STMXCSR, gen_STMXCSR, 0, 0, false, true), \
    H(XSAVE, gen_XSAVE, 0, 0, false, true), \
    H(XSAVEOPT, gen_XSAVE, 0, 0, false, true), \
    H(XRSTOR, gen_XRSTOR, 0, 0, false, true), \
    H(XGETBV, gen_XGETBV, 0, 0, false, true), \
    H(XSETBV, gen_XSETBV, 0, 0, false, true), \
    H(EMMS, gen_EMMS, 0, 0, false, true)

#endif
