/*
 * The PC's E820 memory map: building it from the RAM size, and keeping a
 * hand-edited map sorted and free of overlaps.  See hw/e820.h for the layout.
 */
#include "hw/pc/e820.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void e820_init(E820Map *map)
{
    memset(map, 0, sizeof(*map));
}

bool e820_add(E820Map *map, uint64_t addr, uint64_t size, uint32_t type)
{
    if (size == 0 || addr + size < addr || map->n >= E820_MAX_ENTRIES)
        return false;
    map->e[map->n++] = (E820Entry){ addr, size, type };
    return true;
}

static int e820_entry_cmp(const void *a, const void *b)
{
    const E820Entry *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    return 0;
}

void e820_sort(E820Map *map)
{
    qsort(map->e, (size_t)map->n, sizeof(map->e[0]), e820_entry_cmp);
}

/* Which type owns a byte covered by two entries: anything beats RAM (a
 * reserved window punched into RAM must stay reserved), then the larger
 * type number, which is also the more restrictive one. */
static uint32_t e820_stronger(uint32_t a, uint32_t b)
{
    if (a == 0)
        return b;
    if (a == E820_RAM)
        return b;
    if (b == E820_RAM)
        return a;
    return a > b ? a : b;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

bool e820_sanitize(E820Map *map)
{
    /* Cut the address space at every entry's start and end, give each
     * elementary piece the strongest type covering it, then merge. */
    uint64_t cut[2 * E820_MAX_ENTRIES];
    size_t ncut = 0;
    for (int i = 0; i < map->n; i++) {
        cut[ncut++] = map->e[i].addr;
        cut[ncut++] = map->e[i].addr + map->e[i].size;
    }
    qsort(cut, ncut, sizeof(cut[0]), u64_cmp);

    E820Map out;
    e820_init(&out);
    for (size_t c = 0; c + 1 < ncut; c++) {
        uint64_t lo = cut[c], hi = cut[c + 1];
        if (lo == hi)
            continue;
        uint32_t type = 0;
        for (int i = 0; i < map->n; i++) {
            const E820Entry *e = &map->e[i];
            if (e->addr <= lo && hi <= e->addr + e->size)
                type = e820_stronger(type, e->type);
        }
        if (type == 0)
            continue;  /* a gap between entries */
        E820Entry *last = out.n ? &out.e[out.n - 1] : NULL;
        if (last && last->type == type && last->addr + last->size == lo) {
            last->size += hi - lo;
            continue;
        }
        if (!e820_add(&out, lo, hi - lo, type))
            return false;
    }
    *map = out;
    return true;
}

uint64_t e820_pc_low_ram(uint64_t ram_size)
{
    return MIN(ram_size, E820_PC_PCI_HOLE);
}

uint64_t e820_pc_high_ram(uint64_t ram_size)
{
    return ram_size > E820_PC_PCI_HOLE ? ram_size - E820_PC_PCI_HOLE : 0;
}

void e820_build_pc(E820Map *map, uint64_t ram_size)
{
    uint64_t low = e820_pc_low_ram(ram_size);
    uint64_t high = e820_pc_high_ram(ram_size);

    e820_init(map);
    /* Conventional memory stops where the EBDA would be on a real PC; the
     * 640K-1M window (VGA, option ROMs) is not in the map at all, which
     * tells the OS "not RAM" just like a hole. */
    e820_add(map, 0, MIN(low, E820_PC_EBDA_START), E820_RAM);
    e820_add(map, E820_PC_EBDA_START, E820_PC_VGA_START - E820_PC_EBDA_START,
             E820_RESERVED);
    e820_add(map, E820_PC_BIOS_START, E820_PC_HIGH_START - E820_PC_BIOS_START,
             E820_RESERVED);
    if (low > E820_PC_HIGH_START)
        e820_add(map, E820_PC_HIGH_START, low - E820_PC_HIGH_START, E820_RAM);
    /* Chipset MMIO the OS must not hand out as PCI BARs. */
    e820_add(map, E820_PC_IOAPIC_BASE, 0x1000, E820_RESERVED);
    e820_add(map, E820_PC_HPET_BASE, 0x1000, E820_RESERVED);
    e820_add(map, E820_PC_LAPIC_BASE, 0x1000, E820_RESERVED);
    e820_add(map, E820_PC_FLASH_BASE, E820_PC_4G - E820_PC_FLASH_BASE, E820_RESERVED);
    if (high)
        e820_add(map, E820_PC_4G, high, E820_RAM);
    e820_sanitize(map);
}

uint64_t e820_ram_total(const E820Map *map)
{
    uint64_t total = 0;
    for (int i = 0; i < map->n; i++)
        if (map->e[i].type == E820_RAM)
            total += map->e[i].size;
    return total;
}

uint64_t e820_ram_end_from(const E820Map *map, uint64_t addr)
{
    uint64_t end = addr;
    bool grew = true;
    /* Follow touching RAM ranges even if the map is not sorted. */
    while (grew) {
        grew = false;
        for (int i = 0; i < map->n; i++) {
            const E820Entry *e = &map->e[i];
            if (e->type == E820_RAM && e->addr <= end && end < e->addr + e->size) {
                end = e->addr + e->size;
                grew = true;
            }
        }
    }
    return end == addr ? 0 : end;
}

const char *e820_type_name(uint32_t type)
{
    switch (type) {
    case E820_RAM: return "usable";
    case E820_RESERVED: return "reserved";
    case E820_ACPI: return "ACPI data";
    case E820_NVS: return "ACPI NVS";
    case E820_UNUSABLE: return "unusable";
    default: return "unknown";
    }
}

void e820_print(const E820Map *map, FILE *f)
{
    for (int i = 0; i < map->n; i++) {
        const E820Entry *e = &map->e[i];
        fprintf(f, "e820: [mem 0x%016llx-0x%016llx] %s\n",
                (unsigned long long)e->addr,
                (unsigned long long)(e->addr + e->size - 1),
                e820_type_name(e->type));
    }
}
