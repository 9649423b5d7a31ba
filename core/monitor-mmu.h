/*
 * info tlb / info mem (core/monitor-mmu.c): the current CPU's page-table
 * mappings in QEMU's monitor formats.
 *
 *   monitor_info_tlb(m->mem, &state, &out);   // "ffff...: 0000... ---DA--UW"
 */
#ifndef VX86_CORE_MONITOR_MMU_H
#define VX86_CORE_MONITOR_MMU_H

#include "core/commands.h"
#include "cpu/arch-state.h"

struct MemMap;
void monitor_info_tlb(struct MemMap *mem, const X86ArchState *s, Text *out);
void monitor_info_mem(struct MemMap *mem, const X86ArchState *s, Text *out);

#endif
