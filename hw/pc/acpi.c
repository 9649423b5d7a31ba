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
 * ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0a, ScopeOp 0x10, DeviceOp 0x5b
 * 0x82, BufferOp 0x11); resource descriptors (6.4.2.5 I/O port, 6.4.3.5.2/3
 * DWord/Word address space, 6.4.2.9 end tag); _PRT (6.2.13).  The fw_cfg
 * linker/loader command layout is QEMU's/SeaBIOS's romfile_loader_entry_s (128 bytes).
 */
#include "hw/pc/acpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "hw/hpet.h"
#include "hw/pci.h"
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

/* ---- AML (ACPI 6.x chapter 20), assembled by hand ---- */

typedef struct Aml {
    uint8_t *p;
    size_t n, cap;
} Aml;

static void aml_bytes(Aml *a, const void *b, size_t n)
{
    if (a->n + n > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->n + n)
            cap *= 2;
        a->p = xrealloc(a->p, cap);
        a->cap = cap;
    }
    memcpy(a->p + a->n, b, n);
    a->n += n;
}

static void aml_byte(Aml *a, uint8_t b) { aml_bytes(a, &b, 1); }
static void aml_word(Aml *a, uint16_t v) { uint8_t b[2]; put16(b, v); aml_bytes(a, b, 2); }
static void aml_dword(Aml *a, uint32_t v) { uint8_t b[4]; put32(b, v); aml_bytes(a, b, 4); }

/* A 4-character NameSeg ("_SB_", "PCI0"). */
static void aml_nameseg(Aml *a, const char name[4]) { aml_bytes(a, name, 4); }

/*
 * Integer constant, smallest encoding: ZeroOp 00, OneOp 01, BytePrefix 0a,
 * WordPrefix 0b, DWordPrefix 0c.
 */
static void aml_int(Aml *a, uint32_t v)
{
    if (v <= 1) {
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xff) {
        aml_byte(a, 0x0a);
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        aml_byte(a, 0x0b);
        aml_word(a, (uint16_t)v);
    } else {
        aml_byte(a, 0x0c);
        aml_dword(a, v);
    }
}

/*
 * PkgLength (20.2.4) counts itself and the body.  Under 64 bytes it is one
 * byte; otherwise bits 7:6 of the lead byte give the number of following
 * bytes, its bits 3:0 the low nibble of the length, the following bytes
 * bits 11:4, 19:12, 27:20.
 */
static void aml_pkg(Aml *a, const uint8_t *op, size_t oplen, const Aml *body)
{
    aml_bytes(a, op, oplen);
    size_t len = body->n;
    if (len + 1 < 64) {
        aml_byte(a, (uint8_t)(len + 1));
    } else {
        int extra = len + 2 < 0x1000 ? 1 : len + 3 < 0x100000 ? 2 : 3;
        size_t total = len + 1 + (size_t)extra;
        aml_byte(a, (uint8_t)((extra << 6) | (total & 0x0f)));
        for (int i = 0; i < extra; i++)
            aml_byte(a, (uint8_t)(total >> (4 + 8 * i)));
    }
    aml_bytes(a, body->p, body->n);
}

static void aml_free(Aml *a) { free(a->p); a->p = NULL; a->n = a->cap = 0; }

/* Name (NAME, <object already in obj>): NameOp 08. */
static void aml_name_obj(Aml *a, const char name[4], const Aml *obj)
{
    aml_byte(a, 0x08);
    aml_nameseg(a, name);
    aml_bytes(a, obj->p, obj->n);
}

static void aml_name_int(Aml *a, const char name[4], uint32_t v)
{
    aml_byte(a, 0x08);
    aml_nameseg(a, name);
    aml_int(a, v);
}

/* Package (N) { elements }: PackageOp 12 PkgLength NumElements elements. */
static void aml_package(Aml *a, uint8_t nelems, const Aml *elems)
{
    Aml body = { 0 };
    aml_byte(&body, nelems);
    aml_bytes(&body, elems->p, elems->n);
    static const uint8_t op = 0x12;
    aml_pkg(a, &op, 1, &body);
    aml_free(&body);
}

/* Buffer () { bytes }: BufferOp 11 PkgLength BufferSize bytes. */
static void aml_buffer(Aml *a, const Aml *data)
{
    Aml body = { 0 };
    aml_int(&body, (uint32_t)data->n);
    aml_bytes(&body, data->p, data->n);
    static const uint8_t op = 0x11;
    aml_pkg(a, &op, 1, &body);
    aml_free(&body);
}

/*
 * Resource descriptors (ACPI 6.x 6.4).  General flags 0x0c of the address
 * space descriptors: _MAF and _MIF fixed, positive decode, bit 0 clear
 * (the bridge produces the range for its children).
 */
static void res_word_space(Aml *r, uint8_t type, uint8_t tflags, uint16_t min,
                           uint16_t max)
{
    aml_byte(r, 0x88);                      /* Word Address Space, large item */
    aml_word(r, 13);
    aml_byte(r, type);                      /* 1 I/O, 2 bus number */
    aml_byte(r, 0x0c);
    aml_byte(r, tflags);
    aml_word(r, 0);                         /* granularity */
    aml_word(r, min);
    aml_word(r, max);
    aml_word(r, 0);                         /* translation offset */
    aml_word(r, (uint16_t)(max - min + 1));
}

static void res_dword_memory(Aml *r, uint32_t min, uint32_t max)
{
    aml_byte(r, 0x87);                      /* DWord Address Space, large item */
    aml_word(r, 23);
    aml_byte(r, 0);                         /* memory */
    aml_byte(r, 0x0c);
    aml_byte(r, 0x03);                      /* read/write, cacheable */
    aml_dword(r, 0);
    aml_dword(r, min);
    aml_dword(r, max);
    aml_dword(r, 0);
    aml_dword(r, max - min + 1);
}

static void res_io(Aml *r, uint16_t base, uint8_t len)
{
    aml_byte(r, 0x47);                      /* I/O port, small item, 7 bytes */
    aml_byte(r, 0x01);                      /* 16-bit decode */
    aml_word(r, base);
    aml_word(r, base);
    aml_byte(r, 1);                         /* alignment */
    aml_byte(r, len);
}

/*
 * Device (PCI0) in Scope (\_SB):
 *   _HID EisaId ("PNP0A03") (PCI host bridge), _ADR 0, _UID 0;
 *   _CRS: bus 0-255, the config ports 0xcf8-0xcff, I/O 0-0xcf7 and
 *     0xd00-0xffff, the legacy VGA window 0xa0000-0xbffff and the 32-bit
 *     MMIO window above low RAM;
 *   _PRT: for every slot and pin INTA-D, Package { 0xSSSSFFFF, pin, Zero,
 *     GSI } (the "Source is Zero" form: a hard-wired GSI, level and active
 *     low); pin P (0 = INTA) of slot S is on PIRQ pci_slot_pirq(S, P + 1)
 *     as the board wires it, on GSI pirq_gsi_base + PIRQ.
 */
static void aml_pci0(Aml *a, const AcpiConfig *c)
{
    Aml dev = { 0 }, res = { 0 }, obj = { 0 }, prt = { 0 };
    aml_byte(&obj, 0x0c);                   /* EisaId ("PNP0A03") as a DWordConst */
    aml_bytes(&obj, "\x41\xd0\x0a\x03", 4);
    aml_name_obj(&dev, "_HID", &obj);
    aml_free(&obj);
    aml_name_int(&dev, "_ADR", 0);
    aml_name_int(&dev, "_UID", 0);

    res_word_space(&res, 2, 0, 0, 0xff);
    res_io(&res, 0xcf8, 8);
    res_word_space(&res, 1, 0x03, 0x0000, 0x0cf7);
    res_word_space(&res, 1, 0x03, 0x0d00, 0xffff);
    res_dword_memory(&res, 0xa0000, 0xbffff);
    if (c->pci_mmio_end > c->pci_mmio_start)
        res_dword_memory(&res, c->pci_mmio_start, c->pci_mmio_end);
    aml_byte(&res, 0x79);                   /* End tag, checksum 0 = none */
    aml_byte(&res, 0);
    aml_buffer(&obj, &res);
    aml_name_obj(&dev, "_CRS", &obj);
    aml_free(&obj);

    for (uint32_t slot = 0; slot < 32; slot++) {
        for (uint32_t pin = 0; pin < 4; pin++) {
            Aml e = { 0 };
            aml_int(&e, (slot << 16) | 0xffff);
            aml_int(&e, pin);
            aml_int(&e, 0);
            aml_int(&e, c->pirq_gsi_base + pci_slot_pirq(slot, pin + 1));
            aml_package(&prt, 4, &e);
            aml_free(&e);
        }
    }
    aml_package(&obj, 128, &prt);
    aml_name_obj(&dev, "_PRT", &obj);
    aml_free(&obj);

    Aml scope = { 0 };
    static const uint8_t device_op[2] = { 0x5b, 0x82 };
    Aml named = { 0 };
    aml_nameseg(&named, "PCI0");
    aml_bytes(&named, dev.p, dev.n);
    aml_pkg(&scope, device_op, 2, &named);
    Aml sb = { 0 };
    aml_nameseg(&sb, "_SB_");
    aml_bytes(&sb, scope.p, scope.n);
    static const uint8_t scope_op = 0x10;
    aml_pkg(a, &scope_op, 1, &sb);
    aml_free(&sb);
    aml_free(&named);
    aml_free(&scope);
    aml_free(&dev);
    aml_free(&res);
    aml_free(&prt);
}

/*
 * DSDT body:
 *   Name (_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 })
 *   08                 NameOp
 *   5f 53 35 5f        "_S5_"
 *   12                 PackageOp
 *   nn                 PkgLength (one byte: it counts itself and what follows)
 *   04                 NumElements
 *   <int> <int> 00 00  SLP_TYPa, SLP_TYPb (ZeroOp/OneOp/BytePrefix), reserved
 * With the PIIX4 S5 type 0 this is 08 5f 53 35 5f 12 06 04 00 00 00 00.
 * Then, with c->pci, Scope (\_SB) { Device (PCI0) { ... } } (aml_pci0).
 */
static uint32_t build_dsdt(AcpiTables *t, const AcpiConfig *c)
{
    Aml aml = { 0 }, s5 = { 0 }, pkg = { 0 };
    aml_int(&s5, c->s5_slp_typ);
    aml_int(&s5, c->s5_slp_typ);
    aml_int(&s5, 0);
    aml_int(&s5, 0);
    aml_package(&pkg, 4, &s5);
    aml_name_obj(&aml, "_S5_", &pkg);
    if (c->pci)
        aml_pci0(&aml, c);
    uint32_t off = table_begin(t, "DSDT", 2, 36 + aml.n);
    memcpy(t->tables + off + 36, aml.p, aml.n);
    aml_free(&aml);
    aml_free(&s5);
    aml_free(&pkg);
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
    c->pci = true;
    c->pci_mmio_start = 0xc0000000u;        /* the board moves it down to RAM's end */
    c->pci_mmio_end = 0xfebfffffu;          /* below the IOAPIC */
    c->pirq_gsi_base = 16;
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
