/*
 * The VNC server (-vnc, ui/vnc.c): libvncserver serving the console to any
 * number of RFB clients, and to browsers over WebSocket (noVNC).  It is a
 * listener of the console next to whatever -display shows, as in QEMU.
 *
 *   VncServer *v = vnc_open(m, pc_console(pc), &display_input, &opts->vnc,
 *                           err, sizeof err);
 *   if (!v) ... "vx86: -vnc :1: cannot listen on port 5901: ..." and exit 1
 *   vnc_set_password(v, "secret", err, sizeof err);   // change vnc password
 *   ...
 *   vnc_close(v);                     // NULL is fine
 *
 * Built only with libvncserver (./configure: CONFIG_VNC); without it
 * vnc_open refuses with one line.
 */
#ifndef VX86_UI_VNC_H
#define VX86_UI_VNC_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "core/machine.h"
#include "core/monitor.h"
#include "core/options.h"
#include "ui/console.h"
#include "ui/display.h"

typedef struct VncServer VncServer;

#ifdef CONFIG_VNC
/* Listens as o says (o->enabled).  NULL with one line in err, naming the
 * -vnc address ("-vnc :1: ..."). */
VncServer *vnc_open(Machine *m, Console *con, const DisplayInput *in, const VncOpt *o,
                    char *err, size_t errlen);
void vnc_close(VncServer *v);
/* The password of password=on (VNC authentication uses its first 8
 * characters, as the protocol does).  False (one line in err) when the
 * server has no password authentication. */
bool vnc_set_password(VncServer *v, const char *password, char *err, size_t errlen);
/* Where it listens and who is connected (query-vnc). */
void vnc_query(VncServer *v, MonVncInfo *out);
#else
static inline void vnc_close(VncServer *v) { (void)v; }
#endif

#endif
