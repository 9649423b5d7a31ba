/*
 * A text console for a character stream: the human monitor shown in the
 * SDL window (Ctrl-Alt-2), as QEMU's "vc" consoles.  It is the device
 * side of its own Console (ui/console.h): bytes written to it go into an
 * 80x25 grid of 8x16 cells (CR, LF, BS, TAB; other control characters and
 * ANSI escape sequences are skipped), and its update hook draws the cells
 * that changed, so a display backend shows it like any screen.
 *
 *   uint8_t font[VC_FONT_SIZE];
 *   if (vc_font_load(font, err, sizeof err)) {
 *       TextConsole *vc = vc_new("monitor", font);
 *       vc_write(vc, (const uint8_t *)"(vx86) ", 7);
 *       ... show vc_console(vc) ...
 *   }
 */
#ifndef VX86_UI_VC_H
#define VX86_UI_VC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/console.h"

#define VC_COLS 80
#define VC_ROWS 25
#define VC_FONT_SIZE (256 * 16)   /* 8x16 glyphs, one byte per line */

typedef struct TextConsole TextConsole;

/* The 8x16 font of the VGA BIOS image vx86 gives the VGA (Debian's
 * SeaBIOS vgabios-stdvga.bin), found by its glyph for 'A'.  False with one
 * line in err when the file or the font is not there. */
bool vc_font_load(uint8_t font[VC_FONT_SIZE], char *err, size_t errlen);

TextConsole *vc_new(const char *name, const uint8_t font[VC_FONT_SIZE]);
void vc_free(TextConsole *vc);
Console *vc_console(TextConsole *vc);
void vc_write(TextConsole *vc, const uint8_t *buf, size_t len);

#endif
