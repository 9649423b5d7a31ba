/*
 * x86 memory management: linear -> physical translation and the soft TLB.
 *
 * Translation: without paging the linear address is the physical one;
 * with CR0.PG one of three walks: 2-level 32-bit (4 KiB / 4 MiB pages with
 * CR4.PSE), PAE 3-level (4 KiB / 2 MiB), or 4-level long mode (4 KiB /
 * 2 MiB / 1 GiB when CPUConfig.page1gb).  Rights accumulate over the
 * levels (U/S and R/W must be set at every level, XD at any level forbids
 * fetches when EFER.NXE);
 * supervisor writes to read-only pages fault only with CR0.WP; SMEP and
 * SMAP follow CR4 (SMAP is lifted by EFLAGS.AC for explicit accesses).
 * Accessed bits are set on every level walked, the dirty bit on writes.
 * The A20 mask is applied to the physical address.
 *
 * The TLB (tcg/tlb.h) caches 4 KiB translations per mmu index, filled
 * from one walk per miss.  A write tag is only filled once the page's
 * dirty bit is set, so the first write comes back here to set it.  Device
 * pages and ROM writes carry TLB_MMIO, pages holding translated code carry
 * TLB_CODE in the write tag: such writes come here and invalidate the
 * blocks first (self-modifying code).  Flushes visit only the entries
 * filled since the previous flush; CR3 writes keep global pages.
 */
#include "cpu/mmu.h"

#include "cpu/decode.h"

#include <inttypes.h>
#include <string.h>

#include "core/log.h"
#include "cpu/debug.h"
#include "cpu/exec.h"
#include "cpu/smp.h"
#include "tcg/tb.h"

enum { PG_P = 1, PG_RW = 2, PG_US = 4, PG_A = 0x20, PG_D = 0x40, PG_PS = 0x80, PG_G = 0x100 };
#define PG_NX (1ULL << 63)
#define PG_ADDR_MASK 0x000ffffffffff000ULL
enum { PROT_R = 1, PROT_W = 2, PROT_X = 4 };
enum { PFERR_P = 1, PFERR_W = 2, PFERR_U = 4, PFERR_RSVD = 8, PFERR_I = 16 };

/* Reserved bits of a present PAE or 4-level paging entry (SDM 3A tables
 * 4-8..4-11, 4-15..4-20; MAXPHYADDR 40 as CPUID 0x80000008 reports):
 * address bits 51:40 (PAE: 62:40), XD without EFER.NXE, and the low
 * address bits of a large page (large 1: 2 MiB, bits 20:13; 2: 1 GiB,
 * bits 29:13).  A PML4E with PS is checked by the walk itself. */
static bool pte_reserved(CPUState *cpu, uint64_t e, bool pae, int large)
{
    uint64_t r = pae ? 0x7fffff0000000000ULL : 0x000fff0000000000ULL;
    if (!(cpu->efer & EFER_NXE))
        r |= PG_NX;
    if (large == 1)
        r |= 0x1fe000;
    else if (large == 2)
        r |= 0x3fffe000;
    return (e & r) != 0;
}

/* ---- physical accesses ---- */

static uint64_t phys_mask(CPUState *cpu, uint64_t phys)
{
    return phys & ((uint64_t)cpu->a20_mask | ~0xffffffffULL);
}

uint64_t phys_ld(CPUState *cpu, uint64_t phys, unsigned size)
{
    return memmap_read(cpu->machine->mem, phys_mask(cpu, phys), size);
}

void phys_st(CPUState *cpu, uint64_t phys, uint64_t val, unsigned size)
{
    memmap_write(cpu->machine->mem, phys_mask(cpu, phys), val, size);
}

/* ---- page walk ---- */

/* One walk: the entries it read and the rights they grant together. */
typedef struct Walk {
    uint64_t phys;          /* physical address of the linear address */
    uint64_t pte_addr[4];   /* physical address of each entry, top level first */
    int nlev;
    /* Every entry read, the last one included when it faulted (-d mmu). */
    uint64_t seen_addr[4], seen_val[4];
    uint8_t seen_level[4];  /* WALK_PML4E ... WALK_PTE */
    int nseen;
    bool user, writable, nx;
    bool dirty;             /* the leaf's D bit was already set */
    bool global;            /* the leaf's G bit */
    uint8_t page_shift;     /* log2 of the page size: 12, 21, 22 or 30 */
} Walk;

/* Explicit supervisor accesses with EFLAGS.AC = 1 use MMU_KERNEL_AC, so
 * the index alone says whether SMAP is lifted: entries of one index never
 * depend on the current AC. */
static bool smap_applies(CPUState *cpu, int mmu)
{
    return (cpu->cr[4] & CR4_SMAP) && mmu == MMU_KERNEL;
}

/* Whether the rights accumulated by a walk allow one access. */
static bool walk_allows(CPUState *cpu, const Walk *w, MMUAccess acc, int mmu)
{
    bool user = mmu == MMU_USER;
    if (user) {
        if (!w->user)
            return false;
        if (acc == ACC_WRITE && !w->writable)
            return false;
        if (acc == ACC_EXEC && w->nx)
            return false;
        return true;
    }
    switch (acc) {
    case ACC_READ:
        return !(w->user && smap_applies(cpu, mmu));
    case ACC_WRITE:
        if (!w->writable && (cpu->cr[0] & CR0_WP))
            return false;
        return !(w->user && smap_applies(cpu, mmu));
    case ACC_EXEC:
        if (w->nx)
            return false;
        return !(w->user && (cpu->cr[4] & CR4_SMEP));
    }
    return false;
}

/* Host pointer to size bytes of page-table memory at pa (A20 already
 * applied), or NULL when it is not plain RAM.  Page tables live in RAM,
 * so the walker keeps the RAM range of the last entry it read and reads
 * entries directly instead of dispatching each through the memory map. */
static const uint8_t *pte_ptr(CPUState *cpu, uint64_t pa, unsigned size)
{
    uint64_t off = pa - cpu->pt_lo;
    if (off < cpu->pt_len && cpu->pt_len - off >= size)
        return cpu->pt_host + off;
    uint64_t lo, len;
    uint8_t *host = memmap_ram_range(cpu->machine->mem, pa, &lo, &len);
    if (!host)
        return NULL;
    cpu->pt_host = host;
    cpu->pt_lo = lo;
    cpu->pt_len = len;
    off = pa - lo;
    return len - off >= size ? host + off : NULL;
}

/* Forgets the page-table RAM range (the memory map may have changed). */
static void pte_window_clear(CPUState *cpu)
{
    cpu->pt_host = NULL;
    cpu->pt_lo = 0;
    cpu->pt_len = 0;
}

static uint64_t pte_load(CPUState *cpu, uint64_t addr, bool wide)
{
    unsigned size = wide ? 8 : 4;
    addr = phys_mask(cpu, addr);
    const uint8_t *p = pte_ptr(cpu, addr, size);
    if (!p)
        return memmap_read(cpu->machine->mem, addr, size);
    if (wide) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Sets A (and D) bits in the low dword of an entry.  Reads the entry
 * again: with recursive page tables one entry can be several levels of
 * the same walk, and an earlier level's update must not be lost.  The
 * write goes through the memory map (rare: only when a bit is missing)
 * so a page-table page that also holds translated code is invalidated. */
static void pte_set_bits(CPUState *cpu, uint64_t addr, uint32_t bits)
{
    uint32_t v = (uint32_t)pte_load(cpu, addr, false);
    if ((v & bits) != bits)
        phys_st(cpu, addr, v | bits, 4);
}

static uint32_t pf_error(CPUState *cpu, MMUAccess acc, int mmu, bool present)
{
    uint32_t e = present ? PFERR_P : 0;
    if (acc == ACC_WRITE)
        e |= PFERR_W;
    if (mmu == MMU_USER)
        e |= PFERR_U;
    if (acc == ACC_EXEC && ((cpu->efer & EFER_NXE) || (cpu->cr[4] & CR4_SMEP)))
        e |= PFERR_I;
    return e;
}

/* The paging-structure levels, as the SDM names their entries. */
enum { WALK_PML4E, WALK_PDPTE, WALK_PDE, WALK_PTE };
static const char *const walk_level_name[] = { "PML4E", "PDPTE", "PDE", "PTE" };

static void walk_note(Walk *w, int level, uint64_t ea, uint64_t e)
{
    if (w->nseen < 4) {
        w->seen_addr[w->nseen] = ea;
        w->seen_val[w->nseen] = e;
        w->seen_level[w->nseen] = (uint8_t)level;
        w->nseen++;
    }
}

/* Adds one present entry's rights to the walk. */
static void walk_add(CPUState *cpu, Walk *w, uint64_t ea, uint64_t e)
{
    w->pte_addr[w->nlev++] = ea;
    w->user &= (e & PG_US) != 0;
    w->writable &= (e & PG_RW) != 0;
    if ((cpu->efer & EFER_NXE) && (e & PG_NX))
        w->nx = true;
}

/* 4-level long-mode walk.  Returns 0 with *leaf and *page_size, or the
 * fault (acc and mmu only shape the error code). */
static int walk_long(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, Walk *w,
                     uint64_t *leaf, uint64_t *page_size, uint32_t *err)
{
    if ((uint64_t)((int64_t)(lin << 16) >> 16) != lin) {
        *err = 0;
        return EXC_GP;
    }
    uint64_t table = cpu->cr[3] & PG_ADDR_MASK;
    static const int shifts[4] = { 39, 30, 21, 12 };
    for (int lv = 0; lv < 4; lv++) {
        uint64_t ea = table + ((lin >> shifts[lv]) & 511) * 8;
        uint64_t e = pte_load(cpu, ea, true);
        walk_note(w, WALK_PML4E + lv, ea, e);
        if (!(e & PG_P)) {
            *err = pf_error(cpu, acc, mmu, false);
            return EXC_PF;
        }
        bool large = (lv == 1 || lv == 2) && (e & PG_PS);
        if (pte_reserved(cpu, e, false, large ? 3 - lv : 0)) {
            *err = pf_error(cpu, acc, mmu, true) | PFERR_RSVD;
            return EXC_PF;
        }
        walk_add(cpu, w, ea, e);
        /* PS is reserved in a PML4E, and in a PDPTE unless the CPU has
         * 1 GiB pages (SDM 3A 4.5, table 4-15) */
        if ((lv == 0 || (lv == 1 && !cpu->cfg.page1gb)) && (e & PG_PS)) {
            *err = pf_error(cpu, acc, mmu, true) | PFERR_RSVD;
            return EXC_PF;
        }
        *leaf = e;
        if (large) {
            *page_size = lv == 1 ? (1ULL << 30) : (1ULL << 21);
            return 0;
        }
        table = e & PG_ADDR_MASK;
    }
    *page_size = 4096;
    return 0;
}

/* PAE 3-level walk (PDPTE from CR3, then PDE and PTE). */
static int walk_pae(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, Walk *w,
                    uint64_t *leaf, uint64_t *page_size, uint32_t *err)
{
    uint64_t ea = (cpu->cr[3] & 0xffffffe0u) + ((lin >> 30) & 3) * 8;
    uint64_t pdpte = pte_load(cpu, ea, true);
    walk_note(w, WALK_PDPTE, ea, pdpte);
    if (!(pdpte & PG_P)) {
        *err = pf_error(cpu, acc, mmu, false);
        return EXC_PF;
    }
    uint64_t table = pdpte & PG_ADDR_MASK;
    for (int lv = 0; lv < 2; lv++) {
        uint64_t pea = table + ((lin >> (lv == 0 ? 21 : 12)) & 511) * 8;
        uint64_t e = pte_load(cpu, pea, true);
        walk_note(w, lv == 0 ? WALK_PDE : WALK_PTE, pea, e);
        if (!(e & PG_P)) {
            *err = pf_error(cpu, acc, mmu, false);
            return EXC_PF;
        }
        bool large = lv == 0 && (e & PG_PS);
        if (pte_reserved(cpu, e, true, large ? 1 : 0)) {
            *err = pf_error(cpu, acc, mmu, true) | PFERR_RSVD;
            return EXC_PF;
        }
        walk_add(cpu, w, pea, e);
        *leaf = e;
        if (large) {
            *page_size = 1ULL << 21;
            return 0;
        }
        table = e & PG_ADDR_MASK;
    }
    *page_size = 4096;
    return 0;
}

/* 2-level 32-bit walk (4 MiB pages with CR4.PSE, PSE-36). */
static int walk_32(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, Walk *w,
                   uint64_t *leaf, uint64_t *page_size, uint32_t *err)
{
    uint64_t pdea = (cpu->cr[3] & 0xfffff000u) + (((uint32_t)lin >> 22) & 1023) * 4;
    uint64_t pde = pte_load(cpu, pdea, false);
    walk_note(w, WALK_PDE, pdea, pde);
    if (!(pde & PG_P)) {
        *err = pf_error(cpu, acc, mmu, false);
        return EXC_PF;
    }
    walk_add(cpu, w, pdea, pde & ~PG_NX);
    if ((pde & PG_PS) && (cpu->cr[4] & CR4_PSE)) {
        *page_size = 1ULL << 22;
        /* PSE-36: bits 13-20 give physical address bits 32-39 */
        *leaf = (pde & 0xffc00000u) | ((pde >> 13) & 0xff) << 32 | (pde & 0xfff);
        return 0;
    }
    uint64_t ptea = (pde & 0xfffff000u) + (((uint32_t)lin >> 12) & 1023) * 4;
    uint64_t pte = pte_load(cpu, ptea, false);
    walk_note(w, WALK_PTE, ptea, pte);
    if (!(pte & PG_P)) {
        *err = pf_error(cpu, acc, mmu, false);
        return EXC_PF;
    }
    walk_add(cpu, w, ptea, pte & ~PG_NX);
    *leaf = pte;
    *page_size = 4096;
    return 0;
}

/* Walks the page tables for lin with paging on: fills *w (rights, entry
 * addresses, physical address) without checking rights or touching A/D.
 * Returns 0 or the fault of a missing or malformed entry. */
static int walk(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, Walk *w, uint32_t *err)
{
    w->user = true;
    w->writable = true;
    w->nx = false;
    w->nlev = 0;
    w->nseen = 0;
    uint64_t leaf = 0, page_size = 4096;
    int exc;
    if (cpu->hflags & HF_LMA)
        exc = walk_long(cpu, lin, acc, mmu, w, &leaf, &page_size, err);
    else if (cpu->cr[4] & CR4_PAE)
        exc = walk_pae(cpu, lin, acc, mmu, w, &leaf, &page_size, err);
    else
        exc = walk_32(cpu, lin, acc, mmu, w, &leaf, &page_size, err);
    if (exc)
        return exc;
    uint64_t base = leaf & PG_ADDR_MASK & ~(page_size - 1);
    w->phys = phys_mask(cpu, base | (lin & (page_size - 1)));
    w->dirty = (leaf & PG_D) != 0;
    w->global = (leaf & PG_G) != 0;
    w->page_shift = (uint8_t)__builtin_ctzll(page_size);
    return 0;
}

/* Sets the accessed bit of every entry walked, and the leaf's dirty bit
 * for a write (SDM 3A 4.8). */
static void walk_set_ad(CPUState *cpu, const Walk *w, MMUAccess acc)
{
    for (int i = 0; i < w->nlev; i++) {
        uint32_t bits = PG_A;
        if (i == w->nlev - 1 && acc == ACC_WRITE)
            bits |= PG_D;
        pte_set_bits(cpu, w->pte_addr[i], bits);
    }
}

int mmu_translate(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, bool set_ad,
                  uint64_t *phys, uint32_t *err)
{
    if (!(cpu->cr[0] & CR0_PG)) {
        *phys = phys_mask(cpu, cpu->hflags & HF_LMA ? lin : (uint32_t)lin);
        return 0;
    }
    Walk w;
    int exc = walk(cpu, lin, acc, mmu, &w, err);
    if (exc)
        return exc;
    if (!walk_allows(cpu, &w, acc, mmu)) {
        *err = pf_error(cpu, acc, mmu, true);
        return EXC_PF;
    }
    if (set_ad)
        walk_set_ad(cpu, &w, acc);
    *phys = w.phys;
    return 0;
}

/* ---- TLB ---- */

static void tlb_entry_clear(TLBEntry *e)
{
    e->addr_read = e->addr_write = e->addr_code = ~(uint64_t)0;
    e->addend = 0;
}

static bool tlb_entry_valid(const TLBEntry *e)
{
    return !(e->addr_read & e->addr_write & e->addr_code & TLB_INVALID);
}

/* Clears the victim ring of mode m (all of it, or keeps global pages). */
static void tlb_victims_clear(CPUState *cpu, int m, bool keep_global)
{
    for (unsigned v = 0; v < CPU_TLB_VICTIMS; v++)
        if (!keep_global || !(cpu->tlb_victim_info[m][v] & TLBI_GLOBAL))
            tlb_entry_clear(&cpu->tlb_victim[m][v]);
}

/* Notes that table entry i of mode m became valid. */
static void tlb_mark_used(CPUState *cpu, int m, unsigned i)
{
    if (cpu->tlb_nused[m] < TLB_SIZE)
        cpu->tlb_used[m][cpu->tlb_nused[m]++] = (uint16_t)i;
    else
        cpu->tlb_used_ok[m] = false;
}

/* Clears the table of mode m, or only its non-global entries.  Visits
 * the indices filled since the last flush when that list is complete. */
static void tlb_flush_mode(CPUState *cpu, int m, bool keep_global)
{
    unsigned kept = 0;
    if (cpu->tlb_used_ok[m]) {
        for (unsigned k = 0; k < cpu->tlb_nused[m]; k++) {
            unsigned i = cpu->tlb_used[m][k];
            TLBEntry *e = &cpu->tlb.table[m][i];
            if (keep_global && (cpu->tlb_info[m][i] & TLBI_GLOBAL) && tlb_entry_valid(e))
                cpu->tlb_used[m][kept++] = (uint16_t)i;   /* may repeat: harmless */
            else
                tlb_entry_clear(e);
        }
    } else {
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            TLBEntry *e = &cpu->tlb.table[m][i];
            if (keep_global && (cpu->tlb_info[m][i] & TLBI_GLOBAL) && tlb_entry_valid(e))
                cpu->tlb_used[m][kept++] = (uint16_t)i;
            else
                tlb_entry_clear(e);
        }
    }
    cpu->tlb_nused[m] = kept;
    cpu->tlb_used_ok[m] = true;
    if (!keep_global) {
        cpu->tlb_large_lo[m] = ~(uint64_t)0;
        cpu->tlb_large_hi[m] = 0;
    }
    tlb_victims_clear(cpu, m, keep_global);
}

void mmu_flush_all(CPUState *cpu)
{
    for (int m = 0; m < TLB_NB_MMU_MODES; m++)
        tlb_flush_mode(cpu, m, false);
    if (cpu->tbs)
        tb_jc_flush(cpu->tbs);
    pte_window_clear(cpu);
    if (cpu->machine)
        cpu->mem_generation = memmap_generation(cpu->machine->mem);
}

/* Whether pc's page still has a global code mapping in the TLB (after a
 * flush that kept global entries): its jump-cache entry stays valid. */
static bool code_page_kept_global(void *opaque, uint64_t pc)
{
    CPUState *cpu = opaque;
    unsigned i = tlb_index(pc);
    for (int m = 0; m < TLB_NB_MMU_MODES; m++) {
        const TLBEntry *e = &cpu->tlb.table[m][i];
        if ((cpu->tlb_info[m][i] & TLBI_GLOBAL) && tlb_entry_valid(e) &&
            !(e->addr_code & TLB_INVALID) && (e->addr_code & TLB_PAGE_MASK) == (pc & TLB_PAGE_MASK))
            return true;
    }
    return false;
}

void mmu_flush_nonglobal(CPUState *cpu)
{
    if (!(cpu->cr[4] & CR4_PGE)) {
        mmu_flush_all(cpu);
        return;
    }
    for (int m = 0; m < TLB_NB_MMU_MODES; m++)
        tlb_flush_mode(cpu, m, true);
    /* The jump cache is keyed by linear pc: user blocks may now be others;
     * blocks on global pages (the kernel's) stay where they are. */
    if (cpu->tbs)
        tb_jc_flush_keep(cpu->tbs, code_page_kept_global, cpu);
}

/* The linear page of a valid entry. */
static uint64_t tlb_entry_page(const TLBEntry *e)
{
    uint64_t t = !(e->addr_read & TLB_INVALID) ? e->addr_read
               : !(e->addr_write & TLB_INVALID) ? e->addr_write : e->addr_code;
    return t & TLB_PAGE_MASK;
}

/* Drops e when it is a piece of the large page that contains lin. */
static void tlb_entry_drop_large(TLBEntry *e, uint8_t info, uint64_t lin)
{
    unsigned shift = info & TLBI_SHIFT;
    if (shift <= TLB_PAGE_BITS || !tlb_entry_valid(e))
        return;
    if ((tlb_entry_page(e) ^ lin) >> shift == 0)
        tlb_entry_clear(e);
}

/* INVLPG of an address in a large page invalidates the whole page (SDM 3A
 * 4.10.4.1), which the TLB holds as up to 2^18 4 KiB entries. */
static void tlb_flush_large(CPUState *cpu, int m, uint64_t lin)
{
    if (cpu->tlb_used_ok[m]) {
        for (unsigned k = 0; k < cpu->tlb_nused[m]; k++) {
            unsigned i = cpu->tlb_used[m][k];
            tlb_entry_drop_large(&cpu->tlb.table[m][i], cpu->tlb_info[m][i], lin);
        }
    } else {
        for (unsigned i = 0; i < TLB_SIZE; i++)
            tlb_entry_drop_large(&cpu->tlb.table[m][i], cpu->tlb_info[m][i], lin);
    }
    for (unsigned v = 0; v < CPU_TLB_VICTIMS; v++)
        tlb_entry_drop_large(&cpu->tlb_victim[m][v], cpu->tlb_victim_info[m][v], lin);
}

/* Widens the linear range INVLPG must search for large-page entries. */
static void tlb_note_large(CPUState *cpu, int m, uint64_t lin, unsigned shift)
{
    uint64_t lo = lin & ~((1ULL << shift) - 1), hi = lo + (1ULL << shift) - 1;
    if (lo < cpu->tlb_large_lo[m])
        cpu->tlb_large_lo[m] = lo;
    if (hi > cpu->tlb_large_hi[m])
        cpu->tlb_large_hi[m] = hi;
}

void mmu_flush_page(CPUState *cpu, uint64_t lin)
{
    uint64_t page = lin & TLB_PAGE_MASK;
    unsigned i = tlb_index(lin);
    for (int m = 0; m < TLB_NB_MMU_MODES; m++) {
        TLBEntry *e = &cpu->tlb.table[m][i];
        if ((e->addr_read & TLB_PAGE_MASK) == page || (e->addr_write & TLB_PAGE_MASK) == page ||
            (e->addr_code & TLB_PAGE_MASK) == page)
            tlb_entry_clear(e);
        for (unsigned v = 0; v < CPU_TLB_VICTIMS; v++) {
            e = &cpu->tlb_victim[m][v];
            if ((e->addr_read & TLB_PAGE_MASK) == page ||
                (e->addr_write & TLB_PAGE_MASK) == page ||
                (e->addr_code & TLB_PAGE_MASK) == page)
                tlb_entry_clear(e);
        }
    }
    for (int m = 0; m < TLB_NB_MMU_MODES; m++)
        if (lin >= cpu->tlb_large_lo[m] && lin <= cpu->tlb_large_hi[m])
            tlb_flush_large(cpu, m, lin);
    if (cpu->tbs)
        tb_jc_flush(cpu->tbs);
}

/* Sets or clears TLB_CODE in the write tag of e when it maps phys_page. */
static void tlb_entry_set_code(TLBEntry *e, uint64_t phys, uint64_t phys_page, bool code)
{
    if (phys != phys_page || (e->addr_write & TLB_INVALID))
        return;
    if (code)
        e->addr_write |= TLB_CODE;
    else if (!(e->addr_write & TLB_MMIO))
        e->addr_write &= ~(uint64_t)TLB_CODE;
}

void mmu_set_code_page(CPUState *cpu, uint64_t phys_page, bool code)
{
    phys_page &= TLB_PAGE_MASK;
    for (int m = 0; m < TLB_NB_MMU_MODES; m++) {
        /* Only entries filled since the last flush can be valid: visit
         * those (called for every page that gains or loses code). */
        if (cpu->tlb_used_ok[m]) {
            for (unsigned k = 0; k < cpu->tlb_nused[m]; k++) {
                unsigned i = cpu->tlb_used[m][k];
                tlb_entry_set_code(&cpu->tlb.table[m][i], cpu->tlb_phys[m][i], phys_page, code);
            }
        } else {
            for (unsigned i = 0; i < TLB_SIZE; i++)
                tlb_entry_set_code(&cpu->tlb.table[m][i], cpu->tlb_phys[m][i], phys_page, code);
        }
        for (unsigned v = 0; v < CPU_TLB_VICTIMS; v++)
            tlb_entry_set_code(&cpu->tlb_victim[m][v], cpu->tlb_victim_phys[m][v], phys_page,
                               code);
    }
}

static uint64_t *tlb_tag(TLBEntry *e, MMUAccess acc)
{
    return acc == ACC_READ ? &e->addr_read : acc == ACC_WRITE ? &e->addr_write : &e->addr_code;
}

/* A victim entry that allows acc on lin's page moves back into the table
 * (the table's entry takes its place).  Returns the table entry or NULL. */
static TLBEntry *tlb_victim_hit(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu)
{
    uint64_t page = lin & TLB_PAGE_MASK;
    for (unsigned v = 0; v < CPU_TLB_VICTIMS; v++) {
        TLBEntry *ve = &cpu->tlb_victim[mmu][v];
        uint64_t tag = *tlb_tag(ve, acc);
        if ((tag & TLB_PAGE_MASK) != page || (tag & TLB_INVALID))
            continue;
        unsigned i = tlb_index(lin);
        TLBEntry *e = &cpu->tlb.table[mmu][i], tmp = *e;
        uint64_t tmp_phys = cpu->tlb_phys[mmu][i];
        uint8_t tmp_info = cpu->tlb_info[mmu][i];
        if (!tlb_entry_valid(e))
            tlb_mark_used(cpu, mmu, i);
        *e = *ve;
        cpu->tlb_phys[mmu][i] = cpu->tlb_victim_phys[mmu][v];
        cpu->tlb_info[mmu][i] = cpu->tlb_victim_info[mmu][v];
        *ve = tmp;
        cpu->tlb_victim_phys[mmu][v] = tmp_phys;
        cpu->tlb_victim_info[mmu][v] = tmp_info;
        return e;
    }
    return NULL;
}

/* Keeps the table entry about to be replaced in the victim ring. */
static void tlb_evict(CPUState *cpu, int mmu, unsigned i)
{
    TLBEntry *e = &cpu->tlb.table[mmu][i];
    if (!tlb_entry_valid(e))
        return;
    unsigned v = cpu->tlb_victim_next[mmu]++ % CPU_TLB_VICTIMS;
    cpu->tlb_victim[mmu][v] = *e;
    cpu->tlb_victim_phys[mmu][v] = cpu->tlb_phys[mmu][i];
    cpu->tlb_victim_info[mmu][v] = cpu->tlb_info[mmu][i];
}

/* A non-canonical address in 64-bit code is #SS(0) when the access goes
 * through the stack segment, else #GP(0) (SDM Vol. 3 6.15).  Accesses the
 * translator tags MO_STACK are caught earlier (check_stack_canonical);
 * this covers the rest (helpers with memory operands).  The walker
 * does not know the segment: on this cold path the faulting instruction
 * (cpu->rip, already restored) is decoded again to find out. */
static int noncanonical_vector(CPUState *cpu)
{
    uint8_t buf[16];
    uint64_t phys;
    X86Insn in;
    size_t n = mmu_fetch_code(cpu, cpu->seg[R_CS].base + cpu->rip, buf, 15, &phys);
    if (x86_decode(buf, n, X86_MODE64, &in) != X86_DECODE_OK)
        return EXC_GP;
    if (in.mem.present)
        return in.mem.seg == X86_SEG_SS ? EXC_SS : EXC_GP;
    switch (in.mnem) {
    case X86_PUSH: case X86_POP: case X86_PUSHF: case X86_POPF: case X86_CALL:
    case X86_RET: case X86_ENTER: case X86_LEAVE: case X86_PUSHA: case X86_POPA:
        return EXC_SS;
    default:
        return EXC_GP;
    }
}

/* Raises the fault a failed translation of lin reported. */
static void tlb_fault(CPUState *cpu, uint64_t lin, MMUAccess acc, int exc, uint32_t err,
                      uintptr_t ra)
{
    if (exc == EXC_PF) {
        cpu->cr[2] = lin;
        cpu_raise_exception(cpu, EXC_PF, err, ra);
    } else if (exc == EXC_GP && cpu_code64(cpu) && acc != ACC_EXEC) {
        if (ra)
            cpu_restore_state(cpu, ra);
        cpu_raise_exception(cpu, noncanonical_vector(cpu), err, 0);
    }
    cpu_raise_exception(cpu, exc, err, ra);
}

/* ---- -d mmu: each walk explained ---- */

/* The entry's bits by their SDM names (those that are set). */
static void log_entry_bits(char *out, size_t len, uint64_t e, bool leaf_ps, bool wide)
{
    static const struct { uint64_t bit; const char *name; } bits[] = {
        { PG_P, "P" }, { PG_RW, "RW" }, { PG_US, "US" }, { 1u << 3, "PWT" }, { 1u << 4, "PCD" },
        { PG_A, "A" }, { PG_D, "D" }, { PG_PS, "PS" }, { PG_G, "G" },
    };
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0] && n < len; i++)
        if (e & bits[i].bit)
            n += (size_t)snprintf(out + n, len - n, " %s", bits[i].name);
    if (wide && (e & PG_NX) && n < len)
        n += (size_t)snprintf(out + n, len - n, " XD");
    if (!(e & PG_P) && n < len)
        snprintf(out + n, len - n, " (not present)");
    (void)leaf_ps;
}

/* Why the walk's rights refuse acc (walk_allows said no). */
static const char *walk_refusal(CPUState *cpu, const Walk *w, MMUAccess acc, int mmu)
{
    if (mmu == MMU_USER && !w->user)
        return "a user-mode access to a supervisor page (US clear at some level)";
    if (acc == ACC_WRITE && !w->writable)
        return mmu == MMU_USER ? "a user-mode write to a read-only page (RW clear at some level)"
                               : "a write to a read-only page with CR0.WP=1";
    if (acc == ACC_EXEC && w->nx)
        return "an instruction fetch from a no-execute page (XD set, EFER.NXE=1)";
    if (acc == ACC_EXEC && w->user)
        return "a supervisor fetch from a user page with CR4.SMEP=1";
    return "a supervisor access to a user page with CR4.SMAP=1 and EFLAGS.AC=0";
}

static void log_walk(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, const Walk *w,
                     int exc, uint32_t err, bool refused)
{
    static const char *const acc_name[] = { [ACC_READ] = "read", [ACC_WRITE] = "write",
                                            [ACC_EXEC] = "fetch" };
    bool lm = cpu->hflags & HF_LMA, pae = cpu->cr[4] & CR4_PAE;
    log_printf("mmu: walk %#" PRIx64 " %s %s, CR3=%#" PRIx64 " (%s paging)\n", lin, acc_name[acc],
               mmu == MMU_USER ? "user" : "supervisor", cpu->cr[3],
               lm ? "4-level" : pae ? "PAE" : "32-bit");
    for (int i = 0; i < w->nseen; i++) {
        char b[96];
        log_entry_bits(b, sizeof b, w->seen_val[i], false, lm || pae);
        log_printf("mmu:   %-5s @%#" PRIx64 " = 0x%0*" PRIx64 "%s\n",
                   walk_level_name[w->seen_level[i]], w->seen_addr[i], lm || pae ? 16 : 8,
                   w->seen_val[i], b);
    }
    if (exc == EXC_PF)
        log_printf("mmu:   #PF error %#x: %s\n", err,
                   refused ? walk_refusal(cpu, w, acc, mmu)
                   : (err & PFERR_RSVD) ? "a reserved bit is set in the last entry"
                   : "the last entry is not present");
    else if (exc)
        log_printf("mmu:   fault %d: a non-canonical address\n", exc);
    else
        log_printf("mmu:   -> physical %#" PRIx64 " (%s page)\n", w->phys,
                   w->page_shift == 30 ? "1 GiB" : w->page_shift == 22 ? "4 MiB"
                   : w->page_shift == 21 ? "2 MiB" : "4 KiB");
}

/* The accesses one translation allows, from a single walk. */
typedef struct PageRights {
    uint64_t phys;
    bool read, write, exec;
    bool global;            /* survives CR3 writes */
    uint8_t page_shift;     /* log2 of the guest page size */
} PageRights;

/* Translates lin for acc (faulting as the access would, setting A/D for
 * it) and says which other accesses the same walk allows.  A write tag
 * needs the dirty bit already set: the first write must come back here
 * to set it.  A read fill of a page that is already dirty gets its write
 * tag too (the write would set nothing new). */
static PageRights page_rights(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, uintptr_t ra)
{
    if (!(cpu->cr[0] & CR0_PG)) {
        uint64_t phys = phys_mask(cpu, cpu->hflags & HF_LMA ? lin : (uint32_t)lin);
        return (PageRights){ .phys = phys, .read = true, .write = true, .exec = true,
                             .page_shift = TLB_PAGE_BITS };
    }
    Walk w;
    uint32_t err = 0;
    int exc = walk(cpu, lin, acc, mmu, &w, &err);
    bool refused = false;
    if (!exc && !walk_allows(cpu, &w, acc, mmu)) {
        exc = EXC_PF;
        err = pf_error(cpu, acc, mmu, true);
        refused = true;
    }
    if (log_enabled(LOG_MMU) && log_block_selected(lin, lin))
        log_walk(cpu, lin, acc, mmu, &w, exc, err, refused);
    if (exc)
        tlb_fault(cpu, lin, acc, exc, err, ra);
    walk_set_ad(cpu, &w, acc);
    PageRights r = { .phys = w.phys };
    r.read = acc == ACC_READ || walk_allows(cpu, &w, ACC_READ, mmu);
    r.exec = acc == ACC_EXEC || walk_allows(cpu, &w, ACC_EXEC, mmu);
    r.write = acc == ACC_WRITE || (w.dirty && walk_allows(cpu, &w, ACC_WRITE, mmu));
    r.global = w.global && (cpu->cr[4] & CR4_PGE);
    r.page_shift = w.page_shift;
    return r;
}

/* Fills the TLB entry for lin (for access acc) or raises the fault. */
static TLBEntry *tlb_fill(CPUState *cpu, uint64_t lin, MMUAccess acc, int mmu, uintptr_t ra)
{
    TLBEntry *hit = tlb_victim_hit(cpu, lin, acc, mmu);
    if (hit)
        return hit;
    PageRights r = page_rights(cpu, lin, acc, mmu, ra);
    uint64_t page = lin & TLB_PAGE_MASK;
    uint64_t ppage = r.phys & TLB_PAGE_MASK;
    unsigned i = tlb_index(lin);
    TLBEntry *e = &cpu->tlb.table[mmu][i];
    if (!tlb_entry_valid(e))
        tlb_mark_used(cpu, mmu, i);
    else if ((e->addr_read & TLB_PAGE_MASK) != page && (e->addr_write & TLB_PAGE_MASK) != page &&
             (e->addr_code & TLB_PAGE_MASK) != page)
        tlb_evict(cpu, mmu, i);
    tlb_entry_clear(e);
    cpu->tlb_phys[mmu][i] = ppage;
    cpu->tlb_info[mmu][i] = (uint8_t)(r.page_shift | (r.global ? TLBI_GLOBAL : 0));
    if (r.page_shift > TLB_PAGE_BITS)
        tlb_note_large(cpu, mmu, lin, r.page_shift);

    bool ram, logged, log_clean;
    uint8_t *host = memmap_host_ptr_log(cpu->machine->mem, ppage, TLB_PAGE_SIZE, &ram,
                                        &logged, &log_clean);
    if (host) {
        e->addend = (uintptr_t)host - (uintptr_t)page;
        if (r.read)
            e->addr_read = page;
        /* Logged RAM (video memory) is outside the code tracking of the
         * RAM block: code runs from it the device way. */
        if (r.exec)
            e->addr_code = logged ? (page | TLB_MMIO) : page;
        if (r.write) {
            Machine *m = cpu->machine;
            /* code of any CPU on the page: writes come here first */
            bool code = ram && smp_ram_page_has_code(cpu, (uint64_t)(host - m->ram));
            bool notdirty = ram && ((m->dirty_log &&
                                     !machine_page_dirty(m, (uint64_t)(host - m->ram))) ||
                                    log_clean);
            e->addr_write = ram ? (page | (code ? TLB_CODE : 0) | (notdirty ? TLB_NOTDIRTY : 0))
                                : (page | TLB_MMIO);
        }
    } else {
        e->addend = 0;
        if (r.read)
            e->addr_read = page | TLB_MMIO;
        if (r.exec)
            e->addr_code = page | TLB_MMIO;
        if (r.write)
            e->addr_write = page | TLB_MMIO;
    }
    if ((cpu->dbg || (cpu->dr[7] & 0xff)) && cpu_debug_page_watched(cpu, lin)) {
        e->addr_read |= TLB_WATCH;
        e->addr_write |= TLB_WATCH;
    }
    return e;
}

static bool tag_matches(uint64_t tag, uint64_t lin)
{
    return (tag & TLB_PAGE_MASK) == (lin & TLB_PAGE_MASK) && !(tag & TLB_INVALID);
}

static uint64_t host_ld(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void host_st(uint8_t *p, uint64_t v, unsigned size)
{
    switch (size) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static void check_mem_generation(CPUState *cpu)
{
    if (cpu->mem_generation != memmap_generation(cpu->machine->mem)) {
        mmu_flush_all(cpu);
        cpu_flush_code(cpu);
    }
}

/* One access that does not cross a page. */
static uint64_t load_page(CPUState *cpu, uint64_t lin, unsigned size, int mmu, uintptr_t ra)
{
    TLBEntry *e = &cpu->tlb.table[mmu][tlb_index(lin)];
    if (!tag_matches(e->addr_read, lin))
        e = tlb_fill(cpu, lin, ACC_READ, mmu, ra);
    if (e->addr_read & TLB_WATCH)
        cpu_debug_check_access(cpu, lin, size, false, ra);
    if (e->addr_read & TLB_MMIO) {
        uint64_t phys = cpu->tlb_phys[mmu][tlb_index(lin)] | (lin & ~TLB_PAGE_MASK);
        if (cpu->icount_mode)
            cpu_icount_io_check(cpu, ra);
        return memmap_read(cpu->machine->mem, phys, size);
    }
    return host_ld((const uint8_t *)(uintptr_t)(lin + e->addend), size);
}

uint64_t cpu_ld(CPUState *cpu, uint64_t lin, unsigned size, int mmu, uintptr_t ra)
{
    TLBEntry *e = &cpu->tlb.table[mmu][tlb_index(lin)];
    unsigned off = lin & ~TLB_PAGE_MASK;
    if ((lin & TLB_PAGE_MASK) == e->addr_read && off <= TLB_PAGE_SIZE - size)
        return host_ld((const uint8_t *)(uintptr_t)(lin + e->addend), size);
    if (off + size <= TLB_PAGE_SIZE)
        return load_page(cpu, lin, size, mmu, ra);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= load_page(cpu, lin + i, 1, mmu, ra) << (8 * i);
    return v;
}

/* A write to a page holding translated code (TLB_CODE), before it is
 * done: invalidates this CPU's blocks on the range, restarting the running
 * instruction alone when its own block was one of them (no return then).
 * Returns the entry to write through (refilled when the invalidation
 * cleared it). */
static TLBEntry *store_code_page(CPUState *cpu, uint64_t lin, uint64_t phys, unsigned size,
                                 int mmu, uintptr_t ra)
{
    unsigned i = tlb_index(lin);
    cpu_smc_check(cpu, phys, size, ra);
    TLBEntry *e = &cpu->tlb.table[mmu][i];
    if (!tag_matches(e->addr_write, lin))
        e = tlb_fill(cpu, lin, ACC_WRITE, mmu, ra);
    return e;
}

/* After a write to a code page: the other CPUs with blocks there drop
 * them (cpu/smp.h).  A page no CPU holds code on any more loses the flag
 * in this entry, so later writes take the fast path again. */
static void store_code_done(CPUState *cpu, TLBEntry *e, const uint8_t *host, uint64_t phys,
                            unsigned size)
{
    Machine *m = cpu->machine;
    smp_code_written(cpu, host, phys, size);
    if (host >= m->ram && host < m->ram + m->ram_size &&
        !smp_ram_page_has_code(cpu, (uint64_t)(host - m->ram)))
        e->addr_write &= ~(uint64_t)TLB_CODE;
}

/* A write to a page whose entry has TLB_NOTDIRTY: the page goes into
 * both logs it may be in (the machine's, for a live migration; a logged
 * region's, for its device), and the entry loses the flag, so the next
 * writes take the fast path until a sync re-arms it (dirty_gen). */
static void store_log_page(CPUState *cpu, TLBEntry *e, uint64_t lin, uint64_t phys)
{
    Machine *m = cpu->machine;
    uint8_t *host = (uint8_t *)(uintptr_t)(lin + e->addend);
    if (host >= m->ram && host < m->ram + m->ram_size)
        machine_mark_dirty(m, (uint64_t)(host - m->ram));
    else
        memmap_log_write(m->mem, phys, 1);
    e->addr_write &= ~(uint64_t)TLB_NOTDIRTY;
}

static void store_page(CPUState *cpu, uint64_t lin, uint64_t val, unsigned size, int mmu,
                       uintptr_t ra)
{
    unsigned i = tlb_index(lin);
    TLBEntry *e = &cpu->tlb.table[mmu][i];
    if (!tag_matches(e->addr_write, lin))
        e = tlb_fill(cpu, lin, ACC_WRITE, mmu, ra);
    if (e->addr_write & TLB_WATCH)
        cpu_debug_check_access(cpu, lin, size, true, ra);
    uint64_t phys = cpu->tlb_phys[mmu][i] | (lin & ~TLB_PAGE_MASK);
    if (e->addr_write & TLB_MMIO) {
        if (cpu->icount_mode)
            cpu_icount_io_check(cpu, ra);
        memmap_write(cpu->machine->mem, phys, val, size);
        return;
    }
    if (e->addr_write & TLB_NOTDIRTY) {
        /* First write since the dirty log's last sync: log the page, then
         * let the next writes take the fast path. */
        store_log_page(cpu, e, lin, phys);
    }
    if (e->addr_write & TLB_CODE) {
        e = store_code_page(cpu, lin, phys, size, mmu, ra);
        if (e->addr_write & TLB_MMIO) {
            memmap_write(cpu->machine->mem, phys, val, size);
            return;
        }
        uint8_t *host = (uint8_t *)(uintptr_t)(lin + e->addend);
        host_st(host, val, size);
        store_code_done(cpu, e, host, phys, size);
        return;
    }
    host_st((uint8_t *)(uintptr_t)(lin + e->addend), val, size);
}

uint8_t *cpu_tlb_host_page(CPUState *cpu, uint64_t lin, bool write, int mmu)
{
    const TLBEntry *e = &cpu->tlb.table[mmu][tlb_index(lin)];
    uint64_t tag = write ? e->addr_write : e->addr_read;
    /* An exact match: no flag bits (invalid, MMIO, code page) in the tag. */
    if ((lin & TLB_PAGE_MASK) == tag)
        return (uint8_t *)(uintptr_t)(lin + e->addend);
    /* A source and a destination page that share an index evict each
     * other from the table: the victims still hold one of them. */
    for (unsigned v = 0; v < CPU_TLB_VICTIMS; v++) {
        e = &cpu->tlb_victim[mmu][v];
        tag = write ? e->addr_write : e->addr_read;
        if ((lin & TLB_PAGE_MASK) == tag)
            return (uint8_t *)(uintptr_t)(lin + e->addend);
    }
    return NULL;
}

void cpu_probe_write(CPUState *cpu, uint64_t lin, unsigned len, int mmu, uintptr_t ra)
{
    uint64_t last = lin + len - 1;
    for (uint64_t p = lin & TLB_PAGE_MASK; ; p += TLB_PAGE_SIZE) {
        uint64_t a = p < lin ? lin : p;
        TLBEntry *e = &cpu->tlb.table[mmu][tlb_index(a)];
        if (!tag_matches(e->addr_write, a))
            tlb_fill(cpu, a, ACC_WRITE, mmu, ra);
        if (p >= (last & TLB_PAGE_MASK))
            break;
    }
}

void cpu_st(CPUState *cpu, uint64_t lin, uint64_t val, unsigned size, int mmu, uintptr_t ra)
{
    TLBEntry *e = &cpu->tlb.table[mmu][tlb_index(lin)];
    unsigned off = lin & ~TLB_PAGE_MASK;
    if ((lin & TLB_PAGE_MASK) == e->addr_write && off <= TLB_PAGE_SIZE - size) {
        host_st((uint8_t *)(uintptr_t)(lin + e->addend), val, size);
        return;
    }
    if (off + size <= TLB_PAGE_SIZE) {
        store_page(cpu, lin, val, size, mmu, ra);
        return;
    }
    /* Crossing a page: both pages must be writable before either changes. */
    cpu_probe_write(cpu, lin, size, mmu, ra);
    for (unsigned k = 0; k < size; k++)
        store_page(cpu, lin + k, val >> (8 * k), 1, mmu, ra);
}

/* ---- atomic read-modify-write (LOCK prefix, XCHG, CMPXCHG8B/16B) ---- */

/* Host pointer for a write of size bytes at lin, inside one page, that is
 * about to be done atomically: translated for writing (faults as a store
 * does), the dirty log updated and this CPU's blocks on the bytes
 * invalidated first (cpu_smc_check may restart the instruction).  NULL
 * when the page is not RAM.  *code_e: the entry when the page holds code
 * (the other CPUs hear of the write after it: store_code_done). */
static uint8_t *atomic_host(CPUState *cpu, uint64_t lin, unsigned size, int mmu, uintptr_t ra,
                            uint64_t *phys, TLBEntry **code_e)
{
    unsigned i = tlb_index(lin);
    TLBEntry *e = &cpu->tlb.table[mmu][i];
    if (!tag_matches(e->addr_write, lin))
        e = tlb_fill(cpu, lin, ACC_WRITE, mmu, ra);
    if (e->addr_write & TLB_WATCH)
        cpu_debug_check_access(cpu, lin, size, true, ra);
    *phys = cpu->tlb_phys[mmu][i] | (lin & ~TLB_PAGE_MASK);
    *code_e = NULL;
    if (e->addr_write & TLB_MMIO)
        return NULL;
    if (e->addr_write & TLB_NOTDIRTY)
        store_log_page(cpu, e, lin, *phys);
    if (e->addr_write & TLB_CODE) {
        e = store_code_page(cpu, lin, *phys, size, mmu, ra);
        if (e->addr_write & TLB_MMIO)
            return NULL;
        *code_e = e;
    }
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* Compare-and-swap of 1 << sz bytes at p: true when *p held *old (then it
 * holds nv), else *old gets what it held.  A host lock cmpxchg. */
static bool host_cas(uint8_t *p, unsigned sz, uint64_t *old, uint64_t nv)
{
    const int m = __ATOMIC_SEQ_CST;
    switch (sz) {
    case 0: {
        uint8_t e = (uint8_t)*old;
        bool ok = __atomic_compare_exchange_n(p, &e, (uint8_t)nv, false, m, m);
        *old = e;
        return ok;
    }
    case 1: {
        uint16_t e = (uint16_t)*old;
        bool ok = __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)nv, false, m, m);
        *old = e;
        return ok;
    }
    case 2: {
        uint32_t e = (uint32_t)*old;
        bool ok = __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)nv, false, m, m);
        *old = e;
        return ok;
    }
    default:
        return __atomic_compare_exchange_n((uint64_t *)p, old, nv, false, m, m);
    }
}

/* One indivisible read-modify-write of host memory (the slow paths'; the
 * x86-64 backend inlines lock xadd / xchg / lock cmpxchg instead).  A
 * cmpxchg loop serves every IRAtomicOp: a failed compare of CMPXCHG
 * writes the old value back, as the locked cycle does. */
static uint64_t host_atomic(uint8_t *p, unsigned sz, IRAtomicOp op, uint64_t v, uint64_t nv)
{
    uint64_t old = host_ld(p, 1u << sz);
    while (!host_cas(p, sz, &old, ir_atomic_apply(op, sz, old, v, nv)))
        ;
    return old;
}

uint64_t cpu_atomic_rmw(CPUState *cpu, uint64_t lin, unsigned sz, IRAtomicOp op, uint64_t v,
                        uint64_t nv, int mmu, uintptr_t ra)
{
    unsigned size = 1u << sz;
    if ((lin & ~TLB_PAGE_MASK) + size <= TLB_PAGE_SIZE) {
        uint64_t phys;
        TLBEntry *code_e;
        uint8_t *host = atomic_host(cpu, lin, size, mmu, ra, &phys, &code_e);
        if (host) {
            uint64_t old = host_atomic(host, sz, op, v, nv);
            if (code_e)
                store_code_done(cpu, code_e, host, phys, size);
            return old;
        }
    }
    /* Across a page or on device memory/ROM: no single host instruction
     * covers it.  Serialised with every other such access of the machine
     * (not against host atomics of other CPUs on the same bytes: a split
     * locked access is what the guest must not rely on, and MMIO has no
     * atomics).  Both pages are checked first: the lock is never held
     * across a page fault (a restart for SMC releases it in the loop). */
    cpu_probe_write(cpu, lin, size, mmu, ra);
    smp_split_lock(cpu);
    uint64_t old = cpu_ld(cpu, lin, size, mmu, ra);
    cpu_st(cpu, lin, ir_atomic_apply(op, sz, old, v, nv), size, mmu, ra);
    smp_split_unlock(cpu);
    return old;
}

bool cpu_atomic_cmpxchg16(CPUState *cpu, uint64_t lin, const uint64_t cmp[2],
                          const uint64_t nv[2], uint64_t old[2], int mmu, uintptr_t ra)
{
    uint64_t phys;
    TLBEntry *code_e;
    /* 16-byte aligned (checked by the caller): inside one page */
    uint8_t *host = atomic_host(cpu, lin, 16, mmu, ra, &phys, &code_e);
    if (host) {
        uint64_t lo = cmp[0], hi = cmp[1];
        bool ok;
        __asm__ volatile("lock cmpxchg16b %1"
                         : "=@ccz"(ok), "+m"(*(__int128 *)host), "+a"(lo), "+d"(hi)
                         : "b"(nv[0]), "c"(nv[1])
                         : "memory");
        old[0] = lo;
        old[1] = hi;
        if (code_e)
            store_code_done(cpu, code_e, host, phys, 16);
        return ok;
    }
    cpu_probe_write(cpu, lin, 16, mmu, ra);
    smp_split_lock(cpu);
    old[0] = cpu_ld(cpu, lin, 8, mmu, ra);
    old[1] = cpu_ld(cpu, lin + 8, 8, mmu, ra);
    bool ok = old[0] == cmp[0] && old[1] == cmp[1];
    cpu_st(cpu, lin, ok ? nv[0] : old[0], 8, mmu, ra);
    cpu_st(cpu, lin + 8, ok ? nv[1] : old[1], 8, mmu, ra);
    smp_split_unlock(cpu);
    return ok;
}

/* ---- engine callbacks ---- */

static bool is_canonical(uint64_t lin)
{
    return (uint64_t)((int64_t)(lin << 16) >> 16) == lin;
}

/* SDM 3A 6.14 / vol. 2 "64-Bit Mode Exceptions": a non-canonical address
 * referencing the stack segment is #SS(0). */
static void check_stack_canonical(CPUState *cpu, uint64_t addr, unsigned size, IRMemOp mo,
                                  uintptr_t ra)
{
    if ((mo & MO_STACK) && (cpu->hflags & HF_LMA) &&
        (!is_canonical(addr) || !is_canonical(addr + size - 1)))
        cpu_raise_exception(cpu, EXC_SS, 0, ra);
}

static uint64_t x86_mem_load(void *env, uint64_t addr, IRMemOp mo, uintptr_t ra)
{
    CPUState *cpu = env;
    unsigned size = 1u << (mo & IR_MO_SIZE);
    int mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    check_stack_canonical(cpu, addr, size, mo, ra);
    if ((mo & IR_MO_ALIGN_CHECK) && (addr & (size - 1))) {
        /* #AC(0) (SDM 3A 6.15) ranks below #PF: translate first */
        if (mo & IR_MO_WRITE_INTENT)
            cpu_probe_write(cpu, addr, size, mmu, ra);
        cpu_ld(cpu, addr, size, mmu, ra);
        cpu_raise_exception(cpu, EXC_AC, 0, ra);
    }
    /* The read of a read-modify-write instruction faults as the write
     * would (#PF error code with W=1, SDM 3A 4.7): only a TLB miss gets
     * here, and the write follows anyway, so walking for write is safe. */
    if (mo & IR_MO_WRITE_INTENT)
        cpu_probe_write(cpu, addr, size, mmu, ra);
    uint64_t v = cpu_ld(cpu, addr, size, mmu, ra);
    return v;
}

static void x86_mem_store(void *env, uint64_t addr, uint64_t val, IRMemOp mo, uintptr_t ra)
{
    CPUState *cpu = env;
    unsigned size = 1u << (mo & IR_MO_SIZE);
    int mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    check_stack_canonical(cpu, addr, size, mo, ra);
    if ((mo & IR_MO_ALIGN_CHECK) && (addr & (size - 1))) {
        cpu_probe_write(cpu, addr, size, mmu, ra);
        cpu_raise_exception(cpu, EXC_AC, 0, ra);
    }
    cpu_st(cpu, addr, val, size, mmu, ra);
}

static uint64_t x86_mem_atomic(void *env, uint64_t addr, uint64_t val, uint64_t newv,
                               IRMemOp mo, uintptr_t ra)
{
    CPUState *cpu = env;
    unsigned size = 1u << (mo & IR_MO_SIZE);
    int mmu = (mo & IR_MO_MMU_MASK) >> IR_MO_MMU_SHIFT;
    check_stack_canonical(cpu, addr, size, mo, ra);
    if ((mo & IR_MO_ALIGN_CHECK) && (addr & (size - 1))) {
        cpu_probe_write(cpu, addr, size, mmu, ra);
        cpu_raise_exception(cpu, EXC_AC, 0, ra);
    }
    return cpu_atomic_rmw(cpu, addr, mo & IR_MO_SIZE, ir_memop_atomic(mo), val, newv, mmu, ra);
}

const IRGuestMemOps x86_guest_mem = {
    .load = x86_mem_load,
    .store = x86_mem_store,
    .atomic = x86_mem_atomic,
};

/* ---- code fetch ---- */

bool mmu_code_phys_probe(CPUState *cpu, uint64_t lin, uint64_t *phys)
{
    int mmu = cpu_mmu_index(cpu);
    TLBEntry *e = &cpu->tlb.table[mmu][tlb_index(lin)];
    if (tag_matches(e->addr_code, lin)) {
        *phys = cpu->tlb_phys[mmu][tlb_index(lin)] | (lin & ~TLB_PAGE_MASK);
        return true;
    }
    uint32_t err;
    if (mmu_translate(cpu, lin, ACC_EXEC, mmu, false, phys, &err))
        return false;
    return true;
}

uint64_t mmu_code_phys(CPUState *cpu, uint64_t lin)
{
    check_mem_generation(cpu);
    int mmu = cpu_mmu_index(cpu);
    unsigned i = tlb_index(lin);
    TLBEntry *e = &cpu->tlb.table[mmu][i];
    if (!tag_matches(e->addr_code, lin))
        e = tlb_fill(cpu, lin, ACC_EXEC, mmu, 0);
    if (!tag_matches(e->addr_code, lin)) {
        /* fill succeeded for exec: cannot happen, but never loop */
        cpu_raise_exception(cpu, EXC_PF, pf_error(cpu, ACC_EXEC, mmu, true), 0);
    }
    return cpu->tlb_phys[mmu][i] | (lin & ~TLB_PAGE_MASK);
}

size_t mmu_fetch_code(CPUState *cpu, uint64_t lin, uint8_t *buf, size_t len, uint64_t *phys)
{
    size_t done = 0;
    int mmu = cpu_mmu_index(cpu);
    while (done < len) {
        uint64_t a = lin + done;
        if (!(cpu->hflags & HF_LMA))
            a = (uint32_t)a;
        uint64_t p;
        uint32_t err;
        if (mmu_translate(cpu, a, ACC_EXEC, mmu, true, &p, &err))
            break;
        if (done == 0 && phys)
            *phys = p;
        size_t chunk = TLB_PAGE_SIZE - (a & ~TLB_PAGE_MASK);
        if (chunk > len - done)
            chunk = len - done;
        memmap_read_buf(cpu->machine->mem, p, buf + done, chunk);
        done += chunk;
    }
    return done;
}
