/*
 * vx86 test ROM framework: what a bare-metal test image can use.
 *
 * A test image is start.S + lib.c (this framework) + one test file, linked
 * by testrom.ld into a 64 KiB flat BIOS image.  start.S enters flat 32-bit
 * protected mode (32-bit images) or identity-mapped long mode (64-bit
 * images), installs an IDT whose 256 stubs all reach exc_dispatch(), and
 * calls the test's main().  A test prints its results as text lines on the
 * debug console (port 0xe9), checks what the SDM promises with CHECK(), and
 * main()'s return value leaves through the isa-debug-exit port 0xf4 (status
 * (code << 1) | 1: 1 = all checks passed, 3 = a check failed).
 *
 * Real-mode tests define main16 in assembly instead (see start.S: rm_*).
 */
#ifndef TESTROM_H
#define TESTROM_H

/* GDT layout (the RAM copy; the boot GDT in ROM has the first three). */
#define SEL_KCODE32 0x08
#define SEL_KDATA   0x10
#define SEL_KCODE64 0x18
#define SEL_KDATA64 0x20   /* SYSCALL: kernel SS = STAR.CS + 8 */
#define SEL_UCODE32 0x28   /* SYSRET: CS32 = STAR[63:48], SS = +8, CS64 = +16 */
#define SEL_UDATA   0x30
#define SEL_UCODE64 0x38
#define SEL_CODE16  0x40   /* base 0xF0000, limit 0xFFFF */
#define SEL_DATA16  0x48   /* base 0, limit 0xFFFF */
#define SEL_TSS     0x50   /* 16 bytes in long mode */
#define SEL_FREE    0x60   /* 0x60..0xF8: free for tests */
#define GDT_ENTRIES 32

#define DEBUGCON_PORT 0xe9
#define DEBUG_EXIT_PORT 0xf4
#define USER_RETURN_VECTOR 0x80   /* int $0x80 from ring 3 ends user_call() */

#define RM_STACK_TOP 0x7000       /* real-mode SS:SP = 0:7000 */

/* Constants shared with assembly. */
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A   0x020
#define PTE_D   0x040
#define PTE_PS  0x080
#define PTE_G   0x100
#define MSR_EFER 0xC0000080
#define EFER_SCE 0x1
#define EFER_LME 0x100
#define EFER_NXE 0x800
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_CSTAR 0xC0000083
#define MSR_FMASK 0xC0000084
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_EM 0x4
#define CR0_TS 0x8
#define CR0_NE 0x20
#define CR0_WP 0x10000
#define CR0_AM 0x40000
#define CR0_PG 0x80000000
#define CR4_PSE 0x10
#define CR4_PAE 0x20
#define CR4_PGE 0x80
#define CR4_SMEP 0x100000
#define CR4_SMAP 0x200000

#define EFLAGS_CF 0x0001
#define EFLAGS_PF 0x0004
#define EFLAGS_AF 0x0010
#define EFLAGS_ZF 0x0040
#define EFLAGS_SF 0x0080
#define EFLAGS_TF 0x0100
#define EFLAGS_IF 0x0200
#define EFLAGS_DF 0x0400
#define EFLAGS_OF 0x0800
#define EFLAGS_NT 0x4000
#define EFLAGS_RF 0x10000
#define EFLAGS_AC 0x40000
#define EFLAGS_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)


#ifndef __ASSEMBLER__

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned long uintptr_t;   /* pointer-sized on -m32 and -m64 */
typedef unsigned long ureg;        /* a general register of this image's mode */

/* ---- the interrupt frame exc_dispatch() sees (start.S pushes it) ---- */
#ifdef __x86_64__
struct frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss;      /* sp/ss always pushed in 64-bit mode */
};
#else
struct frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t ip, cs, flags;
    uint32_t sp, ss;                     /* only after a privilege change */
};
#endif

/* The last exception or interrupt seen (also printed as an "exc" line). */
struct exc_record {
    uint32_t vector, error, cs, count;
    uint64_t ip, cr2;
};
extern volatile struct exc_record last_exc;
extern volatile uint32_t exc_count;

/* Where exc_dispatch() resumes after an exception, once (0: none; an
 * unexpected exception ends the test with a dump).  Set by TRY(). */
extern volatile ureg recover_ip;
/* A test's own handler: return 1 when it handled the event (the frame may
 * be modified), 0 to let the default recording + recovery run. */
extern int (*exc_hook)(struct frame *f);
/* Print the "exc ..." line for every exception (default 1). */
extern int exc_verbose;

/* TRY("insns"): run insns; if one faults, the handler records it and
 * execution continues after the block.  TRY_IO("insns", OUTPUT, INPUTS...)
 * passes asm operands (OUTPUT may be empty); TRY_CLOB("insns", "reg"...)
 * names clobbered registers. */
#ifdef __x86_64__
#define TRY_SET "movq $.Ltry_end%=, recover_ip(%%rip)\n\t"
#define TRY_CLR "\n.Ltry_end%=:\n\tmovq $0, recover_ip(%%rip)"
#else
#define TRY_SET "movl $.Ltry_end%=, recover_ip\n\t"
#define TRY_CLR "\n.Ltry_end%=:\n\tmovl $0, recover_ip"
#endif
#define TRY(insns) asm volatile(TRY_SET insns TRY_CLR ::: "memory", "cc")
#define TRY_CLOB(insns, ...) asm volatile(TRY_SET insns TRY_CLR ::: "memory", "cc", __VA_ARGS__)
#define TRY_IO(insns, out, ...) asm volatile(TRY_SET insns TRY_CLR : out : __VA_ARGS__ : "memory", "cc")
/* TRY_CALL(target): call target (code that returns with a plain ret) and
 * survive a fault at the target: CALL completes (its return address is
 * pushed) before the fetch at the target faults, so the stack pointer is
 * restored after the block, or the caller's frame would be off by one
 * slot and its own return would go astray. */
#ifdef __x86_64__
#define TRY_CALL(target) asm volatile("movq %%rsp, %%rbx\n\t" TRY_SET "call *%0" TRY_CLR \
                                      "\n\tmovq %%rbx, %%rsp" :: "r"((ureg)(target)) \
                                      : "memory", "cc", "rbx", "rcx", "rdx", "rsi", "rdi", \
                                        "r8", "r9", "r10", "r11")
#else
#define TRY_CALL(target) asm volatile("movl %%esp, %%ebx\n\t" TRY_SET "call *%0" TRY_CLR \
                                      "\n\tmovl %%ebx, %%esp" :: "r"((ureg)(target)) \
                                      : "memory", "cc", "ebx", "ecx", "edx")
#endif

/* ---- output ---- */
void putc_dbg(char c);
void puts_dbg(const char *s);
/* printf subset: %d %u %x %X %c %s %%, width and 0-flag, l/ll sizes. */
void tprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void testrom_exit(int code) __attribute__((noreturn));
/* Print "dump NAME" lines for the general registers of a frame. */
void dump_frame(const struct frame *f);

/* ---- checks: a failed CHECK prints a FAIL line and makes main return 1 ---- */
extern int check_failures;
#define CHECK(cond, ...) do { if (!(cond)) check_fail(__LINE__, #cond, "" __VA_ARGS__); } while (0)
void check_fail(int line, const char *cond, const char *fmt, ...);
/* The exit code main() should return: 0 when every CHECK passed. */
int test_result(void);
/* Expect exactly one new exception with this vector (and error code when
 * err >= 0) since `before` = exc_count; prints a FAIL line otherwise. */
void expect_exc(uint32_t before, uint32_t vector, long err, const char *what);
void expect_no_exc(uint32_t before, const char *what);
/* One address-free line "WHAT: #vec(err)" / "WHAT: no exception" (use with
 * exc_verbose = 0 where a known QEMU deviation is listed, so the deviation
 * line does not depend on code addresses). */
void report_exc(uint32_t before, const char *what);

/* ---- descriptor tables ---- */
extern uint64_t gdt[GDT_ENTRIES];
void gdt_set(int sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void idt_set_gate(int vec, uintptr_t handler, uint16_t sel, uint8_t type_attr, uint8_t ist);
/* Restore vector vec to the framework's stub (interrupt gate, DPL dpl). */
void idt_reset(int vec, int dpl);
uintptr_t isr_stub_addr(int vec);

#ifdef __x86_64__
struct tss_seg {
    uint32_t rsvd0;
    uint64_t rsp[3];
    uint64_t ist[8];                 /* ist[1..7]; ist[0] is the reserved slot */
    uint64_t rsvd2;
    uint16_t rsvd3, iomap;
} __attribute__((packed));
#else
struct tss_seg {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt, trap_iomap;
};
#endif
/* The TSS (TR = SEL_TSS) with an I/O bitmap that lets ring 3 use only the
 * debug console and debug-exit ports (so ring-3 code can tprintf). */
struct tss_with_io {
    struct tss_seg t;
    uint8_t iomap[33];               /* ports 0..0xff, then the 0xff end byte */
} __attribute__((packed));
extern struct tss_with_io tss_io;
#define tss (tss_io.t)
extern uint8_t kstack_top[];     /* TSS ring-0 stack for ring-3 tests */

/* Run fn in ring 3 (flat user segments) on user_stack; returns the EAX/RAX
 * of the `int $0x80` (user_exit) that ends it. */
ureg user_call(void (*fn)(void), void *user_stack);
extern uint8_t ustack_top[];
#define user_exit() asm volatile("int $0x80" ::: "memory")

/* ---- paging helpers ---- */
void *page_alloc(void);           /* a zeroed 4 KiB page from a pool */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
/* 2-level (non-PAE) 32-bit paging: map one 4 KiB page. */
void pg32_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags);
/* PAE (in 32-bit images) and 4-level (in 64-bit images) paging. */
void pae_map(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags);
void pg64_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags);
/* The PTE that maps va (NULL when not mapped by a 4 KiB page). */
uint32_t *pg32_pte(uint32_t *pd, uint32_t va);
uint64_t *pae_pte(uint64_t *pdpt, uint32_t va);
uint64_t *pg64_pte(uint64_t *pml4, uint64_t va);
extern uint64_t lm_pml4[512];     /* 64-bit images: the boot identity map */

#define PTE_NX  (1ULL << 63)

/* ---- port IO and system registers ---- */
static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define READ_CR(n) ({ ureg _v; asm volatile("mov %%cr" #n ", %0" : "=r"(_v)); _v; })
#define WRITE_CR(n, v) asm volatile("mov %0, %%cr" #n :: "r"((ureg)(v)) : "memory")

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline ureg read_flags(void)
{
    ureg f;
    asm volatile("pushf; pop %0" : "=r"(f));
    return f;
}
static inline void invlpg(uintptr_t va) { asm volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline uint32_t mem_checksum(const void *p, uint32_t n)
{
    const uint8_t *b = p;
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (s << 5 | s >> 27) ^ b[i];
    return s;
}

/* 8259 PIC + 8254 PIT helpers for the interrupt tests. */
void pic_init(uint8_t base_master, uint8_t base_slave, uint16_t mask);
void pic_eoi(int irq);
void pit_start(int channel, int mode, uint16_t count);

int main(void);

#endif /* __ASSEMBLER__ */
#endif /* TESTROM_H */
