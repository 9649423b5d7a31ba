/*
 * The PC's ISA DMA: two Intel 8237A controllers (channels 0-3 move bytes,
 * channels 4-7 move 16-bit words; channel 4 cascades the first controller)
 * plus the 74LS612 page registers that supply address bits 16-23.
 *
 *   I8237State *dma = i8237_create(m, 0x00, 0xc0, 0x80, err, sizeof err);
 *   i8237_connect(dma, 2, fdc_dma_ready, fdc);   // the floppy's channel
 *   i8237_request(dma, 2, true);                 // the device asserts DREQ
 *   ... fdc_dma_ready(fdc) runs as soon as the channel is unmasked ...
 *   n = i8237_write_memory(dma, 2, sector, 512, &tc);  // device -> RAM
 *
 * The device model "pushes": when it asserts DREQ and the channel is
 * programmed and unmasked, the controller calls the device's ready hook
 * (at once, or later when the guest unmasks the channel); the device then
 * moves its data with i8237_read_memory / i8237_write_memory, which honour
 * the channel's mode (transfer direction, address increment/decrement,
 * auto-initialise), stop at terminal count and report it.  Every guest
 * address goes through the machine's memory map, so a channel programmed
 * to point outside RAM moves nothing there (memmap drops such accesses).
 */
#ifndef VX86_HW_I8237_H
#define VX86_HW_I8237_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"

typedef struct I8237State I8237State;

/* Called when the device's DREQ is asserted and the channel can transfer. */
typedef void (*I8237ReadyFn)(void *opaque);

/* base8: ports of the byte controller (16 ports), base16: the word
 * controller (32 ports, registers at even addresses), page_base: the page
 * registers (base+1 .. base+15; base itself is the POST port, left alone).
 * NULL with err set when a port range is taken. */
I8237State *i8237_create(Machine *m, uint16_t base8, uint16_t base16, uint16_t page_base,
                         char *err, size_t errlen);

void i8237_connect(I8237State *s, int channel, I8237ReadyFn ready, void *opaque);
/* DREQ from the device: while asserted, the ready hook runs whenever the
 * channel becomes able to transfer. */
void i8237_request(I8237State *s, int channel, bool on);
/* True when the channel is unmasked and programmed for a transfer. */
bool i8237_channel_ready(I8237State *s, int channel);

/* Moves up to len bytes between buf and guest memory at the channel's
 * current address, advancing address and count.  Returns the bytes moved
 * (less than len when terminal count was reached; *tc is then true).  A
 * write moves device -> memory and needs a "write transfer" channel mode;
 * a read moves memory -> device and needs "read transfer"; a verify
 * transfer advances the channel without touching memory. */
size_t i8237_write_memory(I8237State *s, int channel, const void *buf, size_t len, bool *tc);
size_t i8237_read_memory(I8237State *s, int channel, void *buf, size_t len, bool *tc);

#endif
