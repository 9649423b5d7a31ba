/*
 * Shared pieces of the libFuzzer harnesses (tests/fuzz/fuzz.mk): a reader
 * that hands out the fuzzer's bytes as small integers (zero once the input
 * is used up), so a harness decodes "operations" from any byte string.
 */
#ifndef VX86_TESTS_FUZZ_H
#define VX86_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct FuzzInput {
    const uint8_t *p;
    size_t left;
} FuzzInput;

static inline uint8_t fuzz_u8(FuzzInput *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(FuzzInput *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(FuzzInput *in)
{
    uint32_t lo = fuzz_u16(in);
    return lo | (uint32_t)fuzz_u16(in) << 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
