/* vga-text with the cursor on (scanlines 13-14 of the cell at row 10,
 * column 20); QEMU blinks it on wall-clock time, so vgadiff takes several
 * dumps.  Character blink is not compared: QEMU 7.2 ignores the blink
 * enable bit (bit 7 is always a bright background, nothing blinks); vx86
 * follows the VGA (tests/unit/test_vga.c checks it). */
#define TEXT_CURSOR 1
#include "vga-text.c"
