/*
 * Translation-block cache: hash table, jump cache, physical-page lists,
 * chaining records and deferred release.  See tb.h.
 */
#include "tcg/tb.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"


#define TB_HASH_BITS 17
#define TB_HASH_SIZE (1u << TB_HASH_BITS)
#define TB_JC_LOG_SIZE 2048
#define PAGE_HASH_BITS 12
#define PAGE_HASH_SIZE (1u << PAGE_HASH_BITS)

typedef struct PageDesc {
    uint64_t page;            /* physical page number */
    uintptr_t first;          /* tagged (TB * | slot) list of TBs */
    struct PageDesc *next;
} PageDesc;

struct TBCache {
    const IREngine *engine;
    IREngineCtx *ctx;
    TBCacheOwner owner;
    void *opaque;
    TB *hash[TB_HASH_SIZE];
    TBJCEntry *jc;            /* TB_JC_SIZE entries, never moved */
    /* Indexes filled since the last jump-cache flush: a flush (every TLB
     * flush: CR3 writes, INVLPG) clears only those, unless the log
     * overflowed, so the table can be large and the flush stays cheap. */
    uint32_t jc_log[TB_JC_LOG_SIZE];
    unsigned jc_nlog;         /* > TB_JC_LOG_SIZE: overflowed */
    PageDesc *pages[PAGE_HASH_SIZE];
    TB *grave;                /* invalidated, not yet released */
    size_t ntbs;
    bool flush_pending;       /* engine->flush at the next reap */
    uint64_t flushes;
};

static unsigned tb_hash(uint64_t phys_pc, uint64_t pc, uint64_t cs_base, uint32_t flags)
{
    uint64_t h = phys_pc * 0x9e3779b97f4a7c15ULL ^ (pc + cs_base) * 0xc2b2ae3d27d4eb4fULL ^ flags;
    return (unsigned)(h >> (64 - TB_HASH_BITS));
}

static void tb_jc_clear(TBJCEntry *e)
{
    /* pc ~0 and key TB_JC_NOKEY, which no lookup matches. */
    *e = (TBJCEntry){ ~(uint64_t)0, TB_JC_NOKEY, NULL, NULL };
}

/* Records tb in its jump-cache slot (unless its key cannot be packed). */
static void tb_jc_set(TBCache *c, TB *tb)
{
    uint64_t key = tb_jc_key(tb->cs_base, tb->flags);
    if (key == TB_JC_NOKEY)
        return;
    unsigned i = tb_jc_index(tb->pc);
    if (c->jc_nlog < TB_JC_LOG_SIZE)
        c->jc_log[c->jc_nlog] = i;
    if (c->jc_nlog <= TB_JC_LOG_SIZE)
        c->jc_nlog++;
    c->jc[i] = (TBJCEntry){ tb->pc, key, tb->code, tb };
}

static unsigned page_hash(uint64_t page)
{
    return (unsigned)((page * 0x9e3779b97f4a7c15ULL) >> (64 - PAGE_HASH_BITS));
}

TBCache *tb_cache_new(const IREngine *e, IREngineCtx *ctx, const TBCacheOwner *owner,
                      void *opaque)
{
    TBCache *c = xcalloc(1, sizeof(*c));
    c->engine = e;
    c->ctx = ctx;
    if (owner)
        c->owner = *owner;
    c->opaque = opaque;
    /* Line-aligned: an entry never straddles two cache lines. */
    c->jc = aligned_alloc(64, TB_JC_SIZE * sizeof(*c->jc));
    if (!c->jc)
        abort();
    c->jc_nlog = TB_JC_LOG_SIZE + 1;   /* the first flush clears it all */
    tb_jc_flush(c);
    return c;
}

static void tb_release(TBCache *c, TB *tb)
{
    if (tb->code && !c->flush_pending)
        c->engine->release(c->ctx, tb->code);
    free(tb);
}

void tb_cache_free(TBCache *c)
{
    if (!c)
        return;
    tb_flush(c);
    tb_reap(c);
    free(c->jc);
    free(c);
}

TB *tb_jc_lookup(TBCache *c, uint64_t pc, uint64_t cs_base, uint32_t flags)
{
    uint64_t key = tb_jc_key(cs_base, flags);
    const TBJCEntry *e = &c->jc[tb_jc_index(pc)];
    if (e->pc == pc && e->key == key && key != TB_JC_NOKEY)
        return e->tb;
    return NULL;
}

const TBJCEntry *tb_jc_table(const TBCache *c)
{
    return c->jc;
}

TB *tb_lookup(TBCache *c, uint64_t phys_pc, uint64_t pc, uint64_t cs_base, uint32_t flags)
{
    for (TB *tb = c->hash[tb_hash(phys_pc, pc, cs_base, flags)]; tb; tb = tb->hash_next) {
        if (tb->phys_pc == phys_pc && tb->pc == pc && tb->cs_base == cs_base &&
            tb->flags == flags) {
            tb_jc_set(c, tb);
            return tb;
        }
    }
    return NULL;
}

static PageDesc *page_find(TBCache *c, uint64_t page, bool alloc)
{
    unsigned h = page_hash(page);
    for (PageDesc *p = c->pages[h]; p; p = p->next)
        if (p->page == page)
            return p;
    if (!alloc)
        return NULL;
    PageDesc *p = xcalloc(1, sizeof(*p));
    p->page = page;
    p->next = c->pages[h];
    c->pages[h] = p;
    return p;
}

static void page_free(TBCache *c, PageDesc *pd)
{
    PageDesc **pp = &c->pages[page_hash(pd->page)];
    while (*pp != pd)
        pp = &(*pp)->next;
    *pp = pd->next;
    free(pd);
}

static void page_add_tb(TBCache *c, uint64_t page, TB *tb, unsigned n)
{
    PageDesc *pd = page_find(c, page, true);
    bool first = !pd->first;
    tb->page_next[n] = pd->first;
    pd->first = (uintptr_t)tb | n;
    if (first && c->owner.page_code_changed)
        c->owner.page_code_changed(c->opaque, page << TB_PAGE_BITS, true);
}

static void page_remove_tb(TBCache *c, uint64_t page, TB *tb, unsigned n)
{
    PageDesc *pd = page_find(c, page, false);
    if (!pd)
        return;
    uintptr_t *pp = &pd->first;
    while (*pp) {
        TB *t = (TB *)(*pp & ~(uintptr_t)1);
        unsigned k = *pp & 1;
        if (t == tb && k == n) {
            *pp = tb->page_next[n];
            break;
        }
        pp = &t->page_next[k];
    }
    if (!pd->first) {
        page_free(c, pd);
        if (c->owner.page_code_changed)
            c->owner.page_code_changed(c->opaque, page << TB_PAGE_BITS, false);
    }
}

TB *tb_new(void)
{
    /* 16-byte alignment leaves the low bits free for exit-value tags. */
    TB *tb = aligned_alloc(16, (sizeof(TB) + 15) & ~(size_t)15);
    if (!tb)
        abort();
    memset(tb, 0, sizeof(*tb));
    return tb;
}

void tb_discard(TB *tb)
{
    free(tb);
}

void tb_insert(TBCache *c, TB *tb)
{
    tb->hash_next = NULL;
    tb->page_next[0] = tb->page_next[1] = 0;
    tb->jmp_dest[0] = tb->jmp_dest[1] = NULL;
    tb->jmp_in_next[0] = tb->jmp_in_next[1] = 0;
    tb->jmp_in_first = 0;
    tb->grave_next = NULL;
    tb->invalid = false;
    tb->cached = !(tb->cflags & TB_CF_NOCACHE);
    if (!tb->cached) {
        /* Released at the next reap, after it has run once. */
        tb->invalid = true;
        tb->grave_next = c->grave;
        c->grave = tb;
        return;
    }
    unsigned h = tb_hash(tb->phys_pc, tb->pc, tb->cs_base, tb->flags);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    tb_jc_set(c, tb);
    page_add_tb(c, tb->phys_pc >> TB_PAGE_BITS, tb, 0);
    if (tb->phys_page2 != TB_NO_PAGE)
        page_add_tb(c, tb->phys_page2 >> TB_PAGE_BITS, tb, 1);
    c->ntbs++;
}

void tb_link(TBCache *c, TB *from, unsigned slot, TB *to)
{
    if (slot > 1 || from->invalid || to->invalid || from->jmp_dest[slot])
        return;
    from->jmp_dest[slot] = to;
    from->jmp_in_next[slot] = to->jmp_in_first;
    to->jmp_in_first = (uintptr_t)from | slot;
    c->engine->chain(c->ctx, from->code, slot, to->code);
}

/* Removes from's outgoing link in slot from its destination's list. */
static void tb_unlink_out(TBCache *c, TB *from, unsigned slot)
{
    TB *to = from->jmp_dest[slot];
    if (!to)
        return;
    uintptr_t *pp = &to->jmp_in_first;
    while (*pp) {
        TB *t = (TB *)(*pp & ~(uintptr_t)1);
        unsigned k = *pp & 1;
        if (t == from && k == slot) {
            *pp = from->jmp_in_next[slot];
            break;
        }
        pp = &t->jmp_in_next[k];
    }
    from->jmp_dest[slot] = NULL;
}

void tb_invalidate(TBCache *c, TB *tb)
{
    if (tb->invalid)
        return;
    tb->invalid = true;
    /* hash table */
    TB **pp = &c->hash[tb_hash(tb->phys_pc, tb->pc, tb->cs_base, tb->flags)];
    while (*pp && *pp != tb)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = tb->hash_next;
    TBJCEntry *e = &c->jc[tb_jc_index(tb->pc)];
    if (e->tb == tb)
        tb_jc_clear(e);
    page_remove_tb(c, tb->phys_pc >> TB_PAGE_BITS, tb, 0);
    if (tb->phys_page2 != TB_NO_PAGE)
        page_remove_tb(c, tb->phys_page2 >> TB_PAGE_BITS, tb, 1);
    /* Blocks jumping here fall back to exiting to the loop. */
    while (tb->jmp_in_first) {
        TB *from = (TB *)(tb->jmp_in_first & ~(uintptr_t)1);
        unsigned k = tb->jmp_in_first & 1;
        tb->jmp_in_first = from->jmp_in_next[k];
        from->jmp_dest[k] = NULL;
        c->engine->unchain(c->ctx, from->code, k);
    }
    tb_unlink_out(c, tb, 0);
    tb_unlink_out(c, tb, 1);
    tb->grave_next = c->grave;
    c->grave = tb;
    c->ntbs--;
}

int tb_invalidate_phys_range(TBCache *c, uint64_t start, uint64_t len)
{
    int n = 0;
    if (!len)
        return 0;
    uint64_t end = start + len - 1;
    for (uint64_t page = start >> TB_PAGE_BITS; page <= end >> TB_PAGE_BITS; page++) {
        PageDesc *pd = page_find(c, page, false);
        if (!pd)
            continue;
        /* Collect first: invalidation edits the list we walk. */
        TB *victims[64];
        bool again = true;
        while (again) {
            int nv = 0;
            again = false;
            pd = page_find(c, page, false);
            if (!pd)
                break;
            for (uintptr_t p = pd->first; p; ) {
                TB *t = (TB *)(p & ~(uintptr_t)1);
                unsigned k = p & 1;
                uint64_t lo = t->phys_pc, hi;
                if (k == 0) {
                    hi = t->phys_page2 == TB_NO_PAGE ? t->phys_pc + t->size - 1
                         : ((t->phys_pc | ((1u << TB_PAGE_BITS) - 1)));
                } else {
                    uint64_t first_len = (1u << TB_PAGE_BITS) -
                                         (t->phys_pc & ((1u << TB_PAGE_BITS) - 1));
                    lo = t->phys_page2;
                    hi = t->phys_page2 + (t->size - first_len) - 1;
                }
                if (lo <= end && hi >= start) {
                    if (nv == 64) {
                        again = true;
                        break;
                    }
                    victims[nv++] = t;
                }
                p = t->page_next[k];
            }
            for (int i = 0; i < nv; i++)
                tb_invalidate(c, victims[i]);
            n += nv;
        }
    }
    return n;
}

bool tb_page_has_code(TBCache *c, uint64_t phys_page)
{
    return page_find(c, phys_page >> TB_PAGE_BITS, false) != NULL;
}

void tb_flush(TBCache *c)
{
    for (unsigned h = 0; h < TB_HASH_SIZE; h++) {
        TB *tb = c->hash[h];
        while (tb) {
            TB *next = tb->hash_next;
            tb->invalid = true;
            tb->grave_next = c->grave;
            c->grave = tb;
            tb = next;
        }
        c->hash[h] = NULL;
    }
    for (unsigned h = 0; h < PAGE_HASH_SIZE; h++) {
        PageDesc *p = c->pages[h];
        while (p) {
            PageDesc *next = p->next;
            if (c->owner.page_code_changed)
                c->owner.page_code_changed(c->opaque, p->page << TB_PAGE_BITS, false);
            free(p);
            p = next;
        }
        c->pages[h] = NULL;
    }
    tb_jc_flush(c);
    c->ntbs = 0;
    c->flushes++;
    /* Release each block now through the graveyard; the engine-wide reset
     * waits for the reap too, since code may still be running. */
    c->flush_pending = true;
}

void tb_jc_flush(TBCache *c)
{
    tb_jc_flush_keep(c, NULL, NULL);
}

/* keep NULL: keep nothing. */
void tb_jc_flush_keep(TBCache *c, bool (*keep)(void *opaque, uint64_t pc), void *opaque)
{
    if (c->jc_nlog > TB_JC_LOG_SIZE) {
        /* lost track of what was filled: everything goes */
        memset(c->jc, 0xff, TB_JC_SIZE * sizeof(*c->jc));   /* all-ones = cleared */
        c->jc_nlog = 0;
        return;
    }
    unsigned kept = 0;
    for (unsigned k = 0; k < c->jc_nlog; k++) {
        unsigned i = c->jc_log[k];
        TBJCEntry *e = &c->jc[i];
        if (keep && e->key != TB_JC_NOKEY && keep(opaque, e->pc))
            c->jc_log[kept++] = i;   /* still filled: a later flush clears it */
        else
            tb_jc_clear(e);
    }
    c->jc_nlog = kept;
}

void tb_reap(TBCache *c)
{
    bool flush = c->flush_pending;
    TB *tb = c->grave;
    c->grave = NULL;
    /* Per-block release first (the interpreter frees each block), then
     * the engine-wide flush (the host backend resets its buffer). */
    c->flush_pending = false;
    while (tb) {
        TB *next = tb->grave_next;
        tb_release(c, tb);
        tb = next;
    }
    if (flush)
        c->engine->flush(c->ctx);
}

size_t tb_count(const TBCache *c)
{
    return c->ntbs;
}

bool tb_cache_full(const TBCache *c)
{
    return c->ntbs >= TB_MAX_BLOCKS;
}

uint64_t tb_flush_count(const TBCache *c)
{
    return c->flushes;
}
