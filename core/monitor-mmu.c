/*
 * The human monitor's `info tlb` and `info mem`: the mappings of the
 * current CPU's page tables (32-bit, PAE or 4-level paging), walked from
 * CR3 through guest RAM in ascending linear order, printed in QEMU's
 * formats:
 *
 *   info tlb   one line per leaf entry: "LINEAR: PHYSICAL FLAGS" with
 *              FLAGS = X(NX) G(global) P(large page) D A C(PCD) T(PWT) U W
 *   info mem   runs of consecutive mapped linear addresses with the same
 *              effective protection: "START-END SIZE urw" (u: user, w:
 *              writable at every level of the walk)
 *
 * Linear addresses are shown sign-extended (canonical) in long mode.
 * Tables outside RAM/ROM are skipped (never read from a device).
 */
#include "core/monitor-mmu.h"

#include <string.h>

#include "core/memory.h"

#define PTE_P   0x001ull
#define PTE_W   0x002ull
#define PTE_U   0x004ull
#define PTE_PWT 0x008ull
#define PTE_PCD 0x010ull
#define PTE_A   0x020ull
#define PTE_D   0x040ull
#define PTE_PS  0x080ull
#define PTE_G   0x100ull
#define PTE_NX  (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

#define CR0_PG  0x80000000ull
#define CR4_PSE 0x10ull
#define CR4_PAE 0x20ull
#define EFER_LMA 0x400ull

/* One leaf mapping, as the walk finds it. */
typedef struct Leaf {
    uint64_t la;          /* linear address (not yet sign-extended) */
    uint64_t size;        /* 4 KiB, 2/4 MiB or 1 GiB */
    uint64_t entry;       /* the leaf entry */
    uint64_t pa;          /* the physical address it maps la to */
    uint64_t prot;        /* P|U|W of every level ANDed */
} Leaf;

typedef void (*LeafFn)(void *opaque, const Leaf *l);

typedef struct Walk {
    bool lm;
    MemMap *mem;
    LeafFn fn;
    void *opaque;
} Walk;

static bool read_entry(Walk *w, uint64_t pa, int bytes, uint64_t *out)
{
    const uint8_t *p = memmap_host_ptr(w->mem, pa, (uint64_t)bytes, false);
    if (!p)
        return false;
    *out = 0;
    memcpy(out, p, (size_t)bytes);     /* little-endian host */
    return true;
}

static void leaf(Walk *w, uint64_t la, uint64_t size, uint64_t e, uint64_t pa, uint64_t prot)
{
    Leaf l = { .la = la, .size = size, .entry = e, .pa = pa, .prot = prot & (PTE_P | PTE_U | PTE_W) };
    w->fn(w->opaque, &l);
}

static void walk32(Walk *w, const X86ArchState *s)
{
    uint64_t pd = s->cr3 & 0xfffff000u;
    for (uint64_t i = 0; i < 1024; i++) {
        uint64_t pde;
        if (!read_entry(w, pd + i * 4, 4, &pde) || !(pde & PTE_P))
            continue;
        if ((pde & PTE_PS) && (s->cr4 & CR4_PSE)) {
            /* PSE-36: bits 13..20 are physical address bits 32..39 */
            uint64_t pa = (pde & 0xffc00000u) | ((pde >> 13) & 0xffull) << 32;
            leaf(w, i << 22, 1ull << 22, pde, pa, pde);
            continue;
        }
        for (uint64_t k = 0; k < 1024; k++) {
            uint64_t pte;
            if (!read_entry(w, (pde & 0xfffff000u) + k * 4, 4, &pte) || !(pte & PTE_P))
                continue;
            leaf(w, i << 22 | k << 12, 4096, pte, pte & 0xfffff000u, pde & pte);
        }
    }
}

/* The levels below a PAE PDPTE or a 4-level PDPTE/PML4E: a page
 * directory (level 2) and its page tables. */
static void walk_pd(Walk *w, uint64_t table, uint64_t base, uint64_t prot)
{
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t pde;
        if (!read_entry(w, table + i * 8, 8, &pde) || !(pde & PTE_P))
            continue;
        uint64_t la = base | i << 21;
        if (pde & PTE_PS) {
            leaf(w, la, 1ull << 21, pde, pde & ADDR_MASK & ~((1ull << 21) - 1), prot & pde);
            continue;
        }
        for (uint64_t k = 0; k < 512; k++) {
            uint64_t pte;
            if (!read_entry(w, (pde & ADDR_MASK) + k * 8, 8, &pte) || !(pte & PTE_P))
                continue;
            /* QEMU shows a PAE entry's NX bit in the address too */
            leaf(w, la | k << 12, 4096, pte, pte & (w->lm ? ADDR_MASK : ~0xfffull),
                 prot & pde & pte);
        }
    }
}

static void walk_pae(Walk *w, const X86ArchState *s)
{
    uint64_t pdpt = s->cr3 & 0xffffffe0u;
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t e;
        if (!read_entry(w, pdpt + i * 8, 8, &e) || !(e & PTE_P))
            continue;
        /* PAE PDPTEs carry no U/W: the lower levels decide. */
        walk_pd(w, e & ADDR_MASK, i << 30, PTE_P | PTE_U | PTE_W);
    }
}

static void walk64(Walk *w, const X86ArchState *s)
{
    uint64_t pml4 = s->cr3 & ADDR_MASK;
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t e4;
        if (!read_entry(w, pml4 + i * 8, 8, &e4) || !(e4 & PTE_P))
            continue;
        for (uint64_t j = 0; j < 512; j++) {
            uint64_t e3;
            if (!read_entry(w, (e4 & ADDR_MASK) + j * 8, 8, &e3) || !(e3 & PTE_P))
                continue;
            uint64_t la = i << 39 | j << 30;
            if (e3 & PTE_PS)
                leaf(w, la, 1ull << 30, e3, e3 & ADDR_MASK & ~((1ull << 30) - 1), e4 & e3);
            else
                walk_pd(w, e3 & ADDR_MASK, la, e4 & e3);
        }
    }
}

/* false: paging is off. */
static bool walk(MemMap *mem, const X86ArchState *s, LeafFn fn, void *opaque)
{
    Walk w = { .mem = mem, .fn = fn, .opaque = opaque, .lm = s->efer & EFER_LMA };
    if (!(s->cr0 & CR0_PG))
        return false;
    if (s->efer & EFER_LMA)
        walk64(&w, s);
    else if (s->cr4 & CR4_PAE)
        walk_pae(&w, s);
    else
        walk32(&w, s);
    return true;
}

static uint64_t canonical(const X86ArchState *s, uint64_t la)
{
    if ((s->efer & EFER_LMA) && (la & (1ull << 47)))
        la |= ~((1ull << 48) - 1);
    return la;
}

typedef struct Out {
    const X86ArchState *s;
    Text *text;
    /* info mem: the run being gathered */
    bool open;
    uint64_t start, end, prot;
} Out;

static void tlb_line(void *opaque, const Leaf *l)
{
    Out *o = opaque;
    uint64_t e = l->entry;
    text_printf(o->text, "%016llx: %016llx %c%c%c%c%c%c%c%c%c\n",
                (unsigned long long)canonical(o->s, l->la), (unsigned long long)l->pa,
                e & PTE_NX && (o->s->efer & 0x800) ? 'X' : '-', e & PTE_G ? 'G' : '-',
                l->size > 4096 ? 'P' : '-', e & PTE_D ? 'D' : '-', e & PTE_A ? 'A' : '-',
                e & PTE_PCD ? 'C' : '-', e & PTE_PWT ? 'T' : '-', e & PTE_U ? 'U' : '-',
                e & PTE_W ? 'W' : '-');
}

static void mem_flush(Out *o)
{
    if (!o->open)
        return;
    text_printf(o->text, "%016llx-%016llx %016llx %cr%c\n",
                (unsigned long long)canonical(o->s, o->start),
                (unsigned long long)canonical(o->s, o->end),
                (unsigned long long)(o->end - o->start), o->prot & PTE_U ? 'u' : '-',
                o->prot & PTE_W ? 'w' : '-');
    o->open = false;
}

static void mem_leaf(void *opaque, const Leaf *l)
{
    Out *o = opaque;
    if (o->open && (o->end != l->la || o->prot != l->prot))
        mem_flush(o);
    if (!o->open) {
        o->open = true;
        o->start = l->la;
        o->prot = l->prot;
    }
    o->end = l->la + l->size;
}

void monitor_info_tlb(MemMap *mem, const X86ArchState *s, Text *out)
{
    Out o = { .s = s, .text = out };
    if (!walk(mem, s, tlb_line, &o))
        text_printf(out, "PG disabled\n");
}

void monitor_info_mem(MemMap *mem, const X86ArchState *s, Text *out)
{
    Out o = { .s = s, .text = out };
    if (!walk(mem, s, mem_leaf, &o)) {
        text_printf(out, "PG disabled\n");
        return;
    }
    mem_flush(&o);
}
