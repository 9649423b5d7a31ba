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
            size, (unsigned)(I440FX_CONFIG_ADDRESS + off));
    }
}

static const MemOps i440fx_io_ops = {
    .read = i440fx_io_read, .write = i440fx_io_write, .min_size = 1, .max_size = 4,
};

static void i440fx_reset(void *opaque)
{
    I440FXState *s = opaque;
    s->config_address = 0;
    s->reset_control = 0;
    for (int i = 0; i < 7; i++)
        s->dev->config[I440FX_PAM0 + i] = 0;
    s->dev->config[I440FX_SMRAM] = 0x02;
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

I440FXState *i440fx_create(Machine *m, PCIBus *bus)
{
    static const PCIConfigInit ids = {
        .vendor_id = 0x8086, .device_id = 0x1237, .revision = 0x02,
        .class_code = 0x060000,   /* bridge, host */
    };
    I440FXState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->bus = bus;
    s->dev = pci_register_function(bus, PCI_DEVFN(0, 0), &ids, "i440fx", NULL, NULL, s);
    if (!s->dev || !iospace_add(m->io, "pci-conf", I440FX_CONFIG_ADDRESS, 8,
                                &i440fx_io_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    machine_add_device(m, &i440fx_device_ops, s);
    i440fx_reset(s);
    return s;
}

uint8_t i440fx_pam(I440FXState *s, int n)
{
    return n >= 0 && n < 7 ? s->dev->config[I440FX_PAM0 + n] : 0;
}
