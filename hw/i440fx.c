/*
 * i440FX host bridge and PCI configuration mechanism #1 (see i440fx.h).
 *
 * Facts (PCI Local Bus Specification 2.3, 3.2.2.3.2; 82441FX datasheet):
 * CONFIG_ADDRESS bit 31 enables configuration cycles, bits 23:16 select
 * the bus, 15:11 the device, 10:8 the function and 7:2 the dword register.
 * Only dword accesses to 0xcf8 reach CONFIG_ADDRESS; byte accesses there
 * are ordinary IO (0xcf9 is the PIIX reset control register: a 0->1
 * transition of bit 2 resets the system).  CONFIG_DATA at 0xcfc-0xcff
 * accesses the byte lanes of the selected dword.  Vendor 8086, device 1237.
 */
#include "hw/i440fx.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define CA_ENABLE   0x80000000u
#define CA_MASK     0x80fffffcu     /* reserved bits 30:24 and 1:0 read 0 */
#define RC_SYS_RST  0x02
#define RC_RST_CPU  0x04

static bool i440fx_target(I440FXState *s, int *devfn, uint32_t *reg)
{
    uint32_t ca = s->config_address;
    if (!(ca & CA_ENABLE) || ((ca >> 16) & 0xff) != 0)
        return false;      /* disabled, or a bus behind no bridge */
    *devfn = (ca >> 8) & 0xff;
    *reg = ca & 0xfc;
    return true;
}

static uint32_t i440fx_data_read(I440FXState *s, unsigned lane, unsigned size)
{
    int devfn;
    uint32_t reg;
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (!i440fx_target(s, &devfn, &reg))
        return ones;
    if (lane & (size - 1)) {
        /* Misaligned in the dword: byte cycles, each in its lane. */
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= pci_bus_config_read(s->bus, devfn, reg + lane + i, 1) << (8 * i);
        return v;
    }
    return pci_bus_config_read(s->bus, devfn, reg + lane, size);
}

static void i440fx_data_write(I440FXState *s, unsigned lane, uint32_t val, unsigned size)
{
    int devfn;
    uint32_t reg;
    if (!i440fx_target(s, &devfn, &reg))
        return;
    if (lane & (size - 1)) {
        for (unsigned i = 0; i < size; i++)
            pci_bus_config_write(s->bus, devfn, reg + lane + i, (val >> (8 * i)) & 0xff, 1);
        return;
    }
    pci_bus_config_write(s->bus, devfn, reg + lane, val, size);
}

static uint64_t i440fx_io_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXState *s = opaque;
    if (off >= 4)
        return i440fx_data_read(s, (unsigned)(off - 4), size);
    if (off == 0 && size == 4)
        return s->config_address;
    if (off == 1 && size == 1)
        return s->reset_control;
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void i440fx_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXState *s = opaque;
    if (off >= 4) {
        i440fx_data_write(s, (unsigned)(off - 4), (uint32_t)val, size);
    } else if (off == 0 && size == 4) {
        s->config_address = (uint32_t)val & CA_MASK;
    } else if (off == 1 && size == 1) {
        bool go = (val & RC_RST_CPU) && !(s->reset_control & RC_RST_CPU);
        s->reset_control = val & RC_SYS_RST;   /* RST_CPU is self-clearing */
        if (go)
            machine_request_reset(s->m);
    } else {
        LOG(LOG_GUEST_ERRORS, "i440fx: %u-byte write to port 0x%x ignored\n",
            size, (unsigned)(s->config_port + off));
    }
}

static const MemOps i440fx_io_ops = {
    .read = i440fx_io_read, .write = i440fx_io_write, .min_size = 1, .max_size = 4,
};

/* ---- PAM: the shadow windows of 0xC0000-0xFFFFF ---- */

#define PAM_RE 1
#define PAM_WE 2

static const char *const pam_names[I440FX_PAM_SEGMENTS] = {
    "pam-f0000", "pam-c0000", "pam-c4000", "pam-c8000", "pam-cc000",
    "pam-d0000", "pam-d4000", "pam-d8000", "pam-dc000", "pam-e0000",
    "pam-e4000", "pam-e8000", "pam-ec000",
};

/* Segment i: 0 is 0xF0000 (64 KiB, PAM0 bits 5:4); 1..12 the 16 KiB
 * segments from 0xC0000, two per register from PAM1. */
static uint64_t pam_base(int i) { return i ? 0xc0000 + (uint64_t)(i - 1) * 0x4000 : 0xf0000; }
static uint64_t pam_size(int i) { return i ? 0x4000 : 0x10000; }

static uint8_t pam_attr(I440FXState *s, int i)
{
    int reg = i ? I440FX_PAM0 + 1 + (i - 1) / 2 : I440FX_PAM0;
    int shift = i ? ((i - 1) & 1) * 4 : 4;
    return (s->dev->config[reg] >> shift) & (PAM_RE | PAM_WE);
}

/* Write-only shadow: reads come from the bus below, writes fill DRAM. */
static uint64_t pam_wo_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXPamWindow *w = opaque;
    return memmap_read_below(w->s->m->mem, I440FX_PAM_PRIORITY, w->base + off, size);
}

static void pam_wo_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXPamWindow *w = opaque;
    memcpy(w->s->dram + (w->base - 0xc0000) + off, &val, size);   /* little-endian host */
}

static const MemOps pam_wo_ops = {
    .read = pam_wo_read, .write = pam_wo_write, .min_size = 1, .max_size = 8,
};

static void pam_map(I440FXState *s, int i, uint8_t attr)
{
    MemMap *mm = s->m->mem;
    if (s->pam_region[i])
        memmap_remove(mm, s->pam_region[i]);
    s->pam_region[i] = NULL;
    s->pam_attr[i] = attr;
    uint64_t base = pam_base(i), size = pam_size(i);
    uint8_t *host = s->dram + (base - 0xc0000);
    char *err = NULL;
    switch (attr) {
    case PAM_RE:
        s->pam_region[i] = memmap_add_host(mm, pam_names[i], base, size, host, false,
                                           I440FX_PAM_PRIORITY, &err);
        break;
    case PAM_WE:
        s->pam_win[i].s = s;
        s->pam_win[i].base = base;
        s->pam_region[i] = memmap_add_mmio(mm, pam_names[i], base, size, &pam_wo_ops,
                                           &s->pam_win[i], I440FX_PAM_PRIORITY, &err);
        break;
    case PAM_RE | PAM_WE:
        s->pam_region[i] = memmap_add_host(mm, pam_names[i], base, size, host, true,
                                           I440FX_PAM_PRIORITY, &err);
        break;
    default:
        break;
    }
    if (err) {
        LOG(LOG_GUEST_ERRORS, "i440fx: %s\n", err);
        free(err);
    }
}

static void pam_update(I440FXState *s)
{
    if (!s->dram)
        return;
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        uint8_t a = pam_attr(s, i);
        if (a != s->pam_attr[i])
            pam_map(s, i, a);
    }
}

static void i440fx_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned size)
{
    pci_default_config_write(d, addr, val, size);
    if (addr < I440FX_PAM0 + 7 && addr + size > I440FX_PAM0)
        pam_update(d->opaque);
}

static void i440fx_reset(void *opaque)
{
    I440FXState *s = opaque;
    s->config_address = 0;
    s->reset_control = 0;
    for (int i = 0; i < 7; i++)
        s->dev->config[I440FX_PAM0 + i] = 0;
    s->dev->config[I440FX_SMRAM] = 0x02;
    pam_update(s);
}

static void i440fx_free(void *opaque)
{
    free(opaque);
}

static int i440fx_post_load(void *opaque, int version, char **err)
{
    I440FXState *s = opaque;
    (void)version;
    (void)err;
    s->config_address &= CA_MASK;
    s->reset_control &= RC_SYS_RST;
    pam_update(s);
    return 0;
}

static const VMField i440fx_fields[] = {
    VMF_U32(config_address, I440FXState),
    VMF_U8(reset_control, I440FXState),
    VMF_END
};

static const VMStateDesc i440fx_vmsd = {
    .name = "i440fx", .version = 1, .min_version = 1, .fields = i440fx_fields,
    .post_load = i440fx_post_load,
};

static const DeviceOps i440fx_device_ops = {
    .name = "i440fx", .reset = i440fx_reset, .free = i440fx_free, .vmsd = &i440fx_vmsd,
};

I440FXState *i440fx_create(Machine *m, PCIBus *bus, uint16_t config_port)
{
    /* Subsystem 1af4:1100 ("QEMU virtual machine"): SeaBIOS looks for it
     * on 00.0 before it trusts fw_cfg and the QEMU board layout. */
    static const PCIConfigInit ids = {
        .vendor_id = 0x8086, .device_id = 0x1237, .revision = 0x02,
        .class_code = 0x060000,   /* bridge, host */
        .subsys_vendor_id = 0x1af4, .subsys_id = 0x1100,
    };
    I440FXState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->bus = bus;
    s->config_port = config_port;
    if (!iospace_add(m->io, "pci-conf", config_port, 8, &i440fx_io_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    s->dev = pci_register_function(bus, PCI_DEVFN(0, 0), &ids, "i440fx", NULL,
                                   i440fx_config_write, s);
    if (!s->dev) {
        iospace_remove(m->io, config_port, 8);
        free(s);
        return NULL;
    }
    /* PAM0-6 are read/write (PAM0 bits 3:0 reserved); SMRAM as well. */
    s->dev->wmask[I440FX_PAM0] = 0x30;
    for (int i = 1; i < 7; i++)
        s->dev->wmask[I440FX_PAM0 + i] = 0x33;
    if (m->ram_size >= 0x100000)
        s->dram = m->ram + 0xc0000;
    machine_add_device(m, &i440fx_device_ops, s);
    i440fx_reset(s);
    return s;
}

uint8_t i440fx_pam(I440FXState *s, int n)
{
    return n >= 0 && n < 7 ? s->dev->config[I440FX_PAM0 + n] : 0;
}
