/*
 * PCI bus core (see pci.h): per-function configuration space with write
 * masks, BAR sizing and mapping, INTx -> PIRQ wired-OR, bus-master DMA.
 *
 * Facts used (PCI Local Bus Specification 2.3, chapter 6): a BAR's low
 * bits are read-only flags (bit 0 = IO space; memory bits 2:1 type, bit 3
 * prefetchable) and its address bits below the size read as zero, which is
 * how software sizes it by writing all ones; the command register's bits
 * 0/1 enable IO/memory decode, bit 2 bus mastering, bit 10 disables INTx;
 * status bit 3 shows a pending INTx; status bits 15:11 and 8 are
 * write-one-to-clear.  The expansion ROM base address register (0x30)
 * holds the ROM's address in bits 31:11 (the bits below its size read as
 * zero, so software sizes it like a BAR) and an enable in bit 0; the ROM
 * decodes only while bit 0 and the command register's memory enable are
 * both set (section 6.2.5.2).
 */
#include "hw/pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

struct PCIBus {
    Machine *m;
    PCIDevice *devs[256];
    PCIPirqFn pirq_fn;
    void *pirq_opaque;
    PCIMsiFn msi_fn;
    void *msi_opaque;
};

/* ---- config space helpers ---- */

uint32_t pci_get_long(const PCIDevice *d, uint32_t addr)
{
    return (uint32_t)d->config[addr] | (uint32_t)d->config[addr + 1] << 8 |
           (uint32_t)d->config[addr + 2] << 16 | (uint32_t)d->config[addr + 3] << 24;
}

uint16_t pci_get_word(const PCIDevice *d, uint32_t addr)
{
    return (uint16_t)(d->config[addr] | d->config[addr + 1] << 8);
}

void pci_set_long(PCIDevice *d, uint32_t addr, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d->config[addr + i] = (uint8_t)(v >> (8 * i));
}

void pci_set_word(PCIDevice *d, uint32_t addr, uint16_t v)
{
    d->config[addr] = (uint8_t)v;
    d->config[addr + 1] = (uint8_t)(v >> 8);
}

static void pci_set_wmask_word(PCIDevice *d, uint32_t addr, uint16_t m)
{
    d->wmask[addr] = (uint8_t)m;
    d->wmask[addr + 1] = (uint8_t)(m >> 8);
}

static void pci_set_wmask_long(PCIDevice *d, uint32_t addr, uint32_t m)
{
    for (int i = 0; i < 4; i++)
        d->wmask[addr + i] = (uint8_t)(m >> (8 * i));
}

/* ---- interrupts ---- */

int pci_slot_pirq(int slot, int pin)
{
    /* (slot - 1 + pin - 1) mod 4, kept non-negative for slot 0. */
    return (slot + pin + 2) & 3;
}

int pci_device_pirq(const PCIDevice *d)
{
    int pin = d->config[PCI_INTERRUPT_PIN];
    if (pin < 1 || pin > 4)
        return -1;
    return pci_slot_pirq(PCI_SLOT(d->devfn), pin);
}

static bool pci_intx_asserted(const PCIDevice *d)
{
    return d->irq_level && !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

int pci_bus_pirq_level(PCIBus *bus, int pirq)
{
    for (int i = 0; i < 256; i++) {
        PCIDevice *d = bus->devs[i];
        if (d && pci_device_pirq(d) == pirq && pci_intx_asserted(d))
            return 1;
    }
    return 0;
}

static void pci_update_irq(PCIDevice *d)
{
    uint16_t st = pci_get_word(d, PCI_STATUS);
    st = d->irq_level ? (st | PCI_STATUS_INTERRUPT) : (st & ~PCI_STATUS_INTERRUPT);
    pci_set_word(d, PCI_STATUS, st);
    int pirq = pci_device_pirq(d);
    if (pirq >= 0 && d->bus->pirq_fn)
        d->bus->pirq_fn(d->bus->pirq_opaque, pirq, pci_bus_pirq_level(d->bus, pirq));
}

void pci_set_irq(PCIDevice *d, int level)
{
    d->irq_level = level != 0;
    pci_update_irq(d);
}

/* ---- BARs ---- */

uint32_t pci_bar_address(PCIDevice *d, int bar)
{
    if (bar < 0 || bar >= PCI_NUM_BARS)
        return 0;
    uint32_t v = pci_get_long(d, PCI_BAR0 + 4 * bar);
    return d->bars[bar].io ? (v & ~3u) : (v & ~0xfu);
}

static void pci_unmap_bar(PCIDevice *d, PCIBar *b)
{
    Machine *m = d->bus->m;
    if (!b->mapped)
        return;
    if (b->io)
        iospace_remove(m->io, b->mapped_addr, b->size);
    else
        memmap_remove(m->mem, b->region);
    b->region = NULL;
    b->mapped = false;
}

static void pci_map_bar(PCIDevice *d, PCIBar *b, uint32_t addr)
{
    Machine *m = d->bus->m;
    char *err = NULL;
    bool ok;
    if (b->io) {
        ok = iospace_add(m->io, d->name, addr, b->size, b->ops, b->opaque, &err);
    } else {
        b->region = b->ram ? memmap_add_ram_logged(m->mem, d->name, addr, b->size, b->ram,
                                                   b->ram_log, PCI_BAR_PRIORITY, &err)
                           : memmap_add_mmio(m->mem, d->name, addr, b->size, b->ops,
                                             b->opaque, PCI_BAR_PRIORITY, &err);
        ok = b->region != NULL;
    }
    if (!ok) {
        /* The guest placed two decoders on top of each other: the newer
         * one stays off rather than stealing the other's accesses. */
        LOG(LOG_GUEST_ERRORS, "pci %s: BAR at 0x%x not mapped: %s\n", d->name,
            addr, err ? err : "?");
        free(err);
        return;
    }
    b->mapped = true;
    b->mapped_addr = addr;
}

static bool pci_bar_wanted(PCIDevice *d, int i, uint32_t *addr_out)
{
    PCIBar *b = &d->bars[i];
    uint16_t cmd = pci_get_word(d, PCI_COMMAND);
    uint32_t addr = pci_bar_address(d, i);
    uint32_t sizing = b->io ? (~(b->size - 1) & ~3u) : (~(b->size - 1) & ~0xfu);
    *addr_out = addr;
    /* Address 0 and the all-ones sizing pattern mean "not assigned". */
    if (addr == 0 || addr == sizing)
        return false;
    if (b->io)
        return (cmd & PCI_COMMAND_IO) && (uint64_t)addr + b->size <= 0x10000;
    return (cmd & PCI_COMMAND_MEMORY) && (uint64_t)addr + b->size <= (1ULL << 32);
}

static void pci_unmap_rom(PCIDevice *d)
{
    PCIRom *r = &d->rom;
    if (!r->mapped)
        return;
    memmap_remove(d->bus->m->mem, r->region);
    r->region = NULL;
    r->mapped = false;
}

static void pci_update_rom(PCIDevice *d)
{
    PCIRom *r = &d->rom;
    if (!r->size)
        return;
    uint32_t v = pci_get_long(d, PCI_ROM_ADDRESS);
    uint32_t addr = v & ~(r->size - 1) & ~0x7ffu;
    uint32_t sizing = ~(r->size - 1) & ~0x7ffu;
    bool want = (v & 1) && (pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MEMORY) &&
                addr != 0 && addr != sizing;
    if (r->mapped && (!want || addr != r->mapped_addr))
        pci_unmap_rom(d);
    if (!want || r->mapped)
        return;
    char *err = NULL;
    r->region = memmap_add_rom(d->bus->m->mem, d->name, addr, r->size, r->data, &err);
    if (!r->region) {
        LOG(LOG_GUEST_ERRORS, "pci %s: ROM at 0x%x not mapped: %s\n", d->name, addr,
            err ? err : "?");
        free(err);
        return;
    }
    r->mapped = true;
    r->mapped_addr = addr;
}

bool pci_register_rom(PCIDevice *d, const void *image, size_t len)
{
    if (len == 0 || len > (16u << 20))
        return false;
    uint32_t sz = 2048;
    while (sz < len)
        sz <<= 1;
    pci_unmap_rom(d);
    free(d->rom.data);
    if (posix_memalign((void **)&d->rom.data, 4096, sz < 4096 ? 4096 : sz))
        return false;
    memset(d->rom.data, 0xff, sz);
    memcpy(d->rom.data, image, len);
    d->rom.size = sz;
    pci_set_long(d, PCI_ROM_ADDRESS, 0);
    pci_set_wmask_long(d, PCI_ROM_ADDRESS, (~(sz - 1) & ~0x7ffu) | 1u);
    return true;
}

void pci_bar_set_prefetchable(PCIDevice *d, int bar)
{
    if (bar < 0 || bar >= PCI_NUM_BARS || !d->bars[bar].size || d->bars[bar].io)
        return;
    d->bars[bar].prefetch = true;
    d->config[PCI_BAR0 + 4 * bar] |= 0x08;
}

void pci_update_mappings(PCIDevice *d)
{
    pci_update_rom(d);
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        PCIBar *b = &d->bars[i];
        if (!b->size)
            continue;
        uint32_t addr;
        bool want = pci_bar_wanted(d, i, &addr);
        if (b->mapped && (!want || addr != b->mapped_addr))
            pci_unmap_bar(d, b);
        if (want && !b->mapped)
            pci_map_bar(d, b, addr);
    }
}

void pci_register_bar(PCIDevice *d, int bar, uint32_t size, bool io,
                      const MemOps *ops, void *opaque)
{
    if (bar < 0 || bar >= PCI_NUM_BARS || size == 0 || size > 0x80000000u)
        return;
    uint32_t min = io ? 4 : 16;
    uint32_t sz = min;
    while (sz < size)
        sz <<= 1;
    PCIBar *b = &d->bars[bar];
    pci_unmap_bar(d, b);
    *b = (PCIBar){ .size = sz, .io = io, .ops = ops, .opaque = opaque };
    uint32_t reg = PCI_BAR0 + 4 * bar;
    pci_set_long(d, reg, io ? 1u : 0u);
    pci_set_wmask_long(d, reg, io ? (~(sz - 1) & ~3u) : (~(sz - 1) & ~0xfu));
}

bool pci_register_bar_ram(PCIDevice *d, int bar, uint32_t size, uint8_t *host, uint64_t *log)
{
    /* The BAR decodes exactly size bytes: no rounding past the buffer. */
    if (bar < 0 || bar >= PCI_NUM_BARS || size < 4096 || size > 0x80000000u ||
        (size & (size - 1)) || !host || !log)
        return false;
    pci_register_bar(d, bar, size, false, NULL, NULL);
    d->bars[bar].ram = host;
    d->bars[bar].ram_log = log;
    return true;
}

/* ---- config cycles ---- */

uint32_t pci_default_config_read(PCIDevice *d, uint32_t addr, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)d->config[addr + i] << (8 * i);
    return v;
}

static bool ranges_touch(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

void pci_default_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                              unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        uint32_t a = addr + i;
        uint8_t v = (uint8_t)(val >> (8 * i));
        d->config[a] = (uint8_t)((d->config[a] & ~d->wmask[a]) | (v & d->wmask[a]));
        d->config[a] &= (uint8_t)~(v & d->w1cmask[a]);
    }
    if (ranges_touch(addr, size, PCI_COMMAND, 2) ||
        ranges_touch(addr, size, PCI_BAR0, 4 * PCI_NUM_BARS) ||
        ranges_touch(addr, size, PCI_ROM_ADDRESS, 4))
        pci_update_mappings(d);
    if (ranges_touch(addr, size, PCI_COMMAND + 1, 1))
        pci_update_irq(d);
}

static bool pci_access_ok(uint32_t addr, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && addr < 256 &&
           (addr & (size - 1)) == 0;
}

uint32_t pci_bus_config_read(PCIBus *bus, int devfn, uint32_t addr, unsigned size)
{
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (devfn < 0 || devfn > 255 || !pci_access_ok(addr, size))
        return ones;
    PCIDevice *d = bus->devs[devfn];
    if (!d)
        return ones;
    if (d->config_read)
        return d->config_read(d, addr, size) & ones;
    return pci_default_config_read(d, addr, size);
}

void pci_bus_config_write(PCIBus *bus, int devfn, uint32_t addr, uint32_t val,
                          unsigned size)
{
    if (devfn < 0 || devfn > 255 || !pci_access_ok(addr, size))
        return;
    PCIDevice *d = bus->devs[devfn];
    if (!d)
        return;
    if (d->config_write)
        d->config_write(d, addr, val, size);
    else
        pci_default_config_write(d, addr, val, size);
}

/* ---- per-function device record (reset, snapshot) ---- */

static void pci_function_reset(void *opaque)
{
    PCIDevice *d = opaque;
    pci_set_word(d, PCI_COMMAND, 0);
    pci_set_word(d, PCI_STATUS, d->cap_free ? PCI_STATUS_CAP_LIST : 0);
    d->config[PCI_CACHE_LINE_SIZE] = 0;
    d->config[PCI_LATENCY_TIMER] = 0;
    d->config[PCI_INTERRUPT_LINE] = 0;
    for (int i = 0; i < PCI_NUM_BARS; i++)
        if (d->bars[i].size)
            pci_set_long(d, PCI_BAR0 + 4 * i, d->bars[i].io ? 1u :
                         d->bars[i].prefetch ? 8u : 0u);
    pci_set_long(d, PCI_ROM_ADDRESS, 0);
    pci_update_mappings(d);
    /* The device model's own reset lowers its line; keep status honest. */
    if (d->irq_level)
        pci_set_word(d, PCI_STATUS, pci_get_word(d, PCI_STATUS) | PCI_STATUS_INTERRUPT);
}

static void pci_function_pre_save(void *opaque)
{
    PCIDevice *d = opaque;
    memcpy(d->load_config, d->config, sizeof(d->config));
}

static int pci_function_post_load(void *opaque, int version, char **err)
{
    PCIDevice *d = opaque;
    (void)version;
    /* Identity must match: a stream from another board layout is refused. */
    static const uint8_t ro[] = { 0, 1, 2, 3, 8, 9, 10, 11, 14, PCI_INTERRUPT_PIN };
    for (size_t i = 0; i < ARRAY_SIZE(ro); i++) {
        if (d->load_config[ro[i]] != d->config[ro[i]]) {
            set_error(err, "pci %s: saved config byte 0x%02x is 0x%02x, device has 0x%02x",
                      d->name, ro[i], d->load_config[ro[i]], d->config[ro[i]]);
            return -1;
        }
    }
    /* Only guest-writable bits come from the stream (plus the status bits
     * the device itself sets, which are w1c). */
    for (int a = 0; a < 256; a++) {
        uint8_t m = d->wmask[a] | d->w1cmask[a];
        d->config[a] = (uint8_t)((d->config[a] & ~m) | (d->load_config[a] & m));
    }
    uint16_t st = pci_get_word(d, PCI_STATUS);
    st = d->irq_level ? (st | PCI_STATUS_INTERRUPT) : (st & ~PCI_STATUS_INTERRUPT);
    pci_set_word(d, PCI_STATUS, st);
    pci_update_mappings(d);
    return 0;
}

static const VMField pci_function_fields[] = {
    VMF_BUFFER(load_config, PCIDevice),
    VMF_BOOL(irq_level, PCIDevice),
    VMF_END
};

static const VMStateDesc pci_function_vmsd = {
    .name = "pci-function", .version = 1, .min_version = 1,
    .fields = pci_function_fields,
    .pre_save = pci_function_pre_save,
    .post_load = pci_function_post_load,
};

/* Functions are freed by their bus (free == NULL here). */
static const DeviceOps pci_function_device_ops = {
    .name = "pci-fn", .reset = pci_function_reset, .vmsd = &pci_function_vmsd,
};

PCIDevice *pci_register_function(PCIBus *bus, int devfn, const PCIConfigInit *ids,
                                 const char *name, PCIConfigReadFn rd,
                                 PCIConfigWriteFn wr, void *opaque)
{
    if (devfn < 0 || devfn > 255 || bus->devs[devfn])
        return NULL;
    PCIDevice *d = xcalloc(1, sizeof(*d));
    d->bus = bus;
    d->devfn = devfn;
    snprintf(d->name, sizeof(d->name), "%s", name ? name : "pci");
    d->config_read = rd;
    d->config_write = wr;
    d->opaque = opaque;

    pci_set_word(d, PCI_VENDOR_ID, ids->vendor_id);
    pci_set_word(d, PCI_DEVICE_ID, ids->device_id);
    d->config[PCI_REVISION_ID] = ids->revision;
    d->config[PCI_CLASS_PROG] = (uint8_t)ids->class_code;
    pci_set_word(d, PCI_CLASS_DEVICE, (uint16_t)(ids->class_code >> 8));
    d->config[PCI_HEADER_TYPE] = ids->header_type;
    pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, ids->subsys_vendor_id);
    pci_set_word(d, PCI_SUBSYSTEM_ID, ids->subsys_id);
    d->config[PCI_INTERRUPT_PIN] = ids->int_pin <= 4 ? ids->int_pin : 0;

    pci_set_wmask_word(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                       PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                       PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    d->w1cmask[PCI_STATUS + 1] = 0xf9;   /* bits 15:11 and 8 */
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    /* Device-specific registers default to plain storage; models that
     * give them meaning install a config hook. */
    memset(d->wmask + 0x40, 0xff, 256 - 0x40);

    bus->devs[devfn] = d;
    machine_add_device(bus->m, &pci_function_device_ops, d);
    return d;
}

/* ---- bus ---- */

static void pci_bus_free(void *opaque)
{
    PCIBus *bus = opaque;
    /* The memory and IO maps are freed with the machine, regions too. */
    for (int i = 0; i < 256; i++) {
        if (bus->devs[i])
            free(bus->devs[i]->rom.data);
        free(bus->devs[i]);
    }
    free(bus);
}

static const DeviceOps pci_bus_device_ops = {
    .name = "pci-bus", .free = pci_bus_free,
};

PCIBus *pci_bus_new(Machine *m)
{
    PCIBus *bus = xcalloc(1, sizeof(*bus));
    bus->m = m;
    machine_add_device(m, &pci_bus_device_ops, bus);
    return bus;
}

Machine *pci_bus_machine(PCIBus *bus)
{
    return bus->m;
}

void pci_bus_set_pirq_router(PCIBus *bus, PCIPirqFn fn, void *opaque)
{
    bus->pirq_fn = fn;
    bus->pirq_opaque = opaque;
}

void pci_bus_set_msi_handler(PCIBus *bus, PCIMsiFn fn, void *opaque)
{
    bus->msi_fn = fn;
    bus->msi_opaque = opaque;
}

PCIDevice *pci_bus_find(PCIBus *bus, int devfn)
{
    return devfn >= 0 && devfn < 256 ? bus->devs[devfn] : NULL;
}

/* ---- capabilities and interrupt messages ---- */

void pci_set_wmask(PCIDevice *d, uint32_t addr, unsigned len, uint8_t mask)
{
    for (unsigned i = 0; i < len && addr + i < 256; i++)
        d->wmask[addr + i] = mask;
}

int pci_add_capability(PCIDevice *d, uint8_t id, unsigned size)
{
    unsigned off = d->cap_free ? d->cap_free : PCI_CAP_AREA_START;
    if (size < 2 || off + size > 256)
        return -1;
    /* Link: the last capability's next pointer (or 0x34) names this one. */
    uint32_t link = PCI_CAPABILITY_LIST;
    for (unsigned c = d->config[PCI_CAPABILITY_LIST]; c; c = d->config[c + 1])
        link = c + 1;
    d->config[link] = (uint8_t)off;
    memset(d->config + off, 0, size);
    pci_set_wmask(d, off, size, 0);
    d->config[off] = id;
    d->config[off + 1] = 0;
    d->cap_free = (uint16_t)((off + size + 3) & ~3u);
    pci_set_word(d, PCI_STATUS, pci_get_word(d, PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return (int)off;
}

int pci_find_capability(PCIDevice *d, uint8_t id)
{
    if (!(pci_get_word(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    /* At most 48 dword-aligned slots: a bound, so a loop cannot hang. */
    unsigned c = d->config[PCI_CAPABILITY_LIST] & ~3u;
    for (int n = 0; c >= PCI_CAP_AREA_START && n < 48; n++) {
        if (d->config[c] == id)
            return (int)c;
        c = d->config[c + 1] & ~3u;
    }
    return 0;
}

void pci_send_msi(PCIDevice *d, uint64_t addr, uint32_t data)
{
    if (!(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        LOG(LOG_GUEST_ERRORS, "pci %s: MSI with bus mastering disabled\n", d->name);
        return;
    }
    if ((addr & ~0xfffffULL) == PCI_MSI_ADDR_BASE) {
        if (d->bus->msi_fn)
            d->bus->msi_fn(d->bus->msi_opaque, addr, data);
        return;
    }
    uint8_t le[4] = { (uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
                      (uint8_t)(data >> 24) };
    (void)pci_dma_write(d, addr, le, 4);
}

/* ---- DMA ---- */

static uint8_t *pci_dma_ptr(PCIDevice *d, uint64_t addr, size_t len, bool for_write)
{
    if (!(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        LOG(LOG_GUEST_ERRORS, "pci %s: DMA with bus mastering disabled\n", d->name);
        return NULL;
    }
    uint8_t *p = memmap_host_ptr(d->bus->m->mem, addr, len, for_write);
    if (!p)
        LOG(LOG_GUEST_ERRORS, "pci %s: DMA to 0x%llx+%zu is not RAM\n", d->name,
            (unsigned long long)addr, len);
    return p;
}

bool pci_dma_read(PCIDevice *d, uint64_t addr, void *buf, size_t len)
{
    if (len == 0)
        return true;
    uint8_t *p = pci_dma_ptr(d, addr, len, false);
    if (!p)
        return false;
    memcpy(buf, p, len);
    return true;
}

bool pci_dma_write(PCIDevice *d, uint64_t addr, const void *buf, size_t len)
{
    if (len == 0)
        return true;
    if (!pci_dma_ptr(d, addr, len, true))
        return false;
    /* Through the map so the translator hears about code-page writes. */
    return memmap_write_buf(d->bus->m->mem, addr, buf, len);
}
