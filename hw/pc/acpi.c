/*
 * ACPI table builder (see acpi.h).
 *
 * Facts: ACPI specification 6.x, chapter 5: RSDP (5.2.5.3: "RSD PTR ",
 * checksum over the first 20 bytes at offset 8, revision 2, RSDT address
 * at 16, length at 20, XSDT address at 24, extended checksum over all 36
 * bytes at 32), the common 36-byte header (5.2.6), FADT field offsets
 * (5.2.9, revision 3 = 244 bytes), FACS (5.2.10, 64 bytes, 64-byte
 * aligned), MADT structures (5.2.12: type 0 processor LAPIC, 1 IOAPIC,
 * 2 interrupt source override with MPS INTI flags, 4 LAPIC NMI), generic
 * address structure (5.2.3.2); IA-PC HPET spec 1.0a table 3 (HPET table);
 * AML encoding (chapter 20: NameOp 0x08, PackageOp 0x12, PkgLength,
 * ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0a).  The fw_cfg linker/loader
 * command layout is QEMU's/SeaBIOS's romfile_loader_entry_s (128 bytes).
 */
#include "hw/pc/acpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "hw/hpet.h"
#include "hw/piix3.h"

#define FADT_REV3_LEN   244
#define FACS_LEN        64

/* ---- byte buffer ---- */

static uint32_t tb_alloc(AcpiTables *t, size_t len, size_t align)
{
    size_t off = (t->tables_len + align - 1) & ~(align - 1);
    if (off + len > t->tables_cap) {
        size_t cap = t->tables_cap ? t->tables_cap : 1024;
        while (cap < off + len)
            cap *= 2;
        t->tables = xrealloc(t->tables, cap);
        memset(t->tables + t->tables_cap, 0, cap - t->tables_cap);
        t->tables_cap = cap;
    }
    t->tables_len = off + len;
    return (uint32_t)off;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static uint64_t get_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

static void add_reloc(AcpiTables *t, bool in_rsdp, uint32_t offset, uint8_t size)
{
    if (t->nrelocs < (int)ARRAY_SIZE(t->relocs))
        t->relocs[t->nrelocs++] = (AcpiReloc){ in_rsdp, size, offset };
}

static void add_csum(AcpiTables *t, bool in_rsdp, uint32_t start, uint32_t length, uint32_t field)
{
    if (t->ncsums < (int)ARRAY_SIZE(t->csums))
        t->csums[t->ncsums++] = (AcpiCsum){ in_rsdp, start, length, field };
}

/* A table with its 36-byte header; the checksum is recorded for later. */
static uint32_t table_begin(AcpiTables *t, const char sig[4], uint8_t rev, size_t len)
{
    uint32_t off = tb_alloc(t, len, 8);
    uint8_t *h = t->tables + off;
    memcpy(h, sig, 4);
    put32(h + 4, (uint32_t)len);
    h[8] = rev;
    memcpy(h + 10, "VX86  ", 6);            /* OEM ID */
    memcpy(h + 16, "VX86PC  ", 8);          /* OEM table ID */
    put32(h + 24, 1);                       /* OEM revision */
    memcpy(h + 28, "VX86", 4);              /* creator ID */
    put32(h + 32, 1);                       /* creator revision */
    add_csum(t, false, off, (uint32_t)len, off + 9);
    return off;
}

/* A 32-bit field pointing at another table, relocated at install. */
static void put_ptr32(AcpiTables *t, uint32_t field, uint32_t target)
{
    put32(t->tables + field, target);
    add_reloc(t, false, field, 4);
}

static void put_ptr64(AcpiTables *t, uint32_t field, uint32_t target)
{
    put64(t->tables + field, target);
    add_reloc(t, false, field, 8);
}

/* Generic address structure for a system-IO register. */
static void put_gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint64_t addr)
{
    p[0] = 1;                               /* system IO */
    p[1] = bits;
    p[2] = 0;
    p[3] = access;                          /* 1 byte, 2 word, 3 dword */
    put64(p + 4, addr);
}

/* ---- the tables ---- */

static uint32_t build_facs(AcpiTables *t)
{
    uint32_t off = tb_alloc(t, FACS_LEN, 64);
    uint8_t *f = t->tables + off;
    memcpy(f, "FACS", 4);
    put32(f + 4, FACS_LEN);
    f[32] = 1;                              /* version */
    return off;
}

/* AML integer: ZeroOp, OneOp or BytePrefix n. */
static size_t aml_byte_const(uint8_t *p, uint8_t v)
{
    if (v == 0 || v == 1) {
        p[0] = v;
        return 1;
    }
    p[0] = 0x0a;
    p[1] = v;
    return 2;
}

/*
 * DSDT body, hand-assembled AML:
 *   Name (_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 })
 *   08                 NameOp
 *   5f 53 35 5f        "_S5_"
 *   12                 PackageOp
 *   nn                 PkgLength (one byte: it counts itself and what follows)
 *   04                 NumElements
 *   <int> <int> 00 00  SLP_TYPa, SLP_TYPb (ZeroOp/OneOp/BytePrefix), reserved
 * With the PIIX4 S5 type 0 this is 08 5f 53 35 5f 12 06 04 00 00 00 00.
 */
static uint32_t build_dsdt(AcpiTables *t, const AcpiConfig *c)
{
    uint8_t aml[16];
    size_t n = 0;
    aml[n++] = 0x08;
    memcpy(aml + n, "_S5_", 4);
    n += 4;
    aml[n++] = 0x12;
    size_t pkglen_at = n++;
    aml[n++] = 4;
    n += aml_byte_const(aml + n, c->s5_slp_typ);
    n += aml_byte_const(aml + n, c->s5_slp_typ);
    aml[n++] = 0x00;
    aml[n++] = 0x00;
    aml[pkglen_at] = (uint8_t)(n - pkglen_at);
    uint32_t off = table_begin(t, "DSDT", 2, 36 + n);
    memcpy(t->tables + off + 36, aml, n);
    return off;
}

static uint32_t build_fadt(AcpiTables *t, const AcpiConfig *c, uint32_t facs, uint32_t dsdt)
{
    uint32_t off = table_begin(t, "FACP", 3, FADT_REV3_LEN);
    uint8_t *f = t->tables + off;
    put_ptr32(t, off + 36, facs);           /* FIRMWARE_CTRL */
    put_ptr32(t, off + 40, dsdt);           /* DSDT */
    f = t->tables + off;
    f[45] = 0;                              /* preferred PM profile: unspecified */
    put16(f + 46, c->sci_irq);
    put32(f + 48, c->smi_cmd);
    f[52] = c->smi_cmd ? c->acpi_enable : 0;
    f[53] = c->smi_cmd ? c->acpi_disable : 0;
    put32(f + 56, c->pm_base + PM1_STS);    /* PM1a_EVT_BLK */
    put32(f + 64, c->pm_base + PM1_CNT);    /* PM1a_CNT_BLK */
    put32(f + 76, c->pm_base + PM_TMR);     /* PM_TMR_BLK */
    put32(f + 80, c->pm_base + GPE0_STS);   /* GPE0_BLK */
    f[88] = 4;                              /* PM1_EVT_LEN */
    f[89] = 2;                              /* PM1_CNT_LEN */
    f[91] = 4;                              /* PM_TMR_LEN */
    f[92] = 4;                              /* GPE0_BLK_LEN: 2 status + 2 enable */
    put16(f + 96, 0x0fff);                  /* P_LVL2_LAT > 100: no C2 */
    put16(f + 98, 0x0fff);                  /* P_LVL3_LAT > 1000: no C3 */
    f[108] = 0x32;                          /* CMOS century register */
    put16(f + 109, 0x0003);                 /* IAPC_BOOT_ARCH: legacy devices, 8042 */
    /* WBINVD | PROC_C1 | SLP_BUTTON (none) | RESET_REG_SUP; TMR_VAL_EXT
     * clear: the PM timer is 24 bits. */
    put32(f + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
    put_gas_io(f + 116, 8, 1, c->reset_port);
    f[128] = c->reset_value;
    put_ptr64(t, off + 132, facs);          /* X_FIRMWARE_CTRL */
    put_ptr64(t, off + 140, dsdt);          /* X_DSDT */
    f = t->tables + off;
    put_gas_io(f + 148, 32, 2, c->pm_base + PM1_STS);   /* X_PM1a_EVT_BLK */
    put_gas_io(f + 172, 16, 2, c->pm_base + PM1_CNT);   /* X_PM1a_CNT_BLK */
    put_gas_io(f + 208, 32, 3, c->pm_base + PM_TMR);    /* X_PM_TMR_BLK */
    put_gas_io(f + 220, 32, 1, c->pm_base + GPE0_STS);  /* X_GPE0_BLK */
    return off;
}

static uint32_t build_madt(AcpiTables *t, const AcpiConfig *c)
{
    int nlevel = 0;
    /* IRQ0 and the cascade IRQ2 never get a level override. */
    uint16_t level = (c->level_irqs | (uint16_t)(1u << c->sci_irq)) & (uint16_t)~0x5u;
    for (int i = 0; i < 16; i++)
        nlevel += (level >> i) & 1;
    size_t len = 44 + 8 * (size_t)c->ncpus + 12 + 10 * (size_t)(1 + nlevel) + 6;
    uint32_t off = table_begin(t, "APIC", 1, len);
    uint8_t *p = t->tables + off;
    put32(p + 36, c->lapic_addr);
    put32(p + 40, 1);                       /* PCAT_COMPAT: 8259s present */
    p += 44;
    uint32_t n = 0;
    for (int i = 0; i < c->ncpus; i++, n++, p += 8) {
        p[0] = 0; p[1] = 8;
        p[2] = (uint8_t)i;                  /* processor UID */
        p[3] = (uint8_t)i;                  /* APIC ID */
        put32(p + 4, 1);                    /* enabled */
    }
    p[0] = 1; p[1] = 12;
    p[2] = c->ioapic_id;
    put32(p + 4, c->ioapic_addr);
    put32(p + 8, 0);                        /* GSI base */
    p += 12, n++;
    /* ISA IRQ0 (PIT/HPET legacy) arrives on IOAPIC pin 2; flags 0 = bus default */
    p[0] = 2; p[1] = 10; p[2] = 0; p[3] = 0;
    put32(p + 4, 2);
    put16(p + 8, 0);
    p += 10, n++;
    for (int irq = 1; irq < 16; irq++) {
        if (!((level >> irq) & 1))
            continue;
        p[0] = 2; p[1] = 10; p[2] = 0; p[3] = (uint8_t)irq;
        put32(p + 4, (uint32_t)irq);
        put16(p + 8, 0x000d);               /* active high (01), level (11 << 2) */
        p += 10, n++;
    }
    p[0] = 4; p[1] = 6;
    p[2] = 0xff;                            /* all processors */
    put16(p + 3, 0);
    p[5] = 1;                               /* LINT1 */
    n++;
    t->madt_entries = n;
    return off;
}

static uint32_t build_hpet(AcpiTables *t, const AcpiConfig *c)
{
    uint32_t off = table_begin(t, "HPET", 1, 56);
    uint8_t *p = t->tables + off;
    put32(p + 36, c->hpet_block_id);
    p[40] = 0;                              /* system memory */
    p[41] = 64;
    p[42] = 0;
    p[43] = 0;
    put64(p + 44, c->hpet_addr);
    p[52] = 0;                              /* HPET number */
    put16(p + 53, 0);                       /* minimum periodic tick */
    p[55] = 0;                              /* no page protection */
    return off;
}

static void build_rsdp(AcpiTables *t, uint32_t rsdt, uint32_t xsdt)
{
    uint8_t *r = t->rsdp;
    memset(r, 0, ACPI_RSDP_SIZE);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "VX86  ", 6);
    r[15] = 2;                              /* ACPI 2.0+ */
    put32(r + 16, rsdt);
    add_reloc(t, true, 16, 4);
    put32(r + 20, ACPI_RSDP_SIZE);
    put64(r + 24, xsdt);
    add_reloc(t, true, 24, 8);
    add_csum(t, true, 0, 20, 8);
    add_csum(t, true, 0, ACPI_RSDP_SIZE, 32);
}

/* Computes every recorded checksum in order (RSDP's short one first). */
static void apply_checksums(const AcpiTables *t, uint8_t *tables, uint8_t *rsdp)
{
    for (int i = 0; i < t->ncsums; i++) {
        const AcpiCsum *c = &t->csums[i];
        uint8_t *b = c->in_rsdp ? rsdp : tables;
        b[c->field] = 0;
        b[c->field] = (uint8_t)-acpi_checksum(b + c->start, c->length);
    }
}

void acpi_config_default(AcpiConfig *c, int ncpus)
{
    memset(c, 0, sizeof(*c));
    c->ncpus = ncpus;
    c->lapic_addr = 0xfee00000u;
    c->ioapic_addr = 0xfec00000u;
    c->ioapic_id = (uint8_t)(ncpus < 255 ? ncpus : 0);
    c->pm_base = PIIX4_PM_DEFAULT_BASE;
    c->sci_irq = PIIX4_SCI_IRQ;
    c->smi_cmd = PIIX4_APM_CNT_PORT;
    c->acpi_enable = PIIX4_ACPI_ENABLE;
    c->acpi_disable = PIIX4_ACPI_DISABLE;
    c->s5_slp_typ = PIIX4_SLP_TYP_S5;
    c->reset_port = 0xcf9;
    c->reset_value = 0x06;
    c->hpet = true;
    c->hpet_addr = HPET_DEFAULT_BASE;
    c->hpet_block_id = hpet_block_id();
}

AcpiTables *acpi_build_tables(const AcpiConfig *c)
{
    if (c->ncpus < 1 || c->ncpus > ACPI_MAX_CPUS || c->sci_irq >= 16)
        return NULL;
    AcpiTables *t = xcalloc(1, sizeof(*t));
    uint32_t facs = build_facs(t);
    uint32_t dsdt = build_dsdt(t, c);
    uint32_t fadt = build_fadt(t, c, facs, dsdt);
    uint32_t madt = build_madt(t, c);
    uint32_t entries[3] = { fadt, madt, 0 };
    int n = 2;
    if (c->hpet)
        entries[n++] = build_hpet(t, c);
    uint32_t rsdt = table_begin(t, "RSDT", 1, 36 + 4 * (size_t)n);
    for (int i = 0; i < n; i++)
        put_ptr32(t, rsdt + 36 + 4 * (uint32_t)i, entries[i]);
    uint32_t xsdt = table_begin(t, "XSDT", 1, 36 + 8 * (size_t)n);
    for (int i = 0; i < n; i++)
        put_ptr64(t, xsdt + 36 + 8 * (uint32_t)i, entries[i]);
    build_rsdp(t, rsdt, xsdt);
    /* Valid as a base-0 image too (the fw_cfg loader redoes them). */
    apply_checksums(t, t->tables, t->rsdp);
    return t;
}

void acpi_tables_free(AcpiTables *t)
{
    if (!t)
        return;
    free(t->tables);
    free(t);
}

/* ---- direct boot ---- */

bool acpi_tables_install(const AcpiTables *t, MemMap *mem, uint64_t tables_addr,
                         uint64_t rsdp_addr, char **err)
{
    if (tables_addr + t->tables_len > (1ULL << 32) || (tables_addr & 63) ||
        !memmap_host_ptr(mem, tables_addr, t->tables_len, true)) {
        set_error(err, "ACPI tables: 0x%llx+%zu is not 64-byte aligned RAM below 4 GiB",
                  (unsigned long long)tables_addr, t->tables_len);
        return false;
    }
    if ((rsdp_addr & 15) || rsdp_addr < ACPI_BIOS_AREA_START ||
        rsdp_addr + ACPI_RSDP_SIZE > ACPI_BIOS_AREA_END ||
        !memmap_host_ptr(mem, rsdp_addr, ACPI_RSDP_SIZE, false)) {
        set_error(err, "ACPI RSDP: 0x%llx is not a 16-byte aligned address in "
                  "0xe0000-0xfffff backed by memory", (unsigned long long)rsdp_addr);
        return false;
    }
    uint8_t *tables = xmalloc(t->tables_len);
    memcpy(tables, t->tables, t->tables_len);
    uint8_t rsdp[ACPI_RSDP_SIZE];
    memcpy(rsdp, t->rsdp, sizeof(rsdp));
    for (int i = 0; i < t->nrelocs; i++) {
        const AcpiReloc *r = &t->relocs[i];
        uint8_t *f = (r->in_rsdp ? rsdp : tables) + r->offset;
        uint64_t v = get_le(f, r->size) + tables_addr;
        if (r->size == 4)
            put32(f, (uint32_t)v);
        else
            put64(f, v);
    }
    apply_checksums(t, tables, rsdp);
    bool ok = memmap_load_buf(mem, tables_addr, tables, t->tables_len) &&
              memmap_load_buf(mem, rsdp_addr, rsdp, sizeof(rsdp));
    free(tables);
    if (!ok)
        set_error(err, "ACPI tables: writing guest memory failed");
    return ok;
}

/* ---- fw_cfg + linker/loader ---- */

#define LOADER_ALLOCATE     1
#define LOADER_ADD_POINTER  2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH    1
#define LOADER_ZONE_FSEG    2
#define LOADER_ENTRY_SIZE   128
#define FILE_TABLES         "etc/acpi/tables"
#define FILE_RSDP           "etc/acpi/rsdp"
#define FILE_LOADER         "etc/table-loader"

static uint8_t *loader_entry(uint8_t *buf, size_t *n, uint32_t cmd)
{
    uint8_t *e = buf + *n * LOADER_ENTRY_SIZE;
    memset(e, 0, LOADER_ENTRY_SIZE);
    put32(e, cmd);
    (*n)++;
    return e;
}

static void loader_name(uint8_t *dst, const char *name)
{
    memcpy(dst, name, strlen(name) + 1);   /* 56-byte field, zero padded */
}

bool acpi_tables_add_fwcfg(const AcpiTables *t, FWCfgState *fw)
{
    size_t max = 2 + (size_t)t->nrelocs + (size_t)t->ncsums;
    uint8_t *cmds = xcalloc(max, LOADER_ENTRY_SIZE);
    size_t n = 0;
    uint8_t *e = loader_entry(cmds, &n, LOADER_ALLOCATE);
    loader_name(e + 4, FILE_RSDP);
    put32(e + 60, 16);
    e[64] = LOADER_ZONE_FSEG;
    e = loader_entry(cmds, &n, LOADER_ALLOCATE);
    loader_name(e + 4, FILE_TABLES);
    put32(e + 60, 64);
    e[64] = LOADER_ZONE_HIGH;
    for (int i = 0; i < t->nrelocs; i++) {
        const AcpiReloc *r = &t->relocs[i];
        e = loader_entry(cmds, &n, LOADER_ADD_POINTER);
        loader_name(e + 4, r->in_rsdp ? FILE_RSDP : FILE_TABLES);
        loader_name(e + 60, FILE_TABLES);
        put32(e + 116, r->offset);
        e[120] = r->size;
    }
    for (int i = 0; i < t->ncsums; i++) {
        const AcpiCsum *c = &t->csums[i];
        e = loader_entry(cmds, &n, LOADER_ADD_CHECKSUM);
        loader_name(e + 4, c->in_rsdp ? FILE_RSDP : FILE_TABLES);
        put32(e + 60, c->field);
        put32(e + 64, c->start);
        put32(e + 68, c->length);
    }
    bool ok = true;
    const struct { const char *name; const void *data; size_t len; } files[] = {
        { FILE_TABLES, t->tables, t->tables_len },
        { FILE_RSDP, t->rsdp, ACPI_RSDP_SIZE },
        { FILE_LOADER, cmds, n * LOADER_ENTRY_SIZE },
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        if (fwcfg_find_file(fw, files[i].name) >= 0)
            ok &= fwcfg_update_file(fw, files[i].name, files[i].data, files[i].len);
        else
            ok &= fwcfg_add_file(fw, files[i].name, files[i].data, files[i].len) >= 0;
    }
    free(cmds);
    return ok;
}
