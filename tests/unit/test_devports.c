/* The board owns every address (core/device.h): each legacy device
 * answers at the ports its create function was given, not at the PC's
 * usual ones, and refuses (NULL) ports another device already holds. */
#include <stdlib.h>

#include "core/machine.h"
#include "hw/fwcfg.h"
#include "hw/i8042.h"
#include "hw/i8254.h"
#include "hw/i8259.h"
#include "hw/mc146818.h"
#include "hw/port92.h"
#include "tests/unit/unit.h"

static Machine *new_machine(void)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    return m;
}

static const char *owner(Machine *m, uint16_t port)
{
    const char *o = iospace_owner(m->io, port);
    return o ? o : "";
}

START_TEST(devices_sit_where_the_board_says)
{
    Machine *m = new_machine();
    ck_assert_ptr_nonnull(i8259_create(m, 0x1020, 0x10a0, 0x14d0, NULL));
    ck_assert_ptr_nonnull(i8254_create(m, 0x1040, 0x1061, NULL));
    ck_assert_ptr_nonnull(mc146818_create(m, 0x1070, NULL, 0));
    ck_assert_ptr_nonnull(i8042_create(m, 0x1060, 0x1064, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(port92_create(m, 0x1092, NULL));
    ck_assert_ptr_nonnull(fwcfg_create(m, 0x1510, 0x1514));
    static const uint16_t moved[] = {
        0x1020, 0x1021, 0x10a0, 0x10a1, 0x14d0, 0x14d1, 0x1040, 0x1043, 0x1061,
        0x1070, 0x1071, 0x1060, 0x1064, 0x1092, 0x1510, 0x1511, 0x1514, 0x151b,
    };
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
        ck_assert_msg(*owner(m, moved[i]), "port 0x%x unclaimed", moved[i]);
    static const uint16_t pc[] = {
        0x20, 0xa0, 0x4d0, 0x40, 0x61, 0x70, 0x60, 0x64, 0x92, 0x510, 0x514,
    };
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++)
        ck_assert_msg(!*owner(m, pc[i]), "port 0x%x claimed", pc[i]);
    /* fw_cfg's signature through the moved selector/data pair. */
    iospace_write(m->io, 0x1510, 0, 2);
    ck_assert_uint_eq(iospace_read(m->io, 0x1511, 1), 'Q');
    machine_free(m);
}
END_TEST

START_TEST(taken_ports_are_an_error)
{
    Machine *m = new_machine();
    ck_assert_ptr_nonnull(i8259_create(m, 0x20, 0xa0, 0x4d0, NULL));
    /* Each create overlaps the PIC (or the device before) in one place
     * only, so every port argument is checked. */
    ck_assert_ptr_null(i8259_create(m, 0x30, 0x38, 0x4d0, NULL));
    ck_assert_ptr_null(i8259_create(m, 0x30, 0xa1, 0x4e0, NULL));
    ck_assert_ptr_null(i8254_create(m, 0x1e, 0x61, NULL));
    ck_assert_ptr_null(i8254_create(m, 0x40, 0xa1, NULL));
    ck_assert_ptr_null(mc146818_create(m, 0x1f, NULL, 0));
    ck_assert_ptr_null(i8042_create(m, 0x21, 0x64, NULL, NULL, NULL));
    ck_assert_ptr_null(i8042_create(m, 0x60, 0xa0, NULL, NULL, NULL));
    ck_assert_ptr_null(port92_create(m, 0x4d1, NULL));
    ck_assert_ptr_null(fwcfg_create(m, 0x20, 0x514));
    ck_assert_ptr_null(fwcfg_create(m, 0x510, 0x4cc));
    /* A refused create leaves nothing behind: the same ports work now. */
    ck_assert_ptr_nonnull(i8254_create(m, 0x40, 0x61, NULL));
    ck_assert_ptr_nonnull(i8042_create(m, 0x60, 0x64, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(fwcfg_create(m, 0x510, 0x514));
    ck_assert_ptr_nonnull(mc146818_create(m, 0x70, NULL, 0));
    ck_assert_ptr_nonnull(port92_create(m, 0x92, NULL));
    machine_free(m);
}
END_TEST

static Suite *devports_suite(void)
{
    Suite *s = suite_create("devports");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, devices_sit_where_the_board_says);
    tcase_add_test(tc, taken_ports_are_an_error);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(devports_suite)
