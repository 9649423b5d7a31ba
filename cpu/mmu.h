/*
 * Linear -> physical translation (paging), the soft-TLB fill, and the
 * guest-memory slow paths the engines call (x86_guest_mem).  Helpers use
 * cpu_ld/cpu_st: they fault like translated code does.
 */
#ifndef VX86_CPU_MMU_H
#define VX86_CPU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "tcg/interp.h"

typedef enum MMUAccess { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 } MMUAccess;

extern const IRGuestMemOps x86_guest_mem;

/* IRMemOp flag: a stack (SS) reference in 64-bit mode; a non-canonical
 * address raises #SS(0) instead of #GP(0). */
#define MO_STACK IR_MO_FE_FLAG

/* Loads/stores of 1, 2, 4 or 8 bytes at a linear address.  ra: the caller's
 * fault point (0 when env->rip already names the current instruction). */
uint64_t cpu_ld(CPUState *cpu, uint64_t lin, unsigned size, int mmu, uintptr_t ra);
void cpu_st(CPUState *cpu, uint64_t lin, uint64_t val, unsigned size, int mmu, uintptr_t ra);
/* Checks that [lin, lin+len) can be written (faults as a store would),
 * so multi-part stores can be made atomic with respect to faults. */
void cpu_probe_write(CPUState *cpu, uint64_t lin, unsigned len, int mmu, uintptr_t ra);

/* An atomic read-modify-write of 1 << sz bytes at lin (LOCK-prefixed
 * instructions): faults as a store; one host atomic when the bytes are in
 * one RAM page, else serialised on the machine's split-atomic lock
 * (cpu/smp.h).  Returns the old value.  v/nv as ir_atomic_apply. */
uint64_t cpu_atomic_rmw(CPUState *cpu, uint64_t lin, unsigned sz, IRAtomicOp op, uint64_t v,
                        uint64_t nv, int mmu, uintptr_t ra);
/* CMPXCHG16B's access (lin 16-byte aligned): old gets the memory's value;
 * true when it equalled cmp and nv was written. */
bool cpu_atomic_cmpxchg16(CPUState *cpu, uint64_t lin, const uint64_t cmp[2],
                          const uint64_t nv[2], uint64_t old[2], int mmu, uintptr_t ra);

/* Host address of lin when the soft TLB already maps its page as plain
 * RAM for this access (for a write: no translated code on the page), else
 * NULL.  Fills nothing and never faults: bulk paths (REP MOVS/STOS) use
 * it and fall back to cpu_ld/cpu_st, which fill and fault exactly.  The
 * result is valid up to the end of lin's page. */
uint8_t *cpu_tlb_host_page(CPUState *cpu, uint64_t lin, bool write, int mmu);

/* Page walk without side effects on failure.  Returns 0 and the physical
 * address, or the exception vector (EXC_PF, EXC_GP) and the #PF error
 * code.  set_ad: update accessed/dirty bits. */
int mmu_translate(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, bool set_ad,
                  uint64_t *phys, uint32_t *pf_error);

/* Code fetch for the translator: copies up to len bytes at lin, stopping
 * at the first byte that cannot be fetched; returns the count.  *phys
 * gets the physical address of the first byte. */
size_t mmu_fetch_code(CPUState *cpu, uint64_t lin, uint8_t *buf, size_t len, uint64_t *phys);
/* Physical address of an executable linear address; raises #PF/#GP on
 * failure (the execution loop uses it at block lookup). */
uint64_t mmu_code_phys(CPUState *cpu, uint64_t lin);
/* Physical address of an executable linear address without faulting;
 * false when it is not mapped executable. */
bool mmu_code_phys_probe(CPUState *cpu, uint64_t lin, uint64_t *phys);

void mmu_flush_all(CPUState *cpu);
void mmu_flush_nonglobal(CPUState *cpu);
void mmu_flush_page(CPUState *cpu, uint64_t lin);
/* A physical page gained or lost translated code: writes through the TLB
 * must (or need no longer) take the slow path. */
void mmu_set_code_page(CPUState *cpu, uint64_t phys_page, bool code);

/* Physical accesses (page tables, descriptor tables in real mode). */
uint64_t phys_ld(CPUState *cpu, uint64_t phys, unsigned size);
void phys_st(CPUState *cpu, uint64_t phys, uint64_t val, unsigned size);

#endif
