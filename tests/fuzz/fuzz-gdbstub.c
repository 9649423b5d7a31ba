/*
 * libFuzzer harness for the gdb stub (core/gdbstub.c, core/gdb-packet.c):
 * the input's first bytes pick the CPU mode (real, protected with 32-bit
 * or PAE paging, long mode) and control registers and fill the first page
 * tables, the rest is what a client sends -- framing, checksums, escapes,
 * every command -- fed in chunks over a socketpair whose other end is
 * drained.  The accelerator is a fake holding an X86ArchState.  What must
 * hold: no sanitizer finding, no access outside guest RAM (page walks of
 * arbitrary tables included), and replies always well framed.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accel/accel.h"
#include "core/gdb-packet.h"
#include "core/gdbstub.h"
#include "core/machine.h"
#include "cpu/cpu.h"
#include "tests/fuzz/fuzz.h"

#define RAM (1u << 20)

static X86ArchState state;

static int fake_get(void *acc, int cpu, X86ArchState *s, char *err, size_t len) { *s = state; return 0; }
static int fake_put(void *acc, int cpu, const X86ArchState *s, char *err, size_t len) { state = *s; return 0; }
static int fake_insert(void *acc, int type, uint64_t addr, uint64_t len) { return type == 4 ? -1 : 0; }
static void fake_remove_all(void *acc) {}
static void fake_resume(void *acc, int cpu, bool step, bool irqs, uint64_t run) {}
static AccelDebugStop fake_stopped(void *acc) { return (AccelDebugStop){ 0, ACCEL_DEBUG_STEP, 0, 0 }; }

static const AccelDebugOps fake_debug = {
    .insert = fake_insert, .remove = fake_insert, .remove_all = fake_remove_all,
    .resume = fake_resume, .stopped = fake_stopped,
};
static const AccelOps fake_ops = {
    .name = "fake", .get_cpu_state = fake_get, .put_cpu_state = fake_put, .debug = &fake_debug,
};

static void drain(int fd)
{
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Machine *m;
    char err[256];
    if (!m) {
        m = machine_new(RAM, CLOCK_MANUAL, err, sizeof err);
        if (!m)
            abort();
        memmap_add_ram(m->mem, "ram", 0, RAM, m->ram, NULL);
    }
    FuzzInput in = { data, size };
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cpu_arch_reset_state(&state, &cfg, 0);
    switch (fuzz_u8(&in) & 3) {
    case 1: state.cr0 = 0x80000011; state.cr4 = fuzz_u8(&in) & 0x30; break;
    case 2: state.cr0 = 0x80000011; state.cr4 = 0x20; state.efer = 0x500; break;
    case 3: state.rflags |= 1u << 17; state.cr0 = 1; break;
    default: break;
    }
    state.cr3 = (fuzz_u32(&in) & (RAM - 1)) & ~0xfffu;
    state.seg[R_CS].base = fuzz_u32(&in);
    /* page tables: 64 bytes at cr3 */
    for (int i = 0; i < 64; i++)
        m->ram[state.cr3 + i] = fuzz_u8(&in);

    GdbStub *g = gdbstub_new_unbound(m, &fake_ops, NULL);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    gdbstub_attach_fd(g, sv[0]);
    while (in.left && gdbstub_connected(g)) {
        size_t n = in.left < 64 ? in.left : 64;
        gdbstub_feed(g, in.p, n);
        in.p += n;
        in.left -= n;
        drain(sv[1]);
    }
    gdbstub_free(g);
    close(sv[1]);
    m->state = RUN_PAUSED;
    return 0;
}
