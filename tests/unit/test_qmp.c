/* core/qmp.c + core/commands.c: negotiation, framing, errors, events,
 * on a machine without CPU (callback client, no socket). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/commands.h"
#include "core/machine.h"
#include "core/qmp.h"
#include "tests/unit/unit.h"

typedef struct Lines {
    char *all;
    size_t len;
    int n;
} Lines;

static void collect(void *opaque, const char *line, size_t len)
{
    Lines *l = opaque;
    l->all = realloc(l->all, l->len + len + 2);
    memcpy(l->all + l->len, line, len);
    l->len += len;
    l->all[l->len++] = '\n';
    l->all[l->len] = '\0';
    l->n++;
}

static void feed(QmpClient *c, const char *s)
{
    qmp_client_feed(c, (const uint8_t *)s, strlen(s));
}

static void reset(Lines *l)
{
    free(l->all);
    memset(l, 0, sizeof(*l));
}

START_TEST(session)
{
    char err[256];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    VMControl *vc = vmcontrol_new(m, NULL);
    Lines l = { 0 };
    QmpClient *c = qmp_client_new_callback(vc, collect, &l);
    ck_assert_ptr_nonnull(strstr(l.all, "{\"QMP\": {\"version\""));
    reset(&l);

    feed(c, "{\"execute\": \"query-status\"}\n");
    ck_assert_ptr_nonnull(strstr(l.all, "Expecting capabilities negotiation"));
    reset(&l);
    feed(c, "{\"execute\": \"qmp_capabilities\", \"id\": 7}");
    ck_assert_str_eq(l.all, "{\"return\": {}, \"id\": 7}\n");
    reset(&l);

    /* split across feeds, two in one feed */
    feed(c, "{\"execute\": \"query-");
    ck_assert_int_eq(l.n, 0);
    feed(c, "name\"}{\"execute\":\"query-kvm\"}");
    ck_assert_int_eq(l.n, 2);
    reset(&l);

    m->state = RUN_RUNNING;
    feed(c, "{\"execute\": \"stop\"}");
    ck_assert_int_eq(l.n, 2);
    ck_assert_ptr_nonnull(strstr(l.all, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": "));
    ck_assert_int_eq(m->state, RUN_PAUSED);
    reset(&l);
    feed(c, "{\"execute\": \"query-status\"}");
    ck_assert_ptr_nonnull(strstr(l.all, "\"status\": \"paused\""));
    reset(&l);

    /* errors: each gets exactly one reply, the next message is fine */
    const char *bad[] = {
        "{\"execute\": \n", "garbage\n", "[1]", "{\"execute\": 1}", "{\"arguments\": {}}",
        "{\"execute\": \"screendump\", \"arguments\": {\"filename\": 1}}",
        "{\"execute\": \"screendump\", \"arguments\": {}}",
        "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"bogus\": 1}}",
        "{\"execute\": \"nosuch\"}", "{\"execute\": \"stop\", \"arguments\": []}",
        "{\"execute\": \"stop\", \"extra\": 1}", "{\"execute\": \"qmp_capabilities\"}",
        "{\"a\": \"\xff\"}", "}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        feed(c, bad[i]);
        ck_assert_msg(l.n == 1 && strstr(l.all, "{\"error\": {\"class\": "),
                      "%s -> %s", bad[i], l.all ? l.all : "(nothing)");
        reset(&l);
    }
    feed(c, "{\"execute\": \"nosuch\", \"id\": \"x\"}");
    ck_assert_ptr_nonnull(strstr(l.all, "\"class\": \"CommandNotFound\""));
    ck_assert_ptr_nonnull(strstr(l.all, "\"id\": \"x\""));
    reset(&l);

    /* an over-long message: one error, then back in step */
    size_t big = QMP_MAX_MESSAGE + 100;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    memcpy(huge, "{\"execute\": \"", 13);
    huge[big - 1] = '\n';
    huge[big] = '\0';
    feed(c, huge);
    free(huge);
    ck_assert_int_eq(l.n, 1);
    ck_assert_ptr_nonnull(strstr(l.all, "longer than"));
    reset(&l);

    feed(c, "{\"execute\": \"cont\"}");
    ck_assert_ptr_nonnull(strstr(l.all, "RESUME"));
    ck_assert_int_eq(m->state, RUN_RUNNING);
    reset(&l);
    feed(c, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}");
    ck_assert_ptr_nonnull(strstr(l.all, "{\"return\": \"VM status: running\\n\"}"));
    reset(&l);
    feed(c, "{\"execute\": \"quit\"}");
    ck_assert_ptr_nonnull(strstr(l.all, "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}"));
    ck_assert_int_eq(m->state, RUN_SHUTDOWN);
    reset(&l);

    qmp_client_free(c);
    vmcontrol_free(vc);
    machine_free(m);
}
END_TEST

/* The human monitor's own commands through the shared table. */
START_TEST(hmp_commands)
{
    char err[256];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    uint8_t page[16] = { 0x11, 0x22, 0x33, 0x44 };
    memmap_add_ram(m->mem, "ram", 0, 1 << 20, m->ram, NULL);
    memcpy(m->ram + 0x1000, page, sizeof page);
    VMControl *vc = vmcontrol_new(m, NULL);
    Text out = { 0 };
    cmd_hmp_line(vc, "xp /4xb 0x1000", &out);
    ck_assert_msg(strstr(out.data, "0000000000001000: 0x11 0x22 0x33 0x44") != NULL, "%s", out.data);
    text_free(&out);
    cmd_hmp_line(vc, "xp/2xw 0x1000", &out);
    ck_assert_msg(strstr(out.data, "0x44332211 0x00000000") != NULL, "%s", out.data);
    text_free(&out);
    cmd_hmp_line(vc, "xp /1xb 0x200000", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "Cannot access memory"));
    text_free(&out);
    cmd_hmp_line(vc, "p 0x10+2-1", &out);
    ck_assert_str_eq(out.data, "0x11\n");
    text_free(&out);
    cmd_hmp_line(vc, "p/d 100", &out);
    ck_assert_str_eq(out.data, "100\n");
    text_free(&out);
    cmd_hmp_line(vc, "info mtree", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "0000000000000000-00000000000fffff (prio 0, ram): ram"));
    text_free(&out);
    cmd_hmp_line(vc, "info registers", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "not running"));
    text_free(&out);
    cmd_hmp_line(vc, "help", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "cont|c -- resume the VM"));
    ck_assert_ptr_nonnull(strstr(out.data, "info status"));
    text_free(&out);
    cmd_hmp_line(vc, "info", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "info mtree -- show the memory map"));
    text_free(&out);
    cmd_hmp_line(vc, "info bogus", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "unknown item"));
    text_free(&out);
    cmd_hmp_line(vc, "migrate_set_parameter compress-level 12", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "Error: Parameter 'compress-level'"));
    text_free(&out);
    cmd_hmp_line(vc, "migrate \"file:/nonexistent dir/x\"", &out);
    ck_assert_msg(strstr(out.data, "Error: /nonexistent dir/x") != NULL, "%s", out.data);
    text_free(&out);
    m->state = RUN_RUNNING;
    cmd_hmp_line(vc, "stop", &out);
    ck_assert_int_eq(m->state, RUN_PAUSED);
    cmd_hmp_line(vc, "info status", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "VM status: paused"));
    cmd_hmp_line(vc, "c", &out);
    ck_assert_int_eq(m->state, RUN_RUNNING);
    text_free(&out);
    vmcontrol_free(vc);
    machine_free(m);
}
END_TEST

/* The snapshot jobs' arguments, their life (created when the command
 * returns, run before the next command), query-jobs and job-dismiss;
 * and the snapshot commands on a machine without drives (QEMU's words). */
START_TEST(snapshot_jobs)
{
    char err[256];
    Machine *m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    m->state = RUN_RUNNING;
    VMControl *vc = vmcontrol_new(m, NULL);
    Lines l = { 0 };
    QmpClient *c = qmp_client_new_callback(vc, collect, &l);
    feed(c, "{\"execute\": \"qmp_capabilities\"}\n");
    reset(&l);
    feed(c, "{\"execute\": \"snapshot-save\", \"arguments\": {\"job-id\": \"1bad\", "
            "\"tag\": \"t\", \"vmstate\": \"ide0-hd0\", \"devices\": []}}\n");
    ck_assert_msg(strstr(l.all, "\"desc\": \"Invalid job ID '1bad'\"") != NULL, "%s", l.all);
    reset(&l);
    feed(c, "{\"execute\": \"snapshot-save\", \"arguments\": {\"job-id\": \"j1\", "
            "\"tag\": \"t\", \"vmstate\": \"ide0-hd0\", \"devices\": \"ide0-hd0\"}}\n");
    ck_assert_ptr_nonnull(strstr(l.all, "Invalid parameter type for 'devices', expected: array"));
    reset(&l);
    feed(c, "{\"execute\": \"snapshot-load\", \"arguments\": {\"job-id\": \"j1\", "
            "\"tag\": \"t\", \"vmstate\": \"ide0-hd0\"}}\n");
    ck_assert_ptr_nonnull(strstr(l.all, "Parameter 'devices' is missing"));
    reset(&l);
    feed(c, "{\"execute\": \"snapshot-save\", \"arguments\": {\"job-id\": \"j1\", "
            "\"tag\": \"t\", \"vmstate\": \"ide0-hd0\", \"devices\": []}}\n");
    /* "created" comes with the command, before its reply; nothing else yet */
    ck_assert_int_eq(l.n, 2);
    ck_assert_msg(!strncmp(l.all, "{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": "
                                  "\"created\", \"id\": \"j1\"}, \"timestamp\": ", 87), "%s", l.all);
    ck_assert_ptr_nonnull(strstr(l.all, "}\n{\"return\": {}}\n"));
    reset(&l);
    feed(c, "{\"execute\": \"snapshot-delete\", \"arguments\": {\"job-id\": \"j1\", "
            "\"tag\": \"t\", \"devices\": [\"nope\"]}}\n");
    /* j1 ran first (before this command), then this one was refused. */
    const char *run = strstr(l.all, "\"running\"");
    const char *abort = strstr(l.all, "\"aborting\"");
    const char *concl = strstr(l.all, "\"concluded\"");
    ck_assert_msg(run && abort && concl && run < abort && abort < concl, "%s", l.all);
    ck_assert_ptr_nonnull(strstr(l.all, "Job ID 'j1' already in use"));
    reset(&l);
    feed(c, "{\"execute\": \"query-jobs\"}\n");
    ck_assert_msg(strstr(l.all, "\"status\": \"concluded\", \"total-progress\": 1, "
                                "\"type\": \"snapshot-save\", \"id\": \"j1\", "
                                "\"error\": \"At least one device is required for snapshot\"") != NULL,
                  "%s", l.all);
    reset(&l);
    feed(c, "{\"execute\": \"snapshot-delete\", \"arguments\": {\"job-id\": \"j2\", "
            "\"tag\": \"t\", \"devices\": [\"nope\"]}}\n"
            "{\"execute\": \"query-jobs\"}\n");
    ck_assert_msg(strstr(l.all, "\"error\": \"No block device node 'nope'\"") != NULL, "%s", l.all);
    reset(&l);
    feed(c, "{\"execute\": \"job-dismiss\", \"arguments\": {\"id\": \"j3\"}}\n");
    ck_assert_ptr_nonnull(strstr(l.all, "\"desc\": \"Job not found\""));
    reset(&l);
    feed(c, "{\"execute\": \"job-dismiss\", \"arguments\": {\"id\": \"j1\"}}\n"
            "{\"execute\": \"job-dismiss\", \"arguments\": {\"id\": \"j2\"}}\n"
            "{\"execute\": \"query-jobs\"}\n");
    ck_assert_ptr_nonnull(strstr(l.all, "{\"status\": \"null\", \"id\": \"j1\"}"));
    ck_assert_ptr_nonnull(strstr(l.all, "{\"return\": []}"));
    reset(&l);
    qmp_client_free(c);

    Text out = { 0 };
    cmd_hmp_line(vc, "info snapshots", &out);
    ck_assert_str_eq(out.data, "no block device can store vmstate for snapshot\n");
    text_free(&out);
    cmd_hmp_line(vc, "savevm", &out);
    ck_assert_str_eq(out.data, "Error: no block device can store vmstate for snapshot\n");
    text_free(&out);
    cmd_hmp_line(vc, "loadvm s1", &out);
    ck_assert_str_eq(out.data, "Error: no block device can store vmstate for snapshot\n");
    text_free(&out);
    cmd_hmp_line(vc, "delvm s1", &out);
    ck_assert_ptr_null(out.data);                  /* nothing to delete: no output */
    ck_assert_int_eq(m->state, RUN_RUNNING);
    vmcontrol_free(vc);
    machine_free(m);
}
END_TEST

static Suite *qmp_suite(void)
{
    Suite *s = suite_create("qmp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, session);
    tcase_add_test(tc, hmp_commands);
    tcase_add_test(tc, snapshot_jobs);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(qmp_suite)
