/*
 * pm-task: hardware task switching with 32-bit TSSs (SDM Vol. 3A ch. 7):
 * JMP to a TSS (no link, NT clear, busy bits move), CALL to a TSS (link =
 * old TR, NT set, both busy) and IRET back through the link, registers
 * saved into and loaded from the TSSs, and the faults: JMP to a busy TSS
 * #GP(sel), a not-present TSS #NP(sel), a TSS limit below 0x67 #TS(sel).
 */
#include "testrom.h"

#define SEL_TSSB   0x60
#define SEL_TSSNP  0x68
#define SEL_TSSLIM 0x70

static struct tss_seg tss_b __attribute__((aligned(128)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static volatile uint32_t b_runs, b_tr, b_flags, b_link, b_ebx, b_esi;

static uint8_t desc_type(int sel)
{
    return (uint8_t)(gdt[sel >> 3] >> 40) & 0x0f;
}

/* Task B's code: jumped to (first run) or called (second run). */
extern char task_b_entry[];
static void __attribute__((used)) task_b_body(void)
{
    uint16_t tr;
    asm volatile("str %0" : "=r"(tr));
    b_runs++;
    b_tr = tr;
    b_flags = read_flags();
    b_link = tss_b.link;
}
asm(".text\n"
    "task_b_entry:\n"
    "  movl %ebx, b_ebx\n"            /* EBX/ESI come from TSS B */
    "  movl %esi, b_esi\n"
    "  call task_b_body\n"
    "  cmpl $1, b_runs\n"
    "  jne 1f\n"
    "  ljmp $0x50, $0\n"             /* first run: JMP back to the main task */
    "  jmp task_b_entry\n"           /* resumed here by the CALL */
    "1: iret\n");                   /* second run: NT=1, IRET back through the link */

static void tss_b_setup(void)
{
    memset(&tss_b, 0, sizeof(tss_b));
    tss_b.eip = (uintptr_t)task_b_entry;
    tss_b.esp = (uintptr_t)stack_b + sizeof(stack_b);
    tss_b.eflags = 0x2;
    tss_b.cs = SEL_KCODE32;
    tss_b.ss = tss_b.ds = tss_b.es = SEL_KDATA;
    tss_b.fs = tss_b.gs = SEL_KDATA;
    tss_b.ebx = 0xb0b0b0b0;
    tss_b.esi = 0x5151;
    tss_b.cr3 = (uint32_t)READ_CR(3);
    tss_b.trap_iomap = (uint32_t)sizeof(struct tss_seg) << 16;
}

int main(void)
{
    uint32_t tb = (uint32_t)(uintptr_t)&tss_b;
    tss_b_setup();
    gdt_set(SEL_TSSB, tb, sizeof(tss_b) - 1, 0x89, 0);
    gdt_set(SEL_TSSNP, tb, sizeof(tss_b) - 1, 0x09, 0);      /* P=0 */
    gdt_set(SEL_TSSLIM, tb, 0x50, 0x89, 0);                  /* limit < 0x67 */

    /* 1: JMP to task B; it JMPs back. */
    uint32_t ebx_in = 0x1234abcd, ebx_out;
    asm volatile("ljmp %1, $0" : "=b"(ebx_out) : "i"(SEL_TSSB), "0"(ebx_in) : "memory", "esi");
    tprintf("jmp: task B ran %u, tr=%04x, NT=%u, ebx=%08x esi=%04x\n", b_runs, b_tr,
            (b_flags >> 14) & 1, b_ebx, b_esi & 0xffff);
    tprintf("after jmp back: B type=%x main type=%x, main ebx kept=%s\n",
            desc_type(SEL_TSSB), desc_type(SEL_TSS), ebx_out == ebx_in ? "yes" : "no");
    CHECK(b_runs == 1 && b_tr == SEL_TSSB && !(b_flags & EFLAGS_NT));
    CHECK(b_ebx == 0xb0b0b0b0 && b_esi == 0x5151, "registers loaded from the TSS");
    CHECK(desc_type(SEL_TSSB) == 0x9 && desc_type(SEL_TSS) == 0xb, "busy bits after JMP back");
    CHECK(ebx_out == ebx_in, "registers restored from the main TSS");
    CHECK(tss_b.eip != (uintptr_t)task_b_entry, "task B's state saved at its JMP");

    /* 2: CALL task B (from where it stopped); it IRETs back. */
    asm volatile("lcall %0, $0" :: "i"(SEL_TSSB) : "memory", "ebx", "esi");
    tprintf("call: task B ran %u, NT=%u, link=%04x, B type after iret=%x\n",
            b_runs, (b_flags >> 14) & 1, b_link & 0xffff, desc_type(SEL_TSSB));
    CHECK(b_runs == 2 && (b_flags & EFLAGS_NT) && b_link == SEL_TSS);
    CHECK(desc_type(SEL_TSSB) == 0x9, "IRET clears the busy bit of the task it leaves");
    CHECK(!(read_flags() & EFLAGS_NT));

    /* 3: faults. */
    uint32_t n = exc_count;
    TRY("ljmp $0x50, $0");                     /* the running (busy) task */
    expect_exc(n, 13, SEL_TSS, "JMP to a busy TSS");
    n = exc_count;
    TRY("ljmp $0x68, $0");
    expect_exc(n, 11, SEL_TSSNP, "JMP to a not-present TSS");
    n = exc_count;
    TRY("ljmp $0x70, $0");
    expect_exc(n, 10, SEL_TSSLIM, "JMP to a TSS with limit < 0x67");
    return test_result();
}
