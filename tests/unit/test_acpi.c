/* ACPI tables: installed for direct boot and published through fw_cfg
 * with the linker/loader script, then walked like an OS would. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "hw/pc/acpi.h"
#include "hw/fwcfg.h"
#include "hw/hpet.h"
#include "tests/unit/unit.h"

#define TABLES_AT 0x100000u
#define RSDP_AT   0xf0000u

static Machine *acpi_machine(void)
{
    char err[128];
    Machine *m = machine_new(4 << 20, CLOCK_MANUAL, err, sizeof(err));
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(memmap_add_ram(m->mem, "ram", 0, m->ram_size, m->ram, NULL));
    return m;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Finds a table by signature through the RSDT in RAM image `ram`. */
static const uint8_t *find_table(const uint8_t *ram, const uint8_t *rsdp, const char *sig)
{
    const uint8_t *rsdt = ram + le32(rsdp + 16);
    uint32_t n = (le32(rsdt + 4) - 36) / 4;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *t = ram + le32(rsdt + 36 + 4 * i);
        if (!memcmp(t, sig, 4))
            return t;
    }
    return NULL;
}

static AcpiTables *build_default(int ncpus)
{
    AcpiConfig c;
    acpi_config_default(&c, ncpus);
    AcpiTables *t = acpi_build_tables(&c);
    ck_assert_ptr_nonnull(t);
    return t;
}

START_TEST(rsdp_signature_and_checksums)
{
    Machine *m = acpi_machine();
    AcpiTables *t = build_default(1);
    char *err = NULL;
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, &err));
    const uint8_t *r = m->ram + RSDP_AT;
    ck_assert_mem_eq(r, "RSD PTR ", 8);
    ck_assert_uint_eq(r[15], 2);
    ck_assert_uint_eq(acpi_checksum(r, 20), 0);
    ck_assert_uint_eq(acpi_checksum(r, 36), 0);
    ck_assert_uint_eq(le32(r + 20), 36);
    ck_assert_uint_ge(le32(r + 16), TABLES_AT);
    ck_assert_uint_eq(le64(r + 24) >> 32, 0);
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

START_TEST(every_table_sums_to_zero)
{
    Machine *m = acpi_machine();
    AcpiTables *t = build_default(2);
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, NULL));
    const uint8_t *r = m->ram + RSDP_AT;
    const uint8_t *rsdt = m->ram + le32(r + 16);
    const uint8_t *xsdt = m->ram + le64(r + 24);
    ck_assert_mem_eq(rsdt, "RSDT", 4);
    ck_assert_mem_eq(xsdt, "XSDT", 4);
    ck_assert_uint_eq(acpi_checksum(rsdt, le32(rsdt + 4)), 0);
    ck_assert_uint_eq(acpi_checksum(xsdt, le32(xsdt + 4)), 0);
    uint32_t n = (le32(rsdt + 4) - 36) / 4;
    ck_assert_uint_eq(n, 3);                           /* FACP, APIC, HPET */
    ck_assert_uint_eq((le32(xsdt + 4) - 36) / 8, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = le32(rsdt + 36 + 4 * i);
        ck_assert_uint_eq(le64(xsdt + 36 + 8 * i), a);  /* same tables */
        ck_assert_uint_eq(acpi_checksum(m->ram + a, le32(m->ram + a + 4)), 0);
    }
    const uint8_t *fadt = find_table(m->ram, r, "FACP");
    ck_assert_ptr_nonnull(fadt);
    const uint8_t *dsdt = m->ram + le32(fadt + 40);
    ck_assert_mem_eq(dsdt, "DSDT", 4);
    ck_assert_uint_eq(acpi_checksum(dsdt, le32(dsdt + 4)), 0);
    ck_assert_uint_eq(le64(fadt + 140), le32(fadt + 40));
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

START_TEST(fadt_points_at_pm_blocks)
{
    Machine *m = acpi_machine();
    AcpiTables *t = build_default(1);
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, NULL));
    const uint8_t *f = find_table(m->ram, m->ram + RSDP_AT, "FACP");
    ck_assert_uint_eq(f[8], 3);                        /* revision */
    ck_assert_uint_eq(le32(f + 4), 244);
    ck_assert_uint_eq(f[46], 9);                       /* SCI_INT */
    ck_assert_uint_eq(le32(f + 56), 0x600);            /* PM1a_EVT_BLK */
    ck_assert_uint_eq(le32(f + 64), 0x604);            /* PM1a_CNT_BLK */
    ck_assert_uint_eq(le32(f + 76), 0x608);            /* PM_TMR_BLK */
    ck_assert_uint_eq(f[88], 4);
    ck_assert_uint_eq(f[89], 2);
    ck_assert_uint_eq(f[91], 4);
    ck_assert_uint_eq(le32(f + 112) & (1u << 8), 0);   /* 24-bit timer */
    ck_assert_uint_eq(le32(f + 112) & (1u << 10), 1u << 10);   /* RESET_REG_SUP */
    ck_assert_uint_eq(f[116], 1);                      /* reset reg in IO space */
    ck_assert_uint_eq(le64(f + 120), 0xcf9);
    ck_assert_uint_eq(f[128], 0x06);
    ck_assert_uint_eq(le32(f + 48), 0xb2);             /* SMI_CMD */
    ck_assert_uint_eq(f[52], 0xf1);
    ck_assert_uint_eq(le64(f + 208 + 4), 0x608);       /* X_PM_TMR_BLK */
    const uint8_t *facs = m->ram + le32(f + 36);
    ck_assert_mem_eq(facs, "FACS", 4);
    ck_assert_uint_eq(le32(f + 36) % 64, 0);
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

START_TEST(dsdt_has_s5_package)
{
    Machine *m = acpi_machine();
    AcpiTables *t = build_default(1);
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, NULL));
    const uint8_t *f = find_table(m->ram, m->ram + RSDP_AT, "FACP");
    const uint8_t *dsdt = m->ram + le32(f + 40);
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
                                  0x00, 0x00, 0x00, 0x00 };
    ck_assert_mem_eq(dsdt + 36, s5, sizeof(s5));
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

/* ---- a small AML reader: enough of chapter 20 for the board's DSDT ---- */

typedef struct AmlCur {
    const uint8_t *p, *end;
} AmlCur;

/* PkgLength at c->p; returns the end of the package it opens. */
static const uint8_t *aml_pkglen(AmlCur *c)
{
    const uint8_t *start = c->p;
    uint8_t lead = *c->p++;
    int extra = lead >> 6;
    uint32_t len = extra ? (lead & 0x0f) : (lead & 0x3f);
    for (int i = 0; i < extra; i++)
        len |= (uint32_t)*c->p++ << (4 + 8 * i);
    ck_assert(start + len <= c->end);
    return start + len;
}

static uint32_t aml_integer(AmlCur *c)
{
    uint8_t op = *c->p++;
    switch (op) {
    case 0x00: return 0;
    case 0x01: return 1;
    case 0x0a: return *c->p++;
    case 0x0b: c->p += 2; return c->p[-2] | (uint32_t)c->p[-1] << 8;
    case 0x0c: c->p += 4; return le32(c->p - 4);
    }
    ck_abort_msg("AML: not an integer opcode 0x%02x", op);
    return 0;
}

/* Finds Name (name, ...) in the term list [p, end), descending into
 * Scope and Device bodies; returns a cursor on the object. */
static bool aml_find_name(const uint8_t *p, const uint8_t *end, const char *path, AmlCur *out)
{
    AmlCur c = { p, end };
    while (c.p < c.end) {
        if (c.p[0] == 0x08) {                       /* Name */
            bool hit = !memcmp(c.p + 1, path, 4) && !path[4];
            c.p += 5;
            const uint8_t *obj = c.p;
            if (*c.p == 0x12 || *c.p == 0x11) {
                c.p++;
                c.p = aml_pkglen(&c);
            } else {
                aml_integer(&c);
            }
            if (hit) {
                *out = (AmlCur){ obj, c.p };
                return true;
            }
        } else if (c.p[0] == 0x10 || (c.p[0] == 0x5b && c.p[1] == 0x82)) {
            c.p += c.p[0] == 0x10 ? 1 : 2;          /* Scope / Device */
            const uint8_t *body_end = aml_pkglen(&c);
            bool into = !memcmp(c.p, path, 4) && path[4] == '.';
            if (into && aml_find_name(c.p + 4, body_end, path + 5, out))
                return true;
            c.p = body_end;
        } else {
            ck_abort_msg("AML: unexpected opcode 0x%02x", c.p[0]);
        }
    }
    return false;
}

START_TEST(dsdt_describes_pci_root_bridge)
{
    Machine *m = acpi_machine();
    AcpiConfig cfg;
    acpi_config_default(&cfg, 1);
    cfg.pci_mmio_start = 0x10000000;
    AcpiTables *t = acpi_build_tables(&cfg);
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, NULL));
    const uint8_t *f = find_table(m->ram, m->ram + RSDP_AT, "FACP");
    const uint8_t *dsdt = m->ram + le32(f + 40);
    const uint8_t *end = dsdt + le32(dsdt + 4);
    ck_assert_uint_eq(acpi_checksum(dsdt, le32(dsdt + 4)), 0);
    AmlCur o;

    ck_assert(aml_find_name(dsdt + 36, end, "_SB_.PCI0._HID", &o));
    ck_assert_uint_eq(aml_integer(&o), 0x030ad041u);       /* EisaId ("PNP0A03") */
    ck_assert(aml_find_name(dsdt + 36, end, "_SB_.PCI0._ADR", &o));
    ck_assert_uint_eq(aml_integer(&o), 0);

    /* _CRS: a Buffer of resource descriptors ending with the end tag. */
    ck_assert(aml_find_name(dsdt + 36, end, "_SB_.PCI0._CRS", &o));
    ck_assert_uint_eq(*o.p++, 0x11);
    o.end = aml_pkglen(&o);
    uint32_t size = aml_integer(&o);
    ck_assert_uint_eq(size, (uint32_t)(o.end - o.p));
    int bus = 0, io = 0, cfgio = 0, mem = 0;
    bool end_tag = false;
    while (o.p < o.end && !end_tag) {
        uint8_t tag = o.p[0];
        if (tag == 0x88) {                                  /* Word space */
            ck_assert_uint_eq(o.p[1] | o.p[2] << 8, 13);
            uint16_t min = (uint16_t)(o.p[8] | o.p[9] << 8), max = (uint16_t)(o.p[10] | o.p[11] << 8);
            uint16_t len = (uint16_t)(o.p[14] | o.p[15] << 8);
            ck_assert_uint_eq((uint32_t)max - min + 1, len ? len : 0x10000);
            if (o.p[3] == 2) {
                ck_assert_uint_eq(min, 0);
                ck_assert_uint_eq(max, 0xff);
                bus++;
            } else {
                ck_assert_uint_eq(o.p[3], 1);
                ck_assert(max < 0xcf8 || min > 0xcff);    /* not the config ports */
                io++;
            }
            o.p += 16;
        } else if (tag == 0x87) {                           /* DWord memory */
            ck_assert_uint_eq(o.p[3], 0);
            uint32_t min = le32(o.p + 10), max = le32(o.p + 14), len = le32(o.p + 22);
            ck_assert_uint_eq(max - min + 1, len);
            if (min == 0xa0000)
                ck_assert_uint_eq(max, 0xbffff);
            else {
                ck_assert_uint_eq(min, 0x10000000);
                ck_assert_uint_eq(max, 0xfebfffff);
            }
            mem++;
            o.p += 26;
        } else if (tag == 0x47) {                           /* I/O port */
            ck_assert_uint_eq(o.p[2] | o.p[3] << 8, 0xcf8);
            ck_assert_uint_eq(o.p[7], 8);
            cfgio++;
            o.p += 8;
        } else {
            ck_assert_uint_eq(tag, 0x79);
            end_tag = true;
        }
    }
    ck_assert(end_tag);
    ck_assert_int_eq(bus, 1);
    ck_assert_int_eq(io, 2);
    ck_assert_int_eq(cfgio, 1);
    ck_assert_int_eq(mem, 2);

    /* _PRT: every slot's INTA-D on GSI 16 + PIRQ, PIRQ = (slot - 1 + pin) & 3
     * (pin 0 = INTA), the board's wiring (pci_device_pirq). */
    ck_assert(aml_find_name(dsdt + 36, end, "_SB_.PCI0._PRT", &o));
    ck_assert_uint_eq(*o.p++, 0x12);
    o.end = aml_pkglen(&o);
    uint8_t n = *o.p++;
    ck_assert_uint_eq(n, 128);
    bool seen[32][4] = { { false } };
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(*o.p++, 0x12);
        AmlCur e = o;
        o.p = aml_pkglen(&e);
        ck_assert_uint_eq(*e.p++, 4);
        uint32_t addr = aml_integer(&e), pin = aml_integer(&e);
        uint32_t source = aml_integer(&e), gsi = aml_integer(&e);
        ck_assert_uint_eq(addr & 0xffff, 0xffff);
        uint32_t slot = addr >> 16;
        ck_assert_uint_lt(slot, 32);
        ck_assert_uint_lt(pin, 4);
        ck_assert_uint_eq(source, 0);
        ck_assert_uint_eq(gsi, 16 + ((slot + 3 + pin) & 3));
        ck_assert(!seen[slot][pin]);
        seen[slot][pin] = true;
        ck_assert_ptr_eq(e.p, o.p);
    }
    ck_assert_ptr_eq(o.p, o.end);
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

START_TEST(madt_entries)
{
    Machine *m = acpi_machine();
    AcpiConfig c;
    acpi_config_default(&c, 4);
    c.level_irqs = 1u << 11;                           /* a PCI IRQ besides the SCI */
    AcpiTables *t = acpi_build_tables(&c);
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, NULL));
    const uint8_t *madt = find_table(m->ram, m->ram + RSDP_AT, "APIC");
    ck_assert_ptr_nonnull(madt);
    ck_assert_uint_eq(le32(madt + 36), 0xfee00000u);
    uint32_t len = le32(madt + 4);
    int lapics = 0, ioapics = 0, isos = 0, nmis = 0, total = 0;
    bool irq0_to_gsi2 = false, irq9_level_high = false;
    for (uint32_t off = 44; off < len; off += madt[off + 1], total++) {
        const uint8_t *e = madt + off;
        ck_assert_uint_gt(e[1], 0);
        switch (e[0]) {
        case 0:
            ck_assert_uint_eq(e[3], lapics);           /* APIC IDs 0..3 */
            ck_assert_uint_eq(le32(e + 4) & 1, 1);
            lapics++;
            break;
        case 1:
            ck_assert_uint_eq(le32(e + 4), 0xfec00000u);
            ck_assert_uint_eq(le32(e + 8), 0);
            ioapics++;
            break;
        case 2:
            if (e[3] == 0 && le32(e + 4) == 2)
                irq0_to_gsi2 = true;
            if (e[3] == 9 && le32(e + 4) == 9 && (e[8] | e[9] << 8) == 0x000d)
                irq9_level_high = true;
            isos++;
            break;
        case 4:
            ck_assert_uint_eq(e[5], 1);                /* LINT1 */
            nmis++;
            break;
        }
    }
    ck_assert_int_eq(lapics, 4);
    ck_assert_int_eq(ioapics, 1);
    ck_assert_int_eq(isos, 3);                         /* IRQ0, IRQ9, IRQ11 */
    ck_assert_int_eq(nmis, 1);
    ck_assert_int_eq(total, 9);
    ck_assert_uint_eq(t->madt_entries, 9);
    ck_assert(irq0_to_gsi2);
    ck_assert(irq9_level_high);
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

START_TEST(hpet_table)
{
    Machine *m = acpi_machine();
    AcpiTables *t = build_default(1);
    ck_assert(acpi_tables_install(t, m->mem, TABLES_AT, RSDP_AT, NULL));
    const uint8_t *h = find_table(m->ram, m->ram + RSDP_AT, "HPET");
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(le32(h + 4), 56);
    ck_assert_uint_eq(le32(h + 36), hpet_block_id());
    ck_assert_uint_eq(le32(h + 36) >> 16, 0x8086);
    ck_assert_uint_eq(h[40], 0);                       /* memory space */
    ck_assert_uint_eq(le64(h + 44), 0xfed00000u);
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

START_TEST(install_checks_addresses)
{
    Machine *m = acpi_machine();
    AcpiTables *t = build_default(1);
    char *err = NULL;
    ck_assert(!acpi_tables_install(t, m->mem, TABLES_AT, 0xf0008, &err));   /* unaligned */
    ck_assert_ptr_nonnull(err);
    free(err);
    err = NULL;
    ck_assert(!acpi_tables_install(t, m->mem, TABLES_AT, 0x9fc00, &err));   /* not BIOS area */
    free(err);
    err = NULL;
    ck_assert(!acpi_tables_install(t, m->mem, m->ram_size - 64, RSDP_AT, &err));
    free(err);
    ck_assert_ptr_null(acpi_build_tables(&(AcpiConfig){ .ncpus = 0 }));
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

/* Reads a whole fw_cfg file through the IO ports. */
static uint8_t *fw_file(Machine *m, FWCfgState *fw, const char *name, size_t *len)
{
    int key = fwcfg_find_file(fw, name);
    ck_assert_int_ge(key, 0);
    /* size from the directory */
    iospace_write(m->io, FW_CFG_PORT_SEL, FW_CFG_FILE_DIR, 2);
    uint8_t cnt[4];
    for (int i = 0; i < 4; i++)
        cnt[i] = (uint8_t)iospace_read(m->io, FW_CFG_PORT_DATA, 1);
    uint32_t n = (uint32_t)cnt[0] << 24 | cnt[1] << 16 | cnt[2] << 8 | cnt[3];
    size_t size = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[64];
        for (int j = 0; j < 64; j++)
            e[j] = (uint8_t)iospace_read(m->io, FW_CFG_PORT_DATA, 1);
        if (!strcmp((char *)e + 8, name))
            size = (size_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
    }
    uint8_t *buf = malloc(size);
    iospace_write(m->io, FW_CFG_PORT_SEL, (uint32_t)key, 2);
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)iospace_read(m->io, FW_CFG_PORT_DATA, 1);
    *len = size;
    return buf;
}

START_TEST(fwcfg_loader_script_produces_valid_tables)
{
    Machine *m = acpi_machine();
    FWCfgState *fw = fwcfg_create(m, FW_CFG_PORT_SEL, FW_CFG_PORT_DMA);
    AcpiTables *t = build_default(2);
    ck_assert(acpi_tables_add_fwcfg(t, fw));
    ck_assert(acpi_tables_add_fwcfg(t, fw));           /* rebuild replaces */
    size_t tl, rl, ll;
    uint8_t *tables = fw_file(m, fw, "etc/acpi/tables", &tl);
    uint8_t *rsdp = fw_file(m, fw, "etc/acpi/rsdp", &rl);
    uint8_t *loader = fw_file(m, fw, "etc/table-loader", &ll);
    ck_assert_uint_eq(rl, 36);
    ck_assert_uint_eq(ll % 128, 0);
    /* Play firmware: place the files in "RAM", then run the script. */
    uint8_t *ram = m->ram;
    const uint32_t tables_at = 0x200000, rsdp_at = 0xf0000;
    memcpy(ram + tables_at, tables, tl);
    memcpy(ram + rsdp_at, rsdp, rl);
    int allocs = 0;
    for (size_t off = 0; off < ll; off += 128) {
        const uint8_t *e = loader + off;
        const char *f1 = (const char *)e + 4;
        uint8_t *dst = !strcmp(f1, "etc/acpi/rsdp") ? ram + rsdp_at : ram + tables_at;
        switch (le32(e)) {
        case 1:
            allocs++;
            ck_assert_uint_eq(e[64], !strcmp(f1, "etc/acpi/rsdp") ? 2 : 1);   /* FSEG / HIGH */
            break;
        case 2: {
            ck_assert_str_eq((const char *)e + 60, "etc/acpi/tables");
            uint32_t po = le32(e + 116);
            unsigned sz = e[120];
            uint64_t v = 0;
            memcpy(&v, dst + po, sz);
            v += tables_at;
            memcpy(dst + po, &v, sz);
            break;
        }
        case 3: {
            uint32_t field = le32(e + 60), start = le32(e + 64), len = le32(e + 68);
            dst[field] = (uint8_t)(dst[field] - acpi_checksum(dst + start, len));
            break;
        }
        default:
            ck_abort_msg("unknown loader command %u", le32(e));
        }
    }
    ck_assert_int_eq(allocs, 2);
    const uint8_t *r = ram + rsdp_at;
    ck_assert_uint_eq(acpi_checksum(r, 20), 0);
    ck_assert_uint_eq(acpi_checksum(r, 36), 0);
    const uint8_t *rsdt = ram + le32(r + 16);
    ck_assert_mem_eq(rsdt, "RSDT", 4);
    ck_assert_uint_eq(acpi_checksum(rsdt, le32(rsdt + 4)), 0);
    const uint8_t *fadt = find_table(ram, r, "FACP");
    ck_assert_ptr_nonnull(fadt);
    ck_assert_uint_eq(acpi_checksum(fadt, le32(fadt + 4)), 0);
    ck_assert_mem_eq(ram + le32(fadt + 40), "DSDT", 4);
    ck_assert_ptr_nonnull(find_table(ram, r, "APIC"));
    free(tables);
    free(rsdp);
    free(loader);
    acpi_tables_free(t);
    machine_free(m);
}
END_TEST

static Suite *acpi_suite(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, rsdp_signature_and_checksums);
    tcase_add_test(tc, every_table_sums_to_zero);
    tcase_add_test(tc, fadt_points_at_pm_blocks);
    tcase_add_test(tc, dsdt_has_s5_package);
    tcase_add_test(tc, dsdt_describes_pci_root_bridge);
    tcase_add_test(tc, madt_entries);
    tcase_add_test(tc, hpet_table);
    tcase_add_test(tc, install_checks_addresses);
    tcase_add_test(tc, fwcfg_loader_script_produces_valid_tables);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(acpi_suite)
