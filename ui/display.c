/*
 * Display selection and the refresh timer (see display.h).
 */
#include "ui/display.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/util.h"

struct Display {
    const DisplayBackend *be;
    void *state;
    Machine *m;
    Timer *timer;
};

static void display_tick(void *opaque)
{
    Display *d = opaque;
    d->be->refresh(d->state);
    timer_mod(d->timer, clock_now(d->m->clock) + DISPLAY_REFRESH_NS);
}

static void display_stopped_refresh(void *opaque)
{
    Display *d = opaque;
    d->be->refresh(d->state);
}

static bool have_window_system(void)
{
    const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (w && *w);
}

static const DisplayBackend *backend_for(DisplayKind kind)
{
    switch (kind) {
#ifdef CONFIG_SDL
    case DISPLAY_SDL: return &sdl_display_backend;
#endif
#ifdef CONFIG_CURSES
    case DISPLAY_CURSES: return &curses_display_backend;
#endif
    default: return NULL;
    }
}

bool display_open(Machine *m, Console *con, const DisplayInput *in, const VMOptions *o,
                  Display **out, char *err, size_t errlen)
{
    *out = NULL;
    DisplayKind kind = o->display;
    bool asked = kind != DISPLAY_DEFAULT;
    /* No window by default when a VNC server shows the screen (QEMU). */
    if (kind == DISPLAY_NONE || (!asked && (!con || o->vnc.enabled)))
        return true;
    if (!asked) {
#ifdef CONFIG_SDL
        if (!have_window_system()) {
            fprintf(stderr, "vx86: no X or Wayland display (DISPLAY is not set): "
                            "running with -display none\n");
            return true;
        }
        kind = DISPLAY_SDL;
#else
        return true;
#endif
    }
    const char *name = kind == DISPLAY_SDL ? "sdl" : "curses";
    const DisplayBackend *be = backend_for(kind);
    if (!be) {
        snprintf(err, errlen, "-display %s: vx86 was built without it (see ./configure)", name);
        return false;
    }
    if (kind == DISPLAY_SDL && !have_window_system() && !getenv("SDL_VIDEODRIVER")) {
        snprintf(err, errlen, "-display sdl: no X or Wayland display (DISPLAY is not set)");
        return false;
    }
    char berr[512];
    void *state = be->open(m, con, in, o, berr, sizeof berr);
    if (!state) {
        if (!asked) {
            fprintf(stderr, "vx86: cannot open the SDL window (%s): running with -display none\n",
                    berr);
            return true;
        }
        snprintf(err, errlen, "-display %s: %s", name, berr);
        return false;
    }
    Display *d = xcalloc(1, sizeof(*d));
    d->be = be;
    d->state = state;
    d->m = m;
    d->timer = timer_new(m->clock, display_tick, d);
    timer_mod(d->timer, clock_now(m->clock));
    m->stopped_refresh = display_stopped_refresh;
    m->stopped_refresh_opaque = d;
    *out = d;
    return true;
}

void display_close(Display *d)
{
    if (!d)
        return;
    timer_free(d->timer);
    if (d->m->stopped_refresh_opaque == d)
        d->m->stopped_refresh = NULL;
    d->be->close(d->state);
    free(d);
}

bool display_can_show_monitor(const Display *d)
{
    return d && d->be->set_monitor;
}

bool display_set_monitor(Display *d, struct CharDev *chr, char *err, size_t errlen)
{
    if (!display_can_show_monitor(d)) {
        snprintf(err, errlen, "needs -display sdl (the monitor's console in the window)");
        return false;
    }
    return d->be->set_monitor(d->state, chr, err, errlen);
}

void display_send_key(const DisplayInput *in, int keycode, bool down)
{
    if (!in->key)
        return;
    if (keycode == DISPLAY_KEY_PRINT) {
        /* A real keyboard wraps PrintScreen in a fake left shift (E0 12). */
        if (down) {
            in->key(in->opaque, 0xe012, true);
            in->key(in->opaque, 0xe07c, true);
        } else {
            in->key(in->opaque, 0xe07c, false);
            in->key(in->opaque, 0xe012, false);
        }
        return;
    }
    in->key(in->opaque, keycode, down);
}

bool display_mouse_absolute(const DisplayInput *in)
{
    return in->mouse_absolute && in->mouse_abs && in->mouse_absolute(in->opaque);
}

int display_abs_coord(int pos, int size)
{
    if (size <= 1 || pos <= 0)
        return 0;
    if (pos >= size - 1)
        return DISPLAY_ABS_MAX;
    return (int)((int64_t)pos * DISPLAY_ABS_MAX / (size - 1));
}
