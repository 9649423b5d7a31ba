/* Debug console port 0xe9. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "host/chardev.h"
#include "hw/debugcon.h"
#include "tests/unit/unit.h"

START_TEST(bytes_reach_backend_and_port_reads_e9)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    CharDev *c = chardev_open("buffer", err, sizeof err);
    ck_assert_ptr_nonnull(debugcon_create(m, 0xe9, c));
    const char *msg = "boot ok\n";
    for (const char *p = msg; *p; p++)
        iospace_write(m->io, 0xe9, (uint8_t)*p, 1);
    size_t len;
    const uint8_t *d = chardev_buffer_data(c, &len);
    ck_assert_uint_eq(len, strlen(msg));
    ck_assert(!memcmp(d, msg, len));
    ck_assert_uint_eq(iospace_read(m->io, 0xe9, 1), 0xe9);
    machine_free(m);
    chardev_free(c);
}
END_TEST

START_TEST(null_backend_and_second_port)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(debugcon_create(m, 0xe9, NULL));
    ck_assert_ptr_null(debugcon_create(m, 0xe9, NULL));     /* taken */
    iospace_write(m->io, 0xe9, 'x', 1);                      /* dropped */
    ck_assert_ptr_nonnull(debugcon_create(m, 0x402, NULL));
    ck_assert_uint_eq(iospace_read(m->io, 0x402, 1), 0xe9);
    machine_free(m);
}
END_TEST

static Suite *debugcon_suite(void)
{
    Suite *s = suite_create("debugcon");
    TCase *tc = tcase_create("debugcon");
    tcase_add_test(tc, bytes_reach_backend_and_port_reads_e9);
    tcase_add_test(tc, null_backend_and_second_port);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(debugcon_suite)
