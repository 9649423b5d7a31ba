/*
 * The PC board.  See pc.h for the memory map.  ISA interrupts fan out to
 * the PIC pair (and, once the chipset is wired, the IOAPIC); the CPU's
 * INTR pin asks the interrupt controllers in priority order.
 */
#include "hw/pc/pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/monitor.h"
#include "core/replay.h"
#include "core/util.h"
#include "hw/pc/acpi.h"
#include "host/chardev.h"
#include "hw/fwcfg.h"
#include "hw/hpet.h"
#include "hw/i440fx.h"
#include "hw/ioapic.h"
#include "hw/lapic.h"
#include "hw/pci.h"
#include "hw/piix3.h"
#include "hw/piix-ide.h"
#include "block/drive.h"
#include "hw/debugcon.h"
#include "hw/debugexit.h"
#include "hw/testdev.h"
#include "hw/e1000.h"
#include "hw/fdc.h"
#include "hw/i8042.h"
#include "hw/i8237.h"
#include "hw/ps2.h"
#include "hw/i8254.h"
#include "hw/i8259.h"
#include "hw/pc/e820.h"
#include "hw/pc/linuxboot.h"
#include "hw/pc/linuxboot-rom.h"
#include "hw/pc/mptable.h"
#include "hw/mc146818.h"
#include "hw/port92.h"
#include "hw/uart16550.h"
#include "hw/vga.h"
#include "hw/scsi-disk.h"
#include "hw/virtio-balloon.h"
#include "hw/virtio-blk.h"
#include "hw/virtio-net.h"
#include "hw/virtio-pci.h"
#include "hw/virtio-rng.h"
#include "hw/virtio-scsi.h"
#include "hw/usb/uhci.h"
#include "hw/usb/usb-hid.h"
#include "hw/usb/usb-hub.h"
#include "hw/usb/xhci.h"
#include "hw/virtio-serial.h"
#include "net/net.h"

#define BIOS_MAX (16u << 20)
#define MAX_XHCI 4                /* -device qemu-xhci controllers */
#define MAX_USB_HUBS 4
#define ISA_BIOS_SIZE (128u << 10)
/* The top of low RAM a -kernel booted by the firmware stays out of. */
#define FIRMWARE_HIGH_ZONE (1u << 20)

/* One CPU's socket on the board: its local APIC and the APIC's output,
 * the CPU's INTR pin.  &cpu[i] is Machine.cpu_opaque[i]. */
typedef struct PCCpu {
    PCBoard *pc;
    int index;
    LAPICState *lapic;
    IRQLine intr;
} PCCpu;

struct PCBoard {
    Machine *m;
    PICState *pic;
    PITState *pit;
    RTCState *rtc;
    UARTState *uart;
    I8042State *kbc;
    Port92State *port92;
    CharDev *serial_chr, *debugcon_chr;
    bool serial_chr_owned, debugcon_chr_owned;  /* else one of chardevs[] */
    CharDev *chardevs[MAX_CHARDEVS];            /* -chardev, in option order */
    PCIBus *pci;
    bool monitor_moving;      /* a tray move is the monitor's (DEVICE_TRAY_MOVED) */
    I440FXState *host;
    PIIX3State *piix3;
    PIIXIDEState *ide;
    I8237State *dma;
    FDCState *fdc;
    BlockBackend *drive_bb[MAX_DRIVES];
    /* The drives whose medium the monitor can change (CD-ROMs: IDE or
     * scsi-cd), and the context their tray events come back with. */
    struct PCMedium {
        PCBoard *pc;
        int drive;
        IDEBus *ide;          /* an IDE CD at unit */
        int unit;
        SCSIDevice *scsi;     /* or a scsi-cd */
    } medium[MAX_DRIVES];
    /* Each drive's last failed guest request (BLOCK_IO_ERROR). */
    struct PCDriveError {
        PCBoard *pc;
        int drive;
        int err;              /* -errno */
        bool is_write;
    } drive_error[MAX_DRIVES];
    PCCpu cpu[MACHINE_MAX_CPUS];
    int ncpus;
    unsigned lowest_rr;       /* where lowest-priority ties start looking */
    IOAPICState *ioapic;
    HPETState *hpet;
    FWCfgState *fwcfg;
    VGAState *vga;
    VirtIOSCSI *scsi[MAX_DEVICES];            /* virtio-scsi-pci adapters, in option order */
    int nscsi;
    VirtIOBalloon *balloon;
    UHCIState *uhci;          /* -usb */
    XHCIState *xhci[MAX_XHCI];   /* -device qemu-xhci, in option order */
    char xhci_id[MAX_XHCI][32];
    int nxhci;
    USBHubState *hub[MAX_USB_HUBS];   /* -device usb-hub, with the controller it hangs off */
    const void *hub_bus[MAX_USB_HUBS];
    int nhubs;
    USBHIDState *usb_tablet, *usb_mouse, *usb_kbd;   /* the last of each kind: input goes there */
    /* Every network client (-netdev backends, then the NICs): set_link
     * finds them by id. */
    NetClient *net_clients[MAX_NETDEVS + MAX_NICS];
    int nnet_clients;
    IRQLine gsi[24];          /* 0-15: ISA lines to PIC and IOAPIC; 16-23: IOAPIC only */
    IRQLine pit_irq, rtc_irq; /* cut off while the HPET replaces them */
    bool hpet_legacy;
    IRQLine pic_out;          /* the PIC's INT output, to the BSP's LAPIC LINT0 */
    IRQLine a20_kbc, a20_port92; /* the two A20 gates, ORed onto m->a20 */
    uint8_t *bios;            /* -bios image, BIOS_MAX at most */
    size_t bios_size;
    const char *boot_order, *boot_once;   /* CMOS boot devices, see pc_boot_reset */
    int resets;
    bool firmware_kernel;     /* -kernel with -bios: the BIOS boots it (linuxboot-rom.S) */
};

/* ---- interrupts ---- */

/* GSI n: ISA IRQs reach the PIC and the IOAPIC (IRQ0 on IOAPIC pin 2,
 * as the MP table and the MADT override say); 16-23 the IOAPIC only. */
static void gsi_handler(void *opaque, int n, int level)
{
    PCBoard *pc = opaque;
    if (n < 16)
        irq_set(i8259_irq(pc->pic, n), level);
    irq_set(ioapic_irq(pc->ioapic, n == 0 ? 2 : n), level);
}

/* The PIT and RTC lines, unless the HPET's legacy replacement owns them. */
static void legacy_timer_irq(void *opaque, int n, int level)
{
    PCBoard *pc = opaque;
    if (!pc->hpet_legacy)
        irq_set(&pc->gsi[n], level);
}

static void hpet_legacy_changed(void *opaque, bool legacy)
{
    PCBoard *pc = opaque;
    pc->hpet_legacy = legacy;
}

/* The PIC's INT output drives the bootstrap processor's LINT0 only (the
 * MP spec's virtual wire: APs leave their LINT0 masked). */
static void pic_output_changed(void *opaque, int n, int level)
{
    PCBoard *pc = opaque;
    irq_set(lapic_lint0(pc->cpu[0].lapic), level);
}

/* CPU n's INTR pin (its LAPIC's output) rose: make it look at its
 * interrupt pins at its next block boundary, or wake it from HLT. */
static void cpu_intr_changed(void *opaque, int n, int level)
{
    PCCpu *c = opaque;
    if (level)
        machine_cpu_kick(c->pc->m, c->index);
}

/* ---- the APIC bus: IPIs, IOAPIC redirections and MSIs ---- */

/* Lowest-priority delivery (SDM 3A 10.6.2.4): of the APICs the
 * destination selects, the one with the lowest priority; ties go round
 * the CPUs so no one of them takes them all. */
static int lowest_priority_target(PCBoard *pc, const bool *sel)
{
    int best = -1;
    uint32_t best_pri = 0;
    for (int k = 0; k < pc->ncpus; k++) {
        int i = (int)((pc->lowest_rr + 1 + (unsigned)k) % (unsigned)pc->ncpus);
        uint32_t pri = sel[i] ? lapic_arb_priority(pc->cpu[i].lapic) : 0;
        if (sel[i] && (best < 0 || pri < best_pri)) {
            best = i;
            best_pri = pri;
        }
    }
    if (best >= 0)
        pc->lowest_rr = (unsigned)best;
    return best;
}

/* Delivers a message to the APICs it selects: shorthand 0 (dest and
 * logical decide), 1 self, 2 all including self, 3 all excluding self
 * (src: the sending APIC's CPU, -1 for the IOAPIC and MSIs).  NMI, INIT
 * and SIPI kick their CPU: they are not INTR. */
static void apic_bus_send(PCBoard *pc, int src, uint32_t dest, bool logical, int shorthand,
                          int mode, int vector, bool level)
{
    bool sel[MACHINE_MAX_CPUS] = { false };
    int nsel = 0;
    for (int i = 0; i < pc->ncpus; i++) {
        switch (shorthand) {
        case 1: sel[i] = i == src; break;
        case 2: sel[i] = true; break;
        case 3: sel[i] = i != src; break;
        default: sel[i] = lapic_match_dest(pc->cpu[i].lapic, dest, logical); break;
        }
        nsel += sel[i];
    }
    if (mode == APIC_DM_LOWEST && nsel > 1) {
        int t = lowest_priority_target(pc, sel);
        memset(sel, 0, sizeof sel);
        sel[t] = true;
    }
    for (int i = 0; i < pc->ncpus; i++) {
        if (!sel[i])
            continue;
        lapic_deliver(pc->cpu[i].lapic, mode, vector, level);
        if (mode == APIC_DM_NMI || mode == APIC_DM_INIT || mode == APIC_DM_SIPI)
            machine_cpu_kick(pc->m, i);
    }
}

/* An IPI from CPU src's ICR (lapic.h, LAPICIPIFn). */
static void lapic_ipi(void *opaque, LAPICState *src, uint32_t dest, uint32_t lo)
{
    PCBoard *pc = opaque;
    int from = -1;
    for (int i = 0; i < pc->ncpus; i++)
        if (pc->cpu[i].lapic == src)
            from = i;
    apic_bus_send(pc, from, dest, (lo >> 11) & 1, (int)((lo >> 18) & 3), (int)((lo >> 8) & 7),
                  (int)(lo & 0xff), (lo >> 15) & 1);
}

static void ioapic_to_lapic(void *opaque, int dest, int vector, int mode, bool level)
{
    PCBoard *pc = opaque;
    apic_bus_send(pc, -1, (uint32_t)dest & 0xff, dest & IOAPIC_DEST_LOGICAL, 0, mode, vector,
                  level);
}

/* PCI interrupt messages (MSI, MSI-X) to the local APICs they name. */
static void pci_msi_to_lapic(void *opaque, uint64_t addr, uint32_t data)
{
    PCBoard *pc = opaque;
    uint32_t dest;
    bool logical;
    int mode, vector;
    if (lapic_parse_msi(addr, data, &dest, &logical, &mode, &vector))
        apic_bus_send(pc, -1, dest, logical, 0, mode, vector, false);
}

static void lapic_eoi_to_ioapic(void *opaque, int vector)
{
    PCBoard *pc = opaque;
    ioapic_eoi(pc->ioapic, vector);
}

/* ---- the CPU socket (CPUBoardOps); opaque is the CPU's PCCpu.  A vCPU
 * thread calls these: each takes the machine's I/O lock. ---- */

static bool pc_intr_pending(void *opaque)
{
    PCCpu *c = opaque;
    machine_io_lock(c->pc->m);
    bool r = lapic_has_interrupt(c->lapic) ||
             (c->index == 0 && lapic_lint0_extint(c->lapic) && i8259_has_interrupt(c->pc->pic));
    machine_io_unlock(c->pc->m);
    return r;
}

/* INTA: an APIC vector first, else (the BSP) the PIC through the LINT0
 * virtual wire. */
static int pc_intr_ack(void *opaque)
{
    PCCpu *c = opaque;
    machine_io_lock(c->pc->m);
    int v;
    if (lapic_has_interrupt(c->lapic) || c->index != 0)
        v = lapic_ack_interrupt(c->lapic);
    else
        v = i8259_ack(c->pc->pic);
    machine_io_unlock(c->pc->m);
    return v;
}

/* The local APIC's MSRs (APIC_BASE, TSC_DEADLINE, x2APIC range). */
static int pc_board_msr(void *opaque, uint32_t msr, bool write, uint64_t *val)
{
    PCCpu *c = opaque;
    if (msr != MSR_IA32_APIC_BASE && msr != MSR_IA32_TSC_DEADLINE &&
        (msr < 0x800 || msr > 0x8ff))
        return 0;
    machine_io_lock(c->pc->m);
    int r;
    if (write) {
        r = lapic_msr_write(c->lapic, msr, *val) ? 1 : -1;
    } else {
        bool ok;
        *val = lapic_msr_read(c->lapic, msr, &ok);
        r = ok ? 1 : -1;
    }
    machine_io_unlock(c->pc->m);
    return r;
}

static unsigned pc_take_events(void *opaque, int *sipi_vector)
{
    PCCpu *c = opaque;
    unsigned ev = 0;
    machine_io_lock(c->pc->m);
    if (lapic_take_nmi(c->lapic))
        ev |= CPU_EVENT_NMI;
    /* A SIPI that followed the INIT at once is taken with it (the INIT's
     * register reset must not drop it). */
    int v = lapic_take_sipi(c->lapic);
    if (lapic_take_init(c->lapic)) {
        ev |= CPU_EVENT_INIT;
        lapic_init_reset(c->lapic);
    }
    if (v >= 0) {
        ev |= CPU_EVENT_SIPI;
        *sipi_vector = v;
    }
    if (lapic_waits_for_sipi(c->lapic))
        ev |= CPU_EVENT_WAIT_SIPI;
    machine_io_unlock(c->pc->m);
    return ev;
}

static const CPUBoardOps pc_cpu_ops = {
    .intr_pending = pc_intr_pending,
    .intr_ack = pc_intr_ack,
    .msr = pc_board_msr,
    .take_events = pc_take_events,
};

/* With several CPUs they share the xAPIC page at 0xfee00000 (no
 * relocation then): an access goes to the APIC of the CPU making it. */
static LAPICState *current_lapic(PCBoard *pc)
{
    int i = machine_current_cpu();
    return pc->cpu[i >= 0 && i < pc->ncpus ? i : 0].lapic;
}

static uint64_t lapic_page_read(void *opaque, uint64_t off, unsigned size)
{
    LAPICState *l = current_lapic(opaque);
    return lapic_mmio_enabled(l) ? lapic_mmio_read(l, (uint32_t)off) : 0xffffffffu;
}

static void lapic_page_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    LAPICState *l = current_lapic(opaque);
    if (lapic_mmio_enabled(l))
        lapic_mmio_write(l, (uint32_t)off, (uint32_t)val);
}

static const MemOps lapic_page_ops = {
    .read = lapic_page_read, .write = lapic_page_write, .min_size = 4, .max_size = 4,
};

/* ---- A20 ---- */

/* Either gate's line changed: the CPU's A20 input is their OR. */
static void a20_gate_changed(void *opaque, int n, int level)
{
    PCBoard *pc = opaque;
    irq_set(&pc->m->a20, pc_a20_enabled(pc));
}

bool pc_a20_enabled(PCBoard *pc)
{
    return pc->a20_kbc.level || pc->a20_port92.level;
}


/* ---- memory ---- */

static bool map_ram(PCBoard *pc, const char *bios, char *err, size_t len)
{
    Machine *m = pc->m;
    uint64_t ram = m->ram_size;
    uint64_t below = ram < PC_LOW_RAM_END ? ram : PC_LOW_RAM_END;
    char *e = NULL;
    bool ok = memmap_add_ram(m->mem, "ram-low", 0, MIN(below, 0xa0000), m->ram, &e) != NULL;
    /* Without a BIOS image the firmware area is plain RAM (the direct
     * Linux boot path puts its MP/ACPI tables there). */
    if (ok && !bios && below > 0xc0000)
        ok = memmap_add_ram(m->mem, "ram-fw", 0xc0000, MIN(below, 0x100000) - 0xc0000,
                            m->ram + 0xc0000, &e) != NULL;
    if (ok && below > 0x100000)
        ok = memmap_add_ram(m->mem, "ram", 0x100000, below - 0x100000,
                            m->ram + 0x100000, &e) != NULL;
    if (ok && ram > below)
        ok = memmap_add_ram(m->mem, "ram-high", 1ULL << 32, ram - below,
                            m->ram + below, &e) != NULL;
    if (!ok) {
        snprintf(err, len, "-m: %s", e ? e : "cannot map RAM");
        free(e);
    }
    return ok;
}

static bool load_bios(PCBoard *pc, const char *path, bool is_default, char *err, size_t len)
{
    char rerr[256];
    size_t size;
    uint8_t *img = read_file(path, &size, rerr, sizeof rerr);
    if (!img) {
        if (is_default)
            snprintf(err, len, "no firmware: %s (the default BIOS: install Debian's "
                     "seabios package, or give -bios FILE or -kernel FILE)", rerr);
        else
            snprintf(err, len, "-bios: %s", rerr);
        return false;
    }
    if (size == 0 || size > BIOS_MAX || size % 4096) {
        snprintf(err, len, "-bios: %s: size %zu is not a multiple of 4 KiB up to %u MiB",
                 path, size, BIOS_MAX >> 20);
        free(img);
        return false;
    }
    /* Page-aligned copy: accelerators map it into the guest (KVM slots
     * need page-aligned host memory). */
    if (posix_memalign((void **)&pc->bios, 4096, size)) {
        snprintf(err, len, "-bios: out of memory for %zu bytes", size);
        free(img);
        return false;
    }
    memcpy(pc->bios, img, size);
    free(img);
    img = pc->bios;
    pc->bios_size = size;
    char *e = NULL;
    size_t isa = MIN(size, (size_t)ISA_BIOS_SIZE);
    /* The image ends at 4 GiB (the reset vector is its last 16 bytes) and
     * its last 128 KiB are also visible below 1 MiB. */
    if (!memmap_add_rom(pc->m->mem, "bios", (1ULL << 32) - size, size, img, &e) ||
        !memmap_add_rom(pc->m->mem, "isa-bios", 0x100000 - isa, isa, img + size - isa, &e)) {
        snprintf(err, len, "-bios: %s", e ? e : "cannot map the image");
        free(e);
        return false;
    }
    return true;
}

/* ---- firmware configuration: fw_cfg and CMOS, as QEMU's pc fills them ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/* CMOS 0x3d (first device in bits 3:0, second in 7:4) and 0x38 bits 7:4
 * (third): 1 floppy, 2 hard disk, 3 CD-ROM, 4 network.  SeaBIOS orders
 * its boot menu by them when no bootorder file names a device. */
static void set_cmos_boot_order(PCBoard *pc, const char *order)
{
    uint8_t code[3] = { 0, 0, 0 };
    for (int i = 0; i < 3 && order[i]; i++) {
        switch (order[i]) {
        case 'a': code[i] = 1; break;
        case 'c': code[i] = 2; break;
        case 'd': code[i] = 3; break;
        case 'n': code[i] = 4; break;
        default: break;
        }
    }
    mc146818_set_cmos(pc->rtc, 0x3d, (uint8_t)(code[1] << 4 | code[0]));
    mc146818_set_cmos(pc->rtc, 0x38, (uint8_t)(code[2] << 4));
}

/* -boot once= applies to the first boot; every later reset goes back to
 * order= (QEMU's rule).  A board "device" so it runs with every reset,
 * after the RTC's. */
static void pc_boot_reset(void *opaque)
{
    PCBoard *pc = opaque;
    const char *o = pc->resets++ == 0 && pc->boot_once[0] ? pc->boot_once : pc->boot_order;
    set_cmos_boot_order(pc, o);
}

static const DeviceOps pc_boot_ops = { .name = "pc-boot", .reset = pc_boot_reset };

/* What SeaBIOS (and QEMU's other firmware) read from fw_cfg on a pc
 * machine: the numbered items (QEMU's numbers, little-endian) and the
 * named files.  ACPI, MP and SMBIOS tables: SeaBIOS builds its own when
 * there is no etc/table-loader (docs/devices-chipset.md). */
static bool setup_fwcfg(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    FWCfgState *fw = pc->fwcfg;
    Machine *m = pc->m;
    /* The CPUs present (SeaBIOS waits for that many to answer its
     * start-up IPI: NB_CPUS, CMOS 0x5f + 1, etc/boot-cpus) and the APIC ID
     * limit (MAX_CPUS, "etc/max-cpus" to SeaBIOS). */
    int ncpus = pc->ncpus;
    int maxcpus = o->smp_maxcpus > ncpus ? o->smp_maxcpus : ncpus;
    uint8_t boot_cpus[2] = { (uint8_t)ncpus, (uint8_t)(ncpus >> 8) };
    bool ok = fwcfg_add_i64(fw, FW_CFG_RAM_SIZE, m->ram_size) &&
              fwcfg_add_i16(fw, FW_CFG_NOGRAPHIC, o->nographic) &&
              fwcfg_add_i16(fw, FW_CFG_NB_CPUS, (uint16_t)ncpus) &&
              fwcfg_add_i16(fw, FW_CFG_MAX_CPUS, (uint16_t)maxcpus) &&
              fwcfg_add_i16(fw, FW_CFG_BOOT_MENU, o->boot_menu) &&
              fwcfg_add_file(fw, "etc/boot-cpus", boot_cpus, sizeof boot_cpus) >= 0;
    mc146818_set_cmos(pc->rtc, 0x5f, (uint8_t)(ncpus - 1));
    /* NUMA: node count (0), then a node per APIC ID and a size per node. */
    uint8_t numa[8 * (1 + MACHINE_MAX_CPUS)] = { 0 };
    ok = ok && fwcfg_add_bytes(fw, FW_CFG_NUMA, numa, 8 * (1 + (size_t)maxcpus));
    /* Legacy arch-local items: no -acpitable blobs (count 0), IRQ0 is
     * overridden to GSI 2, an empty reservations-only e820 table. */
    uint8_t acpi_tables[2] = { 0, 0 };
    ok = ok && fwcfg_add_bytes(fw, FW_CFG_ACPI_TABLES, acpi_tables, sizeof acpi_tables) &&
         fwcfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 1);
    uint8_t e820_legacy[4 + 16 * 20] = { 0 };
    ok = ok && fwcfg_add_bytes(fw, FW_CFG_E820_TABLE, e820_legacy, sizeof e820_legacy);
    /* etc/e820: the RAM ranges, 20-byte little-endian entries. */
    uint64_t low = e820_pc_low_ram(m->ram_size), high = e820_pc_high_ram(m->ram_size);
    uint8_t e820[2 * 20] = { 0 };
    size_t n = 0;
    put_le64(e820, 0);
    put_le64(e820 + 8, low);
    put_le32(e820 + 16, E820_RAM);
    n += 20;
    if (high) {
        put_le64(e820 + n, E820_PC_4G);
        put_le64(e820 + n + 8, high);
        put_le32(e820 + n + 16, E820_RAM);
        n += 20;
    }
    ok = ok && fwcfg_add_file(fw, "etc/e820", e820, n) >= 0;
    /* No device has a bootindex yet: an empty bootorder file, so the
     * CMOS order (-boot order=) decides; a -kernel the firmware boots
     * comes first through its option ROM, as in QEMU. */
    if (pc->firmware_kernel) {
        size_t rlen;
        uint8_t *rom = linuxboot_rom_image(&rlen);
        ok = ok && fwcfg_add_file(fw, LINUXBOOT_ROM_FILE, rom, rlen) >= 0 &&
             fwcfg_add_file(fw, "bootorder", LINUXBOOT_ROM_BOOTORDER,
                            strlen(LINUXBOOT_ROM_BOOTORDER)) >= 0;
        free(rom);
    } else {
        ok = ok && fwcfg_add_file(fw, "bootorder", "", 0) >= 0;
    }
    if (!ok)
        snprintf(err, len, "board: cannot fill fw_cfg");
    return ok;
}

/* ---- direct Linux boot ---- */

/* What SeaBIOS does for INTx when it boots a PC: PIRQA..D steered to ISA
 * IRQs 10, 10, 11, 11 in the PIIX3, every function's interrupt line set.
 * A direct boot has no firmware, so the board does it and lists the
 * routes (slot, pin -> IOAPIC pin) for the MP table; functions of the
 * chipset slot 1 use legacy ISA IRQs and are left out.  Returns the
 * number of routes written. */
static const uint8_t pirq_isa_irq[PCI_NUM_PIRQS] = { 10, 10, 11, 11 };

static int route_pci_intx(PCBoard *pc, MPTablePciIrq *out, int max)
{
    for (int n = 0; n < PCI_NUM_PIRQS; n++)
        pci_bus_config_write(pc->pci, PCI_DEVFN(1, 0), PIIX3_PIRQRC + (uint32_t)n,
                             pirq_isa_irq[n], 1);
    int count = 0;
    for (int slot = 2; slot < 32; slot++) {
        bool pin_done[4] = { false };
        for (int fn = 0; fn < 8; fn++) {
            PCIDevice *d = pci_bus_find(pc->pci, PCI_DEVFN(slot, fn));
            int pirq = d ? pci_device_pirq(d) : -1;
            if (pirq < 0)
                continue;
            int pin = d->config[PCI_INTERRUPT_PIN] - 1;
            d->config[PCI_INTERRUPT_LINE] = pirq_isa_irq[pirq];
            if (pin_done[pin] || count == max)
                continue;
            pin_done[pin] = true;
            out[count++] = (MPTablePciIrq){ .slot = (uint8_t)slot, .pin = (uint8_t)pin,
                                            .ioapic_pin = pirq_isa_irq[pirq] };
        }
    }
    return count;
}

/* A BAR's size from the bits that stay zero when all ones are written
 * (the PCI sizing protocol); 0 for an unimplemented BAR. */
static uint32_t pci_bar_size(PCBoard *pc, int devfn, uint32_t reg, bool io)
{
    uint32_t old = pci_bus_config_read(pc->pci, devfn, reg, 4);
    pci_bus_config_write(pc->pci, devfn, reg, 0xffffffffu, 4);
    uint32_t probe = pci_bus_config_read(pc->pci, devfn, reg, 4);
    pci_bus_config_write(pc->pci, devfn, reg, old, 4);
    probe &= io ? ~0x3u : ~0xfu;
    return probe ? ~probe + 1 : 0;
}

/* What SeaBIOS does for BARs when it boots a PC: every I/O BAR from
 * 0xc000 up and every memory BAR in the 32-bit PCI window (largest first
 * would pack better; natural alignment is what matters), decoding turned
 * on.  A direct boot has no firmware, and a kernel that does not take the
 * DSDT's root-bridge windows (pci=noacpi) would otherwise place BARs over
 * the IOAPIC or find no I/O space. */
static void assign_pci_bars(PCBoard *pc, uint32_t mmio_start, uint32_t mmio_end)
{
    uint32_t io = 0xc000, mem = mmio_start;
    for (int devfn = PCI_DEVFN(2, 0); devfn < 256; devfn++) {
        PCIDevice *d = pci_bus_find(pc->pci, devfn);
        if (!d)
            continue;
        uint16_t cmd = 0;
        for (int bar = 0; bar < PCI_NUM_BARS; bar++) {
            uint32_t reg = PCI_BAR0 + 4u * (uint32_t)bar;
            uint32_t v = pci_bus_config_read(pc->pci, devfn, reg, 4);
            bool is_io = v & 1, is64 = !is_io && ((v >> 1) & 3) == 2;
            uint32_t size = pci_bar_size(pc, devfn, reg, is_io);
            if (size) {
                uint32_t *next = is_io ? &io : &mem;
                uint32_t base = (*next + size - 1) & ~(size - 1);
                uint32_t limit = is_io ? 0x10000u : mmio_end + 1u;
                if (base >= *next && base - 1u + size < limit) {   /* fits, no wrap */
                    pci_bus_config_write(pc->pci, devfn, reg, base, 4);
                    *next = base + size;
                    cmd |= is_io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
                }
            }
            if (is64)
                bar++;                          /* the high half stays 0: below 4 GiB */
        }
        if (cmd)
            pci_bus_config_write(pc->pci, devfn, PCI_COMMAND,
                                 pci_bus_config_read(pc->pci, devfn, PCI_COMMAND, 2) | cmd, 2);
    }
}

bool pc_load_linux(PCBoard *pc, const VMOptions *o, LinuxBootEntry *entry,
                   char *err, size_t errlen)
{
    E820Map map;
    e820_build_pc(&map, pc->m->ram_size);
    if (linuxboot_load(pc->m, o->kernel, o->initrd, o->append ? o->append : "",
                       &map, entry, err, errlen) < 0)
        return false;
    int ncpus = pc->m->ncpus ? pc->m->ncpus : 1;
    /* No firmware runs: leave the BSP's LAPIC as a BIOS would, in virtual
     * wire mode, so the PIC reaches the CPU until Linux sets up the APIC. */
    lapic_set_virtual_wire(pc->cpu[0].lapic);
    /* The MP table for kernels without ACPI, the ACPI tables (MADT, FADT
     * with the PIIX PM block, so poweroff works) for the others.  Both sit
     * in the firmware area, which the e820 map keeps out of RAM. */
    MPTablePciIrq routes[64];
    MPTableConfig mc = { .ioapic_id = -1, .pci = true, .pci_irqs = routes };
    mc.n_pci_irqs = route_pci_intx(pc, routes, (int)ARRAY_SIZE(routes));
    assign_pci_bars(pc, (uint32_t)e820_pc_low_ram(pc->m->ram_size), 0xfebfffffu);
    uint8_t mp[2048];
    size_t n = mptable_build(mp, sizeof mp, 0xf0000, ncpus, &mc);
    if (!n || !memmap_load_buf(pc->m->mem, 0xf0000, mp, n)) {
        snprintf(err, errlen, "-kernel: cannot place the MP table at 0xf0000");
        return false;
    }
    AcpiConfig ac;
    acpi_config_default(&ac, ncpus);
    ac.pm_base = piix3_pm_base(pc->piix3);
    ac.hpet_block_id = hpet_block_id();
    ac.pci_mmio_start = (uint32_t)e820_pc_low_ram(pc->m->ram_size);
    AcpiTables *t = acpi_build_tables(&ac);
    char *e = NULL;
    bool ok = t && acpi_tables_install(t, pc->m->mem, 0xe0000, 0xf8000, &e);
    if (ok)
        ok = linuxboot_set_acpi_rsdp(pc->m, 0xf8000);
    if (!ok)
        snprintf(err, errlen, "-kernel: cannot install the ACPI tables: %s", e ? e : "no room");
    free(e);
    acpi_tables_free(t);
    return ok;
}

/* -kernel with -bios: the parts go where the option ROM will copy them
 * back from fw_cfg (the RAM copy only gives fill_fwcfg_kernel its bytes);
 * the firmware builds the tables and sets up the chipset.  The initrd stays
 * out of the top 1 MiB of low RAM, where SeaBIOS keeps its tables and
 * allocations (the kernel refuses an initrd inside reserved e820 ranges). */
static bool load_linux_for_firmware(PCBoard *pc, const VMOptions *o, LinuxBootEntry *entry,
                                    char *err, size_t errlen)
{
    E820Map map;
    e820_build_pc(&map, pc->m->ram_size);
    uint64_t low = e820_pc_low_ram(pc->m->ram_size);
    if (!e820_add(&map, low - FIRMWARE_HIGH_ZONE, FIRMWARE_HIGH_ZONE, E820_RESERVED) ||
        !e820_sanitize(&map)) {
        snprintf(err, errlen, "-kernel: cannot reserve the firmware's memory");
        return false;
    }
    return linuxboot_load(pc->m, o->kernel, o->initrd, o->append ? o->append : "",
                          &map, entry, err, errlen) == 0;
}

/* ---- -kernel: Linux or Multiboot, and fw_cfg's legacy kernel items ---- */

/* fw_cfg item key with the bytes of guest RAM [addr, addr + len), if they
 * are RAM. */
static bool fwcfg_add_guest(PCBoard *pc, uint16_t key, uint64_t addr, uint64_t len)
{
    if (!len)
        return fwcfg_add_bytes(pc->fwcfg, key, "", 0);
    uint8_t *buf = malloc(len);
    bool ok = buf && memmap_read_buf(pc->m->mem, addr, buf, len) &&
              fwcfg_add_bytes(pc->fwcfg, key, buf, len);
    free(buf);
    return ok;
}

/* QEMU's numbered items for a -kernel (FW_CFG_KERNEL_ADDR .. SETUP_DATA,
 * keys 0x07-0x18): where each part is and its bytes, for firmware that
 * loads the kernel itself.  vx86 has already put them in RAM; the items
 * describe that placement.  Linux: kernel = the protected-mode part at
 * 1 MiB, setup = the real-mode sectors with the loader fields filled in
 * (QEMU's real-mode address 0x10000), cmdline at 0x20000, the initrd.
 * Multiboot (as QEMU's multiboot option ROM reads them): kernel = the
 * loaded image with its entry point, "initrd" = the info structure. */
/* A vga= on the command line, for the setup code's vid_mode field (boot
 * protocol: 0xffff normal, 0xfffe ext, 0xfffd ask, else a mode number),
 * as boot loaders pass it: the setup code then sets the mode through the
 * BIOS.  False when there is none or it is not a number. */
static bool cmdline_vid_mode(const char *cmdline, uint16_t *mode)
{
    static const struct { const char *name; uint16_t mode; } names[] = {
        { "normal", 0xffff }, { "ext", 0xfffe }, { "ask", 0xfffd },
    };
    for (const char *p = cmdline; (p = strstr(p, "vga=")); p += 4) {
        if (p != cmdline && p[-1] != ' ')
            continue;
        const char *v = p + 4;
        size_t n = strcspn(v, " ");
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            if (n == strlen(names[i].name) && !strncmp(v, names[i].name, n)) {
                *mode = names[i].mode;
                return true;
            }
        }
        char *end;
        unsigned long m = strtoul(v, &end, 0);
        if (end == v + n && n && m <= 0xffff) {
            *mode = (uint16_t)m;
            return true;
        }
        return false;
    }
    return false;
}

static bool fill_fwcfg_kernel(PCBoard *pc, const VMOptions *o, const PCBootEntry *e,
                              const uint8_t *image, size_t image_len)
{
    FWCfgState *fw = pc->fwcfg;
    const char *cmdline = o->append ? o->append : "";
    uint32_t cmdlen = (uint32_t)strlen(cmdline) + 1;
    bool ok = fwcfg_add_i32(fw, FW_CFG_CMDLINE_SIZE, cmdlen) &&
              fwcfg_add_bytes(fw, FW_CFG_CMDLINE_DATA, cmdline, cmdlen);
    if (e->multiboot) {
        const MultibootEntry *mb = &e->mb;
        uint32_t size = mb->load_end - mb->load_start;
        return ok && fwcfg_add_i32(fw, FW_CFG_KERNEL_ADDR, mb->load_start) &&
               fwcfg_add_i32(fw, FW_CFG_KERNEL_SIZE, size) &&
               fwcfg_add_i32(fw, FW_CFG_KERNEL_ENTRY, mb->entry) &&
               fwcfg_add_guest(pc, FW_CFG_KERNEL_DATA, mb->load_start, size) &&
               fwcfg_add_i32(fw, FW_CFG_CMDLINE_ADDR, 0) &&
               fwcfg_add_i32(fw, FW_CFG_INITRD_ADDR, mb->info) &&
               fwcfg_add_i32(fw, FW_CFG_INITRD_SIZE, 88) &&
               fwcfg_add_guest(pc, FW_CFG_INITRD_DATA, mb->info, 88);
    }
    const LinuxBootEntry *le = &e->linux_entry;
    /* The setup sectors: (setup_sects or 4, + 1) x 512 bytes. */
    size_t setup = ((image_len > 0x1f1 && image[0x1f1] ? image[0x1f1] : 4) + 1) * 512u;
    setup = MIN(setup, image_len);
    uint8_t *sbuf = xmalloc(setup ? setup : 1);
    memcpy(sbuf, image, setup);
    if (setup >= 0x230) {
        sbuf[0x210] = 0xff;                                  /* type_of_loader */
        sbuf[0x211] |= 0x80;                                 /* CAN_USE_HEAP */
        put_le32(sbuf + 0x218, (uint32_t)le->initrd_addr);   /* ramdisk_image */
        put_le32(sbuf + 0x21c, (uint32_t)le->initrd_size);
        sbuf[0x224] = 0x00, sbuf[0x225] = 0xfe;              /* heap_end_ptr 0xfe00 */
        put_le32(sbuf + 0x228, (uint32_t)le->cmdline_addr);  /* cmd_line_ptr */
        uint16_t mode;
        if (cmdline_vid_mode(cmdline, &mode))
            sbuf[0x1fa] = (uint8_t)mode, sbuf[0x1fb] = (uint8_t)(mode >> 8);   /* vid_mode */
    }
    ok = ok && fwcfg_add_i32(fw, FW_CFG_SETUP_ADDR, 0x10000) &&
         fwcfg_add_i32(fw, FW_CFG_SETUP_SIZE, (uint32_t)setup) &&
         fwcfg_add_bytes(fw, FW_CFG_SETUP_DATA, sbuf, setup);
    free(sbuf);
    return ok && fwcfg_add_i32(fw, FW_CFG_KERNEL_ADDR, (uint32_t)le->kernel_addr) &&
           fwcfg_add_i32(fw, FW_CFG_KERNEL_SIZE, (uint32_t)le->kernel_size) &&
           fwcfg_add_guest(pc, FW_CFG_KERNEL_DATA, le->kernel_addr, le->kernel_size) &&
           fwcfg_add_i32(fw, FW_CFG_CMDLINE_ADDR, (uint32_t)le->cmdline_addr) &&
           fwcfg_add_i32(fw, FW_CFG_INITRD_ADDR, (uint32_t)le->initrd_addr) &&
           fwcfg_add_i32(fw, FW_CFG_INITRD_SIZE, (uint32_t)le->initrd_size) &&
           fwcfg_add_guest(pc, FW_CFG_INITRD_DATA, le->initrd_addr, le->initrd_size);
}

bool pc_load_kernel(PCBoard *pc, const VMOptions *o, PCBootEntry *entry, char *err,
                    size_t errlen)
{
    char rerr[256];
    size_t len;
    uint8_t *img = read_file(o->kernel, &len, rerr, sizeof rerr);
    if (!img) {
        snprintf(err, errlen, "-kernel: %s", rerr);
        return false;
    }
    memset(entry, 0, sizeof(*entry));
    entry->by_firmware = pc->firmware_kernel;
    bool bzimage = len >= 0x206 && !memcmp(img + 0x202, "HdrS", 4);
    entry->multiboot = !bzimage && multiboot_probe(img, len, NULL);
    bool ok;
    if (entry->multiboot && pc->firmware_kernel) {
        snprintf(err, errlen, "-kernel: %s is a Multiboot kernel, which vx86 boots only "
                 "directly: drop -bios", o->kernel);
        ok = false;
    } else if (entry->multiboot) {
        E820Map map;
        e820_build_pc(&map, pc->m->ram_size);
        ok = multiboot_load(pc->m, o->kernel, o->initrd, o->append ? o->append : "", &map,
                            &entry->mb, err, errlen) == 0;
        if (ok) {
            /* No firmware runs: the LAPIC in virtual wire mode, as a BIOS leaves it. */
            lapic_set_virtual_wire(pc->cpu[0].lapic);
        }
    } else if (o->initrd && access(o->initrd, R_OK) < 0) {
        snprintf(err, errlen, "-initrd: a list of modules needs a Multiboot kernel (%s has "
                 "no Multiboot header)", o->kernel);
        ok = false;
    } else if (pc->firmware_kernel) {
        ok = load_linux_for_firmware(pc, o, &entry->linux_entry, err, errlen);
    } else {
        ok = pc_load_linux(pc, o, &entry->linux_entry, err, errlen);
    }
    if (ok && !fill_fwcfg_kernel(pc, o, entry, img, len)) {
        snprintf(err, errlen, "-kernel: cannot fill fw_cfg's kernel items");
        ok = false;
    }
    free(img);
    return ok;
}

void pc_boot_entry_state(const PCBootEntry *entry, X86ArchState *s)
{
    if (entry->by_firmware)
        return;     /* the CPU starts at RESET in the BIOS */
    if (entry->multiboot)
        multiboot_entry_state(&entry->mb, s);
    else
        linuxboot_entry_state(&entry->linux_entry, s);
}

/* ---- character backends ---- */

/* The -chardev named id (opened by open_named_chardevs). */
static CharDev *named_chardev(PCBoard *pc, const VMOptions *o, const char *id)
{
    const ChardevOpt *d = id ? options_find_chardev(o, id) : NULL;
    return d ? pc->chardevs[d - o->chardevs] : NULL;
}

static bool open_named_chardevs(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    for (int i = 0; i < o->nchardevs; i++) {
        char cerr[512];
        pc->chardevs[i] = chardev_open_opt(&o->chardevs[i], cerr, sizeof cerr);
        if (!pc->chardevs[i]) {
            snprintf(err, len, "-chardev %s: %s", o->chardevs[i].id, cerr);
            return false;
        }
    }
    return true;
}

static CharDev *open_chardev(SerialKind kind, const char *path, const char *opt,
                             char *err, size_t len)
{
    char spec[4096], cerr[256];
    switch (kind) {
    case SERIAL_STDIO: snprintf(spec, sizeof spec, "stdio"); break;
    case SERIAL_FILE: snprintf(spec, sizeof spec, "file:%s", path); break;
    default: snprintf(spec, sizeof spec, "none"); break;
    }
    CharDev *c = chardev_open(spec, cerr, sizeof cerr);
    if (!c)
        snprintf(err, len, "%s: %s", opt, cerr);
    return c;
}

static int chardev_fd(void *opaque)
{
    return chardev_poll_fd(opaque);
}

static void chardev_readable(void *opaque)
{
    chardev_handle_input(opaque);
}

static void quit_requested(void *opaque)
{
    machine_request_shutdown(opaque, 0);
}

/* ---- creation ---- */

static bool create_chipset(PCBoard *pc, char *err, size_t len)
{
    Machine *m = pc->m;
    /* One local APIC per CPU, APIC ID = CPU index; one CPU keeps its own
     * relocatable page, several share the page (lapic_page_ops). */
    bool lapics_ok = true;
    for (int i = 0; i < pc->ncpus; i++) {
        PCCpu *c = &pc->cpu[i];
        c->pc = pc;
        c->index = i;
        irq_init(&c->intr, cpu_intr_changed, c, i);
        c->lapic = lapic_create(m, (uint32_t)i, i == 0, pc->ncpus == 1, &c->intr);
        lapics_ok &= c->lapic != NULL;
        m->cpu_opaque[i] = c;
    }
    if (pc->ncpus > 1 &&
        !memmap_add_mmio(m->mem, "lapic", LAPIC_DEFAULT_BASE, 0x1000, &lapic_page_ops, pc,
                         LAPIC_MMIO_PRIORITY, NULL))
        lapics_ok = false;
    /* The IOAPIC's ID follows the APIC IDs (as in the MP table). */
    pc->ioapic = ioapic_create(m, IOAPIC_DEFAULT_BASE, (uint8_t)pc->ncpus, ioapic_to_lapic, pc);
    pc->pci = pci_bus_new(m);
    pc->host = pc->pci ? i440fx_create(m, pc->pci, I440FX_CONFIG_ADDRESS) : NULL;
    IRQLine *isa[16], *all[24];
    for (int i = 0; i < 24; i++) {
        all[i] = &pc->gsi[i];
        if (i < 16)
            isa[i] = &pc->gsi[i];
    }
    pc->piix3 = pc->host ? piix3_create(m, pc->pci, isa) : NULL;
    pc->hpet = hpet_create(m, HPET_DEFAULT_BASE, all);
    pc->fwcfg = fwcfg_create(m, FW_CFG_PORT_SEL, FW_CFG_PORT_DMA);
    if (!lapics_ok || !pc->ioapic || !pc->host || !pc->piix3 || !pc->hpet || !pc->fwcfg) {
        snprintf(err, len, "board: a chipset device could not be created");
        return false;
    }
    /* PCI INTx also reaches the IOAPIC directly: PIRQA-D on GSI 16-19,
     * as the direct-boot DSDT's _PRT says (the HPET uses 20-23). */
    piix3_connect_apic_pirqs(pc->piix3, all + 16);
    for (int i = 0; i < pc->ncpus; i++) {
        lapic_set_eoi_handler(pc->cpu[i].lapic, lapic_eoi_to_ioapic, pc);
        if (pc->ncpus > 1)
            lapic_set_ipi_handler(pc->cpu[i].lapic, lapic_ipi, pc);
    }
    pci_bus_set_msi_handler(pc->pci, pci_msi_to_lapic, pc);
    hpet_set_legacy_notify(pc->hpet, hpet_legacy_changed, pc);
    return true;
}

Machine *pc_machine(PCBoard *pc)
{
    return pc->m;
}

/* The RTC's time at power-on (-rtc base=): the host's time unless given;
 * a replay takes the recording's. */
static int64_t rtc_start(Machine *m, const VMOptions *o)
{
    int64_t base = o->rtc_base;
    if (base < 0) {
        time_t t = time(NULL);
        base = (int64_t)t;
        if (o->rtc_localtime) {
            struct tm tm;
            localtime_r(&t, &tm);
            base += tm.tm_gmtoff;
        }
    }
    return m->rr ? replay_rtc_base(m->rr, base) : base;
}

static bool create_legacy_devices(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    Machine *m = pc->m;
    pc->pic = i8259_create(m, 0x20, 0xa0, 0x4d0, &pc->pic_out);
    pc->pit = i8254_create(m, 0x40, 0x61, &pc->pit_irq);
    pc->rtc = mc146818_create(m, 0x70, &pc->rtc_irq, rtc_start(m, o));
    pc->kbc = i8042_create(m, 0x60, 0x64, &pc->gsi[1], &pc->gsi[12], &pc->a20_kbc);
    pc->port92 = port92_create(m, 0x92, &pc->a20_port92);
    if (!pc->pic || !pc->pit || !pc->rtc || !pc->kbc || !pc->port92) {
        snprintf(err, len, "board: legacy device ports already taken");
        return false;
    }
    if (!open_named_chardevs(pc, o, err, len))
        return false;
    if (o->nodefaults && !o->serial_given)
        goto no_serial;           /* -nodefaults: no COM1 unless asked for */
    SerialKind sk = o->serial_given ? o->serial : (o->nographic ? SERIAL_STDIO : SERIAL_NONE);
    if (sk == SERIAL_CHARDEV) {
        pc->serial_chr = named_chardev(pc, o, o->serial_path);
    } else {
        pc->serial_chr = open_chardev(sk, o->serial_path, "-serial", err, len);
        pc->serial_chr_owned = true;
    }
    if (!pc->serial_chr)
        return false;
    chardev_set_quit_handler(pc->serial_chr, quit_requested, m);
    pc->uart = uart16550_create(m, 0x3f8, &pc->gsi[4], pc->serial_chr);
    if (!pc->uart) {
        snprintf(err, len, "board: serial port 0x3f8 already taken");
        return false;
    }
    machine_watch_fd(m, chardev_fd, chardev_readable, pc->serial_chr);
    if (m->rr)
        replay_attach_chardev(m->rr, pc->serial_chr);
no_serial:
    if (o->debugcon == SERIAL_CHARDEV) {
        pc->debugcon_chr = named_chardev(pc, o, o->debugcon_path);
    } else if (o->debugcon != SERIAL_NONE) {
        pc->debugcon_chr = open_chardev(o->debugcon, o->debugcon_path, "-debugcon", err, len);
        if (!pc->debugcon_chr)
            return false;
        pc->debugcon_chr_owned = true;
    }
    if (pc->debugcon_chr && !debugcon_create(m, o->debugcon_port, pc->debugcon_chr)) {
        snprintf(err, len, "-debugcon: port 0x%x is taken", o->debugcon_port);
        return false;
    }
    if (m->rr)
        replay_attach_output(m->rr, pc->debugcon_chr);
    uint64_t below = MIN(m->ram_size, PC_LOW_RAM_END);
    mc146818_set_memory_size(pc->rtc, below, m->ram_size - below);
    machine_add_device(m, &pc_boot_ops, pc);
    return true;
}

/* -device: the ISA and PCI test devices, in command-line order; the
 * isa-debug-exit at 0xf4 (QEMU's usual place for it) unless -device
 * isa-debug-exit gives its own. */
static bool create_devices(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    Machine *m = pc->m;
    bool have_exit = false;
    for (int i = 0; i < o->ndevices; i++)
        have_exit |= o->devices[i].type == DEVICE_ISA_DEBUG_EXIT;
    if (!have_exit && !debugexit_create(m, 0xf4, 4)) {
        snprintf(err, len, "board: isa-debug-exit ports 0xf4+4 are taken");
        return false;
    }
    int next_slot = 1;
    /* Two passes: pc-testdev last, so the ports of its byte window that a
     * debug console uses stay with the console (see hw/testdev.h). */
    for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < o->ndevices; i++) {
        const DeviceOpt *d = &o->devices[i];
        if ((d->type == DEVICE_PC_TESTDEV) != (pass == 1))
            continue;
        switch (d->type) {
        case DEVICE_ISA_DEBUG_EXIT:
            if (!debugexit_create(m, (uint16_t)d->iobase, (uint16_t)d->iosize)) {
                snprintf(err, len, "-device isa-debug-exit: ports 0x%x+%u are taken",
                         d->iobase, d->iosize);
                return false;
            }
            break;
        case DEVICE_ISA_DEBUGCON:
            if (!debugcon_create(m, (uint16_t)d->iobase, named_chardev(pc, o, d->chardev))) {
                snprintf(err, len, "-device isa-debugcon: port 0x%x is taken", d->iobase);
                return false;
            }
            break;
        case DEVICE_PC_TESTDEV: {
            IRQLine *irq[PC_TESTDEV_NIRQ];
            for (int n = 0; n < PC_TESTDEV_NIRQ; n++)
                irq[n] = &pc->gsi[n];
            if (!pc_testdev_create(m, (uint16_t)d->iobase, PC_TESTDEV_IRQ_PORT,
                                   PC_TESTDEV_IOMEM_BASE, irq)) {
                snprintf(err, len, "-device pc-testdev: its ports (0x%x-0x%x, 0x%x+%d) or "
                         "memory at 0x%llx are taken", d->iobase, d->iobase + 11,
                         PC_TESTDEV_IRQ_PORT, PC_TESTDEV_NIRQ,
                         (unsigned long long)PC_TESTDEV_IOMEM_BASE);
                return false;
            }
            break;
        }
        case DEVICE_PCI_TESTDEV: {
            int devfn = d->devfn;
            while (devfn < 0 && next_slot < 32) {
                if (!pci_bus_find(pc->pci, PCI_DEVFN(next_slot, 0)))
                    devfn = PCI_DEVFN(next_slot, 0);
                next_slot++;
            }
            if (devfn < 0 || !pci_testdev_create(m, pc->pci, devfn)) {
                snprintf(err, len, "-device pci-testdev: PCI address %02x.%x is taken",
                         devfn < 0 ? 31 : PCI_SLOT(devfn), devfn < 0 ? 0 : PCI_FUNC(devfn));
                return false;
            }
            break;
        }
        case DEVICE_VGA:
            break;                        /* created by create_display */
        case DEVICE_VIRTIO_BLK:
        case DEVICE_VIRTIO_RNG:
        case DEVICE_VIRTIO_SERIAL:
        case DEVICE_VIRTCONSOLE:
        case DEVICE_VIRTSERIALPORT:
        case DEVICE_VIRTIO_SCSI:
        case DEVICE_SCSI_HD:
        case DEVICE_SCSI_CD:
        case DEVICE_VIRTIO_BALLOON:
        case DEVICE_NIC:
            break;                        /* created by create_virtio / create_net */
        case DEVICE_USB_TABLET:
        case DEVICE_USB_KBD:
        case DEVICE_USB_MOUSE:
        case DEVICE_QEMU_XHCI:
        case DEVICE_USB_HUB:
            break;                        /* created by create_usb */
        }
    }
    return true;
}

/* The standard VGA at PCI slot 2, as QEMU's pc machine places it;
 * -vga none or -nodefaults (without -vga) leave it out.  Its VGA BIOS is
 * Debian's SeaBIOS vgabios-stdvga.bin when installed. */
#define VGA_BIOS_PATH "/usr/share/seabios/vgabios-stdvga.bin"

static bool create_display(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    VGAKind kind = o->vga != VGA_DEFAULT ? o->vga : (o->nodefaults ? VGA_NONE : VGA_STD);
    if (kind == VGA_NONE)
        return true;
    VGAConfig cfg = { .vgamem_mb = o->vgamem_mb, .no_edid = o->vga_no_edid,
                      .xres = o->vga_xres, .yres = o->vga_yres };
    if (access(VGA_BIOS_PATH, R_OK) == 0)
        cfg.romfile = VGA_BIOS_PATH;
    pc->vga = vga_create(pc->m, pc->pci, PCI_DEVFN(2, 0), &cfg, err, len);
    return pc->vga != NULL;
}

Console *pc_console(PCBoard *pc)
{
    return pc->vga ? vga_console(pc->vga) : NULL;
}

/* Keys go to the USB keyboard when there is one (as QEMU sends them to
 * the keyboard added last), else to PS/2. */
void pc_send_key(void *opaque, int keycode, bool down)
{
    PCBoard *pc = opaque;
    if (pc->usb_kbd)
        usb_hid_key(pc->usb_kbd, keycode, down);
    else
        ps2_kbd_key_event(i8042_kbd(pc->kbc), keycode, down);
}

void pc_send_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    PCBoard *pc = opaque;
    if (pc->usb_mouse)
        usb_hid_pointer_rel(pc->usb_mouse, dx, dy, dz, buttons);
    else if (pc->usb_tablet)
        usb_hid_pointer_buttons(pc->usb_tablet, dz, buttons);   /* the tablet takes the
                                                                   pointer, as in QEMU */
    else
        ps2_mouse_event(i8042_mouse(pc->kbc), dx, dy, dz, buttons);
}

bool pc_mouse_absolute(void *opaque)
{
    PCBoard *pc = opaque;
    return pc->usb_tablet != NULL;
}

void pc_send_mouse_abs(void *opaque, int x, int y, int dz, unsigned buttons)
{
    PCBoard *pc = opaque;
    if (pc->usb_tablet)
        usb_hid_pointer_abs(pc->usb_tablet, x, y, dz, buttons);
}

/* ---- USB ---- */

static int next_free_slot(PCBoard *pc);

/* -device qemu-xhci: each at its addr= or the next free slot. */
static bool create_xhci(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    for (int i = 0; i < o->ndevices; i++) {
        const DeviceOpt *d = &o->devices[i];
        if (d->type != DEVICE_QEMU_XHCI)
            continue;
        if (pc->nxhci == MAX_XHCI) {
            snprintf(err, len, "-device qemu-xhci: at most %d", MAX_XHCI);
            return false;
        }
        int devfn = d->devfn >= 0 ? d->devfn : next_free_slot(pc);
        if (devfn < 0) {
            snprintf(err, len, "-device qemu-xhci: no free PCI slot");
            return false;
        }
        XHCIState *x = xhci_create(pc->m, pc->pci, devfn,
                                   d->usb_p2 >= 0 ? d->usb_p2 : XHCI_DEFAULT_PORTS,
                                   d->usb_p3 >= 0 ? d->usb_p3 : XHCI_DEFAULT_PORTS, err, len);
        if (!x)
            return false;
        snprintf(pc->xhci_id[pc->nxhci], sizeof pc->xhci_id[0], "%s", d->id);
        pc->xhci[pc->nxhci++] = x;
    }
    return true;
}

/* A free port on a usb-hub that hangs off controller ctrl. */
static bool hub_plug(PCBoard *pc, const void *ctrl, USBDevice *dev)
{
    for (int i = 0; i < pc->nhubs; i++)
        if (pc->hub_bus[i] == ctrl && usb_hub_attach(pc->hub[i], dev))
            return true;
    return false;
}

/* The controller a device plugged by usb_plug went to (for hubs). */
static const void *usb_bus_of(PCBoard *pc, const char *bus)
{
    if (bus[0] && strcmp(bus, "usb-bus.0")) {
        for (int i = 0; i < pc->nxhci; i++) {
            size_t k = strlen(pc->xhci_id[i]);
            if (k && !strncmp(bus, pc->xhci_id[i], k) && !strcmp(bus + k, ".0"))
                return pc->xhci[i];
        }
        return NULL;
    }
    return pc->uhci ? (const void *)pc->uhci : pc->nxhci ? (const void *)pc->xhci[0] : NULL;
}

/* Plugs a USB device into the bus bus= names ("ID.0" of a qemu-xhci,
 * "usb-bus.0" for -usb's UHCI) or, without bus=, into -usb's UHCI if
 * there is one, else the first xHCI (QEMU takes the first USB bus). */
static bool usb_plug(PCBoard *pc, const char *name, const char *bus, USBDevice *dev,
                     char *err, size_t len)
{
    if (bus[0] && strcmp(bus, "usb-bus.0")) {
        for (int i = 0; i < pc->nxhci; i++) {
            size_t k = strlen(pc->xhci_id[i]);
            if (k && !strncmp(bus, pc->xhci_id[i], k) && !strcmp(bus + k, ".0")) {
                if (xhci_attach(pc->xhci[i], dev) || hub_plug(pc, pc->xhci[i], dev))
                    return true;
                snprintf(err, len, "-device %s: no free USB 2 port on %s (p2=%d)", name, bus,
                         xhci_usb2_ports(pc->xhci[i]));
                return false;
            }
        }
        snprintf(err, len, "-device %s: Bus '%s' not found", name, bus);
        return false;
    }
    if (pc->uhci || bus[0]) {
        if (!pc->uhci) {
            snprintf(err, len, "-device %s: Bus '%s' not found (add -usb)", name, bus);
            return false;
        }
        if (uhci_attach(pc->uhci, dev) || hub_plug(pc, pc->uhci, dev))
            return true;
        snprintf(err, len, "-device %s: no free USB port (the UHCI has %d; add -device usb-hub)",
                 name, UHCI_PORTS);
        return false;
    }
    if (!pc->nxhci) {
        snprintf(err, len, "-device %s: No 'usb-bus' bus found for device '%s' "
                 "(add -usb or -device qemu-xhci)", name, name);
        return false;
    }
    if (xhci_attach(pc->xhci[0], dev) || hub_plug(pc, pc->xhci[0], dev))
        return true;
    snprintf(err, len, "-device %s: no free USB 2 port on the xHCI (p2=%d)", name,
             xhci_usb2_ports(pc->xhci[0]));
    return false;
}

/* -device usb-hub: on its bus like any USB device; later devices on that
 * bus fill its ports once the root ports are taken. */
static bool create_hub(PCBoard *pc, const DeviceOpt *d, char *err, size_t len)
{
    if (pc->nhubs == MAX_USB_HUBS) {
        snprintf(err, len, "-device usb-hub: at most %d", MAX_USB_HUBS);
        return false;
    }
    if (!pc->uhci && !pc->nxhci) {
        snprintf(err, len, "-device usb-hub: No 'usb-bus' bus found for device 'usb-hub' "
                 "(add -usb or -device qemu-xhci)");
        return false;
    }
    USBHubState *h = usb_hub_create(pc->m);
    if (!usb_plug(pc, "usb-hub", d->bus, usb_hub_device(h), err, len))
        return false;
    pc->hub_bus[pc->nhubs] = usb_bus_of(pc, d->bus);
    pc->hub[pc->nhubs++] = h;
    return true;
}

/* -usb: the PIIX3 USB function at 00:01.2 (QEMU's place for it on the pc
 * machine); the xHCI controllers; then each -device usb-* on its bus. */
static bool create_usb(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    if (o->usb) {
        pc->uhci = uhci_create(pc->m, pc->pci, PCI_DEVFN(1, 2));
        if (!pc->uhci) {
            snprintf(err, len, "-usb: PCI address 01.2 is taken");
            return false;
        }
    }
    if (!create_xhci(pc, o, err, len))
        return false;
    for (int i = 0; i < o->ndevices; i++) {
        const DeviceOpt *d = &o->devices[i];
        USBHIDKind kind;
        const char *name;
        if (d->type == DEVICE_USB_TABLET) {
            kind = USB_HID_TABLET;
            name = "usb-tablet";
        } else if (d->type == DEVICE_USB_KBD) {
            kind = USB_HID_KEYBOARD;
            name = "usb-kbd";
        } else if (d->type == DEVICE_USB_MOUSE) {
            kind = USB_HID_MOUSE;
            name = "usb-mouse";
        } else if (d->type == DEVICE_USB_HUB) {
            if (!create_hub(pc, d, err, len))
                return false;
            continue;
        } else {
            continue;
        }
        if (!pc->uhci && !pc->nxhci) {
            snprintf(err, len, "-device %s: No 'usb-bus' bus found for device '%s' "
                     "(add -usb or -device qemu-xhci)", name, name);
            return false;
        }
        USBHIDState *h = usb_hid_create(pc->m, kind);
        if (!usb_plug(pc, name, d->bus, usb_hid_device(h), err, len))
            return false;
        *(kind == USB_HID_TABLET ? &pc->usb_tablet
          : kind == USB_HID_MOUSE ? &pc->usb_mouse : &pc->usb_kbd) = h;
    }
    return true;
}

/* ---- disks ---- */

/* ---- removable media (the monitor's eject / change) ---- */

/* QEMU's name of drive i ("ide1-cd0", "virtio0", ...). */
static void drive_name(const VMOptions *o, int i, char *buf, size_t len)
{
    const DriveOpt *d = &o->drives[i];
    if (d->iface == DRIVE_IF_FLOPPY)
        snprintf(buf, len, "floppy%d", d->index);
    else if (d->iface == DRIVE_IF_IDE)
        snprintf(buf, len, "ide%d-%s%d", d->index / 2,
                 d->media == DRIVE_MEDIA_CDROM ? "cd" : "hd", d->index % 2);
    else if (d->iface == DRIVE_IF_SCSI)
        snprintf(buf, len, "scsi0-%s%d", d->media == DRIVE_MEDIA_CDROM ? "cd" : "hd", d->index);
    else if (d->iface == DRIVE_IF_VIRTIO)       /* QEMU's name for if=virtio */
        snprintf(buf, len, "virtio%d", d->index);
    else if (d->id[0])                          /* if=none: the drive's id, as QEMU */
        snprintf(buf, len, "%s", d->id);
    else
        snprintf(buf, len, "drive%d", i);
}

/* A guest request on drive failed: QMP says BLOCK_IO_ERROR (the error
 * goes to the guest as the device reports it: QEMU's rerror/werror
 * "report"). */
static void drive_io_error(void *opaque, bool is_write, int err)
{
    struct PCDriveError *de = opaque;
    char name[32];
    de->err = err;
    de->is_write = is_write;
    drive_name(de->pc->m->opts, de->drive, name, sizeof name);
    machine_emit(de->pc->m, MACHINE_EV_BLOCK_IO_ERROR, true, name);
}

static void watch_drive_errors(PCBoard *pc, int drive)
{
    pc->drive_error[drive].pc = pc;
    pc->drive_error[drive].drive = drive;
    if (pc->drive_bb[drive])
        blk_set_error_notify(pc->drive_bb[drive], drive_io_error, &pc->drive_error[drive]);
}

/* The guest (START STOP UNIT) or the monitor moved a tray: QMP says
 * DEVICE_TRAY_MOVED with the drive's name (core/commands.c asks
 * pc_drive_info for the rest). */
static void medium_tray_moved(void *opaque, bool open)
{
    struct PCMedium *md = opaque;
    char name[32];
    drive_name(md->pc->m->opts, md->drive, name, sizeof name);
    (void)open;               /* pc_drive_info reports the tray's state */
    machine_emit(md->pc->m, MACHINE_EV_TRAY_MOVED, !md->pc->monitor_moving, name);
}

static void medium_register(PCBoard *pc, int drive, IDEBus *ide, int unit, SCSIDevice *scsi)
{
    if (drive < 0 || drive >= MAX_DRIVES)
        return;
    struct PCMedium *md = &pc->medium[drive];
    *md = (struct PCMedium){ .pc = pc, .drive = drive, .ide = ide, .unit = unit, .scsi = scsi };
    if (ide)
        ide_cd_set_tray_notify(ide, unit, medium_tray_moved, md);
    else
        scsi_cd_set_tray_notify(scsi, medium_tray_moved, md);
}

static bool medium_locked(const struct PCMedium *md)
{
    return md->ide ? ide_cd_locked(md->ide, md->unit) : scsi_cd_locked(md->scsi);
}

static bool medium_tray_open(const struct PCMedium *md)
{
    return md->ide ? ide_cd_tray_open(md->ide, md->unit) : scsi_cd_tray_open(md->scsi);
}

static void medium_set_tray(PCBoard *pc, struct PCMedium *md, bool open)
{
    pc->monitor_moving = true;
    if (md->ide)
        ide_cd_set_tray(md->ide, md->unit, open);
    else
        scsi_cd_set_tray(md->scsi, open);
    pc->monitor_moving = false;
}

/* Takes the disc out of the drive (the device first, then the backend). */
static void medium_remove(PCBoard *pc, struct PCMedium *md)
{
    if (md->ide)
        ide_cd_change_medium(md->ide, md->unit, NULL);
    else
        scsi_cd_change_medium(md->scsi, NULL);
    blk_close(pc->drive_bb[md->drive]);
    pc->drive_bb[md->drive] = NULL;
}

/* The drive the monitor named, when its medium can change; else the
 * error QEMU gives (DeviceNotFound, or not removable). */
static struct PCMedium *medium_find(PCBoard *pc, const char *device, int *errc, char *err,
                                    size_t errlen)
{
    const VMOptions *o = pc->m->opts;
    for (int i = 0; o && i < o->ndrives && i < MAX_DRIVES; i++) {
        char name[32];
        drive_name(o, i, name, sizeof name);
        if (strcmp(name, device) && (!o->drives[i].id[0] || strcmp(o->drives[i].id, device)))
            continue;
        if (pc->medium[i].pc)
            return &pc->medium[i];
        *errc = MON_ERR_GENERIC;
        snprintf(err, errlen, "Device '%s' is not removable", name);
        return NULL;
    }
    *errc = MON_ERR_NOT_FOUND;
    snprintf(err, errlen, "Device '%s' not found", device);
    return NULL;
}

static bool medium_may_open(const struct PCMedium *md, const char *device, bool force,
                            char *err, size_t errlen)
{
    if (!force && !medium_tray_open(md) && medium_locked(md)) {
        snprintf(err, errlen, "Device '%s' is locked and force was not specified, "
                 "wait for tray to open and try again", device);
        return false;
    }
    return true;
}

int pc_eject(void *opaque, const char *device, bool force, char *err, size_t errlen)
{
    PCBoard *pc = opaque;
    int errc = 0;
    struct PCMedium *md = medium_find(pc, device, &errc, err, errlen);
    if (!md)
        return errc;
    if (!medium_may_open(md, device, force, err, errlen))
        return MON_ERR_GENERIC;
    medium_set_tray(pc, md, true);      /* and it stays open, as in QEMU */
    medium_remove(pc, md);
    return 0;
}

int pc_change_medium(void *opaque, const char *device, const char *file, const char *format,
                     char *err, size_t errlen)
{
    PCBoard *pc = opaque;
    int errc = 0;
    struct PCMedium *md = medium_find(pc, device, &errc, err, errlen);
    if (!md)
        return errc;
    if (!medium_may_open(md, device, false, err, errlen))
        return MON_ERR_GENERIC;
    const VMOptions *o = pc->m->opts;
    DriveOpt d = o->drives[md->drive];
    d.file = (char *)file;
    d.format = (char *)format;
    d.media = DRIVE_MEDIA_CDROM;
    d.opt = "change";
    char why[512];
    BlockBackend *bb = drive_open(&d, false, false, why, sizeof why);
    if (!bb) {
        snprintf(err, errlen, "Could not open '%s': %s", file, why);
        return MON_ERR_GENERIC;
    }
    blk_attach(bb, pc->m);
    medium_set_tray(pc, md, true);
    medium_remove(pc, md);
    pc->drive_bb[md->drive] = bb;
    watch_drive_errors(pc, md->drive);
    if (md->ide)
        ide_cd_change_medium(md->ide, md->unit, bb);
    else
        scsi_cd_change_medium(md->scsi, bb);
    medium_set_tray(pc, md, false);
    return 0;
}

/* The PIIX3 IDE function (00:01.1) with the -drive if=ide / -hdX / -cdrom
 * drives: index 0..3 = primary master .. secondary slave. */
static bool create_ide(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    PIIXIDEConfig c = { .devfn = PCI_DEVFN(1, 1), .port = { 0x1f0, 0x170 },
                        .ctl = { 0x3f6, 0x376 }, .irq = { &pc->gsi[14], &pc->gsi[15] } };
    pc->ide = piix_ide_create(pc->m, pc->pci, &c);
    if (!pc->ide) {
        snprintf(err, len, "board: the IDE ports are taken");
        return false;
    }
    for (int i = 0; i < o->ndrives && i < MAX_DRIVES; i++) {
        const DriveOpt *d = &o->drives[i];
        if (d->iface != DRIVE_IF_IDE || d->index < 0 || d->index > 3)
            continue;
        BlockBackend *bb = NULL;
        if (d->file) {
            bb = drive_open(d, o->snapshot, o->incoming != NULL, err, len);
            if (!bb)
                return false;
            blk_attach(bb, pc->m);
            pc->drive_bb[i] = bb;
        }
        ide_drive_attach(piix_ide_bus(pc->ide, d->index / 2), d->index % 2,
                         d->media == DRIVE_MEDIA_CDROM ? IDE_CD : IDE_HD, bb);
        if (d->media == DRIVE_MEDIA_CDROM)
            medium_register(pc, i, piix_ide_bus(pc->ide, d->index / 2), d->index % 2, NULL);
    }
    return true;
}

/* The ISA DMA controllers and the floppy controller at 0x3f0 (IRQ 6, DMA
 * channel 2) with -fda/-fdb or if=floppy images; the drive types go into
 * CMOS 0x10 and the equipment byte 0x14, where PC BIOSes look for them. */
static bool create_floppy(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    pc->dma = i8237_create(pc->m, 0x00, 0xc0, 0x80, err, len);
    if (!pc->dma)
        return false;
    pc->fdc = fdc_create(pc->m, 0x3f0, &pc->gsi[6], pc->dma, 2, err, len);
    if (!pc->fdc)
        return false;
    int drives = 0;
    for (int i = 0; i < o->ndrives && i < MAX_DRIVES; i++) {
        const DriveOpt *d = &o->drives[i];
        if (d->iface != DRIVE_IF_FLOPPY || d->index < 0 || d->index > 1 || !d->file)
            continue;
        BlockBackend *bb = drive_open(d, o->snapshot, o->incoming != NULL, err, len);
        if (!bb)
            return false;
        blk_attach(bb, pc->m);
        pc->drive_bb[i] = bb;
        char ferr[512];
        if (!fdc_insert(pc->fdc, d->index, bb, ferr, sizeof ferr)) {
            snprintf(err, len, "%s: %s", d->opt, ferr);
            return false;
        }
        drives++;
    }
    mc146818_set_cmos(pc->rtc, 0x10, (uint8_t)(fdc_cmos_type(pc->fdc, 0) << 4 |
                                              fdc_cmos_type(pc->fdc, 1)));
    uint8_t equip = mc146818_get_cmos(pc->rtc, 0x14) & 0x3e;
    if (drives)
        equip |= (uint8_t)(0x01 | (drives - 1) << 6);
    mc146818_set_cmos(pc->rtc, 0x14, equip);
    return true;
}

/* ---- virtio ---- */

/* The next free PCI slot from 3 up (0 host bridge, 1 PIIX3, 2 VGA), as
 * QEMU fills its pc machine; -1 when the bus is full.  INTA# of slot s
 * reaches PIRQ (s + 0) mod 4 through the PIIX3 router. */
static int next_free_slot(PCBoard *pc)
{
    for (int slot = 3; slot < 32; slot++)
        if (!pci_bus_find(pc->pci, PCI_DEVFN(slot, 0)))
            return PCI_DEVFN(slot, 0);
    return -1;
}

static bool add_virtio_blk(PCBoard *pc, const VMOptions *o, int drive, int num_queues,
                           int devfn, char *err, size_t len)
{
    const DriveOpt *d = &o->drives[drive];
    if (devfn < 0)
        devfn = next_free_slot(pc);
    if (devfn < 0) {
        snprintf(err, len, "%s: no free PCI slot for virtio-blk", d->opt);
        return false;
    }
    BlockBackend *bb = drive_open(d, o->snapshot, o->incoming != NULL, err, len);
    if (!bb)
        return false;
    blk_attach(bb, pc->m);
    pc->drive_bb[drive] = bb;
    VirtIOBlkConfig c = { .num_queues = num_queues, .serial = d->id };
    VirtIOBlk *b = virtio_blk_create(pc->m, bb, &c);
    return virtio_pci_create(pc->m, pc->pci, devfn, virtio_blk_vdev(b), err, len) != NULL;
}

/* A virtconsole/virtserialport on the virtio-serial-pci it names (bus=ID.0)
 * or the first one; its chardev is polled by the main loop. */
static bool add_virtio_port(PCBoard *pc, const VMOptions *o, const DeviceOpt *d,
                            VirtIOSerial *const *sers, const DeviceOpt *const *ser_opts,
                            int nsers, char *err, size_t len)
{
    const char *what = d->type == DEVICE_VIRTCONSOLE ? "virtconsole" : "virtserialport";
    VirtIOSerial *s = NULL;
    for (int i = 0; i < nsers && !s; i++)
        if (!d->bus[0] || (!strncmp(ser_opts[i]->id, d->bus, strlen(d->bus) - 2) &&
                           strlen(ser_opts[i]->id) == strlen(d->bus) - 2))
            s = sers[i];
    if (!s) {
        snprintf(err, len, "-device %s: no virtio-serial-pci for it", what);
        return false;
    }
    CharDev *chr = d->chardev ? named_chardev(pc, o, d->chardev) : NULL;
    char perr[160];
    if (virtio_serial_add_port(s, chr, d->type == DEVICE_VIRTCONSOLE, d->port_name, d->nr,
                               perr, sizeof perr) < 0) {
        snprintf(err, len, "-device %s: %s", what, perr);
        return false;
    }
    if (chr)
        machine_watch_fd(pc->m, chardev_fd, chardev_readable, chr);
    return true;
}

/* A virtio-scsi-pci whose bus is "ID.0" (QEMU's bus name). */
static bool add_virtio_scsi(PCBoard *pc, const char *id, int num_queues, int devfn, char *err,
                            size_t len)
{
    if (devfn < 0)
        devfn = next_free_slot(pc);
    if (devfn < 0) {
        snprintf(err, len, "-device virtio-scsi-pci: no free PCI slot");
        return false;
    }
    char bus[40];
    snprintf(bus, sizeof bus, "%s.0", id[0] ? id : "scsi0");
    VirtIOSCSI *h = virtio_scsi_create(pc->m, &(VirtIOSCSIConfig){ .num_queues = num_queues,
                                                                   .bus_name = bus });
    pc->scsi[pc->nscsi++] = h;
    return virtio_pci_create(pc->m, pc->pci, devfn, virtio_scsi_vdev(h), err, len) != NULL;
}

/* BALLOON_CHANGE: the monitor's event asks pc_balloon_info for the value. */
static void balloon_changed(void *opaque)
{
    PCBoard *pc = opaque;
    machine_emit(pc->m, MACHINE_EV_BALLOON_CHANGE, true, NULL);
}

static bool add_virtio_balloon(PCBoard *pc, const DeviceOpt *vo, char *err, size_t len)
{
    int devfn = vo->devfn >= 0 ? vo->devfn : next_free_slot(pc);
    if (devfn < 0) {
        snprintf(err, len, "-device virtio-balloon-pci: no free PCI slot");
        return false;
    }
    VirtIOBalloonConfig c = { .free_page_reporting = vo->free_page_reporting,
                              .deflate_on_oom = vo->deflate_on_oom,
                              .on_change = balloon_changed, .opaque = pc };
    pc->balloon = virtio_balloon_create(pc->m, &c);
    return virtio_pci_create(pc->m, pc->pci, devfn, virtio_balloon_vdev(pc->balloon), err,
                             len) != NULL;
}

/* Opens drive i (if=none or if=scsi) for a SCSI unit; a CD drive without
 * a disc has no backend. */
static bool open_scsi_drive(PCBoard *pc, const VMOptions *o, int i, BlockBackend **bb,
                            char *err, size_t len)
{
    *bb = NULL;
    if (i < 0 || !o->drives[i].file)
        return true;
    *bb = drive_open(&o->drives[i], o->snapshot, o->incoming != NULL, err, len);
    if (!*bb)
        return false;
    blk_attach(*bb, pc->m);
    pc->drive_bb[i] = *bb;
    return true;
}

static bool add_scsi_unit(PCBoard *pc, VirtIOSCSI *h, SCSIDiskKind kind, BlockBackend *bb,
                          const char *serial, int scsi_id, int lun, int drive, const char *what,
                          char *err, size_t len)
{
    SCSIDevice *d = scsi_disk_create(pc->m, &(SCSIDiskConfig){ .kind = kind, .bb = bb,
                                                                .serial = serial });
    char e[160];
    if (!scsi_bus_attach(virtio_scsi_bus(h), d, scsi_id, lun, e, sizeof e)) {
        snprintf(err, len, "%s: %s", what, e);
        return false;
    }
    if (kind == SCSI_DISK_CD && drive >= 0)
        medium_register(pc, drive, NULL, 0, d);
    return true;
}

/* The SCSI units: -drive if=scsi at scsi-id = index on the first adapter
 * (one is made when none was given, as QEMU makes one for if=scsi), then
 * each -device scsi-hd/scsi-cd on its bus= or the first adapter. */
static bool create_scsi_units(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    for (int i = 0; i < o->ndrives && i < MAX_DRIVES; i++) {
        const DriveOpt *d = &o->drives[i];
        if (d->iface != DRIVE_IF_SCSI)
            continue;
        if (!pc->nscsi && !add_virtio_scsi(pc, "scsi0", 1, -1, err, len))
            return false;
        BlockBackend *bb;
        if (!open_scsi_drive(pc, o, i, &bb, err, len) ||
            !add_scsi_unit(pc, pc->scsi[0], d->media == DRIVE_MEDIA_CDROM ? SCSI_DISK_CD
                                                                          : SCSI_DISK_HD,
                           bb, d->id[0] ? d->id : NULL, d->index, 0, i, d->opt, err, len))
            return false;
    }
    for (int v = 0; v < o->ndevices; v++) {
        const DeviceOpt *vo = &o->devices[v];
        if (vo->type != DEVICE_SCSI_HD && vo->type != DEVICE_SCSI_CD)
            continue;
        const char *name = vo->type == DEVICE_SCSI_HD ? "scsi-hd" : "scsi-cd";
        VirtIOSCSI *h = pc->nscsi ? pc->scsi[0] : NULL;
        if (vo->bus[0]) {
            h = NULL;
            for (int k = 0; k < pc->nscsi; k++)
                if (!strcmp(virtio_scsi_bus(pc->scsi[k])->name, vo->bus))
                    h = pc->scsi[k];
            if (!h) {
                snprintf(err, len, "-device %s: Bus '%s' not found", name, vo->bus);
                return false;
            }
        }
        if (!h) {
            snprintf(err, len, "-device %s: No 'SCSI' bus found for device '%s' "
                     "(add -device virtio-scsi-pci)", name, name);
            return false;
        }
        int drive = -1;
        for (int i = 0; vo->drive[0] && i < o->ndrives && i < MAX_DRIVES; i++)
            if (!strcmp(o->drives[i].id, vo->drive))
                drive = i;
        BlockBackend *bb;
        char what[48];
        snprintf(what, sizeof what, "-device %s", name);
        if (!open_scsi_drive(pc, o, drive, &bb, err, len) ||
            !add_scsi_unit(pc, h, vo->type == DEVICE_SCSI_HD ? SCSI_DISK_HD : SCSI_DISK_CD, bb,
                           vo->serial[0] ? vo->serial : (drive >= 0 ? o->drives[drive].id : NULL),
                           vo->scsi_id, vo->lun, drive, what, err, len))
            return false;
    }
    return true;
}

/* -drive if=virtio (by index), then each -device virtio-*-pci in order
 * (at its addr= or the next free slot), then the SCSI units. */
static bool create_virtio(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    VirtIOSerial *sers[MAX_DEVICES];
    const DeviceOpt *ser_opts[MAX_DEVICES];
    int nsers = 0;
    for (int idx = 0; idx < 32; idx++)
        for (int i = 0; i < o->ndrives && i < MAX_DRIVES; i++)
            if (o->drives[i].iface == DRIVE_IF_VIRTIO && o->drives[i].index == idx &&
                !add_virtio_blk(pc, o, i, 1, -1, err, len))
                return false;
    for (int v = 0; v < o->ndevices; v++) {
        const DeviceOpt *vo = &o->devices[v];
        if (vo->type == DEVICE_VIRTIO_BLK) {
            int drive = -1;
            for (int i = 0; i < o->ndrives && i < MAX_DRIVES; i++)
                if (!strcmp(o->drives[i].id, vo->drive))
                    drive = i;
            if (drive < 0) {
                snprintf(err, len, "-device virtio-blk-pci: no drive %s", vo->drive);
                return false;
            }
            if (!add_virtio_blk(pc, o, drive, vo->num_queues, vo->devfn, err, len))
                return false;
        } else if (vo->type == DEVICE_VIRTIO_RNG) {
            int devfn = vo->devfn >= 0 ? vo->devfn : next_free_slot(pc);
            if (devfn < 0) {
                snprintf(err, len, "-device virtio-rng-pci: no free PCI slot");
                return false;
            }
            VirtIORNG *r = virtio_rng_create(pc->m);
            if (!virtio_pci_create(pc->m, pc->pci, devfn, virtio_rng_vdev(r), err, len))
                return false;
        } else if (vo->type == DEVICE_VIRTIO_SERIAL) {
            int devfn = vo->devfn >= 0 ? vo->devfn : next_free_slot(pc);
            if (devfn < 0) {
                snprintf(err, len, "-device virtio-serial-pci: no free PCI slot");
                return false;
            }
            VirtIOSerial *s = virtio_serial_create(pc->m, vo->max_ports ? vo->max_ports
                                                                        : VIRTIO_PORTS_MAX);
            if (!virtio_pci_create(pc->m, pc->pci, devfn, virtio_serial_vdev(s), err, len))
                return false;
            ser_opts[nsers] = vo;
            sers[nsers++] = s;
        } else if (vo->type == DEVICE_VIRTCONSOLE || vo->type == DEVICE_VIRTSERIALPORT) {
            if (!add_virtio_port(pc, o, vo, sers, ser_opts, nsers, err, len))
                return false;
        } else if (vo->type == DEVICE_VIRTIO_SCSI) {
            if (!add_virtio_scsi(pc, vo->id, vo->num_queues, vo->devfn, err, len))
                return false;
        } else if (vo->type == DEVICE_VIRTIO_BALLOON) {
            if (!add_virtio_balloon(pc, vo, err, len))
                return false;
        }
    }
    return create_scsi_units(pc, o, err, len);
}

/* The NICs' option ROMs (iPXE, Debian's ipxe-qemu), QEMU's file names:
 * loaded when the boot order asks for the network (or romfile= names one),
 * so firmware boots without -boot n do not run iPXE. */
static const char *const nic_rom_dirs[] = { "/usr/share/qemu", "/usr/lib/ipxe/qemu" };

static const char *nic_default_rom(const char *model)
{
    return !strcmp(model, "virtio-net-pci") ? "efi-virtio.rom" : "efi-e1000.rom";
}

/* SeaBIOS runs a ROM only when its PCI data structure names the
 * function's vendor and device.  iPXE's virtio ROM names the modern
 * virtio-net (1af4:1041) while ours is transitional (1af4:1000), so the
 * default ROMs get the function's device ID written into each image of
 * that vendor (as QEMU does with its default ROMs), and the x86 image's
 * checksum byte (offset 6 in iPXE's header) made good again. */
static void nic_rom_patch_ids(PCIDevice *d, uint8_t *img, size_t size)
{
    uint16_t vendor = pci_get_word(d, 0x00), device = pci_get_word(d, 0x02);
    size_t off = 0;
    while (off + 0x1a <= size && img[off] == 0x55 && img[off + 1] == 0xaa) {
        size_t p = off + (img[off + 0x18] | (size_t)img[off + 0x19] << 8);
        if (p + 0x18 > size || memcmp(img + p, "PCIR", 4))
            return;
        size_t ilen = (img[p + 0x10] | (size_t)img[p + 0x11] << 8) * 512u;
        if (!ilen || ilen > size - off)
            return;
        if ((img[p + 4] | img[p + 5] << 8) == vendor) {
            uint8_t sum = 0;
            for (size_t i = 0; i < ilen; i++)
                sum = (uint8_t)(sum + img[off + i]);
            img[p + 6] = (uint8_t)device;
            img[p + 7] = (uint8_t)(device >> 8);
            if (img[p + 0x14] == 0 && sum == 0) {      /* x86 code: keep the sum at 0 */
                uint8_t s2 = 0;
                for (size_t i = 0; i < ilen; i++)
                    s2 = (uint8_t)(s2 + img[off + i]);
                img[off + 6] = (uint8_t)(img[off + 6] - s2);
            }
        }
        if (img[p + 0x15] & 0x80)
            return;
        off += ilen;
    }
}

static bool nic_add_rom(PCIDevice *d, const NicOpt *n, bool boot_net, char *err, size_t len)
{
    const char *name = n->has_romfile ? n->romfile : boot_net ? nic_default_rom(n->model) : "";
    if (!*name)
        return true;
    char path[512], e[256] = "";
    uint8_t *img = NULL;
    size_t size = 0;
    if (strchr(name, '/')) {
        snprintf(path, sizeof path, "%s", name);
        img = read_file(path, &size, e, sizeof e);
    }
    for (size_t i = 0; !img && !strchr(name, '/') && i < ARRAY_SIZE(nic_rom_dirs); i++) {
        snprintf(path, sizeof path, "%s/%s", nic_rom_dirs[i], name);
        img = read_file(path, &size, e, sizeof e);
    }
    if (!img) {
        snprintf(err, len, "%s: option ROM %s: %s (network boot needs Debian's ipxe-qemu)",
                 n->model, name, e);
        return false;
    }
    bool ok = size >= 512 && img[0] == 0x55 && img[1] == 0xaa;
    if (ok && !n->has_romfile)
        nic_rom_patch_ids(d, img, size);
    ok = ok && pci_register_rom(d, img, size);
    free(img);
    if (!ok)
        snprintf(err, len, "%s: %s is not a PCI option ROM", n->model, path);
    return ok;
}

/* Each -netdev (and the backends of -nic/-net) opens; then each NIC in
 * order, at the next free slot, on its backend. */
static bool create_net(PCBoard *pc, const VMOptions *o, char *err, size_t len)
{
    NetClient *backends[MAX_NETDEVS] = { NULL };
    for (int i = 0; i < o->nnetdevs; i++) {
        char e[256];
        backends[i] = netdev_open(pc->m, o->netdevs[i].spec, o->netdevs[i].id, e, sizeof e);
        if (!backends[i]) {
            snprintf(err, len, "-netdev %s: %s", o->netdevs[i].id, e);
            return false;
        }
        pc->net_clients[pc->nnet_clients++] = backends[i];
    }
    bool boot_net = !o->kernel && (strchr(o->boot_order, 'n') || strchr(o->boot_once, 'n'));
    for (int i = 0; i < o->nnics; i++) {
        const NicOpt *n = &o->nics[i];
        NetClient *be = NULL;
        for (int k = 0; k < o->nnetdevs; k++)
            if (!strcmp(o->netdevs[k].id, n->netdev))
                be = backends[k];
        if (be && be->peer) {
            snprintf(err, len, "%s: backend %s already has a NIC", n->model, n->netdev);
            return false;
        }
        int devfn = n->has_addr ? n->devfn : next_free_slot(pc);
        if (devfn < 0) {
            snprintf(err, len, "%s: no free PCI slot", n->model);
            return false;
        }
        uint8_t mac[6];
        if (n->has_mac)
            memcpy(mac, n->mac, 6);
        else
            net_default_mac(i, mac);
        if (!strcmp(n->model, "virtio-net-pci")) {
            VirtIONetConfig c = { .features_off = n->features_off,
                                  .rx_queue_size = n->rx_queue_size,
                                  .tx_queue_size = n->tx_queue_size,
                                  .name = n->id[0] ? n->id : NULL };
            memcpy(c.mac, mac, 6);
            VirtIONet *vn = virtio_net_create(pc->m, &c, be);
            VirtIOPCIState *t = virtio_pci_create(pc->m, pc->pci, devfn, virtio_net_vdev(vn),
                                                  err, len);
            if (!t || !nic_add_rom(virtio_pci_device(t), n, boot_net, err, len))
                return false;
            pc->net_clients[pc->nnet_clients++] = virtio_net_client(vn);
        } else {
            E1000Config c = { .devfn = devfn, .name = n->id[0] ? n->id : NULL };
            memcpy(c.mac, mac, 6);
            E1000State *e = e1000_create(pc->m, pc->pci, &c, be, err, len);
            if (!e || !nic_add_rom(e1000_pci(e), n, boot_net, err, len))
                return false;
            pc->net_clients[pc->nnet_clients++] = e1000_net_client(e);
        }
        if (pc->m->rr && be)
            replay_attach_netdev(pc->m->rr, be);
    }
    return true;
}

PCBoard *pc_create(Machine *m, const VMOptions *o, char *err, size_t errlen)
{
    PCBoard *pc = xcalloc(1, sizeof(*pc));
    /* SeaBIOS unless a kernel is booted directly or -bios names another. */
    const char *bios = o->bios ? o->bios : (o->kernel ? NULL : PC_DEFAULT_BIOS);
    pc->firmware_kernel = o->kernel && bios;
    pc->boot_order = o->boot_order[0] ? o->boot_order : "cad";   /* QEMU's default */
    pc->boot_once = o->boot_once;
    pc->m = m;
    m->board = pc;
    pc->ncpus = o->smp > 0 && o->smp <= MACHINE_MAX_CPUS ? o->smp : 1;
    m->ncpus = pc->ncpus;
    for (int i = 0; i < 24; i++)
        irq_init(&pc->gsi[i], gsi_handler, pc, i);
    irq_init(&pc->pit_irq, legacy_timer_irq, pc, 0);
    irq_init(&pc->rtc_irq, legacy_timer_irq, pc, 8);
    irq_init(&pc->pic_out, pic_output_changed, pc, 0);
    irq_init(&pc->a20_kbc, a20_gate_changed, pc, 0);
    irq_init(&pc->a20_port92, a20_gate_changed, pc, 1);
    if (!map_ram(pc, bios, err, errlen) ||
        (bios && !load_bios(pc, bios, !o->bios, err, errlen)) ||
        !create_chipset(pc, err, errlen) ||
        !create_ide(pc, o, err, errlen) ||
        !create_legacy_devices(pc, o, err, errlen) ||
        !create_floppy(pc, o, err, errlen) ||
        !create_display(pc, o, err, errlen) ||
        !create_virtio(pc, o, err, errlen) ||
        !create_devices(pc, o, err, errlen) ||
        !create_usb(pc, o, err, errlen) ||
        !create_net(pc, o, err, errlen) ||
        !setup_fwcfg(pc, o, err, errlen)) {
        pc_free(pc);
        m->board = NULL;
        return NULL;
    }
    m->cpu_ops = &pc_cpu_ops;
    for (int i = 0; i < MAX_DRIVES; i++)
        watch_drive_errors(pc, i);
    machine_reset_devices(m);
    return pc;
}

void pc_free(PCBoard *pc)
{
    if (!pc)
        return;
    /* Devices belong to the machine; the board owns the backends and the
     * BIOS image, which the memory map points into: free after the
     * machine.  This is called after machine_free(). */
    if (pc->serial_chr_owned)
        chardev_free(pc->serial_chr);
    if (pc->debugcon_chr_owned)
        chardev_free(pc->debugcon_chr);
    for (int i = 0; i < MAX_CHARDEVS; i++)
        chardev_free(pc->chardevs[i]);
    for (int i = 0; i < MAX_DRIVES; i++)
        blk_close(pc->drive_bb[i]);
    free(pc->bios);
    free(pc);
}

/* ---- what the monitor and QMP ask the board (core/monitor.h hooks) ---- */

CharDev *pc_named_chardev(PCBoard *pc, const char *id)
{
    return pc->m->opts ? named_chardev(pc, pc->m->opts, id) : NULL;
}

int pc_set_drives_active(void *opaque, bool active, char *err, size_t errlen)
{
    PCBoard *pc = opaque;
    for (int i = 0; i < MAX_DRIVES; i++)
        if (pc->drive_bb[i] && blk_set_active(pc->drive_bb[i], active, err, errlen) < 0)
            return -1;
    return 0;
}

void pc_drain_io(void *opaque)
{
    PCBoard *pc = opaque;
    for (int i = 0; i < MAX_DRIVES; i++)
        if (pc->drive_bb[i])
            blk_drain(pc->drive_bb[i]);
}

void pc_power_button(void *opaque)
{
    PCBoard *pc = opaque;
    if (pc->piix3)
        piix3_power_button(pc->piix3);
}

struct PCIBus *pc_pci_bus(void *opaque)
{
    return ((PCBoard *)opaque)->pci;
}

/* set_link NAME: the -netdev or the NIC (-device ...,id=NAME) of that
 * name; net_set_link tells both ends, so the guest's NIC sees the change
 * either way (as QEMU, where setting a backend's link also sets its NIC's). */
bool pc_set_link(void *opaque, const char *name, bool up)
{
    PCBoard *pc = opaque;
    bool found = false;
    for (int i = 0; i < pc->nnet_clients; i++)
        if (!strcmp(pc->net_clients[i]->id, name)) {
            net_set_link(pc->net_clients[i], up);
            found = true;
        }
    return found;
}

bool pc_balloon_set(void *opaque, uint64_t target_bytes)
{
    PCBoard *pc = opaque;
    if (!pc->balloon)
        return false;
    virtio_balloon_set_target(pc->balloon, target_bytes);
    return true;
}

bool pc_balloon_info(void *opaque, MonBalloonInfo *out)
{
    PCBoard *pc = opaque;
    if (!pc->balloon)
        return false;
    memset(out, 0, sizeof(*out));
    out->actual = virtio_balloon_actual(pc->balloon);
    VirtIOBalloonStats st;
    virtio_balloon_stats(pc->balloon, &st);
    out->stats_age_ms = st.updated_ns < 0 ? -1
                        : (clock_now(pc->m->clock) - st.updated_ns) / 1000000;
    for (int t = 0; t < VIRTIO_BALLOON_S_NR && out->nstats < MON_BALLOON_STATS; t++)
        if (st.valid[t]) {
            out->stats[out->nstats].name = virtio_balloon_stat_name(t);
            out->stats[out->nstats++].value = st.val[t];
        }
    return true;
}

/* Drive i of the command line, named as QEMU names them (ide0-hd0,
 * ide1-cd0, floppy0). */
void pc_dump_pic(void *opaque, FILE *f)
{
    PCBoard *pc = opaque;
    if (pc->ioapic)
        ioapic_dump(pc->ioapic, 0, f);
    if (pc->pic)
        i8259_dump(pc->pic, f);
}

void pc_dump_irq_counts(void *opaque, FILE *f)
{
    PCBoard *pc = opaque;
    if (pc->ioapic)
        ioapic_dump_counts(pc->ioapic, f);
    if (pc->pic)
        i8259_dump_counts(pc->pic, f);
}

bool pc_dump_lapic(void *opaque, int cpu, FILE *f)
{
    PCBoard *pc = opaque;
    if (cpu < 0 || cpu >= pc->ncpus || !pc->cpu[cpu].lapic)
        return false;
    lapic_dump(pc->cpu[cpu].lapic, cpu, f);
    return true;
}

bool pc_drive_info(void *opaque, int i, MonDriveInfo *out)
{
    PCBoard *pc = opaque;
    const VMOptions *o = pc->m->opts;
    if (!o || i < 0 || i >= o->ndrives || i >= MAX_DRIVES)
        return false;
    const DriveOpt *d = &o->drives[i];
    BlockBackend *bb = pc->drive_bb[i];
    memset(out, 0, sizeof(*out));
    drive_name(o, i, out->device, sizeof out->device);
    out->cdrom = d->media == DRIVE_MEDIA_CDROM || pc->medium[i].pc;
    out->removable = out->cdrom || d->iface == DRIVE_IF_FLOPPY;
    out->io_error = pc->drive_error[i].err;
    out->io_error_write = pc->drive_error[i].is_write;
    if (pc->medium[i].pc) {
        out->tray_open = medium_tray_open(&pc->medium[i]);
        out->locked = medium_locked(&pc->medium[i]);
    }
    if (bb) {
        out->inserted = true;
        out->file = blk_filename(bb);
        out->format = blk_format_name(bb);
        out->ro = blk_is_read_only(bb);
        out->size = blk_size(bb);
        out->bb = bb;
    }
    return true;
}
