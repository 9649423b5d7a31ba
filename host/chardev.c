/*
 * Character backends (see chardev.h): stdio with a QEMU-style Ctrl-A escape,
 * output files, a null sink, an in-memory buffer for tests and a listening
 * Unix socket (one client at a time; output is dropped while none is
 * connected, and a client that goes away puts the socket back to
 * listening).
 *
 * The one piece of process-wide mutable state is the terminal record below:
 * the terminal settings belong to the process, not to a machine, and they
 * must be restored from an atexit handler and from signal handlers, neither
 * of which can be handed a pointer.  Every other piece of state lives in the
 * CharDev.
 */
#include "host/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"

#define CHARDEV_INPUT_QUEUE 4096
#define CTRL_A 0x01

typedef enum CharKind {
    CHAR_STDIO, CHAR_FILE, CHAR_NONE, CHAR_BUFFER, CHAR_SOCKET, CHAR_PIPE, CHAR_CLIENT,
} CharKind;

struct CharDev {
    CharKind kind;
    int in_fd, out_fd;        /* -1 when absent */
    bool owns_out_fd;
    bool owns_in_fd;          /* pipe: a separate PATH.in */
    bool in_eof;              /* input fd hit end of file: stop polling it */
    bool escape_pending;      /* stdio: Ctrl-A seen, waiting for the command */

    /* Input waiting for the frontend (ring). */
    uint8_t inq[CHARDEV_INPUT_QUEUE];
    size_t inq_head, inq_count;
    bool delivering;          /* guards against re-entry from the frontend */

    CharCanReceiveFn can_receive;
    CharReceiveFn receive;
    void *fe_opaque;
    CharQuitFn quit;
    void *quit_opaque;

    /* "unix:" server: the listening socket (in_fd/out_fd are the client). */
    int listen_fd;
    char *sock_path;
    CharConnectFn on_connect;
    void *connect_opaque;

    /* "buffer" backend output. */
    uint8_t *buf;
    size_t buf_len, buf_cap;

    /* Record/replay (chardev_set_input_hook): bytes from the host go to
     * the hook instead of the queue; muted: output is dropped. */
    CharInputHook input_hook;
    void *input_hook_opaque;
    bool muted;
};

/* ---- the process's terminal (see the file comment for why it is global) ---- */

static struct {
    int users;                /* open stdio backends that put it in raw mode */
    bool saved;
    bool handlers_installed;
    struct termios orig;
} term_record;

static void term_restore(void)
{
    if (term_record.saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &term_record.orig);
}

/* Async-signal-safe: tcsetattr, signal and raise all are. */
static void term_signal_restore(int sig)
{
    term_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void term_install_handlers(void)
{
    if (term_record.handlers_installed)
        return;
    term_record.handlers_installed = true;
    atexit(term_restore);
    static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = term_signal_restore;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* Raw input (every key goes to the guest, Ctrl-C included) but output
 * post-processing kept, so the emulator's own messages still line up. */
static void term_enter_raw(void)
{
    if (!isatty(STDIN_FILENO))
        return;
    if (term_record.users++ > 0)
        return;
    if (tcgetattr(STDIN_FILENO, &term_record.orig) < 0) {
        term_record.users--;
        return;
    }
    term_record.saved = true;
    term_install_handlers();
    struct termios t = term_record.orig;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void term_leave_raw(void)
{
    if (!term_record.saved || term_record.users <= 0)
        return;
    if (--term_record.users == 0)
        term_restore();
}

/* ---- opening and closing ---- */

static CharDev *chardev_alloc(CharKind kind)
{
    CharDev *c = xcalloc(1, sizeof(*c));
    c->kind = kind;
    c->in_fd = -1;
    c->out_fd = -1;
    c->listen_fd = -1;
    return c;
}

/* "unix:PATH,server[=on][,nowait|,wait=off]": a listening socket.  With
 * wait (QEMU's default for a server) opening blocks until a client comes. */
static CharDev *open_unix_server(const char *spec, char *err, size_t errlen)
{
    char *copy = xstrdup(spec + 5);
    char *path = copy, *opts = strchr(copy, ',');
    bool server = false, wait = true;
    if (opts)
        *opts++ = '\0';
    for (char *o = opts; o && *o;) {
        char *next = strchr(o, ',');
        if (next)
            *next++ = '\0';
        if (!strcmp(o, "server") || !strcmp(o, "server=on"))
            server = true;
        else if (!strcmp(o, "nowait") || !strcmp(o, "wait=off"))
            wait = false;
        else if (!strcmp(o, "wait=on"))
            wait = true;
        else {
            snprintf(err, errlen, "unix: unknown option '%s' (server, nowait)", o);
            free(copy);
            return NULL;
        }
        o = next;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!server || !*path || strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "unix:%s: only a server with a path shorter than %zu bytes "
                 "is supported (unix:PATH,server,nowait)", path, sizeof(sa.sun_path));
        free(copy);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
        snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(copy);
        return NULL;
    }
    CharDev *c = chardev_alloc(CHAR_SOCKET);
    c->listen_fd = fd;
    c->sock_path = copy;
    if (wait) {
        fprintf(stderr, "vx86: waiting for a connection on unix:%s\n", path);
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd >= 0)
            c->in_fd = c->out_fd = cfd;
    }
    return c;
}

/* ---- -chardev (core/options.h ChardevOpt) ---- */

/* A listening or connected stream socket for a unix path or host:port. */
static int socket_open(const ChardevOpt *o, bool listening, char *err, size_t errlen)
{
    if (o->path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(o->path) >= sizeof(sa.sun_path)) {
            snprintf(err, errlen, "socket path '%s' is too long (at most %zu bytes)", o->path,
                     sizeof(sa.sun_path) - 1);
            return -1;
        }
        strcpy(sa.sun_path, o->path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listening)
            unlink(o->path);
        if (fd < 0 || (listening ? bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
                                   listen(fd, 1) < 0
                                 : connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)) {
            snprintf(err, errlen, "unix:%s: %s", o->path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", o->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = listening ? AI_PASSIVE : 0 }, *res = NULL;
    const char *host = o->host && *o->host ? o->host : (listening ? NULL : "localhost");
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "tcp:%s:%s: %s", host ? host : "", port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        if (listening)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (listening ? bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0
                      : connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "tcp:%s:%s: %s", host ? host : "", port, strerror(e));
    return fd;
}

static CharDev *open_socket_opt(const ChardevOpt *o, char *err, size_t errlen)
{
    int fd = socket_open(o, o->server, err, errlen);
    if (fd < 0)
        return NULL;
    if (!o->server) {
        CharDev *c = chardev_alloc(CHAR_CLIENT);
        c->in_fd = c->out_fd = fd;
        return c;
    }
    CharDev *c = chardev_alloc(CHAR_SOCKET);
    c->listen_fd = fd;
    c->sock_path = o->path ? xstrdup(o->path) : NULL;
    if (o->wait) {
        if (o->path)
            fprintf(stderr, "vx86: waiting for a connection on unix:%s\n", o->path);
        else
            fprintf(stderr, "vx86: waiting for a connection on tcp:%s:%u\n",
                    o->host ? o->host : "", o->port);
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd >= 0)
            c->in_fd = c->out_fd = cfd;
    }
    return c;
}

/* QEMU's pipe backend: PATH.in (what the guest reads) and PATH.out (what
 * it writes) when both exist, else PATH both ways.  O_RDWR, so opening a
 * FIFO nobody has opened yet does not block. */
static CharDev *open_pipe_opt(const ChardevOpt *o, char *err, size_t errlen)
{
    size_t n = strlen(o->path) + 5;
    char *in = xmalloc(n), *out = xmalloc(n);
    snprintf(in, n, "%s.in", o->path);
    snprintf(out, n, "%s.out", o->path);
    int fin = open(in, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    int fout = open(out, O_RDWR | O_CLOEXEC);
    free(in);
    free(out);
    if (fin < 0 || fout < 0) {
        if (fin >= 0)
            close(fin);
        if (fout >= 0)
            close(fout);
        fin = open(o->path, O_RDWR | O_CLOEXEC);
        if (fin < 0) {
            snprintf(err, errlen, "pipe: cannot open '%s' (nor %s.in/%s.out): %s", o->path,
                     o->path, o->path, strerror(errno));
            return NULL;
        }
        fout = fin;
    }
    CharDev *c = chardev_alloc(CHAR_PIPE);
    c->in_fd = fin;
    c->out_fd = fout;
    c->owns_in_fd = fin != fout;
    c->owns_out_fd = true;
    return c;
}

CharDev *chardev_open_opt(const ChardevOpt *o, char *err, size_t errlen)
{
    char spec[4200];
    switch (o->backend) {
    case CHARDEV_STDIO:
        return chardev_open("stdio", err, errlen);
    case CHARDEV_NULL:
        return chardev_alloc(CHAR_NONE);
    case CHARDEV_FILE: {
        if (!o->append) {
            snprintf(spec, sizeof spec, "file:%s", o->path);
            return chardev_open(spec, err, errlen);
        }
        int fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open '%s' for writing: %s", o->path, strerror(errno));
            return NULL;
        }
        CharDev *c = chardev_alloc(CHAR_FILE);
        c->out_fd = fd;
        c->owns_out_fd = true;
        return c;
    }
    case CHARDEV_SOCKET:
        return open_socket_opt(o, err, errlen);
    case CHARDEV_PIPE:
        return open_pipe_opt(o, err, errlen);
    }
    snprintf(err, errlen, "unknown backend");
    return NULL;
}

void chardev_set_connect_handler(CharDev *c, CharConnectFn fn, void *opaque)
{
    c->on_connect = fn;
    c->connect_opaque = opaque;
    if (fn && c->kind == CHAR_SOCKET && c->in_fd >= 0)
        fn(opaque);
}

bool chardev_connected(const CharDev *c)
{
    return c->kind != CHAR_SOCKET || c->in_fd >= 0;
}

CharDev *chardev_open(const char *spec, char *err, size_t errlen)
{
    if (!spec || !*spec) {
        snprintf(err, errlen, "empty character device spec");
        return NULL;
    }
    if (!strcmp(spec, "stdio")) {
        CharDev *c = chardev_alloc(CHAR_STDIO);
        c->in_fd = STDIN_FILENO;
        c->out_fd = STDOUT_FILENO;
        term_enter_raw();
        return c;
    }
    if (!strcmp(spec, "none") || !strcmp(spec, "null"))
        return chardev_alloc(CHAR_NONE);
    if (!strcmp(spec, "buffer"))
        return chardev_alloc(CHAR_BUFFER);
    if (!strncmp(spec, "unix:", 5))
        return open_unix_server(spec, err, errlen);
    if (!strncmp(spec, "file:", 5)) {
        const char *path = spec + 5;
        if (!*path) {
            snprintf(err, errlen, "file: needs a path (file:PATH)");
            return NULL;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open '%s' for writing: %s", path, strerror(errno));
            return NULL;
        }
        CharDev *c = chardev_alloc(CHAR_FILE);
        c->out_fd = fd;
        c->owns_out_fd = true;
        return c;
    }
    snprintf(err, errlen, "unknown character device '%s' (stdio, file:PATH, none, "
             "unix:PATH,server,nowait)", spec);
    return NULL;
}

void chardev_free(CharDev *c)
{
    if (!c)
        return;
    if (c->kind == CHAR_STDIO)
        term_leave_raw();
    if (c->owns_out_fd)
        close(c->out_fd);
    if (c->owns_in_fd || (c->kind == CHAR_CLIENT && c->in_fd >= 0))
        close(c->in_fd);
    if (c->kind == CHAR_SOCKET) {
        if (c->in_fd >= 0)
            close(c->in_fd);
        close(c->listen_fd);
        if (c->sock_path)
            unlink(c->sock_path);
        free(c->sock_path);
    }
    free(c->buf);
    free(c);
}

bool chardev_is_listening(const CharDev *c)
{
    return c->listen_fd >= 0;
}

const char *chardev_kind(const CharDev *c)
{
    static const char *const names[] = { "stdio", "file", "none", "buffer", "socket", "pipe",
                                         "socket" };
    return names[c->kind];
}

/* ---- output ---- */

static void fd_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            poll(&p, 1, 100);
        } else {
            return;   /* closed pipe, full disk: drop the output */
        }
    }
}

static void buffer_append(CharDev *c, const uint8_t *p, size_t len)
{
    if (c->buf_len + len > c->buf_cap) {
        while (c->buf_len + len > c->buf_cap)
            c->buf_cap = c->buf_cap ? c->buf_cap * 2 : 256;
        c->buf = xrealloc(c->buf, c->buf_cap);
    }
    memcpy(c->buf + c->buf_len, p, len);
    c->buf_len += len;
}

void chardev_write(CharDev *c, const uint8_t *buf, size_t len)
{
    if (!c || len == 0 || c->muted)
        return;
    switch (c->kind) {
    case CHAR_STDIO:
    case CHAR_FILE:
    case CHAR_PIPE:
        fd_write_all(c->out_fd, buf, len);
        break;
    case CHAR_BUFFER:
        buffer_append(c, buf, len);
        break;
    case CHAR_SOCKET:
    case CHAR_CLIENT:
        /* send() with MSG_NOSIGNAL: a client that went away must not
         * kill the process with SIGPIPE. */
        while (c->out_fd >= 0 && len > 0) {
            ssize_t n = send(c->out_fd, buf, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            buf += n;
            len -= (size_t)n;
        }
        break;
    case CHAR_NONE:
        break;
    }
}

const uint8_t *chardev_buffer_data(const CharDev *c, size_t *len)
{
    if (c->kind != CHAR_BUFFER) {
        *len = 0;
        return NULL;
    }
    *len = c->buf_len;
    return c->buf;
}

void chardev_buffer_clear(CharDev *c)
{
    c->buf_len = 0;
}

/* ---- input ---- */

void chardev_set_frontend(CharDev *c, CharCanReceiveFn can_receive,
                          CharReceiveFn receive, void *opaque)
{
    c->can_receive = can_receive;
    c->receive = receive;
    c->fe_opaque = opaque;
    chardev_accept_input(c);
}

void chardev_set_quit_handler(CharDev *c, CharQuitFn fn, void *opaque)
{
    c->quit = fn;
    c->quit_opaque = opaque;
}

size_t chardev_input_pending(const CharDev *c)
{
    return c->inq_count;
}

static size_t inq_put(CharDev *c, const uint8_t *p, size_t len)
{
    size_t n = 0;
    while (n < len && c->inq_count < CHARDEV_INPUT_QUEUE) {
        c->inq[(c->inq_head + c->inq_count) % CHARDEV_INPUT_QUEUE] = p[n++];
        c->inq_count++;
    }
    return n;
}

void chardev_accept_input(CharDev *c)
{
    if (!c || c->delivering || !c->receive)
        return;
    c->delivering = true;
    while (c->inq_count > 0) {
        size_t room = c->can_receive ? c->can_receive(c->fe_opaque) : c->inq_count;
        if (room == 0)
            break;
        /* Deliver the contiguous run at the head of the ring. */
        size_t run = MIN(c->inq_count, CHARDEV_INPUT_QUEUE - c->inq_head);
        run = MIN(run, room);
        const uint8_t *p = c->inq + c->inq_head;
        c->inq_head = (c->inq_head + run) % CHARDEV_INPUT_QUEUE;
        c->inq_count -= run;
        c->receive(c->fe_opaque, p, run);
    }
    c->delivering = false;
}

size_t chardev_push_input(CharDev *c, const uint8_t *buf, size_t len)
{
    size_t n = inq_put(c, buf, len);
    chardev_accept_input(c);
    return n;
}

void chardev_set_input_hook(CharDev *c, CharInputHook fn, void *opaque)
{
    c->input_hook = fn;
    c->input_hook_opaque = opaque;
}

void chardev_set_muted(CharDev *c, bool muted)
{
    c->muted = muted;
}

size_t chardev_input_save(const CharDev *c, uint8_t *out, size_t max)
{
    size_t n = MIN(max, c->inq_count);
    for (size_t i = 0; i < n; i++)
        out[i] = c->inq[(c->inq_head + i) % CHARDEV_INPUT_QUEUE];
    return n;
}

void chardev_input_restore(CharDev *c, const uint8_t *buf, size_t len)
{
    c->inq_head = 0;
    c->inq_count = 0;
    inq_put(c, buf, len);
}

/* Bytes from the host for the guest: queued, or handed to the hook. */
static void queue_host_input(CharDev *c, const uint8_t *p, size_t len)
{
    if (!len)
        return;
    if (c->input_hook)
        c->input_hook(c->input_hook_opaque, c, p, len);
    else
        inq_put(c, p, len);
}

static void escape_help(CharDev *c)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit emulator\r\n"
        "C-a C-a  sends C-a\r\n";
    if (c->out_fd >= 0)
        fd_write_all(c->out_fd, (const uint8_t *)help, sizeof(help) - 1);
}

static void escape_quit(CharDev *c)
{
    if (c->quit) {
        c->quit(c->quit_opaque);
        return;
    }
    static const char msg[] = "\r\nvx86: terminating on C-a x\r\n";
    fd_write_all(STDERR_FILENO, (const uint8_t *)msg, sizeof(msg) - 1);
    term_restore();
    exit(0);
}

/* Ctrl-A prefix commands on the terminal; everything else is queued for
 * the guest. */
static void stdio_filter_input(CharDev *c, const uint8_t *p, size_t len)
{
    uint8_t out[256];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = p[i];
        if (n == sizeof out) {
            queue_host_input(c, out, n);
            n = 0;
        }
        if (c->escape_pending) {
            c->escape_pending = false;
            switch (ch) {
            case 'x': case 'X': queue_host_input(c, out, n); n = 0; escape_quit(c); continue;
            case 'h': case 'H': case '?': escape_help(c); continue;
            case CTRL_A: out[n++] = ch; continue;
            default: continue;   /* unknown escape: swallowed */
            }
        }
        if (ch == CTRL_A) {
            c->escape_pending = true;
            continue;
        }
        out[n++] = ch;
    }
    queue_host_input(c, out, n);
}

int chardev_poll_fd(CharDev *c)
{
    if (c && c->kind == CHAR_SOCKET && c->in_fd < 0)
        return c->listen_fd;
    if (!c || c->in_fd < 0 || c->in_eof || c->inq_count >= CHARDEV_INPUT_QUEUE)
        return -1;
    return c->in_fd;
}

void chardev_handle_input(CharDev *c)
{
    if (c && c->kind == CHAR_SOCKET && c->in_fd < 0) {
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        c->in_fd = c->out_fd = fd;
        c->in_eof = false;
        if (c->on_connect)
            c->on_connect(c->connect_opaque);
        return;
    }
    if (chardev_poll_fd(c) < 0) {
        chardev_accept_input(c);
        return;
    }
    struct pollfd p = { .fd = c->in_fd, .events = POLLIN };
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP))) {
        /* Read no more than fits, so a filtered byte is never dropped. */
        uint8_t buf[256];
        size_t room = MIN(sizeof(buf), CHARDEV_INPUT_QUEUE - c->inq_count);
        ssize_t n = read(c->in_fd, buf, room);
        if (c->kind == CHAR_SOCKET && (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))) {
            /* The client left: listen for the next one. */
            close(c->in_fd);
            c->in_fd = c->out_fd = -1;
        } else if (n == 0) {
            c->in_eof = true;
        } else if (n > 0 && c->kind != CHAR_STDIO) {
            queue_host_input(c, buf, (size_t)n);
        } else if (n > 0) {
            stdio_filter_input(c, buf, (size_t)n);
        }
    }
    chardev_accept_input(c);
}
