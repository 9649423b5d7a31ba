/* The state serialiser and machine-level save/load. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/util.h"
#include "tests/unit/unit.h"

typedef struct Chan {
    uint16_t count;
    uint8_t mode;
} Chan;

typedef struct TDev {
    uint8_t a;
    uint32_t b;
    uint64_t c;
    bool flag;
    int32_t neg;
    uint8_t fifo[16];
    Chan chan[3];
    uint32_t added_in_v2;
    int resets;
} TDev;

static const VMField chan_fields[] = {
    VMF_U16(count, Chan),
    VMF_U8(mode, Chan),
    VMF_END
};
static const VMStateDesc chan_vmsd = {
    .name = "chan", .version = 1, .min_version = 1, .fields = chan_fields,
};

static int tdev_post_load(void *opaque, int version, char **err)
{
    TDev *d = opaque;
    for (int i = 0; i < 3; i++) {
        if (d->chan[i].mode > 5) {
            set_error(err, "tdev: channel %d mode %u out of range", i, d->chan[i].mode);
            return -1;
        }
    }
    return 0;
}

static VMField tdev_fields[] = {
    VMF_U8(a, TDev),
    VMF_U32(b, TDev),
    VMF_U64(c, TDev),
    VMF_BOOL(flag, TDev),
    VMF_I32(neg, TDev),
    VMF_U8_ARRAY(fifo, TDev, 16),
    VMF_STRUCT_ARRAY(chan, TDev, 3, chan_vmsd),
    VMF_U32(added_in_v2, TDev),
    VMF_END
};
static const VMStateDesc tdev_vmsd = {
    .name = "tdev", .version = 2, .min_version = 1, .fields = tdev_fields,
    .post_load = tdev_post_load,
};

static void tdev_reset(void *opaque)
{
    TDev *d = opaque;
    int r = d->resets + 1;
    memset(d, 0, sizeof(*d));
    d->resets = r;
}

static const DeviceOps tdev_ops = {
    .name = "tdev", .reset = tdev_reset, .free = free, .vmsd = &tdev_vmsd,
};

static void fill(TDev *d)
{
    d->a = 0x12;
    d->b = 0xdeadbeef;
    d->c = 0x0123456789abcdefULL;
    d->flag = true;
    d->neg = -42;
    for (int i = 0; i < 16; i++)
        d->fifo[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 3; i++)
        d->chan[i] = (Chan){ (uint16_t)(1000 + i), (uint8_t)i };
    d->added_in_v2 = 77;
}

static Machine *new_machine(TDev **out)
{
    char err[128];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    TDev *d = calloc(1, sizeof(*d));
    machine_add_device(m, &tdev_ops, d);
    *out = d;
    return m;
}

START_TEST(round_trip_restores_every_field)
{
    TDev src = { 0 }, dst = { 0 };
    fill(&src);
    VMBuf b;
    vmbuf_init(&b);
    vmstate_save(&b, &tdev_vmsd, &src);
    size_t pos = 0;
    char *err = NULL;
    ck_assert_int_eq(vmstate_load(b.data, b.len, &pos, &tdev_vmsd, &dst, &err), 0);
    ck_assert_uint_eq(pos, b.len);
    ck_assert_uint_eq(dst.a, 0x12);
    ck_assert_uint_eq(dst.b, 0xdeadbeef);
    ck_assert_uint_eq(dst.c, 0x0123456789abcdefULL);
    ck_assert(dst.flag);
    ck_assert_int_eq(dst.neg, -42);
    ck_assert_mem_eq(dst.fifo, src.fifo, 16);
    ck_assert_uint_eq(dst.chan[2].count, 1002);
    ck_assert_uint_eq(dst.chan[2].mode, 2);
    ck_assert_uint_eq(dst.added_in_v2, 77);
    vmbuf_free(&b);
}
END_TEST

START_TEST(machine_stream_round_trip)
{
    TDev *d;
    Machine *m = new_machine(&d);
    fill(d);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(m, &b);
    machine_reset_devices(m);
    ck_assert_uint_eq(d->b, 0);
    ck_assert_int_eq(d->resets, 1);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(m, b.data, b.len, &err), 0);
    ck_assert_uint_eq(d->b, 0xdeadbeef);
    ck_assert_uint_eq(d->chan[1].count, 1001);
    vmbuf_free(&b);
    machine_free(m);
}
END_TEST

START_TEST(truncated_stream_rejected_and_state_kept)
{
    TDev *d;
    Machine *m = new_machine(&d);
    fill(d);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(m, &b);
    d->b = 5;
    for (size_t cut = 0; cut < b.len; cut += 7) {
        char *err = NULL;
        ck_assert_int_eq(machine_load_devices(m, b.data, cut, &err), -1);
        ck_assert_ptr_nonnull(err);
        free(err);
        ck_assert_uint_eq(d->b, 5);      /* nothing was changed */
    }
    vmbuf_free(&b);
    machine_free(m);
}
END_TEST

START_TEST(corrupted_byte_fails_checksum)
{
    TDev *d;
    Machine *m = new_machine(&d);
    fill(d);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(m, &b);
    b.data[b.len / 2] ^= 0x40;
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(m, b.data, b.len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));
    free(err);
    vmbuf_free(&b);
    machine_free(m);
}
END_TEST

START_TEST(bad_magic_named)
{
    TDev *d;
    Machine *m = new_machine(&d);
    uint8_t junk[64];
    memset(junk, 'x', sizeof junk);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(m, junk, sizeof junk, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a vx86 state stream"));
    free(err);
    machine_free(m);
}
END_TEST

START_TEST(post_load_rejects_out_of_range_value)
{
    TDev src = { 0 }, dst = { 0 };
    fill(&src);
    src.chan[1].mode = 9;
    VMBuf b;
    vmbuf_init(&b);
    vmstate_save(&b, &tdev_vmsd, &src);
    size_t pos = 0;
    char *err = NULL;
    ck_assert_int_eq(vmstate_load(b.data, b.len, &pos, &tdev_vmsd, &dst, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "mode 9 out of range"));
    free(err);
    vmbuf_free(&b);
}
END_TEST

START_TEST(section_name_and_version_checked)
{
    TDev src = { 0 }, dst = { 0 };
    VMBuf b;
    vmbuf_init(&b);
    vmstate_save(&b, &chan_vmsd, &src.chan[0]);
    size_t pos = 0;
    char *err = NULL;
    ck_assert_int_eq(vmstate_load(b.data, b.len, &pos, &tdev_vmsd, &dst, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "expected section 'tdev'"));
    free(err);
    vmbuf_free(&b);

    /* a stream from a future version 3 is refused */
    VMStateDesc future = tdev_vmsd;
    future.version = 3;
    vmbuf_init(&b);
    vmstate_save(&b, &future, &src);
    pos = 0;
    err = NULL;
    ck_assert_int_eq(vmstate_load(b.data, b.len, &pos, &tdev_vmsd, &dst, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "version 3"));
    free(err);
    vmbuf_free(&b);
}
END_TEST

START_TEST(old_version_stream_skips_new_fields)
{
    /* Version 1 of the layout lacked added_in_v2. */
    tdev_fields[7].version = 2;
    VMStateDesc v1 = tdev_vmsd;
    v1.version = 1;
    TDev src = { 0 }, dst = { 0 };
    fill(&src);
    dst.added_in_v2 = 1234;
    VMBuf b;
    vmbuf_init(&b);
    /* Save as version 1 would have: without the new field. */
    VMField old_fields[8];
    memcpy(old_fields, tdev_fields, 7 * sizeof(VMField));
    old_fields[7] = (VMField)VMF_END;
    v1.fields = old_fields;
    vmstate_save(&b, &v1, &src);
    size_t pos = 0;
    char *err = NULL;
    ck_assert_int_eq(vmstate_load(b.data, b.len, &pos, &tdev_vmsd, &dst, &err), 0);
    ck_assert_uint_eq(dst.b, 0xdeadbeef);
    ck_assert_uint_eq(dst.added_in_v2, 1234);   /* untouched */
    tdev_fields[7].version = 0;
    vmbuf_free(&b);
}
END_TEST

START_TEST(layout_mismatch_names_field)
{
    static const VMField other_fields[] = { VMF_U8(a, TDev), VMF_U8(mode, Chan), VMF_END };
    VMStateDesc other = tdev_vmsd;
    other.fields = other_fields;
    TDev src = { 0 }, dst = { 0 };
    VMBuf b;
    vmbuf_init(&b);
    vmstate_save(&b, &other, &src);
    size_t pos = 0;
    char *err = NULL;
    ck_assert_int_eq(vmstate_load(b.data, b.len, &pos, &tdev_vmsd, &dst, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "field b"));
    free(err);
    vmbuf_free(&b);
}
END_TEST

START_TEST(post_load_failure_rolls_back_every_device)
{
    TDev *d;
    Machine *m = new_machine(&d);
    TDev *d2 = calloc(1, sizeof(*d2));
    machine_add_device(m, &tdev_ops, d2);
    fill(d);
    fill(d2);
    d2->chan[0].mode = 9;          /* the second device will refuse this */
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(m, &b);
    d->b = 1;
    d2->b = 2;
    d2->chan[0].mode = 0;
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(m, b.data, b.len, &err), -1);
    free(err);
    ck_assert_uint_eq(d->b, 1);    /* the first device was loaded, then rolled back */
    ck_assert_uint_eq(d2->b, 2);
    vmbuf_free(&b);
    machine_free(m);
}
END_TEST

START_TEST(virtual_clock_travels_with_the_stream)
{
    TDev *d;
    Machine *m = new_machine(&d);
    clock_advance(m->clock, 123456);
    VMBuf b;
    vmbuf_init(&b);
    machine_save_devices(m, &b);
    TDev *d2;
    Machine *m2 = new_machine(&d2);
    char *err = NULL;
    ck_assert_int_eq(machine_load_devices(m2, b.data, b.len, &err), 0);
    ck_assert_int_eq(clock_now(m2->clock), 123456);
    vmbuf_free(&b);
    machine_free(m);
    machine_free(m2);
}
END_TEST

START_TEST(two_machines_are_independent)
{
    TDev *d1, *d2;
    Machine *m1 = new_machine(&d1);
    Machine *m2 = new_machine(&d2);
    m1->ram[0] = 1;
    m2->ram[0] = 2;
    ck_assert_uint_eq(m1->ram[0], 1);
    d1->a = 3;
    ck_assert_uint_eq(d2->a, 0);
    machine_request_shutdown(m1, 5);
    ck_assert_int_eq(m1->state, RUN_SHUTDOWN);
    ck_assert_int_eq(m1->exit_code, 5);
    ck_assert_int_ne(m2->state, RUN_SHUTDOWN);
    machine_free(m1);
    machine_free(m2);
}
END_TEST

START_TEST(device_ids_are_unique)
{
    TDev *d;
    Machine *m = new_machine(&d);
    TDev *d2 = calloc(1, sizeof(*d2));
    Device *dev2 = machine_add_device(m, &tdev_ops, d2);
    ck_assert_str_eq(dev2->id, "tdev.1");
    ck_assert_ptr_eq(machine_find_device(m, "tdev")->opaque, d);
    ck_assert_ptr_eq(machine_find_device(m, "tdev.1")->opaque, d2);
    machine_free(m);
}
END_TEST

START_TEST(huge_ram_is_lazy_and_absurd_refused)
{
    char err[128];
    Machine *m = machine_new(16ULL << 30, CLOCK_MANUAL, err, sizeof err);
    ck_assert_ptr_nonnull(m);                   /* 16 GiB: no host memory until touched */
    m->ram[(16ULL << 30) - 1] = 0xaa;
    ck_assert_uint_eq(m->ram[(16ULL << 30) - 1], 0xaa);
    machine_free(m);
    ck_assert_ptr_null(machine_new(0, CLOCK_MANUAL, err, sizeof err));
    ck_assert_ptr_null(machine_new(1ULL << 50, CLOCK_MANUAL, err, sizeof err));
}
END_TEST

static Suite *vmstate_suite(void)
{
    Suite *s = suite_create("vmstate");
    TCase *tc = tcase_create("serialiser");
    tcase_add_test(tc, round_trip_restores_every_field);
    tcase_add_test(tc, machine_stream_round_trip);
    tcase_add_test(tc, truncated_stream_rejected_and_state_kept);
    tcase_add_test(tc, corrupted_byte_fails_checksum);
    tcase_add_test(tc, bad_magic_named);
    tcase_add_test(tc, post_load_rejects_out_of_range_value);
    tcase_add_test(tc, section_name_and_version_checked);
    tcase_add_test(tc, old_version_stream_skips_new_fields);
    tcase_add_test(tc, layout_mismatch_names_field);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("machine");
    tcase_add_test(tm, two_machines_are_independent);
    tcase_add_test(tm, post_load_failure_rolls_back_every_device);
    tcase_add_test(tm, virtual_clock_travels_with_the_stream);
    tcase_add_test(tm, device_ids_are_unique);
    tcase_add_test(tm, huge_ram_is_lazy_and_absurd_refused);
    suite_add_tcase(s, tm);
    return s;
}
UNIT_SUITE(vmstate_suite)
