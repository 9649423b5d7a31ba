/*
 * QMP, the JSON machine protocol, as QEMU speaks it: a server on a
 * listening socket (several clients at once) or on stdio.
 *
 *   QmpServer *q = qmp_server_new(vc, "unix:/tmp/q.sock,server,nowait", err, len);
 *   ... the main loop polls the listener and the clients ...
 *   qmp_server_free(q);
 *
 * Each client gets the greeting, must send qmp_capabilities first, then
 * runs the commands of core/commands.c and receives every event.  Input
 * is a stream of JSON objects; a message ends where its outer braces
 * close, or at the end of its line: a line break outside a string inside
 * an unfinished message ends it with an error (so a malformed message
 * never swallows the next one; QEMU instead waits for the closing brace).
 * Messages over QMP_MAX_MESSAGE bytes are refused, the rest of them
 * skipped.
 */
#ifndef VX86_CORE_QMP_H
#define VX86_CORE_QMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/commands.h"

#define QMP_MAX_MESSAGE (1024 * 1024)

typedef struct QmpServer QmpServer;
typedef struct QmpClient QmpClient;

/* spec: unix:PATH[,server[=on]][,nowait|,wait=off] | tcp:[HOST]:PORT[,...]
 * | stdio.  Without nowait, waits for the first client (as QEMU does). */
QmpServer *qmp_server_new(VMControl *vc, const char *spec, char *err, size_t errlen);
void qmp_server_free(QmpServer *s);

/* A client whose replies go to a callback (tests, the fuzzer); it gets the
 * greeting at once.  Feed it bytes; free it. */
typedef void (*QmpOutFn)(void *opaque, const char *line, size_t len);
QmpClient *qmp_client_new_callback(VMControl *vc, QmpOutFn out, void *opaque);
void qmp_client_feed(QmpClient *c, const uint8_t *buf, size_t len);
void qmp_client_free(QmpClient *c);

/* QMP on a character backend (-mon chardev=ID,mode=control): greeting on
 * each new connection of a socket backend (at once for others); the
 * caller keeps polling the CharDev's input. */
struct CharDev;
QmpClient *qmp_client_new_chardev(VMControl *vc, struct CharDev *chr);

/* Listening sockets (also used by migration): the fd, or -1 with err. */
int qmp_listen_unix(const char *path, char *err, size_t errlen);
int qmp_listen_tcp(const char *hostport, char *err, size_t errlen);

#endif
