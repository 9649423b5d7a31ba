/*
 * The curses display (-display curses): the guest's text screen in the
 * terminal, for machines reached over ssh.
 *
 * Each refresh (display.c's timer) reads the text cells from the console
 * (console_get_text: character + attribute as the VGA shows them), draws
 * the cells that changed since the last refresh with the attribute's
 * colours (8 curses colours; a bright foreground is bold) and puts the
 * terminal's cursor where the guest's is.  ASCII shows as itself, code
 * page 437's line graphics as the terminal's line-drawing characters,
 * other characters as the nearest ASCII.  Graphics modes show one notice
 * line.
 *
 * Keys come from the terminal on stdin (a watched fd): the terminal sends
 * characters, not key presses, so each one becomes a press and release of
 * the PS/2 key (with Shift, Ctrl or Alt around it when the character
 * needs it; ESC followed at once by a character is Alt+character), and
 * curses' decoded keys (arrows, F1-F12, Home, ...) become their E0 keys.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "core/util.h"
#include "ui/display.h"

#define KEY_LSHIFT 0x12
#define KEY_LCTRL  0x14
#define KEY_LALT   0x11

typedef struct CursesDisplay {
    Machine *m;
    Console *con;
    DisplayInput in;
    SCREEN *scr;
    uint16_t cells[CONSOLE_TEXT_MAX_CELLS];
    uint16_t shown[CONSOLE_TEXT_MAX_CELLS];
    int cols, rows;            /* what the terminal shows; 0: graphics notice */
    int mode;                  /* 0 nothing drawn, 1 text, 2 notice */
    int notice_w, notice_h;
    bool colours;
    bool redraw;               /* next refresh redraws everything */
} CursesDisplay;

static bool curses_active;

static void curses_atexit(void)
{
    if (curses_active)
        endwin();
    curses_active = false;
}

/* ---- keys ---- */

/* US layout: ASCII 0x20-0x7e -> set 2 keycode, with shift when bit 8. */
#define S 0x100
static const uint16_t ascii_keys[128] = {
    [' '] = 0x29, ['!'] = S | 0x16, ['"'] = S | 0x52, ['#'] = S | 0x26, ['$'] = S | 0x25,
    ['%'] = S | 0x2e, ['&'] = S | 0x3d, ['\''] = 0x52, ['('] = S | 0x46, [')'] = S | 0x45,
    ['*'] = S | 0x3e, ['+'] = S | 0x55, [','] = 0x41, ['-'] = 0x4e, ['.'] = 0x49,
    ['/'] = 0x4a, ['0'] = 0x45, ['1'] = 0x16, ['2'] = 0x1e, ['3'] = 0x26, ['4'] = 0x25,
    ['5'] = 0x2e, ['6'] = 0x36, ['7'] = 0x3d, ['8'] = 0x3e, ['9'] = 0x46,
    [':'] = S | 0x4c, [';'] = 0x4c, ['<'] = S | 0x41, ['='] = 0x55, ['>'] = S | 0x49,
    ['?'] = S | 0x4a, ['@'] = S | 0x1e, ['['] = 0x54, ['\\'] = 0x5d, [']'] = 0x5b,
    ['^'] = S | 0x36, ['_'] = S | 0x4e, ['`'] = 0x0e, ['{'] = S | 0x54, ['|'] = S | 0x5d,
    ['}'] = S | 0x5b, ['~'] = S | 0x0e,
    ['a'] = 0x1c, ['b'] = 0x32, ['c'] = 0x21, ['d'] = 0x23, ['e'] = 0x24, ['f'] = 0x2b,
    ['g'] = 0x34, ['h'] = 0x33, ['i'] = 0x43, ['j'] = 0x3b, ['k'] = 0x42, ['l'] = 0x4b,
    ['m'] = 0x3a, ['n'] = 0x31, ['o'] = 0x44, ['p'] = 0x4d, ['q'] = 0x15, ['r'] = 0x2d,
    ['s'] = 0x1b, ['t'] = 0x2c, ['u'] = 0x3c, ['v'] = 0x2a, ['w'] = 0x1d, ['x'] = 0x22,
    ['y'] = 0x35, ['z'] = 0x1a,
};
#undef S

static const int fkeys[12] = { 0x05, 0x06, 0x04, 0x0c, 0x03, 0x0b,
                               0x83, 0x0a, 0x01, 0x09, 0x78, 0x07 };

/* Presses and releases key with the given modifiers around it. */
static void curses_tap(CursesDisplay *d, int key, bool shift, bool ctrl, bool alt)
{
    const DisplayInput *in = &d->in;
    if (ctrl)
        display_send_key(in, KEY_LCTRL, true);
    if (alt)
        display_send_key(in, KEY_LALT, true);
    if (shift)
        display_send_key(in, KEY_LSHIFT, true);
    display_send_key(in, key, true);
    display_send_key(in, key, false);
    if (shift)
        display_send_key(in, KEY_LSHIFT, false);
    if (alt)
        display_send_key(in, KEY_LALT, false);
    if (ctrl)
        display_send_key(in, KEY_LCTRL, false);
}

/* A character or curses key code; alt when it came after ESC. */
static void curses_key(CursesDisplay *d, int ch, bool alt)
{
    int key = 0;
    bool shift = false, ctrl = false;
    if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
        key = 0x5a;
    } else if (ch == '\t') {
        key = 0x0d;
    } else if (ch == 0x7f || ch == '\b' || ch == KEY_BACKSPACE) {
        key = 0x66;
    } else if (ch == 27) {
        key = 0x76;
    } else if (ch == 0) {
        key = 0x29;                       /* Ctrl-Space */
        ctrl = true;
    } else if (ch >= 1 && ch <= 26) {
        key = ascii_keys['a' + ch - 1];   /* Ctrl-letter */
        ctrl = true;
    } else if (ch >= 28 && ch <= 31) {
        static const char c[4] = { '\\', ']', '6', '-' };
        key = ascii_keys[(int)c[ch - 28]];
        ctrl = true;
    } else if (ch >= 'A' && ch <= 'Z') {
        key = ascii_keys[tolower(ch)];
        shift = true;
    } else if (ch >= 0x20 && ch < 0x7f) {
        key = ascii_keys[ch] & 0xff;
        shift = ascii_keys[ch] & 0x100;
    } else if (ch >= KEY_F(1) && ch <= KEY_F(12)) {
        key = fkeys[ch - KEY_F(1)];
    } else if (ch >= KEY_F(13) && ch <= KEY_F(24)) {
        key = fkeys[ch - KEY_F(13)];      /* the terminal's Shift-F1..F12 */
        shift = true;
    } else {
        switch (ch) {
        case KEY_UP: key = 0xe075; break;
        case KEY_DOWN: key = 0xe072; break;
        case KEY_LEFT: key = 0xe06b; break;
        case KEY_RIGHT: key = 0xe074; break;
        case KEY_HOME: key = 0xe06c; break;
        case KEY_END: key = 0xe069; break;
        case KEY_PPAGE: key = 0xe07d; break;
        case KEY_NPAGE: key = 0xe07a; break;
        case KEY_IC: key = 0xe070; break;
        case KEY_DC: key = 0xe071; break;
        case KEY_BTAB: key = 0x0d; shift = true; break;
        case KEY_SLEFT: key = 0xe06b; shift = true; break;
        case KEY_SRIGHT: key = 0xe074; shift = true; break;
        case KEY_SHOME: key = 0xe06c; shift = true; break;
        case KEY_SEND: key = 0xe069; shift = true; break;
        case KEY_RESIZE: d->redraw = true; return;
        default: return;
        }
    }
    if (key)
        curses_tap(d, key, shift, ctrl, alt);
}

static int curses_fd(void *opaque)
{
    return STDIN_FILENO;
}

static void curses_readable(void *opaque)
{
    CursesDisplay *d = opaque;
    int ch;
    while ((ch = wgetch(stdscr)) != ERR) {
        if (ch == 27) {
            /* ESC and a character at once: the terminal's Alt+character. */
            int next = wgetch(stdscr);
            if (next != ERR && next != 27) {
                curses_key(d, next, true);
                continue;
            }
            curses_key(d, 27, false);
            if (next == 27)
                curses_key(d, 27, false);
            continue;
        }
        curses_key(d, ch, false);
    }
}

/* ---- screen ---- */

/* VGA colour number (bit 0 blue, 1 green, 2 red) -> curses colour. */
static const short vga_to_curses[8] = { COLOR_BLACK, COLOR_BLUE, COLOR_GREEN, COLOR_CYAN,
                                        COLOR_RED, COLOR_MAGENTA, COLOR_YELLOW, COLOR_WHITE };

static chtype cp437_char(uint8_t c)
{
    if (c >= 0x20 && c < 0x7f)
        return c;
    switch (c) {
    case 0x00: case 0xff: return ' ';
    case 0xb3: case 0xba: return ACS_VLINE;
    case 0xc4: case 0xcd: return ACS_HLINE;
    case 0xda: case 0xc9: case 0xd5: case 0xd6: return ACS_ULCORNER;
    case 0xbf: case 0xbb: case 0xb8: case 0xb7: return ACS_URCORNER;
    case 0xc0: case 0xc8: case 0xd3: case 0xd4: return ACS_LLCORNER;
    case 0xd9: case 0xbc: case 0xbd: case 0xbe: return ACS_LRCORNER;
    case 0xc3: case 0xcc: case 0xc6: case 0xc7: return ACS_LTEE;
    case 0xb4: case 0xb9: case 0xb5: case 0xb6: return ACS_RTEE;
    case 0xc2: case 0xcb: case 0xd1: case 0xd2: return ACS_TTEE;
    case 0xc1: case 0xca: case 0xcf: case 0xd0: return ACS_BTEE;
    case 0xc5: case 0xce: case 0xd7: case 0xd8: return ACS_PLUS;
    case 0xb0: case 0xb1: case 0xb2: return ACS_CKBOARD;
    case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf: return ACS_BLOCK;
    case 0xf9: case 0xfa: case 0x07: return ACS_BULLET;
    case 0xf8: return ACS_DEGREE;
    case 0xf1: return ACS_PLMINUS;
    case 0x18: case 0x1e: return ACS_UARROW;
    case 0x19: case 0x1f: return ACS_DARROW;
    case 0x1a: case 0x10: return ACS_RARROW;
    case 0x1b: case 0x11: return ACS_LARROW;
    case 0x04: return ACS_DIAMOND;
    case 0xf3: return ACS_LEQUAL;
    case 0xf2: return ACS_GEQUAL;
    case 0xe3: return ACS_PI;
    case 0x9c: return ACS_STERLING;
    default: return '?';
    }
}

static chtype curses_attr(CursesDisplay *d, uint8_t at)
{
    int fg = at & 7, bg = (at >> 4) & 7;
    chtype a = (at & 0x08) ? A_BOLD : A_NORMAL;
    if (d->colours)
        return a | COLOR_PAIR(bg * 8 + fg);
    /* Monochrome: a background lighter than the foreground is reverse. */
    return a | (bg > fg ? A_REVERSE : A_NORMAL);
}

static void curses_show_notice(CursesDisplay *d, int w, int h)
{
    if (d->mode == 2 && d->notice_w == w && d->notice_h == h && !d->redraw)
        return;
    d->mode = 2;
    d->notice_w = w;
    d->notice_h = h;
    attrset(A_NORMAL | (d->colours ? COLOR_PAIR(7) : 0));
    erase();
    clearok(curscr, TRUE);
    if (w && h)
        mvprintw(0, 0, "vx86: the guest shows a %dx%d graphics mode (not shown on a text "
                       "terminal; use -display sdl, or screendump)", w, h);
    else
        mvprintw(0, 0, "vx86: the display is off");
    curs_set(0);
    refresh();
}

static void curses_refresh(void *opaque)
{
    CursesDisplay *d = opaque;
    ConsoleText t = { .cells = d->cells, .max_cells = CONSOLE_TEXT_MAX_CELLS };
    if (!d->con) {
        if (d->redraw)
            clearok(curscr, TRUE);
        curses_show_notice(d, 0, 0);
        d->redraw = false;
        return;
    }
    console_refresh(d->con, false);
    if (!console_get_text(d->con, &t)) {
        DisplaySurface *s = console_surface(d->con);
        curses_show_notice(d, s->width, s->height);
        d->redraw = false;
        return;
    }
    bool full = d->redraw || d->mode != 1 || t.cols != d->cols || t.rows != d->rows;
    if (full) {
        attrset(A_NORMAL);
        erase();
        clearok(curscr, TRUE);   /* what others wrote to the terminal goes too */
    }
    d->mode = 1;
    d->cols = t.cols;
    d->rows = t.rows;
    d->redraw = false;
    bool changed = full;
    int maxy = getmaxy(stdscr), maxx = getmaxx(stdscr);
    for (int r = 0; r < t.rows && r < maxy; r++) {
        for (int c = 0; c < t.cols && c < maxx; c++) {
            int i = r * t.cols + c;
            if (!full && d->shown[i] == t.cells[i])
                continue;
            d->shown[i] = t.cells[i];
            uint8_t ch = (uint8_t)t.cells[i], at = (uint8_t)(t.cells[i] >> 8);
            mvaddch(r, c, cp437_char(ch) | curses_attr(d, at));
            changed = true;
        }
    }
    bool cursor = t.cursor_x >= 0 && t.cursor_y < maxy && t.cursor_x < maxx;
    int cy, cx;
    getyx(stdscr, cy, cx);
    if (cursor && (cy != t.cursor_y || cx != t.cursor_x)) {
        move(t.cursor_y, t.cursor_x);
        changed = true;
    }
    if (changed || full) {
        curs_set(cursor ? 1 : 0);
        refresh();
    }
}

/* ---- open / close ---- */

static void curses_close(void *opaque)
{
    CursesDisplay *d = opaque;
    if (!d)
        return;
    machine_unwatch_fd(d->m, d);
    if (curses_active) {
        endwin();
        curses_active = false;
    }
    if (d->scr)
        delscreen(d->scr);
    free(d);
}

static void *curses_open(Machine *m, Console *con, const DisplayInput *in, const VMOptions *o,
                         char *err, size_t errlen)
{
    const char *user = o->serial == SERIAL_STDIO ? "-serial stdio" :
                       o->debugcon == SERIAL_STDIO ? "-debugcon stdio" :
                       o->monitor && !strcmp(o->monitor, "stdio") ? "-monitor stdio" : NULL;
    for (int i = 0; i < o->nchardevs && !user; i++)
        if (o->chardevs[i].backend == CHARDEV_STDIO)
            user = "-chardev stdio";
    if (user) {
        snprintf(err, errlen, "the terminal is already used by %s", user);
        return NULL;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "the standard input and output must be a terminal");
        return NULL;
    }
    const char *term = getenv("TERM");
    if (!term || !*term || !strcmp(term, "dumb")) {
        snprintf(err, errlen, "the terminal type is unknown (TERM=%s)", term ? term : "");
        return NULL;
    }
    CursesDisplay *d = xcalloc(1, sizeof(*d));
    d->m = m;
    d->con = con;
    d->in = *in;
    d->scr = newterm(NULL, stdout, stdin);
    if (!d->scr) {
        snprintf(err, errlen, "cannot use the terminal (TERM=%s)", term);
        free(d);
        return NULL;
    }
    static bool registered;
    if (!registered)
        atexit(curses_atexit);
    registered = true;
    curses_active = true;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    if (has_colors() && start_color() == OK && COLORS >= 8 && COLOR_PAIRS >= 64) {
        d->colours = true;
        assume_default_colors(COLOR_BLACK, COLOR_BLACK);
        for (int bg = 0; bg < 8; bg++)
            for (int fg = 0; fg < 8; fg++)
                if (bg || fg)
                    init_pair((short)(bg * 8 + fg), vga_to_curses[fg], vga_to_curses[bg]);
    }
    /* The first refresh, once the machine runs, repaints the whole
     * terminal (notices printed after this point included). */
    d->redraw = true;
    machine_watch_fd(m, curses_fd, curses_readable, d);
    return d;
}

const DisplayBackend curses_display_backend = {
    .name = "curses", .open = curses_open, .refresh = curses_refresh, .close = curses_close,
};
