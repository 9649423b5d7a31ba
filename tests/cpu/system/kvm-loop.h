/*
 * The integer loop that tests/system/kvm-ring3.sh times in a ring-3 guest
 * (tests/cpu/system/kvm-ring3.c) and natively on the host
 * (tests/system/kvm-loop-native.c): the same instructions in both, so the
 * cycle counts compare like for like.  Each iteration is a 3-instruction
 * dependency chain (add, rotate, xor) plus the loop counter; the result
 * depends on every iteration, so guest and host must agree on it.
 */
#ifndef KVM_LOOP_H
#define KVM_LOOP_H

#define KVM_LOOP_ITERS 100000000u
#define KVM_LOOP_SEED 0x9e3779b9u

/* n >= 1 iterations starting from seed; returns the accumulator. */
static inline unsigned int kvm_loop_run(unsigned int n, unsigned int seed)
{
    unsigned int acc = seed;
    __asm__ volatile("1:\n\t"
                     "addl %1, %0\n\t"
                     "roll $5, %0\n\t"
                     "xorl %1, %0\n\t"
                     "decl %1\n\t"
                     "jnz 1b"
                     : "+r"(acc), "+r"(n) :: "cc");
    return acc;
}

static inline unsigned long long kvm_loop_rdtsc(void)
{
    unsigned int lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((unsigned long long)hi << 32) | lo;
}

#endif
