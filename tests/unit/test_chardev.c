/* Character backends: buffer, file, none, and stdio's Ctrl-A escapes (with
 * pipes standing in for the terminal). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/chardev.h"
#include "tests/unit/unit.h"

static size_t got_len;
static uint8_t got[64];
static size_t room_all(void *o) { return sizeof got - got_len; }
static void take(void *o, const uint8_t *b, size_t n)
{
    memcpy(got + got_len, b, n);
    got_len += n;
}

/* -chardev pipe: PATH.in is read, PATH.out written; file append=on; a
 * unix socket server and a client connected to it. */
START_TEST(chardev_opt_pipe_file_socket)
{
    char err[256], dir[] = "/tmp/vx86-chr-XXXXXX", p[128], in[140], out[140];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/pipe", dir);
    snprintf(in, sizeof in, "%s.in", p);
    snprintf(out, sizeof out, "%s.out", p);
    FILE *f = fopen(in, "w");
    fputs("hi", f);
    fclose(f);
    close(open(out, O_CREAT | O_WRONLY, 0600));
    ChardevOpt o = { .id = "p", .backend = CHARDEV_PIPE, .path = p };
    CharDev *c = chardev_open_opt(&o, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    got_len = 0;
    chardev_set_frontend(c, room_all, take, NULL);
    chardev_handle_input(c);
    ck_assert_uint_eq(got_len, 2);
    ck_assert(!memcmp(got, "hi", 2));
    chardev_write(c, (const uint8_t *)"out", 3);
    chardev_free(c);
    char buf[16] = "";
    f = fopen(out, "r");
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "out");
    /* Without P.in/P.out, P itself: missing gives one line. */
    o.path = dir;
    snprintf(p, sizeof p, "%s/none", dir);
    o.path = p;
    ck_assert_ptr_null(chardev_open_opt(&o, err, sizeof err));
    ck_assert(strstr(err, "pipe: cannot open") && !strchr(err, '\n'));

    /* file,append=on keeps what was there. */
    snprintf(p, sizeof p, "%s/log", dir);
    f = fopen(p, "w");
    fputs("a", f);
    fclose(f);
    ChardevOpt fo = { .id = "f", .backend = CHARDEV_FILE, .path = p, .append = true };
    c = chardev_open_opt(&fo, err, sizeof err);
    ck_assert_ptr_nonnull(c);
    chardev_write(c, (const uint8_t *)"b", 1);
    chardev_free(c);
    f = fopen(p, "r");
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "ab");

    /* socket: a server with wait=off, a client connects, bytes flow. */
    snprintf(p, sizeof p, "%s/sock", dir);
    ChardevOpt so = { .id = "s", .backend = CHARDEV_SOCKET, .path = p, .server = true };
    CharDev *srv = chardev_open_opt(&so, err, sizeof err);
    ck_assert_msg(srv != NULL, "%s", err);
    ck_assert(!chardev_connected(srv));
    ChardevOpt co = { .id = "c", .backend = CHARDEV_SOCKET, .path = p };
    CharDev *cli = chardev_open_opt(&co, err, sizeof err);
    ck_assert_msg(cli != NULL, "%s", err);
    chardev_handle_input(srv);                  /* accepts */
    ck_assert(chardev_connected(srv));
    got_len = 0;
    chardev_set_frontend(srv, room_all, take, NULL);
    chardev_write(cli, (const uint8_t *)"ping", 4);
    for (int i = 0; i < 100 && got_len < 4; i++) {
        chardev_handle_input(srv);
        usleep(1000);
    }
    ck_assert_uint_eq(got_len, 4);
    ck_assert(!memcmp(got, "ping", 4));
    chardev_free(cli);
    chardev_free(srv);
    /* A client with nobody listening: one line. */
    ck_assert_ptr_null(chardev_open_opt(&co, err, sizeof err));
    ck_assert(strstr(err, "unix:") && !strchr(err, '\n'));
    /* TCP server on an ephemeral-ish port, then a client. */
    ChardevOpt ts = { .id = "t", .backend = CHARDEV_SOCKET, .host = "127.0.0.1", .port = 45873,
                      .server = true };
    CharDev *tsrv = chardev_open_opt(&ts, err, sizeof err);
    if (tsrv) {
        ChardevOpt tc = { .id = "u", .backend = CHARDEV_SOCKET, .host = "127.0.0.1", .port = 45873 };
        CharDev *tcli = chardev_open_opt(&tc, err, sizeof err);
        ck_assert_msg(tcli != NULL, "%s", err);
        chardev_handle_input(tsrv);
        ck_assert(chardev_connected(tsrv));
        chardev_free(tcli);
        chardev_free(tsrv);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

typedef struct Sink {
    uint8_t got[64];
    size_t len;
    size_t room;       /* what can_receive reports */
    int quits;
} Sink;

static size_t sink_can_receive(void *opaque)
{
    Sink *s = opaque;
    return s->room;
}

static void sink_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Sink *s = opaque;
    ck_assert_uint_le(len, s->room);
    memcpy(s->got + s->len, buf, len);
    s->len += len;
    s->room -= len;
}

static void sink_quit(void *opaque)
{
    Sink *s = opaque;
    s->quits++;
}

START_TEST(buffer_captures_output)
{
    char err[128];
    CharDev *c = chardev_open("buffer", err, sizeof err);
    ck_assert_ptr_nonnull(c);
    chardev_write(c, (const uint8_t *)"hello ", 6);
    chardev_write(c, (const uint8_t *)"world", 5);
    size_t len;
    const uint8_t *d = chardev_buffer_data(c, &len);
    ck_assert_uint_eq(len, 11);
    ck_assert(!memcmp(d, "hello world", 11));
    chardev_buffer_clear(c);
    chardev_buffer_data(c, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(chardev_poll_fd(c), -1);
    chardev_free(c);
}
END_TEST

START_TEST(input_respects_frontend_room)
{
    char err[128];
    CharDev *c = chardev_open("buffer", err, sizeof err);
    Sink s = { .room = 3 };
    /* Input before a frontend exists waits in the queue. */
    ck_assert_uint_eq(chardev_push_input(c, (const uint8_t *)"ab", 2), 2);
    chardev_set_frontend(c, sink_can_receive, sink_receive, &s);
    ck_assert_uint_eq(s.len, 2);
    chardev_push_input(c, (const uint8_t *)"cdef", 4);
    ck_assert_uint_eq(s.len, 3);                 /* room was 3 */
    ck_assert_uint_eq(chardev_input_pending(c), 3);
    s.room = 10;
    chardev_accept_input(c);
    ck_assert_uint_eq(s.len, 6);
    ck_assert(!memcmp(s.got, "abcdef", 6));
    ck_assert_uint_eq(chardev_input_pending(c), 0);
    chardev_free(c);
}
END_TEST

START_TEST(file_backend_writes_file)
{
    char path[] = "/tmp/vx86-chardev-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char spec[64], err[128];
    snprintf(spec, sizeof spec, "file:%s", path);
    CharDev *c = chardev_open(spec, err, sizeof err);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(chardev_poll_fd(c), -1);   /* output only */
    chardev_write(c, (const uint8_t *)"log\n", 4);
    chardev_free(c);
    FILE *f = fopen(path, "r");
    char line[16] = { 0 };
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "log\n");
    fclose(f);
    unlink(path);
}
END_TEST

START_TEST(bad_specs_give_one_line_errors)
{
    char err[128];
    ck_assert_ptr_null(chardev_open("tcp:1234", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "tcp:1234"));
    ck_assert_ptr_null(chardev_open("file:", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "path"));
    ck_assert_ptr_null(chardev_open("file:/nonexistent-dir/x", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x"));
    ck_assert_ptr_null(strchr(err, '\n'));
    CharDev *c = chardev_open("none", err, sizeof err);
    ck_assert_ptr_nonnull(c);
    chardev_write(c, (const uint8_t *)"x", 1);   /* dropped */
    ck_assert_str_eq(chardev_kind(c), "none");
    chardev_free(c);
}
END_TEST

/* stdio with stdin/stdout redirected to pipes (not a tty: no raw mode). */
START_TEST(stdio_escapes)
{
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    int saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    char err[128];
    CharDev *c = chardev_open("stdio", err, sizeof err);
    ck_assert_ptr_nonnull(c);
    Sink s = { .room = 64 };
    chardev_set_frontend(c, sink_can_receive, sink_receive, &s);
    chardev_set_quit_handler(c, sink_quit, &s);

    /* 'a', C-a C-a (a literal C-a), C-a h (help), 'b', C-a x (quit) */
    const uint8_t keys[] = { 'a', 1, 1, 1, 'h', 'b', 1, 'x' };
    ck_assert_int_eq(write(in[1], keys, sizeof keys), (int)sizeof keys);
    ck_assert_int_eq(chardev_poll_fd(c), STDIN_FILENO);
    chardev_handle_input(c);
    ck_assert_uint_eq(s.len, 3);
    ck_assert_uint_eq(s.got[0], 'a');
    ck_assert_uint_eq(s.got[1], 1);
    ck_assert_uint_eq(s.got[2], 'b');
    ck_assert_int_eq(s.quits, 1);

    chardev_write(c, (const uint8_t *)"Z", 1);
    fflush(stdout);
    char help[512] = { 0 };
    ssize_t n = read(out[0], help, sizeof help - 1);
    ck_assert_int_gt(n, 0);
    ck_assert_ptr_nonnull(strstr(help, "C-a x"));
    ck_assert_int_eq(help[n - 1], 'Z');

    /* End of input: stop offering the fd to the main loop. */
    close(in[1]);
    chardev_handle_input(c);
    ck_assert_int_eq(chardev_poll_fd(c), -1);

    chardev_free(c);
    dup2(saved_in, STDIN_FILENO);
    dup2(saved_out, STDOUT_FILENO);
    close(saved_in);
    close(saved_out);
    close(in[0]);
    close(out[0]);
    close(out[1]);
}
END_TEST

static Suite *chardev_suite(void)
{
    Suite *s = suite_create("chardev");
    TCase *tc = tcase_create("backends");
    tcase_add_test(tc, buffer_captures_output);
    tcase_add_test(tc, input_respects_frontend_room);
    tcase_add_test(tc, file_backend_writes_file);
    tcase_add_test(tc, bad_specs_give_one_line_errors);
    tcase_add_test(tc, stdio_escapes);
    tcase_add_test(tc, chardev_opt_pipe_file_socket);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(chardev_suite)
