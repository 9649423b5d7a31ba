/*
 * The framing layer of the gdb remote serial protocol, apart from any
 * socket or machine so it can be unit-tested and fuzzed
 * (tests/fuzz/fuzz-gdbstub.c):
 *
 *   $<payload>#<2 hex digits: sum of the payload bytes mod 256>
 *
 * acknowledged with '+' (or '-' to ask for the packet again) until the
 * client switches acknowledgements off (QStartNoAckMode).  Outside a
 * packet, 0x03 is an interrupt request (Ctrl-C); '+', '-' acknowledge our
 * own packets; anything else is noise and ignored.  Inside a payload '}'
 * escapes the next byte (XORed with 0x20).  A payload longer than
 * GDB_PACKET_MAX (the PacketSize we announce) is dropped whole.
 *
 *   GdbParser p;
 *   gdb_parser_init(&p);
 *   for each byte b received:
 *       switch (gdb_parser_feed(&p, b)) {
 *       case GDB_EV_PACKET: handle(p.buf, p.len); break;   // send '+' first
 *       case GDB_EV_BAD_CHECKSUM: send '-'; break;
 *       ...
 *       }
 */
#ifndef VX86_CORE_GDB_PACKET_H
#define VX86_CORE_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_PACKET_MAX 4096

typedef enum GdbEvent {
    GDB_EV_NONE,          /* byte consumed, nothing complete yet */
    GDB_EV_PACKET,        /* a packet with a good checksum: buf[0..len-1] (NUL after) */
    GDB_EV_BAD_CHECKSUM,  /* a packet whose checksum does not match (or is not hex) */
    GDB_EV_OVERSIZED,     /* a packet longer than GDB_PACKET_MAX, dropped */
    GDB_EV_INTERRUPT,     /* 0x03 outside a packet */
    GDB_EV_ACK,           /* '+' */
    GDB_EV_NAK,           /* '-' */
} GdbEvent;

typedef struct GdbParser {
    enum { GDB_P_IDLE, GDB_P_DATA, GDB_P_ESCAPE, GDB_P_SUM1, GDB_P_SUM2 } state;
    uint8_t buf[GDB_PACKET_MAX + 1];
    size_t len;
    uint8_t sum;          /* running checksum of the raw payload bytes */
    uint8_t sum_got;      /* the first checksum digit's value */
    bool bad_digit;
    bool oversized;
} GdbParser;

void gdb_parser_init(GdbParser *p);
GdbEvent gdb_parser_feed(GdbParser *p, uint8_t byte);

/* ---- encoding helpers ---- */

/* Value of one hex digit, or -1. */
int gdb_hex_digit(int c);
/* Decodes 2*n hex digits from s into out; false on a non-hex digit. */
bool gdb_hex_decode(const char *s, size_t n, uint8_t *out);
/* Writes 2*n lowercase hex digits (no NUL). */
void gdb_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parses a hex number at *s (at least one digit, at most 16), advancing
 * *s past it; false when there is none or it overflows. */
bool gdb_parse_hex(const char **s, uint64_t *v);
/* Frames payload (len bytes) as $...#cs into out (at least len*2+5 bytes,
 * special characters escaped); returns the frame's length. */
size_t gdb_frame(const char *payload, size_t len, char *out);

#endif
