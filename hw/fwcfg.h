/*
 * QEMU-compatible firmware configuration device (fw_cfg), IO-port flavour:
 * selector at 0x510 (16-bit, little-endian), data at 0x511 (byte reads),
 * DMA address at 0x514 (high dword) / 0x518 (low dword, big-endian; the
 * low write starts the transfer).  SeaBIOS and Linux's qemu_fw_cfg driver
 * talk to it exactly as to QEMU's.
 *
 *   FWCfgState *fw = fwcfg_create(m, FW_CFG_PORT_SEL, FW_CFG_PORT_DMA);
 *   fwcfg_add_i32(fw, FW_CFG_NB_CPUS, 1);
 *   fwcfg_add_file(fw, "etc/e820", e820, len);
 *
 * Item data is copied.  Numeric items are little-endian (as in QEMU); the
 * file directory (key 0x19) is big-endian: be32 count, then per file
 * { be32 size, be16 select, be16 reserved, char name[56] }.
 * Writes through the data port are ignored and DMA writes fail with the
 * error bit: no item is guest-writable.
 */
#ifndef VX86_HW_FWCFG_H
#define VX86_HW_FWCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"

#define FW_CFG_PORT_SEL       0x510
#define FW_CFG_PORT_DATA      0x511
#define FW_CFG_PORT_DMA       0x514

#define FW_CFG_SIGNATURE      0x0000
#define FW_CFG_ID             0x0001
#define FW_CFG_UUID           0x0002
#define FW_CFG_RAM_SIZE       0x0003
#define FW_CFG_NOGRAPHIC      0x0004
#define FW_CFG_NB_CPUS        0x0005
#define FW_CFG_MACHINE_ID     0x0006
#define FW_CFG_KERNEL_ADDR    0x0007
#define FW_CFG_KERNEL_SIZE    0x0008
#define FW_CFG_KERNEL_CMDLINE 0x0009
#define FW_CFG_INITRD_ADDR    0x000a
#define FW_CFG_INITRD_SIZE    0x000b
#define FW_CFG_BOOT_DEVICE    0x000c
#define FW_CFG_NUMA           0x000d
#define FW_CFG_BOOT_MENU      0x000e
#define FW_CFG_MAX_CPUS       0x000f
#define FW_CFG_KERNEL_ENTRY   0x0010
#define FW_CFG_KERNEL_DATA    0x0011
#define FW_CFG_INITRD_DATA    0x0012
#define FW_CFG_CMDLINE_ADDR   0x0013
#define FW_CFG_CMDLINE_SIZE   0x0014
#define FW_CFG_CMDLINE_DATA   0x0015
#define FW_CFG_SETUP_ADDR     0x0016
#define FW_CFG_SETUP_SIZE     0x0017
#define FW_CFG_SETUP_DATA     0x0018
#define FW_CFG_FILE_DIR       0x0019
#define FW_CFG_FILE_FIRST     0x0020
#define FW_CFG_WRITE_CHANNEL  0x4000
#define FW_CFG_ARCH_LOCAL     0x8000
/* x86 (arch-local) items, as QEMU numbers them */
#define FW_CFG_ACPI_TABLES    (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE  (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE     (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET           (FW_CFG_ARCH_LOCAL + 4)
#define FW_CFG_MAX_FILE_PATH  56

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_SIGNATURE  0x51454d5520434647ULL   /* "QEMU CFG" */

typedef struct FWCfgState FWCfgState;
/* Called when the guest selects key (before any data moves), so a board
 * can refresh an item (e.g. ACPI tables after firmware moved PM IO). */
typedef void (*FWCfgSelectFn)(void *opaque, FWCfgState *s, uint16_t key);

/* Claims base..base+1 (selector, data) and dma_base..dma_base+7 (the PC:
 * FW_CFG_PORT_SEL, FW_CFG_PORT_DMA) and registers "fw_cfg"; NULL when a
 * port is taken. */
FWCfgState *fwcfg_create(Machine *m, uint16_t base, uint16_t dma_base);
/* Adds or replaces the item at key (files: use fwcfg_add_file). */
bool fwcfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len);
bool fwcfg_add_i16(FWCfgState *s, uint16_t key, uint16_t v);
bool fwcfg_add_i32(FWCfgState *s, uint16_t key, uint32_t v);
bool fwcfg_add_i64(FWCfgState *s, uint16_t key, uint64_t v);
/* Adds a named file; returns its key, or -1 (name too long, duplicate,
 * or no free key). */
int fwcfg_add_file(FWCfgState *s, const char *name, const void *data, size_t len);
/* Replaces an existing file's contents (directory size updated). */
bool fwcfg_update_file(FWCfgState *s, const char *name, const void *data, size_t len);
int fwcfg_find_file(FWCfgState *s, const char *name);   /* key or -1 */
void fwcfg_set_select_hook(FWCfgState *s, FWCfgSelectFn fn, void *opaque);

#endif
