/*
 * x87 / MMX / SSE translation (translate-fpu.c, translate-sse.c): the
 * availability check the block loop makes for every instruction.  The
 * handlers are declared by cpu/translate.h from the table.
 */
#ifndef VX86_CPU_TRANSLATE_FPU_H
#define VX86_CPU_TRANSLATE_FPU_H

#include "cpu/translate.h"

/* The one CR0.EM/TS/MP + CR4.OSFXSR check for x87, MMX, SSE and FXSAVE
 * (SDM Vol. 3 Table 2-2 and Vol. 2 exception classes): emits #UD/#NM and
 * returns true when the instruction may not run in the current mode. */
/* Whether insn is x87/MMX/SSE, so CR0.EM/TS/MP or CR4.OSFXSR can make it
 * fault (flag liveness treats it as a possible fault). */
bool fpu_insn_checks_cr0(const X86Insn *insn);
bool gen_fpu_check(DisasContext *s, const X86Insn *insn);

#endif
