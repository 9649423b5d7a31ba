/* What vx86 makes of a VNC client's input (ui/vnc-input.c): any sequence
 * of key events (any keysym, pressed or released), pointer events (any
 * button mask and position), disconnects, and a new connection's first
 * bytes (vnc_sniff).  The contract, checked on what reaches the machine:
 * a key is released only after it was pressed, at most VNC_INPUT_MAX_DOWN
 * keys are held, a disconnect releases every key and button, buttons are
 * only the three the PS/2 mouse has, and motion is the difference of two
 * positions of the protocol's 16-bit range. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "ui/vnc-input.h"

#define MAX_CODES 64

typedef struct Seen {
    int held[MAX_CODES];      /* keycodes the machine sees pressed */
    int nheld;
    unsigned buttons;
} Seen;

static void on_key(void *opaque, int keycode, bool down)
{
    Seen *s = opaque;
    /* PrintScreen arrives as two keys (display_send_key's fake shift). */
    int i = 0;
    while (i < s->nheld && s->held[i] != keycode)
        i++;
    if (down) {
        if (i == s->nheld) {
            if (s->nheld == MAX_CODES)
                abort();
            s->held[s->nheld++] = keycode;
        }
        return;
    }
    if (i == s->nheld)
        abort();                      /* a release without its press */
    s->held[i] = s->held[--s->nheld];
}

static void on_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    Seen *s = opaque;
    if (buttons & ~7u || dx < -65535 || dx > 65535 || dy < -65535 || dy > 65535 ||
        dz < -1 || dz > 1)
        abort();
    s->buttons = buttons;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = { data, size };
    Seen seen = { .nheld = 0 };
    DisplayInput di = { .key = on_key, .mouse = on_mouse, .opaque = &seen };
    VncInput vi;
    vnc_input_init(&vi, &di);
    while (in.left) {
        switch (fuzz_u8(&in) % 4) {
        case 0: {
            bool down = fuzz_u8(&in) & 1;
            uint32_t ks = fuzz_u16(&in) | (uint32_t)fuzz_u16(&in) << 16;
            /* Half the time a keysym from the ranges the table has. */
            if (fuzz_u8(&in) & 1)
                ks = (ks & 0x100 ? 0xff00 : 0) | (ks & 0xff);
            vnc_input_key(&vi, down, ks);
            /* Held keys (PrintScreen counts two). */
            if (seen.nheld > 2 * VNC_INPUT_MAX_DOWN)
                abort();
            break;
        }
        case 1: {
            unsigned mask = fuzz_u8(&in);
            int x = fuzz_u16(&in), y = fuzz_u16(&in);
            vnc_input_pointer(&vi, mask, x, y);
            break;
        }
        case 2:
            vnc_input_release_all(&vi);
            if (seen.nheld || seen.buttons)
                abort();              /* a client gone leaves nothing pressed */
            break;
        case 3: {
            size_t n = fuzz_u16(&in) % (VNC_SNIFF_MAX + 8);
            n = n < in.left ? n : in.left;
            VncSniff r = vnc_sniff(in.p, n);
            if (r != VNC_SNIFF_WAIT && r != VNC_SNIFF_RFB && r != VNC_SNIFF_WEBSOCKET &&
                r != VNC_SNIFF_REJECT)
                abort();
            if (n >= VNC_SNIFF_MAX && r == VNC_SNIFF_WAIT)
                abort();              /* nobody waits for more than libvncserver takes */
            in.p += n;
            in.left -= n;
            break;
        }
        }
    }
    vnc_input_release_all(&vi);
    if (seen.nheld || seen.buttons)
        abort();
    return 0;
}
