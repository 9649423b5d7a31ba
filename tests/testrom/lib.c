/*
 * vx86 test ROM library: debug-console output, checks, the IDT and the
 * exception dispatcher, the TSS, paging helpers and PIC/PIT set-up.
 * Compiled twice (gcc -m32 and -m64, freestanding); see testrom.h for the
 * API and start.S for the start-up path that calls testrom_init().
 */
#include "testrom.h"

volatile struct exc_record last_exc;
volatile uint32_t exc_count;
volatile ureg recover_ip;
int (*exc_hook)(struct frame *f);
int exc_verbose = 1;
int check_failures;
struct tss_with_io tss_io __attribute__((aligned(128)));

extern uint8_t isr_stubs[];
extern void user_return(void);

/* ---- output ---- */

void putc_dbg(char c)
{
    outb(DEBUGCON_PORT, (uint8_t)c);
}

void puts_dbg(const char *s)
{
    while (*s)
        putc_dbg(*s++);
}

static void put_num(uint64_t v, int base, int width, char pad, int upper)
{
    char buf[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[n++] = digits[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    while (width > n && width-- > 0)
        putc_dbg(pad);
    while (n)
        putc_dbg(buf[--n]);
}

static void vprint(const char *fmt, __builtin_va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_dbg(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            longs++, fmt++;
        uint64_t v = 0;
        if (*fmt == 'd' || *fmt == 'u' || *fmt == 'x' || *fmt == 'X') {
            if (longs >= 2)
                v = __builtin_va_arg(ap, unsigned long long);
            else if (longs == 1)
                v = __builtin_va_arg(ap, unsigned long);
            else
                v = __builtin_va_arg(ap, unsigned int);
        }
        switch (*fmt) {
        case 'd': {
            int64_t s = longs >= 2 ? (int64_t)v : longs ? (int64_t)(long)v : (int64_t)(int)v;
            if (s < 0) {
                putc_dbg('-');
                s = -s;
            }
            put_num((uint64_t)s, 10, width, pad, 0);
            break;
        }
        case 'u': put_num(v, 10, width, pad, 0); break;
        case 'x': put_num(v, 16, width, pad, 0); break;
        case 'X': put_num(v, 16, width, pad, 1); break;
        case 'c': putc_dbg((char)__builtin_va_arg(ap, int)); break;
        case 's': puts_dbg(__builtin_va_arg(ap, const char *)); break;
        case '%': putc_dbg('%'); break;
        case 0: return;
        default: putc_dbg('?'); break;
        }
    }
}

void tprintf(const char *fmt, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, fmt);
    vprint(fmt, ap);
    __builtin_va_end(ap);
}

void testrom_exit(int code)
{
    tprintf("exit code=%d\n", code);
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    for (;;)
        asm volatile("cli; hlt");
}

/* ---- checks ---- */

void check_fail(int line, const char *cond, const char *fmt, ...)
{
    __builtin_va_list ap;
    check_failures++;
    tprintf("FAIL line %d: %s", line, cond);
    if (*fmt) {
        puts_dbg(": ");
        __builtin_va_start(ap, fmt);
        vprint(fmt, ap);
        __builtin_va_end(ap);
    }
    putc_dbg('\n');
}

int test_result(void)
{
    tprintf("checks: %s\n", check_failures ? "FAILED" : "all passed");
    return check_failures ? 1 : 0;
}

void expect_exc(uint32_t before, uint32_t vector, long err, const char *what)
{
    if (exc_count != before + 1)
        check_fail(0, what, "%u exceptions, want 1 (#%u)", exc_count - before, vector);
    else if (last_exc.vector != vector)
        check_fail(0, what, "vector %u, want %u", last_exc.vector, vector);
    else if (err >= 0 && last_exc.error != (uint32_t)err)
        check_fail(0, what, "error code %x, want %x", last_exc.error, (uint32_t)err);
}

static int vector_has_error(uint32_t v);

void report_exc(uint32_t before, const char *what)
{
    if (exc_count == before)
        tprintf("%s: no exception\n", what);
    else if (vector_has_error(last_exc.vector))
        tprintf("%s: #%u(%04x)\n", what, last_exc.vector, last_exc.error);
    else
        tprintf("%s: #%u\n", what, last_exc.vector);
}

void expect_no_exc(uint32_t before, const char *what)
{
    if (exc_count != before)
        check_fail(0, what, "unexpected exception %u", last_exc.vector);
}

void dump_frame(const struct frame *f)
{
#ifdef __x86_64__
    tprintf("dump rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
            f->rax, f->rbx, f->rcx, f->rdx);
    tprintf("dump rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n",
            f->rsi, f->rdi, f->rbp, f->sp);
    tprintf("dump rip=%016llx cs=%04llx flags=%08llx ss=%04llx\n",
            f->ip, f->cs, f->flags, f->ss);
#else
    tprintf("dump eax=%08x ebx=%08x ecx=%08x edx=%08x\n", f->eax, f->ebx, f->ecx, f->edx);
    tprintf("dump esi=%08x edi=%08x ebp=%08x\n", f->esi, f->edi, f->ebp);
    tprintf("dump eip=%08x cs=%04x flags=%08x ds=%04x es=%04x\n",
            f->ip, f->cs, f->flags, f->ds & 0xffff, f->es & 0xffff);
#endif
}

/* ---- exceptions ---- */

static int vector_has_error(uint32_t v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

void exc_dispatch(struct frame *f)
{
    uint32_t vec = (uint32_t)f->vector;
    if (exc_hook && exc_hook(f))
        return;
    exc_count++;
    last_exc.vector = vec;
    last_exc.error = vector_has_error(vec) ? (uint32_t)f->error : 0;
    last_exc.ip = f->ip;
    last_exc.cs = (uint32_t)f->cs;
    last_exc.cr2 = vec == 14 ? READ_CR(2) : 0;
    last_exc.count = exc_count;
    if (exc_verbose) {
        tprintf("exc vec=%02x", vec);
        if (vector_has_error(vec))
            tprintf(" err=%04x", last_exc.error);
        if (vec == 14)
            tprintf(" cr2=%08llx", last_exc.cr2);
        if (vec == 8)   /* #DF: saved CS:EIP are undefined (SDM 6.15) */
            tprintf("\n");
        else
            tprintf(" ip=%08llx cs=%04x\n", last_exc.ip, last_exc.cs & 0xffff);
    }
    if (recover_ip) {
        f->ip = recover_ip;
        recover_ip = 0;
        return;
    }
    tprintf("unexpected exception %02x\n", vec);
    dump_frame(f);
    testrom_exit(2);
}

/* ---- descriptor tables ---- */

#ifdef __x86_64__
static uint64_t idt[256 * 2] __attribute__((aligned(16)));
#else
static uint64_t idt[256] __attribute__((aligned(16)));
#endif

void gdt_set(int sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t d = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
                 ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
                 ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
    gdt[sel >> 3] = d;
}

void idt_set_gate(int vec, uintptr_t handler, uint16_t sel, uint8_t type_attr, uint8_t ist)
{
    uint64_t lo = (handler & 0xffff) | ((uint64_t)sel << 16) |
                  ((uint64_t)(ist & 7) << 32) | ((uint64_t)type_attr << 40) |
                  ((uint64_t)((handler >> 16) & 0xffff) << 48);
#ifdef __x86_64__
    idt[vec * 2] = lo;
    idt[vec * 2 + 1] = (uint64_t)handler >> 32;
#else
    idt[vec] = lo;
#endif
}

uintptr_t isr_stub_addr(int vec)
{
    return (uintptr_t)isr_stubs + 16 * (unsigned)vec;
}

void idt_reset(int vec, int dpl)
{
#ifdef __x86_64__
    uint16_t cs = SEL_KCODE64;
#else
    uint16_t cs = SEL_KCODE32;
#endif
    idt_set_gate(vec, isr_stub_addr(vec), cs, (uint8_t)(0x8e | (dpl << 5)), 0);
}

static void tss_install(void)
{
    uintptr_t base = (uintptr_t)&tss_io;
    for (unsigned i = 0; i < sizeof(tss_io.iomap); i++)
        tss_io.iomap[i] = 0xff;
    tss_io.iomap[DEBUGCON_PORT / 8] &= (uint8_t)~(1u << (DEBUGCON_PORT % 8));
    tss_io.iomap[DEBUG_EXIT_PORT / 8] &= (uint8_t)~(1u << (DEBUG_EXIT_PORT % 8));
#ifdef __x86_64__
    tss.rsp[0] = (uintptr_t)kstack_top;
    tss.iomap = sizeof(struct tss_seg);
    gdt_set(SEL_TSS, (uint32_t)base, sizeof(tss_io) - 1, 0x89, 0);
    gdt[(SEL_TSS >> 3) + 1] = (uint64_t)base >> 32;
#else
    tss.esp0 = (uintptr_t)kstack_top;
    tss.ss0 = SEL_KDATA;
    tss.trap_iomap = (uint32_t)sizeof(struct tss_seg) << 16;
    gdt_set(SEL_TSS, base, sizeof(tss_io) - 1, 0x89, 0);
#endif
    asm volatile("ltr %w0" :: "r"(SEL_TSS));
}

void testrom_init(void)
{
    for (int v = 0; v < 256; v++)
        idt_reset(v, v == 3 || v == 4 ? 3 : 0);   /* INT3 and INTO usable from ring 3 */
#ifdef __x86_64__
    idt_set_gate(USER_RETURN_VECTOR, (uintptr_t)user_return, SEL_KCODE64, 0xee, 0);
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = { sizeof(idt) - 1, (uintptr_t)idt };
#else
    idt_set_gate(USER_RETURN_VECTOR, (uintptr_t)user_return, SEL_KCODE32, 0xee, 0);
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } d = { sizeof(idt) - 1, (uintptr_t)idt };
#endif
    asm volatile("lidt %0" :: "m"(d));
    tss_install();
}

/* ---- paging ---- */

#define POOL_PAGES 64
static uint8_t page_pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static int pool_used;

void *page_alloc(void)
{
    if (pool_used >= POOL_PAGES) {
        puts_dbg("page pool exhausted\n");
        testrom_exit(2);
    }
    return page_pool[pool_used++];   /* .bss: already zero */
}

void pg32_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
    uint32_t *pde = &pd[va >> 22];
    if (!(*pde & PTE_P))
        *pde = (uint32_t)(uintptr_t)page_alloc() | PTE_P | PTE_W | PTE_U;
    uint32_t *pt = (uint32_t *)(uintptr_t)(*pde & ~0xfffu);
    pt[(va >> 12) & 0x3ff] = (pa & ~0xfffu) | flags;
}

uint32_t *pg32_pte(uint32_t *pd, uint32_t va)
{
    uint32_t pde = pd[va >> 22];
    if (!(pde & PTE_P) || (pde & PTE_PS))
        return 0;
    return &((uint32_t *)(uintptr_t)(pde & ~0xfffu))[(va >> 12) & 0x3ff];
}

/* The next-level table of entry *e, created (or split from a large page)
 * when needed.  Upper-level entries get P|W|U so the leaf decides. */
static uint64_t *next_table(uint64_t *e, int split_level_shift, int allow_u)
{
    if (*e & PTE_P && !(*e & PTE_PS))
        return (uint64_t *)(uintptr_t)(*e & 0x000ffffffffff000ULL);
    uint64_t *t = page_alloc();
    if (*e & PTE_P) {   /* split a large page into 512 smaller ones */
        uint64_t base = *e & 0x000fffffffe00000ULL & ~((1ULL << split_level_shift) - 1);
        uint64_t fl = *e & (0xfffULL | PTE_NX) & ~(uint64_t)PTE_PS;
        uint64_t step = 1ULL << (split_level_shift - 9);
        for (int i = 0; i < 512; i++)
            t[i] = (base + i * step) | fl | (split_level_shift == 30 ? PTE_PS : 0);
    }
    *e = (uint64_t)(uintptr_t)t | PTE_P | (allow_u ? PTE_W | PTE_U : 0);
    return t;
}

void pae_map(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags)
{
    /* PAE PDPTEs have no W/U bits (reserved): allow_u = 0. */
    uint64_t *pd = next_table(&pdpt[va >> 30], 30, 0);
    uint64_t *pt = next_table(&pd[(va >> 21) & 511], 21, 1);
    pt[(va >> 12) & 511] = (pa & ~0xfffULL) | flags;
}

uint64_t *pae_pte(uint64_t *pdpt, uint32_t va)
{
    uint64_t e = pdpt[va >> 30];
    if (!(e & PTE_P))
        return 0;
    e = ((uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL))[(va >> 21) & 511];
    if (!(e & PTE_P) || (e & PTE_PS))
        return 0;
    return &((uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL))[(va >> 12) & 511];
}

void pg64_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pdpt = next_table(&pml4[(va >> 39) & 511], 39, 1);
    uint64_t *pd = next_table(&pdpt[(va >> 30) & 511], 30, 1);
    uint64_t *pt = next_table(&pd[(va >> 21) & 511], 21, 1);
    pt[(va >> 12) & 511] = (pa & ~0xfffULL) | flags;
}

uint64_t *pg64_pte(uint64_t *pml4, uint64_t va)
{
    uint64_t *t = pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
            return 0;
        t = (uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL);
    }
    return &t[(va >> 12) & 511];
}

/* ---- PIC and PIT ---- */

void pic_init(uint8_t base_master, uint8_t base_slave, uint16_t mask)
{
    outb(0x20, 0x11);            /* ICW1: edge, cascade, ICW4 follows */
    outb(0xa0, 0x11);
    outb(0x21, base_master);     /* ICW2: vector base */
    outb(0xa1, base_slave);
    outb(0x21, 0x04);            /* ICW3: slave on IRQ2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01);            /* ICW4: 8086 mode, normal EOI */
    outb(0xa1, 0x01);
    outb(0x21, (uint8_t)mask);   /* OCW1: masks */
    outb(0xa1, (uint8_t)(mask >> 8));
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

void pit_start(int channel, int mode, uint16_t count)
{
    outb(0x43, (uint8_t)((channel << 6) | 0x30 | (mode << 1)));   /* lo/hi, binary */
    outb((uint16_t)(0x40 + channel), (uint8_t)count);
    outb((uint16_t)(0x40 + channel), (uint8_t)(count >> 8));
}

/* gcc may call these for struct copies and initialisers even freestanding. */
void *memset(void *d, int c, unsigned long n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}
