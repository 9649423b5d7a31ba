/*
 * Character backends: where a serial port's or debug console's bytes go and
 * where its input comes from.
 *
 *   "stdio"      the terminal (raw mode when stdin is a tty; Ctrl-A x quits,
 *                Ctrl-A h prints help, Ctrl-A Ctrl-A sends a literal Ctrl-A)
 *   "file:PATH"  output appended to a file truncated at open; no input
 *   "none"       output dropped, no input
 *   "buffer"     output kept in memory, input injected by the caller (tests)
 *   "unix:PATH,server,nowait"  a listening Unix socket, one client at a
 *                time (without nowait, opening waits for the first client)
 *
 * Input is pulled by the frontend (the UART): bytes from the backend wait in
 * a bounded queue inside the CharDev and are handed over only as far as the
 * frontend's can_receive() allows, so pasting into a slow guest loses
 * nothing.  When the frontend has room again it calls chardev_accept_input().
 *
 * stdio restores the terminal from an atexit handler and from handlers for
 * SIGTERM/SIGHUP/SIGINT/SIGQUIT it installs when it enters raw mode; a main
 * loop that installs its own handlers for these afterwards should end the
 * process with exit() so the atexit restore still runs.
 *
 * Main loop:
 *   int fd = chardev_poll_fd(c);     // -1: nothing to poll right now
 *   ... poll(fd, POLLIN) ...  chardev_handle_input(c);
 */
#ifndef VX86_HW_CHARDEV_H
#define VX86_HW_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"

typedef struct CharDev CharDev;

/* The frontend's side: how many bytes it can take now, and the delivery. */
typedef size_t (*CharCanReceiveFn)(void *opaque);
typedef void (*CharReceiveFn)(void *opaque, const uint8_t *buf, size_t len);
/* Ctrl-A x on stdio: the main loop's chance to shut the machine down.
 * Without a handler the process restores the terminal and exits(0). */
typedef void (*CharQuitFn)(void *opaque);

/* A client connected to a socket backend (the monitor prints its banner). */
typedef void (*CharConnectFn)(void *opaque);

/* Opens a backend from its spec.  NULL with one line in err on failure. */
CharDev *chardev_open(const char *spec, char *err, size_t errlen);
/* Opens a -chardev: file (path=, append=), stdio, null, socket (path= for
 * unix or host=/port= for TCP; server=on listens, one client at a time,
 * waiting for the first unless wait=off; server=off connects at once),
 * pipe (PATH.in / PATH.out, else PATH both ways). */
CharDev *chardev_open_opt(const ChardevOpt *o, char *err, size_t errlen);
void chardev_free(CharDev *c);

/* Writes all of buf (blocking on a full pipe/terminal; errors are dropped:
 * a guest's console output must never stop the machine). */
void chardev_write(CharDev *c, const uint8_t *buf, size_t len);

void chardev_set_frontend(CharDev *c, CharCanReceiveFn can_receive,
                          CharReceiveFn receive, void *opaque);
void chardev_set_quit_handler(CharDev *c, CharQuitFn fn, void *opaque);
/* Called on each new client of a socket backend (at once if one is
 * already connected); never for the other backends. */
void chardev_set_connect_handler(CharDev *c, CharConnectFn fn, void *opaque);
/* False only for a socket backend without a client. */
bool chardev_connected(const CharDev *c);

/* The fd the main loop should poll for input, or -1 when there is none or
 * the input queue is full (so a guest that never reads does not make the
 * main loop spin).  Ask again each iteration. */
int chardev_poll_fd(CharDev *c);
/* Reads what the fd has (never blocks), handles Ctrl-A escapes, delivers. */
void chardev_handle_input(CharDev *c);
/* Queues bytes as if they came from the backend (no escape handling) and
 * delivers what the frontend can take.  Returns how many were queued. */
size_t chardev_push_input(CharDev *c, const uint8_t *buf, size_t len);
/* Frontend has room again: deliver queued input. */
void chardev_accept_input(CharDev *c);
/* Bytes waiting in the input queue. */
size_t chardev_input_pending(const CharDev *c);

/* Record/replay (core/replay.c): bytes read from the host are handed to
 * fn instead of being queued (the hook queues them later with
 * chardev_push_input, at a point the log names, or drops them); NULL
 * restores queuing.  A muted backend drops the guest's output (a replay
 * re-running a stretch the user already saw). */
typedef void (*CharInputHook)(void *opaque, CharDev *c, const uint8_t *buf, size_t len);
void chardev_set_input_hook(CharDev *c, CharInputHook fn, void *opaque);
void chardev_set_muted(CharDev *c, bool muted);
/* The input queue's bytes (a snapshot of the run), and putting them back. */
size_t chardev_input_save(const CharDev *c, uint8_t *out, size_t max);
void chardev_input_restore(CharDev *c, const uint8_t *buf, size_t len);
#define CHARDEV_INPUT_MAX 4096

/* "buffer" backend: the captured output (not NUL-terminated) and clearing
 * it.  Other backends return NULL / do nothing. */
const uint8_t *chardev_buffer_data(const CharDev *c, size_t *len);
void chardev_buffer_clear(CharDev *c);

/* The backend's kind as given in the spec: "stdio", "file", "none", "buffer". */
/* True for a server socket that waits for its peer: the frontend greets
 * each client from the connect handler instead of at start-up. */
bool chardev_is_listening(const CharDev *c);
const char *chardev_kind(const CharDev *c);

#endif
