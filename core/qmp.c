/*
 * The QMP server (see qmp.h): listening sockets, clients, message framing,
 * negotiation and dispatch to the command table (core/commands.c).
 */
#include "core/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"
#include "host/chardev.h"

struct QmpClient {
    QmpServer *srv;            /* NULL for callback clients */
    VMControl *vc;
    int in_fd, out_fd;
    bool is_socket;
    bool dead;                 /* a write failed: dropped at its next read */
    QmpOutFn out_fn;
    void *out_opaque;
    CharDev *chr;              /* -mon chardev=ID,mode=control */
    bool negotiated;
    /* framing */
    char *buf;
    size_t len, cap;
    int depth;
    bool in_str, esc, junk, overflow;
    QmpClient *next;
};

struct QmpServer {
    VMControl *vc;
    int listen_fd;             /* -1 for stdio */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];   /* unix socket to unlink */
    QmpClient *clients;
};

/* ---- output ---- */

static void client_send(QmpClient *c, const char *line)
{
    size_t len = strlen(line);
    if (c->out_fn) {
        c->out_fn(c->out_opaque, line, len);
        return;
    }
    if (c->dead)
        return;
    /* One message per line, "\r\n" as QEMU ends them. */
    char *msg = xmalloc(len + 2);
    memcpy(msg, line, len);
    memcpy(msg + len, "\r\n", 2);
    size_t off = 0;
    while (off < len + 2) {
        ssize_t n = c->is_socket ? send(c->out_fd, msg + off, len + 2 - off, MSG_NOSIGNAL)
                                 : write(c->out_fd, msg + off, len + 2 - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct timeval tv = { 1, 0 };
            fd_set w;
            FD_ZERO(&w);
            FD_SET(c->out_fd, &w);
            if (select(c->out_fd + 1, NULL, &w, NULL, &tv) > 0)
                continue;
        }
        if (n <= 0) {
            c->dead = true;
            break;
        }
        off += (size_t)n;
    }
    free(msg);
}

static void client_send_value(QmpClient *c, JsonValue *v)
{
    char *s = json_to_string(v);
    client_send(c, s);
    free(s);
    json_free(v);
}

static void send_error(QmpClient *c, const char *cls, const char *desc, const JsonValue *id)
{
    JsonValue *r = json_object(), *e = json_object();
    json_set_str(e, "class", cls);
    json_set_str(e, "desc", desc);
    json_set(r, "error", e);
    if (id)
        json_set(r, "id", json_copy(id));
    client_send_value(c, r);
}

static void client_event(void *opaque, const char *line)
{
    QmpClient *c = opaque;
    if (c->negotiated)
        client_send(c, line);
}

static void send_greeting(QmpClient *c)
{
    CmdError e = { 0 };
    JsonValue *g = json_object(), *q = json_object();
    json_set(q, "version", cmd_qmp_call(c->vc, "query-version", NULL, &e));
    json_set(q, "capabilities", json_array());
    json_set(g, "QMP", q);
    client_send_value(c, g);
}

/* ---- one message ---- */

static void handle_message(QmpClient *c, const char *text, size_t len)
{
    char err[160];
    JsonValue *v = json_parse(text, len, err, sizeof err);
    if (!v) {
        char desc[200];
        snprintf(desc, sizeof desc, "JSON parse error, %s", err);
        send_error(c, "GenericError", desc, NULL);
        return;
    }
    if (v->type != JSON_OBJECT) {
        send_error(c, "GenericError", "QMP input must be a JSON object", NULL);
        json_free(v);
        return;
    }
    const JsonValue *id = json_get(v, "id");
    JsonValue *exec = json_get(v, "execute"), *args = json_get(v, "arguments");
    char desc[256];
    for (size_t i = 0; i < v->n; i++) {
        const char *k = v->keys[i];
        if (strcmp(k, "execute") && strcmp(k, "arguments") && strcmp(k, "id")) {
            snprintf(desc, sizeof desc, "QMP input member '%.64s' is unexpected", k);
            send_error(c, "GenericError", desc, id);
            goto out;
        }
    }
    if (!exec) {
        send_error(c, "GenericError", "QMP input lacks member 'execute'", id);
        goto out;
    }
    if (exec->type != JSON_STRING) {
        send_error(c, "GenericError", "QMP input member 'execute' must be a string", id);
        goto out;
    }
    if (args && args->type != JSON_OBJECT) {
        send_error(c, "GenericError", "QMP input member 'arguments' must be an object", id);
        goto out;
    }
    const char *name = exec->s;
    if (!c->negotiated && strcmp(name, "qmp_capabilities")) {
        send_error(c, "CommandNotFound",
                   "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        goto out;
    }
    JsonValue *ret;
    CmdError e = { 0 };
    if (!strcmp(name, "qmp_capabilities")) {
        if (c->negotiated) {
            send_error(c, "CommandNotFound",
                       "Capabilities negotiation is already complete, command ignored", id);
            goto out;
        }
        JsonValue *en = json_get(args, "enable");
        if (args && (args->n > 1 || (args->n == 1 && !en))) {
            snprintf(desc, sizeof desc, "Parameter '%.64s' is unexpected",
                     en ? "arguments" : args->keys[0]);
            send_error(c, "GenericError", desc, id);
            goto out;
        }
        if (en && (en->type != JSON_ARRAY || en->n)) {
            send_error(c, "GenericError", en->type != JSON_ARRAY
                       ? "Invalid parameter type for 'enable', expected: array"
                       : "Capability not available (vx86 has none)", id);
            goto out;
        }
        c->negotiated = true;
        ret = json_object();
    } else {
        ret = cmd_qmp_call(c->vc, name, args, &e);
    }
    if (!ret) {
        send_error(c, e.cls ? e.cls : "GenericError", e.desc, id);
        goto out;
    }
    JsonValue *r = json_object();
    json_set(r, "return", ret);
    if (id)
        json_set(r, "id", json_copy(id));
    client_send_value(c, r);
out:
    json_free(v);
}

/* ---- framing ---- */

static void frame_reset(QmpClient *c)
{
    c->len = 0;
    c->depth = 0;
    c->in_str = c->esc = c->junk = c->overflow = false;
}

static void frame_finish(QmpClient *c)
{
    if (c->overflow) {
        char desc[96];
        snprintf(desc, sizeof desc, "JSON parse error, message longer than %d bytes", QMP_MAX_MESSAGE);
        send_error(c, "GenericError", desc, NULL);
    } else {
        handle_message(c, c->buf, c->len);
    }
    frame_reset(c);
}

static void frame_put(QmpClient *c, char ch)
{
    if (c->len >= QMP_MAX_MESSAGE) {
        c->overflow = true;
        return;
    }
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        if (c->cap > QMP_MAX_MESSAGE)
            c->cap = QMP_MAX_MESSAGE;
        c->buf = xrealloc(c->buf, c->cap);
    }
    c->buf[c->len++] = ch;
}

void qmp_client_feed(QmpClient *c, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = (char)buf[i];
        if (!c->len && !c->depth && !c->junk && !c->overflow) {
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
                continue;
            if (ch == '{' || ch == '[')
                c->depth = 1;
            else
                c->junk = true;        /* not a message: refused at the line's end */
            frame_put(c, ch);
            continue;
        }
        if (c->junk) {
            if (ch == '\n')
                frame_finish(c);
            else
                frame_put(c, ch);
            continue;
        }
        frame_put(c, ch);
        if (c->in_str) {
            if (c->esc)
                c->esc = false;
            else if (ch == '\\')
                c->esc = true;
            else if (ch == '"')
                c->in_str = false;
            else if (ch == '\n')
                frame_finish(c);        /* raw line break in a string: invalid */
            continue;
        }
        if (ch == '"') {
            c->in_str = true;
        } else if (ch == '{' || ch == '[') {
            c->depth++;
        } else if (ch == '}' || ch == ']') {
            if (--c->depth == 0)
                frame_finish(c);
        } else if (ch == '\n') {
            frame_finish(c);            /* an unfinished message ends at its line */
        }
    }
}

/* ---- clients ---- */

static QmpClient *client_new(VMControl *vc)
{
    QmpClient *c = xcalloc(1, sizeof(*c));
    c->vc = vc;
    c->in_fd = c->out_fd = -1;
    vmcontrol_add_listener(vc, client_event, c);
    return c;
}

QmpClient *qmp_client_new_callback(VMControl *vc, QmpOutFn out, void *opaque)
{
    QmpClient *c = client_new(vc);
    c->out_fn = out;
    c->out_opaque = opaque;
    send_greeting(c);
    return c;
}

void qmp_client_free(QmpClient *c)
{
    if (!c)
        return;
    vmcontrol_remove_listener(c->vc, c);
    machine_unwatch_fd(c->vc->m, c);
    if (c->chr) {
        chardev_set_frontend(c->chr, NULL, NULL, NULL);
        chardev_set_connect_handler(c->chr, NULL, NULL);
    }
    if (c->srv) {
        for (QmpClient **pp = &c->srv->clients; *pp; pp = &(*pp)->next) {
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        }
        if (c->in_fd >= 0)
            close(c->in_fd);
        if (c->out_fd >= 0 && c->out_fd != c->in_fd)
            close(c->out_fd);
    }
    free(c->buf);
    free(c);
}

static int client_fd(void *opaque)
{
    return ((QmpClient *)opaque)->in_fd;
}

static void client_readable(void *opaque)
{
    QmpClient *c = opaque;
    uint8_t buf[65536];
    ssize_t n = read(c->in_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0 || c->dead) {
        if (c->srv && c->srv->listen_fd < 0) {
            /* stdio: end of input; stop polling it, keep the VM running */
            machine_unwatch_fd(c->vc->m, c);
            return;
        }
        qmp_client_free(c);
        return;
    }
    qmp_client_feed(c, buf, (size_t)n);
}

static QmpClient *server_add_client(QmpServer *s, int in_fd, int out_fd, bool sock)
{
    QmpClient *c = client_new(s->vc);
    c->srv = s;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->is_socket = sock;
    c->next = s->clients;
    s->clients = c;
    if (!machine_watch_fd(s->vc->m, client_fd, client_readable, c)) {
        send_error(c, "GenericError", "too many connections", NULL);
        qmp_client_free(c);
        return NULL;
    }
    send_greeting(c);
    return c;
}

static int listen_fd_get(void *opaque)
{
    return ((QmpServer *)opaque)->listen_fd;
}

static void server_accept(void *opaque)
{
    QmpServer *s = opaque;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    server_add_client(s, fd, fd, true);
}

/* ---- on a character backend ---- */

static void chr_out(void *opaque, const char *line, size_t len)
{
    QmpClient *c = opaque;
    chardev_write(c->chr, (const uint8_t *)line, len);
    chardev_write(c->chr, (const uint8_t *)"\r\n", 2);
}

static size_t chr_can_receive(void *opaque)
{
    return 65536;
}

static void chr_receive(void *opaque, const uint8_t *buf, size_t len)
{
    qmp_client_feed(opaque, buf, len);
}

static void chr_connected(void *opaque)
{
    QmpClient *c = opaque;
    /* A new client: negotiate again, drop what the last one left. */
    c->negotiated = false;
    frame_reset(c);
    send_greeting(c);
}

QmpClient *qmp_client_new_chardev(VMControl *vc, CharDev *chr)
{
    QmpClient *c = client_new(vc);
    c->chr = chr;
    c->out_fn = chr_out;
    c->out_opaque = c;
    chardev_set_frontend(chr, chr_can_receive, chr_receive, c);
    if (chardev_is_listening(chr))
        chardev_set_connect_handler(chr, chr_connected, c);
    else
        send_greeting(c);
    return c;
}

/* ---- listening ---- */

/* Splits "ADDR,opt,opt": returns the address part (malloc'ed) and whether
 * the options ask to wait for a client. */
static char *split_spec(const char *spec, bool *wait, char *err, size_t errlen)
{
    size_t alen = strcspn(spec, ",");
    char *addr = strndup(spec, alen);
    *wait = false;
    bool server = false;
    for (const char *o = spec + alen; *o;) {
        o++;
        size_t l = strcspn(o, ",");
        char opt[32];
        snprintf(opt, sizeof opt, "%.*s", (int)(l < 31 ? l : 31), o);
        if (!strcmp(opt, "server") || !strcmp(opt, "server=on")) {
            server = true;
            *wait = true;
        } else if (!strcmp(opt, "nowait") || !strcmp(opt, "wait=off")) {
            *wait = false;
        } else if (!strcmp(opt, "wait=on") || !strcmp(opt, "wait")) {
            *wait = true;
        } else if (strcmp(opt, "nodelay") && strncmp(opt, "id=", 3)) {
            snprintf(err, errlen, "unknown option '%s' (server, nowait)", opt);
            free(addr);
            return NULL;
        }
        o += l;
    }
    if (!server) {
        snprintf(err, errlen, "only a listening server is supported (add ,server,nowait)");
        free(addr);
        return NULL;
    }
    /* nowait before server: "server" set wait; re-scan for an explicit nowait */
    if (strstr(spec, ",nowait") || strstr(spec, ",wait=off"))
        *wait = false;
    return addr;
}

int qmp_listen_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "unix:%s: path too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
        snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* "HOST:PORT" or ":PORT" (all addresses). */
int qmp_listen_tcp(const char *hostport, char *err, size_t errlen)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "tcp:%s: expected HOST:PORT", hostport);
        return -1;
    }
    char *host = strndup(hostport, (size_t)(colon - hostport));
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res = NULL;
    int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    free(host);
    if (rc) {
        snprintf(err, errlen, "tcp:%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0)
            break;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        snprintf(err, errlen, "tcp:%s: %s", hostport, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

QmpServer *qmp_server_new(VMControl *vc, const char *spec, char *err, size_t errlen)
{
    QmpServer *s = xcalloc(1, sizeof(*s));
    s->vc = vc;
    s->listen_fd = -1;
    if (!strcmp(spec, "stdio")) {
        if (!server_add_client(s, 0, 1, false)) {
            snprintf(err, errlen, "stdio: too many input sources");
            free(s);
            return NULL;
        }
        return s;
    }
    bool wait;
    char *addr = NULL;
    if (!strncmp(spec, "unix:", 5) || !strncmp(spec, "tcp:", 4)) {
        char e2[256];
        addr = split_spec(spec, &wait, e2, sizeof e2);
        if (!addr) {
            snprintf(err, errlen, "%s: %s", spec, e2);
            free(s);
            return NULL;
        }
    } else {
        snprintf(err, errlen, "'%s' not supported (unix:PATH,server,nowait, "
                 "tcp:HOST:PORT,server,nowait, stdio)", spec);
        free(s);
        return NULL;
    }
    if (!strncmp(addr, "unix:", 5)) {
        s->listen_fd = qmp_listen_unix(addr + 5, err, errlen);
        if (s->listen_fd >= 0)
            snprintf(s->path, sizeof s->path, "%s", addr + 5);
    } else {
        s->listen_fd = qmp_listen_tcp(addr + 4, err, errlen);
    }
    free(addr);
    if (s->listen_fd < 0) {
        free(s);
        return NULL;
    }
    if (wait) {
        fprintf(stderr, "vx86: QMP: waiting for a connection on %s\n", spec);
        server_accept(s);
    }
    machine_watch_fd(vc->m, listen_fd_get, server_accept, s);
    return s;
}

void qmp_server_free(QmpServer *s)
{
    if (!s)
        return;
    while (s->clients) {
        QmpClient *c = s->clients;
        if (s->listen_fd < 0)
            c->in_fd = c->out_fd = -1;          /* stdio stays open */
        qmp_client_free(c);
    }
    machine_unwatch_fd(s->vc->m, s);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->path[0])
        unlink(s->path);
    free(s);
}
