/*
 * The display console: what a display device (hw/vga.c) renders into and
 * what display backends (screendump today; SDL, VNC, curses next) read.
 * It knows nothing of any device: a device registers ConsoleHwOps (render
 * what changed into the surface), backends register ConsoleListeners
 * (resize, dirty rectangles).
 *
 *   Console *con = console_new("vga");
 *   console_set_hw(con, &vga_console_ops, vga);          // device side
 *   ...
 *   console_refresh(con);           // backend: "render pending changes now"
 *   DisplaySurface *s = console_surface(con);   // s->pixels, XRGB8888
 *
 * Device side, inside its update hook:
 *   console_resize(con, 720, 400);             // reallocates, all dirty
 *   ... write s->pixels ...
 *   console_mark_dirty(con, x, y, w, h);       // reaches every listener
 *
 * Pixels are 32-bit 0x00RRGGBB words (XRGB8888 in host byte order),
 * stride in bytes.  A surface of 0x0 means "nothing to show" (display
 * disabled).  Everything runs on the main-loop thread.
 */
#ifndef VX86_UI_CONSOLE_H
#define VX86_UI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct DisplaySurface {
    int width, height;
    int stride;              /* bytes per row */
    uint32_t *pixels;        /* 0x00RRGGBB */
} DisplaySurface;

typedef struct ConsoleRect {
    int x, y, w, h;
} ConsoleRect;

/* A text screen as the display shows it (for text terminals: curses).
 * cells holds cols * rows entries, character | attribute << 8 (the PC's
 * attribute byte: bits 0-3 foreground, 4-6 background, 7 blink or bright
 * background); the caller provides it with room for max_cells. */
#define CONSOLE_TEXT_MAX_CELLS (256 * 128)
typedef struct ConsoleText {
    int cols, rows;
    uint16_t *cells;
    int max_cells;
    int cursor_x, cursor_y;  /* -1, -1: no cursor shown */
} ConsoleText;

/* What the device provides. */
typedef struct ConsoleHwOps {
    /* Render whatever changed since the last call into the surface (and
     * resize it first when the mode changed). */
    void (*update)(void *opaque);
    /* Forget what was drawn: the next update redraws everything. */
    void (*invalidate)(void *opaque);
    /* Text modes: the character cells as they are displayed (may be NULL;
     * see console_get_text). */
    bool (*get_text)(void *opaque, struct ConsoleText *t);
} ConsoleHwOps;

/* What a display backend provides; any hook may be NULL. */
typedef struct ConsoleListener {
    void (*resize)(void *opaque, DisplaySurface *s);
    void (*update)(void *opaque, int x, int y, int w, int h);
    void *opaque;
} ConsoleListener;

typedef struct Console Console;

Console *console_new(const char *name);
void console_free(Console *c);
const char *console_name(const Console *c);

void console_set_hw(Console *c, const ConsoleHwOps *ops, void *opaque);
/* At most 4 listeners; false when full. */
bool console_add_listener(Console *c, const ConsoleListener *l);
void console_remove_listener(Console *c, void *opaque);

DisplaySurface *console_surface(Console *c);

/* Device side. */
void console_resize(Console *c, int width, int height);
void console_mark_dirty(Console *c, int x, int y, int w, int h);

/* Backend side: ask the device to render; with full, everything. */
void console_refresh(Console *c, bool full);
/* The union of the rectangles marked dirty since the last call (false
 * when nothing changed); clears it.  For backends that poll instead of
 * listening. */
bool console_take_dirty(Console *c, ConsoleRect *r);
/* The text screen when the device shows a text mode; false in graphics
 * modes, with the display off, or when the device cannot tell. */
bool console_get_text(Console *c, ConsoleText *t);

/* Screendumps (ui/screendump.c): the surface after a full refresh. */
typedef enum ScreendumpFormat { SCREENDUMP_PPM, SCREENDUMP_PNG } ScreendumpFormat;
bool screendump_write(const DisplaySurface *s, const char *path, ScreendumpFormat fmt,
                      char *err, size_t errlen);
bool console_screendump(Console *c, const char *path, ScreendumpFormat fmt,
                        char *err, size_t errlen);

#endif
