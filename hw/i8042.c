/*
 * i8042 keyboard controller, from the IBM PS/2 (8042) keyboard controller
 * documentation:
 *
 *   0x60 read   output buffer (keyboard, mouse or controller data)
 *   0x60 write  data: to the keyboard, or the parameter of a command
 *   0x64 read   status: OBF(0) IBF(1) SYS(2) A2(3) INH(4) AUXB(5)
 *   0x64 write  controller command
 *
 * Modelled: the command byte and the rest of the 32-byte internal RAM
 * (0x20-0x3F read, 0x60-0x7F write), self test 0xAA -> 0x55, interface
 * tests 0xAB/0xA9 -> 0x00, port enable/disable 0xAD/0xAE/0xA7/0xA8, 0xD4
 * (next byte to the mouse), 0xD2/0xD3 (echo as keyboard/mouse data), the
 * output port 0xD0/0xD1 (bit 0 reset, bit 1 A20), 0xDD/0xDF A20 off/on,
 * pulse commands 0xF0-0xFF, IRQ1/IRQ12 per the command byte's INT bits,
 * and set 2 -> set 1 translation when command byte bit 6 is set.
 *
 * A byte written to the keyboard re-enables the keyboard interface (the
 * controller has to clock it out), as 8042 firmware does.
 *
 * Not modelled: the input port beyond a fixed value, passwords (0xA4 says
 * none installed), timeouts and parity errors (the devices always answer),
 * and IBF: data written is processed at once, so IBF always reads 0.
 * A controller reply overwrites a device byte still sitting unread in the
 * output buffer, as on the real chip.
 */
#include "hw/i8042.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* Status register. */
#define STAT_OBF   0x01
#define STAT_SYS   0x04
#define STAT_A2    0x08   /* last write went to 0x64 (command) */
#define STAT_INH   0x10   /* 1: keyboard not inhibited (key lock open) */
#define STAT_AUXB  0x20   /* output buffer holds mouse data */

/* Command byte (internal RAM byte 0). */
#define CB_KBD_INT  0x01
#define CB_AUX_INT  0x02
#define CB_SYS      0x04
#define CB_KBD_DIS  0x10
#define CB_AUX_DIS  0x20
#define CB_XLATE    0x40
/* What a BIOS leaves: keyboard IRQ, POST passed, translation. */
#define CB_DEFAULT  (CB_KBD_INT | CB_SYS | CB_XLATE)

/* Output port. */
#define OUT_RESET   0x01  /* 0 resets the CPU */
#define OUT_A20     0x02
#define OUT_KBD_OBF 0x10
#define OUT_AUX_OBF 0x20
#define OUT_DEFAULT 0xcf  /* reset high, A20 on, clock/data lines idle */

struct I8042State {
    Machine *m;
    IRQLine *irq1, *irq12;
    IRQLine *a20;
    PS2Kbd *kbd;
    PS2Mouse *mouse;

    uint8_t ram[32];          /* ram[0] is the command byte */
    uint8_t out_byte;
    bool obf, obf_aux;        /* output buffer full; from the mouse */
    bool a2;
    uint8_t pending_cmd;      /* command waiting for its data byte, 0: none */
    uint8_t outport;
    bool xlate_break;         /* translation saw 0xF0: next byte is a break */
};

static uint8_t i8042_cmd_byte(const I8042State *s)
{
    return s->ram[0];
}

static void i8042_update_irq(I8042State *s)
{
    uint8_t cb = i8042_cmd_byte(s);
    irq_set(s->irq1, s->obf && !s->obf_aux && (cb & CB_KBD_INT));
    irq_set(s->irq12, s->obf && s->obf_aux && (cb & CB_AUX_INT));
}

static void i8042_put_output(I8042State *s, uint8_t b, bool aux)
{
    s->out_byte = b;
    s->obf = true;
    s->obf_aux = aux;
    i8042_update_irq(s);
}

/* Keyboard bytes through the set 2 -> set 1 translator: 0xF0 is swallowed
 * and turns the next code into a break code (bit 7).  Returns -1 while a
 * byte is still needed. */
static int i8042_translate(I8042State *s, uint8_t b)
{
    if (b == 0xf0) {
        s->xlate_break = true;
        return -1;
    }
    uint8_t t = ps2_set2_to_set1(b);
    if (s->xlate_break) {
        t |= 0x80;
        s->xlate_break = false;
    }
    return t;
}

/* The output buffer is free: take the next byte from the keyboard, else
 * the mouse, if their interfaces are enabled. */
static void i8042_fill_output(I8042State *s)
{
    if (s->obf)
        return;
    uint8_t cb = i8042_cmd_byte(s);
    if (!(cb & CB_KBD_DIS)) {
        while (ps2_kbd_has_data(s->kbd)) {
            int b = ps2_kbd_read(s->kbd);
            if (cb & CB_XLATE)
                b = i8042_translate(s, (uint8_t)b);
            if (b >= 0) {
                i8042_put_output(s, (uint8_t)b, false);
                return;
            }
        }
    }
    if (!(cb & CB_AUX_DIS) && ps2_mouse_has_data(s->mouse))
        i8042_put_output(s, (uint8_t)ps2_mouse_read(s->mouse), true);
}

static void i8042_device_notify(void *opaque)
{
    i8042_fill_output(opaque);
}

static void i8042_set_a20(I8042State *s, bool on)
{
    irq_set(s->a20, on);
}

static void i8042_write_outport(I8042State *s, uint8_t v)
{
    uint8_t old = s->outport;
    s->outport = v;
    if ((old ^ v) & OUT_A20)
        i8042_set_a20(s, v & OUT_A20);
    if (!(v & OUT_RESET)) {
        /* The reset line is a pulse: it comes back high by itself. */
        s->outport |= OUT_RESET;
        machine_request_reset(s->m);
    }
}

static uint8_t i8042_read_outport(const I8042State *s)
{
    uint8_t v = s->outport & (uint8_t)~(OUT_KBD_OBF | OUT_AUX_OBF);
    if (s->obf)
        v |= s->obf_aux ? OUT_AUX_OBF : OUT_KBD_OBF;
    return v;
}

static void i8042_write_cmd_byte(I8042State *s, uint8_t v)
{
    s->ram[0] = v;
    i8042_update_irq(s);
    i8042_fill_output(s);
}

/* ---- port 0x64 ---- */

static uint8_t i8042_read_status(I8042State *s)
{
    uint8_t v = STAT_INH;
    v |= s->obf ? STAT_OBF : 0;
    v |= s->obf && s->obf_aux ? STAT_AUXB : 0;
    v |= (i8042_cmd_byte(s) & CB_SYS) ? STAT_SYS : 0;
    v |= s->a2 ? STAT_A2 : 0;
    return v;
}

static void i8042_write_command(I8042State *s, uint8_t v)
{
    s->a2 = true;
    s->pending_cmd = 0;     /* a new command abandons a half-given one */
    if (v >= 0x20 && v <= 0x3f) {
        i8042_put_output(s, s->ram[v & 0x1f], false);
        return;
    }
    if ((v >= 0x60 && v <= 0x7f) || (v >= 0xd1 && v <= 0xd4)) {
        s->pending_cmd = v;
        return;
    }
    if (v >= 0xf0) {
        /* Pulse output port bits 0-3 low where the command has 0s. */
        if (!(v & 0x01))
            machine_request_reset(s->m);
        return;
    }
    switch (v) {
    case 0xa4: i8042_put_output(s, 0xf1, false); break;   /* no password */
    case 0xa7: i8042_write_cmd_byte(s, s->ram[0] | CB_AUX_DIS); break;
    case 0xa8: i8042_write_cmd_byte(s, s->ram[0] & (uint8_t)~CB_AUX_DIS); break;
    case 0xa9: i8042_put_output(s, 0x00, false); break;   /* aux clock/data ok */
    case 0xaa: i8042_put_output(s, 0x55, false); break;   /* self test passed */
    case 0xab: i8042_put_output(s, 0x00, false); break;   /* kbd clock/data ok */
    case 0xad: i8042_write_cmd_byte(s, s->ram[0] | CB_KBD_DIS); break;
    case 0xae: i8042_write_cmd_byte(s, s->ram[0] & (uint8_t)~CB_KBD_DIS); break;
    case 0xc0: i8042_put_output(s, 0xa0, false); break;   /* input port: not inhibited */
    case 0xd0: i8042_put_output(s, i8042_read_outport(s), false); break;
    case 0xdd: i8042_write_outport(s, s->outport & (uint8_t)~OUT_A20); break;
    case 0xdf: i8042_write_outport(s, s->outport | OUT_A20); break;
    case 0xe0: i8042_put_output(s, 0x00, false); break;   /* test inputs */
    default:
        LOG(LOG_UNIMP, "i8042: unknown controller command 0x%02x\n", v);
        break;
    }
}

/* ---- port 0x60 ---- */

static uint8_t i8042_read_data(I8042State *s)
{
    uint8_t v = s->out_byte;   /* an empty buffer reads its last byte */
    s->obf = false;
    s->obf_aux = false;
    i8042_update_irq(s);
    i8042_fill_output(s);
    return v;
}

static void i8042_write_data(I8042State *s, uint8_t v)
{
    s->a2 = false;
    uint8_t cmd = s->pending_cmd;
    s->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        if (cmd == 0x60)
            i8042_write_cmd_byte(s, v);
        else
            s->ram[cmd & 0x1f] = v;
        return;
    }
    switch (cmd) {
    case 0xd1: i8042_write_outport(s, v); break;
    case 0xd2: i8042_put_output(s, v, false); break;   /* as keyboard data */
    case 0xd3: i8042_put_output(s, v, true); break;    /* as mouse data */
    case 0xd4: ps2_mouse_write(s->mouse, v); break;
    default:
        /* Sending to the keyboard drives its clock line, which leaves the
         * keyboard interface enabled (guests rely on this after 0xAD). */
        s->ram[0] &= (uint8_t)~CB_KBD_DIS;
        ps2_kbd_write(s->kbd, v);
        i8042_fill_output(s);
        break;
    }
}

static uint64_t i8042_data_read(void *opaque, uint64_t off, unsigned size)
{
    return i8042_read_data(opaque);
}

static void i8042_data_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    i8042_write_data(opaque, (uint8_t)v);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t off, unsigned size)
{
    return i8042_read_status(opaque);
}

static void i8042_cmd_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    i8042_write_command(opaque, (uint8_t)v);
}

static const MemOps i8042_data_ops = {
    .read = i8042_data_read, .write = i8042_data_write, .min_size = 1, .max_size = 1,
};
static const MemOps i8042_cmd_ops = {
    .read = i8042_cmd_read, .write = i8042_cmd_write, .min_size = 1, .max_size = 1,
};

/* ---- device interface ---- */

static void i8042_reset(void *opaque)
{
    I8042State *s = opaque;
    memset(s->ram, 0, sizeof(s->ram));
    s->ram[0] = CB_DEFAULT;
    s->out_byte = 0;
    s->obf = s->obf_aux = false;
    s->a2 = false;
    s->pending_cmd = 0;
    s->xlate_break = false;
    s->outport = OUT_DEFAULT;
    i8042_set_a20(s, true);
    i8042_update_irq(s);
}

static int i8042_post_load(void *opaque, int version, char **err)
{
    I8042State *s = opaque;
    uint8_t c = s->pending_cmd;
    if (c && !(c >= 0x60 && c <= 0x7f) && !(c >= 0xd1 && c <= 0xd4)) {
        set_error(err, "i8042: pending command 0x%02x is not one that takes data", c);
        s->pending_cmd = 0;
        return -1;
    }
    if (s->obf_aux && !s->obf)
        s->obf_aux = false;
    i8042_set_a20(s, s->outport & OUT_A20);
    i8042_update_irq(s);
    return 0;
}

static const VMField i8042_fields[] = {
    VMF_U8_ARRAY(ram, I8042State, 32),
    VMF_U8(out_byte, I8042State),
    VMF_BOOL(obf, I8042State),
    VMF_BOOL(obf_aux, I8042State),
    VMF_BOOL(a2, I8042State),
    VMF_U8(pending_cmd, I8042State),
    VMF_U8(outport, I8042State),
    VMF_BOOL(xlate_break, I8042State),
    VMF_END
};

static const VMStateDesc i8042_vmsd = {
    .name = "i8042", .version = 1, .min_version = 1,
    .fields = i8042_fields, .post_load = i8042_post_load,
};

static const DeviceOps i8042_device_ops = {
    .name = "i8042", .reset = i8042_reset, .free = free, .vmsd = &i8042_vmsd,
};

I8042State *i8042_create(Machine *m, uint16_t data_port, uint16_t cmd_port,
                         IRQLine *irq1, IRQLine *irq12, IRQLine *a20)
{
    I8042State *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->irq1 = irq1;
    s->irq12 = irq12;
    s->a20 = a20;
    if (!iospace_add(m->io, "i8042-data", data_port, 1, &i8042_data_ops, s, NULL)) {
        free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "i8042-cmd", cmd_port, 1, &i8042_cmd_ops, s, NULL)) {
        iospace_remove(m->io, data_port, 1);
        free(s);
        return NULL;
    }
    /* Registered first so a snapshot restores the controller, then the
     * devices whose queues it drains. */
    machine_add_device(m, &i8042_device_ops, s);
    s->kbd = ps2_kbd_create(m, i8042_device_notify, s);
    s->mouse = ps2_mouse_create(m, i8042_device_notify, s);
    i8042_reset(s);
    return s;
}

PS2Kbd *i8042_kbd(I8042State *s) { return s->kbd; }
PS2Mouse *i8042_mouse(I8042State *s) { return s->mouse; }
