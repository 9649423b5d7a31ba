/*
 * Integer workload: a small stack-machine bytecode interpreter running a
 * sieve and a hash loop, then an LZ77-style compressor over generated
 * text.  Deterministic; prints a checksum so every engine can be checked
 * to compute the same thing.  Built statically (bench/bench.mk).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_SHR,
       OP_LT, OP_JZ, OP_JMP, OP_HALT };

typedef struct { uint8_t op; int32_t arg; } Insn;

/* acc = 0; for (i = 0; i < n; i++) acc = (acc * 31 + i) ^ (acc >> 7) */
static uint32_t run_vm(uint32_t n)
{
    static const Insn prog[] = {
        { OP_PUSH, 0 }, { OP_STORE, 0 },           /* acc = 0 */
        { OP_PUSH, 0 }, { OP_STORE, 1 },           /* i = 0 */
        { OP_LOAD, 1 }, { OP_LOAD, 2 }, { OP_LT, 0 }, { OP_JZ, 24 },   /* 4: while i < n */
        { OP_LOAD, 0 }, { OP_PUSH, 31 }, { OP_MUL, 0 }, { OP_LOAD, 1 }, { OP_ADD, 0 },
        { OP_LOAD, 0 }, { OP_PUSH, 7 }, { OP_SHR, 0 }, { OP_XOR, 0 }, { OP_STORE, 0 },
        { OP_LOAD, 1 }, { OP_PUSH, 1 }, { OP_ADD, 0 }, { OP_STORE, 1 },
        { OP_JMP, 4 }, { OP_HALT, 0 },
        { OP_HALT, 0 },                            /* 24 */
    };
    uint32_t vars[4] = { 0, 0, n, 0 };
    uint32_t stack[16];
    int sp = 0;
    for (int pc = 0;;) {
        const Insn *in = &prog[pc++];
        switch (in->op) {
        case OP_PUSH: stack[sp++] = (uint32_t)in->arg; break;
        case OP_LOAD: stack[sp++] = vars[in->arg]; break;
        case OP_STORE: vars[in->arg] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_JZ: if (!stack[--sp]) pc = in->arg; break;
        case OP_JMP: pc = in->arg; break;
        case OP_HALT: return vars[0];
        }
    }
}

static uint32_t sieve(uint32_t n)
{
    uint8_t *composite = calloc(n + 1, 1);
    uint32_t count = 0;
    for (uint32_t i = 2; i <= n; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint64_t j = (uint64_t)i * i; j <= n; j += i)
            composite[j] = 1;
    }
    free(composite);
    return count;
}

/* Greedy LZ77 with a 4 KiB window and a hash of 3-byte prefixes. */
static size_t lz_compress(const uint8_t *in, size_t n, uint8_t *out)
{
    static int32_t head[1 << 14];
    memset(head, -1, sizeof head);
    size_t o = 0, i = 0;
    while (i < n) {
        size_t best_len = 0, best_dist = 0;
        if (i + 3 <= n) {
            uint32_t h = ((in[i] << 10) ^ (in[i + 1] << 5) ^ in[i + 2]) & ((1 << 14) - 1);
            int32_t cand = head[h];
            head[h] = (int32_t)i;
            if (cand >= 0 && i - (size_t)cand < 4096) {
                size_t l = 0;
                while (i + l < n && l < 255 && in[cand + l] == in[i + l])
                    l++;
                if (l >= 3) {
                    best_len = l;
                    best_dist = i - (size_t)cand;
                }
            }
        }
        if (best_len) {
            out[o++] = 0xff;
            out[o++] = (uint8_t)best_len;
            out[o++] = (uint8_t)(best_dist >> 8);
            out[o++] = (uint8_t)best_dist;
            i += best_len;
        } else {
            out[o++] = in[i] == 0xff ? 0xfe : in[i];
            i++;
        }
    }
    return o;
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    uint32_t sum = 0;
    for (unsigned s = 0; s < scale; s++) {
        sum ^= run_vm(3000000);
        sum += sieve(4000000);
        size_t n = 4 << 20;
        uint8_t *text = malloc(n), *out = malloc(n * 2);
        static const char *words[] = { "emulator ", "x86 ", "block ", "chain ",
                                       "translate ", "guest ", "host ", "tlb " };
        uint32_t seed = 12345;
        for (size_t i = 0; i < n;) {
            seed = seed * 1103515245u + 12345u;
            const char *w = words[(seed >> 16) & 7];
            for (size_t k = 0; w[k] && i < n; k++)
                text[i++] = (uint8_t)w[k];
        }
        size_t c = lz_compress(text, n, out);
        for (size_t i = 0; i < c; i++)
            sum = sum * 33 + out[i];
        free(text);
        free(out);
    }
    printf("intbench checksum %08x\n", sum);
    return 0;
}
