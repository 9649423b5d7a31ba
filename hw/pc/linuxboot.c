/*
 * Direct Linux boot: loads a bzImage, initrd and command line into guest
 * RAM per the Linux x86 boot protocol (Documentation/arch/x86/boot.rst)
 * and describes the CPU state to enter the kernel with.  Layout and usage
 * in hw/linuxboot.h; the why of each choice in docs/linux-boot.md.
 *
 * Flow: bzimage_parse() checks the file and pulls the setup header fields
 * out (each one only if the header is long enough to hold it);
 * linuxboot_plan() decides addresses and refuses what does not fit;
 * linuxboot_write_*() fill guest RAM.  Nothing is written to the guest
 * before every check has passed.
 */
#include "hw/pc/linuxboot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

/* Setup header offsets (boot.rst "The real-mode kernel header"). */
#define HDR_SETUP_SECTS        0x1f1
#define HDR_SYSSIZE            0x1f4
#define HDR_VID_MODE           0x1fa
#define HDR_BOOT_FLAG          0x1fe
#define HDR_JUMP               0x200   /* its second byte gives the header length */
#define HDR_MAGIC              0x202
#define HDR_VERSION            0x206
#define HDR_TYPE_OF_LOADER     0x210
#define HDR_LOADFLAGS          0x211
#define HDR_CODE32_START       0x214
#define HDR_RAMDISK_IMAGE      0x218
#define HDR_RAMDISK_SIZE       0x21c
#define HDR_HEAP_END_PTR       0x224
#define HDR_EXT_LOADER_VER     0x226
#define HDR_EXT_LOADER_TYPE    0x227
#define HDR_CMD_LINE_PTR       0x228
#define HDR_INITRD_ADDR_MAX    0x22c
#define HDR_KERNEL_ALIGNMENT   0x230
#define HDR_RELOCATABLE        0x234
#define HDR_XLOADFLAGS         0x236
#define HDR_CMDLINE_SIZE       0x238
#define HDR_HARDWARE_SUBARCH   0x23c
#define HDR_PAYLOAD_OFFSET     0x248
#define HDR_PAYLOAD_LENGTH     0x24c
#define HDR_SETUP_DATA         0x250
#define HDR_PREF_ADDRESS       0x258
#define HDR_INIT_SIZE          0x260

/* boot_params ("zero page") offsets outside the setup header. */
#define BP_SIZE                0x1000
#define BP_EXT_MEM_K           0x002   /* screen_info.ext_mem_k */
#define BP_VIDEO_MODE          0x006
#define BP_VIDEO_COLS          0x007
#define BP_VIDEO_EGA_BX        0x00a
#define BP_VIDEO_LINES         0x00e
#define BP_VIDEO_ISVGA         0x00f
#define BP_VIDEO_POINTS        0x010
#define BP_ACPI_RSDP_ADDR      0x070
#define BP_ALT_MEM_K           0x1e0
#define BP_E820_ENTRIES        0x1e8
#define BP_SENTINEL            0x1ef
#define BP_HDR_LIMIT           0x290   /* edd_mbr_sig_buffer follows the header */
#define BP_E820_TABLE          0x2d0
#define BP_E820_ENTRY_SIZE     20

#define BOOT_FLAG_MAGIC        0xaa55
#define LOADED_HIGH            0x01
#define CAN_USE_HEAP           0x80
#define XLF_KERNEL_64          0x0001
#define LOADER_TYPE_UNDEFINED  0xff
#define VID_MODE_NORMAL        0xffff

#define MIN_PROTOCOL           0x206
#define MiB                    (1ULL << 20)
#define GiB                    (1ULL << 30)
#define FOUR_GIB               (4ULL << 30)
#define PAGE_SIZE              0x1000ULL

/* Page-table entry bits and control-register bits for the entry state. */
#define PTE_PRESENT            0x001ULL
#define PTE_WRITE              0x002ULL
#define PTE_LARGE              0x080ULL
#define CR0_PE                 0x00000001ULL
#define CR0_ET                 0x00000010ULL
#define CR0_PG                 0x80000000ULL
#define CR4_PAE                0x00000020ULL
#define EFER_LME               0x00000100ULL
#define EFER_LMA               0x00000400ULL

/* Flat 4 GiB descriptors, accessed bit preset: base 0, limit 0xfffff with
 * 4 KiB granularity, present, DPL 0, code execute/read or data read/write. */
#define DESC_CODE64            0x00af9b000000ffffULL   /* L = 1, D = 0 */
#define DESC_CODE32            0x00cf9b000000ffffULL   /* D = 1 */
#define DESC_DATA              0x00cf93000000ffffULL

/* The setup header facts the loader uses, range-checked. */
typedef struct BzImage {
    const uint8_t *data;
    size_t len;
    const char *name;
    uint16_t version;
    size_t setup_size;      /* boot sector + setup sectors, bytes */
    size_t hdr_end;         /* end of the setup header inside the image */
    size_t pm_size;         /* protected-mode kernel bytes to load */
    uint8_t loadflags;
    uint16_t xloadflags;
    uint32_t initrd_addr_max;
    uint32_t kernel_alignment;
    bool relocatable;
    uint32_t cmdline_size;
    uint64_t pref_address;
    uint64_t init_size;
} BzImage;

/* Where everything goes. */
typedef struct BootPlan {
    uint64_t kernel_addr;
    uint64_t runtime_start, runtime_end;
    uint64_t initrd_addr, initrd_size;
    size_t cmdline_len;
} BootPlan;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* A header field, or 0 when the image's header is too short to hold it
 * (the field then counts as absent, as for an older protocol). */
static uint32_t hdr_get(const BzImage *bz, size_t off, unsigned size)
{
    if (off + size > bz->hdr_end)
        return 0;
    const uint8_t *p = bz->data + off;
    return size == 1 ? p[0] : size == 2 ? get16(p) : get32(p);
}

static uint64_t hdr_get64(const BzImage *bz, size_t off)
{
    if (off + 8 > bz->hdr_end)
        return 0;
    return get64(bz->data + off);
}

static uint64_t mib_up(uint64_t bytes)
{
    return (bytes + MiB - 1) / MiB;
}

static bool is_power_of_2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int bzimage_check_magic(const BzImage *bz, char *err, size_t errlen)
{
    const uint8_t *d = bz->data;
    if (bz->len >= 4 && !memcmp(d, "\177ELF", 4)) {
        snprintf(err, errlen, "-kernel: %s is an ELF image, not a bzImage (vmlinux); "
                 "use the bzImage (vmlinuz)", bz->name);
        return -1;
    }
    if (bz->len < HDR_VERSION + 2 || memcmp(d + HDR_MAGIC, "HdrS", 4)) {
        snprintf(err, errlen, "-kernel: %s is not a Linux bzImage (no \"HdrS\" "
                 "setup header at 0x202)", bz->name);
        return -1;
    }
    if (get16(d + HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC) {
        snprintf(err, errlen, "-kernel: %s is not a Linux bzImage (boot flag at "
                 "0x1fe is 0x%04x, not 0xaa55)", bz->name, get16(d + HDR_BOOT_FLAG));
        return -1;
    }
    return 0;
}

/* Sizes of the setup part and the protected-mode part, against the file. */
static int bzimage_check_sizes(BzImage *bz, char *err, size_t errlen)
{
    unsigned sects = bz->data[HDR_SETUP_SECTS];
    if (sects == 0)
        sects = 4;    /* "if this field is 0, the real value is 4" */
    bz->setup_size = (size_t)(sects + 1) * 512;
    if (bz->setup_size > bz->len) {
        snprintf(err, errlen, "-kernel: %s is truncated: its %u setup sectors need "
                 "%zu bytes, the file has %zu", bz->name, sects, bz->setup_size, bz->len);
        return -1;
    }
    size_t hdr_end = HDR_MAGIC + (size_t)bz->data[HDR_JUMP + 1];
    bz->hdr_end = MIN(MIN(hdr_end, (size_t)BP_HDR_LIMIT), bz->setup_size);

    size_t rest = bz->len - bz->setup_size;
    /* syssize counts 16-byte paragraphs; files may end inside the last one
     * and may carry a signature after it (signed kernels). */
    uint64_t declared = (uint64_t)hdr_get(bz, HDR_SYSSIZE, 4) * 16;
    if (declared == 0)
        declared = rest;
    if (declared > (uint64_t)rest + 15) {
        snprintf(err, errlen, "-kernel: %s is truncated: the kernel after the setup "
                 "code is %zu bytes, the header says %llu", bz->name, rest,
                 (unsigned long long)declared);
        return -1;
    }
    bz->pm_size = (size_t)MIN(declared, (uint64_t)rest);
    if (bz->pm_size == 0) {
        snprintf(err, errlen, "-kernel: %s is truncated: nothing follows the setup code",
                 bz->name);
        return -1;
    }
    if (bz->version >= 0x208) {
        uint64_t poff = hdr_get(bz, HDR_PAYLOAD_OFFSET, 4);
        uint64_t plen = hdr_get(bz, HDR_PAYLOAD_LENGTH, 4);
        if (poff + plen > rest) {
            snprintf(err, errlen, "-kernel: %s is truncated: the compressed payload "
                     "ends %llu bytes into the kernel, which is %zu bytes", bz->name,
                     (unsigned long long)(poff + plen), rest);
            return -1;
        }
    }
    return 0;
}

static int bzimage_read_fields(BzImage *bz, char *err, size_t errlen)
{
    bz->loadflags = (uint8_t)hdr_get(bz, HDR_LOADFLAGS, 1);
    if (!(bz->loadflags & LOADED_HIGH)) {
        snprintf(err, errlen, "-kernel: %s is a zImage (loaded low at 0x10000); only "
                 "bzImages are supported", bz->name);
        return -1;
    }
    bz->initrd_addr_max = hdr_get(bz, HDR_INITRD_ADDR_MAX, 4);
    if (bz->initrd_addr_max == 0)
        bz->initrd_addr_max = 0x37ffffff;   /* the protocol's old default */
    bz->kernel_alignment = hdr_get(bz, HDR_KERNEL_ALIGNMENT, 4);
    bz->relocatable = hdr_get(bz, HDR_RELOCATABLE, 1) != 0;
    bz->cmdline_size = hdr_get(bz, HDR_CMDLINE_SIZE, 4);
    if (bz->cmdline_size == 0)
        bz->cmdline_size = 255;             /* pre-2.06 limit, if the field is missing */
    bz->xloadflags = bz->version >= 0x20c ? (uint16_t)hdr_get(bz, HDR_XLOADFLAGS, 2) : 0;
    if (bz->version >= 0x20a) {
        bz->pref_address = hdr_get64(bz, HDR_PREF_ADDRESS);
        bz->init_size = hdr_get(bz, HDR_INIT_SIZE, 4);
    }
    if (bz->pref_address == 0)
        bz->pref_address = LINUXBOOT_KERNEL_ADDR;
    /* Older kernels do not say how much room decompression needs; four
     * times the compressed size is a generous guess. */
    if (bz->init_size == 0)
        bz->init_size = (uint64_t)bz->pm_size * 4;
    if (bz->pref_address >= FOUR_GIB || bz->init_size >= FOUR_GIB) {
        snprintf(err, errlen, "-kernel: %s has a corrupt setup header (pref_address "
                 "0x%llx, init_size 0x%llx)", bz->name,
                 (unsigned long long)bz->pref_address, (unsigned long long)bz->init_size);
        return -1;
    }
    if (bz->relocatable && (!is_power_of_2(bz->kernel_alignment) ||
                            bz->kernel_alignment > GiB)) {
        snprintf(err, errlen, "-kernel: %s has a corrupt setup header (kernel_alignment "
                 "0x%x is not a power of two up to 1 GiB)", bz->name, bz->kernel_alignment);
        return -1;
    }
    return 0;
}

static int bzimage_parse(BzImage *bz, const uint8_t *data, size_t len,
                         const char *name, char *err, size_t errlen)
{
    memset(bz, 0, sizeof(*bz));
    bz->data = data;
    bz->len = len;
    bz->name = name;
    if (bzimage_check_magic(bz, err, errlen) < 0)
        return -1;
    bz->version = get16(data + HDR_VERSION);
    if (bz->version < MIN_PROTOCOL) {
        snprintf(err, errlen, "-kernel: %s uses boot protocol %u.%02u; vx86 needs 2.06 "
                 "or later (Linux 2.6.22 or newer)", name, bz->version >> 8,
                 bz->version & 0xff);
        return -1;
    }
    if (bzimage_check_sizes(bz, err, errlen) < 0)
        return -1;
    return bzimage_read_fields(bz, err, errlen);
}

/* The kernel's "runtime start" per boot.rst's init_size description: a
 * relocatable kernel moves up to pref_address (aligned) if loaded below
 * it; a fixed one runs at pref_address. */
static uint64_t bzimage_runtime_start(const BzImage *bz, uint64_t load_addr)
{
    if (!bz->relocatable)
        return bz->pref_address;
    uint64_t a = MAX(load_addr, bz->pref_address);
    uint64_t align = bz->kernel_alignment;
    return (a + align - 1) & ~(align - 1);
}

/* Highest page-aligned spot for size bytes inside one RAM range, between
 * floor and limit, or 0 if there is none. */
static uint64_t initrd_slot(const E820Entry *e, uint64_t size, uint64_t floor,
                            uint64_t limit)
{
    uint64_t lo = MAX(e->addr, floor);
    uint64_t hi = MIN(e->addr + e->size, limit);
    if (hi <= lo || hi - lo < size)
        return 0;
    uint64_t addr = (hi - size) & ~(PAGE_SIZE - 1);
    return addr >= lo ? addr : 0;
}

static int linuxboot_place_initrd(const BzImage *bz, const E820Map *e820,
                                  uint64_t ram_size, uint64_t floor,
                                  const char *initrd_name, BootPlan *p,
                                  char *err, size_t errlen)
{
    if (p->initrd_size == 0)
        return 0;
    uint64_t limit = MIN((uint64_t)bz->initrd_addr_max + 1, FOUR_GIB);
    uint64_t best = 0;
    for (int i = 0; i < e820->n; i++) {
        if (e820->e[i].type != E820_RAM)
            continue;
        uint64_t a = initrd_slot(&e820->e[i], p->initrd_size, floor, limit);
        best = MAX(best, a);
    }
    if (best == 0) {
        snprintf(err, errlen, "-initrd: %s: initrd of %llu MiB does not fit below "
                 "0x%llx above the kernel (which ends at %llu MiB; guest RAM is "
                 "%llu MiB)", initrd_name, (unsigned long long)mib_up(p->initrd_size),
                 (unsigned long long)limit, (unsigned long long)mib_up(floor),
                 (unsigned long long)(ram_size / MiB));
        return -1;
    }
    p->initrd_addr = best;
    return 0;
}

static int linuxboot_plan(Machine *m, const BzImage *bz, const E820Map *e820,
                          uint64_t initrd_size, const char *initrd_name,
                          const char *cmdline, BootPlan *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->kernel_addr = LINUXBOOT_KERNEL_ADDR;
    p->runtime_start = bzimage_runtime_start(bz, p->kernel_addr);
    p->runtime_end = p->runtime_start + bz->init_size;
    p->initrd_size = initrd_size;

    uint64_t kernel_end = MAX(p->kernel_addr + bz->pm_size, p->runtime_end);
    uint64_t ram_end = e820_ram_end_from(e820, p->kernel_addr);
    if (kernel_end > ram_end) {
        snprintf(err, errlen, "-kernel: kernel needs %llu MiB, guest RAM is %llu MiB",
                 (unsigned long long)mib_up(kernel_end),
                 (unsigned long long)(m->ram_size / MiB));
        return -1;
    }

    p->cmdline_len = strlen(cmdline);
    uint64_t max_len = MIN((uint64_t)bz->cmdline_size, LINUXBOOT_CMDLINE_MAX);
    if (p->cmdline_len > max_len) {
        snprintf(err, errlen, "-append: command line is %zu bytes, the kernel accepts "
                 "at most %llu", p->cmdline_len, (unsigned long long)max_len);
        return -1;
    }
    /* The fixed low structures need conventional RAM up to the command line. */
    uint64_t low_need = LINUXBOOT_CMDLINE_ADDR + p->cmdline_len + 1;
    if (e820_ram_end_from(e820, LINUXBOOT_GDT_ADDR) < low_need) {
        snprintf(err, errlen, "-kernel: the e820 map has no RAM at 0x%llx-0x%llx for "
                 "boot_params and the command line", (unsigned long long)LINUXBOOT_GDT_ADDR,
                 (unsigned long long)low_need);
        return -1;
    }
    return linuxboot_place_initrd(bz, e820, m->ram_size, kernel_end, initrd_name, p,
                                  err, errlen);
}

static int guest_write(Machine *m, uint64_t addr, const void *buf, size_t len,
                       char *err, size_t errlen)
{
    if (!memmap_load_buf(m->mem, addr, buf, len)) {
        snprintf(err, errlen, "-kernel: guest RAM at 0x%llx-0x%llx is not mapped "
                 "(board memory map does not match its e820 map)",
                 (unsigned long long)addr, (unsigned long long)(addr + len));
        return -1;
    }
    return 0;
}

/* screen_info: an 80x25 VGA text console, as a BIOS would leave it. */
static void boot_params_screen_info(uint8_t *bp, uint64_t ext_mem)
{
    put16(bp + BP_EXT_MEM_K, (uint16_t)MIN(ext_mem / 1024, 0xffffULL));
    bp[BP_VIDEO_MODE] = 3;
    bp[BP_VIDEO_COLS] = 80;
    put16(bp + BP_VIDEO_EGA_BX, 3);    /* anything but 0x10: EGA/VGA, not CGA */
    bp[BP_VIDEO_LINES] = 25;
    bp[BP_VIDEO_ISVGA] = 1;
    put16(bp + BP_VIDEO_POINTS, 16);
}

static void boot_params_e820(uint8_t *bp, const E820Map *e820)
{
    int n = MIN(e820->n, E820_MAX_ENTRIES);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        uint8_t *p = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
        put64(p, e820->e[i].addr);
        put64(p + 8, e820->e[i].size);
        put32(p + 16, e820->e[i].type);
    }
}

static void boot_params_fill(uint8_t *bp, const BzImage *bz, const BootPlan *p,
                             const E820Map *e820)
{
    memset(bp, 0, BP_SIZE);
    /* The setup header as the image has it, then what the loader owns. */
    memcpy(bp + HDR_SETUP_SECTS, bz->data + HDR_SETUP_SECTS, bz->hdr_end - HDR_SETUP_SECTS);
    put16(bp + HDR_VID_MODE, VID_MODE_NORMAL);
    bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    bp[HDR_LOADFLAGS] = (uint8_t)(bz->loadflags | CAN_USE_HEAP);
    put32(bp + HDR_CODE32_START, (uint32_t)p->kernel_addr);
    put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)p->initrd_addr);
    put32(bp + HDR_RAMDISK_SIZE, (uint32_t)p->initrd_size);
    /* Only the real-mode setup code uses its heap, and we do not run it;
     * the end of a 64 KiB setup segment is the conventional value. */
    put16(bp + HDR_HEAP_END_PTR, 0xfe00);
    bp[HDR_EXT_LOADER_VER] = 0;
    bp[HDR_EXT_LOADER_TYPE] = 0;
    put32(bp + HDR_CMD_LINE_PTR, (uint32_t)LINUXBOOT_CMDLINE_ADDR);
    if (bz->hdr_end >= HDR_HARDWARE_SUBARCH + 4)
        put32(bp + HDR_HARDWARE_SUBARCH, 0);    /* a plain PC */
    if (bz->hdr_end >= HDR_SETUP_DATA + 8)
        put64(bp + HDR_SETUP_DATA, 0);          /* no setup_data chain */

    uint64_t low_end = e820_ram_end_from(e820, LINUXBOOT_KERNEL_ADDR);
    uint64_t ext_mem = low_end > MiB ? low_end - MiB : 0;
    boot_params_screen_info(bp, ext_mem);
    put32(bp + BP_ALT_MEM_K, (uint32_t)MIN(ext_mem / 1024, 0xffffffffULL));
    boot_params_e820(bp, e820);
    bp[BP_SENTINEL] = 0;   /* nonzero would make the kernel distrust the header */
}

static int linuxboot_write_gdt(Machine *m, LinuxBootMode mode, LinuxBootEntry *entry,
                               char *err, size_t errlen)
{
    uint8_t gdt[32] = { 0 };
    uint64_t code = mode == LINUXBOOT_MODE_64 ? DESC_CODE64 : DESC_CODE32;
    put64(gdt + LINUXBOOT_BOOT_CS, code);
    put64(gdt + LINUXBOOT_BOOT_DS, DESC_DATA);
    entry->gdt_base = LINUXBOOT_GDT_ADDR;
    entry->gdt_limit = sizeof(gdt) - 1;
    entry->cs = LINUXBOOT_BOOT_CS;
    entry->ds = LINUXBOOT_BOOT_DS;
    entry->cs_desc = code;
    entry->ds_desc = DESC_DATA;
    return guest_write(m, LINUXBOOT_GDT_ADDR, gdt, sizeof(gdt), err, errlen);
}

/* PML4[0] -> PDPT, PDPT[0..3] -> four PDs of 512 2 MiB pages: 0-4 GiB
 * identity-mapped, writable, supervisor. */
static int linuxboot_write_page_tables(Machine *m, char *err, size_t errlen)
{
    uint8_t *pt = xcalloc(6, PAGE_SIZE);
    uint8_t *pml4 = pt, *pdpt = pt + PAGE_SIZE, *pd = pt + 2 * PAGE_SIZE;
    put64(pml4, LINUXBOOT_PDPT_ADDR | PTE_PRESENT | PTE_WRITE);
    for (uint64_t g = 0; g < 4; g++) {
        put64(pdpt + g * 8, (LINUXBOOT_PD_ADDR + g * PAGE_SIZE) | PTE_PRESENT | PTE_WRITE);
        for (uint64_t i = 0; i < 512; i++) {
            uint64_t addr = g * GiB + i * 2 * MiB;
            put64(pd + g * PAGE_SIZE + i * 8, addr | PTE_PRESENT | PTE_WRITE | PTE_LARGE);
        }
    }
    int r = guest_write(m, LINUXBOOT_PML4_ADDR, pt, 6 * PAGE_SIZE, err, errlen);
    free(pt);
    return r;
}

/* BIOS data area words a BIOS-less kernel still reads: base memory size
 * in KiB (0x413) and the EBDA segment (0x40e), matching the e820 map. */
static int linuxboot_write_bda(Machine *m, const E820Map *e820, char *err, size_t errlen)
{
    if (e820_ram_end_from(e820, 0) < E820_PC_EBDA_START)
        return 0;
    uint8_t w[2];
    put16(w, (uint16_t)(E820_PC_EBDA_START >> 4));
    if (guest_write(m, 0x40e, w, 2, err, errlen) < 0)
        return -1;
    put16(w, (uint16_t)(E820_PC_EBDA_START / 1024));
    return guest_write(m, 0x413, w, 2, err, errlen);
}

static void linuxboot_fill_entry(const BzImage *bz, const BootPlan *p,
                                 LinuxBootEntry *entry)
{
    bool long_mode = bz->xloadflags & XLF_KERNEL_64;
    entry->mode = long_mode ? LINUXBOOT_MODE_64 : LINUXBOOT_MODE_32;
    entry->rip = p->kernel_addr + (long_mode ? 0x200 : 0);
    entry->rsi = LINUXBOOT_BOOT_PARAMS;
    entry->rflags = 0x2;
    entry->cr0 = CR0_PE | CR0_ET | (long_mode ? CR0_PG : 0);
    entry->cr3 = long_mode ? LINUXBOOT_PML4_ADDR : 0;
    entry->cr4 = long_mode ? CR4_PAE : 0;
    entry->efer = long_mode ? EFER_LME | EFER_LMA : 0;
    entry->kernel_addr = p->kernel_addr;
    entry->kernel_size = bz->pm_size;
    entry->runtime_end = p->runtime_end;
    entry->initrd_addr = p->initrd_addr;
    entry->initrd_size = p->initrd_size;
    entry->cmdline_addr = LINUXBOOT_CMDLINE_ADDR;
    entry->protocol = bz->version;
}

static int linuxboot_write_all(Machine *m, const BzImage *bz, const BootPlan *p,
                               const uint8_t *initrd, const char *cmdline,
                               const E820Map *e820, LinuxBootEntry *entry,
                               char *err, size_t errlen)
{
    memset(entry, 0, sizeof(*entry));
    linuxboot_fill_entry(bz, p, entry);
    if (guest_write(m, p->kernel_addr, bz->data + bz->setup_size, bz->pm_size, err, errlen) < 0)
        return -1;
    if (p->initrd_size &&
        guest_write(m, p->initrd_addr, initrd, p->initrd_size, err, errlen) < 0)
        return -1;
    if (guest_write(m, LINUXBOOT_CMDLINE_ADDR, cmdline, p->cmdline_len + 1, err, errlen) < 0)
        return -1;
    uint8_t *bp = xmalloc(BP_SIZE);
    boot_params_fill(bp, bz, p, e820);
    int r = guest_write(m, LINUXBOOT_BOOT_PARAMS, bp, BP_SIZE, err, errlen);
    free(bp);
    if (r < 0 || linuxboot_write_gdt(m, entry->mode, entry, err, errlen) < 0 ||
        linuxboot_write_bda(m, e820, err, errlen) < 0)
        return -1;
    if (entry->mode == LINUXBOOT_MODE_64 && linuxboot_write_page_tables(m, err, errlen) < 0)
        return -1;
    return 0;
}

static const E820Map *linuxboot_e820(Machine *m, const E820Map *e820, E820Map *tmp)
{
    if (e820)
        return e820;
    e820_build_pc(tmp, m->ram_size);
    return tmp;
}

int linuxboot_load_image(Machine *m, const uint8_t *image, size_t image_len,
                         const char *kernel_name, const uint8_t *initrd,
                         size_t initrd_len, const char *initrd_name,
                         const char *cmdline, const E820Map *e820,
                         LinuxBootEntry *entry, char *err, size_t errlen)
{
    E820Map tmp;
    BzImage bz;
    BootPlan plan;
    e820 = linuxboot_e820(m, e820, &tmp);
    cmdline = cmdline ? cmdline : "";
    initrd_name = initrd_name ? initrd_name : "initrd";
    if (!initrd)
        initrd_len = 0;
    if (bzimage_parse(&bz, image, image_len, kernel_name, err, errlen) < 0 ||
        linuxboot_plan(m, &bz, e820, initrd_len, initrd_name, cmdline, &plan, err, errlen) < 0)
        return -1;
    return linuxboot_write_all(m, &bz, &plan, initrd, cmdline, e820, entry, err, errlen);
}

/* Size of a regular file, or -1 with a message. */
static int64_t file_size(const char *opt, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s: %s", opt, path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s is not a regular file", opt, path);
        return -1;
    }
    return st.st_size;
}

static uint8_t *load_whole_file(const char *opt, const char *path, size_t *len,
                                char *err, size_t errlen)
{
    char why[256];
    if (file_size(opt, path, err, errlen) < 0)
        return NULL;
    uint8_t *data = read_file(path, len, why, sizeof(why));
    if (!data)
        snprintf(err, errlen, "%s: %s", opt, why);
    return data;
}

int linuxboot_load(Machine *m, const char *kernel, const char *initrd,
                   const char *cmdline, const E820Map *e820,
                   LinuxBootEntry *entry, char *err, size_t errlen)
{
    E820Map tmp;
    BzImage bz;
    BootPlan plan;
    size_t klen = 0, ilen = 0;
    uint8_t *kdata = NULL, *idata = NULL;
    int ret = -1;

    e820 = linuxboot_e820(m, e820, &tmp);
    cmdline = cmdline ? cmdline : "";
    kdata = load_whole_file("-kernel", kernel, &klen, err, errlen);
    if (!kdata || bzimage_parse(&bz, kdata, klen, kernel, err, errlen) < 0)
        goto out;
    /* Check that the initrd fits before reading a possibly huge file. */
    int64_t isize = 0;
    if (initrd && (isize = file_size("-initrd", initrd, err, errlen)) < 0)
        goto out;
    if (linuxboot_plan(m, &bz, e820, (uint64_t)isize, initrd, cmdline, &plan, err, errlen) < 0)
        goto out;
    if (initrd) {
        idata = load_whole_file("-initrd", initrd, &ilen, err, errlen);
        if (!idata)
            goto out;
        if ((uint64_t)ilen != (uint64_t)isize) {
            snprintf(err, errlen, "-initrd: %s changed size while being read", initrd);
            goto out;
        }
    }
    ret = linuxboot_write_all(m, &bz, &plan, idata, cmdline, e820, entry, err, errlen);
out:
    free(kdata);
    free(idata);
    return ret;
}

/* A GDT descriptor as a segment register's cache. */
static X86ArchSegment segment_from_desc(uint16_t sel, uint64_t d)
{
    X86ArchSegment s = {
        .selector = sel,
        .base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000),
        .limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000)),
        .attr = (uint32_t)(d >> 32) & SEG_ATTR_MASK,
    };
    if (s.attr & SEG_G)
        s.limit = (s.limit << 12) | 0xfff;
    return s;
}

void linuxboot_entry_state(const LinuxBootEntry *e, X86ArchState *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    s->regs[R_ESI] = e->rsi;
    s->rip = e->rip;
    s->rflags = e->rflags;
    s->cr0 = e->cr0;
    s->cr3 = e->cr3;
    s->cr4 = e->cr4;
    s->efer = e->efer;
    s->gdt.base = e->gdt_base;
    s->gdt.limit = e->gdt_limit;
    for (int i = R_ES; i <= R_GS; i++)
        s->seg[i] = segment_from_desc(e->ds, e->ds_desc);
    s->seg[R_CS] = segment_from_desc(e->cs, e->cs_desc);
}

bool linuxboot_set_acpi_rsdp(Machine *m, uint64_t rsdp_addr)
{
    uint8_t v[8];
    put64(v, rsdp_addr);
    return memmap_load_buf(m->mem, LINUXBOOT_BOOT_PARAMS + BP_ACPI_RSDP_ADDR, v, sizeof(v));
}
