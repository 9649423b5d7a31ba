/*
 * SMP guest probe (tests/system/smp.py), built statically and run both
 * natively and inside the Linux guest; every line it prints must be the
 * same in both places.
 *
 *   smpprobe probe          faults, signals, fork, pipes, threads: what a
 *                           CPU must get right on its own (the guest runs it
 *                           pinned to each CPU in turn with taskset)
 *   smpprobe stress N       N rounds of work that needs the CPUs to agree:
 *                           LOCK ADD/XADD/CMPXCHG/CMPXCHG16B on shared
 *                           counters, a seqlock, futex ping-pong, mmap /
 *                           mprotect / munmap while other threads run
 *                           (TLB shootdowns), one thread rewriting code
 *                           another runs.  Prints exact totals.
 *   smpprobe compute SECS   the stress threads' compute phase for SECS
 *                           seconds of wall time (a speed figure; its
 *                           output is not compared)
 *   smpprobe work BLOCKS T  the same arithmetic as a fixed amount of work,
 *                           BLOCKS blocks shared by T threads; prints the
 *                           combined hash (bench/run.py's compute-2x row
 *                           times it)
 *
 * Output never depends on timing or on how many CPUs there are: threads
 * synchronise on results, not on luck.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 4

/* ---- probe: faults and signals ---- */

static sigjmp_buf fault_env;
static volatile int fault_sig, fault_code;
static volatile uintptr_t fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_sig = sig;
    fault_code = si->si_code;
    fault_addr = (uintptr_t)si->si_addr;
    siglongjmp(fault_env, 1);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

static volatile int zero;
/* An address in the never-mapped first page (a variable: the compiler
 * must not see a constant null access). */
static volatile int *volatile null_page = (volatile int *)16;

static void probe_faults(void)
{
    catch_signals();
    static const char *const names[] = { "null write", "protected write", "divide by zero",
                                         "ud2", "int3", "unmapped read" };
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    /* Locals that live across siglongjmp are volatile. */
    for (volatile int t = 0; t < 6; t++) {
        fault_sig = 0;
        volatile uintptr_t expect = 0;
        if (sigsetjmp(fault_env, 1) == 0) {
            switch (t) {
            case 0: expect = 16; *null_page = 1; break;
            case 1: expect = (uintptr_t)ro + 8; ((volatile char *)ro)[8] = 1; break;
            case 2: { volatile int r = 7 / zero; (void)r; break; }
            case 3: __asm__ volatile("ud2"); break;
            case 4: __asm__ volatile("int3"); break;
            case 5: expect = (uintptr_t)gone + 100; { volatile char c = gone[100]; (void)c; } break;
            }
        }
        /* Fault addresses of data accesses are the address touched; for
         * the others (an instruction's address) only that it is set. */
        printf("fault %s: signal %d code %d addr %s\n", names[t], fault_sig, fault_code,
               expect ? (fault_addr == expect ? "exact" : "WRONG") : (fault_addr ? "set" : "none"));
    }
    munmap(ro, 4096);
}

static volatile int alarms;

static void on_usr1(int sig)
{
    (void)sig;
    alarms++;
}

static void probe_signals(void)
{
    signal(SIGUSR1, on_usr1);
    for (int i = 0; i < 100; i++)
        raise(SIGUSR1);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    int before = alarms;
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("signals: %d delivered, blocked one held back: %s, then delivered: %s\n", before,
           before == 100 ? "yes" : "no", alarms == 101 ? "yes" : "no");
}

/* ---- probe: fork and pipes ---- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void probe_fork(void)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("pipe");
        return;
    }
    pid_t pids[8];
    for (int i = 0; i < 8; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            uint64_t h = (uint64_t)i;
            for (int k = 0; k < 200000; k++)
                h = mix(h + (uint64_t)k);
            /* Writes under PIPE_BUF are atomic: records do not interleave. */
            char line[64];
            int n = snprintf(line, sizeof line, "%d %016llx\n", i, (unsigned long long)h);
            if (write(fds[1], line, (size_t)n) != n)
                _exit(100);
            _exit(i * 3 + 1);
        }
    }
    close(fds[1]);
    int status_sum = 0;
    for (int i = 0; i < 8; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        status_sum += WIFEXITED(st) ? WEXITSTATUS(st) : 1000;
    }
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(fds[0]);
    /* Children finish in any order: sum the records, not their order. */
    uint64_t sum = 0;
    int lines = 0;
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"), lines++)
        sum += mix(strtoull(strchr(p, ' ') + 1, NULL, 16) + (uint64_t)atoi(p));
    printf("fork: 8 children, exit statuses sum %d, %d records, checksum %016llx\n",
           status_sum, lines, (unsigned long long)sum);
}

/* ---- probe: threads ---- */

static pthread_mutex_t tmu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t t_shared;
static pthread_barrier_t tbar;

static void *probe_thread(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t local = 0;
    for (int i = 0; i < 20000; i++) {
        local = mix(local + id * 1000003u + (uint64_t)i);
        pthread_mutex_lock(&tmu);
        t_shared += local & 0xffff;
        pthread_mutex_unlock(&tmu);
    }
    pthread_barrier_wait(&tbar);
    return (void *)(uintptr_t)(local & 0xffffffff);
}

static void probe_threads(void)
{
    pthread_t th[NTHREADS];
    pthread_barrier_init(&tbar, NULL, NTHREADS);
    for (uintptr_t i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, probe_thread, (void *)i);
    uint64_t x = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        x = x * 31 + (uintptr_t)r;
    }
    printf("threads: %d joined, shared sum %llu, results %016llx\n", NTHREADS,
           (unsigned long long)t_shared, (unsigned long long)x);
}

/* ---- stress ---- */

#define FUTEX_ROUNDS 1000
#define CODE_PATCHES 200

static struct {
    uint64_t add, xadd_sum, cas;
    __int128 wide __attribute__((aligned(16)));
    uint32_t seq;
    uint64_t a, b;                     /* seqlock data: b == ~a always */
    int futex_turn;
    int go, stop;
} sh __attribute__((aligned(64)));

static uint64_t seq_bad, seq_reads;
static pthread_barrier_t sbar;

static long futex(int *uaddr, int op, int val)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* LOCK CMPXCHG16B: *p == hi:lo ? *p = nhi:nlo : hi:lo = *p. */
static bool cas16(volatile __int128 *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
    bool ok;
    __asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
                     : "=q"(ok), "+m"(*p), "+a"(*lo), "+d"(*hi)
                     : "b"(nlo), "c"(nhi)
                     : "cc", "memory");
    return ok;
}

static void lock_ops(uintptr_t id, uint64_t *checksum)
{
    for (int i = 0; i < 20000; i++) {
        __atomic_fetch_add(&sh.add, 1, __ATOMIC_SEQ_CST);                /* lock add */
        uint64_t before = __atomic_fetch_add(&sh.xadd_sum, id + 1, __ATOMIC_SEQ_CST);
        *checksum += before & 1;                                         /* lock xadd */
        uint64_t v = __atomic_load_n(&sh.cas, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&sh.cas, &v, v + 2, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))           /* lock cmpxchg */
            ;
        /* lock cmpxchg16b: both halves move together */
        uint64_t lo = 0, hi = 0;
        while (!cas16(&sh.wide, &lo, &hi, lo + 1, hi + 1))
            ;
    }
}

static void seqlock_write(int rounds)
{
    for (int i = 1; i <= rounds; i++) {
        __atomic_fetch_add(&sh.seq, 1, __ATOMIC_ACQ_REL);
        __atomic_store_n(&sh.a, (uint64_t)i, __ATOMIC_RELAXED);
        __atomic_store_n(&sh.b, ~(uint64_t)i, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sh.seq, 1, __ATOMIC_ACQ_REL);
    }
}

static void seqlock_read(int rounds)
{
    uint64_t bad = 0;
    for (int i = 0; i < rounds; i++) {
        uint32_t s;
        uint64_t a, b;
        do {
            s = __atomic_load_n(&sh.seq, __ATOMIC_ACQUIRE);
            a = __atomic_load_n(&sh.a, __ATOMIC_RELAXED);
            b = __atomic_load_n(&sh.b, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
        } while ((s & 1) || s != __atomic_load_n(&sh.seq, __ATOMIC_RELAXED));
        bad += b != ~a;
    }
    __atomic_fetch_add(&seq_bad, bad, __ATOMIC_RELAXED);
    __atomic_fetch_add(&seq_reads, (uint64_t)rounds, __ATOMIC_RELAXED);
}

/* Two threads hand a turn back and forth through futex wait/wake. */
static int futex_pingpong(int me)
{
    int seen = 0;
    for (int i = 0; i < FUTEX_ROUNDS; i++) {
        while (__atomic_load_n(&sh.futex_turn, __ATOMIC_ACQUIRE) != me)
            futex(&sh.futex_turn, FUTEX_WAIT_PRIVATE, !me);
        seen++;
        __atomic_store_n(&sh.futex_turn, !me, __ATOMIC_RELEASE);
        futex(&sh.futex_turn, FUTEX_WAKE_PRIVATE, 1);
    }
    return seen;
}

/* Maps, writes, protects, reads, unmaps: each munmap/mprotect of pages
 * other threads of the process may have cached is a TLB shootdown. */
static uint64_t mm_churn(uintptr_t id, int rounds)
{
    uint64_t sum = 0;
    for (int i = 0; i < rounds; i++) {
        size_t len = 4096u * (1 + (unsigned)(i % 4));
        uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return ~0ULL;
        for (size_t k = 0; k < len; k += 512)
            p[k] = (uint8_t)(id + (uintptr_t)i + k);
        mprotect(p, len, PROT_READ);
        for (size_t k = 0; k < len; k += 512)
            sum += p[k];
        munmap(p, len);
    }
    return sum;
}

/* Code one thread rewrites while another runs it: mov eax, imm32; ret. */
static uint8_t *code;

static void patch_code(uint32_t v)
{
    uint8_t insn[8] = { 0xb8, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                        (uint8_t)(v >> 24), 0xc3, 0x90, 0x90 };
    uint64_t word;
    memcpy(&word, insn, 8);
    __atomic_store_n((uint64_t *)code, word, __ATOMIC_RELEASE);   /* one 8-byte store */
}

static void *stress_thread(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t checksum = 0;
    pthread_barrier_wait(&sbar);
    lock_ops(id, &checksum);
    pthread_barrier_wait(&sbar);
    if (id == 0)
        seqlock_write(20000);
    else
        seqlock_read(5000);
    pthread_barrier_wait(&sbar);
    int pings = id < 2 ? futex_pingpong((int)id) : 0;
    pthread_barrier_wait(&sbar);
    uint64_t mm = mm_churn(id, 200);
    pthread_barrier_wait(&sbar);
    /* Thread 0 rewrites the function through values 1..CODE_PATCHES and waits
     * until thread 1 has seen each; thread 1 calls it until it returns
     * what thread 0 wrote last. */
    int code_ok = 1;
    if (id == 0) {
        for (uint32_t v = 1; v <= CODE_PATCHES; v++) {
            patch_code(v);
            __atomic_store_n(&sh.go, (int)v, __ATOMIC_RELEASE);
            while (__atomic_load_n(&sh.stop, __ATOMIC_ACQUIRE) != (int)v)
                sched_yield();
        }
    } else if (id == 1) {
        uint32_t (*fn)(void) = (uint32_t (*)(void))code;
        for (int v = 1; v <= CODE_PATCHES; v++) {
            while (__atomic_load_n(&sh.go, __ATOMIC_ACQUIRE) != v)
                sched_yield();
            uint32_t r;
            long spins = 0;
            while ((r = fn()) != (uint32_t)v && ++spins < 100000000L) {
                if (r > (uint32_t)v)
                    code_ok = 0;
            }
            code_ok &= r == (uint32_t)v;
            __atomic_store_n(&sh.stop, v, __ATOMIC_RELEASE);
        }
    }
    pthread_barrier_wait(&sbar);
    uint64_t *res = malloc(4 * sizeof(uint64_t));
    res[0] = checksum;
    res[1] = (uint64_t)pings;
    res[2] = mm;
    res[3] = (uint64_t)code_ok;
    return res;
}

static int stress(int rounds)
{
    code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap code");
        return 1;
    }
    int failures = 0;
    for (int r = 1; r <= rounds; r++) {
        memset(&sh, 0, sizeof sh);
        sh.b = ~(uint64_t)0;               /* the seqlock's pair starts consistent */
        seq_bad = seq_reads = 0;
        patch_code(0);
        pthread_t th[NTHREADS];
        pthread_barrier_init(&sbar, NULL, NTHREADS);
        for (uintptr_t i = 0; i < NTHREADS; i++)
            pthread_create(&th[i], NULL, stress_thread, (void *)i);
        uint64_t checksums = 0, pings = 0, mm = 0, code_ok = 1;
        for (int i = 0; i < NTHREADS; i++) {
            uint64_t *res;
            pthread_join(th[i], (void **)&res);
            checksums += res[0];
            pings += res[1];
            mm += res[2];
            code_ok &= res[3];
            free(res);
        }
        pthread_barrier_destroy(&sbar);
        uint64_t n = 20000ULL * NTHREADS;
        /* xadd: thread i adds i+1, 20000 times */
        uint64_t xsum = 20000ULL * (NTHREADS * (NTHREADS + 1) / 2);
        int ok = sh.add == n && sh.xadd_sum == xsum && sh.cas == 2 * n &&
                 (uint64_t)sh.wide == n && (uint64_t)(sh.wide >> 64) == n &&
                 seq_bad == 0 && seq_reads == 5000ULL * (NTHREADS - 1) &&
                 pings == 2 * FUTEX_ROUNDS && code_ok;
        failures += !ok;
        if (!ok || r == rounds)
            printf("stress round %d: lock add %llu xadd %llu cmpxchg %llu cmpxchg16b %llu/%llu "
                   "seqlock torn %llu of %llu, futex %llu, mm %016llx, code %s: %s\n", r,
                   (unsigned long long)sh.add, (unsigned long long)sh.xadd_sum,
                   (unsigned long long)sh.cas, (unsigned long long)(uint64_t)sh.wide,
                   (unsigned long long)(uint64_t)(sh.wide >> 64), (unsigned long long)seq_bad,
                   (unsigned long long)seq_reads, (unsigned long long)pings,
                   (unsigned long long)mm, code_ok ? "seen" : "STALE", ok ? "ok" : "WRONG");
        /* The xadd parities depend on interleaving: only their being
         * counted is checked (every thread ran 20000 of them). */
        (void)checksums;
    }
    printf("stress: %d rounds, %d wrong\n", rounds, failures);
    return failures != 0;
}

/* ---- compute: the stress threads' arithmetic, timed ---- */

static volatile int compute_stop;

static void *compute_thread(void *arg)
{
    uint64_t h = (uintptr_t)arg, n = 0;
    while (!__atomic_load_n(&compute_stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < 10000; i++)
            h = mix(h + (uint64_t)i);
        n++;
    }
    return (void *)(uintptr_t)(n + (h & 1));
}

static int compute(int secs, int nthreads)
{
    pthread_t th[64];
    if (nthreads < 1 || nthreads > 64)
        nthreads = 1;
    for (intptr_t i = 0; i < nthreads; i++)
        pthread_create(&th[i], NULL, compute_thread, (void *)i);
    sleep((unsigned)secs);
    compute_stop = 1;
    uint64_t total = 0;
    for (int i = 0; i < nthreads; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (uintptr_t)r;
    }
    printf("compute: %d threads, %llu blocks in %d s\n", nthreads, (unsigned long long)total, secs);
    return 0;
}

/* Fixed work: each of nthreads threads runs its share of the blocks. */
typedef struct WorkShare { uint64_t seed, blocks, hash; } WorkShare;

static void *work_thread(void *arg)
{
    WorkShare *w = arg;
    uint64_t h = w->seed;
    for (uint64_t n = 0; n < w->blocks; n++)
        for (int i = 0; i < 10000; i++)
            h = mix(h + (uint64_t)i);
    w->hash = h;
    return NULL;
}

static int work(long blocks, int nthreads)
{
    pthread_t th[64];
    WorkShare w[64];
    if (nthreads < 1 || nthreads > 64 || blocks < nthreads)
        return 2;
    for (int i = 0; i < nthreads; i++) {
        w[i] = (WorkShare){ (uint64_t)i, (uint64_t)(blocks / nthreads), 0 };
        pthread_create(&th[i], NULL, work_thread, &w[i]);
    }
    uint64_t total = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        total ^= w[i].hash;
    }
    printf("work: %ld blocks, %d threads, hash %016llx\n", blocks, nthreads,
           (unsigned long long)total);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "probe")) {
        probe_faults();
        probe_signals();
        probe_fork();
        probe_threads();
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "stress"))
        return stress(atoi(argv[2]));
    if (argc >= 4 && !strcmp(argv[1], "work"))
        return work(atol(argv[2]), atoi(argv[3]));
    if (argc >= 3 && !strcmp(argv[1], "compute"))
        return compute(atoi(argv[2]), argc >= 4 ? atoi(argv[3]) : 2);
    fprintf(stderr, "usage: %s probe | stress ROUNDS | compute SECONDS [THREADS] | work BLOCKS THREADS\n",
            argv[0]);
    return 2;
}
