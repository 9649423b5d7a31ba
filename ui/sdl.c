/*
 * The SDL2 display (-display sdl): one window showing the console surface.
 *
 * Drawing: a console listener collects the dirty rectangle; each refresh
 * (display.c's timer, every DISPLAY_REFRESH_NS) asks the device to render
 * what changed and, only when something did, copies that rectangle into
 * the window's framebuffer (SDL's window surface: shared memory with the X
 * server) and updates just that rectangle on screen.  A static screen
 * costs one event poll and the device's change check per refresh; a
 * blinking cursor one cell.  No GPU renderer: on a machine without one
 * (Xvfb, ssh -X, VMs) a GL renderer would rasterise every frame on the CPU.
 * A window of another size shows the screen scaled with the aspect ratio
 * kept (letterboxed), nearest-neighbour (then each change redraws the
 * whole scaled frame); at the guest size the window shows the guest's
 * pixels exactly.
 *
 * Input: SDL scancodes (USB HID positions) -> PS/2 set 2 keycodes by the
 * table below; key repeat is passed on as repeated make codes, as a PS/2
 * keyboard's typematic does.  The mouse goes to the PS/2 mouse as
 * relative motion while grabbed (a click in the window grabs it,
 * Ctrl-Alt-G releases; the title says so).  Ctrl-Alt-F toggles full
 * screen.  Ctrl-Alt-2 shows the human monitor on a text console of the
 * window's own (ui/vc.c; typed text goes to the monitor), Ctrl-Alt-1 the
 * guest again.  Closing the window quits, as QEMU's SDL display does (not with
 * -no-quit or -display sdl,window-close=off).
 * Everything runs on the main-loop thread, which SDL requires.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "core/util.h"
#include "host/chardev.h"
#include "ui/display.h"
#include "ui/vc.h"

typedef struct SDLDisplay {
    Machine *m;
    Console *con;               /* the guest's screen */
    Console *shown;             /* what the window shows: con or the monitor's */
    TextConsole *vc;            /* the monitor's text console (Ctrl-Alt-2) */
    CharDev *mon;               /* ... and the monitor's stream */
    DisplayInput in;
    SDL_Window *win;
    SDL_Surface *src;           /* wraps the console surface's pixels */
    int src_w, src_h;
    bool dirty;                 /* the surface changed since the last frame */
    ConsoleRect rect;           /* ... in this rectangle */
    bool need_present;          /* the window needs a new frame (expose) */
    bool grabbed;
    bool full_screen;
    bool no_quit;               /* -no-quit: closing the window does nothing */
    unsigned buttons;
    char title_state[16];       /* "" or "[Paused]" / "[Stopped]" */
    uint8_t down[SDL_NUM_SCANCODES];   /* keys the guest sees pressed */
    uint8_t held[SDL_NUM_SCANCODES];   /* keys held on the host (hot keys) */
} SDLDisplay;

/* SDL scancode -> set 2 keycode (0: no PS/2 key). */
static const int sdl_to_set2[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_A] = 0x1c, [SDL_SCANCODE_B] = 0x32, [SDL_SCANCODE_C] = 0x21,
    [SDL_SCANCODE_D] = 0x23, [SDL_SCANCODE_E] = 0x24, [SDL_SCANCODE_F] = 0x2b,
    [SDL_SCANCODE_G] = 0x34, [SDL_SCANCODE_H] = 0x33, [SDL_SCANCODE_I] = 0x43,
    [SDL_SCANCODE_J] = 0x3b, [SDL_SCANCODE_K] = 0x42, [SDL_SCANCODE_L] = 0x4b,
    [SDL_SCANCODE_M] = 0x3a, [SDL_SCANCODE_N] = 0x31, [SDL_SCANCODE_O] = 0x44,
    [SDL_SCANCODE_P] = 0x4d, [SDL_SCANCODE_Q] = 0x15, [SDL_SCANCODE_R] = 0x2d,
    [SDL_SCANCODE_S] = 0x1b, [SDL_SCANCODE_T] = 0x2c, [SDL_SCANCODE_U] = 0x3c,
    [SDL_SCANCODE_V] = 0x2a, [SDL_SCANCODE_W] = 0x1d, [SDL_SCANCODE_X] = 0x22,
    [SDL_SCANCODE_Y] = 0x35, [SDL_SCANCODE_Z] = 0x1a,
    [SDL_SCANCODE_1] = 0x16, [SDL_SCANCODE_2] = 0x1e, [SDL_SCANCODE_3] = 0x26,
    [SDL_SCANCODE_4] = 0x25, [SDL_SCANCODE_5] = 0x2e, [SDL_SCANCODE_6] = 0x36,
    [SDL_SCANCODE_7] = 0x3d, [SDL_SCANCODE_8] = 0x3e, [SDL_SCANCODE_9] = 0x46,
    [SDL_SCANCODE_0] = 0x45,
    [SDL_SCANCODE_RETURN] = 0x5a, [SDL_SCANCODE_ESCAPE] = 0x76,
    [SDL_SCANCODE_BACKSPACE] = 0x66, [SDL_SCANCODE_TAB] = 0x0d, [SDL_SCANCODE_SPACE] = 0x29,
    [SDL_SCANCODE_MINUS] = 0x4e, [SDL_SCANCODE_EQUALS] = 0x55,
    [SDL_SCANCODE_LEFTBRACKET] = 0x54, [SDL_SCANCODE_RIGHTBRACKET] = 0x5b,
    [SDL_SCANCODE_BACKSLASH] = 0x5d, [SDL_SCANCODE_NONUSHASH] = 0x5d,
    [SDL_SCANCODE_SEMICOLON] = 0x4c, [SDL_SCANCODE_APOSTROPHE] = 0x52,
    [SDL_SCANCODE_GRAVE] = 0x0e, [SDL_SCANCODE_COMMA] = 0x41, [SDL_SCANCODE_PERIOD] = 0x49,
    [SDL_SCANCODE_SLASH] = 0x4a, [SDL_SCANCODE_CAPSLOCK] = 0x58,
    [SDL_SCANCODE_NONUSBACKSLASH] = 0x61,
    [SDL_SCANCODE_F1] = 0x05, [SDL_SCANCODE_F2] = 0x06, [SDL_SCANCODE_F3] = 0x04,
    [SDL_SCANCODE_F4] = 0x0c, [SDL_SCANCODE_F5] = 0x03, [SDL_SCANCODE_F6] = 0x0b,
    [SDL_SCANCODE_F7] = 0x83, [SDL_SCANCODE_F8] = 0x0a, [SDL_SCANCODE_F9] = 0x01,
    [SDL_SCANCODE_F10] = 0x09, [SDL_SCANCODE_F11] = 0x78, [SDL_SCANCODE_F12] = 0x07,
    [SDL_SCANCODE_PRINTSCREEN] = DISPLAY_KEY_PRINT, [SDL_SCANCODE_SYSREQ] = 0x84,
    [SDL_SCANCODE_SCROLLLOCK] = 0x7e, [SDL_SCANCODE_PAUSE] = DISPLAY_KEY_PAUSE,
    [SDL_SCANCODE_INSERT] = 0xe070, [SDL_SCANCODE_HOME] = 0xe06c,
    [SDL_SCANCODE_PAGEUP] = 0xe07d, [SDL_SCANCODE_DELETE] = 0xe071,
    [SDL_SCANCODE_END] = 0xe069, [SDL_SCANCODE_PAGEDOWN] = 0xe07a,
    [SDL_SCANCODE_RIGHT] = 0xe074, [SDL_SCANCODE_LEFT] = 0xe06b,
    [SDL_SCANCODE_DOWN] = 0xe072, [SDL_SCANCODE_UP] = 0xe075,
    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x77, [SDL_SCANCODE_KP_DIVIDE] = 0xe04a,
    [SDL_SCANCODE_KP_MULTIPLY] = 0x7c, [SDL_SCANCODE_KP_MINUS] = 0x7b,
    [SDL_SCANCODE_KP_PLUS] = 0x79, [SDL_SCANCODE_KP_ENTER] = 0xe05a,
    [SDL_SCANCODE_KP_1] = 0x69, [SDL_SCANCODE_KP_2] = 0x72, [SDL_SCANCODE_KP_3] = 0x7a,
    [SDL_SCANCODE_KP_4] = 0x6b, [SDL_SCANCODE_KP_5] = 0x73, [SDL_SCANCODE_KP_6] = 0x74,
    [SDL_SCANCODE_KP_7] = 0x6c, [SDL_SCANCODE_KP_8] = 0x75, [SDL_SCANCODE_KP_9] = 0x7d,
    [SDL_SCANCODE_KP_0] = 0x70, [SDL_SCANCODE_KP_PERIOD] = 0x71,
    [SDL_SCANCODE_APPLICATION] = 0xe02f,
    [SDL_SCANCODE_LCTRL] = 0x14, [SDL_SCANCODE_LSHIFT] = 0x12, [SDL_SCANCODE_LALT] = 0x11,
    [SDL_SCANCODE_LGUI] = 0xe01f, [SDL_SCANCODE_RCTRL] = 0xe014,
    [SDL_SCANCODE_RSHIFT] = 0x59, [SDL_SCANCODE_RALT] = 0xe011, [SDL_SCANCODE_RGUI] = 0xe027,
};

static void sdl_update_title(SDLDisplay *d)
{
    char title[256];
    const char *name = d->m->opts && d->m->opts->name ? d->m->opts->name : NULL;
    snprintf(title, sizeof title, "vx86%s%s%s%s%s", name ? " (" : "", name ? name : "",
             name ? ")" : "", d->title_state[0] ? " " : "", d->title_state);
    if (d->vc && d->shown == vc_console(d->vc))
        snprintf(title + strlen(title), sizeof title - strlen(title), " - monitor");
    if (d->grabbed)
        snprintf(title + strlen(title), sizeof title - strlen(title),
                 " - Press Ctrl-Alt-G to exit grab");
    SDL_SetWindowTitle(d->win, title);
}

static void sdl_set_grab(SDLDisplay *d, bool on)
{
    if (d->grabbed == on)
        return;
    d->grabbed = on;
    SDL_SetWindowGrab(d->win, on ? SDL_TRUE : SDL_FALSE);
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    if (!on && d->buttons) {
        d->buttons = 0;
        if (d->in.mouse)
            d->in.mouse(d->in.opaque, 0, 0, 0, 0);
    }
    sdl_update_title(d);
}

/* Releases every key the guest sees pressed (focus lost, hot keys). */
static void sdl_release_keys(SDLDisplay *d)
{
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
        if (d->down[sc]) {
            d->down[sc] = 0;
            display_send_key(&d->in, sdl_to_set2[sc], false);
        }
    }
}

/* ---- drawing ---- */

static void sdl_resize(void *opaque, DisplaySurface *s)
{
    SDLDisplay *d = opaque;
    bool same = d->src_w == s->width && d->src_h == s->height;
    if (d->src)
        SDL_FreeSurface(d->src);
    d->src = NULL;
    d->src_w = s->width;
    d->src_h = s->height;
    d->dirty = false;
    d->need_present = true;
    if (!s->width || !s->height || !s->pixels)
        return;
    d->src = SDL_CreateRGBSurfaceWithFormatFrom(s->pixels, s->width, s->height, 32, s->stride,
                                                SDL_PIXELFORMAT_RGB888);
    if (!same && !d->full_screen)
        SDL_SetWindowSize(d->win, s->width, s->height);
}

static void sdl_dirty(void *opaque, int x, int y, int w, int h)
{
    SDLDisplay *d = opaque;
    if (!d->dirty) {
        d->rect = (ConsoleRect){ x, y, w, h };
        d->dirty = true;
        return;
    }
    ConsoleRect *r = &d->rect;
    int x1 = MAX(r->x + r->w, x + w), y1 = MAX(r->y + r->h, y + h);
    r->x = MIN(r->x, x);
    r->y = MIN(r->y, y);
    r->w = x1 - r->x;
    r->h = y1 - r->y;
}

/* Where the screen goes in a window of the given size: scaled to fit,
 * aspect ratio kept, centred. */
static SDL_Rect sdl_viewport(const SDLDisplay *d, int ww, int wh)
{
    SDL_Rect v = { 0, 0, ww, wh };
    if (!d->src_w || !d->src_h)
        return v;
    if ((int64_t)ww * d->src_h > (int64_t)wh * d->src_w)
        v.w = (int)((int64_t)wh * d->src_w / d->src_h);
    else
        v.h = (int)((int64_t)ww * d->src_h / d->src_w);
    v.x = (ww - v.w) / 2;
    v.y = (wh - v.h) / 2;
    return v;
}

static void sdl_draw(SDLDisplay *d)
{
    if (!d->dirty && !d->need_present)
        return;
    SDL_Surface *ws = SDL_GetWindowSurface(d->win);
    if (!ws)
        return;
    SDL_Rect v = sdl_viewport(d, ws->w, ws->h);
    bool unscaled = v.w == d->src_w && v.h == d->src_h;
    if (d->need_present || !unscaled || !d->src) {
        /* Everything: the black bars, the (scaled) screen. */
        SDL_FillRect(ws, NULL, SDL_MapRGB(ws->format, 0, 0, 0));
        if (d->src) {
            if (unscaled)
                SDL_BlitSurface(d->src, NULL, ws, &v);
            else
                SDL_BlitScaled(d->src, NULL, ws, &v);
        }
        SDL_UpdateWindowSurface(d->win);
    } else {
        /* Only the rectangle that changed. */
        SDL_Rect r = { d->rect.x, d->rect.y, d->rect.w, d->rect.h };
        SDL_Rect to = { v.x + r.x, v.y + r.y, r.w, r.h };
        SDL_BlitSurface(d->src, &r, ws, &to);
        to = (SDL_Rect){ v.x + r.x, v.y + r.y, r.w, r.h };
        SDL_UpdateWindowSurfaceRects(d->win, &to, 1);
    }
    d->dirty = false;
    d->need_present = false;
}

/* ---- events ---- */

/* Shows another console in the window (the guest's or the monitor's). */
static void sdl_show(SDLDisplay *d, Console *c)
{
    if (!c || c == d->shown)
        return;
    if (d->shown)
        console_remove_listener(d->shown, d);
    d->shown = c;
    ConsoleListener l = { sdl_resize, sdl_dirty, d };
    console_add_listener(c, &l);
    console_refresh(c, true);
    d->need_present = true;
    sdl_update_title(d);
}

/* A key for the monitor's console: the text comes as SDL_TEXTINPUT,
 * here only the keys that make no text. */
static void sdl_monitor_key(SDLDisplay *d, const SDL_KeyboardEvent *k)
{
    uint8_t ch;
    switch (k->keysym.scancode) {
    case SDL_SCANCODE_RETURN:
    case SDL_SCANCODE_KP_ENTER: ch = '\r'; break;
    case SDL_SCANCODE_BACKSPACE: ch = 0x7f; break;
    default: return;
    }
    chardev_push_input(d->mon, &ch, 1);
}

/* Ctrl-Alt-KEY: true when it was one of ours (not passed to the guest). */
static bool sdl_hotkey(SDLDisplay *d, const SDL_KeyboardEvent *k)
{
    /* The modifiers as this window saw them go down (SDL's own modifier
     * state can lag behind synthetic input). */
    bool ctrl = d->held[SDL_SCANCODE_LCTRL] || d->held[SDL_SCANCODE_RCTRL];
    bool alt = d->held[SDL_SCANCODE_LALT] || d->held[SDL_SCANCODE_RALT];
    if (!ctrl || !alt)
        return false;
    switch (k->keysym.scancode) {
    case SDL_SCANCODE_G:
        sdl_release_keys(d);
        sdl_set_grab(d, !d->grabbed);
        return true;
    case SDL_SCANCODE_F:
        sdl_release_keys(d);
        d->full_screen = !d->full_screen;
        SDL_SetWindowFullscreen(d->win, d->full_screen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        if (!d->full_screen && d->src_w)
            SDL_SetWindowSize(d->win, d->src_w, d->src_h);
        d->need_present = true;
        return true;
    case SDL_SCANCODE_1:
        sdl_show(d, d->con);
        return true;
    case SDL_SCANCODE_2:
        if (d->vc) {
            sdl_release_keys(d);
            sdl_show(d, vc_console(d->vc));
        }
        return true;
    default:
        return false;
    }
}

static void sdl_key(SDLDisplay *d, const SDL_KeyboardEvent *k)
{
    bool down = k->type == SDL_KEYDOWN;
    SDL_Scancode sc = k->keysym.scancode;
    if ((unsigned)sc < SDL_NUM_SCANCODES)
        d->held[sc] = down;
    if (down && sdl_hotkey(d, k))
        return;
    if (d->shown != d->con) {
        if (down && d->mon)
            sdl_monitor_key(d, k);
        return;
    }
    if ((unsigned)sc >= SDL_NUM_SCANCODES || !sdl_to_set2[sc])
        return;
    if (!down && !d->down[sc])
        return;                 /* its press went to a hot key */
    d->down[sc] = down;
    display_send_key(&d->in, sdl_to_set2[sc], down);
}

/* An absolute pointer takes the host cursor's place with no grab (while
 * the guest screen is shown). */
static bool sdl_pointer_absolute(const SDLDisplay *d)
{
    return d->shown == d->con && !d->grabbed && display_mouse_absolute(&d->in);
}

/* Window coordinates -> the place on the (scaled, centred) guest screen. */
static void sdl_send_abs(SDLDisplay *d, int wx, int wy, int dz)
{
    int ww, wh;
    SDL_GetWindowSize(d->win, &ww, &wh);
    SDL_Rect v = sdl_viewport(d, ww, wh);
    d->in.mouse_abs(d->in.opaque, display_abs_coord(wx - v.x, v.w),
                    display_abs_coord(wy - v.y, v.h), dz, d->buttons);
}

static unsigned sdl_buttons(uint32_t state)
{
    return ((state & SDL_BUTTON_LMASK) ? DISPLAY_BUTTON_LEFT : 0) |
           ((state & SDL_BUTTON_RMASK) ? DISPLAY_BUTTON_RIGHT : 0) |
           ((state & SDL_BUTTON_MMASK) ? DISPLAY_BUTTON_MIDDLE : 0);
}

static void sdl_event(SDLDisplay *d, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        if (!d->no_quit)
            machine_request_shutdown(d->m, 0);
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        sdl_key(d, &e->key);
        break;
    case SDL_TEXTINPUT:
        if (d->shown != d->con && d->mon) {
            /* ASCII only: the monitor's commands and file names. */
            for (const char *t = e->text.text; *t; t++)
                if ((uint8_t)*t >= 0x20 && (uint8_t)*t < 0x7f)
                    chardev_push_input(d->mon, (const uint8_t *)t, 1);
        }
        break;
    case SDL_MOUSEMOTION:
        if (sdl_pointer_absolute(d)) {
            d->buttons = sdl_buttons(e->motion.state);
            sdl_send_abs(d, e->motion.x, e->motion.y, 0);
        } else if (d->grabbed && d->in.mouse)
            d->in.mouse(d->in.opaque, e->motion.xrel, e->motion.yrel, 0,
                        sdl_buttons(e->motion.state));
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        if (sdl_pointer_absolute(d)) {
            d->buttons = sdl_buttons(SDL_GetMouseState(NULL, NULL));
            sdl_send_abs(d, e->button.x, e->button.y, 0);
            break;
        }
        if (!d->grabbed) {
            if (e->type == SDL_MOUSEBUTTONDOWN && e->button.button == SDL_BUTTON_LEFT)
                sdl_set_grab(d, true);
            break;
        }
        d->buttons = sdl_buttons(SDL_GetMouseState(NULL, NULL));
        if (d->in.mouse)
            d->in.mouse(d->in.opaque, 0, 0, 0, d->buttons);
        break;
    case SDL_MOUSEWHEEL:
        if (sdl_pointer_absolute(d) && e->wheel.y) {
            int mx, my;
            SDL_GetMouseState(&mx, &my);
            sdl_send_abs(d, mx, my, e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ?
                         e->wheel.y : -e->wheel.y);
        } else if (d->grabbed && d->in.mouse && e->wheel.y)
            d->in.mouse(d->in.opaque, 0, 0, e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ?
                        e->wheel.y : -e->wheel.y, d->buttons);
        break;
    case SDL_WINDOWEVENT:
        switch (e->window.event) {
        case SDL_WINDOWEVENT_CLOSE:
            if (!d->no_quit)
                machine_request_shutdown(d->m, 0);
            break;
        case SDL_WINDOWEVENT_FOCUS_LOST:
            sdl_release_keys(d);
            memset(d->held, 0, sizeof d->held);
            break;
        case SDL_WINDOWEVENT_EXPOSED:
        case SDL_WINDOWEVENT_SIZE_CHANGED:
        case SDL_WINDOWEVENT_RESTORED:
            d->need_present = true;
            break;
        }
        break;
    }
}

static void sdl_refresh(void *opaque)
{
    SDLDisplay *d = opaque;
    SDL_Event e;
    while (SDL_PollEvent(&e))
        sdl_event(d, &e);
    const char *st = d->m->state == RUN_PAUSED ? "[Paused]" :
                     d->m->state == RUN_POWERED_OFF ? "[Stopped]" : "";
    if (strcmp(st, d->title_state)) {
        snprintf(d->title_state, sizeof d->title_state, "%s", st);
        sdl_update_title(d);
    }
    if (d->mon) {
        size_t n;
        const uint8_t *out = chardev_buffer_data(d->mon, &n);
        if (n) {
            vc_write(d->vc, out, n);
            chardev_buffer_clear(d->mon);
        }
    }
    if (d->shown)
        console_refresh(d->shown, false);
    sdl_draw(d);
}

static bool sdl_set_monitor(void *opaque, CharDev *chr, char *err, size_t errlen)
{
    SDLDisplay *d = opaque;
    uint8_t font[VC_FONT_SIZE];
    if (!vc_font_load(font, err, errlen))
        return false;
    d->vc = vc_new("monitor", font);
    d->mon = chr;
    return true;
}

/* ---- open / close ---- */

static void sdl_close(void *opaque)
{
    SDLDisplay *d = opaque;
    if (!d)
        return;
    if (d->shown)
        console_remove_listener(d->shown, d);
    vc_free(d->vc);
    if (d->src)
        SDL_FreeSurface(d->src);
    if (d->win)
        SDL_DestroyWindow(d->win);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(d);
}

static void *sdl_open(Machine *m, Console *con, const DisplayInput *in, const VMOptions *o,
                      char *err, size_t errlen)
{
    /* vx86 keeps its own SIGINT/SIGTERM behaviour. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    /* The window surface in the X server's shared memory, not a GL
     * texture (see the top of the file). */
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    /* Only a window system will do: without SDL_VIDEODRIVER, SDL would
     * fall back to its offscreen driver and show nothing. */
    const char *want = getenv("SDL_VIDEODRIVER");
    if (!want || !*want) {
        const char *wl = getenv("WAYLAND_DISPLAY");
        SDL_SetHint(SDL_HINT_VIDEODRIVER, wl && *wl ? "wayland,x11" : "x11");
    }
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
        const char *x = getenv("DISPLAY");
        snprintf(err, errlen, "cannot open a window on the display%s%s: %s", x ? " " : "",
                 x ? x : "", SDL_GetError());
        return NULL;
    }
    SDLDisplay *d = xcalloc(1, sizeof(*d));
    d->m = m;
    d->con = con;
    d->in = *in;
    d->full_screen = o->full_screen;
    d->no_quit = o->no_quit;
    DisplaySurface *s = con ? console_surface(con) : NULL;
    int w = s && s->width ? s->width : 640, h = s && s->height ? s->height : 480;
    d->win = SDL_CreateWindow("vx86", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h,
                              SDL_WINDOW_RESIZABLE |
                              (d->full_screen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0));
    if (!d->win) {
        snprintf(err, errlen, "cannot open the window: %s", SDL_GetError());
        sdl_close(d);
        return NULL;
    }
    sdl_update_title(d);
    d->need_present = true;
    sdl_show(d, con);
    sdl_draw(d);
    return d;
}

const DisplayBackend sdl_display_backend = {
    .name = "sdl", .open = sdl_open, .refresh = sdl_refresh, .close = sdl_close,
    .set_monitor = sdl_set_monitor,
};
