/*
 * core/gdb-packet.c: framing, checksums, escapes, oversized packets,
 * interrupts and acks; hex helpers.
 */
#include <check.h>
#include <string.h>

#include "core/gdb-packet.h"
#include "tests/unit/unit.h"

static GdbEvent feed(GdbParser *p, const char *s)
{
    GdbEvent last = GDB_EV_NONE;
    for (; *s; s++) {
        GdbEvent e = gdb_parser_feed(p, (uint8_t)*s);
        if (e != GDB_EV_NONE)
            last = e;
    }
    return last;
}

START_TEST(packets_and_checksums)
{
    GdbParser p;
    gdb_parser_init(&p);
    ck_assert_int_eq(feed(&p, "$g#67"), GDB_EV_PACKET);
    ck_assert_str_eq((char *)p.buf, "g");
    ck_assert_int_eq(feed(&p, "$g#68"), GDB_EV_BAD_CHECKSUM);
    ck_assert_int_eq(feed(&p, "$g#6x"), GDB_EV_BAD_CHECKSUM);
    ck_assert_int_eq(feed(&p, "junk+"), GDB_EV_ACK);
    ck_assert_int_eq(feed(&p, "-"), GDB_EV_NAK);
    ck_assert_int_eq(gdb_parser_feed(&p, 0x03), GDB_EV_INTERRUPT);
    /* a '$' inside a packet restarts it */
    ck_assert_int_eq(feed(&p, "$m0,4$g#67"), GDB_EV_PACKET);
    ck_assert_str_eq((char *)p.buf, "g");
    /* escapes: "}\x03" is '#' (0x23); the checksum covers the raw bytes */
    char frame[32];
    size_t n = gdb_frame("a#b", 3, frame);
    frame[n] = 0;
    ck_assert(!memcmp(frame, "$a}\x03" "b#", 6) && n == 8);
    ck_assert_int_eq(feed(&p, frame), GDB_EV_PACKET);
    ck_assert_uint_eq(p.len, 3);
    ck_assert_str_eq((char *)p.buf, "a#b");
}
END_TEST

START_TEST(oversized_packet_is_dropped)
{
    GdbParser p;
    gdb_parser_init(&p);
    static char big[GDB_PACKET_MAX + 100];
    memset(big, 'x', sizeof big - 1);
    char frame[2 * sizeof big + 8];
    size_t n = gdb_frame(big, sizeof big - 1, frame);
    GdbEvent last = GDB_EV_NONE;
    for (size_t i = 0; i < n; i++) {
        GdbEvent e = gdb_parser_feed(&p, (uint8_t)frame[i]);
        if (e != GDB_EV_NONE)
            last = e;
    }
    ck_assert_int_eq(last, GDB_EV_OVERSIZED);
    ck_assert_int_eq(feed(&p, "$?#3f"), GDB_EV_PACKET);   /* and the next is fine */
}
END_TEST

START_TEST(hex_helpers)
{
    const char *s = "1aF,";
    uint64_t v;
    ck_assert(gdb_parse_hex(&s, &v));
    ck_assert_uint_eq(v, 0x1af);
    ck_assert_str_eq(s, ",");
    ck_assert(!gdb_parse_hex(&s, &v));
    s = "11112222333344445";
    ck_assert(!gdb_parse_hex(&s, &v));    /* 17 digits overflow */
    uint8_t b[2];
    ck_assert(gdb_hex_decode("a0Ff", 2, b));
    ck_assert_uint_eq(b[0], 0xa0);
    ck_assert_uint_eq(b[1], 0xff);
    ck_assert(!gdb_hex_decode("g0", 1, b));
    char out[5] = { 0 };
    gdb_hex_encode(b, 2, out);
    ck_assert_str_eq(out, "a0ff");
}
END_TEST

static Suite *gdb_packet_suite(void)
{
    Suite *s = suite_create("gdb_packet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, packets_and_checksums);
    tcase_add_test(tc, oversized_packet_is_dropped);
    tcase_add_test(tc, hex_helpers);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(gdb_packet_suite)
