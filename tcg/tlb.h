/*
 * The soft TLB shared by the front end (which fills it from page walks, in
 * cpu/mmu.c) and the engines (the host backend emits the lookup inline;
 * the interpreter's memory callbacks use it too).  Guest-independent: a
 * "linear address" is whatever the front end passes to guest_ld/guest_st.
 *
 * One direct-mapped table of TLB_SIZE entries per mmu index.  An entry
 * matches an access of size s at addr when
 *     (addr & TLB_PAGE_MASK) == entry.addr_read (or addr_write / addr_code)
 *     and the access does not cross the page: (addr & ~TLB_PAGE_MASK) <= page - s
 * and then the host address is addr + entry.addend.  Flag bits below the
 * page boundary in a tag make every compare fail, so the access takes the
 * slow path: TLB_INVALID (empty), TLB_MMIO (device memory), TLB_CODE
 * (write to a page holding translated code: must invalidate it first),
 * TLB_WATCH (a page with a watchpoint or data breakpoint), TLB_NOTDIRTY
 * (write to a RAM page not yet marked in the machine's dirty log while a
 * live migration tracks writes).
 */
#ifndef VX86_TCG_TLB_H
#define VX86_TCG_TLB_H

#include <stdint.h>

#define TLB_PAGE_BITS 12
#define TLB_PAGE_SIZE (1u << TLB_PAGE_BITS)
#define TLB_PAGE_MASK (~(uint64_t)(TLB_PAGE_SIZE - 1))
/* 4096 entries (16 MiB of 4 KiB pages) per mmu index: with 256, a
 * sort of 1M lines missed ~25-60M times (mostly conflict misses the
 * victim ring caught), with 4096 ~2M.  Flushes stay cheap because the
 * front end clears only the entries it filled (cpu/mmu.c). */
#define TLB_BITS 12
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_NB_MMU_MODES 4

#define TLB_INVALID (1u << 0)
#define TLB_MMIO (1u << 1)
#define TLB_CODE (1u << 2)
#define TLB_WATCH (1u << 3)   /* a watched page: check each access (cpu/debug.h) */
#define TLB_NOTDIRTY (1u << 4) /* dirty log on, page clean: log the first write */

typedef struct TLBEntry {
    uint64_t addr_read;
    uint64_t addr_write;
    uint64_t addr_code;
    uintptr_t addend;       /* host = guest linear + addend */
} TLBEntry;

typedef struct SoftTLB {
    TLBEntry table[TLB_NB_MMU_MODES][TLB_SIZE];
} SoftTLB;

static inline unsigned tlb_index(uint64_t addr)
{
    return (addr >> TLB_PAGE_BITS) & (TLB_SIZE - 1);
}

#endif
