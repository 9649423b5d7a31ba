/*
 * The gdb remote stub (-s, -gdb tcp:[HOST]:PORT, -gdb unix:PATH,server):
 * gdb's remote serial protocol on a listening socket, served from the
 * main loop (machine_watch_fd).  One client at a time, all-stop, one gdb
 * thread per vCPU.  docs/gdb.md is the user's guide.
 *
 *   GdbStub *g = gdbstub_new(m, ops, acc, "tcp::1234", &hooks, err, sizeof err);
 *   ... machine_run(m, ops, acc) ...   // the stub pauses/resumes m itself
 *   gdbstub_free(g);
 *
 * The register set follows the CPU's mode when gdb reads the target
 * description (qXfer:features:read:target.xml): i8086 in real and
 * virtual-8086 mode, i386 in protected mode, i386:x86-64 in long mode.
 * Memory addresses are linear (through the guest's page tables) unless
 * the client asked for physical ones (Qqemu.PhysMemMode:1).
 */
#ifndef VX86_CORE_GDBSTUB_H
#define VX86_CORE_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/accel.h"
#include "core/machine.h"
#include "core/monitor.h"

typedef struct GdbStub GdbStub;

/* Listens on spec ("tcp:[HOST]:PORT", HOST defaults to 127.0.0.1;
 * "unix:PATH,server[,nowait]").  The accelerator must have debug ops.
 * mon: how `monitor CMD` reaches the human monitor's devices (may be
 * NULL).  NULL with err set on failure. */
GdbStub *gdbstub_new(Machine *m, const AccelOps *ops, void *acc, const char *spec,
                     const MonitorHooks *mon, char *err, size_t len);
void gdbstub_free(GdbStub *g);

/* For tests and the fuzzer: serve an already connected fd. */
void gdbstub_attach_fd(GdbStub *g, int fd);
/* Bytes from the client, as if read from its fd (tests, the fuzzer). */
void gdbstub_feed(GdbStub *g, const uint8_t *buf, size_t len);
bool gdbstub_connected(const GdbStub *g);
/* A stub without a listening socket (tests). */
GdbStub *gdbstub_new_unbound(Machine *m, const AccelOps *ops, void *acc);

#endif
