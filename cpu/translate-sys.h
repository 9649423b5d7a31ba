/*
 * Shared pieces of translate-sys.c (system, far control, interrupts, string
 * and I/O instructions); its handlers are declared by cpu/translate.h from
 * the table.
 */
#ifndef VX86_CPU_TRANSLATE_SYS_H
#define VX86_CPU_TRANSLATE_SYS_H

#include "cpu/translate.h"

void gen_load_seg(DisasContext *s, int seg, IRTemp sel);
void gen_mov_crdr(DisasContext *s, const X86Insn *insn);

#endif
