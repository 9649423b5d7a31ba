/*
 * Floppy disk controller, 82077AA-compatible in PC/AT mode, with up to two
 * drives (A: and B:) holding 160 KiB .. 2.88 MiB images.
 *
 *   FDCState *fdc = fdc_create(m, 0x3f0, &gsi[6], dma, 2, err, sizeof err);
 *   fdc_insert(fdc, 0, bb, err, sizeof err);      // geometry from the size
 *   cmos[0x10] = fdc_cmos_type(fdc, 0) << 4 | fdc_cmos_type(fdc, 1);
 *
 * Data moves by ISA DMA only (the mode PC BIOSes and Linux use); sector
 * data is read and written through the asynchronous block layer, so the
 * vCPU never waits for the image: the execution phase ends, and the
 * interrupt is raised, when the request completes.
 */
#ifndef VX86_HW_FDC_H
#define VX86_HW_FDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "core/irq.h"
#include "core/machine.h"
#include "hw/i8237.h"

typedef struct FDCState FDCState;

/* Registers base..base+5 and base+7 (base+6 belongs to the IDE channel).
 * NULL with err set when the ports are taken. */
FDCState *fdc_create(Machine *m, uint16_t base, IRQLine *irq, I8237State *dma, int dma_channel,
                     char *err, size_t errlen);

/* Puts an image in drive 0 or 1 (bb NULL: empty drive).  Fails with
 * "FILE: ..." when the size is no floppy format.  The controller does not
 * own bb. */
bool fdc_insert(FDCState *s, int drive, BlockBackend *bb, char *err, size_t errlen);

/* CMOS drive type nibble (register 0x10) for the drive: 0 none,
 * 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M. */
int fdc_cmos_type(const FDCState *s, int drive);

#endif
