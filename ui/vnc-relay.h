/*
 * The VNC server's socket relay (ui/vnc.c): libvncserver writes and reads
 * with blocking waits, on the main loop.  So it never talks to a client's
 * socket itself: each client gets a socket pair, libvncserver one end,
 * and a relay thread moves bytes between the other end and the client's
 * socket, buffering what the client has not taken yet.  libvncserver's
 * writes then never wait for a slow or stuck client (the relay takes them
 * at once).  vnc_relay_backlog tells how much a client owes, so ui/vnc.c
 * stops making updates for a client that does not read them; one that
 * still passes VNC_RELAY_MAX_BACKLOG is dropped.  The thread only moves
 * bytes: it touches nothing of the machine or the console.
 *
 *   VncRelay *r = vnc_relay_new(err, sizeof err);
 *   int slot;
 *   int fd = vnc_relay_add(r, client_socket, NULL, 0, NULL, &slot);
 *   rfbNewClient(screen, fd);                     // libvncserver's end
 *   ... vnc_relay_backlog(r, slot) ...
 *   ...
 *   vnc_relay_free(r);                            // closes everything
 *
 * Closing: when the client goes, libvncserver's end reads end-of-file;
 * when libvncserver closes its end, what it wrote is still delivered
 * (for at most VNC_RELAY_LINGER_MS), then the client's socket is closed.
 */
#ifndef VX86_UI_VNC_RELAY_H
#define VX86_UI_VNC_RELAY_H

#include <stddef.h>

#define VNC_RELAY_MAX_BACKLOG (64u << 20)   /* bytes a client may owe */
#define VNC_RELAY_SLOTS 64                  /* connections at once */
#define VNC_RELAY_LINGER_MS 5000

typedef struct VncRelay VncRelay;

VncRelay *vnc_relay_new(char *err, size_t errlen);
void vnc_relay_free(VncRelay *r);
/* Takes client_fd (closed on failure); returns libvncserver's end of a
 * new socket pair, or -1.
 * to_lib (n bytes, may be NULL): what libvncserver reads first, as if the
 * client had sent it (vx86 read it already); said (12 bytes, may be NULL):
 * the RFB version vx86 already sent the client, which libvncserver's own
 * first 12 bytes must equal and which are then not sent again.  See
 * ui/vnc.c: together they let vx86 do the version exchange without
 * blocking before libvncserver takes over.
 * *slot: the connection's number for vnc_relay_backlog. */
#define VNC_RELAY_VERSION_LEN 12
int vnc_relay_add(VncRelay *r, int client_fd, const void *to_lib, size_t n, const char *said,
                  int *slot);
/* Bytes libvncserver wrote that the client has not taken yet (may lag a
 * little; a finished connection's slot may already be someone else's). */
size_t vnc_relay_backlog(VncRelay *r, int slot);

#endif
