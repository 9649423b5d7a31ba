/*
 * Multiboot v1 loader (see multiboot.h).  Written from the Multiboot
 * specification 0.6.96: the header (magic, flags, checksum, then for
 * flag bit 16 header_addr, load_addr, load_end_addr, bss_end_addr,
 * entry_addr), the info structure and the machine state at entry.
 *
 * The work is split so nothing is written until everything is checked:
 * mb_plan() reads the header and the ELF program headers into a list of
 * segments (file offset, size in the file, size in memory, address) and
 * checks each against the file and the e820 map; mb_place() lays out the
 * modules and the info area; only then mb_write() copies.
 */
#include "hw/pc/multiboot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "core/util.h"

#define MB_FLAG_ADDRESS   0x10000u   /* header address fields are valid */
#define MB_MAX_SEGMENTS   16
#define MB_INFO_SIZE      88         /* up to and including the APM table field */
#define MB_LOADER_NAME    "vx86"
#define MB_BOOT_DEVICE    0x8000ffffu   /* BIOS drive 0x80, no partition (as QEMU) */
#define PAGE              4096ULL
#define MIB               0x100000ULL
#define GIB4              0x100000000ULL

/* ELF32 */
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EM_386 3
#define PT_LOAD 1

typedef struct MBSegment {
    uint64_t file_off, file_len;     /* bytes copied from the image */
    uint64_t addr, mem_len;          /* where, and the whole size (rest zeroed) */
} MBSegment;

typedef struct MBPlan {
    MBSegment seg[MB_MAX_SEGMENTS];
    int nseg;
    uint64_t low, high;              /* the kernel's extent in memory */
    uint32_t entry;
} MBPlan;

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

bool multiboot_probe(const uint8_t *image, size_t len, size_t *offset)
{
    size_t end = MIN(len, (size_t)MULTIBOOT_SEARCH);
    for (size_t i = 0; i + 12 <= end; i += 4) {
        uint32_t magic = get32(image + i), flags = get32(image + i + 4);
        if (magic == MULTIBOOT_HEADER_MAGIC &&
            (uint32_t)(magic + flags + get32(image + i + 8)) == 0) {
            if (offset)
                *offset = i;
            return true;
        }
    }
    return false;
}

/* [addr, addr + len) lies inside one RAM range of the map. */
static bool in_ram(const E820Map *map, uint64_t addr, uint64_t len)
{
    if (addr + len < addr)
        return false;
    for (int i = 0; i < map->n; i++) {
        const E820Entry *e = &map->e[i];
        if (e->type == E820_RAM && addr >= e->addr && addr + len <= e->addr + e->size)
            return true;
    }
    return false;
}

/* A segment is acceptable: within the file, at or above 1 MiB (below is
 * the loader's info area and the BIOS's), below 4 GiB, in RAM. */
static int check_segment(const MBSegment *s, size_t file_len, const E820Map *map,
                         const char *name, char *err, size_t errlen)
{
    if (s->file_off > file_len || s->file_len > file_len - s->file_off) {
        snprintf(err, errlen, "-kernel: %s is truncated: a segment needs file bytes "
                 "0x%llx-0x%llx, the file has 0x%zx", name, (unsigned long long)s->file_off,
                 (unsigned long long)(s->file_off + s->file_len), file_len);
        return -1;
    }
    if (s->file_len > s->mem_len || s->mem_len == 0) {
        snprintf(err, errlen, "-kernel: %s: a segment's size in memory (0x%llx) is smaller "
                 "than in the file (0x%llx) or zero", name, (unsigned long long)s->mem_len,
                 (unsigned long long)s->file_len);
        return -1;
    }
    if (s->addr < MIB || s->addr + s->mem_len > GIB4 || s->addr + s->mem_len < s->addr) {
        snprintf(err, errlen, "-kernel: %s: segment at 0x%llx-0x%llx is outside 1 MiB-4 GiB",
                 name, (unsigned long long)s->addr, (unsigned long long)(s->addr + s->mem_len));
        return -1;
    }
    if (!in_ram(map, s->addr, s->mem_len)) {
        snprintf(err, errlen, "-kernel: %s: segment at 0x%llx-0x%llx is not in guest RAM "
                 "(see -m)", name, (unsigned long long)s->addr,
                 (unsigned long long)(s->addr + s->mem_len));
        return -1;
    }
    return 0;
}

/* Flag bit 16: the header's address fields say what to load where. */
static int plan_address_fields(const uint8_t *img, size_t len, size_t hdr, const char *name,
                               MBPlan *p, char *err, size_t errlen)
{
    if (len - hdr < 32) {
        snprintf(err, errlen, "-kernel: %s is truncated: the Multiboot header's address "
                 "fields run past the end of the file", name);
        return -1;
    }
    uint32_t header_addr = get32(img + hdr + 12), load_addr = get32(img + hdr + 16);
    uint32_t load_end = get32(img + hdr + 20), bss_end = get32(img + hdr + 24);
    uint32_t entry = get32(img + hdr + 28);
    if (load_addr > header_addr || header_addr - load_addr > hdr) {
        snprintf(err, errlen, "-kernel: %s: Multiboot header_addr 0x%x and load_addr 0x%x "
                 "do not fit the header's file offset 0x%zx", name, header_addr, load_addr, hdr);
        return -1;
    }
    uint64_t off = hdr - (header_addr - load_addr);
    uint64_t load_size;
    if (load_end) {
        if (load_end < load_addr) {
            snprintf(err, errlen, "-kernel: %s: Multiboot load_end_addr 0x%x is below "
                     "load_addr 0x%x", name, load_end, load_addr);
            return -1;
        }
        load_size = load_end - load_addr;
    } else {
        load_size = len - off;
    }
    uint64_t mem_size = load_size;
    if (bss_end) {
        if (bss_end < load_addr + load_size) {
            snprintf(err, errlen, "-kernel: %s: Multiboot bss_end_addr 0x%x is below the "
                     "end of the loaded image 0x%llx", name, bss_end,
                     (unsigned long long)(load_addr + load_size));
            return -1;
        }
        mem_size = bss_end - load_addr;
    }
    p->seg[0] = (MBSegment){ .file_off = off, .file_len = load_size, .addr = load_addr,
                             .mem_len = mem_size };
    p->nseg = 1;
    p->entry = entry;
    return 0;
}

/* No bit 16: the image must be ELF32; its PT_LOAD segments go to their
 * physical addresses. */
static int plan_elf(const uint8_t *img, size_t len, const char *name, MBPlan *p,
                    char *err, size_t errlen)
{
    if (len < 52 || memcmp(img, "\x7f" "ELF", 4)) {
        snprintf(err, errlen, "-kernel: %s: Multiboot header without address fields "
                 "(flag bit 16) in an image that is not ELF", name);
        return -1;
    }
    if (img[EI_CLASS] == ELFCLASS64) {
        snprintf(err, errlen, "-kernel: %s is a 64-bit ELF image; Multiboot loads ELF32 "
                 "(or set the header's address fields, flag bit 16)", name);
        return -1;
    }
    if (img[EI_CLASS] != ELFCLASS32 || img[EI_DATA] != ELFDATA2LSB || get16(img + 18) != EM_386) {
        snprintf(err, errlen, "-kernel: %s is not a little-endian i386 ELF32 image", name);
        return -1;
    }
    uint32_t phoff = get32(img + 28);
    uint16_t phentsize = get16(img + 42), phnum = get16(img + 44);
    if (phentsize < 32 || phnum == 0 || phoff > len ||
        (uint64_t)phnum * phentsize > len - phoff) {
        snprintf(err, errlen, "-kernel: %s: ELF program headers (%u at 0x%x) are missing "
                 "or run past the end of the file", name, phnum, phoff);
        return -1;
    }
    uint32_t e_entry = get32(img + 24);
    bool entry_found = false;
    p->nseg = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
        if (get32(ph) != PT_LOAD || get32(ph + 20) == 0)
            continue;
        if (p->nseg == MB_MAX_SEGMENTS) {
            snprintf(err, errlen, "-kernel: %s has more than %d loadable segments", name,
                     MB_MAX_SEGMENTS);
            return -1;
        }
        uint32_t vaddr = get32(ph + 8), paddr = get32(ph + 12), memsz = get32(ph + 20);
        p->seg[p->nseg++] = (MBSegment){ .file_off = get32(ph + 4), .file_len = get32(ph + 16),
                                         .addr = paddr, .mem_len = memsz };
        /* The entry point is a virtual address; run it at its physical one. */
        if (!entry_found && e_entry >= vaddr && e_entry - vaddr < memsz) {
            p->entry = paddr + (e_entry - vaddr);
            entry_found = true;
        }
    }
    if (p->nseg == 0) {
        snprintf(err, errlen, "-kernel: %s: no loadable ELF segment", name);
        return -1;
    }
    if (!entry_found)
        p->entry = e_entry;
    return 0;
}

static int mb_plan(const uint8_t *img, size_t len, const char *name, const E820Map *map,
                   MBPlan *p, char *err, size_t errlen)
{
    size_t hdr;
    if (!multiboot_probe(img, len, &hdr)) {
        snprintf(err, errlen, "-kernel: %s has no Multiboot header in its first 8 KiB", name);
        return -1;
    }
    uint32_t flags = get32(img + hdr + 4);
    int rc = (flags & MB_FLAG_ADDRESS) ? plan_address_fields(img, len, hdr, name, p, err, errlen)
                                       : plan_elf(img, len, name, p, err, errlen);
    if (rc < 0)
        return -1;
    p->low = UINT64_MAX;
    p->high = 0;
    for (int i = 0; i < p->nseg; i++) {
        if (check_segment(&p->seg[i], len, map, name, err, errlen) < 0)
            return -1;
        p->low = MIN(p->low, p->seg[i].addr);
        p->high = MAX(p->high, p->seg[i].addr + p->seg[i].mem_len);
    }
    for (int i = 0; i < p->nseg; i++)
        for (int j = i + 1; j < p->nseg; j++)
            if (p->seg[i].addr < p->seg[j].addr + p->seg[j].mem_len &&
                p->seg[j].addr < p->seg[i].addr + p->seg[i].mem_len) {
                snprintf(err, errlen, "-kernel: %s: segments at 0x%llx and 0x%llx overlap",
                         name, (unsigned long long)p->seg[i].addr,
                         (unsigned long long)p->seg[j].addr);
                return -1;
            }
    bool entry_ok = false;
    for (int i = 0; i < p->nseg; i++)
        entry_ok |= p->entry >= p->seg[i].addr && p->entry - p->seg[i].addr < p->seg[i].mem_len;
    if (!entry_ok) {
        snprintf(err, errlen, "-kernel: %s: entry point 0x%x is outside the loaded image",
                 name, p->entry);
        return -1;
    }
    return 0;
}

/* The low info area: the info structure, the mmap, the module list and
 * the strings, built in host buffers first. */
typedef struct MBLow {
    uint8_t info[MB_INFO_SIZE];
    uint8_t mmap[E820_MAX_ENTRIES * 24];
    size_t mmap_len;
    uint8_t mods[MULTIBOOT_MAX_MODULES * 16];
    uint8_t *strings;
    size_t strings_len;
} MBLow;

static uint32_t add_string(MBLow *l, const char *s)
{
    size_t n = strlen(s) + 1;
    uint32_t at = (uint32_t)(MULTIBOOT_STRINGS_ADDR + l->strings_len);
    memcpy(l->strings + l->strings_len, s, n);
    l->strings_len += n;
    return at;
}

int multiboot_load_image(Machine *m, const uint8_t *img, size_t len, const char *name,
                         const MultibootModule *mods, int nmods, const char *cmdline,
                         const E820Map *e820, MultibootEntry *entry, char *err, size_t errlen)
{
    E820Map own;
    if (!e820) {
        e820_build_pc(&own, m->ram_size);
        e820 = &own;
    }
    if (!cmdline)
        cmdline = "";
    MBPlan plan = { .nseg = 0 };
    if (mb_plan(img, len, name, e820, &plan, err, errlen) < 0)
        return -1;
    if (nmods < 0 || nmods > MULTIBOOT_MAX_MODULES) {
        snprintf(err, errlen, "-initrd: %d modules; at most %d", nmods, MULTIBOOT_MAX_MODULES);
        return -1;
    }
    /* Strings: the command line, each module's, the loader's name. */
    size_t strings = strlen(cmdline) + 1 + sizeof(MB_LOADER_NAME);
    for (int i = 0; i < nmods; i++)
        strings += strlen(mods[i].string) + 1;
    if (strings > MULTIBOOT_STRINGS_END - MULTIBOOT_STRINGS_ADDR) {
        snprintf(err, errlen, "-append: the command lines take %zu bytes; at most %llu", strings,
                 (unsigned long long)(MULTIBOOT_STRINGS_END - MULTIBOOT_STRINGS_ADDR));
        return -1;
    }
    if (!in_ram(e820, MULTIBOOT_GDT_ADDR, MULTIBOOT_STRINGS_ADDR + strings - MULTIBOOT_GDT_ADDR)) {
        snprintf(err, errlen, "-kernel: the e820 map has no RAM at 0x%llx-0x%llx for the "
                 "Multiboot information", (unsigned long long)MULTIBOOT_GDT_ADDR,
                 (unsigned long long)(MULTIBOOT_STRINGS_ADDR + strings));
        return -1;
    }
    /* Modules: page-aligned, one after another, after the kernel. */
    uint64_t mod_addr[MULTIBOOT_MAX_MODULES];
    uint64_t next = (plan.high + PAGE - 1) & ~(PAGE - 1);
    for (int i = 0; i < nmods; i++) {
        mod_addr[i] = next;
        uint64_t size = mods[i].len ? mods[i].len : 1;
        if (next + size > GIB4 || !in_ram(e820, next, size)) {
            snprintf(err, errlen, "-initrd: module %d (%s, %zu bytes) does not fit in RAM at "
                     "0x%llx after the kernel (see -m)", i, mods[i].string, mods[i].len,
                     (unsigned long long)next);
            return -1;
        }
        next = (next + mods[i].len + PAGE - 1) & ~(PAGE - 1);
    }

    /* Everything checked: build the info area, then write. */
    MBLow *l = xcalloc(1, sizeof(*l));
    l->strings = xmalloc(strings);
    uint32_t flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_BOOTDEV | MULTIBOOT_INFO_CMDLINE |
                     MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_LOADER_NAME;
    uint64_t lower = e820_ram_end_from(e820, 0), upper = e820_ram_end_from(e820, MIB);
    put32(l->info + 0, flags);
    put32(l->info + 4, (uint32_t)MIN(lower, 640 * 1024ULL) / 1024);
    put32(l->info + 8, (uint32_t)MIN(upper > MIB ? (upper - MIB) / 1024 : 0, 0xffffffffULL));
    put32(l->info + 12, MB_BOOT_DEVICE);
    put32(l->info + 16, add_string(l, cmdline));
    put32(l->info + 20, (uint32_t)nmods);
    put32(l->info + 24, (uint32_t)MULTIBOOT_MODS_ADDR);
    for (int i = 0; i < nmods; i++) {
        uint8_t *e = l->mods + 16 * i;
        put32(e, (uint32_t)mod_addr[i]);
        put32(e + 4, (uint32_t)(mod_addr[i] + mods[i].len));
        put32(e + 8, add_string(l, mods[i].string));
    }
    for (int i = 0; i < e820->n; i++) {
        uint8_t *e = l->mmap + 24 * i;
        put32(e, 20);
        put64(e + 4, e820->e[i].addr);
        put64(e + 12, e820->e[i].size);
        put32(e + 20, e820->e[i].type);
    }
    l->mmap_len = (size_t)e820->n * 24;
    put32(l->info + 44, (uint32_t)l->mmap_len);
    put32(l->info + 48, (uint32_t)MULTIBOOT_MMAP_ADDR);
    put32(l->info + 64, add_string(l, MB_LOADER_NAME));

    /* Flat 4 GiB code (0x08) and data (0x10) descriptors. */
    uint8_t gdt[24] = { 0 };
    put64(gdt + 8, 0x00cf9b000000ffffULL);
    put64(gdt + 16, 0x00cf93000000ffffULL);

    bool ok = memmap_load_buf(m->mem, MULTIBOOT_GDT_ADDR, gdt, sizeof gdt) &&
              memmap_load_buf(m->mem, MULTIBOOT_INFO_ADDR, l->info, sizeof l->info) &&
              memmap_load_buf(m->mem, MULTIBOOT_MMAP_ADDR, l->mmap, l->mmap_len) &&
              memmap_load_buf(m->mem, MULTIBOOT_MODS_ADDR, l->mods, 16 * (size_t)nmods) &&
              memmap_load_buf(m->mem, MULTIBOOT_STRINGS_ADDR, l->strings, l->strings_len);
    static const uint8_t zeros[4096];
    for (int i = 0; ok && i < plan.nseg; i++) {
        const MBSegment *s = &plan.seg[i];
        ok = memmap_load_buf(m->mem, s->addr, img + s->file_off, s->file_len);
        for (uint64_t a = s->addr + s->file_len; ok && a < s->addr + s->mem_len;) {
            uint64_t n = MIN(sizeof zeros, s->addr + s->mem_len - a);
            ok = memmap_load_buf(m->mem, a, zeros, n);
            a += n;
        }
    }
    for (int i = 0; ok && i < nmods; i++)
        ok = memmap_load_buf(m->mem, mod_addr[i], mods[i].data, mods[i].len);
    free(l->strings);
    free(l);
    if (!ok) {
        snprintf(err, errlen, "-kernel: guest RAM is not mapped where the e820 map says");
        return -1;
    }
    *entry = (MultibootEntry){
        .entry = plan.entry, .info = (uint32_t)MULTIBOOT_INFO_ADDR,
        .load_start = (uint32_t)plan.low, .load_end = (uint32_t)plan.high, .nmods = nmods,
        .mods_start = nmods ? (uint32_t)mod_addr[0] : 0,
        .mods_end = nmods ? (uint32_t)(mod_addr[nmods - 1] + mods[nmods - 1].len) : 0,
    };
    return 0;
}

int multiboot_load(Machine *m, const char *kernel, const char *initrd_list, const char *cmdline,
                   const E820Map *e820, MultibootEntry *entry, char *err, size_t errlen)
{
    char rerr[256];
    size_t len;
    uint8_t *img = read_file(kernel, &len, rerr, sizeof rerr);
    if (!img) {
        snprintf(err, errlen, "-kernel: %s", rerr);
        return -1;
    }
    int n = initrd_list ? options_initrd_count(initrd_list) : 0;
    if (n > MULTIBOOT_MAX_MODULES) {
        snprintf(err, errlen, "-initrd: %d modules; at most %d", n, MULTIBOOT_MAX_MODULES);
        free(img);
        return -1;
    }
    MultibootModule *mods = xcalloc((size_t)(n ? n : 1), sizeof(*mods));
    char **paths = xcalloc((size_t)(n ? n : 1), sizeof(char *));
    char **strs = xcalloc((size_t)(n ? n : 1), sizeof(char *));
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (!options_initrd_item(initrd_list, i, &paths[i], &strs[i])) {
            snprintf(err, errlen, "-initrd: module %d is empty", i);
            rc = -1;
            break;
        }
        uint8_t *d = read_file(paths[i], &mods[i].len, rerr, sizeof rerr);
        if (!d) {
            snprintf(err, errlen, "-initrd: %s", rerr);
            rc = -1;
        }
        mods[i].data = d;
        mods[i].string = strs[i];
    }
    /* The kernel's command line starts with its file name, as GRUB and
     * QEMU pass it: "FILE APPEND" (the space stays when -append is empty). */
    size_t clen = strlen(kernel) + 1 + strlen(cmdline ? cmdline : "") + 1;
    char *full = xmalloc(clen);
    snprintf(full, clen, "%s %s", kernel, cmdline ? cmdline : "");
    if (rc == 0)
        rc = multiboot_load_image(m, img, len, kernel, mods, n, full, e820, entry, err,
                                  errlen);
    free(full);
    for (int i = 0; i < n; i++) {
        free((void *)mods[i].data);
        free(paths[i]);
        free(strs[i]);
    }
    free(mods);
    free(paths);
    free(strs);
    free(img);
    return rc;
}

/* A flat segment as its register's hidden part. */
static X86ArchSegment flat_segment(uint16_t sel, uint32_t type)
{
    return (X86ArchSegment){ .selector = sel, .base = 0, .limit = 0xffffffffu,
                             .attr = type | SEG_S | SEG_P | SEG_B | SEG_G };
}

void multiboot_entry_state(const MultibootEntry *e, X86ArchState *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    s->regs[R_EAX] = MULTIBOOT_BOOTLOADER_MAGIC;
    s->regs[R_EBX] = e->info;
    s->rip = e->entry;
    s->rflags = 0x2;                  /* IF and VM clear */
    s->cr0 = 0x11;                    /* PE | ET, paging off */
    s->cr3 = s->cr4 = 0;
    s->efer = 0;
    s->gdt.base = MULTIBOOT_GDT_ADDR;
    s->gdt.limit = 23;
    for (int i = R_ES; i <= R_GS; i++)
        s->seg[i] = flat_segment(0x10, SEG_A | SEG_W);
    s->seg[R_CS] = flat_segment(0x08, SEG_A | SEG_W | SEG_CODE);
    s->a20 = true;
}
