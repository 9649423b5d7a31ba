/*
 * CPU-time accounting seen by a guest program (tests/guest/cputime.sh):
 * a CPU-bound loop with one getitimer() system call per iteration, for
 * SECONDS of wall time, with ITIMER_VIRTUAL armed every 200 ms of user
 * time.  Prints the user and system time the kernel charged and how many
 * SIGVTALRM arrived.  The kernel charges each timer tick to the mode the
 * CPU was in when it came, so an emulator that delivers timer interrupts
 * only when its execution loop happens to look (mostly in kernel paths,
 * which return to the loop far more often than user code) shows almost
 * no user time and no SIGVTALRM here.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t vt_signals;

static void on_vtalrm(int sig)
{
    (void)sig;
    vt_signals++;
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 4.0;
    struct sigaction sa = { .sa_handler = on_vtalrm };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGVTALRM, &sa, NULL);
    struct itimerval it = { { 0, 200000 }, { 0, 200000 } };
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned long x = 1;
    unsigned long iterations = 0;
    do {
        for (int i = 0; i < 3000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        struct itimerval cur;
        getitimer(ITIMER_VIRTUAL, &cur);
        iterations++;
    } while (since(&t0) < seconds);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("cputime user=%.2f sys=%.2f sigs=%d iterations=%lu\n",
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, (int)vt_signals, iterations);
    return 0;
}
