/* The minimal human monitor on a buffer backend: banner and prompt,
 * line editing, info status, sendkey through the hook, errors. */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/monitor.h"
#include "host/chardev.h"
#include "tests/unit/unit.h"

typedef struct Keys {
    int codes[16];
    bool down[16];
    int n;
} Keys;

static void record_key(void *opaque, int code, bool down)
{
    Keys *k = opaque;
    if (k->n < 16) {
        k->codes[k->n] = code;
        k->down[k->n++] = down;
    }
}

static char *output(CharDev *c)
{
    size_t len;
    const uint8_t *d = chardev_buffer_data(c, &len);
    char *s = calloc(1, len + 1);
    memcpy(s, d, len);
    chardev_buffer_clear(c);
    return s;
}

START_TEST(monitor_commands)
{
    char err[128];
    Machine *m = machine_new(16 << 20, CLOCK_MANUAL, err, sizeof err);
    CharDev *c = chardev_open("buffer", err, sizeof err);
    Keys k = { .n = 0 };
    MonitorHooks h = { .console = NULL, .send_key = record_key, .opaque = &k };
    Monitor *mon = monitor_new(m, c, &h);
    m->state = RUN_RUNNING;
    char *o = output(c);
    ck_assert_ptr_nonnull(strstr(o, "monitor - type 'help'"));
    ck_assert_ptr_nonnull(strstr(o, "(vx86) "));
    free(o);

    const char *typed = "info statux\x7fs\r\n";
    chardev_push_input(c, (const uint8_t *)typed, strlen(typed));
    o = output(c);
    ck_assert_msg(strstr(o, "VM status: running") != NULL, "%s", o);
    free(o);

    monitor_command(mon, "sendkey ctrl-alt-delete");
    ck_assert_int_eq(k.n, 6);
    ck_assert_int_eq(k.codes[0], 0x14);
    ck_assert_int_eq(k.codes[2], 0xe071);
    ck_assert(k.down[2] && !k.down[3]);
    ck_assert_int_eq(k.codes[3], 0xe071);          /* released in reverse */
    ck_assert_int_eq(k.codes[5], 0x14);

    monitor_command(mon, "sendkey nosuchkey");
    o = output(c);
    ck_assert_ptr_nonnull(strstr(o, "unknown key"));
    free(o);
    monitor_command(mon, "screendump /tmp/x.ppm");
    o = output(c);
    ck_assert_ptr_nonnull(strstr(o, "no display"));
    free(o);
    monitor_command(mon, "frobnicate");
    o = output(c);
    ck_assert_ptr_nonnull(strstr(o, "unknown command"));
    free(o);
    monitor_command(mon, "quit");
    ck_assert_int_eq(m->state, RUN_SHUTDOWN);
    monitor_free(mon);
    machine_free(m);
    chardev_free(c);
}
END_TEST

START_TEST(key_names)
{
    ck_assert_int_eq(monitor_key_code("a"), 0x1c);
    ck_assert_int_eq(monitor_key_code("ret"), 0x5a);
    ck_assert_int_eq(monitor_key_code("up"), 0xe075);
    ck_assert_int_eq(monitor_key_code("f12"), 0x07);
    ck_assert_int_eq(monitor_key_code("bogus"), -1);
}
END_TEST

static Suite *monitor_suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, monitor_commands);
    tcase_add_test(tc, key_names);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(monitor_suite)
