/*
 * The human monitor (see monitor.h): line input with echo and backspace,
 * a "(vx86) " prompt, and a declarative command table.  Syntax and
 * output follow QEMU's HMP for the commands both have.
 */
#include "core/monitor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/commands.h"
#include "core/util.h"

#define MON_LINE_MAX 1024
#define MON_MAX_ARGS 16

struct Monitor {
    VMControl *vc;
    bool own_vc;              /* monitor_new made it */
    CharDev *chr;
    char line[MON_LINE_MAX];
    size_t len;
    bool last_cr;
    HmpSecretFn secret_fn;    /* the next line is a secret for it (not echoed) */
};

static void mon_printf(Monitor *mon, const char *fmt, ...)
{
    char *buf = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* The backend may be a raw terminal: newlines become CR LF. */
    size_t start = 0;
    for (int i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            chardev_write(mon->chr, (const uint8_t *)buf + start, (size_t)i - start);
            chardev_write(mon->chr, (const uint8_t *)"\r\n", 2);
            start = (size_t)i + 1;
        }
    }
    chardev_write(mon->chr, (const uint8_t *)buf + start, (size_t)n - start);
    free(buf);
}

/* ---- keys ---- */

typedef struct KeyName {
    const char *name;
    int code;
} KeyName;

/* QEMU's sendkey names -> PS/2 scan code set 2. */
static const KeyName key_names[] = {
    { "a", 0x1c }, { "b", 0x32 }, { "c", 0x21 }, { "d", 0x23 }, { "e", 0x24 },
    { "f", 0x2b }, { "g", 0x34 }, { "h", 0x33 }, { "i", 0x43 }, { "j", 0x3b },
    { "k", 0x42 }, { "l", 0x4b }, { "m", 0x3a }, { "n", 0x31 }, { "o", 0x44 },
    { "p", 0x4d }, { "q", 0x15 }, { "r", 0x2d }, { "s", 0x1b }, { "t", 0x2c },
    { "u", 0x3c }, { "v", 0x2a }, { "w", 0x1d }, { "x", 0x22 }, { "y", 0x35 },
    { "z", 0x1a },
    { "1", 0x16 }, { "2", 0x1e }, { "3", 0x26 }, { "4", 0x25 }, { "5", 0x2e },
    { "6", 0x36 }, { "7", 0x3d }, { "8", 0x3e }, { "9", 0x46 }, { "0", 0x45 },
    { "minus", 0x4e }, { "equal", 0x55 }, { "backspace", 0x66 }, { "tab", 0x0d },
    { "bracket_left", 0x54 }, { "bracket_right", 0x5b }, { "ret", 0x5a },
    { "semicolon", 0x4c }, { "apostrophe", 0x52 }, { "grave_accent", 0x0e },
    { "backslash", 0x5d }, { "comma", 0x41 }, { "dot", 0x49 }, { "slash", 0x4a },
    { "spc", 0x29 }, { "esc", 0x76 }, { "caps_lock", 0x58 }, { "num_lock", 0x77 },
    { "scroll_lock", 0x7e }, { "less", 0x61 },
    { "shift", 0x12 }, { "shift_r", 0x59 }, { "ctrl", 0x14 }, { "ctrl_r", 0xe014 },
    { "alt", 0x11 }, { "alt_r", 0xe011 }, { "altgr", 0xe011 }, { "altgr_r", 0xe011 },
    { "meta_l", 0xe01f }, { "meta_r", 0xe027 }, { "menu", 0xe02f },
    { "f1", 0x05 }, { "f2", 0x06 }, { "f3", 0x04 }, { "f4", 0x0c }, { "f5", 0x03 },
    { "f6", 0x0b }, { "f7", 0x83 }, { "f8", 0x0a }, { "f9", 0x01 }, { "f10", 0x09 },
    { "f11", 0x78 }, { "f12", 0x07 },
    { "up", 0xe075 }, { "down", 0xe072 }, { "left", 0xe06b }, { "right", 0xe074 },
    { "home", 0xe06c }, { "end", 0xe069 }, { "pgup", 0xe07d }, { "pgdn", 0xe07a },
    { "insert", 0xe070 }, { "delete", 0xe071 }, { "print", 0xe07c },
    { "pause", 0xe11477 },            /* PS2_KEY_PAUSE */
    { "kp_0", 0x70 }, { "kp_1", 0x69 }, { "kp_2", 0x72 }, { "kp_3", 0x7a },
    { "kp_4", 0x6b }, { "kp_5", 0x73 }, { "kp_6", 0x74 }, { "kp_7", 0x6c },
    { "kp_8", 0x75 }, { "kp_9", 0x7d }, { "kp_decimal", 0x71 }, { "kp_add", 0x79 },
    { "kp_subtract", 0x7b }, { "kp_multiply", 0x7c }, { "kp_divide", 0xe04a },
    { "kp_enter", 0xe05a },
};

int monitor_key_code(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(key_names); i++)
        if (!strcmp(key_names[i].name, name))
            return key_names[i].code;
    /* QEMU also takes raw codes: 0xNN is a set 1 code there; accept a
     * set 2 code in hex for scripts that know what they send. */
    if (!strncmp(name, "0x", 2)) {
        char *end;
        long v = strtol(name, &end, 16);
        if (!*end && v > 0 && v <= 0xe0ff)
            return (int)v;
    }
    return -1;
}

/* ---- commands: the shared table (core/commands.c) ---- */

void monitor_command(Monitor *mon, const char *line)
{
    Text out = { 0 };
    if (mon->secret_fn) {
        HmpSecretFn fn = mon->secret_fn;
        mon->secret_fn = NULL;
        fn(mon->vc, line, &out);
    } else {
        cmd_hmp_line(mon->vc, line, &out);
        if (mon->vc->secret_fn) {
            mon->secret_fn = mon->vc->secret_fn;
            mon->vc->secret_fn = NULL;
            text_printf(&out, "%s", mon->vc->secret_prompt);
        }
    }
    if (out.len)
        mon_printf(mon, "%s", out.data);
    text_free(&out);
}

/* ---- line input ---- */

static void mon_prompt(Monitor *mon)
{
    mon_printf(mon, "(vx86) ");
}

static void mon_banner(void *opaque)
{
    Monitor *mon = opaque;
    mon->len = 0;
    mon_printf(mon, "vx86 %s monitor - type 'help' for more information\n", VX86_VERSION);
    mon_prompt(mon);
}

static size_t mon_can_receive(void *opaque)
{
    return MON_LINE_MAX;
}

static void mon_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Monitor *mon = opaque;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = buf[i];
        if (ch == '\n' && mon->last_cr) {
            mon->last_cr = false;
            continue;                   /* CR LF: one line */
        }
        mon->last_cr = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            mon_printf(mon, "\n");
            mon->line[mon->len] = '\0';
            mon->len = 0;
            monitor_command(mon, mon->line);
            memset(mon->line, 0, sizeof mon->line);     /* it may have been a password */
            if (!mon->secret_fn)
                mon_prompt(mon);
        } else if (ch == 0x7f || ch == 0x08) {
            if (mon->len) {
                mon->len--;
                if (!mon->secret_fn)
                    mon_printf(mon, "\b \b");
            }
        } else if (ch >= 0x20 && mon->len < MON_LINE_MAX - 1) {
            mon->line[mon->len++] = (char)ch;
            if (!mon->secret_fn)
                chardev_write(mon->chr, &ch, 1);
        }
    }
}

Monitor *monitor_new(Machine *m, CharDev *chr, const MonitorHooks *hooks)
{
    Monitor *mon = monitor_new_vc(vmcontrol_new(m, hooks), chr);
    mon->own_vc = true;
    return mon;
}

Monitor *monitor_new_vc(VMControl *vc, CharDev *chr)
{
    Monitor *mon = xcalloc(1, sizeof(*mon));
    mon->vc = vc;
    mon->chr = chr;
    chardev_set_frontend(chr, mon_can_receive, mon_receive, mon);
    if (chardev_is_listening(chr))
        chardev_set_connect_handler(chr, mon_banner, mon);
    else
        mon_banner(mon);
    return mon;
}

void monitor_free(Monitor *mon)
{
    if (!mon)
        return;
    chardev_set_frontend(mon->chr, NULL, NULL, NULL);
    if (mon->own_vc)
        vmcontrol_free(mon->vc);
    free(mon);
}
