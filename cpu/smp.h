/*
 * The translator's side of SMP: what several CPUStates of one machine,
 * each run by cpu_exec() on its own host thread, share and tell each other.
 *
 * Each CPU keeps its own block cache, jump cache, code buffer and soft TLB,
 * touched only by the thread running it.  What crosses threads:
 *
 *   - the machine's code-page record (CPUShared.code_cpus): per RAM page a
 *     bit per CPU index that has translated blocks there, set and cleared
 *     with atomics by the owner.  A TLB fill for writing gives the entry
 *     TLB_CODE when any bit is set, so every write to such a page, by any
 *     CPU, takes the slow path; that path invalidates the writer's own
 *     blocks on the written range at once and posts "invalidate the range"
 *     to every other CPU with code on the page.  A CPU whose page gains its
 *     first code machine-wide posts "protect the code page" to the others
 *     (their existing writable entries of the page get TLB_CODE).
 *   - a request mailbox per CPU (cpu_async_request): a mutex-protected
 *     queue the target drains at its next cpu_exec loop iteration, which a
 *     kick (exit budget -1) forces within one block, so a CPU spinning in
 *     chained blocks leaves them.  Identical page requests coalesce; a full
 *     queue degrades to "flush everything", never loses work.
 *   - split_lock: LOCK-prefixed accesses that cannot be one host atomic
 *     (they cross a page, or touch MMIO/ROM) serialise on this machine-wide
 *     mutex (docs/cpu.md, "SMP").  Aligned or not, an access inside one RAM
 *     page is a host lock-prefixed instruction and takes no lock.
 *
 *   cpu_async_request(other, CPU_REQ_FLUSH_TLB, 0);      // from any thread
 *   cpu_request_all(m, CPU_REQ_FLUSH_ALL_TBS, 0);        // every CPU of m
 *
 * Rule: a CPU's caches are only ever changed by its own thread (directly,
 * or by draining its mailbox); other threads post requests.
 */
#ifndef VX86_CPU_SMP_H
#define VX86_CPU_SMP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

typedef enum CPURequest {
    CPU_REQ_INVALIDATE_PHYS,   /* arg: physical address, arg2: length: drop blocks there */
    CPU_REQ_PROTECT_CODE_PAGE, /* arg: physical page now holding code: flag writable entries */
    CPU_REQ_FLUSH_TLB,         /* the whole soft TLB (and jump cache) */
    CPU_REQ_FLUSH_TLB_PAGE,    /* arg: linear address: that page in every mmu index */
    CPU_REQ_FLUSH_ALL_TBS,     /* every translated block */
    CPU_REQ_SET_A20,           /* arg: the A20 line's level (0/1); the latest wins */
    CPU_REQ_NB
} CPURequest;

#define CPU_REQ_QUEUE 32

typedef struct CPUReq {
    uint8_t kind;              /* CPURequest */
    uint64_t arg, arg2;
} CPUReq;

/* The mailbox of one CPU (inside CPUState). */
typedef struct CPUMailbox {
    pthread_mutex_t lock;
    CPUReq q[CPU_REQ_QUEUE];
    unsigned n;
    bool overflow;             /* requests were dropped: flush the TLB and all blocks */
    int a20;                   /* -1: no A20 change pending, else the level */
    int pending;               /* read without the lock by the loop (atomic) */
    uint64_t posted;           /* requests posted so far (under the lock) */
    uint64_t done;             /* of those, carried out (atomic) */
} CPUMailbox;

/* Machine-wide state of the translator's CPUs (Machine.cpu_shared). */
typedef struct CPUShared {
    Machine *m;
    int refs;                  /* CPUs attached */
    pthread_mutex_t split_lock;
    uint64_t *code_cpus;       /* per RAM page: bit i = CPU index i has blocks there */
    uint64_t *code_chunks;     /* per RAM page: 64-byte chunks that held code (only grow) */
    uint64_t npages;
    size_t map_len;
} CPUShared;

/* ---- public API (board, accelerators, tests; any thread) ---- */

/* Posts a request to target and kicks it: running translated code leaves
 * its chain of blocks at the next block entry, and the loop carries the
 * request out before running anything else.  A CPU outside cpu_exec
 * carries it out when cpu_exec next starts.  Thread-safe. */
void cpu_async_request(CPUState *target, CPURequest kind, uint64_t arg);
/* The same to every translated CPU of m. */
void cpu_request_all(Machine *m, CPURequest kind, uint64_t arg);
/* Whether requests are waiting for cpu (cheap; any thread). */
bool cpu_has_requests(CPUState *cpu);

/* ---- internal (cpu/) ---- */

/* Attaches cpu to its machine's CPUShared (creating it for the first
 * CPU) and initialises its mailbox; detach undoes it (the last CPU frees
 * the record).  Called from cpu_exec_init / cpu_exec_destroy, before any
 * vCPU thread runs and after they all stopped. */
void smp_attach(CPUState *cpu);
void smp_detach(CPUState *cpu);
/* Carries out cpu's pending requests.  Only on cpu's own thread, outside
 * translated code (or from a slow path of its own, as SMC does). */
void smp_process_requests(CPUState *cpu);
/* Whether the calling thread is the one running cpu inside cpu_exec. */
bool smp_on_cpu_thread(CPUState *cpu);
/* Whether cpu belongs to another thread (its last cpu_exec ran on one):
 * then its caches may only be changed through its mailbox.  A CPU that
 * never ran, or last ran on this thread, may be changed directly. */
bool smp_cpu_elsewhere(CPUState *cpu);

/* The code-page record.  Page gained its first / lost its last block of
 * cpu (tb.c's page_code_changed): remove returns whether no CPU has code
 * on the page any more. */
void smp_code_page_add(CPUState *cpu, uint64_t phys_page);
bool smp_code_page_remove(CPUState *cpu, uint64_t phys_page);
/* After a block was inserted: when one of its pages held no code of any
 * CPU before, waits until every other CPU running translated code has
 * flagged its writable TLB entries of the page (drained the "protect"
 * request), carrying out cpu's own requests meanwhile.  Then a store by
 * any CPU to the block's bytes takes the slow path and reaches cpu. */
void smp_wait_code_protected(CPUState *cpu);
/* Notes the code bytes [phys, phys+len) of a new block (one page). */
void smp_code_bytes_add(CPUState *cpu, uint64_t phys, uint64_t len);
/* Does any CPU have code on the RAM page at host offset ram_off? */
bool smp_ram_page_has_code(CPUState *cpu, uint64_t ram_off);
/* After cpu wrote [phys, phys+len) of a code page (its own blocks are
 * already invalidated): posts the invalidation to the other CPUs with
 * code there.  host: the written bytes in RAM. */
void smp_code_written(CPUState *cpu, const uint8_t *host, uint64_t phys, uint64_t len);

/* PAUSE on a CPU with a host thread of its own (gen_PAUSE).  A guest CPU
 * spinning for a lock usually waits for a CPU whose host thread the host
 * preempted (more runnable threads than host cores): after
 * SMP_PAUSE_SPIN_NS of back-to-back PAUSEs the thread yields its host
 * core (sched_yield), as pause-loop exiting does for hardware guests. */
#define SMP_PAUSE_GAP_NS 5000        /* PAUSEs closer than this: one spin */
#define SMP_PAUSE_SPIN_NS 50000      /* a spin this long yields the host core */
void smp_pause(CPUState *cpu);

/* The split-atomic lock.  Taken with smp_split_lock; a guest exception
 * while it is held is released by the loop (cpu->split_locked). */
void smp_split_lock(CPUState *cpu);
void smp_split_unlock(CPUState *cpu);

#endif
