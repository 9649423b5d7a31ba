/*
 * The flag emitters of cpu/translate-flags.c that only the block builder
 * (cpu/translate.c) uses, for the guessed cc_op of a block's first flag
 * reader.  The ones every handler uses (gen_set_cc, gen_compute_eflags,
 * gen_cond ...) are in cpu/translate.h.
 */
#ifndef VX86_CPU_TRANSLATE_FLAGS_H
#define VX86_CPU_TRANSLATE_FLAGS_H

#include "cpu/translate.h"

/* CF for the statically known s->cc_op (CC_OP_DYNAMIC: the helper). */
IRTemp gen_compute_cf_static(DisasContext *s);
/* Condition `cond` (x86 encoding) as 0/1 for the statically known cc_op. */
IRTemp gen_cond_value(DisasContext *s, int cond);
/* Whether guessing s->cc_guess gives the reader an inline path. */
bool cc_guess_useful(DisasContext *s, bool cond_reader, int cond);
/* The six flags for an unknown cc_op: the common kinds inline, checked at
 * run time, else the helper. */
IRTemp gen_flags_dynamic(DisasContext *s);

#endif
