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
/* Whether insn is x87/MMX/SSE, so CR0.EM/TS/MP or CR4.OSFXSR can make it
 * fault (flag liveness treats it as a possible fault). */
bool fpu_insn_checks_cr0(const X86Insn *insn);
bool gen_fpu_check(DisasContext *s, const X86Insn *insn);

#define X(n) void gen_##n(DisasContext *s, const X86Insn *insn);
/* translate-fpu.c */
X(FNINIT) X(FNCLEX) X(FNSTSW) X(FNSTCW) X(FLDCW) X(FWAIT) X(FNOP) X(FXSAVE) X(FXRSTOR)
X(LDMXCSR) X(STMXCSR) X(XSAVE) X(XRSTOR) X(XGETBV) X(XSETBV) X(EMMS)
/* translate-sse.c */
X(SSE) X(MOVNTI)
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

#define X86_SSE_HANDLERS \
    H(ADDPS, gen_SSE, 0, 0, false, true), \
    H(ADDPD, gen_SSE, 0, 0, false, true), \
    H(ADDSS, gen_SSE, 0, 0, false, true), \
    H(ADDSD, gen_SSE, 0, 0, false, true), \
    H(ADDSUBPD, gen_SSE, 0, 0, false, true), \
    H(ADDSUBPS, gen_SSE, 0, 0, false, true), \
    H(ANDPS, gen_SSE, 0, 0, false, true), \
    H(ANDPD, gen_SSE, 0, 0, false, true), \
    H(ANDNPS, gen_SSE, 0, 0, false, true), \
    H(ANDNPD, gen_SSE, 0, 0, false, true), \
    H(BLENDPS, gen_SSE, 0, 0, false, true), \
    H(BLENDPD, gen_SSE, 0, 0, false, true), \
    H(BLENDVPS, gen_SSE, 0, 0, false, true), \
    H(BLENDVPD, gen_SSE, 0, 0, false, true), \
    H(CMPPS, gen_SSE, 0, 0, false, true), \
    H(CMPPD, gen_SSE, 0, 0, false, true), \
    H(CMPSS, gen_SSE, 0, 0, false, true), \
    H(CMPSD, gen_SSE, 0, 0, false, true), \
    H(COMISS, gen_SSE, 0, 0, true, true), \
    H(COMISD, gen_SSE, 0, 0, true, true), \
    H(CVTDQ2PD, gen_SSE, 0, 0, false, true), \
    H(CVTDQ2PS, gen_SSE, 0, 0, false, true), \
    H(CVTPD2DQ, gen_SSE, 0, 0, false, true), \
    H(CVTPD2PI, gen_SSE, 0, 0, false, true), \
    H(CVTPD2PS, gen_SSE, 0, 0, false, true), \
    H(CVTPI2PD, gen_SSE, 0, 0, false, true), \
    H(CVTPI2PS, gen_SSE, 0, 0, false, true), \
    H(CVTPS2DQ, gen_SSE, 0, 0, false, true), \
    H(CVTPS2PD, gen_SSE, 0, 0, false, true), \
    H(CVTPS2PI, gen_SSE, 0, 0, false, true), \
    H(CVTSD2SI, gen_SSE, 0, 0, false, true), \
    H(CVTSD2SS, gen_SSE, 0, 0, false, true), \
    H(CVTSI2SD, gen_SSE, 0, 0, false, true), \
    H(CVTSI2SS, gen_SSE, 0, 0, false, true), \
    H(CVTSS2SD, gen_SSE, 0, 0, false, true), \
    H(CVTSS2SI, gen_SSE, 0, 0, false, true), \
    H(CVTTPD2DQ, gen_SSE, 0, 0, false, true), \
    H(CVTTPD2PI, gen_SSE, 0, 0, false, true), \
    H(CVTTPS2DQ, gen_SSE, 0, 0, false, true), \
    H(CVTTPS2PI, gen_SSE, 0, 0, false, true), \
    H(CVTTSD2SI, gen_SSE, 0, 0, false, true), \
    H(CVTTSS2SI, gen_SSE, 0, 0, false, true), \
    H(DIVPS, gen_SSE, 0, 0, false, true), \
    H(DIVPD, gen_SSE, 0, 0, false, true), \
    H(DIVSS, gen_SSE, 0, 0, false, true), \
    H(DIVSD, gen_SSE, 0, 0, false, true), \
    H(DPPS, gen_SSE, 0, 0, false, true), \
    H(DPPD, gen_SSE, 0, 0, false, true), \
    H(EXTRACTPS, gen_SSE, 0, 0, false, true), \
    H(HADDPD, gen_SSE, 0, 0, false, true), \
    H(HADDPS, gen_SSE, 0, 0, false, true), \
    H(HSUBPD, gen_SSE, 0, 0, false, true), \
    H(HSUBPS, gen_SSE, 0, 0, false, true), \
    H(INSERTPS, gen_SSE, 0, 0, false, true), \
    H(LDDQU, gen_SSE, 0, 0, false, true), \
    H(MASKMOVDQU, gen_SSE, 0, 0, false, true), \
    H(MASKMOVQ, gen_SSE, 0, 0, false, true), \
    H(MAXPS, gen_SSE, 0, 0, false, true), \
    H(MAXPD, gen_SSE, 0, 0, false, true), \
    H(MAXSS, gen_SSE, 0, 0, false, true), \
    H(MAXSD, gen_SSE, 0, 0, false, true), \
    H(MINPS, gen_SSE, 0, 0, false, true), \
    H(MINPD, gen_SSE, 0, 0, false, true), \
    H(MINSS, gen_SSE, 0, 0, false, true), \
    H(MINSD, gen_SSE, 0, 0, false, true), \
    H(MOVAPS, gen_SSE, 0, 0, false, true), \
    H(MOVAPD, gen_SSE, 0, 0, false, true), \
    H(MOVD, gen_SSE, 0, 0, false, true), \
    H(MOVDDUP, gen_SSE, 0, 0, false, true), \
    H(MOVDQA, gen_SSE, 0, 0, false, true), \
    H(MOVDQU, gen_SSE, 0, 0, false, true), \
    H(MOVDQ2Q, gen_SSE, 0, 0, false, true), \
    H(MOVHLPS, gen_SSE, 0, 0, false, true), \
    H(MOVHPS, gen_SSE, 0, 0, false, true), \
    H(MOVHPD, gen_SSE, 0, 0, false, true), \
    H(MOVLHPS, gen_SSE, 0, 0, false, true), \
    H(MOVLPS, gen_SSE, 0, 0, false, true), \
    H(MOVLPD, gen_SSE, 0, 0, false, true), \
    H(MOVMSKPS, gen_SSE, 0, 0, false, true), \
    H(MOVMSKPD, gen_SSE, 0, 0, false, true), \
    H(MOVNTDQ, gen_SSE, 0, 0, false, true), \
    H(MOVNTDQA, gen_SSE, 0, 0, false, true), \
    H(MOVNTPS, gen_SSE, 0, 0, false, true), \
    H(MOVNTPD, gen_SSE, 0, 0, false, true), \
    H(MOVNTQ, gen_SSE, 0, 0, false, true), \
    H(MOVQ, gen_SSE, 0, 0, false, true), \
    H(MOVQ2DQ, gen_SSE, 0, 0, false, true), \
    H(MOVSD, gen_SSE, 0, 0, false, true), \
    H(MOVSHDUP, gen_SSE, 0, 0, false, true), \
    H(MOVSLDUP, gen_SSE, 0, 0, false, true), \
    H(MOVSS, gen_SSE, 0, 0, false, true), \
    H(MOVUPS, gen_SSE, 0, 0, false, true), \
    H(MOVUPD, gen_SSE, 0, 0, false, true), \
    H(MPSADBW, gen_SSE, 0, 0, false, true), \
    H(MULPS, gen_SSE, 0, 0, false, true), \
    H(MULPD, gen_SSE, 0, 0, false, true), \
    H(MULSS, gen_SSE, 0, 0, false, true), \
    H(MULSD, gen_SSE, 0, 0, false, true), \
    H(ORPS, gen_SSE, 0, 0, false, true), \
    H(ORPD, gen_SSE, 0, 0, false, true), \
    H(PABSB, gen_SSE, 0, 0, false, true), \
    H(PABSW, gen_SSE, 0, 0, false, true), \
    H(PABSD, gen_SSE, 0, 0, false, true), \
    H(PACKSSWB, gen_SSE, 0, 0, false, true), \
    H(PACKSSDW, gen_SSE, 0, 0, false, true), \
    H(PACKUSWB, gen_SSE, 0, 0, false, true), \
    H(PACKUSDW, gen_SSE, 0, 0, false, true), \
    H(PADDB, gen_SSE, 0, 0, false, true), \
    H(PADDW, gen_SSE, 0, 0, false, true), \
    H(PADDD, gen_SSE, 0, 0, false, true), \
    H(PADDQ, gen_SSE, 0, 0, false, true), \
    H(PADDSB, gen_SSE, 0, 0, false, true), \
    H(PADDSW, gen_SSE, 0, 0, false, true), \
    H(PADDUSB, gen_SSE, 0, 0, false, true), \
    H(PADDUSW, gen_SSE, 0, 0, false, true), \
    H(PALIGNR, gen_SSE, 0, 0, false, true), \
    H(PAND, gen_SSE, 0, 0, false, true), \
    H(PANDN, gen_SSE, 0, 0, false, true), \
    H(PAVGB, gen_SSE, 0, 0, false, true), \
    H(PAVGW, gen_SSE, 0, 0, false, true), \
    H(PBLENDVB, gen_SSE, 0, 0, false, true), \
    H(PBLENDW, gen_SSE, 0, 0, false, true), \
    H(PCLMULQDQ, gen_SSE, 0, 0, false, true), \
    H(PCMPEQB, gen_SSE, 0, 0, false, true), \
    H(PCMPEQW, gen_SSE, 0, 0, false, true), \
    H(PCMPEQD, gen_SSE, 0, 0, false, true), \
    H(PCMPEQQ, gen_SSE, 0, 0, false, true), \
    H(PCMPGTB, gen_SSE, 0, 0, false, true), \
    H(PCMPGTW, gen_SSE, 0, 0, false, true), \
    H(PCMPGTD, gen_SSE, 0, 0, false, true), \
    H(PCMPGTQ, gen_SSE, 0, 0, false, true), \
    H(PEXTRB, gen_SSE, 0, 0, false, true), \
    H(PEXTRW, gen_SSE, 0, 0, false, true), \
    H(PEXTRD, gen_SSE, 0, 0, false, true), \
    H(PHADDW, gen_SSE, 0, 0, false, true), \
    H(PHADDD, gen_SSE, 0, 0, false, true), \
    H(PHADDSW, gen_SSE, 0, 0, false, true), \
    H(PHMINPOSUW, gen_SSE, 0, 0, false, true), \
    H(PHSUBW, gen_SSE, 0, 0, false, true), \
    H(PHSUBD, gen_SSE, 0, 0, false, true), \
    H(PHSUBSW, gen_SSE, 0, 0, false, true), \
    H(PINSRB, gen_SSE, 0, 0, false, true), \
    H(PINSRW, gen_SSE, 0, 0, false, true), \
    H(PINSRD, gen_SSE, 0, 0, false, true), \
    H(PMADDUBSW, gen_SSE, 0, 0, false, true), \
    H(PMADDWD, gen_SSE, 0, 0, false, true), \
    H(PMAXSB, gen_SSE, 0, 0, false, true), \
    H(PMAXSW, gen_SSE, 0, 0, false, true), \
    H(PMAXSD, gen_SSE, 0, 0, false, true), \
    H(PMAXUB, gen_SSE, 0, 0, false, true), \
    H(PMAXUW, gen_SSE, 0, 0, false, true), \
    H(PMAXUD, gen_SSE, 0, 0, false, true), \
    H(PMINSB, gen_SSE, 0, 0, false, true), \
    H(PMINSW, gen_SSE, 0, 0, false, true), \
    H(PMINSD, gen_SSE, 0, 0, false, true), \
    H(PMINUB, gen_SSE, 0, 0, false, true), \
    H(PMINUW, gen_SSE, 0, 0, false, true), \
    H(PMINUD, gen_SSE, 0, 0, false, true), \
    H(PMOVMSKB, gen_SSE, 0, 0, false, true), \
    H(PMOVSXBW, gen_SSE, 0, 0, false, true), \
    H(PMOVSXBD, gen_SSE, 0, 0, false, true), \
    H(PMOVSXBQ, gen_SSE, 0, 0, false, true), \
    H(PMOVSXWD, gen_SSE, 0, 0, false, true), \
    H(PMOVSXWQ, gen_SSE, 0, 0, false, true), \
    H(PMOVSXDQ, gen_SSE, 0, 0, false, true), \
    H(PMOVZXBW, gen_SSE, 0, 0, false, true), \
    H(PMOVZXBD, gen_SSE, 0, 0, false, true), \
    H(PMOVZXBQ, gen_SSE, 0, 0, false, true), \
    H(PMOVZXWD, gen_SSE, 0, 0, false, true), \
    H(PMOVZXWQ, gen_SSE, 0, 0, false, true), \
    H(PMOVZXDQ, gen_SSE, 0, 0, false, true), \
    H(PMULDQ, gen_SSE, 0, 0, false, true), \
    H(PMULHRSW, gen_SSE, 0, 0, false, true), \
    H(PMULHUW, gen_SSE, 0, 0, false, true), \
    H(PMULHW, gen_SSE, 0, 0, false, true), \
    H(PMULLD, gen_SSE, 0, 0, false, true), \
    H(PMULLW, gen_SSE, 0, 0, false, true), \
    H(PMULUDQ, gen_SSE, 0, 0, false, true), \
    H(POR, gen_SSE, 0, 0, false, true), \
    H(PSADBW, gen_SSE, 0, 0, false, true), \
    H(PSHUFB, gen_SSE, 0, 0, false, true), \
    H(PSHUFD, gen_SSE, 0, 0, false, true), \
    H(PSHUFHW, gen_SSE, 0, 0, false, true), \
    H(PSHUFLW, gen_SSE, 0, 0, false, true), \
    H(PSHUFW, gen_SSE, 0, 0, false, true), \
    H(PSIGNB, gen_SSE, 0, 0, false, true), \
    H(PSIGNW, gen_SSE, 0, 0, false, true), \
    H(PSIGND, gen_SSE, 0, 0, false, true), \
    H(PSLLW, gen_SSE, 0, 0, false, true), \
    H(PSLLD, gen_SSE, 0, 0, false, true), \
    H(PSLLQ, gen_SSE, 0, 0, false, true), \
    H(PSLLDQ, gen_SSE, 0, 0, false, true), \
    H(PSRAW, gen_SSE, 0, 0, false, true), \
    H(PSRAD, gen_SSE, 0, 0, false, true), \
    H(PSRLW, gen_SSE, 0, 0, false, true), \
    H(PSRLD, gen_SSE, 0, 0, false, true), \
    H(PSRLQ, gen_SSE, 0, 0, false, true), \
    H(PSRLDQ, gen_SSE, 0, 0, false, true), \
    H(PSUBB, gen_SSE, 0, 0, false, true), \
    H(PSUBW, gen_SSE, 0, 0, false, true), \
    H(PSUBD, gen_SSE, 0, 0, false, true), \
    H(PSUBQ, gen_SSE, 0, 0, false, true), \
    H(PSUBSB, gen_SSE, 0, 0, false, true), \
    H(PSUBSW, gen_SSE, 0, 0, false, true), \
    H(PSUBUSB, gen_SSE, 0, 0, false, true), \
    H(PSUBUSW, gen_SSE, 0, 0, false, true), \
    H(PTEST, gen_SSE, 0, 0, true, true), \
    H(PUNPCKHBW, gen_SSE, 0, 0, false, true), \
    H(PUNPCKHWD, gen_SSE, 0, 0, false, true), \
    H(PUNPCKHDQ, gen_SSE, 0, 0, false, true), \
    H(PUNPCKHQDQ, gen_SSE, 0, 0, false, true), \
    H(PUNPCKLBW, gen_SSE, 0, 0, false, true), \
    H(PUNPCKLWD, gen_SSE, 0, 0, false, true), \
    H(PUNPCKLDQ, gen_SSE, 0, 0, false, true), \
    H(PUNPCKLQDQ, gen_SSE, 0, 0, false, true), \
    H(PXOR, gen_SSE, 0, 0, false, true), \
    H(RCPPS, gen_SSE, 0, 0, false, true), \
    H(RCPSS, gen_SSE, 0, 0, false, true), \
    H(ROUNDPS, gen_SSE, 0, 0, false, true), \
    H(ROUNDPD, gen_SSE, 0, 0, false, true), \
    H(ROUNDSS, gen_SSE, 0, 0, false, true), \
    H(ROUNDSD, gen_SSE, 0, 0, false, true), \
    H(RSQRTPS, gen_SSE, 0, 0, false, true), \
    H(RSQRTSS, gen_SSE, 0, 0, false, true), \
    H(SHUFPS, gen_SSE, 0, 0, false, true), \
    H(SHUFPD, gen_SSE, 0, 0, false, true), \
    H(SQRTPS, gen_SSE, 0, 0, false, true), \
    H(SQRTPD, gen_SSE, 0, 0, false, true), \
    H(SQRTSS, gen_SSE, 0, 0, false, true), \
    H(SQRTSD, gen_SSE, 0, 0, false, true), \
    H(SUBPS, gen_SSE, 0, 0, false, true), \
    H(SUBPD, gen_SSE, 0, 0, false, true), \
    H(SUBSS, gen_SSE, 0, 0, false, true), \
    H(SUBSD, gen_SSE, 0, 0, false, true), \
    H(UCOMISS, gen_SSE, 0, 0, true, true), \
    H(UCOMISD, gen_SSE, 0, 0, true, true), \
    H(UNPCKHPS, gen_SSE, 0, 0, false, true), \
    H(UNPCKHPD, gen_SSE, 0, 0, false, true), \
    H(UNPCKLPS, gen_SSE, 0, 0, false, true), \
    H(UNPCKLPD, gen_SSE, 0, 0, false, true), \
    H(XORPS, gen_SSE, 0, 0, false, true), \
    H(XORPD, gen_SSE, 0, 0, false, true), \
    H(AESDEC, gen_SSE, 0, 0, false, true), \
    H(AESDECLAST, gen_SSE, 0, 0, false, true), \
    H(AESENC, gen_SSE, 0, 0, false, true), \
    H(AESENCLAST, gen_SSE, 0, 0, false, true), \
    H(AESIMC, gen_SSE, 0, 0, false, true), \
    H(AESKEYGENASSIST, gen_SSE, 0, 0, false, true), \
    H(MOVNTI, gen_MOVNTI, 0, 0, false, false)

#endif
