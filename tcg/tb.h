/*
 * The translation-block cache: guest-independent bookkeeping of translated
 * blocks (TBs) for an execution loop.
 *
 *   - a hash table keyed by (physical pc, virtual pc, cs base, flags);
 *   - a per-CPU jump cache: virtual pc -> (key, code, TB), checked against
 *     pc, cs base and flags (the owner flushes it whenever virtual->physical
 *     mappings change).  Each entry holds its key and the engine code
 *     inline, so translated code can probe it without touching the TB
 *     (see TBJCEntry);
 *   - per physical page, the list of TBs whose code lies on it, so a write
 *     to the page (self-modifying code, DMA) invalidates exactly them;
 *   - direct chaining: tb_link() records outgoing and incoming links and
 *     patches the engine (IREngine.chain); invalidating a TB unchains
 *     every block that jumps to it;
 *   - deferred release: invalidated blocks may still be running (a helper
 *     can invalidate the block that called it), so their code is freed by
 *     tb_reap(), which the execution loop calls between blocks.
 *
 *   TBCache *c = tb_cache_new(engine, ctx, owner_callbacks, owner);
 *   TB *tb = tb_jc_lookup(c, pc, cs_base, flags);
 *   if (!tb) tb = tb_lookup(c, phys_pc, pc, cs_base, flags);
 *   if (!tb) { tb = tb_new(); ...translate, tb->code = engine->compile(ctx, block);
 *              tb_insert(c, tb); }
 */
#ifndef VX86_TCG_TB_H
#define VX86_TCG_TB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcg/engine.h"

#define TB_NO_PAGE (~(uint64_t)0)
#define TB_PAGE_BITS 12
#define TB_MAX_BLOCKS (1u << 18)

typedef struct TB {
    uint64_t pc;            /* virtual (linear) address of the first byte */
    uint64_t cs_base;
    uint32_t flags;         /* front-end mode bits */
    uint32_t size;          /* guest bytes covered */
    uint32_t icount;        /* guest instructions */
    uint32_t cflags;        /* TB_CF_* */
    uint64_t phys_pc;
    uint64_t phys_page2;    /* second physical page, or TB_NO_PAGE */
    void *code;             /* engine code */

    /* cache bookkeeping (owned by tb.c) */
    struct TB *hash_next;
    uintptr_t page_next[2]; /* tagged (TB * | page slot) list links */
    struct TB *jmp_dest[2];
    uintptr_t jmp_in_next[2]; /* tagged (TB * | slot) */
    uintptr_t jmp_in_first;
    struct TB *grave_next;
    bool invalid;
    bool cached;            /* in the hash table and page lists */
} TB;

enum {
    TB_CF_NOCACHE = 1u << 0,   /* one-shot block: never cached or chained */
};

/* Jump cache: direct-mapped on the virtual pc, 32-byte entries (two per
 * cache line), 64 Ki of them (2 MiB; a 4 Ki table thrashed: 90% of the
 * refills on the busybox shell loop evicted a live entry).  Translated code probes it inline for indirect and
 * cross-page jumps, so the layout is an ABI between tb.c and the front
 * end: a hit is pc == entry.pc && key == entry.key, then jump to code.
 * The table never moves for the life of the cache (code embeds its
 * address).  Empty entries have key TB_JC_NOKEY, which no lookup uses. */
#define TB_JC_BITS 16
#define TB_JC_SIZE (1u << TB_JC_BITS)
#define TB_JC_NOKEY (~(uint64_t)0)

typedef struct TBJCEntry {
    uint64_t pc;
    uint64_t key;           /* tb_jc_key(cs_base, flags) */
    void *code;
    TB *tb;
} TBJCEntry;

_Static_assert(sizeof(TBJCEntry) == 32, "translated code scales the index by 32");

static inline unsigned tb_jc_index(uint64_t pc)
{
    return (unsigned)((pc ^ (pc >> TB_JC_BITS)) & (TB_JC_SIZE - 1));
}

/* cs base and flags in one word.  A CS base is a 32-bit descriptor field
 * (0 in 64-bit code); a wider one cannot be packed and is never cached. */
static inline uint64_t tb_jc_key(uint64_t cs_base, uint32_t flags)
{
    if (cs_base >> 32)
        return TB_JC_NOKEY;
    return cs_base | (uint64_t)flags << 32;
}

typedef struct TBCacheOwner {
    /* A physical page gained its first TB (code=true) or lost its last. */
    void (*page_code_changed)(void *opaque, uint64_t phys_page, bool code);
} TBCacheOwner;

typedef struct TBCache TBCache;

TBCache *tb_cache_new(const IREngine *e, IREngineCtx *ctx, const TBCacheOwner *owner,
                      void *opaque);
void tb_cache_free(TBCache *c);

TB *tb_jc_lookup(TBCache *c, uint64_t pc, uint64_t cs_base, uint32_t flags);
/* The jump-cache table (TB_JC_SIZE entries) for translated code to probe. */
const TBJCEntry *tb_jc_table(const TBCache *c);
TB *tb_lookup(TBCache *c, uint64_t phys_pc, uint64_t pc, uint64_t cs_base, uint32_t flags);
/* A zeroed TB for the front end to fill (pc .. code) before tb_insert;
 * allocated first so translated code may name it in exit values.  Free an
 * unused one with tb_discard. */
TB *tb_new(void);
void tb_discard(TB *tb);
/* Registers tb (takes ownership).  NOCACHE blocks are only recorded for
 * release at the next reap. */
void tb_insert(TBCache *c, TB *tb);
/* Records from's chain slot -> to and patches the engine. */
void tb_link(TBCache *c, TB *from, unsigned slot, TB *to);
/* Invalidates every TB with code in [start, start+len).  Returns how many. */
int tb_invalidate_phys_range(TBCache *c, uint64_t start, uint64_t len);
void tb_invalidate(TBCache *c, TB *tb);
bool tb_page_has_code(TBCache *c, uint64_t phys_page);
/* Drops every TB (logically now; code is released by tb_reap). */
void tb_flush(TBCache *c);
void tb_jc_flush(TBCache *c);
/* Clears the jump-cache entries filled since the last flush except those
 * keep(opaque, pc) vouches for (the front end: pc is on a page whose
 * mapping survives, e.g. a global page across a CR3 write); keep NULL
 * keeps none (tb_jc_flush). */
void tb_jc_flush_keep(TBCache *c, bool (*keep)(void *opaque, uint64_t pc), void *opaque);
/* Frees invalidated TBs and, after a flush, resets the engine.  Only call
 * when no translated code is running. */
void tb_reap(TBCache *c);
size_t tb_count(const TBCache *c);
bool tb_cache_full(const TBCache *c);
uint64_t tb_flush_count(const TBCache *c);

#endif
