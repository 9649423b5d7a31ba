/*
 * Multiboot test kernel: prints what the loader handed over (the Multiboot
 * 0.6.96 info structure and the machine state) to the debug console at
 * port 0xe9, then leaves through isa-debug-exit (port 0xf4) with 0x21
 * (status 0x43) when every check held, 0x22 otherwise.
 *
 * Lines starting with "@" carry addresses a loader may choose freely
 * (where the info structure, the strings and the modules went); the
 * comparison against QEMU drops them (tests/system/multiboot.sh).
 */
#include <stdint.h>

extern char __image_start[], __bss_end[];

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void putc_(char c) { outb(0xe9, (uint8_t)c); }
static void puts_(const char *s) { while (*s) putc_(*s++); }

static void puthex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putc_("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

static void putdec(uint32_t v)
{
    char b[12];
    int n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_(b[--n]);
}

static void kv(const char *k, uint32_t v)
{
    puts_(k);
    puts_("=0x");
    puthex(v, 8);
    putc_('\n');
}

static int failures;

static void check(int ok, const char *what)
{
    puts_(ok ? "ok   " : "FAIL ");
    puts_(what);
    putc_('\n');
    if (!ok)
        failures++;
}

static void putstr_quoted(const char *k, const char *s)
{
    puts_(k);
    puts_("='");
    puts_(s ? s : "(null)");
    puts_("'\n");
}

/* FNV-1a over a module, so its whole content is compared. */
static uint32_t fnv(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

void mb_main(uint32_t magic, const uint32_t *info, uint32_t eflags)
{
    uint32_t cr0;
    uint16_t cs, ds, ss;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cs, %0; mov %%ds, %1; mov %%ss, %2" : "=r"(cs), "=r"(ds), "=r"(ss));
    kv("magic", magic);
    check(magic == 0x2badb002, "EAX holds the bootloader magic");
    check((cr0 & 0x80000001) == 1, "protected mode, paging off");
    check(!(eflags & 0x200) && !(eflags & 0x20000), "IF and VM clear");
    /* Flat segments: a far pointer through DS and SS sees physical memory. */
    volatile uint32_t *probe = (volatile uint32_t *)0x7000;
    *probe = 0x5a5aa5a5;
    check(*probe == 0x5a5aa5a5, "DS reaches low memory at its physical address");
    /* A20: 1 MiB + 0x7000 must not alias 0x7000. */
    volatile uint32_t *hi = (volatile uint32_t *)0x107000;
    uint32_t save = *hi;
    *hi = 0x12345678;
    check(*probe == 0x5a5aa5a5, "A20 enabled");
    *hi = save;
    (void)cs, (void)ds, (void)ss;

    uint32_t flags = info[0];
    kv("flags", flags);
    check((flags & 0x24f) == 0x24f, "mem, boot_device, cmdline, mods, mmap, loader name");
    if (flags & 1) {
        puts_("mem_lower="); putdec(info[1]); puts_(" KiB\n");
        puts_("@mem_upper="); putdec(info[2]); puts_(" KiB\n");
        check(info[1] >= 600 && info[1] <= 640, "mem_lower about 640 KiB");
        check(info[2] >= 60 * 1024 && info[2] <= 128 * 1024, "mem_upper below 128 MiB, above 60");
    }
    if (flags & 2)
        kv("boot_device", info[3]);
    if (flags & 4)
        putstr_quoted("cmdline", (const char *)info[4]);
    if (flags & 8) {
        uint32_t n = info[5];
        const uint32_t *mods = (const uint32_t *)info[6];
        puts_("mods_count="); putdec(n); putc_('\n');
        for (uint32_t i = 0; i < n; i++) {
            const uint32_t *m = mods + 4 * i;
            puts_("mod "); putdec(i); puts_(": len="); putdec(m[1] - m[0]);
            puts_(" fnv=0x"); puthex(fnv((const uint8_t *)m[0], m[1] - m[0]), 8);
            puts_(" head='");
            for (uint32_t j = 0; j < 16 && m[0] + j < m[1]; j++) {
                char c = ((const char *)m[0])[j];
                putc_(c >= ' ' && c < 127 ? c : '.');
            }
            puts_("'\n");
            putstr_quoted("  string", (const char *)m[2]);
            puts_("@  start=0x"); puthex(m[0], 8); puts_(" end=0x"); puthex(m[1], 8); putc_('\n');
            check(!(m[0] & 0xfff), "module page-aligned");
            check(m[0] >= (uint32_t)__bss_end || m[1] <= (uint32_t)__image_start,
                  "module does not overlap the kernel");
            if (i)
                check(m[0] >= mods[4 * (i - 1) + 1], "modules do not overlap");
        }
    }
    if (flags & 0x40) {
        uint32_t len = info[11], addr = info[12];
        uint32_t ram_kib = 0;
        puts_("@mmap:\n");
        for (uint32_t off = 0; off < len;) {
            const uint32_t *e = (const uint32_t *)(addr + off);
            uint64_t base = e[1] | (uint64_t)e[2] << 32, size = e[3] | (uint64_t)e[4] << 32;
            puts_("@  base=0x"); puthex(base, 16); puts_(" len=0x"); puthex(size, 16);
            puts_(" type="); putdec(e[5]); putc_('\n');
            if (e[5] == 1 && base >= 0x100000)
                ram_kib += (uint32_t)(size >> 10);
            off += e[0] + 4;
        }
        /* The map agrees with mem_upper: RAM from 1 MiB is at least what
         * mem_upper says. */
        check(ram_kib >= info[2], "mmap RAM above 1 MiB covers mem_upper");
        check(len % 24 == 0 && len > 0, "mmap has 24-byte entries");
    }
    if (flags & 0x200) {
        const char *n = (const char *)info[16];
        puts_("@");
        putstr_quoted("boot_loader_name", n);
        check(n && n[0], "boot loader name present");
    }
    puts_(failures ? "RESULT: FAIL\n" : "RESULT: PASS\n");
    outb(0xf4, failures ? 0x22 : 0x21);
}
