/*
 * Helpers called from translated code (IR call ops), grouped by file:
 *   helpers-misc.c    flags, exceptions, block lookup, CPUID/TSC/MSR,
 *                     flag-register instructions, I/O, control registers
 *   helpers-arith.c   divide, BCD, rotates, double shifts, CMPXCHG8B/16B
 *   helpers-string.c  MOVS/STOS/LODS/CMPS/SCAS/INS/OUTS with REP
 *   seg.c             segment loads, far transfers, IRET, interrupts,
 *                     descriptor-table instructions, SYSCALL/SYSENTER
 * Every argument and result is a uint64_t (IR calling convention); env is
 * the CPUState.  Each helper has an IRHelper descriptor hlp_<name> with its
 * flags (can it fault, does it touch globals).
 */
#ifndef VX86_CPU_HELPERS_H
#define VX86_CPU_HELPERS_H

#include <stdint.h>

#include "cpu/cpu.h"
#include "tcg/ir.h"

typedef uint64_t u64;

/* helpers-misc.c */
extern const IRHelper hlp_cc_compute_all, hlp_lookup_tb_ptr, hlp_raise_exception,
    hlp_seg_fault, hlp_single_step, hlp_read_eflags, hlp_write_eflags, hlp_cli, hlp_sti,
    hlp_hlt, hlp_cpuid, hlp_rdtsc, hlp_rdtscp, hlp_rdmsr, hlp_wrmsr, hlp_in, hlp_out,
    hlp_mov_to_cr, hlp_mov_from_cr, hlp_mov_to_dr, hlp_mov_from_dr, hlp_lmsw, hlp_clts,
    hlp_invlpg, hlp_set_inhibit, hlp_clac, hlp_stac, hlp_unimplemented, hlp_rdpmc,
    hlp_bound, hlp_into, hlp_fpu_check, hlp_pause;
/* hlp_fpu_check kinds */
enum { FPCHK_X87, FPCHK_WAIT, FPCHK_SSE, FPCHK_FXSR };
/* helpers-arith.c */
extern const IRHelper hlp_div, hlp_idiv, hlp_daa, hlp_das, hlp_aaa, hlp_aas, hlp_aam,
    hlp_aad, hlp_rotate, hlp_shld, hlp_shrd, hlp_cmpxchg8b, hlp_cmpxchg16b;
/* helpers-string.c */
extern const IRHelper hlp_string;
/* seg.c */
extern const IRHelper hlp_load_seg, hlp_ljmp, hlp_lcall, hlp_lret, hlp_iret, hlp_int,
    hlp_lgdt, hlp_lidt, hlp_sgdt, hlp_sidt, hlp_lldt, hlp_ltr, hlp_lar, hlp_lsl, hlp_verr,
    hlp_verw, hlp_syscall, hlp_sysret, hlp_sysenter, hlp_sysexit, hlp_swapgs, hlp_enter,
    hlp_rdfsgsbase, hlp_wrfsgsbase;

/* String helper argument: kind | size_log2 << 4 | addr_log2 << 6 | rep << 8 | seg << 12 */
enum { STR_MOVS, STR_STOS, STR_LODS, STR_CMPS, STR_SCAS, STR_INS, STR_OUTS };
enum { STR_REP_NONE = 0, STR_REP_E = 1, STR_REP_NE = 2 };

/* Rotate helper argument: kind | size_log2 << 4 */
enum { ROT_ROL, ROT_ROR, ROT_RCL, ROT_RCR };

/* shared stack/descriptor utilities (seg.c) used by other C code */
void seg_push(CPUState *cpu, uint64_t *sp, unsigned size, uint64_t val, unsigned sp_size);
uint64_t seg_pop(CPUState *cpu, uint64_t *sp, unsigned size, unsigned sp_size);
uint32_t cpu_read_eflags_for_push(CPUState *cpu);
/* I/O permission for IN/OUT/INS/OUTS: #GP(0) unless allowed. */
void cpu_io_check(CPUState *cpu, unsigned port, unsigned size);

#endif
