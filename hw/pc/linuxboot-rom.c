/*
 * The -kernel option ROM's image: the bytes assembled from
 * linuxboot-rom16.S, made into a valid option ROM (size in 512-byte blocks
 * at offset 2, a PnP header whose bytes sum to 0, an image whose bytes
 * sum to 0: what a BIOS checks before it runs a ROM).
 */
#include "hw/pc/linuxboot-rom.h"

#include <string.h>

#include "core/util.h"

extern const uint8_t vx86_linuxboot_rom[], vx86_linuxboot_rom_end[];

enum {
    ROM_SIZE_BYTE = 0x02,
    ROM_PNP_PTR = 0x1a,
    PNP_LEN_UNITS = 0x05,
    PNP_CHECKSUM = 0x09,
};

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

uint8_t *linuxboot_rom_image(size_t *len)
{
    size_t code = (size_t)(vx86_linuxboot_rom_end - vx86_linuxboot_rom);
    /* One spare byte for the image checksum, then whole blocks. */
    size_t n = (code + 1 + 511) & ~(size_t)511;
    uint8_t *rom = xcalloc(1, n);
    memcpy(rom, vx86_linuxboot_rom, code);
    rom[ROM_SIZE_BYTE] = (uint8_t)(n / 512);
    uint8_t *pnp = rom + (rom[ROM_PNP_PTR] | rom[ROM_PNP_PTR + 1] << 8);
    pnp[PNP_CHECKSUM] = 0;
    pnp[PNP_CHECKSUM] = (uint8_t)-sum8(pnp, (size_t)pnp[PNP_LEN_UNITS] * 16);
    rom[n - 1] = 0;
    rom[n - 1] = (uint8_t)-sum8(rom, n);
    *len = n;
    return rom;
}
