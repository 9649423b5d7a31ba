/*
 * Extra entry points of the x86-64 backend beyond the IREngine interface
 * (tcg/engine.h), for tests and tuning: a code buffer of a chosen size
 * and host-feature masking (to exercise the fallbacks for lzcnt, tzcnt,
 * popcnt, andn and shlx on hosts that have them).
 *
 *   IREngineCtx *c = x86_64_create_sized(&tgt, 64 * 1024);
 *   x86_64_set_features(c, 0);       // bsr/bsf/SWAR fallbacks only
 */
#ifndef VX86_TCG_X86_64_X86_64_H
#define VX86_TCG_X86_64_X86_64_H

#include <stddef.h>

#include "tcg/engine.h"

#define X86_64_DEFAULT_CODE_SIZE (128u << 20)

IREngineCtx *x86_64_create_sized(const IREngineTarget *tgt, size_t code_size);
/* Host features in use (X86_HAS_* bits of tcg/x86_64/backend.h). */
unsigned x86_64_features(const IREngineCtx *ctx);
/* Restricts the features used for later compiles (host ones only). */
void x86_64_set_features(IREngineCtx *ctx, unsigned mask);

#endif
