/*
 * hostdiff native runner: runs generated sequences on the host CPU, in
 * 64-bit mode or in 32-bit compatibility mode, inside a forked child.
 *
 * The child maps the fixed pages of hostdiff.h (control block, RWX code
 * page, data page, PROT_NONE guards between them), then for each case
 * writes the sequence plus an epilogue into the code page, fills the data
 * page, and calls the trampoline (hostdiff-native.S), which loads every GPR
 * and RFLAGS and jumps in.  A hardware exception arrives as a signal on an
 * alternate stack; the handler copies the register file, the trap number
 * and error code from the ucontext (REG_TRAPNO, REG_ERR) and si_addr (CR2
 * for #PF) and siglongjmps back.  Results go to a MAP_SHARED array.  If
 * the child dies anyway (or hangs: a watchdog alarm kills it), the parent
 * marks that case crashed and a new child continues after it.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/cpu/hostdiff.h"

typedef struct HDCtrl {
    HDState in;
    HDState out;
    uint64_t host_rsp;
    uint64_t exit64;
    uint32_t far32[2];
    uint32_t far64[2];
    uint8_t pad[HDC_FX_IN - 0x140];
    HDFpu fx_in, fx_out, fx_host;
} HDCtrl;
_Static_assert(offsetof(HDCtrl, in) == HDC_IN, "HDC_IN");
_Static_assert(offsetof(HDCtrl, out) == HDC_OUT, "HDC_OUT");
_Static_assert(offsetof(HDCtrl, host_rsp) == HDC_HOST_RSP, "HDC_HOST_RSP");
_Static_assert(offsetof(HDCtrl, exit64) == HDC_EXIT64, "HDC_EXIT64");
_Static_assert(offsetof(HDCtrl, far32) == HDC_FAR32, "HDC_FAR32");
_Static_assert(offsetof(HDCtrl, far64) == HDC_FAR64, "HDC_FAR64");
_Static_assert(offsetof(HDCtrl, fx_in) == HDC_FX_IN, "HDC_FX_IN");
_Static_assert(offsetof(HDCtrl, fx_out) == HDC_FX_OUT, "HDC_FX_OUT");
_Static_assert(offsetof(HDCtrl, fx_host) == HDC_FX_HOST, "HDC_FX_HOST");
_Static_assert(offsetof(HDState, rip) == HDS_RIP, "HDS_RIP");
_Static_assert(offsetof(HDState, rflags) == HDS_RFLAGS, "HDS_RFLAGS");

void hd_native_enter64(void);
void hd_native_enter32(void);
void hd_native_exit(void);

/* Child-process state (the child is single-threaded). */
static sigjmp_buf child_jmp;
static volatile sig_atomic_t child_in_seq;
static HDNativeOut *child_cur;

#define CTRL ((HDCtrl *)(uintptr_t)HD_CTRL_ADDR)
#define CODE ((uint8_t *)(uintptr_t)HD_CODE_ADDR)
#define DATA ((uint8_t *)(uintptr_t)HD_DATA_ADDR)

int hd_vector_signal(int vector)
{
    switch (vector) {
    case 0: case 16: case 19: return SIGFPE;
    case 1: case 3: return SIGTRAP;
    case 4: case 5: case 13: case 14: return SIGSEGV;
    case 6: return SIGILL;
    case 12: case 17: return SIGBUS;
    default: return 0;
    }
}

const char *hd_vector_name(int vector)
{
    static const char *const n[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?9",
        "#TS", "#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM",
    };
    if (vector < 0)
        return "none";
    if (vector < 32 && n[vector])
        return n[vector];
    return "vector";
}

static void child_signal(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    if (!child_in_seq) {
        /* Not the sequence: a harness bug.  Die with the signal. */
        signal(sig, SIG_DFL);
        raise(sig);
        _exit(128 + sig);
    }
    static const int map[16] = {
        REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
        REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
    };
    greg_t *g = uc->uc_mcontext.gregs;
    HDNativeOut *o = child_cur;
    for (int i = 0; i < 16; i++)
        o->out.gpr[i] = (uint64_t)g[map[i]];
    o->out.rip = (uint64_t)g[REG_RIP];
    o->out.rflags = (uint64_t)g[REG_EFL];
    o->res.vector = (int)g[REG_TRAPNO];
    o->res.error = (uint32_t)g[REG_ERR];
    o->res.cr2 = o->res.vector == 14 ? (uint64_t)(uintptr_t)si->si_addr : 0;
    o->res.signo = sig;
    /* The FPU state at the exception (the signal frame's FXSAVE part). */
    if (uc->uc_mcontext.fpregs)
        memcpy(o->fout.fx, uc->uc_mcontext.fpregs, 512);
    child_in_seq = 0;
    siglongjmp(child_jmp, 1);
}

static bool child_setup(char *err, size_t errlen)
{
    /* One PROT_NONE reservation, then open the pages we use. */
    size_t span = HD_DATA_ADDR + 2 * HD_PAGE_SIZE - HD_CTRL_ADDR;
    void *p = mmap((void *)(uintptr_t)HD_CTRL_ADDR, span, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)(uintptr_t)HD_CTRL_ADDR) {
        snprintf(err, errlen, "cannot map the test pages at %#x: %s", HD_CTRL_ADDR,
                 p == MAP_FAILED ? strerror(errno) : "kernel chose another address");
        return false;
    }
    if (mprotect(CTRL, HD_PAGE_SIZE, PROT_READ | PROT_WRITE) ||
        mprotect(CODE, HD_PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
        mprotect(DATA, HD_PAGE_SIZE, PROT_READ | PROT_WRITE)) {
        snprintf(err, errlen, "mprotect of the test pages: %s", strerror(errno));
        return false;
    }
    CTRL->exit64 = (uint64_t)(uintptr_t)hd_native_exit;
    CTRL->far32[0] = HD_CODE_ADDR;
    CTRL->far32[1] = HD_SEL_CODE32;
    CTRL->far64[0] = HD_CODE_ADDR + HD_BOUNCE_OFF;
    CTRL->far64[1] = HD_SEL_CODE64;

    static uint8_t altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
    if (sigaltstack(&ss, NULL)) {
        snprintf(err, errlen, "sigaltstack: %s", strerror(errno));
        return false;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = child_signal;
    /* NODEFER: leaving by siglongjmp then needs no signal-mask syscall. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    return true;
}

/* Runs one case in the child. */
static void child_run_case(const HDCase *c, HDNativeOut *o)
{
    uint8_t epi[16];
    size_t ne = hd_native_epilogue(c->mode, epi);
    memset(CODE, 0xcc, HD_PAGE_SIZE);
    memcpy(CODE, c->code, c->len);
    memcpy(CODE + c->len, epi, ne);
    /* 64-bit bounce stub for the 32-bit epilogue's far jump. */
    size_t nb = hd_native_epilogue(64, CODE + HD_BOUNCE_OFF);
    (void)nb;
    HDMemory *m = (HDMemory *)DATA;
    hd_gen_data(c, m);
    memset(o, 0, sizeof(*o));
    o->res.vector = -1;
    CTRL->in = c->in;
    CTRL->in.rip = HD_CODE_ADDR;
    CTRL->fx_in = c->fin;
    CTRL->far32[1] = c->sel32 ? c->sel32 : HD_SEL_CODE32;
    child_cur = o;
    if (sigsetjmp(child_jmp, 0) == 0) {
        child_in_seq = 1;
        if (c->mode == 64)
            hd_native_enter64();
        else
            hd_native_enter32();
        child_in_seq = 0;
        o->out = CTRL->out;
        o->out.rip = HD_CODE_ADDR + c->len;
        o->fout = CTRL->fx_out;
    }
    memcpy(&o->mem, DATA, sizeof(o->mem));
    if (c->mode == 32) {
        /* Compatibility mode sees 32-bit registers only. */
        for (int i = 0; i < 8; i++)
            o->out.gpr[i] &= 0xffffffffu;
        for (int i = 8; i < 16; i++)
            o->out.gpr[i] = 0;
        o->out.rip &= 0xffffffffu;
    }
}

/* Shared with the child: progress and results. */
typedef struct NativeShared {
    volatile size_t current;
    char err[160];
} NativeShared;

static void child_main(const HDCase *cases, size_t start, size_t n, HDNativeOut *out,
                       NativeShared *sh)
{
    char err[160];
    if (!child_setup(err, sizeof(err))) {
        snprintf(sh->err, sizeof(sh->err), "%s", err);
        _exit(3);
    }
    alarm(60);
    for (size_t i = start; i < n; i++) {
        sh->current = i;
        child_run_case(&cases[i], &out[i]);
    }
    _exit(0);
}

bool hd_native_run_batch(const HDCase *cases, size_t n, HDNativeOut *out, char *err,
                         size_t errlen)
{
    size_t bytes = n * sizeof(HDNativeOut) + sizeof(NativeShared);
    void *shm = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        snprintf(err, errlen, "shared memory for %zu results: %s", n, strerror(errno));
        return false;
    }
    HDNativeOut *sout = shm;
    NativeShared *sh = (NativeShared *)(sout + n);
    size_t start = 0;
    bool ok = true;
    fflush(NULL);
    while (start < n) {
        sh->current = start;
        sh->err[0] = 0;
        pid_t pid = fork();
        if (pid < 0) {
            snprintf(err, errlen, "fork: %s", strerror(errno));
            ok = false;
            break;
        }
        if (pid == 0)
            child_main(cases, start, n, sout, sh);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            break;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
            snprintf(err, errlen, "%s", sh->err);
            ok = false;
            break;
        }
        /* The child died on case `current`: record it, go on after it. */
        size_t bad = sh->current;
        HDNativeOut *o = &sout[bad];
        memset(o, 0, sizeof(*o));
        o->res.vector = -1;
        o->res.crashed = true;
        if (WIFSIGNALED(st))
            snprintf(o->res.note, sizeof(o->res.note), "host child killed by signal %d%s",
                     WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (watchdog: hang)" : "");
        else
            snprintf(o->res.note, sizeof(o->res.note), "host child exited with status %d",
                     WEXITSTATUS(st));
        start = bad + 1;
    }
    if (ok)
        memcpy(out, sout, n * sizeof(HDNativeOut));
    munmap(shm, bytes);
    return ok;
}
