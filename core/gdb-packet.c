/*
 * The gdb remote protocol's framing: packets, checksums, escapes, hex
 * (see core/gdb-packet.h).  No I/O here.
 */
#include "core/gdb-packet.h"

void gdb_parser_init(GdbParser *p)
{
    p->state = GDB_P_IDLE;
    p->len = 0;
    p->buf[0] = 0;
}

int gdb_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void store(GdbParser *p, uint8_t c)
{
    if (p->len < GDB_PACKET_MAX)
        p->buf[p->len++] = c;
    else
        p->oversized = true;
}

GdbEvent gdb_parser_feed(GdbParser *p, uint8_t c)
{
    switch (p->state) {
    case GDB_P_IDLE:
        if (c == '$') {
            p->state = GDB_P_DATA;
            p->len = 0;
            p->sum = 0;
            p->oversized = false;
            p->bad_digit = false;
            return GDB_EV_NONE;
        }
        if (c == 0x03)
            return GDB_EV_INTERRUPT;
        if (c == '+')
            return GDB_EV_ACK;
        if (c == '-')
            return GDB_EV_NAK;
        return GDB_EV_NONE;
    case GDB_P_DATA:
        if (c == '#') {
            p->state = GDB_P_SUM1;
            return GDB_EV_NONE;
        }
        if (c == '$') {
            /* A new packet before the end of this one: the client gave
             * up on it (a lost '#'); start again. */
            p->len = 0;
            p->sum = 0;
            p->oversized = false;
            return GDB_EV_NONE;
        }
        p->sum += c;
        if (c == '}')
            p->state = GDB_P_ESCAPE;
        else
            store(p, c);
        return GDB_EV_NONE;
    case GDB_P_ESCAPE:
        p->sum += c;
        store(p, c ^ 0x20);
        p->state = GDB_P_DATA;
        return GDB_EV_NONE;
    case GDB_P_SUM1: {
        int d = gdb_hex_digit(c);
        p->bad_digit = d < 0;
        p->sum_got = (uint8_t)(d < 0 ? 0 : d << 4);
        p->state = GDB_P_SUM2;
        return GDB_EV_NONE;
    }
    case GDB_P_SUM2: {
        int d = gdb_hex_digit(c);
        p->state = GDB_P_IDLE;
        p->buf[p->len] = 0;
        if (d < 0 || p->bad_digit || (uint8_t)(p->sum_got | d) != p->sum) {
            p->len = 0;
            p->buf[0] = 0;
            return GDB_EV_BAD_CHECKSUM;
        }
        if (p->oversized) {
            p->len = 0;
            p->buf[0] = 0;
            return GDB_EV_OVERSIZED;
        }
        return GDB_EV_PACKET;
    }
    }
    p->state = GDB_P_IDLE;
    return GDB_EV_NONE;
}

bool gdb_hex_decode(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = gdb_hex_digit((unsigned char)s[2 * i]);
        int lo = hi < 0 ? -1 : gdb_hex_digit((unsigned char)s[2 * i + 1]);
        if (lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void gdb_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

bool gdb_parse_hex(const char **s, uint64_t *v)
{
    const char *p = *s;
    uint64_t x = 0;
    int n = 0;
    int d;
    while ((d = gdb_hex_digit((unsigned char)*p)) >= 0) {
        if (++n > 16)
            return false;
        x = x << 4 | (uint64_t)d;
        p++;
    }
    if (!n)
        return false;
    *s = p;
    *v = x;
    return true;
}

size_t gdb_frame(const char *payload, size_t len, char *out)
{
    size_t o = 0;
    uint8_t sum = 0;
    out[o++] = '$';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)payload[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            out[o++] = '}';
            sum += '}';
            c ^= 0x20;
        }
        out[o++] = (char)c;
        sum += c;
    }
    out[o++] = '#';
    static const char digits[] = "0123456789abcdef";
    out[o++] = digits[sum >> 4];
    out[o++] = digits[sum & 15];
    return o;
}
