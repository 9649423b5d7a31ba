/*
 * The x86-64 host backend as an IREngine (tcg/engine.h): owns the code
 * buffer and the shared prologue/epilogue, and implements run, chaining
 * and restore.  Code generation proper is in codegen.c.
 *
 *   IREngineCtx *c = ir_engine_x86_64.create(&tgt);
 *   void *code = ir_engine_x86_64.compile(c, block);   // NULL: buffer full
 *   uint64_t v = ir_engine_x86_64.run(c, code, env);
 *
 * Buffer: one RWX mapping (default 128 MiB) filled by a bump pointer; a
 * full buffer makes compile return NULL and the caller flushes everything.
 * Layout: [prologue, exit0, epilogue] then blocks, each 16-aligned as
 * [X86BlockHeader][code][slow paths][restore table].
 *
 * run() calls the prologue as a C function (code, env): it saves the
 * callee-saved registers, reserves the frame (spill slots and the slow
 * path save area), puts env in rbp and jumps to the block.  exit_tb jumps
 * to the epilogue with the value in rax; exit0 first clears rax.
 *
 * Chaining: goto_tb emits "jmp rel32" with rel32 = 0 (falls through to
 * the exit_tb after it) and its rel32 4-byte aligned, so chain() and
 * unchain() patch it with one atomic store.
 *
 * restore(ra): finds the block holding ra (binary search over block
 * starts, which ascend), then walks its restore table, a list of
 * (host offset, guest pc, word) per insn_start, delta-encoded as LEB128,
 * for the last entry at or before ra - 1 (ra is a return address: the
 * byte before it belongs to the faulting access or call).
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/util.h"
#include "tcg/x86_64/backend.h"
#include "tcg/x86_64/x86_64.h"

static unsigned host_features(void)
{
    unsigned a, b, c, d, f = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 23)))
        f |= X86_HAS_POPCNT;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 5)))
        f |= X86_HAS_LZCNT;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (b & (1u << 3))
            f |= X86_HAS_BMI1;
        if (b & (1u << 8))
            f |= X86_HAS_BMI2;
    }
    return f;
}

static const uint8_t saved_regs[] = {
    X86_RBP, X86_RBX, X86_R12, X86_R13, X86_R14, X86_R15,
};

static void emit_prologue(IREngineCtx *c)
{
    X86Asm a = { .p = c->buf };
    c->prologue = a.p;
    for (unsigned i = 0; i < sizeof(saved_regs); i++)
        x86_push(&a, saved_regs[i]);
    x86_modrm(&a, OPC_ARITH_EvIz | P_REXW, ALU_SUB, X86_RSP);
    x86_u32(&a, X86_FRAME_SIZE);
    x86_mov_rr(&a, true, X86_ENV_REG, X86_RSI);
    x86_modrm(&a, OPC_GRP5, EXT5_JMP, X86_RDI);
    c->exit0 = a.p;
    x86_alu_rr(&a, ALU_XOR, false, X86_RAX, X86_RAX);
    c->epilogue = a.p;
    x86_modrm(&a, OPC_ARITH_EvIz | P_REXW, ALU_ADD, X86_RSP);
    x86_u32(&a, X86_FRAME_SIZE);
    for (unsigned i = sizeof(saved_regs); i-- > 0;)
        x86_pop(&a, saved_regs[i]);
    x86_byte(&a, 0xc3);
    c->free_ptr = c->blocks_base = a.p;
}

IREngineCtx *x86_64_create_sized(const IREngineTarget *tgt, size_t code_size)
{
    IREngineCtx *c = xcalloc(1, sizeof(*c));
    c->tgt = *tgt;
    c->features = host_features();
    c->buf_size = code_size + X86_BUF_SLACK;
    /* One buffer per CPU (-smp 64: 64 of them): only what is used costs. */
    void *p = mmap(NULL, c->buf_size, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "vx86: cannot map %zu bytes of executable memory for "
                "translated code\n", c->buf_size);
        exit(1);
    }
    c->buf = p;
    c->buf_end = c->buf + code_size;
    emit_prologue(c);
    return c;
}

unsigned x86_64_features(const IREngineCtx *ctx)
{
    return ctx->features;
}

void x86_64_set_features(IREngineCtx *ctx, unsigned mask)
{
    ctx->features = host_features() & mask;
}

static IREngineCtx *x86_create(const IREngineTarget *tgt)
{
    return x86_64_create_sized(tgt, X86_64_DEFAULT_CODE_SIZE);
}

static void x86_destroy(IREngineCtx *c)
{
    if (!c)
        return;
    munmap(c->buf, c->buf_size);
    free(c->blocks);
    free(c->ts);
    free(c->live);
    free(c->locals);
    free(c->ebbs);
    free(c->dead);
    free(c->label_pos);
    free(c->relocs);
    free(c->slow);
    free(c->reloads);
    free(c->rest);
    free(c->free_slots);
    free(c);
}

static void *x86_compile(IREngineCtx *c, const IRBlock *b)
{
    void *code = x86_compile_block(c, b);
    if (!code)
        return NULL;
    if (c->nblocks == c->blocks_cap) {
        c->blocks_cap = c->blocks_cap * 2 + 256;
        c->blocks = xrealloc(c->blocks, c->blocks_cap * sizeof(*c->blocks));
    }
    c->blocks[c->nblocks++] = code;
    return code;
}

static void x86_flush(IREngineCtx *c)
{
    c->free_ptr = c->blocks_base;
    c->nblocks = 0;
}

static void x86_release(IREngineCtx *c, void *code)
{
    /* bump allocation: space comes back at the next flush */
}

static uint64_t x86_run(IREngineCtx *c, void *code, void *env)
{
    uint64_t (*enter)(void *, void *) = (uint64_t (*)(void *, void *))(void *)c->prologue;
    return enter(code, env);
}

static const X86BlockHeader *header_of(const void *code)
{
    return (const X86BlockHeader *)((const uint8_t *)code - sizeof(X86BlockHeader));
}

static void patch_jump(void *from, unsigned slot, const void *to)
{
    const X86BlockHeader *h = header_of(from);
    uint32_t off = h->jmp_off[slot & 1];
    if (!off)
        return;                          /* the block has no such goto_tb */
    uint8_t *field = (uint8_t *)from + off;
    int32_t rel = to ? (int32_t)((const uint8_t *)to - (field + 4)) : 0;
    __atomic_store_n((int32_t *)(void *)field, rel, __ATOMIC_RELEASE);
}

static void x86_chain(IREngineCtx *c, void *from, unsigned slot, void *to)
{
    patch_jump(from, slot, to);
}

static void x86_unchain(IREngineCtx *c, void *from, unsigned slot)
{
    patch_jump(from, slot, NULL);
}

static uint64_t get_uleb(const uint8_t **pp)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t byte;
    do {
        byte = *(*pp)++;
        if (shift < 64)
            v |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
    } while (byte & 0x80);
    return v;
}

static bool x86_restore(IREngineCtx *c, uintptr_t ra, uint64_t insn_start[2])
{
    uint32_t lo = 0, hi = c->nblocks;
    while (lo < hi) {                    /* first block starting after ra */
        uint32_t mid = (lo + hi) / 2;
        if ((uintptr_t)c->blocks[mid] < ra)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const uint8_t *code = c->blocks[lo - 1];
    const X86BlockHeader *h = header_of(code);
    uintptr_t off = ra - 1 - (uintptr_t)code;
    if (off >= h->code_len)
        return false;
    const uint8_t *p = code + h->code_len, *end = p + h->restore_len;
    uint64_t pos = 0, pc = 0;
    insn_start[0] = insn_start[1] = 0;
    while (p < end) {
        pos += get_uleb(&p);
        uint64_t z = get_uleb(&p);
        uint64_t word = get_uleb(&p);
        if (pos > off)
            break;
        pc += (z >> 1) ^ -(z & 1);
        insn_start[0] = pc;
        insn_start[1] = word;
    }
    return true;
}

static size_t x86_code_size(IREngineCtx *c, void *code)
{
    return header_of(code)->code_len;
}

static const uint8_t *x86_host_code(IREngineCtx *c, void *code, size_t *len)
{
    *len = header_of(code)->code_len;
    return code;
}

const IREngine ir_engine_x86_64 = {
    .name = "x86_64",
    .create = x86_create,
    .destroy = x86_destroy,
    .compile = x86_compile,
    .flush = x86_flush,
    .release = x86_release,
    .run = x86_run,
    .chain = x86_chain,
    .unchain = x86_unchain,
    .restore = x86_restore,
    .code_size = x86_code_size,
    .host_code = x86_host_code,
};
