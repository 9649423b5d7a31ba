/*
 * devices: a test ROM for the generic test devices (tests/system/devices.sh).
 * Writes one line to a debugcon at port 0x402 and another to one at 0x500
 * (each goes to its own file), round-trips pc-testdev's scratch register
 * and memory window, and prints CPUID.1:ECX's SSE4.2 and POPCNT bits so
 * the script can check that -cpu MODEL,-feat reaches the guest.
 */
#include "testrom.h"

static void port_puts(uint16_t port, const char *s)
{
    while (*s)
        outb(port, (uint8_t)*s++);
}

int main(void)
{
    port_puts(0x402, "to the debugcon at 0x402\n");
    port_puts(0x500, "to the debugcon at 0x500\n");
    port_puts(0x402, "second line at 0x402\n");

    uint32_t r[4];
    cpuid(1, 0, r);
    tprintf("cpuid.1: sse4.2=%u popcnt=%u sse4.1=%u\n", (unsigned)(r[2] >> 20) & 1,
            (unsigned)(r[2] >> 23) & 1, (unsigned)(r[2] >> 19) & 1);

    /* pc-testdev: the scratch register through both windows, the iomem. */
    outl(0xe0, 0x11223344);
    /* Byte reads of the byte window: 0xe9 is the debug console's here. */
    tprintf("testdev: e0=%08x e8=%02x ea=%02x eb=%02x e2=%04x\n", inl(0xe0), inb(0xe8),
            inb(0xea), inb(0xeb), inw(0xe2));
    volatile uint32_t *iomem = (volatile uint32_t *)0xff000000u;
    iomem[3] = 0xcafef00d;
    tprintf("testdev: iomem[3]=%08x\n", iomem[3]);
    CHECK(inl(0xe0) == 0x11223344);
    CHECK(iomem[3] == 0xcafef00d);
    return test_result();
}
