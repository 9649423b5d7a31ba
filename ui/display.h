/*
 * Display backends: what shows the console (ui/console.h) to a person and
 * feeds their keys and mouse to the machine.  One backend per file
 * (ui/sdl.c, ui/curses.c); this layer picks one from -display, falls back
 * from the default display to none, and drives the chosen backend's
 * refresh from a timer on the machine clock (DISPLAY_REFRESH_NS), so an
 * idle guest wakes the host only at the display's frame rate and a static
 * screen is never redrawn (the console reports only what changed).
 *
 *   DisplayInput in = { pc_send_key, pc_send_mouse, pc };
 *   Display *d;
 *   if (!display_open(m, pc_console(pc), &in, opts, &d, err, sizeof err))
 *       ... "vx86: -display sdl: ..." and exit 1
 *   ... machine_run ...
 *   display_close(d);                  // NULL is fine (-display none)
 *
 * Backends know nothing of the devices: keys leave as PS/2 set 2 keycodes
 * (hw/ps2.h's convention: 0xe0NN for E0 keys, DISPLAY_KEY_PAUSE,
 * DISPLAY_KEY_PRINT), the mouse as relative motion, or as absolute
 * positions when the machine has an absolute pointer (mouse_absolute).
 */
#ifndef VX86_UI_DISPLAY_H
#define VX86_UI_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "core/machine.h"
#include "core/options.h"
#include "ui/console.h"

#define DISPLAY_REFRESH_NS (30 * 1000000LL)

struct CharDev;

/* Keycodes beyond plain set 2 codes. */
#define DISPLAY_KEY_PAUSE 0xe11477   /* = PS2_KEY_PAUSE: make only */
#define DISPLAY_KEY_PRINT 0xe07c     /* PrintScreen: sent as E0 12 E0 7C */

#define DISPLAY_BUTTON_LEFT   0x01   /* = PS2_BUTTON_* */
#define DISPLAY_BUTTON_RIGHT  0x02
#define DISPLAY_BUTTON_MIDDLE 0x04

typedef struct DisplayInput {
    void (*key)(void *opaque, int keycode, bool down);
    /* dx > 0 right, dy > 0 down, dz > 0 wheel towards the user. */
    void (*mouse)(void *opaque, int dx, int dy, int dz, unsigned buttons);
    void *opaque;
    /* Optional: an absolute pointer (usb-tablet).  When mouse_absolute
     * says there is one, backends send the pointer's place on the screen
     * as x, y in 0..DISPLAY_ABS_MAX (left/top to right/bottom edge) with
     * no grab, instead of relative motion. */
    bool (*mouse_absolute)(void *opaque);
    void (*mouse_abs)(void *opaque, int x, int y, int dz, unsigned buttons);
} DisplayInput;

#define DISPLAY_ABS_MAX 0x7fff

/* True when in has an absolute pointer now. */
bool display_mouse_absolute(const DisplayInput *in);
/* Position pos of 0..size-1 on a screen axis -> 0..DISPLAY_ABS_MAX. */
int display_abs_coord(int pos, int size);

/* What a backend file provides. */
typedef struct DisplayBackend {
    const char *name;
    /* NULL with one line in err (no "vx86: -display X: " prefix). */
    void *(*open)(Machine *m, Console *con, const DisplayInput *in, const VMOptions *o,
                  char *err, size_t errlen);
    /* Every DISPLAY_REFRESH_NS of machine time: handle host events, show
     * what changed. */
    void (*refresh)(void *state);
    void (*close)(void *state);
    /* Optional: show the human monitor's stream (a "buffer" chardev) on a
     * text console of the display's own (SDL: Ctrl-Alt-2).  False when it
     * cannot (one line in err). */
    bool (*set_monitor)(void *state, struct CharDev *chr, char *err, size_t errlen);
} DisplayBackend;

#ifdef CONFIG_SDL
extern const DisplayBackend sdl_display_backend;
#endif
#ifdef CONFIG_CURSES
extern const DisplayBackend curses_display_backend;
#endif

typedef struct Display Display;

/* Starts the display -display asks for (con may be NULL: no display card,
 * nothing to show).  *out is NULL for -display none.  The default display
 * is SDL when built and an X or Wayland display is there, else none with
 * a one-line notice on stderr.  False with one line in err when the
 * display asked for cannot start. */
bool display_open(Machine *m, Console *con, const DisplayInput *in, const VMOptions *o,
                  Display **out, char *err, size_t errlen);
void display_close(Display *d);
/* -monitor vc: the monitor on the display's text console (QEMU's default
 * with a window).  display_can_show_monitor says whether d can. */
bool display_can_show_monitor(const Display *d);
bool display_set_monitor(Display *d, struct CharDev *chr, char *err, size_t errlen);

/* One key press into the machine, expanding PrintScreen's fake shift
 * (for backends). */
void display_send_key(const DisplayInput *in, int keycode, bool down);

#endif
