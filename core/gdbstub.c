/*
 * The gdb remote stub (see core/gdbstub.h; the framing is in
 * core/gdb-packet.c).  Everything runs on the main loop: the listening
 * socket and the client are watched fds; 'c'/'s' resume the machine
 * (machine_resume) and the stop reply is sent from the machine's
 * debug_stop hook when the accelerator returns ACCEL_EXIT_DEBUG, or at
 * once for Ctrl-C (the CPU is not running while input is handled).
 *
 * Registers are read and written as X86ArchState (accel get/put), memory
 * through a side-effect-free page walk over that state and the memory
 * map (RAM and ROM only: reading device registers could change them), so
 * nothing here depends on the accelerator beyond AccelDebugOps.
 */
#include "core/gdbstub.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/gdb-packet.h"
#include "core/replay.h"
#include "core/util.h"
#include "host/chardev.h"

/* ---- register layouts ---- */

typedef enum GdbMode { MODE_16, MODE_32, MODE_64 } GdbMode;

enum { K_GPR, K_PC, K_FLAGS, K_SEL, K_ST, K_FPU, K_XMM, K_MXCSR, K_BASE, K_CR, K_EFER,
       K_IP, K_DTBASE, K_DTLIMIT };
enum { F_CORE, F_SSE, F_SEGS, F_SYS, F_NB };
static const char *const feature_names[F_NB] = {
    "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
    "org.vx86.x86.sys",
};

typedef struct GdbReg {
    char name[12];
    uint8_t kind, idx, bits, feat;
    const char *type;
    const char *group;       /* NULL: gdb's default */
} GdbReg;

#define GDB_MAX_REGS 96

typedef struct GdbLayout {
    GdbReg r[GDB_MAX_REGS];
    int n;
} GdbLayout;

static void add(GdbLayout *l, const char *name, int kind, int idx, int bits, int feat,
                const char *type, const char *group)
{
    GdbReg *r = &l->r[l->n++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->kind = (uint8_t)kind;
    r->idx = (uint8_t)idx;
    r->bits = (uint8_t)bits;
    r->feat = (uint8_t)feat;
    r->type = type;
    r->group = group;
}

static void layout_build(GdbLayout *l, GdbMode mode)
{
    static const char *const seg_names[6] = { "cs", "ss", "ds", "es", "fs", "gs" };
    static const uint8_t seg_idx[6] = { R_CS, R_SS, R_DS, R_ES, R_FS, R_GS };
    static const char *const fpu_names[8] = { "fctrl", "fstat", "ftag", "fiseg",
                                              "fioff", "foseg", "fooff", "fop" };
    char nm[12];
    l->n = 0;
    if (mode == MODE_64) {
        static const char *const g64[8] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp" };
        static const uint8_t gi64[8] = { R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP, R_ESP };
        for (int i = 0; i < 8; i++)
            add(l, g64[i], K_GPR, gi64[i], 64, F_CORE, i >= 6 ? "data_ptr" : "int64", NULL);
        for (int i = 8; i < 16; i++) {
            snprintf(nm, sizeof nm, "r%d", i);
            add(l, nm, K_GPR, i, 64, F_CORE, "int64", NULL);
        }
        add(l, "rip", K_PC, 0, 64, F_CORE, "code_ptr", NULL);
    } else {
        static const char *const g32[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
        for (int i = 0; i < 8; i++)
            add(l, g32[i], K_GPR, i, 32, F_CORE, i == 4 || i == 5 ? "data_ptr" : "int32", NULL);
        add(l, "eip", K_PC, 0, 32, F_CORE, "code_ptr", NULL);
    }
    add(l, "eflags", K_FLAGS, 0, 32, F_CORE, "vx86_eflags", NULL);
    for (int i = 0; i < 6; i++)
        add(l, seg_names[i], K_SEL, seg_idx[i], 32, F_CORE, "int32", NULL);
    for (int i = 0; i < 8; i++) {
        snprintf(nm, sizeof nm, "st%d", i);
        add(l, nm, K_ST, i, 80, F_CORE, "i387_ext", NULL);
    }
    for (int i = 0; i < 8; i++)
        add(l, fpu_names[i], K_FPU, i, 32, F_CORE, "int", "float");
    int nxmm = mode == MODE_64 ? 16 : 8;
    for (int i = 0; i < nxmm; i++) {
        snprintf(nm, sizeof nm, "xmm%d", i);
        add(l, nm, K_XMM, i, 128, F_SSE, "vec128", NULL);
    }
    add(l, "mxcsr", K_MXCSR, 0, 32, F_SSE, "vx86_mxcsr", "vector");
    if (mode == MODE_64) {
        add(l, "fs_base", K_BASE, R_FS, 64, F_SEGS, "int64", NULL);
        add(l, "gs_base", K_BASE, R_GS, 64, F_SEGS, "int64", NULL);
    }
    /* vx86's own feature: what a learner wants to see next to them. */
    if (mode == MODE_16)
        add(l, "ip", K_IP, 0, 16, F_SYS, "int16", "general");
    for (int i = 0; i < 6; i++) {
        if (mode == MODE_64 && (seg_idx[i] == R_FS || seg_idx[i] == R_GS))
            continue;
        snprintf(nm, sizeof nm, "%s_base", seg_names[i]);
        add(l, nm, K_BASE, seg_idx[i], 64, F_SYS, "int64", "system");
    }
    static const uint8_t crs[5] = { 0, 2, 3, 4, 8 };
    for (int i = 0; i < 5; i++) {
        snprintf(nm, sizeof nm, "cr%d", crs[i]);
        add(l, nm, K_CR, crs[i], 64, F_SYS, "int64", "system");
    }
    add(l, "efer", K_EFER, 0, 64, F_SYS, "int64", "system");
    add(l, "gdtr_base", K_DTBASE, 0, 64, F_SYS, "int64", "system");
    add(l, "gdtr_limit", K_DTLIMIT, 0, 32, F_SYS, "int32", "system");
    add(l, "idtr_base", K_DTBASE, 1, 64, F_SYS, "int64", "system");
    add(l, "idtr_limit", K_DTLIMIT, 1, 32, F_SYS, "int32", "system");
}

static const char *const mode_arch[3] = { "i8086", "i386", "i386:x86-64" };

/* Types the features use (gdb's XML target description format). */
static const char tdesc_types[] =
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
    "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>"
    "<flags id=\"vx86_eflags\" size=\"4\">"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
    "<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
    "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
    "<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
    "<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
    "<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
    "<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
    "<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>"
    "</flags>"
    "<flags id=\"vx86_mxcsr\" size=\"4\">"
    "<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
    "<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
    "<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
    "<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
    "<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
    "<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
    "<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>"
    "</flags>";

/* The target description of a layout, in a malloc'ed string. */
static char *tdesc_build(const GdbLayout *l, GdbMode mode)
{
    size_t cap = 16384, n = 0;
    char *x = xmalloc(cap);
    n += (size_t)snprintf(x + n, cap - n,
                          "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
                          "<target><architecture>%s</architecture>", mode_arch[mode]);
    for (int f = 0; f < F_NB; f++) {
        bool any = false;
        for (int i = 0; i < l->n; i++)
            any |= l->r[i].feat == f;
        if (!any)
            continue;
        n += (size_t)snprintf(x + n, cap - n, "<feature name=\"%s\">%s", feature_names[f],
                              f == F_CORE || f == F_SSE ? tdesc_types : "");
        for (int i = 0; i < l->n; i++) {
            const GdbReg *r = &l->r[i];
            if (r->feat != f)
                continue;
            n += (size_t)snprintf(x + n, cap - n,
                                  "<reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"%s%s%s/>",
                                  r->name, r->bits, r->type, i, r->group ? " group=\"" : "",
                                  r->group ? r->group : "", r->group ? "\"" : "");
        }
        n += (size_t)snprintf(x + n, cap - n, "</feature>");
    }
    snprintf(x + n, cap - n, "</target>");
    return x;
}

static GdbMode state_mode(const X86ArchState *s)
{
    if (!(s->cr0 & 1) || (s->rflags & (1u << 17)))
        return MODE_16;
    return (s->efer & (1u << 10)) ? MODE_64 : MODE_32;
}

static bool real_mode(const X86ArchState *s)
{
    return state_mode(s) == MODE_16;
}

/* x87 tag word (2 bits per physical register) from the FXSAVE image's
 * abridged one, classifying each valid register by its value. */
static uint16_t fpu_full_tag(const uint8_t *fx)
{
    unsigned top = (fx[3] >> 3) & 7;
    uint16_t tag = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned t = 3;
        if (fx[4] & (1u << phys)) {
            const uint8_t *st = fx + 32 + 16 * ((phys - top) & 7);
            uint64_t mant;
            memcpy(&mant, st, 8);
            unsigned exp = (st[8] | st[9] << 8) & 0x7fff;
            if (exp == 0x7fff || (exp == 0 && mant) || (exp && !(mant >> 63)))
                t = 2;
            else if (exp == 0 && !mant)
                t = 1;
            else
                t = 0;
        }
        tag |= (uint16_t)(t << (2 * phys));
    }
    return tag;
}

static uint64_t ld_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void st_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Register r of state s as little-endian bytes; returns the size. */
static int reg_get(const GdbReg *r, const X86ArchState *s, uint8_t *out)
{
    int size = r->bits / 8;
    uint64_t v = 0;
    switch (r->kind) {
    case K_GPR: v = s->regs[r->idx]; break;
    case K_PC: v = real_mode(s) && r->bits == 32 ? (uint32_t)(s->seg[R_CS].base + s->rip) : s->rip; break;
    case K_IP: v = s->rip; break;
    case K_FLAGS: v = s->rflags; break;
    case K_SEL: v = s->seg[r->idx].selector; break;
    case K_ST: memcpy(out, s->fxsave + 32 + 16 * r->idx, 10); return 10;
    case K_FPU:
        switch (r->idx) {
        case 0: v = ld_le(s->fxsave, 2); break;
        case 1: v = ld_le(s->fxsave + 2, 2); break;
        case 2: v = fpu_full_tag(s->fxsave); break;
        case 3: v = s->fcs; break;
        case 4: v = ld_le(s->fxsave + 8, 4); break;
        case 5: v = s->fds; break;
        case 6: v = ld_le(s->fxsave + 16, 4); break;
        default: v = ld_le(s->fxsave + 6, 2) & 0x7ff; break;
        }
        break;
    case K_XMM: memcpy(out, s->fxsave + 160 + 16 * r->idx, 16); return 16;
    case K_MXCSR: v = ld_le(s->fxsave + 24, 4); break;
    case K_BASE: v = s->seg[r->idx].base; break;
    case K_CR:
        v = r->idx == 0 ? s->cr0 : r->idx == 2 ? s->cr2 : r->idx == 3 ? s->cr3
          : r->idx == 4 ? s->cr4 : s->cr8;
        break;
    case K_EFER: v = s->efer; break;
    case K_DTBASE: v = r->idx ? s->idt.base : s->gdt.base; break;
    case K_DTLIMIT: v = r->idx ? s->idt.limit : s->gdt.limit; break;
    }
    st_le(out, v, size);
    return size;
}

static void reg_set(const GdbReg *r, X86ArchState *s, const uint8_t *in)
{
    uint64_t v = r->bits <= 64 ? ld_le(in, r->bits / 8) : 0;
    switch (r->kind) {
    case K_GPR:
        s->regs[r->idx] = r->bits == 32 ? (s->regs[r->idx] & ~0xffffffffull) | v : v;
        break;
    case K_PC:
        if (real_mode(s) && r->bits == 32)
            s->rip = (v - s->seg[R_CS].base) & 0xffff;
        else
            s->rip = v;
        break;
    case K_IP: s->rip = v; break;
    case K_FLAGS: s->rflags = (v & 0x3f7fd7) | 2; break;
    case K_SEL:
        s->seg[r->idx].selector = (uint16_t)v;
        if (real_mode(s))
            s->seg[r->idx].base = (v & 0xffff) << 4;
        break;
    case K_ST: memcpy(s->fxsave + 32 + 16 * r->idx, in, 10); break;
    case K_FPU:
        switch (r->idx) {
        case 0: st_le(s->fxsave, v, 2); break;
        case 1: st_le(s->fxsave + 2, v, 2); break;
        case 2: {
            uint8_t ab = 0;
            for (int i = 0; i < 8; i++)
                if (((v >> (2 * i)) & 3) != 3)
                    ab |= (uint8_t)(1u << i);
            s->fxsave[4] = ab;
            break;
        }
        case 3: s->fcs = (uint16_t)v; break;
        case 4: st_le(s->fxsave + 8, v, 4); break;
        case 5: s->fds = (uint16_t)v; break;
        case 6: st_le(s->fxsave + 16, v, 4); break;
        default: st_le(s->fxsave + 6, v & 0x7ff, 2); break;
        }
        break;
    case K_XMM: memcpy(s->fxsave + 160 + 16 * r->idx, in, 16); break;
    case K_MXCSR: st_le(s->fxsave + 24, v, 4); break;
    case K_BASE: s->seg[r->idx].base = v; break;
    case K_CR:
        if (r->idx == 0) s->cr0 = v;
        else if (r->idx == 2) s->cr2 = v;
        else if (r->idx == 3) s->cr3 = v;
        else if (r->idx == 4) s->cr4 = v;
        else s->cr8 = v;
        break;
    case K_EFER: s->efer = v; break;
    case K_DTBASE: if (r->idx) s->idt.base = v; else s->gdt.base = v; break;
    case K_DTLIMIT: if (r->idx) s->idt.limit = (uint32_t)v; else s->gdt.limit = (uint32_t)v; break;
    }
}

/* ---- memory: linear -> physical without side effects ---- */

static bool phys_entry(Machine *m, uint64_t addr, bool wide, uint64_t *e)
{
    uint8_t *p = memmap_host_ptr(m->mem, addr, wide ? 8 : 4, false);
    if (!p)
        return false;
    *e = ld_le(p, wide ? 8 : 4);
    return true;
}

#define PTE_ADDR 0x000ffffffffff000ull

static bool lin_to_phys(Machine *m, const X86ArchState *s, uint64_t lin, uint64_t *phys)
{
    uint64_t e;
    if (!(s->cr0 & (1ull << 31))) {
        *phys = (s->efer & (1u << 10)) ? lin : (uint32_t)lin;
        if (!s->a20)
            *phys &= ~(1ull << 20);
        return true;
    }
    if (s->efer & (1u << 10)) {
        uint64_t t = s->cr3 & PTE_ADDR;
        for (int level = 3; level >= 0; level--) {
            unsigned shift = 12 + 9 * level;
            if (!phys_entry(m, t + ((lin >> shift) & 511) * 8, true, &e) || !(e & 1))
                return false;
            if (level > 0 && level < 3 && (e & 0x80)) {
                uint64_t mask = (1ull << shift) - 1;
                *phys = (e & PTE_ADDR & ~mask) | (lin & mask);
                return true;
            }
            t = e & PTE_ADDR;
        }
        *phys = t | (lin & 0xfff);
        return true;
    }
    lin = (uint32_t)lin;
    if (s->cr4 & (1u << 5)) {   /* PAE */
        if (!phys_entry(m, (s->cr3 & 0xffffffe0) + (lin >> 30) * 8, true, &e) || !(e & 1))
            return false;
        uint64_t t = e & PTE_ADDR;
        if (!phys_entry(m, t + ((lin >> 21) & 511) * 8, true, &e) || !(e & 1))
            return false;
        if (e & 0x80) {
            *phys = (e & PTE_ADDR & ~0x1fffffull) | (lin & 0x1fffff);
            return true;
        }
        if (!phys_entry(m, (e & PTE_ADDR) + ((lin >> 12) & 511) * 8, true, &e) || !(e & 1))
            return false;
        *phys = (e & PTE_ADDR) | (lin & 0xfff);
        return true;
    }
    if (!phys_entry(m, (s->cr3 & 0xfffff000) + (lin >> 22) * 4, false, &e) || !(e & 1))
        return false;
    if ((e & 0x80) && (s->cr4 & (1u << 4))) {
        *phys = (e & 0xffc00000) | (lin & 0x3fffff);
        return true;
    }
    if (!phys_entry(m, (e & 0xfffff000) + ((lin >> 12) & 1023) * 4, false, &e) || !(e & 1))
        return false;
    *phys = (e & 0xfffff000) | (lin & 0xfff);
    return true;
}

/* ---- the stub ---- */

#define GDB_REPLY_MAX (2 * GDB_PACKET_MAX + 16)

struct GdbStub {
    Machine *m;
    const AccelOps *ops;
    void *acc;
    int listen_fd;
    int fd;                    /* the client, or -1 */
    char *unix_path;
    GdbParser parser;
    bool noack;
    bool running;              /* resumed by the client, no stop sent yet */
    bool paused_by_us;         /* the machine is paused because of the client */
    bool phys_mode;            /* Qqemu.PhysMemMode:1 */
    bool step_irqs;            /* single steps deliver interrupts */
    bool have_layout;
    GdbMode layout_mode;
    GdbLayout layout;
    char *tdesc;
    char last_stop[64];
    int cpu;                   /* gdb thread cpu + 1: registers, memory (Hg) */
    int step_cpu;              /* the thread a step runs (Hc, vCont;s:tid) */
    uint64_t run_mask;         /* the CPUs the next resume runs (vCont names them) */
    CharDev *mon_chr;
    Monitor *mon;
    char reply[GDB_REPLY_MAX];
    size_t rlen;
    char frame[2 * GDB_REPLY_MAX + 8];
};

static void client_close(GdbStub *g);

static bool send_raw(GdbStub *g, const char *buf, size_t len)
{
    while (len && g->fd >= 0) {
        ssize_t n = send(g->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = g->fd, .events = POLLOUT };
            if (poll(&p, 1, 5000) > 0)
                continue;
        }
        client_close(g);
        return false;
    }
    return g->fd >= 0;
}

static void send_packet(GdbStub *g, const char *payload, size_t len)
{
    if (len > GDB_REPLY_MAX)
        len = GDB_REPLY_MAX;
    size_t n = gdb_frame(payload, len, g->frame);
    send_raw(g, g->frame, n);
}

static void send_str(GdbStub *g, const char *s)
{
    send_packet(g, s, strlen(s));
}

/* 'O' console output packets (hex), at most a few hundred bytes each. */
static void send_console(GdbStub *g, const char *text, size_t len)
{
    while (len) {
        size_t n = len > 400 ? 400 : len;
        char buf[2 * 400 + 2];
        buf[0] = 'O';
        gdb_hex_encode((const uint8_t *)text, n, buf + 1);
        send_packet(g, buf, 1 + 2 * n);
        text += n;
        len -= n;
    }
}

/* One gdb thread per vCPU: thread id = CPU index + 1. */
static int gdb_ncpus(const GdbStub *g)
{
    return g->m->ncpus > 0 ? g->m->ncpus : 1;
}

/* A thread id of a packet: a CPU index, -1 for "all" / "any" (-1, 0), or
 * -2 when it names no thread. */
static int gdb_thread_cpu(const GdbStub *g, const char *p)
{
    if (!strcmp(p, "-1") || !strcmp(p, "0"))
        return -1;
    uint64_t tid;
    if (!gdb_parse_hex(&p, &tid) || *p || tid < 1 || tid > (uint64_t)gdb_ncpus(g))
        return -2;
    return (int)tid - 1;
}

static bool get_state(GdbStub *g, X86ArchState *s)
{
    char err[256];
    return g->ops->get_cpu_state(g->acc, g->cpu, s, err, sizeof err) == 0;
}

static bool put_state(GdbStub *g, const X86ArchState *s)
{
    char err[256];
    return g->ops->put_cpu_state(g->acc, g->cpu, s, err, sizeof err) == 0;
}

static void ensure_layout(GdbStub *g, const X86ArchState *s)
{
    if (g->have_layout)
        return;
    g->layout_mode = state_mode(s);
    layout_build(&g->layout, g->layout_mode);
    free(g->tdesc);
    g->tdesc = tdesc_build(&g->layout, g->layout_mode);
    g->have_layout = true;
}

static void pause_machine(GdbStub *g)
{
    g->running = false;
    if (g->m->state == RUN_RUNNING) {
        machine_pause(g->m);
        g->paused_by_us = true;
    } else if (g->m->state == RUN_PAUSED) {
        g->paused_by_us = true;
    }
}

static void resume_machine(GdbStub *g, bool step)
{
    g->ops->debug->resume(g->acc, g->step_cpu, step, g->step_irqs, g->run_mask);
    g->run_mask = ACCEL_RUN_ALL;     /* c, s and the next stop's defaults */
    g->running = true;
    g->paused_by_us = false;
    machine_resume(g->m);
}

/* Tells the client the CPU stopped, noting a mode its registers no
 * longer describe. */
static void report_stop(GdbStub *g, const char *reply)
{
    X86ArchState s;
    if (g->have_layout && get_state(g, &s) && state_mode(&s) != g->layout_mode) {
        char msg[200];
        int n = snprintf(msg, sizeof msg,
                         "vx86: the CPU is now in %s mode; gdb still shows the %s registers "
                         "(reconnect for the new set)\n",
                         mode_arch[state_mode(&s)], mode_arch[g->layout_mode]);
        send_console(g, msg, (size_t)n);
    }
    snprintf(g->last_stop, sizeof g->last_stop, "%s", reply);
    send_str(g, reply);
}

/* The machine's debug_stop hook: the accelerator returned ACCEL_EXIT_DEBUG. */
static void gdbstub_debug_stop(void *opaque)
{
    GdbStub *g = opaque;
    AccelDebugStop st = g->ops->debug->stopped(g->acc);
    pause_machine(g);
    if (g->fd < 0) {
        /* No client (it went away): nothing to stop for. */
        resume_machine(g, false);
        g->running = false;
        return;
    }
    /* gdb looks at the thread that stopped. */
    if (st.cpu >= 0 && st.cpu < gdb_ncpus(g))
        g->cpu = g->step_cpu = st.cpu;
    char r[80];
    if (st.reason == ACCEL_DEBUG_WATCH) {
        static const char *const kind[5] = { "", "", "watch", "rwatch", "awatch" };
        snprintf(r, sizeof r, "T05%s:%llx;thread:%02x;", kind[st.type < 5 ? st.type : 2],
                 (unsigned long long)st.addr, g->cpu + 1);
    } else if (st.reason == ACCEL_DEBUG_BREAK) {
        snprintf(r, sizeof r, "T05%s:;thread:%02x;", st.type == 1 ? "hwbreak" : "swbreak",
                 g->cpu + 1);
    } else {
        snprintf(r, sizeof r, "T05thread:%02x;", g->cpu + 1);
    }
    report_stop(g, r);
}

/* ---- packet handlers: each fills g->reply ---- */

static void reply_str(GdbStub *g, const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof g->reply)
        n = sizeof g->reply;
    memcpy(g->reply, s, n);
    g->rlen = n;
}

static void reply_hex(GdbStub *g, const uint8_t *b, size_t n)
{
    if (g->rlen + 2 * n > sizeof g->reply)
        n = (sizeof g->reply - g->rlen) / 2;
    gdb_hex_encode(b, n, g->reply + g->rlen);
    g->rlen += 2 * n;
}

static void cmd_read_regs(GdbStub *g)
{
    X86ArchState s;
    if (!get_state(g, &s)) {
        reply_str(g, "E01");
        return;
    }
    ensure_layout(g, &s);
    g->rlen = 0;
    for (int i = 0; i < g->layout.n; i++) {
        uint8_t b[16];
        int n = reg_get(&g->layout.r[i], &s, b);
        reply_hex(g, b, (size_t)n);
    }
}

static void cmd_write_regs(GdbStub *g, const char *p, size_t len)
{
    X86ArchState s, orig;
    if (!get_state(g, &s)) {
        reply_str(g, "E01");
        return;
    }
    ensure_layout(g, &s);
    orig = s;
    size_t off = 0;
    for (int i = 0; i < g->layout.n; i++) {
        const GdbReg *r = &g->layout.r[i];
        size_t n = (size_t)(r->bits / 8);
        uint8_t b[16], cur[16];
        if (off + 2 * n > len)
            break;
        if (!gdb_hex_decode(p + off, n, b)) {
            reply_str(g, "E01");
            return;
        }
        off += 2 * n;
        reg_get(r, &orig, cur);
        if (memcmp(b, cur, n))      /* only what the client changed */
            reg_set(r, &s, b);
    }
    reply_str(g, put_state(g, &s) ? "OK" : "E22");
}

static void cmd_read_reg(GdbStub *g, const char *p)
{
    uint64_t n;
    X86ArchState s;
    if (!gdb_parse_hex(&p, &n) || *p || !get_state(g, &s)) {
        reply_str(g, "E01");
        return;
    }
    ensure_layout(g, &s);
    if (n >= (uint64_t)g->layout.n) {
        reply_str(g, "E22");
        return;
    }
    uint8_t b[16];
    int sz = reg_get(&g->layout.r[n], &s, b);
    g->rlen = 0;
    reply_hex(g, b, (size_t)sz);
}

static void cmd_write_reg(GdbStub *g, const char *p)
{
    uint64_t n;
    X86ArchState s;
    if (!gdb_parse_hex(&p, &n) || *p++ != '=' || !get_state(g, &s)) {
        reply_str(g, "E01");
        return;
    }
    ensure_layout(g, &s);
    if (n >= (uint64_t)g->layout.n) {
        reply_str(g, "E22");
        return;
    }
    const GdbReg *r = &g->layout.r[n];
    uint8_t b[16];
    if (strlen(p) != (size_t)r->bits / 4 || !gdb_hex_decode(p, (size_t)r->bits / 8, b)) {
        reply_str(g, "E01");
        return;
    }
    reg_set(r, &s, b);
    reply_str(g, put_state(g, &s) ? "OK" : "E22");
}

/* Copies len bytes at addr (linear unless phys_mode) to or from buf; only
 * RAM (and ROM for reads) is reachable. */
static bool mem_access(GdbStub *g, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
    X86ArchState s;
    if (!g->phys_mode && !get_state(g, &s))
        return false;
    while (len) {
        size_t chunk = 4096 - (addr & 4095);
        if (chunk > len)
            chunk = len;
        uint64_t pa = addr;
        if (!g->phys_mode && !lin_to_phys(g->m, &s, addr, &pa))
            return false;
        bool ram = false;
        uint8_t *host = memmap_host_ptr_rw(g->m->mem, pa, chunk, &ram);
        if (!host || (write && !ram))
            return false;
        if (write)
            memmap_write_buf(g->m->mem, pa, buf, chunk);   /* invalidates translated code */
        else
            memcpy(buf, host, chunk);
        addr += chunk;
        buf += chunk;
        len -= chunk;
    }
    return true;
}

static bool parse_addr_len(const char **p, uint64_t *addr, uint64_t *len)
{
    return gdb_parse_hex(p, addr) && *(*p)++ == ',' && gdb_parse_hex(p, len);
}

static void cmd_read_mem(GdbStub *g, const char *p)
{
    uint64_t addr, len;
    if (!parse_addr_len(&p, &addr, &len) || *p) {
        reply_str(g, "E01");
        return;
    }
    if (len > GDB_PACKET_MAX / 2)
        len = GDB_PACKET_MAX / 2;
    uint8_t buf[GDB_PACKET_MAX / 2];
    if (!mem_access(g, addr, buf, (size_t)len, false)) {
        reply_str(g, "E14");
        return;
    }
    g->rlen = 0;
    reply_hex(g, buf, (size_t)len);
}

static void cmd_write_mem(GdbStub *g, const char *p)
{
    uint64_t addr, len;
    uint8_t buf[GDB_PACKET_MAX / 2];
    if (!parse_addr_len(&p, &addr, &len) || *p++ != ':' || len > sizeof buf ||
        strlen(p) != 2 * len || !gdb_hex_decode(p, (size_t)len, buf)) {
        reply_str(g, "E01");
        return;
    }
    reply_str(g, mem_access(g, addr, buf, (size_t)len, true) ? "OK" : "E14");
}

static void cmd_breakpoint(GdbStub *g, const char *p, bool insert)
{
    uint64_t type, addr, kind;
    if (!gdb_parse_hex(&p, &type) || *p++ != ',' || !parse_addr_len(&p, &addr, &kind)) {
        reply_str(g, "E01");
        return;
    }
    /* conditions and commands (";X...") are not supported: ignored */
    if (type > 4) {
        reply_str(g, "");
        return;
    }
    if (type <= 1)
        kind = 1;
    int r = insert ? g->ops->debug->insert(g->acc, (int)type, addr, kind)
                   : g->ops->debug->remove(g->acc, (int)type, addr, kind);
    reply_str(g, r == 0 ? "OK" : "E22");
}

/* c / s with an optional address to resume at. */
static void cmd_resume(GdbStub *g, const char *p, bool step)
{
    if (*p) {
        uint64_t addr;
        X86ArchState s;
        if (!gdb_parse_hex(&p, &addr) || *p || !get_state(g, &s)) {
            reply_str(g, "E01");
            return;
        }
        s.rip = real_mode(&s) ? (addr - s.seg[R_CS].base) & 0xffff : addr;
        put_state(g, &s);
    }
    resume_machine(g, step);
    g->rlen = (size_t)-1;      /* the reply is the stop, later */
}

static void cmd_vcont(GdbStub *g, const char *p)
{
    if (!strcmp(p, "?")) {
        reply_str(g, "vCont;c;C;s;S");
        return;
    }
    /* ;action[:thread]...: for each thread the leftmost action naming it
     * (or all threads) applies; threads no action names stay stopped (gdb
     * steps over a breakpoint, or runs with scheduler-locking, that way).
     * One thread steps: the first one a step action names. */
    bool step = false;
    int step_cpu = g->step_cpu;
    uint64_t decided = 0, run = 0;
    uint64_t all = gdb_ncpus(g) >= 64 ? ~0ull : (1ull << gdb_ncpus(g)) - 1;
    while (*p == ';') {
        p++;
        char a = *p;
        if (a != 'c' && a != 'C' && a != 's' && a != 'S') {
            reply_str(g, "E01");
            return;
        }
        p++;
        if (a == 'C' || a == 'S') {
            uint64_t sig;
            if (!gdb_parse_hex(&p, &sig)) {
                reply_str(g, "E01");
                return;
            }
        }
        int cpu = -1;
        if (*p == ':') {
            p++;
            char tid[24];
            size_t n = 0;
            while (*p && *p != ';' && n + 1 < sizeof tid)
                tid[n++] = *p++;
            tid[n] = 0;
            while (*p && *p != ';')
                p++;
            cpu = gdb_thread_cpu(g, tid);
            if (cpu == -2) {
                reply_str(g, "E01");
                return;
            }
        }
        uint64_t named = (cpu >= 0 ? 1ull << cpu : all) & ~decided;
        decided |= named;
        run |= named;
        if ((a == 's' || a == 'S') && !step && named) {
            step = true;
            if (cpu >= 0)
                step_cpu = cpu;
            else if (!((named >> step_cpu) & 1))
                step_cpu = __builtin_ctzll(named);
        }
    }
    if (*p || !run) {
        reply_str(g, "E01");
        return;
    }
    if (step)
        g->step_cpu = step_cpu;
    g->run_mask = run == all ? ACCEL_RUN_ALL : run;
    resume_machine(g, step);
    g->rlen = (size_t)-1;
}

static void cmd_xfer_features(GdbStub *g, const char *p)
{
    /* annex:offset,length */
    const char *colon = strchr(p, ':');
    X86ArchState s;
    uint64_t off, len;
    if (!colon || !get_state(g, &s)) {
        reply_str(g, "E01");
        return;
    }
    if ((size_t)(colon - p) != strlen("target.xml") || strncmp(p, "target.xml", 10)) {
        reply_str(g, "E00");
        return;
    }
    p = colon + 1;
    if (!parse_addr_len(&p, &off, &len) || *p) {
        reply_str(g, "E01");
        return;
    }
    if (off == 0)
        g->have_layout = false;     /* a fresh read: describe the mode now */
    ensure_layout(g, &s);
    size_t total = strlen(g->tdesc);
    if (len > GDB_PACKET_MAX - 8)
        len = GDB_PACKET_MAX - 8;
    if (off >= total) {
        reply_str(g, "l");
        return;
    }
    size_t n = total - off < len ? total - (size_t)off : (size_t)len;
    g->reply[0] = n + off >= total ? 'l' : 'm';
    memcpy(g->reply + 1, g->tdesc + off, n);
    g->rlen = n + 1;
}

static void cmd_monitor(GdbStub *g, const char *hex)
{
    size_t n = strlen(hex);
    char line[512];
    if (n % 2 || n / 2 >= sizeof line || !gdb_hex_decode(hex, n / 2, (uint8_t *)line)) {
        reply_str(g, "E01");
        return;
    }
    line[n / 2] = 0;
    if (memchr(line, 0, n / 2)) {
        reply_str(g, "E01");
        return;
    }
    char out[1024];
    int len;
    if (!strncmp(line, "step-irqs", 9) && (line[9] == 0 || line[9] == ' ')) {
        const char *arg = line + 9;
        while (*arg == ' ')
            arg++;
        if (!strcmp(arg, "on"))
            g->step_irqs = true;
        else if (!strcmp(arg, "off"))
            g->step_irqs = false;
        len = snprintf(out, sizeof out, "single steps %s interrupts (step-irqs on|off)\n",
                       g->step_irqs ? "deliver" : "hold off");
        send_console(g, out, (size_t)len);
        reply_str(g, "OK");
        return;
    }
    if (!g->mon) {
        reply_str(g, "E01");
        return;
    }
    chardev_buffer_clear(g->mon_chr);
    monitor_command(g->mon, line);
    size_t got = 0;
    const uint8_t *data = chardev_buffer_data(g->mon_chr, &got);
    /* the monitor writes CR LF for a terminal: gdb wants LF */
    char *text = xmalloc(got + 64);
    size_t t = 0;
    for (size_t i = 0; i < got; i++)
        if (data[i] != '\r')
            text[t++] = (char)data[i];
    if (!strcmp(line, "help")) {
        t += (size_t)snprintf(text + t, 64, "step-irqs on|off -- (gdb) interrupts during steps\n");
    }
    send_console(g, text, t);
    free(text);
    reply_str(g, "OK");
}

/* bs / bc: reverse-stepi and reverse-continue during a replay
 * (core/replay.h); the reply is the stop, at once. */
static void cmd_reverse(GdbStub *g, bool step)
{
    ReplayStop st;
    replay_reverse(g->m->rr, g->ops, g->acc, step, &st);
    char r[96];
    switch (st.reason) {
    case RR_STOP_WATCH: {
        static const char *const kind[5] = { "", "", "watch", "rwatch", "awatch" };
        snprintf(r, sizeof r, "T05%s:%llx;thread:01;", kind[st.type >= 2 && st.type <= 4 ? st.type : 2],
                 (unsigned long long)st.addr);
        break;
    }
    case RR_STOP_BREAK:
        snprintf(r, sizeof r, "T05%s:;thread:01;", st.type == 1 ? "hwbreak" : "swbreak");
        break;
    case RR_STOP_BEGIN:
        snprintf(r, sizeof r, "T05replaylog:begin;thread:01;");
        break;
    case RR_STOP_ERROR: {
        char msg[200];
        int n = snprintf(msg, sizeof msg, "vx86: reverse execution: %s\n", st.why);
        send_console(g, msg, (size_t)n);
        snprintf(r, sizeof r, "E14");
        reply_str(g, r);
        return;
    }
    default:
        snprintf(r, sizeof r, "T05thread:01;");
        break;
    }
    report_stop(g, r);
    g->rlen = (size_t)-1;      /* sent */
}

static void cmd_query(GdbStub *g, const char *p)
{
    if (!strncmp(p, "qSupported", 10)) {
        snprintf(g->reply, sizeof g->reply,
                 "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+;"
                 "swbreak+;hwbreak+%s", GDB_PACKET_MAX,
                 replay_can_reverse(g->m->rr) ? ";ReverseStep+;ReverseContinue+" : "");
        g->rlen = strlen(g->reply);
    } else if (!strcmp(p, "qC")) {
        snprintf(g->reply, sizeof g->reply, "QC%02x", g->cpu + 1);
        g->rlen = strlen(g->reply);
    } else if (!strcmp(p, "qfThreadInfo")) {
        size_t n = 0;
        g->reply[n++] = 'm';
        for (int i = 0; i < gdb_ncpus(g); i++)
            n += (size_t)snprintf(g->reply + n, sizeof g->reply - n, "%s%02x", i ? "," : "",
                                  i + 1);
        g->rlen = n;
    } else if (!strcmp(p, "qsThreadInfo")) {
        reply_str(g, "l");
    } else if (!strncmp(p, "qAttached", 9)) {
        reply_str(g, "1");
    } else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
        X86ArchState s;
        int cpu = gdb_thread_cpu(g, p + 17), saved = g->cpu;
        if (cpu < 0)
            cpu = g->cpu;
        char buf[64];
        snprintf(buf, sizeof buf, "CPU#%d", cpu);
        const char *txt = buf;
        g->cpu = cpu;
        if (get_state(g, &s))
            snprintf(buf, sizeof buf, "CPU#%d [%s]", cpu, state_mode(&s) == MODE_64 ? "long mode"
                     : state_mode(&s) == MODE_32 ? "protected mode"
                     : (s.rflags & (1u << 17)) ? "virtual-8086 mode" : "real mode");
        g->cpu = saved;
        g->rlen = 0;
        reply_hex(g, (const uint8_t *)txt, strlen(txt));
    } else if (!strncmp(p, "qXfer:features:read:", 20)) {
        cmd_xfer_features(g, p + 20);
    } else if (!strncmp(p, "qRcmd,", 6)) {
        cmd_monitor(g, p + 6);
    } else if (!strcmp(p, "qqemu.PhysMemMode")) {
        reply_str(g, g->phys_mode ? "1" : "0");
    } else if (!strcmp(p, "qSymbol::")) {
        reply_str(g, "OK");
    } else {
        reply_str(g, "");
    }
}

/* One packet from the client (NUL-terminated payload). */
static void handle_packet(GdbStub *g, const char *p, size_t len)
{
    g->rlen = 0;
    if (strlen(p) != len) {
        reply_str(g, "E01");      /* a NUL inside: no command has one */
        goto out;
    }
    switch (p[0]) {
    case '?':
        reply_str(g, g->last_stop[0] ? g->last_stop : "S05");
        break;
    case 'g': if (!p[1]) cmd_read_regs(g); else reply_str(g, "E01"); break;
    case 'G': cmd_write_regs(g, p + 1, len - 1); break;
    case 'p': cmd_read_reg(g, p + 1); break;
    case 'P': cmd_write_reg(g, p + 1); break;
    case 'm': cmd_read_mem(g, p + 1); break;
    case 'M': cmd_write_mem(g, p + 1); break;
    case 'c': cmd_resume(g, p + 1, false); break;
    case 's': cmd_resume(g, p + 1, true); break;
    case 'C': case 'S': {
        /* Csig[;addr]: the signal means nothing to a CPU */
        const char *q = p + 1;
        uint64_t sig;
        if (!gdb_parse_hex(&q, &sig) || (*q && *q != ';')) {
            reply_str(g, "E01");
            break;
        }
        cmd_resume(g, *q ? q + 1 : q, p[0] == 'S');
        break;
    }
    case 'b':
        if ((p[1] == 's' || p[1] == 'c') && !p[2] && replay_can_reverse(g->m->rr))
            cmd_reverse(g, p[1] == 's');
        else
            reply_str(g, "");      /* not supported: gdb says so */
        break;
    case 'Z': cmd_breakpoint(g, p + 1, true); break;
    case 'z': cmd_breakpoint(g, p + 1, false); break;
    case 'H': {
        int cpu = p[1] ? gdb_thread_cpu(g, p + 2) : -2;
        if ((p[1] != 'g' && p[1] != 'c') || cpu == -2) {
            reply_str(g, "E01");
            break;
        }
        if (cpu >= 0 && p[1] == 'g')
            g->cpu = cpu;
        if (cpu >= 0 && p[1] == 'c')
            g->step_cpu = cpu;
        reply_str(g, "OK");
        break;
    }
    case 'T': reply_str(g, gdb_thread_cpu(g, p + 1) >= 0 ? "OK" : "E01"); break;
    case 'D':
        g->ops->debug->remove_all(g->acc);
        send_str(g, "OK");
        resume_machine(g, false);
        g->running = false;
        client_close(g);
        return;
    case 'k':
        client_close(g);
        machine_request_shutdown(g->m, 0);
        return;
    case 'q': cmd_query(g, p); break;
    case 'Q':
        if (!strcmp(p, "QStartNoAckMode")) {
            send_str(g, "OK");
            g->noack = true;
            return;
        }
        if (!strcmp(p, "Qqemu.PhysMemMode:1") || !strcmp(p, "Qqemu.PhysMemMode:0")) {
            g->phys_mode = p[strlen(p) - 1] == '1';
            reply_str(g, "OK");
        } else {
            reply_str(g, "");
        }
        break;
    case 'v':
        if (!strncmp(p, "vCont", 5) && (p[5] == '?' || p[5] == ';'))
            cmd_vcont(g, p[5] == '?' ? "?" : p + 5);
        else if (!strcmp(p, "vMustReplyEmpty"))
            reply_str(g, "");
        else if (!strncmp(p, "vKill", 5)) {
            send_str(g, "OK");
            client_close(g);
            machine_request_shutdown(g->m, 0);
            return;
        } else
            reply_str(g, "");
        break;
    default:
        reply_str(g, "");       /* unsupported */
        break;
    }
out:
    if (g->rlen != (size_t)-1)
        send_packet(g, g->reply, g->rlen);
}

/* ---- connection ---- */

static void client_close(GdbStub *g)
{
    if (g->fd < 0)
        return;
    machine_unwatch_fd(g->m, &g->fd);
    close(g->fd);
    g->fd = -1;
    /* The VM goes on as if no debugger had been there. */
    g->ops->debug->remove_all(g->acc);
    if (g->paused_by_us || g->running) {
        g->ops->debug->resume(g->acc, 0, false, false, ACCEL_RUN_ALL);
        g->paused_by_us = false;
        g->running = false;
        machine_resume(g->m);
    }
}

static int client_get_fd(void *opaque)
{
    GdbStub *g = (GdbStub *)((char *)opaque - offsetof(GdbStub, fd));
    return g->fd;
}

static void client_readable(void *opaque)
{
    GdbStub *g = (GdbStub *)((char *)opaque - offsetof(GdbStub, fd));
    uint8_t buf[4096];
    ssize_t n = recv(g->fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        client_close(g);
        return;
    }
    if (n > 0)
        gdbstub_feed(g, buf, (size_t)n);
}

void gdbstub_feed(GdbStub *g, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n && g->fd >= 0; i++) {
        switch (gdb_parser_feed(&g->parser, buf[i])) {
        case GDB_EV_PACKET:
            if (!g->noack)
                send_raw(g, "+", 1);
            handle_packet(g, (const char *)g->parser.buf, g->parser.len);
            break;
        case GDB_EV_BAD_CHECKSUM:
            if (!g->noack)
                send_raw(g, "-", 1);
            break;
        case GDB_EV_OVERSIZED:
            if (!g->noack)
                send_raw(g, "+", 1);
            send_str(g, "E01");
            break;
        case GDB_EV_INTERRUPT:
            if (g->running) {
                pause_machine(g);
                char r[32];
                snprintf(r, sizeof r, "T02thread:%02x;", g->cpu + 1);
                report_stop(g, r);
            }
            break;
        default:
            break;
        }
    }
}

void gdbstub_attach_fd(GdbStub *g, int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    g->fd = fd;
    g->noack = false;
    g->phys_mode = false;
    g->have_layout = false;
    g->running = false;
    g->cpu = g->step_cpu = 0;
    g->run_mask = ACCEL_RUN_ALL;
    gdb_parser_init(&g->parser);
    /* A debugger that connects finds the machine stopped. */
    pause_machine(g);
    snprintf(g->last_stop, sizeof g->last_stop, "T05thread:01;");
    machine_watch_fd(g->m, client_get_fd, client_readable, &g->fd);
}

static int listen_get_fd(void *opaque)
{
    return ((GdbStub *)opaque)->listen_fd;
}

bool gdbstub_connected(const GdbStub *g)
{
    return g->fd >= 0;
}

static void listen_readable(void *opaque)
{
    GdbStub *g = opaque;
    int fd = accept(g->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    if (g->fd >= 0) {
        /* one client at a time */
        static const char busy[] = "$E10#a6";
        (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    gdbstub_attach_fd(g, fd);
}

static int listen_tcp(const char *hostport, char *err, size_t len)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon) {
        snprintf(err, len, "'%s': expected tcp:[HOST]:PORT", hostport);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - hostport);
    if (hl >= sizeof host)
        hl = sizeof host - 1;
    memcpy(host, hostport, hl);
    host[hl] = 0;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res;
    int r = getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &res);
    if (r) {
        snprintf(err, len, "'%s': %s", hostport, gai_strerror(r));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1) == 0)
            break;
        snprintf(err, len, "cannot listen on %s: %s", hostport, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int listen_unix(GdbStub *g, const char *spec, char *err, size_t len)
{
    char path[108];
    const char *comma = strchr(spec, ',');
    size_t pl = comma ? (size_t)(comma - spec) : strlen(spec);
    if (!pl || pl >= sizeof path) {
        snprintf(err, len, "unix:%s: bad socket path", spec);
        return -1;
    }
    memcpy(path, spec, pl);
    path[pl] = 0;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, path, pl + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, len, "socket: %s", strerror(errno));
        return -1;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        snprintf(err, len, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    g->unix_path = xstrdup(path);
    return fd;
}

GdbStub *gdbstub_new_unbound(Machine *m, const AccelOps *ops, void *acc)
{
    GdbStub *g = xcalloc(1, sizeof(*g));
    g->m = m;
    g->ops = ops;
    g->acc = acc;
    g->listen_fd = -1;
    g->fd = -1;
    g->run_mask = ACCEL_RUN_ALL;
    m->debug_stop = gdbstub_debug_stop;
    m->debug_opaque = g;
    return g;
}

GdbStub *gdbstub_new(Machine *m, const AccelOps *ops, void *acc, const char *spec,
                     const MonitorHooks *mon, char *err, size_t len)
{
    if (!ops->debug) {
        snprintf(err, len, "the %s accelerator cannot be debugged (use -accel tcg)", ops->name);
        return NULL;
    }
    GdbStub *g = gdbstub_new_unbound(m, ops, acc);
    if (!strncmp(spec, "tcp:", 4))
        g->listen_fd = listen_tcp(spec + 4, err, len);
    else if (!strncmp(spec, "unix:", 5))
        g->listen_fd = listen_unix(g, spec + 5, err, len);
    else
        snprintf(err, len, "'%s': expected tcp:[HOST]:PORT or unix:PATH,server", spec);
    if (g->listen_fd < 0) {
        gdbstub_free(g);
        return NULL;
    }
    machine_watch_fd(m, listen_get_fd, listen_readable, g);
    char cerr[256];
    g->mon_chr = chardev_open("buffer", cerr, sizeof cerr);
    if (g->mon_chr && mon)
        g->mon = monitor_new(m, g->mon_chr, mon);
    return g;
}

void gdbstub_free(GdbStub *g)
{
    if (!g)
        return;
    if (g->fd >= 0) {
        machine_unwatch_fd(g->m, &g->fd);
        close(g->fd);
    }
    if (g->listen_fd >= 0) {
        machine_unwatch_fd(g->m, g);
        close(g->listen_fd);
    }
    if (g->unix_path) {
        unlink(g->unix_path);
        free(g->unix_path);
    }
    if (g->m->debug_opaque == g) {
        g->m->debug_stop = NULL;
        g->m->debug_opaque = NULL;
    }
    monitor_free(g->mon);
    chardev_free(g->mon_chr);
    free(g->tdesc);
    free(g);
}
