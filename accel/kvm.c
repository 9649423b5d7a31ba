/*
 * KVM accelerator.  See kvm.h for the design choices.
 *
 *   VM:     KVM_CREATE_VM, one memory slot per RAM/ROM range of the
 *           flattened memory map (ROM read-only: writes exit as MMIO and are
 *           dropped by the dispatcher), MMIO ranges left as holes.
 *   vCPU:   KVM_CREATE_VCPU, CPUID filtered to what the machine offers.
 *   run:    KVM_RUN until an exit; IO and MMIO exits go to the machine's
 *           dispatch; interrupts from the machine's controllers are injected
 *           with KVM_INTERRUPT when the guest can take one (else an
 *           interrupt window is requested); a POSIX timer kicks the vCPU out
 *           at the next virtual-clock deadline so device timers fire.
 *   errors: one line with the reason and RIP (internal errors also with the
 *           instruction bytes disassembled by capstone), exit non-zero.
 */
#include "accel/kvm.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/machine.h"
#include "core/util.h"
#include "cpu/cpu.h"
#include "accel/vcpus.h"
#include <pthread.h>

#define KICK_SIGNAL SIGUSR1
#define MAX_SLOTS 32

/* One vCPU: its KVM fd and run area, and what KVM does not keep. */
typedef struct KVMVcpu {
    KVMAccel *k;
    int index;
    int fd;
    struct kvm_run *run;
    CPUState *shadow;         /* the CPU's state for saved machines (kvm_sync_shadow) */
    bool exit_incomplete;     /* last exit was IO/MMIO: KVM finishes it on re-entry */
    bool halted;              /* in HLT (KVM keeps no HLT state without its irqchip) */
    bool halt_if;             /* EFLAGS.IF while halted: can an interrupt wake it */
    pthread_t thread;         /* the vCPU thread (kicks signal it), once it ran */
    bool have_thread;
} KVMVcpu;

struct KVMAccel {
    Machine *m;
    int kvm_fd, vm_fd;
    size_t run_size;
    int nslots;
    timer_t kick_timer;
    bool have_timer;
    bool pending_error;
    CPUConfig cfg;            /* the -cpu model (CPUID, the RESET signature) */
    bool have_xcrs;           /* KVM_CAP_XCRS: XCR0 can be read and set */
    bool have_shadow;         /* KVM_CAP_INTR_SHADOW: the STI/MOV SS shadow travels */
    uint32_t msr_ok;          /* bit i: arch_msrs[i] is available */
    int ncpus;
    KVMVcpu vcpu[MACHINE_MAX_CPUS];
    VCPUThreads *threads;     /* several CPUs: a thread each (accel/vcpus.h) */
};

static void probe_msrs(KVMVcpu *v);
static int kvm_sync_shadow(void *opaque, CPUState *cpu, bool to_accel, char *err, size_t len);

/* The run area of the vCPU this thread runs.  A signal handler can reach
 * nothing else; it is per thread, not machine state. */
static __thread struct kvm_run *kick_run;

static void kick_handler(int sig)
{
    /* Interrupts KVM_RUN (EINTR); setting immediate_exit also covers a
     * signal that lands while we are outside KVM_RUN handling an exit. */
    (void)sig;
    if (kick_run)
        kick_run->immediate_exit = 1;
}

static int kvm_open(char *why, size_t len)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "/dev/kvm: %s", strerror(errno));
        return -1;
    }
    int api = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        snprintf(why, len, "/dev/kvm: API version %d, expected %d", api, KVM_API_VERSION);
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- speed probe: is guest ring 0 run natively or emulated? ---- */

/* Runs a real-mode loop of n iterations of `dec ecx; jnz` in a scratch VM
 * and returns the seconds KVM_RUN took, or < 0 on error. */
static double probe_loop(int kvm, uint32_t n, char *why, size_t len)
{
    double secs = -1;
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
        snprintf(why, len, "KVM_CREATE_VM: %s", strerror(errno));
        return -1;
    }
    size_t memsz = 0x10000;
    uint8_t *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int vcpu = -1;
    struct kvm_run *run = MAP_FAILED;
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mem == MAP_FAILED || run_size <= 0)
        goto out;
    /* 66 b9 imm32: mov ecx, n; 66 49: dec ecx; 75 fc: jnz; f4: hlt */
    uint8_t code[] = { 0x66, 0xb9, n, n >> 8, n >> 16, n >> 24, 0x66, 0x49, 0x75, 0xfc, 0xf4 };
    memcpy(mem + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region r = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = memsz,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        snprintf(why, len, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        goto out;
    }
    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) {
        snprintf(why, len, "KVM_CREATE_VCPU: %s", strerror(errno));
        goto out;
    }
    run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        goto out;
    struct kvm_sregs s;
    struct kvm_regs g = { .rip = 0x1000, .rflags = 2 };
    if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
        goto out;
    s.cs.base = 0;
    s.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu, KVM_SET_REGS, &g) < 0)
        goto out;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = ioctl(vcpu, KVM_RUN, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc < 0 || run->exit_reason != KVM_EXIT_HLT) {
        snprintf(why, len, "probe guest did not halt (KVM_RUN %d, exit %u)",
                 rc, rc < 0 ? 0 : run->exit_reason);
        goto out;
    }
    secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
out:
    if (run != MAP_FAILED)
        munmap(run, run_size);
    if (vcpu >= 0)
        close(vcpu);
    if (mem != MAP_FAILED)
        munmap(mem, memsz);
    close(vm);
    return secs;
}

bool kvm_probe_speed(char *why, size_t len, double *ns_per_iter)
{
    int kvm = kvm_open(why, len);
    if (kvm < 0)
        return false;
    /* Two sizes, so VM entry/exit overhead cancels out.  Hardware runs an
     * iteration in about a nanosecond; an instruction emulator takes
     * hundreds.  The larger loop is small enough to stay under ~50 ms even
     * when emulated. */
    const uint32_t small = 2000, large = 42000;
    double a = probe_loop(kvm, small, why, len);
    double b = a >= 0 ? probe_loop(kvm, large, why, len) : -1;
    close(kvm);
    if (a < 0 || b < 0)
        return false;
    double ns = (b - a) * 1e9 / (large - small);
    if (ns_per_iter)
        *ns_per_iter = ns;
    bool pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
    if (ns > 20.0) {
        snprintf(why, len, "KVM emulates guest ring 0 (%.0f ns per loop iteration, "
                 "hardware needs ~1)%s: too slow to boot a stock kernel", ns,
                 pvm ? "; kvm_pvm module loaded" : "");
        return false;
    }
    return true;
}

static bool kvm_probe(Machine *m, char *why, size_t len)
{
    return kvm_probe_speed(why, len, NULL);
}

/* ---- memory slots ---- */

typedef struct SlotCtx {
    KVMAccel *k;
    int error;
} SlotCtx;

static void add_slot(void *opaque, const MemRegion *r, uint64_t start, uint64_t len)
{
    SlotCtx *c = opaque;
    /* Logged RAM (the VGA framebuffer) gets no slot: its accesses exit
     * to the memory map, which logs the writes (no KVM dirty log here). */
    if (r->kind == MEM_MMIO || r->log || c->error)
        return;
    if (c->k->nslots >= MAX_SLOTS) {
        c->error = ENOSPC;
        return;
    }
    struct kvm_userspace_memory_region s = {
        .slot = (uint32_t)c->k->nslots,
        .flags = r->kind == MEM_ROM ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = start,
        .memory_size = len,
        .userspace_addr = (uintptr_t)(r->host + (start - r->base)),
    };
    if (ioctl(c->k->vm_fd, KVM_SET_USER_MEMORY_REGION, &s) < 0)
        c->error = errno;
    else
        c->k->nslots++;
}

/* ---- vCPU setup ---- */

/* One CPUID word: what this KVM supports, limited to what the machine's
 * CPU model offers, so a guest sees the same features under both
 * accelerators (where KVM can provide them). */
static void cpuid_filter_by_model(struct kvm_cpuid_entry2 *e, const CPUConfig *cfg)
{
    switch (e->function) {
    case 1:
        e->edx &= cfg->feat[CPU_FEAT_1_EDX];
        /* OSXSAVE follows CR4 (KVM keeps it live); hypervisor present. */
        e->ecx = (e->ecx & (cfg->feat[CPU_FEAT_1_ECX] | (1u << 27))) | (1u << 31);
        break;
    case 7:
        if (e->index == 0) {
            e->ebx &= cfg->feat[CPU_FEAT_7_EBX];
            e->ecx &= cfg->feat[CPU_FEAT_7_ECX];
            e->edx &= cfg->feat[CPU_FEAT_7_EDX];
        } else {
            e->eax = e->ebx = e->ecx = e->edx = 0;
        }
        break;
    case 0xd:
        /* The model's XSAVE state: x87 and SSE only. */
        if (e->index == 0) {
            e->eax &= 3;
            e->edx = 0;
        } else if (e->index == 1) {
            e->eax &= cfg->feat[CPU_FEAT_D1_EAX];
        } else {
            e->eax = e->ebx = e->ecx = e->edx = 0;
        }
        break;
    case 0x80000001:
        e->edx &= cfg->feat[CPU_FEAT_81_EDX];
        e->ecx &= cfg->feat[CPU_FEAT_81_ECX];
        break;
    }
}

static int setup_cpuid(KVMVcpu *v, char *err, size_t len)
{
    KVMAccel *k = v->k;
    CPUConfig cfg = CPU_CONFIG_DEFAULT;
    cfg.model_name = k->m->opts ? k->m->opts->cpu_model : NULL;
    if (!cpu_model_apply(&cfg, cfg.model_name, err, len))
        return -1;
    k->cfg = cfg;
    int n = 128;
    struct kvm_cpuid2 *c = xcalloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
    c->nent = n;
    if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
        snprintf(err, len, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
        free(c);
        return -1;
    }
    for (unsigned i = 0; i < c->nent; i++)
        cpuid_filter_by_model(&c->entries[i], &cfg);
    int rc = ioctl(v->fd, KVM_SET_CPUID2, c);
    free(c);
    if (rc < 0) {
        snprintf(err, len, "KVM_SET_CPUID2: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_kick_timer(KVMAccel *k, char *err, size_t len)
{
    struct sigaction sa = { .sa_handler = kick_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(KICK_SIGNAL, &sa, NULL);
    struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = KICK_SIGNAL };
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &sev, &k->kick_timer) < 0) {
        snprintf(err, len, "timer_create: %s", strerror(errno));
        return -1;
    }
    k->have_timer = true;
    return 0;
}

static void kvm_free(void *acc)
{
    KVMAccel *k = acc;
    if (!k)
        return;
    vcpu_threads_free(k->threads);
    k->threads = NULL;
    if (k->have_timer)
        timer_delete(k->kick_timer);
    for (int i = 0; i < k->ncpus; i++) {
        KVMVcpu *v = &k->vcpu[i];
        cpu_free(v->shadow);
        if (v->run)
            munmap(v->run, k->run_size);
        if (v->fd >= 0)
            close(v->fd);
    }
    if (k->vm_fd >= 0)
        close(k->vm_fd);
    if (k->kvm_fd >= 0)
        close(k->kvm_fd);
    free(k);
}

static int kvm_sync_shadow(void *opaque, CPUState *cpu, bool to_accel, char *err, size_t len);

/* vCPU index: its fd, run area, CPUID, and the state-only CPUState that
 * holds it in saved machines. */
static bool kvm_create_vcpu(KVMAccel *k, int index, char *err, size_t len)
{
    KVMVcpu *v = &k->vcpu[index];
    v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
    if (v->fd < 0) {
        snprintf(err, len, "KVM_CREATE_VCPU %d: %s", index, strerror(errno));
        return false;
    }
    v->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        snprintf(err, len, "mmap of the vCPU run area: %s", strerror(errno));
        return false;
    }
    if (setup_cpuid(v, err, len) < 0)
        return false;
    if (index == 0)
        probe_msrs(v);
    v->shadow = cpu_create_state_only(k->m, index, &k->cfg, err, len);
    if (!v->shadow)
        return false;
    v->shadow->accel_sync = kvm_sync_shadow;
    v->shadow->accel_sync_opaque = v;
    v->shadow->board = k->m->cpu_ops;
    v->shadow->board_opaque = k->m->cpu_opaque[index];
    return true;
}

static const VCPUHooks kvm_vcpu_hooks;

static void *kvm_init(Machine *m, const AccelOpt *opt, char *err, size_t len)
{
    KVMAccel *k = xcalloc(1, sizeof(*k));
    k->m = m;
    k->vm_fd = -1;
    for (int i = 0; i < MACHINE_MAX_CPUS; i++) {
        k->vcpu[i].k = k;
        k->vcpu[i].index = i;
        k->vcpu[i].fd = -1;
    }
    k->kvm_fd = kvm_open(err, len);
    if (k->kvm_fd < 0)
        goto fail;
    k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
    if (k->vm_fd < 0) {
        snprintf(err, len, "KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    static const struct { int cap; const char *name; } needed[] = {
        { KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
        { KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
        { KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
        { KVM_CAP_XSAVE, "KVM_CAP_XSAVE" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(needed); i++) {
        if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
            snprintf(err, len, "this KVM lacks %s", needed[i].name);
            goto fail;
        }
    }
    k->have_xcrs = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
    k->have_shadow = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_INTR_SHADOW) > 0;
    int n = m->ncpus > 0 && m->ncpus <= MACHINE_MAX_CPUS ? m->ncpus : 1;
    int max_vcpus = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max_vcpus > 0 && n > max_vcpus) {
        snprintf(err, len, "this KVM runs at most %d vCPUs (-smp %d)", max_vcpus, n);
        goto fail;
    }
    SlotCtx sc = { .k = k };
    memmap_flatten(m->mem, add_slot, &sc);
    if (sc.error) {
        snprintf(err, len, "KVM memory slot: %s", strerror(sc.error));
        goto fail;
    }
    int sz = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0) {
        snprintf(err, len, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    k->run_size = (size_t)sz;
    for (int i = 0; i < n; i++) {
        k->ncpus = i + 1;
        if (!kvm_create_vcpu(k, i, err, len))
            goto fail;
    }
    if (n == 1) {
        if (setup_kick_timer(k, err, len) < 0)
            goto fail;
    } else {
        /* A thread per vCPU; kicks are signals to it (kick_handler). */
        struct sigaction sa = { .sa_handler = kick_handler };
        sigemptyset(&sa.sa_mask);
        sigaction(KICK_SIGNAL, &sa, NULL);
        k->threads = vcpu_threads_new(m, &kvm_vcpu_hooks, k, n, err, len);
        if (!k->threads)
            goto fail;
    }
    LOG(LOG_ACCEL, "kvm: %d memory slots, %d vCPU%s created\n", k->nslots, n, n > 1 ? "s" : "");
    return k;
fail:
    kvm_free(k);
    return NULL;
}

/* ---- run loop ---- */

static void arm_kick(KVMAccel *k, int64_t deadline_ns)
{
    int64_t now = clock_now(k->m->clock);
    int64_t delta = deadline_ns - now;
    /* At most 10 ms between visits to the main loop: input stays responsive. */
    if (delta > 10000000 || deadline_ns == INT64_MAX)
        delta = 10000000;
    if (delta < 1000)
        delta = 1000;
    struct itimerspec its = { .it_value = { delta / NS_PER_SEC, delta % NS_PER_SEC } };
    timer_settime(k->kick_timer, 0, &its, NULL);
}

static void handle_io(KVMVcpu *v)
{
    KVMAccel *k = v->k;
    struct kvm_run *r = v->run;
    uint8_t *data = (uint8_t *)r + r->io.data_offset;
    for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
        if (r->io.direction == KVM_EXIT_IO_OUT) {
            uint32_t val = 0;
            memcpy(&val, data, r->io.size);
            iospace_write(k->m->io, r->io.port, val, r->io.size);
        } else {
            uint32_t val = iospace_read(k->m->io, r->io.port, r->io.size);
            memcpy(data, &val, r->io.size);
        }
    }
}

static void handle_mmio(KVMVcpu *v)
{
    KVMAccel *k = v->k;
    struct kvm_run *r = v->run;
    unsigned len = r->mmio.len;
    if (len == 0 || len > 8)
        return;
    if (r->mmio.is_write) {
        uint64_t val = 0;
        memcpy(&val, r->mmio.data, len);
        if (len == 1 || len == 2 || len == 4 || len == 8)
            memmap_write(k->m->mem, r->mmio.phys_addr, val, len);
        else
            memmap_write_buf(k->m->mem, r->mmio.phys_addr, r->mmio.data, len);
    } else {
        uint64_t val = 0;
        if (len == 1 || len == 2 || len == 4 || len == 8)
            val = memmap_read(k->m->mem, r->mmio.phys_addr, len);
        else
            memmap_read_buf(k->m->mem, r->mmio.phys_addr, &val, len);
        memcpy(r->mmio.data, &val, len);
    }
}

/* Injects a pending interrupt from the machine's controllers when the
 * guest can take it, else asks KVM to exit when it can. */
static void inject_interrupts(KVMVcpu *v)
{
    KVMAccel *k = v->k;
    Machine *m = k->m;
    struct kvm_run *r = v->run;
    r->request_interrupt_window = 0;
    void *opaque = m->cpu_opaque[v->index];
    if (!m->cpu_ops || !m->cpu_ops->intr_pending(opaque))
        return;
    if (r->ready_for_interrupt_injection && r->if_flag) {
        struct kvm_interrupt irq = { .irq = (uint32_t)m->cpu_ops->intr_ack(opaque) };
        if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
            LOG(LOG_ACCEL, "kvm: KVM_INTERRUPT: %s\n", strerror(errno));
    } else {
        r->request_interrupt_window = 1;
    }
}

static int guest_mode_bits(const struct kvm_sregs *s)
{
    if ((s->efer & (1u << 10)) && s->cs.l)
        return 64;
    return s->cs.db ? 32 : 16;
}

/* Reads up to len code bytes at the guest's CS:RIP, translating through
 * the guest page tables with KVM_TRANSLATE. */
static size_t read_code(KVMVcpu *v, const struct kvm_regs *g, const struct kvm_sregs *s,
                        uint8_t *buf, size_t len)
{
    KVMAccel *k = v->k;
    size_t n = 0;
    while (n < len) {
        struct kvm_translation t = { .linear_address = s->cs.base + g->rip + n };
        if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
            break;
        size_t chunk = MIN(len - n, 4096 - (t.physical_address & 4095));
        uint8_t *host = memmap_host_ptr(k->m->mem, t.physical_address, chunk, false);
        if (!host)
            break;
        memcpy(buf + n, host, chunk);
        n += chunk;
    }
    return n;
}

static void report_error(KVMVcpu *v, const char *what)
{
    struct kvm_regs g = { 0 };
    struct kvm_sregs s = { 0 };
    ioctl(v->fd, KVM_GET_REGS, &g);
    ioctl(v->fd, KVM_GET_SREGS, &s);
    uint8_t code[16];
    size_t n = read_code(v, &g, &s, code, sizeof code);
    char insn[256] = "";
    csh cs;
    int bits = guest_mode_bits(&s);
    cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
    if (n && cs_open(CS_ARCH_X86, mode, &cs) == CS_ERR_OK) {
        cs_insn *ci;
        if (cs_disasm(cs, code, n, s.cs.base + g.rip, 1, &ci) == 1) {
            char bytes[48] = "";
            for (unsigned i = 0; i < ci->size && i < 15; i++)
                snprintf(bytes + 3 * i, sizeof bytes - 3 * i, "%02x ", ci->bytes[i]);
            snprintf(insn, sizeof insn, ": %s%s %s", bytes, ci->mnemonic, ci->op_str);
            cs_free(ci, 1);
        }
        cs_close(&cs);
    }
    fprintf(stderr, "vx86: kvm: %s at %04x:%016llx (%d-bit)%s\n", what,
            s.cs.selector, (unsigned long long)g.rip, bits, insn);
}

/* Runs vCPU v until deadline_ns (one CPU: the main loop's thread), or
 * until it is kicked (its own thread: deadline INT64_MAX, the main
 * thread runs the timers). */
static AccelExit kvm_run_vcpu(KVMVcpu *v, int64_t deadline_ns)
{
    KVMAccel *k = v->k;
    Machine *m = k->m;
    kick_run = v->run;
    while (!m->stop_requested) {
        /* HLT ends with an interrupt the guest takes (IF as it was at the
         * HLT, or as put) or an NMI (kvm_cpu_events). */
        if (v->halted) {
            bool irq = v->halt_if && m->cpu_ops &&
                       m->cpu_ops->intr_pending(m->cpu_opaque[v->index]);
            if (!irq)
                return ACCEL_EXIT_HALTED;
            v->halted = false;
        }
        inject_interrupts(v);
        int rc = ioctl(v->fd, KVM_RUN, 0);
        if (rc < 0) {
            if (errno == EINTR || errno == EAGAIN)
                return ACCEL_EXIT_DEADLINE;
            char what[96];
            snprintf(what, sizeof what, "KVM_RUN failed: %s", strerror(errno));
            report_error(v, what);
            return ACCEL_EXIT_ERROR;
        }
        struct kvm_run *r = v->run;
        v->exit_incomplete = r->exit_reason == KVM_EXIT_IO || r->exit_reason == KVM_EXIT_MMIO;
        switch (r->exit_reason) {
        case KVM_EXIT_IO:
            handle_io(v);
            break;
        case KVM_EXIT_MMIO:
            handle_mmio(v);
            break;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
        case KVM_EXIT_INTR:
            break;
        case KVM_EXIT_HLT:
            /* RIP is past the HLT: the CPU waits in v->halted; the main
             * loop sleeps until a timer or input raises an interrupt. */
            v->halted = true;
            v->halt_if = r->if_flag;
            break;
        case KVM_EXIT_SHUTDOWN:
            report_error(v, "triple fault (shutdown)");
            return ACCEL_EXIT_SHUTDOWN;
        case KVM_EXIT_INTERNAL_ERROR: {
            char what[96];
            snprintf(what, sizeof what, "internal error (suberror %u%s)", r->internal.suberror,
                     r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? ": emulation failure" : "");
            report_error(v, what);
            return ACCEL_EXIT_ERROR;
        }
        case KVM_EXIT_FAIL_ENTRY: {
            char what[96];
            snprintf(what, sizeof what, "VM entry failed (hardware reason 0x%llx)",
                     (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
            report_error(v, what);
            return ACCEL_EXIT_ERROR;
        }
        default: {
            char what[64];
            snprintf(what, sizeof what, "unexpected exit reason %u", r->exit_reason);
            report_error(v, what);
            return ACCEL_EXIT_ERROR;
        }
        }
        if (deadline_ns != INT64_MAX && clock_now(m->clock) >= deadline_ns)
            return ACCEL_EXIT_DEADLINE;
    }
    return ACCEL_EXIT_DEADLINE;
}

static bool kvm_cpu_events(KVMVcpu *v);

static AccelExit kvm_exec(void *acc, int64_t deadline_ns)
{
    KVMAccel *k = acc;
    KVMVcpu *v = &k->vcpu[0];
    if (!kvm_cpu_events(v))
        return ACCEL_EXIT_HALTED;
    v->run->immediate_exit = 0;
    arm_kick(k, deadline_ns);
    return kvm_run_vcpu(v, deadline_ns);
}

static void kvm_kick(void *acc)
{
    KVMAccel *k = acc;
    for (int i = 0; i < k->ncpus; i++)
        k->vcpu[i].run->immediate_exit = 1;
}

/* ---- vCPU threads (several CPUs) ---- */

static bool kvm_prepare(void *acc, int i)
{
    KVMAccel *k = acc;
    KVMVcpu *v = &k->vcpu[i];
    if (!v->have_thread) {
        v->thread = pthread_self();
        __atomic_store_n(&v->have_thread, true, __ATOMIC_RELEASE);
    }
    kick_run = v->run;
    /* A kick from here on leaves immediate_exit set; one that came
     * before (since the thread last looked) is set again now. */
    __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    if (vcpu_threads_kicked(k->threads, i))
        v->run->immediate_exit = 1;
    return kvm_cpu_events(v);
}

static AccelExit kvm_run_thread(void *acc, int i)
{
    KVMAccel *k = acc;
    KVMVcpu *v = &k->vcpu[i];
    return kvm_run_vcpu(v, INT64_MAX);
}

/* Out of KVM_RUN soon: immediate_exit covers a thread outside KVM_RUN,
 * the signal one inside it. */
static void kvm_kick_one(void *acc, int i)
{
    KVMAccel *k = acc;
    KVMVcpu *v = &k->vcpu[i];
    v->run->immediate_exit = 1;
    if (__atomic_load_n(&v->have_thread, __ATOMIC_ACQUIRE))
        pthread_kill(v->thread, KICK_SIGNAL);
}

static const VCPUHooks kvm_vcpu_hooks = {
    .prepare = kvm_prepare,
    .run = kvm_run_thread,
    .kick = kvm_kick_one,
};

static bool kvm_threaded(void *acc)
{
    return ((KVMAccel *)acc)->threads != NULL;
}

static int kvm_cpu_thread_id(void *acc, int cpu)
{
    KVMAccel *k = acc;
    return k->threads ? vcpu_threads_tid(k->threads, cpu) : 0;
}

/* ---- architectural state: get and put ----
 *
 * The vCPU's state lives in the kernel; these move it whole between KVM
 * and an X86ArchState (cpu/arch-state.h), whose conventions are those of
 * VMX/SVM guest state already (CPL = SS.DPL, byte-granular limits,
 * unusable segments).  Put order: special registers first (CR0/CR4/EFER
 * decide what is valid for the rest; CPUID was set at init), then the
 * general registers, MSRs, XCR0 before the XSAVE image, debug registers,
 * and the events last (KVM_SET_SREGS could queue an interrupt from its
 * interrupt_bitmap; it is always 0 here, the events carry it).
 *
 * Halted: without the in-kernel irqchip KVM does not keep HLT state (HLT
 * exits to us with RIP past it, and KVM_SET_MP_STATE refuses anything but
 * RUNNABLE), so the halted flag is ours (v->halted) and exec honours it.
 * A20: KVM has no A20 gate (neither does the board wire one to it): get
 * says enabled and put ignores a masked gate. */

static void seg_from_kvm(X86ArchSegment *d, const struct kvm_segment *s)
{
    d->selector = s->selector;
    d->base = s->base;
    d->limit = s->limit;
    d->attr = (uint32_t)s->type << 8 | (uint32_t)s->s << 12 | (uint32_t)s->dpl << 13 |
              (uint32_t)(s->present && !s->unusable) << 15 | (uint32_t)s->avl << 20 |
              (uint32_t)s->l << 21 | (uint32_t)s->db << 22 | (uint32_t)s->g << 23;
}

/* ES..GS are usable whatever their P bit in real and virtual-8086 mode. */
static void seg_to_kvm(struct kvm_segment *d, const X86ArchSegment *s, bool always_usable)
{
    bool present = (s->attr & SEG_P) || always_usable;
    *d = (struct kvm_segment){
        .base = s->base,
        .limit = s->limit,
        .selector = s->selector,
        .type = (s->attr >> 8) & 0xf,
        .present = present,
        .dpl = (s->attr >> SEG_DPL_SHIFT) & 3,
        .db = (s->attr & SEG_B) != 0,
        .s = (s->attr & SEG_S) != 0,
        .l = (s->attr & SEG_L) != 0,
        .g = (s->attr & SEG_G) != 0,
        .avl = (s->attr >> 20) & 1,
        .unusable = !present,
    };
}

/* The MSRs of X86ArchState that KVM keeps outside kvm_sregs (EFER and
 * APIC_BASE are in it; FS/GS base are segment bases). */
#define ARCH_MSR(idx, field) { idx, offsetof(X86ArchState, field), #field }
static const struct ArchMsr {
    uint32_t index;
    size_t offset;
    const char *name;
} arch_msrs[] = {
    ARCH_MSR(MSR_IA32_SYSENTER_CS, sysenter_cs),
    ARCH_MSR(MSR_IA32_SYSENTER_ESP, sysenter_esp),
    ARCH_MSR(MSR_IA32_SYSENTER_EIP, sysenter_eip),
    ARCH_MSR(MSR_STAR, star),
    ARCH_MSR(MSR_LSTAR, lstar),
    ARCH_MSR(MSR_CSTAR, cstar),
    ARCH_MSR(MSR_FMASK, sfmask),
    ARCH_MSR(MSR_KERNEL_GS_BASE, kernel_gs_base),
    ARCH_MSR(MSR_IA32_PAT, pat),
    ARCH_MSR(MSR_IA32_TSC, tsc),
    ARCH_MSR(MSR_IA32_MISC_ENABLE, misc_enable),
    ARCH_MSR(MSR_TSC_AUX, tsc_aux),
};

static uint64_t *arch_msr_field(X86ArchState *s, size_t i)
{
    return (uint64_t *)((uint8_t *)s + arch_msrs[i].offset);
}

/* Which of arch_msrs this KVM reads back (KVM_GET_MSRS stops at the first
 * one it refuses, so each is tried alone; TSC_AUX, for one, needs RDTSCP
 * or RDPID on the host).  The others are not transferred: get leaves them
 * 0 and a put of a non-zero value is refused with the MSR's name. */
/* A KVM_GET/SET_MSRS buffer for n entries (free() it). */
static struct kvm_msrs *msrs_new(size_t n)
{
    struct kvm_msrs *m = xcalloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
    m->nmsrs = (uint32_t)n;
    return m;
}

static void probe_msrs(KVMVcpu *v)
{
    KVMAccel *k = v->k;
    struct kvm_msrs *one = msrs_new(1);
    for (size_t i = 0; i < ARRAY_SIZE(arch_msrs); i++) {
        one->nmsrs = 1;
        one->entries[0] = (struct kvm_msr_entry){ .index = arch_msrs[i].index };
        if (ioctl(v->fd, KVM_GET_MSRS, one) == 1)
            k->msr_ok |= 1u << i;
        else
            LOG(LOG_ACCEL, "kvm: MSR %s (%#x) not available\n", arch_msrs[i].name,
                arch_msrs[i].index);
    }
    free(one);
}

/* An IO or MMIO instruction KVM exited for completes (RIP moves past it,
 * an IN's result lands) only on the next KVM_RUN; immediate_exit makes
 * that KVM_RUN finish it and return without running the guest.  Both get
 * and put need it: a put followed by the completion would see RIP and RAX
 * changed behind its back. */
static void kvm_complete_exit(KVMVcpu *v)
{
    if (!v->exit_incomplete)
        return;
    v->run->immediate_exit = 1;
    ioctl(v->fd, KVM_RUN, 0);
    v->run->immediate_exit = 0;
    v->exit_incomplete = false;
}

static int fail_errno(char *err, size_t len, const char *what)
{
    snprintf(err, len, "%s: %s", what, strerror(errno));
    return -1;
}

static int kvm_vcpu_get(KVMVcpu *v, X86ArchState *st, char *err, size_t len)
{
    KVMAccel *k = v->k;
    kvm_complete_exit(v);
    memset(st, 0, sizeof(*st));
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
        return fail_errno(err, len, "KVM_GET_REGS");
    if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
        return fail_errno(err, len, "KVM_GET_SREGS");
    const uint64_t gpr[16] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                               r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15 };
    memcpy(st->regs, gpr, sizeof gpr);
    st->rip = r.rip;
    st->rflags = r.rflags;
    const struct kvm_segment *segs[R_NB_SEG] = { &s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs,
                                                 &s.ldt, &s.tr };
    for (int i = 0; i < R_NB_SEG; i++)
        seg_from_kvm(&st->seg[i], segs[i]);
    st->gdt = (X86ArchTable){ s.gdt.base, s.gdt.limit };
    st->idt = (X86ArchTable){ s.idt.base, s.idt.limit };
    st->cr0 = s.cr0;
    st->cr2 = s.cr2;
    st->cr3 = s.cr3;
    st->cr4 = s.cr4;
    st->cr8 = s.cr8;
    st->efer = s.efer;
    st->apic_base = s.apic_base;

    struct kvm_msrs *msrs = msrs_new(ARRAY_SIZE(arch_msrs));
    size_t n = 0, which[ARRAY_SIZE(arch_msrs)];
    for (size_t i = 0; i < ARRAY_SIZE(arch_msrs); i++)
        if (k->msr_ok & (1u << i)) {
            which[n] = i;
            msrs->entries[n++].index = arch_msrs[i].index;
        }
    msrs->nmsrs = (uint32_t)n;
    int got = ioctl(v->fd, KVM_GET_MSRS, msrs);
    if (got >= 0 && (size_t)got == n)
        for (size_t j = 0; j < n; j++)
            *arch_msr_field(st, which[j]) = msrs->entries[j].data;
    int saved_errno = errno;
    free(msrs);
    if (got < 0) {
        errno = saved_errno;
        return fail_errno(err, len, "KVM_GET_MSRS");
    }
    if ((size_t)got < n) {
        snprintf(err, len, "KVM_GET_MSRS: MSR %s (%#x) refused", arch_msrs[which[got]].name,
                 arch_msrs[which[got]].index);
        return -1;
    }

    /* x87/SSE from KVM's XSAVE area, whose legacy region is an FXSAVE64
     * image.  A component whose XSTATE_BV bit is clear is in its init
     * state (SDM vol. 1 13.6), whatever the region holds.  (KVM_GET_FPU
     * loses MXCSR on some KVMs, so it is not used.) */
    struct kvm_xsave xs;
    if (ioctl(v->fd, KVM_GET_XSAVE, &xs) < 0)
        return fail_errno(err, len, "KVM_GET_XSAVE");
    uint8_t *img = (uint8_t *)xs.region;
    uint64_t bv;
    memcpy(&bv, img + 512, 8);
    if (!(bv & XSTATE_X87)) {            /* x87 init: FCW 037FH, the rest 0 */
        memset(img, 0, 24);
        img[0] = 0x7f;
        img[1] = 0x03;
        memset(img + 32, 0, 128);
    }
    if (!(bv & XSTATE_SSE))              /* SSE init: XMM registers 0 */
        memset(img + 160, 0, 256);
    if (!(bv & (XSTATE_SSE | 4))) {      /* MXCSR init (SSE or AVX in use keeps it) */
        uint32_t mx = 0x1f80;
        memcpy(img + 24, &mx, 4);
    }
    memcpy(st->fxsave, img, 464);
    st->xcr0 = XSTATE_X87;
    if (k->have_xcrs) {
        struct kvm_xcrs xcrs;
        if (ioctl(v->fd, KVM_GET_XCRS, &xcrs) < 0)
            return fail_errno(err, len, "KVM_GET_XCRS");
        for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
            if (xcrs.xcrs[i].xcr == 0)
                st->xcr0 = xcrs.xcrs[i].value;
    }

    struct kvm_debugregs dr;
    if (ioctl(v->fd, KVM_GET_DEBUGREGS, &dr) < 0)
        return fail_errno(err, len, "KVM_GET_DEBUGREGS");
    memcpy(st->dr, dr.db, sizeof dr.db);
    st->dr[6] = dr.dr6;
    st->dr[7] = dr.dr7;

    struct kvm_vcpu_events ev;
    if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
        return fail_errno(err, len, "KVM_GET_VCPU_EVENTS");
    st->exception = -1;
    if (ev.exception.injected || ev.exception.pending) {
        st->exception = ev.exception.nr;
        st->exception_injected = ev.exception.injected;
        st->exception_has_error = ev.exception.has_error_code;
        st->exception_error = ev.exception.has_error_code ? ev.exception.error_code : 0;
    }
    st->interrupt = ev.interrupt.injected ? ev.interrupt.nr : -1;
    st->interrupt_soft = ev.interrupt.injected && ev.interrupt.soft;
    st->interrupt_shadow = (ev.flags & KVM_VCPUEVENT_VALID_SHADOW) && ev.interrupt.shadow;
    /* An NMI whose injection had begun is delivered again from the start. */
    st->nmi_pending = ev.nmi.pending || ev.nmi.injected;
    st->nmi_masked = ev.nmi.masked;
    st->a20 = true;
    st->halted = v->halted;
    return 0;
}

static int kvm_vcpu_put(KVMVcpu *v, const X86ArchState *st, char *err, size_t len)
{
    KVMAccel *k = v->k;
    if (st->exception < -1 || st->exception > 31 || st->exception == 2) {
        snprintf(err, len, "pending exception vector %d is not an exception", st->exception);
        return -1;
    }
    if (st->xcr0 != XSTATE_X87 && !k->have_xcrs) {
        snprintf(err, len, "XCR0 %#llx: this KVM cannot set XCR0 (no KVM_CAP_XCRS)",
                 (unsigned long long)st->xcr0);
        return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(arch_msrs); i++) {
        const uint64_t *v = (const uint64_t *)((const uint8_t *)st + arch_msrs[i].offset);
        /* TSC and MISC_ENABLE always have a value; a missing one is 0 here. */
        if (!(k->msr_ok & (1u << i)) && *v && arch_msrs[i].index != MSR_IA32_TSC &&
            arch_msrs[i].index != MSR_IA32_MISC_ENABLE) {
            snprintf(err, len, "this KVM has no MSR %s (%#x) to put %#llx into",
                     arch_msrs[i].name, arch_msrs[i].index, (unsigned long long)*v);
            return -1;
        }
    }
    kvm_complete_exit(v);

    struct kvm_sregs s;
    memset(&s, 0, sizeof s);          /* interrupt_bitmap 0: events carry it */
    bool real = !(st->cr0 & CR0_PE) || (st->rflags & EFL_VM);
    struct kvm_segment *segs[R_NB_SEG] = { &s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs,
                                           &s.ldt, &s.tr };
    for (int i = 0; i < R_NB_SEG; i++)
        seg_to_kvm(segs[i], &st->seg[i], real && i < R_LDTR);
    s.gdt.base = st->gdt.base;
    s.gdt.limit = (uint16_t)st->gdt.limit;
    s.idt.base = st->idt.base;
    s.idt.limit = (uint16_t)st->idt.limit;
    s.cr0 = st->cr0;
    s.cr2 = st->cr2;
    s.cr3 = st->cr3;
    s.cr4 = st->cr4;
    s.cr8 = st->cr8;
    s.efer = st->efer;
    s.apic_base = st->apic_base;
    if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
        return fail_errno(err, len, "KVM_SET_SREGS");

    const uint64_t *g = st->regs;
    struct kvm_regs r = {
        .rax = g[R_EAX], .rbx = g[R_EBX], .rcx = g[R_ECX], .rdx = g[R_EDX],
        .rsi = g[R_ESI], .rdi = g[R_EDI], .rsp = g[R_ESP], .rbp = g[R_EBP],
        .r8 = g[8], .r9 = g[9], .r10 = g[10], .r11 = g[11],
        .r12 = g[12], .r13 = g[13], .r14 = g[14], .r15 = g[15],
        .rip = st->rip, .rflags = st->rflags | EFL_FIXED,
    };
    if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
        return fail_errno(err, len, "KVM_SET_REGS");

    struct kvm_msrs *msrs = msrs_new(ARRAY_SIZE(arch_msrs));
    size_t n = 0, which[ARRAY_SIZE(arch_msrs)];
    for (size_t i = 0; i < ARRAY_SIZE(arch_msrs); i++)
        if (k->msr_ok & (1u << i)) {
            which[n] = i;
            msrs->entries[n].index = arch_msrs[i].index;
            msrs->entries[n++].data = *(const uint64_t *)((const uint8_t *)st + arch_msrs[i].offset);
        }
    msrs->nmsrs = (uint32_t)n;
    int set = ioctl(v->fd, KVM_SET_MSRS, msrs);
    int saved_errno = errno;
    uint64_t refused = set >= 0 && (size_t)set < n ? msrs->entries[set].data : 0;
    free(msrs);
    if (set < 0) {
        errno = saved_errno;
        return fail_errno(err, len, "KVM_SET_MSRS");
    }
    if ((size_t)set < n) {
        snprintf(err, len, "KVM_SET_MSRS: MSR %s (%#x) refused %#llx",
                 arch_msrs[which[set]].name, arch_msrs[which[set]].index,
                 (unsigned long long)refused);
        return -1;
    }

    if (k->have_xcrs) {
        struct kvm_xcrs xcrs;
        memset(&xcrs, 0, sizeof xcrs);
        xcrs.nr_xcrs = 1;
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = st->xcr0;
        if (ioctl(v->fd, KVM_SET_XCRS, &xcrs) < 0)
            return fail_errno(err, len, "KVM_SET_XCRS");
    }
    /* The image in standard form with x87 and SSE marked in use
     * (XSTATE_BV 3, XCOMP_BV and the header's reserved bytes 0). */
    struct kvm_xsave xs;
    memset(&xs, 0, sizeof xs);
    uint8_t *img = (uint8_t *)xs.region;
    memcpy(img, st->fxsave, 464);
    uint64_t bv = XSTATE_X87 | XSTATE_SSE;
    memcpy(img + 512, &bv, 8);
    if (ioctl(v->fd, KVM_SET_XSAVE, &xs) < 0)
        return fail_errno(err, len, "KVM_SET_XSAVE");

    struct kvm_debugregs dr;
    memset(&dr, 0, sizeof dr);
    memcpy(dr.db, st->dr, sizeof dr.db);
    dr.dr6 = st->dr[6];
    dr.dr7 = st->dr[7];
    if (ioctl(v->fd, KVM_SET_DEBUGREGS, &dr) < 0)
        return fail_errno(err, len, "KVM_SET_DEBUGREGS");

    /* Without KVM_CAP_EXCEPTION_PAYLOAD (not enabled) KVM knows only
     * "injected" exceptions: a raised one is delivered the same way. */
    struct kvm_vcpu_events ev;
    memset(&ev, 0, sizeof ev);
    if (st->exception >= 0) {
        ev.exception.injected = 1;
        ev.exception.nr = (uint8_t)st->exception;
        ev.exception.has_error_code = st->exception_has_error;
        ev.exception.error_code = st->exception_error;
    }
    if (st->interrupt >= 0) {
        ev.interrupt.injected = 1;
        ev.interrupt.nr = (uint8_t)st->interrupt;
        ev.interrupt.soft = st->interrupt_soft;
    }
    ev.interrupt.shadow = st->interrupt_shadow ? KVM_X86_SHADOW_INT_STI : 0;
    ev.nmi.pending = st->nmi_pending;
    ev.nmi.masked = st->nmi_masked;
    ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | (k->have_shadow ? KVM_VCPUEVENT_VALID_SHADOW : 0);
    if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        return fail_errno(err, len, "KVM_SET_VCPU_EVENTS");
    v->halted = st->halted;
    v->halt_if = (st->rflags & EFL_IF) != 0;
    return 0;
}

static KVMVcpu *kvm_vcpu(KVMAccel *k, int cpu, char *err, size_t len)
{
    if (cpu < 0 || cpu >= k->ncpus) {
        snprintf(err, len, "no CPU %d (the machine has %d)", cpu, k->ncpus);
        return NULL;
    }
    return &k->vcpu[cpu];
}

static int kvm_get_cpu_state(void *acc, int cpu, X86ArchState *st, char *err, size_t len)
{
    KVMVcpu *v = kvm_vcpu(acc, cpu, err, len);
    return v ? kvm_vcpu_get(v, st, err, len) : -1;
}

static int kvm_put_cpu_state(void *acc, int cpu, const X86ArchState *st, char *err, size_t len)
{
    KVMVcpu *v = kvm_vcpu(acc, cpu, err, len);
    return v ? kvm_vcpu_put(v, st, err, len) : -1;
}

/* The local APIC's NMI, INIT and start-up IPIs (the machine's APIC model:
 * KVM has no irqchip here); false while the CPU waits for a start-up IPI. */
static bool kvm_cpu_events(KVMVcpu *v)
{
    KVMAccel *k = v->k;
    Machine *m = k->m;
    if (!m->cpu_ops || !m->cpu_ops->take_events)
        return true;
    int vector = 0;
    unsigned ev = m->cpu_ops->take_events(m->cpu_opaque[v->index], &vector);
    char err[256];
    if (ev & (CPU_EVENT_INIT | CPU_EVENT_SIPI)) {
        X86ArchState s, cur;
        if (kvm_vcpu_get(v, &cur, err, sizeof err) < 0) {
            fprintf(stderr, "vx86: kvm: CPU %d: %s\n", v->index, err);
            return !(ev & CPU_EVENT_WAIT_SIPI);
        }
        s = cur;
        if ((ev & CPU_EVENT_INIT) && accel_reset_state_cpu(m, v->index, &s, err, sizeof err))
            s.tsc = cur.tsc;          /* INIT leaves the time-stamp counter running */
        if (ev & CPU_EVENT_SIPI) {
            s.seg[R_CS].selector = (uint16_t)(vector << 8);
            s.seg[R_CS].base = (uint64_t)vector << 12;
            s.rip = 0;
            s.halted = false;
        }
        if (kvm_vcpu_put(v, &s, err, sizeof err) < 0)
            fprintf(stderr, "vx86: kvm: CPU %d: INIT/SIPI: %s\n", v->index, err);
    }
    if ((ev & CPU_EVENT_NMI) && !(ev & CPU_EVENT_WAIT_SIPI)) {
        if (ioctl(v->fd, KVM_NMI) < 0)
            LOG(LOG_ACCEL, "kvm: KVM_NMI: %s\n", strerror(errno));
        v->halted = false;
    }
    return !(ev & CPU_EVENT_WAIT_SIPI);
}

/* The "cpu" section of a saved machine holds v->shadow: synced out of
 * KVM before a save, put back into KVM after a load. */
static int kvm_sync_shadow(void *opaque, CPUState *cpu, bool to_accel, char *err, size_t len)
{
    KVMVcpu *v = opaque;
    X86ArchState s;
    if (to_accel) {
        cpu_get_arch_state(cpu, &s);
        return kvm_vcpu_put(v, &s, err, len);
    }
    if (kvm_vcpu_get(v, &s, err, len) < 0)
        return -1;
    return cpu_put_arch_state(cpu, &s, err, len);
}

const AccelOps kvm_accel_ops = {
    .name = "kvm",
    .probe = kvm_probe,
    .init = kvm_init,
    .exec = kvm_exec,
    .kick = kvm_kick,
    .get_cpu_state = kvm_get_cpu_state,
    .put_cpu_state = kvm_put_cpu_state,
    .free = kvm_free,
    .threaded = kvm_threaded,
    .cpu_thread_id = kvm_cpu_thread_id,
};
