/*
 * Native twin of the kvm-ring3 guest's timed loop (tests/cpu/system/
 * kvm-loop.h): runs it on the host the same way (3 runs, the fastest
 * counts) and prints "result=XXXXXXXX cycles=N" for tests/system/
 * kvm-ring3.sh and bench/kvm.sh to compare with the guest's figures.
 */
#include <stdio.h>

#include "../cpu/system/kvm-loop.h"

int main(void)
{
    unsigned long long best = ~0ull;
    unsigned int result = 0;
    for (int run = 0; run < 3; run++) {
        unsigned long long t0 = kvm_loop_rdtsc();
        result = kvm_loop_run(KVM_LOOP_ITERS, KVM_LOOP_SEED);
        unsigned long long t1 = kvm_loop_rdtsc();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    printf("result=%08x cycles=%llu\n", result, best);
    return 0;
}
