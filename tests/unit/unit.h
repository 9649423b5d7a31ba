/*
 * Every test file in tests/unit registers its Check suite with UNIT_SUITE(fn);
 * the one runner (tests/unit/run.c) collects them all, so adding a suite
 * needs no list to edit.  Run one suite with CK_RUN_SUITE=name.
 */
#ifndef VX86_TESTS_UNIT_H
#define VX86_TESTS_UNIT_H

#include <check.h>
#include <stddef.h>

#include "core/vmstate.h"

typedef Suite *(*UnitSuiteFn)(void);
void unit_register_suite(UnitSuiteFn fn);

#define UNIT_SUITE(fn) \
    static void __attribute__((constructor)) register_##fn(void) \
    { unit_register_suite(fn); }

/* Overwrites the first n bytes of the nth occurrence of field `field`
 * (after section `section`'s header when it is not NULL) in a saved state
 * stream and fixes its CRC: a well-formed stream with an impossible value. */
void unit_stream_patch(VMBuf *b, const char *section, const char *field, int nth,
                       const void *bytes, size_t n);

#endif
