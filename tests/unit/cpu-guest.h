/*
 * A bare machine for CPU unit tests: RAM at 0 and one CPU on the chosen
 * engine, just after RESET.  Each test then sets the mode it needs.
 * Tests run once per engine: loop index 0 = interpreter, 1 = x86-64 backend.
 */
#ifndef VX86_TESTS_CPU_GUEST_H
#define VX86_TESTS_CPU_GUEST_H

#include <stdint.h>
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"

typedef struct Guest {
    Machine *m;
    CPUState *cpu;
} Guest;

extern const char *const unit_engines[2];

Guest unit_guest_new(uint32_t ram_size, int engine);
/* Real mode, segments 0, code copied to and started at 0x1000, SP 0x8000. */
Guest unit_guest_new_real(uint32_t ram_size, int engine, const uint8_t *code, size_t len);
void unit_guest_free(Guest *g);

static inline uint32_t rd32(Guest *g, uint32_t a) { uint32_t v; memcpy(&v, g->m->ram + a, 4); return v; }
static inline uint64_t rd64(Guest *g, uint32_t a) { uint64_t v; memcpy(&v, g->m->ram + a, 8); return v; }
static inline void wr32(Guest *g, uint32_t a, uint32_t v) { memcpy(g->m->ram + a, &v, 4); }
static inline void wr64(Guest *g, uint32_t a, uint64_t v) { memcpy(g->m->ram + a, &v, 8); }

#endif
