/*
 * -d int and -d pcall lines (see cpu/trace.h).  Selectors print as 4 hex
 * digits and offsets as 8 (16 in long mode), the forms the SDM and a
 * debugger use, so a line can be matched against the guest's own tables.
 * -dfilter selects by the linear address of the code the transfer
 * starts from.
 */
#include "cpu/trace.h"

#include <inttypes.h>

#include "cpu/exec.h"

static const char *const exc_names[32] = {
    [0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR",
    [6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS",
    [13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
    [20] = "#VE", [21] = "#CP", [28] = "#HV", [29] = "#VC", [30] = "#SX",
};

/* System descriptor types that transfer control (SDM 3A table 3-2). */
static const char *const gate_names[16] = {
    [4] = "16-bit call gate", [5] = "task gate", [6] = "16-bit interrupt gate",
    [7] = "16-bit trap gate", [12] = "32-bit call gate", [14] = "32-bit interrupt gate",
    [15] = "32-bit trap gate",
};

const char *trace_exc_name(int vec)
{
    return vec >= 0 && vec < 32 ? exc_names[vec] : NULL;
}

static const char *gate_name(const CPUState *cpu, int type)
{
    if (cpu_long_mode(cpu) && (type == 12 || type == 14 || type == 15))
        return type == 12 ? "64-bit call gate" : type == 14 ? "64-bit interrupt gate"
                                                            : "64-bit trap gate";
    const char *n = type >= 0 && type < 16 ? gate_names[type] : NULL;
    return n ? n : "system descriptor";
}

void trace_capture(const CPUState *cpu, TraceFrom *f)
{
    uint64_t pc = cpu_linear_pc(cpu);
    f->on = log_block_selected(pc, pc);
    f->cpl = cpu_cpl(cpu);
    f->cs = cpu->seg[R_CS].selector;
    f->ss = cpu->seg[R_SS].selector;
    f->rip = cpu->rip;
    f->sp = cpu->regs[R_ESP];
}

static int off_width(const CPUState *cpu)
{
    return cpu_long_mode(cpu) ? 16 : 8;
}

void trace_int_event(const CPUState *cpu, const TraceFrom *f, int vec, bool is_sw,
                     bool has_err, uint32_t err)
{
    if (!f->on || !log_enabled(LOG_INT))
        return;
    const char *name = trace_exc_name(vec);
    const char *kind;
    if (is_sw || cpu->exc_delivering == -1)
        kind = "software interrupt";   /* INT n, INT3, INTO, INT1 */
    else if (cpu->exc_delivering >= 0)
        kind = "exception";
    else if (vec == EXC_NMI)
        kind = "NMI";
    else
        kind = "external interrupt";
    bool exc = !is_sw && cpu->exc_delivering >= 0;
    char errs[24] = "", cr2[32] = "";
    if (has_err)
        snprintf(errs, sizeof(errs), " err=0x%04x", err);
    if (exc && vec == EXC_PF)
        snprintf(cr2, sizeof(cr2), " cr2=0x%" PRIx64, cpu->cr[2]);
    log_printf("int: %s 0x%02x%s%s%s at %04x:%0*" PRIx64 " cpl %d%s\n", kind, vec,
               exc && name ? " " : "", exc && name ? name : "", errs, f->cs, off_width(cpu),
               f->rip, f->cpl, cr2);
}

void trace_int_delivered(const CPUState *cpu, const TraceFrom *f)
{
    if (!f->on || !log_enabled(LOG_INT))
        return;
    log_printf("int:   -> %04x:%0*" PRIx64 " cpl %d -> %d\n", cpu->seg[R_CS].selector,
               off_width(cpu), cpu->rip, f->cpl, cpu_cpl(cpu));
}

/* ", cpl A -> B, stack SS:SP -> SS:SP" when the transfer switched
 * stacks (a privilege change, an IST), else ", same stack". */
static void log_cpl_stack(const CPUState *cpu, const TraceFrom *f, bool switched)
{
    int w = off_width(cpu);
    log_printf(", cpl %d -> %d", f->cpl, cpu_cpl(cpu));
    if (switched || cpu->seg[R_SS].selector != f->ss || cpu_cpl(cpu) != f->cpl)
        log_printf(", stack %04x:%0*" PRIx64 " -> %04x:%0*" PRIx64 "\n", f->ss, w, f->sp,
                   cpu->seg[R_SS].selector, w, cpu->regs[R_ESP]);
    else
        log_printf(", same stack\n");
}

void trace_int_gate(const CPUState *cpu, const TraceFrom *f, int vec, int gate_type,
                    int gate_dpl, unsigned ist, uint16_t tss_sel)
{
    if (!f->on || !log_enabled(LOG_PCALL))
        return;
    log_printf("pcall: int 0x%02x through %s (dpl %d", vec, gate_name(cpu, gate_type), gate_dpl);
    if (ist)
        log_printf(", IST %u", ist);
    log_printf(")");
    if (gate_type == 5) {
        log_printf(" -> TSS %04x\n", tss_sel);
        return;
    }
    log_printf(" -> %04x:%0*" PRIx64, cpu->seg[R_CS].selector, off_width(cpu), cpu->rip);
    log_cpl_stack(cpu, f, ist != 0);
}

void trace_far_gate(const CPUState *cpu, const TraceFrom *f, const char *insn, uint16_t gate_sel,
                    int gate_type, int gate_dpl, unsigned nparams)
{
    if (!f->on || !log_enabled(LOG_PCALL))
        return;
    log_printf("pcall: %s %04x through %s (dpl %d, %u params) -> %04x:%0*" PRIx64, insn,
               gate_sel, gate_name(cpu, gate_type), gate_dpl, nparams,
               cpu->seg[R_CS].selector, off_width(cpu), cpu->rip);
    log_cpl_stack(cpu, f, false);
}

void trace_far_return(const CPUState *cpu, const TraceFrom *f, const char *insn)
{
    trace_far_direct(cpu, f, insn);
}

void trace_far_direct(const CPUState *cpu, const TraceFrom *f, const char *insn)
{
    if (!f->on || !log_enabled(LOG_PCALL))
        return;
    log_printf("pcall: %s from %04x:%0*" PRIx64 " -> %04x:%0*" PRIx64, insn, f->cs,
               off_width(cpu), f->rip, cpu->seg[R_CS].selector, off_width(cpu), cpu->rip);
    log_cpl_stack(cpu, f, false);
}

void trace_task_switch(const CPUState *cpu, const TraceFrom *f, const char *reason,
                       uint16_t old_tr, bool t32, uint16_t link)
{
    if (!f->on || !log_enabled(LOG_PCALL))
        return;
    const SegmentCache *tr = &cpu->seg[R_TR];
    log_printf("pcall: task switch by %s from TSS %04x to TSS %04x (%s, base 0x%08" PRIx64
               ") at %04x:%08" PRIx64 " -> %04x:%08" PRIx64 ", cpl %d -> %d",
               reason, old_tr, tr->selector, t32 ? "32-bit" : "16-bit", tr->base, f->cs, f->rip,
               cpu->seg[R_CS].selector, cpu->rip, f->cpl, cpu_cpl(cpu));
    if (link)
        log_printf(", link %04x\n", link);
    else
        log_printf("\n");
}
