/*
 * 64-bit mode checks.
 *
 * Branch targets: a near or far branch to a non-canonical address raises
 * #GP(0) at the branch itself with nothing changed (SDM 2A JMP, CALL,
 * Jcc, LOOP; 2B RET; 3A 6.5: faults report the faulting instruction),
 * not at the fetch of the target.  Static targets are tested from code at
 * the top of the lower canonical half (0x7fff_ffff_fff0), where a rel32
 * reaches 0x0000_8000_0000_0000; computed targets (JMP/CALL reg, RET, far
 * RET, far JMP) from low memory.
 *
 * 1 GiB pages: PS in a PDPTE maps a 1 GiB page only when the CPU has the
 * feature (CPUConfig.page1gb, CPUID.80000001H:EDX[26]); otherwise the bit
 * is reserved and the access is a #PF with RSVD and P (SDM 3A 4.5).
 *
 * SMAP override: with CR4.SMAP, EFLAGS.AC = 1 (STAC, POPF) lets CPL 0 read
 * a user page and AC = 0 (CLAC, POPF) makes the same read #PF with P
 * (SDM 3A 4.6.1).  Switching AC must not flush the supervisor TLB: the
 * AC = 1 accesses have their own mmu index (MMU_KERNEL_AC).
 *
 * Global pages: with CR4.PGE a CR3 write keeps the TLB entries of pages
 * whose leaf entry has G and drops the others (SDM 3A 4.10.4.1); clearing
 * CR4.PGE drops them all.
 *
 * INVLPG of one address in a large page drops the whole page, which the
 * soft TLB holds as separate 4 KiB entries, and nothing of other pages.
 *
 * Each test enters long mode directly (setters, no boot code), places a
 * few hand-assembled instructions, and runs until the exception handler
 * halts.  The handler saves the error code, the saved RIP and the saved
 * RSP of its 64-bit frame.
 */
#include <string.h>

#include "core/machine.h"
#include "cpu/cpu.h"
#include "cpu/mmu.h"
#include "tests/unit/unit.h"

#define RAM (4u << 20)
#define NONCANON 0x0000800000000000ULL
#define TOP_CODE 0x00007ffffffffff0ULL   /* virtual; physical 0x3ffff0 */
#define GP_HANDLER 0x1800        /* #GP and #PF */
#define STACK_TOP 0x9000ULL
#define FRAME 0x6000             /* handler output: error, rip, rsp */


typedef struct Guest {
    Machine *m;
    CPUState *cpu;
} Guest;

static const char *const engines[] = { "interp", "x86_64" };

static void wr32(Guest *g, uint32_t a, uint32_t v) { memcpy(g->m->ram + a, &v, 4); }
static void wr64(Guest *g, uint32_t a, uint64_t v) { memcpy(g->m->ram + a, &v, 8); }

static uint64_t rd64(Guest *g, uint32_t a)
{
    uint64_t v;
    memcpy(&v, g->m->ram + a, 8);
    return v;
}

/* #GP handler: error code, RIP and RSP of the frame to FRAME; hlt.
 *   mov (%rsp),%rax; mov %rax,0x6000; mov 8(%rsp),%rax; mov %rax,0x6008;
 *   mov 32(%rsp),%rax; mov %rax,0x6010; hlt */
static const uint8_t gp_handler[] = {
    0x48, 0x8b, 0x04, 0x24, 0x48, 0x89, 0x04, 0x25, 0x00, 0x60, 0x00, 0x00,
    0x48, 0x8b, 0x44, 0x24, 0x08, 0x48, 0x89, 0x04, 0x25, 0x08, 0x60, 0x00, 0x00,
    0x48, 0x8b, 0x44, 0x24, 0x20, 0x48, 0x89, 0x04, 0x25, 0x10, 0x60, 0x00, 0x00,
    0xf4,
};

/* Long mode with two 2 MiB pages: 0 -> 0 and 0x7fff_ffe0_0000 -> 0x200000,
 * and PS in PML4[2]'s PDPTE 0 (VA1G: 1 GiB page -> 0 when page1gb);
 * GDT: 0x08 32-bit code, 0x10 data, 0x18 64-bit code; IDT vectors 13, 14. */
#define VA1G 0x0000010000000000ULL

static Guest lm_guest_cfg(int engine, bool page1gb, uint64_t rip, const uint8_t *code,
                          size_t len)
{
    char err[128];
    Guest g;
    g.m = machine_new(RAM, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(g.m);
    ck_assert_ptr_nonnull(memmap_add_ram(g.m->mem, "ram", 0, RAM, g.m->ram, NULL));
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.engine = engines[engine];
    cfg.page1gb = page1gb;
    g.cpu = cpu_create(g.m, 0, &cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(g.cpu);
    cpu_reset(g.cpu);

    wr64(&g, 0x10000, 0x11000 | 3);                 /* PML4[0] */
    wr64(&g, 0x10000 + 255 * 8, 0x13000 | 3);       /* PML4[255] */
    wr64(&g, 0x11000, 0x12000 | 3);
    wr64(&g, 0x12000, 0x000000 | 0x83);
    wr64(&g, 0x13000 + 511 * 8, 0x14000 | 3);
    wr64(&g, 0x14000 + 511 * 8, 0x200000 | 0x83);
    wr64(&g, 0x10000 + 2 * 8, 0x15000 | 3);         /* PML4[2] */
    wr64(&g, 0x15000, 0x000000 | 0x83);             /* PS in the PDPTE */
    wr64(&g, 0x1e00, 0);
    wr64(&g, 0x1e08, 0x00cf9a000000ffffULL);
    wr64(&g, 0x1e10, 0x00cf92000000ffffULL);
    wr64(&g, 0x1e18, 0x00af9a000000ffffULL);
    cpu_set_gdt(g.cpu, 0x1e00, 31);
    wr32(&g, 0x20000 + 13 * 16, GP_HANDLER | 0x18u << 16);
    wr32(&g, 0x20000 + 13 * 16 + 4, 0x8e00);
    wr64(&g, 0x20000 + 13 * 16 + 8, 0);
    wr32(&g, 0x20000 + 14 * 16, GP_HANDLER | 0x18u << 16);
    wr32(&g, 0x20000 + 14 * 16 + 4, 0x8e00);
    wr64(&g, 0x20000 + 14 * 16 + 8, 0);
    cpu_set_idt(g.cpu, 0x20000, 256 * 16 - 1);
    memcpy(g.m->ram + GP_HANDLER, gp_handler, sizeof(gp_handler));

    cpu_set_cr(g.cpu, 4, CR4_PAE);
    cpu_set_cr(g.cpu, 3, 0x10000);
    cpu_set_efer(g.cpu, EFER_LME);
    cpu_set_cr(g.cpu, 0, CR0_PE | CR0_PG | CR0_ET);
    uint32_t data = SEG_P | SEG_S | SEG_W | SEG_A | SEG_G | SEG_B;
    cpu_set_seg(g.cpu, R_CS, 0x18, 0, 0xffffffff, SEG_P | SEG_S | SEG_CODE | SEG_W | SEG_A |
                                                      SEG_G | SEG_L);
    cpu_set_seg(g.cpu, R_SS, 0x10, 0, 0xffffffff, data);
    cpu_set_seg(g.cpu, R_DS, 0x10, 0, 0xffffffff, data);
    cpu_set_seg(g.cpu, R_ES, 0x10, 0, 0xffffffff, data);
    ck_assert(g.cpu->efer & EFER_LMA);

    uint32_t phys = rip >= 0x00007fffffe00000ULL ? (uint32_t)(rip - 0x00007fffffe00000ULL + 0x200000)
                                    : (uint32_t)rip;
    memcpy(g.m->ram + phys, code, len);
    g.cpu->rip = rip;
    g.cpu->regs[R_ESP] = STACK_TOP;
    return g;
}

static Guest lm_guest(int engine, uint64_t rip, const uint8_t *code, size_t len)
{
    return lm_guest_cfg(engine, true, rip, code, len);
}

static void guest_free(Guest *g)
{
    cpu_free(g->cpu);
    machine_free(g->m);
}

/* Runs to the handler's HLT; checks #GP(0) with the saved RIP and RSP. */
static void expect_gp_at(Guest *g, uint64_t rip, uint64_t rsp)
{
    g->cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g->cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_eq(g->cpu->last_exception, EXC_GP);
    ck_assert_uint_eq(rd64(g, FRAME), 0);
    ck_assert_uint_eq(rd64(g, FRAME + 8), rip);
    ck_assert_uint_eq(rd64(g, FRAME + 16), rsp);
}

START_TEST(jmp_rel32_to_noncanonical_faults_at_the_jmp)
{
    /* jmp .+0x10 (0x7fff_ffff_fff5 + 0xb = 0x8000_0000_0000) */
    static const uint8_t code[] = { 0xe9, 0x0b, 0x00, 0x00, 0x00 };
    Guest g = lm_guest(_i, TOP_CODE, code, sizeof(code));
    expect_gp_at(&g, TOP_CODE, STACK_TOP);
    guest_free(&g);
}
END_TEST

START_TEST(call_rel32_to_noncanonical_faults_before_the_push)
{
    static const uint8_t code[] = { 0xe8, 0x0b, 0x00, 0x00, 0x00 };
    Guest g = lm_guest(_i, TOP_CODE, code, sizeof(code));
    expect_gp_at(&g, TOP_CODE, STACK_TOP);     /* nothing pushed */
    guest_free(&g);
}
END_TEST

START_TEST(jcc_to_noncanonical_faults_only_when_taken)
{
    /* stc; jc rel32 -> 0x8000_0000_0000 (taken: #GP at the jc) */
    static const uint8_t taken[] = { 0xf9, 0x0f, 0x82, 0x09, 0x00, 0x00, 0x00 };
    Guest g = lm_guest(_i, TOP_CODE, taken, sizeof(taken));
    expect_gp_at(&g, TOP_CODE + 1, STACK_TOP);
    guest_free(&g);

    /* at 0x7fff_ffff_ffe8: clc; jc 0x8000_0000_0000; hlt: not taken, falls through */
    static const uint8_t not_taken[] = { 0xf8, 0x0f, 0x82, 0x11, 0x00, 0x00, 0x00, 0xf4 };
    g = lm_guest(_i, TOP_CODE - 8, not_taken, sizeof(not_taken));
    g.cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->rip, TOP_CODE);       /* after the hlt at ...ffef */
    ck_assert_int_ne(g.cpu->last_exception, EXC_GP);
    guest_free(&g);
}
END_TEST

START_TEST(loop_to_noncanonical_faults_before_rcx_changes)
{
    /* mov $5,%ecx; loop .+0x81 (0x7fff_ffff_fff7 + 0x7f) */
    static const uint8_t code[] = { 0xb9, 0x05, 0x00, 0x00, 0x00, 0xe2, 0x7f };
    Guest g = lm_guest(_i, TOP_CODE, code, sizeof(code));
    expect_gp_at(&g, TOP_CODE + 5, STACK_TOP);
    ck_assert_uint_eq(g.cpu->regs[R_ECX], 5);
    guest_free(&g);
}
END_TEST

START_TEST(indirect_jmp_and_call_to_noncanonical_fault_at_the_branch)
{
    /* movabs $NONCANON,%rax; jmp *%rax */
    static const uint8_t jmp[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xff, 0xe0 };
    Guest g = lm_guest(_i, 0x1000, jmp, sizeof(jmp));
    expect_gp_at(&g, 0x100a, STACK_TOP);
    guest_free(&g);

    /* movabs $NONCANON,%rax; call *%rax: nothing pushed */
    static const uint8_t call[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xff, 0xd0 };
    g = lm_guest(_i, 0x1000, call, sizeof(call));
    expect_gp_at(&g, 0x100a, STACK_TOP);
    guest_free(&g);
}
END_TEST

START_TEST(ret_to_noncanonical_faults_before_the_pop_commits)
{
    /* movabs $NONCANON,%rax; push %rax; ret */
    static const uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0x50, 0xc3 };
    Guest g = lm_guest(_i, 0x1000, code, sizeof(code));
    expect_gp_at(&g, 0x100b, STACK_TOP - 8);       /* RSP still at the pushed value */
    guest_free(&g);
}
END_TEST

START_TEST(far_ret_and_jmp_to_noncanonical_fault_at_the_branch)
{
    /* push $0x18; movabs $NONCANON,%rax; push %rax; lretq */
    static const uint8_t lret[] = { 0x6a, 0x18, 0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0,
                                    0x50, 0x48, 0xcb };
    Guest g = lm_guest(_i, 0x1000, lret, sizeof(lret));
    expect_gp_at(&g, 0x100d, STACK_TOP - 16);
    ck_assert_uint_eq(g.cpu->seg[R_CS].selector, 0x18);
    guest_free(&g);

    /* rex.w ljmp *0x5000 with the m16:64 pointer {NONCANON, 0x18} */
    static const uint8_t ljmp[] = { 0x48, 0xff, 0x2c, 0x25, 0x00, 0x50, 0x00, 0x00 };
    g = lm_guest(_i, 0x1000, ljmp, sizeof(ljmp));
    wr64(&g, 0x5000, NONCANON);
    g.m->ram[0x5008] = 0x18;
    g.m->ram[0x5009] = 0;
    expect_gp_at(&g, 0x1000, STACK_TOP);
    guest_free(&g);
}
END_TEST

/* movabs VA1G+0x5000,%rax; hlt */
static const uint8_t read_1g[] = { 0x48, 0xa1, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                                   0xf4 };

START_TEST(pdpte_ps_maps_a_1gib_page_with_the_feature)
{
    Guest g = lm_guest_cfg(_i, true, 0x1000, read_1g, sizeof(read_1g));
    wr64(&g, 0x5000, 0x1122334455667788ULL);
    g.cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_ne(g.cpu->last_exception, EXC_PF);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x1122334455667788ULL);
    ck_assert(rd64(&g, 0x15000) & 0x20);            /* accessed bit in the PDPTE */
    guest_free(&g);
}
END_TEST

START_TEST(pdpte_ps_is_reserved_without_the_feature)
{
    Guest g = lm_guest_cfg(_i, false, 0x1000, read_1g, sizeof(read_1g));
    g.cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_int_eq(g.cpu->last_exception, EXC_PF);
    ck_assert_uint_eq(rd64(&g, FRAME), 9);          /* RSVD | P, supervisor read */
    ck_assert_uint_eq(rd64(&g, FRAME + 8), 0x1000);
    ck_assert_uint_eq(g.cpu->cr[2], VA1G + 0x5000);
    guest_free(&g);
}
END_TEST

/* mov 0x3000,%r8 (a supervisor page, before AC changes); <set AC>;
 * movabs VA1G+0x5000,%rax (user page); mov %rax,%rsi; <clear AC>;
 * movabs $VA1G+0x5000,%rcx; mov (%rcx),%rdx; hlt.
 * Returns the length; *fault_rip is the address of the second read. */
static size_t smap_code(uint8_t *buf, const uint8_t *set, size_t nset, const uint8_t *clr,
                        size_t nclr, uint64_t *fault_rip)
{
    static const uint8_t ld_r8[] = { 0x4c, 0x8b, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00 };
    static const uint8_t rd_rcx[] = { 0x48, 0x8b, 0x11, 0xf4 };
    size_t n = 0;
    memcpy(buf + n, ld_r8, sizeof(ld_r8)), n += sizeof(ld_r8);
    memcpy(buf + n, set, nset), n += nset;
    memcpy(buf + n, read_1g, 10), n += 10;                 /* movabs ...,%rax */
    buf[n++] = 0x48, buf[n++] = 0x89, buf[n++] = 0xc6;     /* mov %rax,%rsi (the
                                                              handler uses rax) */
    memcpy(buf + n, clr, nclr), n += nclr;
    buf[n++] = 0x48, buf[n++] = 0xb9;                      /* movabs $imm64,%rcx */
    uint64_t va = VA1G + 0x5000;
    memcpy(buf + n, &va, 8), n += 8;
    *fault_rip = 0x1000 + n;
    memcpy(buf + n, rd_rcx, sizeof(rd_rcx)), n += sizeof(rd_rcx);
    return n;
}

static void check_smap_override(int engine, const uint8_t *set, size_t nset, const uint8_t *clr,
                                size_t nclr)
{
    uint8_t code[64];
    uint64_t fault_rip;
    size_t n = smap_code(code, set, nset, clr, nclr, &fault_rip);
    Guest g = lm_guest_cfg(engine, true, 0x1000, code, n);
    wr64(&g, 0x10000 + 2 * 8, 0x15000 | 7);         /* PML4[2] and its 1 GiB page: user */
    wr64(&g, 0x15000, 0x000000 | 0x87);
    wr64(&g, 0x3000, 0xabcdef);
    wr64(&g, 0x5000, 0x1122334455667788ULL);
    cpu_set_cr(g.cpu, 4, CR4_PAE | CR4_SMAP);
    g.cpu->regs[R_EDX] = 0x77;
    g.cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->regs[8], 0xabcdef);
    ck_assert_uint_eq(g.cpu->regs[R_ESI], 0x1122334455667788ULL);   /* AC = 1: allowed */
    ck_assert_int_eq(g.cpu->last_exception, EXC_PF);                 /* AC = 0: #PF */
    ck_assert_uint_eq(rd64(&g, FRAME), 1);          /* P, supervisor read */
    ck_assert_uint_eq(rd64(&g, FRAME + 8), fault_rip);
    ck_assert_uint_eq(g.cpu->cr[2], VA1G + 0x5000);
    ck_assert_uint_eq(g.cpu->regs[R_EDX], 0x77);
    /* No flush in between: the supervisor entry filled before AC changed
     * is still there. */
    ck_assert_uint_eq(g.cpu->tlb.table[MMU_KERNEL][tlb_index(0x3000)].addr_read, 0x3000);
    guest_free(&g);
}

START_TEST(stac_lifts_smap_and_clac_restores_it_without_a_flush)
{
    static const uint8_t stac[] = { 0x0f, 0x01, 0xcb }, clac[] = { 0x0f, 0x01, 0xca };
    check_smap_override(_i, stac, sizeof(stac), clac, sizeof(clac));
}
END_TEST

START_TEST(popf_ac_lifts_smap_and_restores_it_without_a_flush)
{
    /* pushfq; orl $0x40000,(%rsp); popfq  and the same with andl $~0x40000 */
    static const uint8_t set[] = { 0x9c, 0x81, 0x0c, 0x24, 0x00, 0x00, 0x04, 0x00, 0x9d };
    static const uint8_t clr[] = { 0x9c, 0x81, 0x24, 0x24, 0xff, 0xff, 0xfb, 0xff, 0x9d };
    check_smap_override(_i, set, sizeof(set), clr, sizeof(clr));
}
END_TEST

/* movabs VA1G+0x5000,%rax (global 1 GiB page); mov 0x3000,%rbx (the
 * non-global 2 MiB page); hlt */
static const uint8_t read_global_and_not[] = {
    0x48, 0xa1, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x48, 0x8b, 0x1c, 0x25, 0x00, 0x30, 0x00, 0x00, 0xf4,
};

START_TEST(cr3_write_keeps_global_entries_only)
{
    Guest g = lm_guest_cfg(_i, true, 0x1000, read_global_and_not, sizeof(read_global_and_not));
    wr64(&g, 0x15000, 0x000000 | 0x183);            /* the 1 GiB page: G */
    wr64(&g, 0x3000, 0x33);
    wr64(&g, 0x5000, 0x55);
    cpu_set_cr(g.cpu, 4, CR4_PAE | CR4_PGE);
    g.cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    ck_assert_uint_eq(g.cpu->regs[R_EAX], 0x55);
    ck_assert_uint_eq(g.cpu->regs[R_EBX], 0x33);
    const TLBEntry *glob = &g.cpu->tlb.table[MMU_KERNEL][tlb_index(VA1G + 0x5000)];
    const TLBEntry *local = &g.cpu->tlb.table[MMU_KERNEL][tlb_index(0x3000)];
    ck_assert_uint_eq(glob->addr_read, VA1G + 0x5000);
    ck_assert_uint_eq(local->addr_read, 0x3000);

    cpu_set_cr(g.cpu, 3, 0x10000);
    ck_assert_uint_eq(glob->addr_read, VA1G + 0x5000);
    ck_assert(local->addr_read & TLB_INVALID);
    /* a non-global translation is walked again: it sees the new entry */
    wr64(&g, 0x12000, 0x200000 | 0x83);             /* 0-2 MiB now -> 2-4 MiB */
    wr64(&g, 0x203000, 0x77);
    cpu_set_cr(g.cpu, 3, 0x10000);
    ck_assert_uint_eq(cpu_ld(g.cpu, 0x3000, 8, MMU_KERNEL, 0), 0x77);
    wr64(&g, 0x12000, 0x000000 | 0x83);

    cpu_set_cr(g.cpu, 4, CR4_PAE);                  /* PGE off: everything goes */
    ck_assert(glob->addr_read & TLB_INVALID);
    guest_free(&g);
}
END_TEST

/* movabs VA1G+0x7000,%rax; mov 0x3000,%rbx; mov 0x5000,%rcx; hlt */
static const uint8_t read_three[] = {
    0x48, 0xa1, 0x00, 0x70, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x48, 0x8b, 0x1c, 0x25, 0x00, 0x30, 0x00, 0x00,
    0x48, 0x8b, 0x0c, 0x25, 0x00, 0x50, 0x00, 0x00, 0xf4,
};

START_TEST(invlpg_drops_the_whole_large_page)
{
    Guest g = lm_guest_cfg(_i, true, 0x1000, read_three, sizeof(read_three));
    g.cpu->insn_budget = 10000;
    ck_assert_int_eq(cpu_exec(g.cpu, INT64_MAX), CPU_EXIT_HALTED);
    const TLBEntry *k = g.cpu->tlb.table[MMU_KERNEL];
    ck_assert_uint_eq(k[tlb_index(0x3000)].addr_read, 0x3000);
    ck_assert_uint_eq(k[tlb_index(0x5000)].addr_read, 0x5000);
    ck_assert_uint_eq(k[tlb_index(VA1G + 0x7000)].addr_read, VA1G + 0x7000);
    mmu_flush_page(g.cpu, 0x3000);                  /* in the 2 MiB page at 0 */
    ck_assert(k[tlb_index(0x3000)].addr_read & TLB_INVALID);
    ck_assert(k[tlb_index(0x5000)].addr_read & TLB_INVALID);
    ck_assert_uint_eq(k[tlb_index(VA1G + 0x7000)].addr_read, VA1G + 0x7000);
    guest_free(&g);
}
END_TEST

static Suite *cpu_lm64_suite(void)
{
    Suite *s = suite_create("cpu-lm64");
    TCase *tc = tcase_create("noncanonical");
    tcase_add_loop_test(tc, jmp_rel32_to_noncanonical_faults_at_the_jmp, 0, 2);
    tcase_add_loop_test(tc, call_rel32_to_noncanonical_faults_before_the_push, 0, 2);
    tcase_add_loop_test(tc, jcc_to_noncanonical_faults_only_when_taken, 0, 2);
    tcase_add_loop_test(tc, loop_to_noncanonical_faults_before_rcx_changes, 0, 2);
    tcase_add_loop_test(tc, indirect_jmp_and_call_to_noncanonical_fault_at_the_branch, 0, 2);
    tcase_add_loop_test(tc, ret_to_noncanonical_faults_before_the_pop_commits, 0, 2);
    tcase_add_loop_test(tc, far_ret_and_jmp_to_noncanonical_fault_at_the_branch, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("page1gb");
    tcase_add_loop_test(tc, pdpte_ps_maps_a_1gib_page_with_the_feature, 0, 2);
    tcase_add_loop_test(tc, pdpte_ps_is_reserved_without_the_feature, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("tlb-flush");
    tcase_add_loop_test(tc, cr3_write_keeps_global_entries_only, 0, 2);
    tcase_add_loop_test(tc, invlpg_drops_the_whole_large_page, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("smap");
    tcase_add_loop_test(tc, stac_lifts_smap_and_clac_restores_it_without_a_flush, 0, 2);
    tcase_add_loop_test(tc, popf_ac_lifts_smap_and_restores_it_without_a_flush, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(cpu_lm64_suite)
