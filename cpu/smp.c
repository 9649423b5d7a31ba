/*
 * The translator's SMP machinery: the machine-wide record of pages holding
 * translated code, the per-CPU request mailbox and the split-atomic lock.
 * See cpu/smp.h for the rules.
 *
 * Ordering of cross-CPU self-modifying code: a writer stores the bytes,
 * then (sequentially consistent fence) reads the page's code bits and
 * posts to the CPUs it finds; the mailbox mutex orders the post before the
 * target's re-translation, which therefore reads the new bytes.  Writers
 * whose TLB entry of the page was filled before it held code get the
 * "protect" request, and the translating CPU waits until they carried it
 * out before it runs the new block (smp_wait_code_protected).
 */
#include "cpu/smp.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/util.h"
#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "tcg/tb.h"

static uint64_t mbox_post(CPUState *target, CPURequest kind, uint64_t arg);

/* ---- the machine-wide record ---- */

static uint64_t chunk_mask(uint64_t off, uint64_t len);

/* [phys, phys+len), inside RAM page idx, was written: every CPU but skip
 * with code on the page drops its blocks there, unless the bytes never
 * held code (data beside code costs no cross-CPU traffic). */
static void post_code_write(CPUShared *sh, uint64_t idx, uint64_t phys, uint64_t len,
                            const CPUState *skip)
{
    Machine *m = sh->m;
    uint64_t mask = __atomic_load_n(&sh->code_cpus[idx], __ATOMIC_SEQ_CST);
    if (skip)
        mask &= ~(1ULL << (skip->index & 63));
    if (!mask)
        return;
    uint64_t off = phys & ~TLB_PAGE_MASK;
    if (!(__atomic_load_n(&sh->code_chunks[idx], __ATOMIC_SEQ_CST) & chunk_mask(off, len)))
        return;
    for (int i = 0; mask && i < 64; i++, mask >>= 1)
        if ((mask & 1) && m->cpus[i] && m->cpus[i]->mbox)
            cpu_async_request(m->cpus[i], CPU_REQ_INVALIDATE_PHYS, phys & TLB_PAGE_MASK);
}

/* DMA and loader writes (the memory map's write notify): every CPU with
 * blocks on the written bytes gets the invalidation. */
static void smp_mem_write_notify(void *opaque, uint64_t addr, size_t len)
{
    CPUShared *sh = opaque;
    Machine *m = sh->m;
    if (!len)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);    /* the bytes are written: now look */
    uint64_t end = addr + len;
    for (uint64_t p = addr & TLB_PAGE_MASK; p < end; p += TLB_PAGE_SIZE) {
        uint64_t lo = p < addr ? addr : p;
        uint64_t hi = end - p < TLB_PAGE_SIZE ? end : p + TLB_PAGE_SIZE;
        bool ram;
        uint8_t *host = memmap_host_ptr_rw(m->mem, p, TLB_PAGE_SIZE, &ram);
        if (!host || host < m->ram || host >= m->ram + m->ram_size)
            continue;
        post_code_write(sh, (uint64_t)(host - m->ram) >> TLB_PAGE_BITS, lo, hi - lo, NULL);
    }
}

static CPUShared *shared_new(Machine *m)
{
    CPUShared *sh = xcalloc(1, sizeof(*sh));
    sh->m = m;
    pthread_mutex_init(&sh->split_lock, NULL);
    sh->npages = (m->ram_size + TLB_PAGE_SIZE - 1) >> TLB_PAGE_BITS;
    /* Two words per RAM page, mapped lazily: only pages that ever held
     * code cost memory. */
    sh->map_len = (size_t)sh->npages * 2 * sizeof(uint64_t);
    if (sh->map_len) {
        void *p = mmap(NULL, sh->map_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            abort();
        sh->code_cpus = p;
        sh->code_chunks = sh->code_cpus + sh->npages;
    }
    if (m->mem)
        memmap_set_write_notify(m->mem, smp_mem_write_notify, sh);
    return sh;
}

static void shared_free(CPUShared *sh)
{
    if (sh->m->mem)
        memmap_set_write_notify(sh->m->mem, NULL, NULL);
    if (sh->map_len)
        munmap(sh->code_cpus, sh->map_len);
    pthread_mutex_destroy(&sh->split_lock);
    free(sh);
}

void smp_attach(CPUState *cpu)
{
    CPUMailbox *mb = xcalloc(1, sizeof(*mb));
    pthread_mutex_init(&mb->lock, NULL);
    mb->a20 = -1;
    cpu->mbox = mb;
    Machine *m = cpu->machine;
    if (!m)
        return;
    if (!m->cpu_shared)
        m->cpu_shared = shared_new(m);
    m->cpu_shared->refs++;
}

void smp_detach(CPUState *cpu)
{
    Machine *m = cpu->machine;
    if (m && m->cpu_shared && --m->cpu_shared->refs == 0) {
        shared_free(m->cpu_shared);
        m->cpu_shared = NULL;
    }
    if (cpu->mbox) {
        pthread_mutex_destroy(&cpu->mbox->lock);
        free(cpu->mbox);
        cpu->mbox = NULL;
    }
}

/* Index of a physical page in the record, or -1 when it is not RAM. */
static int64_t page_index(CPUShared *sh, uint64_t phys_page)
{
    Machine *m = sh->m;
    bool ram;
    uint8_t *host = memmap_host_ptr_rw(m->mem, phys_page & TLB_PAGE_MASK, TLB_PAGE_SIZE, &ram);
    if (!host || host < m->ram || host >= m->ram + m->ram_size)
        return -1;
    return (int64_t)((uint64_t)(host - m->ram) >> TLB_PAGE_BITS);
}

static uint64_t cpu_bit(const CPUState *cpu)
{
    return 1ULL << (cpu->index & 63);
}

void smp_code_page_add(CPUState *cpu, uint64_t phys_page)
{
    CPUShared *sh = cpu->machine ? cpu->machine->cpu_shared : NULL;
    if (!sh)
        return;
    int64_t idx = page_index(sh, phys_page);
    if (idx < 0)
        return;
    uint64_t old = __atomic_fetch_or(&sh->code_cpus[idx], cpu_bit(cpu), __ATOMIC_SEQ_CST);
    if (old & ~cpu_bit(cpu))
        return;     /* another CPU has code here: every TLB already learnt it */
    /* First code on the page: writable entries the other CPUs filled
     * before now must take the slow path too (smp_wait_code_protected
     * waits for that before the new block runs). */
    Machine *m = cpu->machine;
    for (int i = 0; i < 64; i++) {
        CPUState *t = m->cpus[i];
        if (!t || t == cpu || !t->mbox)
            continue;
        cpu->protect_ticket[i] = mbox_post(t, CPU_REQ_PROTECT_CODE_PAGE, phys_page & TLB_PAGE_MASK);
        cpu->protect_wait = true;
    }
}

/* Pause-loop rounds smp_wait_code_protected spins before it yields. */
#define SMP_WAIT_SPINS 2000

void smp_wait_code_protected(CPUState *cpu)
{
    if (!cpu->protect_wait)
        return;
    cpu->protect_wait = false;
    Machine *m = cpu->machine;
    for (int i = 0; i < 64; i++) {
        uint64_t ticket = cpu->protect_ticket[i];
        CPUState *t = m->cpus[i];
        cpu->protect_ticket[i] = 0;
        if (!ticket || !t)
            continue;
        /* A CPU outside cpu_exec drains its mailbox before it runs any
         * guest store; one inside reaches a block boundary soon (it was
         * kicked) unless the host preempted its thread: after a short
         * spin this thread yields its host core, which that thread may
         * be waiting for (with more vCPUs than host cores, always).
         * Meanwhile this CPU serves its own mailbox: the other one may be
         * waiting for us the same way. */
        unsigned spins = 0;
        while (__atomic_load_n(&t->mbox->done, __ATOMIC_SEQ_CST) < ticket &&
               __atomic_load_n(&t->in_exec, __ATOMIC_SEQ_CST)) {
            smp_process_requests(cpu);
            if (++spins < SMP_WAIT_SPINS)
                __builtin_ia32_pause();
            else
                sched_yield();
        }
    }
}

bool smp_code_page_remove(CPUState *cpu, uint64_t phys_page)
{
    CPUShared *sh = cpu->machine ? cpu->machine->cpu_shared : NULL;
    if (!sh)
        return true;
    int64_t idx = page_index(sh, phys_page);
    if (idx < 0)
        return true;
    return __atomic_and_fetch(&sh->code_cpus[idx], ~cpu_bit(cpu), __ATOMIC_SEQ_CST) == 0;
}

/* The 64-byte chunks of a page that [off, off+len) touches. */
static uint64_t chunk_mask(uint64_t off, uint64_t len)
{
    unsigned lo = (unsigned)(off >> 6), hi = (unsigned)((off + len - 1) >> 6);
    uint64_t upto = hi >= 63 ? ~0ULL : (2ULL << hi) - 1;
    return upto & ~((1ULL << lo) - 1);
}

void smp_code_bytes_add(CPUState *cpu, uint64_t phys, uint64_t len)
{
    CPUShared *sh = cpu->machine ? cpu->machine->cpu_shared : NULL;
    if (!sh || !len)
        return;
    int64_t idx = page_index(sh, phys);
    if (idx < 0)
        return;
    uint64_t off = phys & ~TLB_PAGE_MASK;
    if (off + len > TLB_PAGE_SIZE)
        len = TLB_PAGE_SIZE - off;
    __atomic_fetch_or(&sh->code_chunks[idx], chunk_mask(off, len), __ATOMIC_SEQ_CST);
}

bool smp_ram_page_has_code(CPUState *cpu, uint64_t ram_off)
{
    CPUShared *sh = cpu->machine ? cpu->machine->cpu_shared : NULL;
    uint64_t idx = ram_off >> TLB_PAGE_BITS;
    if (!sh || idx >= sh->npages)
        return false;
    return __atomic_load_n(&sh->code_cpus[idx], __ATOMIC_SEQ_CST) != 0;
}

void smp_code_written(CPUState *cpu, const uint8_t *host, uint64_t phys, uint64_t len)
{
    Machine *m = cpu->machine;
    CPUShared *sh = m ? m->cpu_shared : NULL;
    if (!sh || host < m->ram || host >= m->ram + m->ram_size)
        return;
    /* The store is done; only now look who has code (see the top). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    post_code_write(sh, (uint64_t)(host - m->ram) >> TLB_PAGE_BITS, phys, len, cpu);
}

/* ---- the mailbox ---- */

static void mbox_kick(CPUState *cpu)
{
    /* as cpu_interrupt_request, without asking for an interrupt poll */
    __atomic_store_n(&cpu->exit_budget, -1, __ATOMIC_SEQ_CST);
}

/* Merges r into a pending request of the same kind and page, if any. */
static bool mbox_coalesce(CPUMailbox *mb, CPURequest kind, uint64_t arg)
{
    for (unsigned i = 0; i < mb->n; i++) {
        CPUReq *q = &mb->q[i];
        if (q->kind != kind)
            continue;
        switch (kind) {
        case CPU_REQ_INVALIDATE_PHYS:
        case CPU_REQ_PROTECT_CODE_PAGE:
            if ((q->arg & TLB_PAGE_MASK) == (arg & TLB_PAGE_MASK))
                return true;
            break;
        case CPU_REQ_FLUSH_TLB_PAGE:
            if ((q->arg & TLB_PAGE_MASK) == (arg & TLB_PAGE_MASK))
                return true;
            break;
        default:
            return true;    /* whole flushes: one is enough */
        }
    }
    return false;
}

/* Posts and kicks; returns the request's ticket (done >= ticket: carried
 * out), 0 when nothing was posted. */
static uint64_t mbox_post(CPUState *target, CPURequest kind, uint64_t arg)
{
    CPUMailbox *mb = target->mbox;
    if (!mb || kind >= CPU_REQ_NB)
        return 0;
    pthread_mutex_lock(&mb->lock);
    if (kind == CPU_REQ_SET_A20) {
        mb->a20 = arg != 0;
    } else if (!mb->overflow && !mbox_coalesce(mb, kind, arg)) {
        if (mb->n < CPU_REQ_QUEUE) {
            /* a page invalidation drops the whole page: a later write
             * elsewhere on it finds the request pending and merges */
            mb->q[mb->n++] = (CPUReq){ (uint8_t)kind, arg, 0 };
        } else {
            mb->overflow = true;
        }
    }
    uint64_t ticket = ++mb->posted;
    __atomic_store_n(&mb->pending, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&mb->lock);
    mbox_kick(target);
    return ticket;
}

void cpu_async_request(CPUState *target, CPURequest kind, uint64_t arg)
{
    mbox_post(target, kind, arg);
}

void cpu_request_all(Machine *m, CPURequest kind, uint64_t arg)
{
    for (int i = 0; i < 64; i++)
        if (m->cpus[i] && m->cpus[i]->mbox)
            cpu_async_request(m->cpus[i], kind, arg);
}

bool cpu_has_requests(CPUState *cpu)
{
    return cpu->mbox && __atomic_load_n(&cpu->mbox->pending, __ATOMIC_SEQ_CST);
}

static void smp_do_request(CPUState *cpu, const CPUReq *r)
{
    switch ((CPURequest)r->kind) {
    case CPU_REQ_INVALIDATE_PHYS:
        if (cpu->tbs)
            tb_invalidate_phys_range(cpu->tbs, r->arg & TLB_PAGE_MASK, TLB_PAGE_SIZE);
        break;
    case CPU_REQ_PROTECT_CODE_PAGE:
        mmu_set_code_page(cpu, r->arg, true);
        break;
    case CPU_REQ_FLUSH_TLB:
        mmu_flush_all(cpu);
        break;
    case CPU_REQ_FLUSH_TLB_PAGE:
        mmu_flush_page(cpu, r->arg);
        break;
    case CPU_REQ_FLUSH_ALL_TBS:
        cpu_flush_code(cpu);
        break;
    default:
        break;
    }
}

void smp_process_requests(CPUState *cpu)
{
    CPUMailbox *mb = cpu->mbox;
    if (!mb || !__atomic_load_n(&mb->pending, __ATOMIC_SEQ_CST))
        return;
    CPUReq q[CPU_REQ_QUEUE];
    pthread_mutex_lock(&mb->lock);
    unsigned n = mb->n;
    memcpy(q, mb->q, n * sizeof(q[0]));
    bool overflow = mb->overflow;
    int a20 = mb->a20;
    uint64_t posted = mb->posted;
    mb->n = 0;
    mb->overflow = false;
    mb->a20 = -1;
    __atomic_store_n(&mb->pending, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&mb->lock);
    if (a20 >= 0)
        cpu_set_a20_now(cpu, a20 != 0);
    if (overflow) {
        /* lost track of what was asked: everything a request can ask */
        mmu_flush_all(cpu);
        cpu_flush_code(cpu);
    } else {
        for (unsigned i = 0; i < n; i++)
            smp_do_request(cpu, &q[i]);
    }
    __atomic_store_n(&mb->done, posted, __ATOMIC_SEQ_CST);
}

bool smp_on_cpu_thread(CPUState *cpu)
{
    return __atomic_load_n(&cpu->in_exec, __ATOMIC_SEQ_CST) &&
           pthread_equal(cpu->exec_thread, pthread_self());
}

bool smp_cpu_elsewhere(CPUState *cpu)
{
    return cpu->mbox && __atomic_load_n(&cpu->exec_thread_set, __ATOMIC_SEQ_CST) &&
           !pthread_equal(cpu->exec_thread, pthread_self());
}

/* ---- PAUSE spins ---- */

void smp_pause(CPUState *cpu)
{
    uint64_t now = (uint64_t)host_monotonic_ns();
    if (now - cpu->pause_last_ns > SMP_PAUSE_GAP_NS)
        cpu->pause_streak_ns = now;        /* a new spin begins */
    cpu->pause_last_ns = now;
    if (now - cpu->pause_streak_ns < SMP_PAUSE_SPIN_NS)
        return;
    sched_yield();
    cpu->pause_host_yields++;
    cpu->pause_streak_ns = cpu->pause_last_ns = (uint64_t)host_monotonic_ns();
}

/* ---- split atomics ---- */

void smp_split_lock(CPUState *cpu)
{
    CPUShared *sh = cpu->machine ? cpu->machine->cpu_shared : NULL;
    if (!sh)
        return;
    pthread_mutex_lock(&sh->split_lock);
    cpu->split_locked = true;
}

void smp_split_unlock(CPUState *cpu)
{
    if (!cpu->split_locked)
        return;
    cpu->split_locked = false;
    pthread_mutex_unlock(&cpu->machine->cpu_shared->split_lock);
}
