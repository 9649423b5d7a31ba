/*
 * The PC board: wires the device models of hw/ into a machine the way an
 * i440FX/PIIX3 PC is wired, maps RAM and firmware, and provides the CPU's
 * interrupt pin (m->cpu_ops).  It is the only file that
 * knows which device sits where.
 *
 *   Machine *m = machine_new(ram, CLOCK_HOST, err, len);
 *   PCBoard *pc = pc_create(m, &opts, err, len);   // devices, RAM, BIOS
 *   ... accelerator init, machine_run(m, ...) ...
 *   pc_free(pc); machine_free(m);
 *
 * Memory map (RAM size R):
 *   0 .. min(R, 640 KiB)        RAM
 *   0xA0000 .. 0xBFFFF           VGA window (hw/vga.c; unassigned with -vga none)
 *   0xC0000 .. 0xFFFFF           firmware: the last 128 KiB of -bios (ROM),
 *                                or RAM when booting a kernel directly
 *   1 MiB .. min(R, 3 GiB)       RAM
 *   0xFEC00000, 0xFEE00000, ...  IOAPIC, LAPIC, HPET (chipset devices)
 *   4 GiB - bios size .. 4 GiB   the -bios image (ROM)
 *   4 GiB .. 4 GiB + R - 3 GiB   RAM above the PCI hole, when R > 3 GiB
 */
#ifndef VX86_HW_PC_H
#define VX86_HW_PC_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "core/machine.h"
#include "hw/pc/linuxboot.h"
#include "hw/pc/multiboot.h"

#define PC_LOW_RAM_END 0xc0000000ULL   /* the PCI hole starts at 3 GiB */
/* The firmware when neither -bios nor -kernel is given: Debian's SeaBIOS. */
#define PC_DEFAULT_BIOS "/usr/share/seabios/bios-256k.bin"

typedef struct PCBoard PCBoard;

PCBoard *pc_create(Machine *m, const VMOptions *o, char *err, size_t errlen);
void pc_free(PCBoard *pc);

/* Direct Linux boot: e820 from the board's map, the kernel/initrd/command
 * line by the boot protocol, the MP table in the firmware area.  Fills
 * the entry state the accelerator must load.  One error line on failure. */
bool pc_load_linux(PCBoard *pc, const VMOptions *o, LinuxBootEntry *entry,
                   char *err, size_t errlen);

/* What -kernel booted: a Linux bzImage, or a Multiboot kernel (an image
 * without the bzImage signature that has a Multiboot header, as QEMU
 * decides). */
typedef struct PCBootEntry {
    bool multiboot;
    bool by_firmware;         /* -bios given too: the BIOS boots it from RESET
                                 (hw/pc/linuxboot-rom16.S), no entry state */
    LinuxBootEntry linux_entry;
    MultibootEntry mb;
} PCBootEntry;

/* -kernel/-initrd/-append: loads either kind and fills fw_cfg's numbered
 * kernel, initrd and command line items as QEMU numbers them.  One error
 * line on failure. */
bool pc_load_kernel(PCBoard *pc, const VMOptions *o, PCBootEntry *entry, char *err,
                    size_t errlen);
/* The CPU state for the entry, on top of a power-on state (unchanged
 * when the firmware boots the kernel). */
void pc_boot_entry_state(const PCBootEntry *entry, X86ArchState *s);

/* A20: the OR of the i8042 output port and port 0x92; changes reach the
 * accelerator through the m->a20 line. */
bool pc_a20_enabled(PCBoard *pc);

/* The display console of the VGA, NULL without one (-vga none). */
struct Console;
struct Console *pc_console(PCBoard *pc);
/* A key event into the PS/2 keyboard (set 2 keycode, see hw/ps2.h); the
 * opaque is the board, so the monitor can take it as a hook. */
void pc_send_key(void *opaque, int keycode, bool down);
/* The machine the board was built on. */
struct Machine *pc_machine(PCBoard *pc);
/* Relative motion and buttons into the PS/2 mouse (see ps2_mouse_event). */
void pc_send_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons);
/* True when an absolute pointer (usb-tablet) takes pc_send_mouse_abs:
 * x, y in 0..0x7fff across the screen. */
bool pc_mouse_absolute(void *opaque);
void pc_send_mouse_abs(void *opaque, int x, int y, int dz, unsigned buttons);

/* Monitor/QMP hooks (core/monitor.h MonitorHooks; opaque is the PCBoard). */
struct MonDriveInfo;
struct MonBalloonInfo;
struct PCIBus;
void pc_power_button(void *opaque);
void pc_drain_io(void *opaque);          /* every drive's requests completed */
/* MonitorHooks.set_drives_active: every drive handed over (migration). */
int pc_set_drives_active(void *opaque, bool active, char *err, size_t errlen);
/* The -chardev named id, opened by pc_create (NULL when there is none). */
struct CharDev;
struct CharDev *pc_named_chardev(PCBoard *pc, const char *id);
struct PCIBus *pc_pci_bus(void *opaque);
bool pc_drive_info(void *opaque, int i, struct MonDriveInfo *out);
/* MonitorHooks.dump_pic / dump_lapic (info pic, info lapic). */
void pc_dump_pic(void *opaque, FILE *f);
void pc_dump_irq_counts(void *opaque, FILE *f);
bool pc_dump_lapic(void *opaque, int cpu, FILE *f);
/* MonitorHooks.eject / change_medium: 0 or a MonError with err set. */
int pc_eject(void *opaque, const char *device, bool force, char *err, size_t errlen);
int pc_change_medium(void *opaque, const char *device, const char *file, const char *format,
                     char *err, size_t errlen);
/* The virtio-balloon (false: none): target, and size plus statistics. */
bool pc_balloon_set(void *opaque, uint64_t target_bytes);
/* The monitor's set_link: false when no network client has that name. */
bool pc_set_link(void *opaque, const char *name, bool up);
bool pc_balloon_info(void *opaque, struct MonBalloonInfo *out);

#endif
