/*
 * Physical memory map and IO-port dispatch.  See memory.h for the rules
 * (priorities, unassigned accesses, access-size adaptation).
 */
#include "core/memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* The regions as one immutable snapshot: a change builds a new table and
 * publishes it, so a vCPU thread looking an address up (TLB fill, page
 * walk) without the I/O lock always sees a whole table.  Tables and
 * regions a change drops are retired, and freed only when no thread can
 * be reading them (memmap_reclaim). */
typedef struct RegionTable {
    uint64_t gen;                 /* memmap_generation while it is current */
    size_t n;
    MemRegion *r[];
} RegionTable;

typedef struct Retired {
    void *p;
    struct Retired *next;
} Retired;

/* The last lookup's answer: the winner over [lo, last] of table gen.  A
 * sequence lock (odd seq: being written) lets any thread read or refill
 * it without a lock; a reader that sees it change just walks the table. */
typedef struct HitCache {
    uint64_t seq;
    uint64_t gen;
    const MemRegion *r;
    uint64_t lo, last;
} HitCache;

struct MemMap {
    RegionTable *table;           /* published with release, read with acquire */
    uint64_t generation;
    HitCache hit;
    Retired *retired;
    unsigned nretired;
    MemWriteNotify notify;
    void *notify_opaque;
    uint64_t device_accesses;     /* MMIO dispatches, see memory.h */
    uint64_t *dirty;              /* dirty log (memmap_set_dirty_log) */
    const uint8_t *dirty_ram;
    uint64_t dirty_ram_size;
    void (*lock)(void *);         /* around device dispatch (memmap_set_dispatch_lock) */
    void (*unlock)(void *);
    void *lock_opaque;
};

static RegionTable *table_new(size_t n, uint64_t gen)
{
    RegionTable *t = xmalloc(sizeof(*t) + n * sizeof(MemRegion *));
    t->n = n;
    t->gen = gen;
    return t;
}

static const RegionTable *table_get(MemMap *mm)
{
    return __atomic_load_n(&mm->table, __ATOMIC_ACQUIRE);
}

MemMap *memmap_new(void)
{
    MemMap *mm = xcalloc(1, sizeof(MemMap));
    mm->table = table_new(0, 0);
    return mm;
}

static void retire(MemMap *mm, void *p)
{
    Retired *r = xmalloc(sizeof(*r));
    r->p = p;
    r->next = mm->retired;
    mm->retired = r;
    mm->nretired++;
}

unsigned memmap_retired(MemMap *mm)
{
    return mm->nretired;
}

void memmap_reclaim(MemMap *mm)
{
    Retired *r = mm->retired;
    mm->retired = NULL;
    mm->nretired = 0;
    while (r) {
        Retired *next = r->next;
        free(r->p);
        free(r);
        r = next;
    }
}

void memmap_free(MemMap *mm)
{
    if (!mm)
        return;
    memmap_reclaim(mm);
    for (size_t i = 0; i < mm->table->n; i++)
        free(mm->table->r[i]);
    free(mm->table);
    free(mm);
}

void memmap_set_dispatch_lock(MemMap *mm, void (*lock)(void *), void (*unlock)(void *),
                              void *opaque)
{
    mm->lock = lock;
    mm->unlock = unlock;
    mm->lock_opaque = opaque;
}

static void dispatch_lock(MemMap *mm)
{
    if (mm->lock)
        mm->lock(mm->lock_opaque);
}

static void dispatch_unlock(MemMap *mm)
{
    if (mm->unlock)
        mm->unlock(mm->lock_opaque);
}

/* Publishes the table with region add added and region drop dropped
 * (either NULL), or just a new generation; the old table is retired.
 * Changes come from one thread at a time (the I/O lock's holder). */
static void table_publish(MemMap *mm, MemRegion *add, const MemRegion *drop)
{
    const RegionTable *old = mm->table;
    RegionTable *t = table_new(old->n + (add != NULL), old->gen + 1);
    size_t n = 0;
    for (size_t i = 0; i < old->n; i++)
        if (old->r[i] != drop)
            t->r[n++] = old->r[i];
    if (add)
        t->r[n++] = add;
    t->n = n;
    mm->generation = t->gen;
    __atomic_store_n(&mm->table, t, __ATOMIC_RELEASE);
    retire(mm, (void *)old);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static MemRegion *memmap_add(MemMap *mm, const MemRegion *tmpl, char **err)
{
    if (tmpl->size == 0 || tmpl->base + tmpl->size - 1 < tmpl->base) {
        set_error(err, "memory region '%s': empty or wrapping range 0x%llx+0x%llx",
                  tmpl->name, (unsigned long long)tmpl->base,
                  (unsigned long long)tmpl->size);
        return NULL;
    }
    const RegionTable *t = mm->table;
    for (size_t i = 0; i < t->n; i++) {
        const MemRegion *o = t->r[i];
        if (o->priority == tmpl->priority &&
            ranges_overlap(o->base, o->size, tmpl->base, tmpl->size)) {
            set_error(err, "memory region '%s' at 0x%llx overlaps '%s' at 0x%llx "
                      "with the same priority", tmpl->name,
                      (unsigned long long)tmpl->base, o->name,
                      (unsigned long long)o->base);
            return NULL;
        }
    }
    MemRegion *r = xmalloc(sizeof(*r));
    *r = *tmpl;
    r->enabled = true;
    table_publish(mm, r, NULL);
    return r;
}

MemRegion *memmap_add_ram(MemMap *mm, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, char **err)
{
    MemRegion t = { .name = name, .base = base, .size = size, .kind = MEM_RAM,
                    .host = host };
    return memmap_add(mm, &t, err);
}

MemRegion *memmap_add_rom(MemMap *mm, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, char **err)
{
    MemRegion t = { .name = name, .base = base, .size = size, .kind = MEM_ROM,
                    .host = host, .priority = 1 };
    return memmap_add(mm, &t, err);
}

MemRegion *memmap_add_mmio(MemMap *mm, const char *name, uint64_t base,
                           uint64_t size, const MemOps *ops, void *opaque,
                           int priority, char **err)
{
    MemRegion t = { .name = name, .base = base, .size = size, .kind = MEM_MMIO,
                    .ops = ops, .opaque = opaque, .priority = priority };
    return memmap_add(mm, &t, err);
}

MemRegion *memmap_add_host(MemMap *mm, const char *name, uint64_t base, uint64_t size,
                           uint8_t *host, bool writable, int priority, char **err)
{
    MemRegion t = { .name = name, .base = base, .size = size,
                    .kind = writable ? MEM_RAM : MEM_ROM, .host = host,
                    .priority = priority };
    return memmap_add(mm, &t, err);
}

MemRegion *memmap_add_ram_logged(MemMap *mm, const char *name, uint64_t base, uint64_t size,
                                 uint8_t *host, uint64_t *log, int priority, char **err)
{
    MemRegion t = { .name = name, .base = base, .size = size, .kind = MEM_RAM, .host = host,
                    .priority = priority, .log = log };
    return memmap_add(mm, &t, err);
}

void memmap_set_priority(MemRegion *r, int priority)
{
    r->priority = priority;
}

void memmap_enable(MemMap *mm, MemRegion *r, bool on)
{
    if (r->enabled != on) {
        __atomic_store_n(&r->enabled, on, __ATOMIC_RELAXED);
        table_publish(mm, NULL, NULL);    /* a new generation: caches refill */
    }
}

void memmap_remove(MemMap *mm, MemRegion *r)
{
    const RegionTable *t = mm->table;
    for (size_t i = 0; i < t->n; i++) {
        if (t->r[i] == r) {
            table_publish(mm, NULL, r);
            retire(mm, r);
            return;
        }
    }
}

uint64_t memmap_generation(MemMap *mm)
{
    return table_get(mm)->gen;
}

const uint64_t *memmap_device_accesses(MemMap *mm)
{
    return &mm->device_accesses;
}

static bool hit_read(MemMap *mm, const RegionTable *t, uint64_t addr, const MemRegion **r,
                     uint64_t *lo, uint64_t *last)
{
    HitCache *h = &mm->hit;
    uint64_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
    if (s1 & 1)
        return false;
    uint64_t gen = __atomic_load_n(&h->gen, __ATOMIC_RELAXED);
    const MemRegion *hr = __atomic_load_n(&h->r, __ATOMIC_RELAXED);
    uint64_t hlo = __atomic_load_n(&h->lo, __ATOMIC_RELAXED);
    uint64_t hlast = __atomic_load_n(&h->last, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != s1 || gen != t->gen || !hr ||
        addr - hlo > hlast - hlo)
        return false;
    *r = hr;
    *lo = hlo;
    *last = hlast;
    return true;
}

static void hit_write(MemMap *mm, const RegionTable *t, const MemRegion *r, uint64_t lo,
                      uint64_t last)
{
    HitCache *h = &mm->hit;
    uint64_t s = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
    /* Another writer at work: leave the cache to it. */
    if ((s & 1) || !__atomic_compare_exchange_n(&h->seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
                                                 __ATOMIC_RELAXED))
        return;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&h->gen, t->gen, __ATOMIC_RELAXED);
    __atomic_store_n(&h->r, r, __ATOMIC_RELAXED);
    __atomic_store_n(&h->lo, lo, __ATOMIC_RELAXED);
    __atomic_store_n(&h->last, last, __ATOMIC_RELAXED);
    __atomic_store_n(&h->seq, s + 2, __ATOMIC_RELEASE);
}

/* The winner at addr: the enabled region with the highest priority, and
 * the span [*lo, *last] around addr over which it stays the winner (its
 * own range cut by higher-priority regions beside addr).  The answer is
 * cached, so RAM with ROM/MMIO windows on top still hits the cache (the
 * page walker and the TLB fill call this for every access they make). */
static const MemRegion *find_span(MemMap *mm, uint64_t addr, uint64_t *lo_out,
                                  uint64_t *last_out)
{
    const RegionTable *t = table_get(mm);
    const MemRegion *best = NULL;
    uint64_t lo, last;
    if (hit_read(mm, t, addr, &best, &lo, &last)) {
        *lo_out = lo;
        *last_out = last;
        return best;
    }
    for (size_t i = 0; i < t->n; i++) {
        const MemRegion *r = t->r[i];
        if (__atomic_load_n(&r->enabled, __ATOMIC_RELAXED) && addr - r->base < r->size &&
            (!best || r->priority > best->priority))
            best = r;
    }
    if (!best)
        return NULL;
    lo = best->base;
    last = best->base + best->size - 1;
    for (size_t i = 0; i < t->n; i++) {
        const MemRegion *r = t->r[i];
        if (r == best || !__atomic_load_n(&r->enabled, __ATOMIC_RELAXED) ||
            r->priority <= best->priority)
            continue;
        uint64_t r_last = r->base + r->size - 1;
        if (r_last < lo || r->base > last)
            continue;
        if (r_last < addr)
            lo = r_last + 1;
        else
            last = r->base - 1;     /* above addr: it does not contain addr */
    }
    hit_write(mm, t, best, lo, last);
    *lo_out = lo;
    *last_out = last;
    return best;
}

const MemRegion *memmap_find(MemMap *mm, uint64_t addr)
{
    uint64_t lo, last;
    return find_span(mm, addr, &lo, &last);
}

static bool log_bit(const MemRegion *r, uint64_t off)
{
    uint64_t pg = off >> 12;
    return (__atomic_load_n(&r->log[pg / 64], __ATOMIC_RELAXED) >> (pg % 64)) & 1;
}

uint8_t *memmap_host_ptr_log(MemMap *mm, uint64_t addr, uint64_t len, bool *writable,
                             bool *logged, bool *log_clean)
{
    uint64_t lo, last;
    const MemRegion *r = find_span(mm, addr, &lo, &last);
    if (!r || r->kind == MEM_MMIO)
        return NULL;
    /* [lo, last] is the part of r around addr that no other region
     * shadows. */
    if (len && len - 1 > last - addr)
        return NULL;
    *writable = r->kind == MEM_RAM;
    *logged = r->log != NULL;
    *log_clean = r->log && !log_bit(r, addr - r->base);
    return r->host + (addr - r->base);
}

uint8_t *memmap_host_ptr_rw(MemMap *mm, uint64_t addr, uint64_t len, bool *writable)
{
    bool logged, clean;
    return memmap_host_ptr_log(mm, addr, len, writable, &logged, &clean);
}

static void mark_dirty(MemMap *mm, const MemRegion *r, const uint8_t *host, size_t len);

uint8_t *memmap_host_ptr(MemMap *mm, uint64_t addr, uint64_t len, bool for_write)
{
    bool writable, logged, clean;
    uint8_t *p = memmap_host_ptr_log(mm, addr, len, &writable, &logged, &clean);
    if (!p || (!writable && for_write))
        return NULL;
    /* A device about to write through the pointer (virtio rings and
     * buffers): log it for a live migration (and a logged region's owner)
     * now. */
    if (for_write)
        mark_dirty(mm, logged ? memmap_find(mm, addr) : NULL, p, len);
    return p;
}

uint8_t *memmap_ram_range(MemMap *mm, uint64_t addr, uint64_t *lo, uint64_t *len)
{
    uint64_t first, last;
    const MemRegion *r = find_span(mm, addr, &first, &last);
    if (!r || r->kind != MEM_RAM)
        return NULL;
    *lo = first;
    *len = last - first + 1;
    return r->host + (first - r->base);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void memmap_flatten(MemMap *mm, MemFlatFn fn, void *opaque)
{
    /* Every region boundary is a point where the winner may change. */
    size_t n = 0;
    const RegionTable *t = table_get(mm);
    uint64_t *pts = xmalloc((t->n * 2 + 1) * sizeof(*pts));
    for (size_t i = 0; i < t->n; i++) {
        if (!t->r[i]->enabled)
            continue;
        pts[n++] = t->r[i]->base;
        pts[n++] = t->r[i]->base + t->r[i]->size;  /* may wrap to 0 at 2^64 */
    }
    qsort(pts, n, sizeof(*pts), cmp_u64);
    const MemRegion *cur = NULL;
    uint64_t cur_start = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && pts[i] == pts[i - 1])
            continue;
        const MemRegion *w = memmap_find(mm, pts[i]);
        if (w == cur)
            continue;
        if (cur)
            fn(opaque, cur, cur_start, pts[i] - cur_start);
        cur = w;
        cur_start = pts[i];
    }
    if (cur)
        fn(opaque, cur, cur_start, cur->base + cur->size - cur_start);
    free(pts);
}

void memmap_set_dirty_log(MemMap *mm, uint64_t *bitmap, const uint8_t *ram, uint64_t ram_size)
{
    mm->dirty = bitmap;
    mm->dirty_ram = ram;
    mm->dirty_ram_size = ram_size;
}

/* The region's own log, over [host, host+len) inside r. */
static void mark_region_log(const MemRegion *r, const uint8_t *host, size_t len)
{
    if (!r || !r->log || len == 0 || host < r->host)
        return;
    uint64_t off = (uint64_t)(host - r->host);
    if (off >= r->size)
        return;
    uint64_t last = MIN(off + len - 1, r->size - 1);
    for (uint64_t pg = off >> 12; pg <= last >> 12; pg++)
        __atomic_or_fetch(&r->log[pg / 64], 1ULL << (pg % 64), __ATOMIC_RELAXED);
}

void memmap_log_write(MemMap *mm, uint64_t addr, uint64_t len)
{
    const MemRegion *r = memmap_find(mm, addr);
    if (r && r->log && r->kind == MEM_RAM)
        mark_region_log(r, r->host + (addr - r->base), len);
}

/* Both logs a write to RAM feeds: the machine's (live migration, pages of
 * the RAM block) and the region's own (logged RAM): one consumer's sync
 * never clears the other's bits. */
static void mark_dirty(MemMap *mm, const MemRegion *r, const uint8_t *host, size_t len)
{
    mark_region_log(r, host, len);
    if (!mm->dirty || host < mm->dirty_ram || len == 0)
        return;
    uint64_t off = (uint64_t)(host - mm->dirty_ram);
    if (off >= mm->dirty_ram_size)
        return;
    uint64_t last = MIN(off + len - 1, mm->dirty_ram_size - 1);
    for (uint64_t pg = off >> 12; pg <= last >> 12; pg++)
        __atomic_or_fetch(&mm->dirty[pg / 64], 1ULL << (pg % 64), __ATOMIC_RELAXED);
}

void memmap_set_write_notify(MemMap *mm, MemWriteNotify fn, void *opaque)
{
    mm->notify = fn;
    mm->notify_opaque = opaque;
}

static unsigned ops_min(const MemOps *ops) { return ops->min_size ? ops->min_size : 1; }
static unsigned ops_max(const MemOps *ops) { return ops->max_size ? ops->max_size : 4; }

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Calls a device read with an access size it accepts: wider accesses are
 * split little-endian, narrower ones read the enclosing aligned unit. */
static uint64_t ops_read(const MemOps *ops, void *opaque, uint64_t off, unsigned size)
{
    unsigned lo = ops_min(ops), hi = ops_max(ops);
    if (!ops->read)
        return size_mask(size);
    if (size >= lo && size <= hi)
        return ops->read(opaque, off, size) & size_mask(size);
    if (size > hi) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += hi)
            v |= ops_read(ops, opaque, off + i, hi) << (i * 8);
        return v;
    }
    uint64_t base = off & ~(uint64_t)(lo - 1);
    uint64_t v = ops->read(opaque, base, lo);
    return (v >> ((off - base) * 8)) & size_mask(size);
}

static void ops_write(const MemOps *ops, void *opaque, uint64_t off,
                      uint64_t val, unsigned size)
{
    unsigned lo = ops_min(ops), hi = ops_max(ops);
    if (!ops->write)
        return;
    if (size >= lo && size <= hi) {
        ops->write(opaque, off, val & size_mask(size), size);
    } else if (size > hi) {
        for (unsigned i = 0; i < size; i += hi)
            ops_write(ops, opaque, off + i, val >> (i * 8), hi);
    } else {
        /* Narrow write to a wide-only device: read-modify-write. */
        uint64_t base = off & ~(uint64_t)(lo - 1);
        unsigned shift = (off - base) * 8;
        uint64_t old = ops->read ? ops->read(opaque, base, lo) : 0;
        uint64_t m = size_mask(size) << shift;
        ops->write(opaque, base, (old & ~m) | ((val << shift) & m), lo);
    }
}

static uint64_t memmap_read_byte_path(MemMap *mm, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= memmap_read(mm, addr + i, 1) << (i * 8);
    return v;
}

uint64_t memmap_read(MemMap *mm, uint64_t addr, unsigned size)
{
    const MemRegion *r = memmap_find(mm, addr);
    if (!r) {
        LOG(LOG_UNIMP, "unassigned memory read  0x%llx size %u\n",
            (unsigned long long)addr, size);
        return size_mask(size);
    }
    uint64_t off = addr - r->base;
    if (size > 1 && (off + size > r->size || memmap_find(mm, addr + size - 1) != r))
        return memmap_read_byte_path(mm, addr, size);
    if (r->kind == MEM_MMIO) {
        dispatch_lock(mm);
        mm->device_accesses++;
        uint64_t v = ops_read(r->ops, r->opaque, off, size);
        dispatch_unlock(mm);
        return v;
    }
    uint64_t v = 0;
    memcpy(&v, r->host + off, size);
    return v;
}

uint64_t memmap_read_below(MemMap *mm, int priority, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    const RegionTable *t = table_get(mm);
    for (unsigned i = 0; i < size; i++, addr++) {
        const MemRegion *best = NULL;
        for (size_t k = 0; k < t->n; k++) {
            const MemRegion *r = t->r[k];
            if (r->enabled && r->priority < priority && addr - r->base < r->size &&
                (!best || r->priority > best->priority))
                best = r;
        }
        uint64_t b = 0xff;
        if (best && best->kind == MEM_MMIO) {
            dispatch_lock(mm);
            mm->device_accesses++;
            b = ops_read(best->ops, best->opaque, addr - best->base, 1);
            dispatch_unlock(mm);
        } else if (best) {
            b = best->host[addr - best->base];
        }
        v |= (b & 0xff) << (8 * i);
    }
    return v;
}

void memmap_write(MemMap *mm, uint64_t addr, uint64_t value, unsigned size)
{
    const MemRegion *r = memmap_find(mm, addr);
    if (!r) {
        LOG(LOG_UNIMP, "unassigned memory write 0x%llx size %u value 0x%llx\n",
            (unsigned long long)addr, size, (unsigned long long)value);
        return;
    }
    uint64_t off = addr - r->base;
    if (size > 1 && (off + size > r->size || memmap_find(mm, addr + size - 1) != r)) {
        for (unsigned i = 0; i < size; i++)
            memmap_write(mm, addr + i, value >> (i * 8), 1);
        return;
    }
    switch (r->kind) {
    case MEM_MMIO:
        dispatch_lock(mm);
        mm->device_accesses++;
        ops_write(r->ops, r->opaque, off, value, size);
        dispatch_unlock(mm);
        break;
    case MEM_ROM:
        break;
    case MEM_RAM:
        memcpy(r->host + off, &value, size);
        mark_dirty(mm, r, r->host + off, size);
        if (mm->notify)
            mm->notify(mm->notify_opaque, addr, size);
        break;
    }
}

static bool memmap_copy(MemMap *mm, uint64_t addr, uint8_t *rd, const uint8_t *wr,
                        size_t len, bool into_rom)
{
    bool ok = true;
    while (len) {
        const MemRegion *r = memmap_find(mm, addr);
        if (!r) {
            ok = false;
            if (rd)
                *rd++ = 0xff;
            else
                wr++;
            addr++, len--;
            continue;
        }
        uint64_t off = addr - r->base;
        size_t chunk = r->size - off < len ? (size_t)(r->size - off) : len;
        /* Stop the chunk where a higher-priority region begins. */
        const RegionTable *t = table_get(mm);
        for (size_t i = 0; i < t->n; i++) {
            const MemRegion *o = t->r[i];
            if (o != r && o->enabled && o->priority > r->priority &&
                o->base > addr && o->base - addr < chunk)
                chunk = o->base - addr;
        }
        if (r->kind == MEM_MMIO) {
            dispatch_lock(mm);
            mm->device_accesses++;
            for (size_t i = 0; i < chunk; i++) {
                if (rd)
                    rd[i] = ops_read(r->ops, r->opaque, off + i, 1);
                else
                    ops_write(r->ops, r->opaque, off + i, wr[i], 1);
            }
            dispatch_unlock(mm);
        } else if (rd) {
            memcpy(rd, r->host + off, chunk);
        } else if (r->kind == MEM_RAM || into_rom) {
            memcpy(r->host + off, wr, chunk);
            if (r->kind == MEM_RAM)
                mark_dirty(mm, r, r->host + off, chunk);
            if (mm->notify && r->kind == MEM_RAM)
                mm->notify(mm->notify_opaque, addr, chunk);
        }
        if (rd)
            rd += chunk;
        else
            wr += chunk;
        addr += chunk;
        len -= chunk;
    }
    return ok;
}

bool memmap_read_buf(MemMap *mm, uint64_t addr, void *buf, size_t len)
{
    return memmap_copy(mm, addr, buf, NULL, len, false);
}

bool memmap_write_buf(MemMap *mm, uint64_t addr, const void *buf, size_t len)
{
    return memmap_copy(mm, addr, NULL, buf, len, false);
}

bool memmap_load_buf(MemMap *mm, uint64_t addr, const void *buf, size_t len)
{
    return memmap_copy(mm, addr, NULL, buf, len, true);
}

/* ---- IO ports ---- */

typedef struct IORange {
    const char *name;
    uint32_t base, count;
    const MemOps *ops;
    void *opaque;
} IORange;

struct IOSpace {
    IORange *port[65536];   /* owner of each port, NULL when unassigned */
    uint64_t device_accesses;
    void (*lock)(void *);   /* around dispatch (iospace_set_dispatch_lock) */
    void (*unlock)(void *);
    void *lock_opaque;
};

void iospace_set_dispatch_lock(IOSpace *io, void (*lock)(void *), void (*unlock)(void *),
                               void *opaque)
{
    io->lock = lock;
    io->unlock = unlock;
    io->lock_opaque = opaque;
}

IOSpace *iospace_new(void)
{
    return xcalloc(1, sizeof(IOSpace));
}

void iospace_free(IOSpace *io)
{
    if (!io)
        return;
    /* Free each range at its last port, after every earlier port of it
     * has been looked at. */
    for (uint32_t p = 0; p < 65536; p++) {
        IORange *r = io->port[p];
        if (r && p == r->base + r->count - 1)
            free(r);
    }
    free(io);
}

bool iospace_add(IOSpace *io, const char *name, uint32_t base, uint32_t count,
                 const MemOps *ops, void *opaque, char **err)
{
    if (count == 0 || base > 0xffff || count > 0x10000 - base) {
        set_error(err, "io ports '%s': range 0x%x+%u is outside 0-0xffff",
                  name, base, count);
        return false;
    }
    for (uint32_t p = base; p < base + count; p++) {
        if (io->port[p]) {
            set_error(err, "io ports '%s' at 0x%x overlap '%s'", name, p,
                      io->port[p]->name);
            return false;
        }
    }
    IORange *r = xmalloc(sizeof(*r));
    *r = (IORange){ .name = name, .base = base, .count = count, .ops = ops,
                    .opaque = opaque };
    for (uint32_t p = base; p < base + count; p++)
        io->port[p] = r;
    return true;
}

void iospace_remove(IOSpace *io, uint32_t base, uint32_t count)
{
    IORange *owners[16];
    unsigned nowners = 0;
    for (uint32_t p = base; p < base + count && p < 65536; p++) {
        IORange *r = io->port[p];
        if (!r)
            continue;
        io->port[p] = NULL;
        bool seen = false;
        for (unsigned i = 0; i < nowners; i++)
            seen |= owners[i] == r;
        if (!seen && nowners < 16)
            owners[nowners++] = r;
    }
    /* Free a range only when no port refers to it any more. */
    for (unsigned i = 0; i < nowners; i++) {
        IORange *r = owners[i];
        bool used = false;
        for (uint32_t p = r->base; p < r->base + r->count && !used; p++)
            used = io->port[p] == r;
        if (!used)
            free(r);
    }
}

const uint64_t *iospace_device_accesses(IOSpace *io)
{
    return &io->device_accesses;
}

const char *iospace_owner(IOSpace *io, uint16_t port)
{
    return io->port[port] ? io->port[port]->name : NULL;
}

static uint32_t iospace_read_locked(IOSpace *io, uint16_t port, unsigned size);
static void iospace_write_locked(IOSpace *io, uint16_t port, uint32_t value, unsigned size);

/* The whole access under the dispatch lock: the port table changes only
 * under it too. */
static uint32_t io_read(IOSpace *io, uint16_t port, unsigned size)
{
    if (io->lock)
        io->lock(io->lock_opaque);
    uint32_t v = iospace_read_locked(io, port, size);
    if (io->unlock)
        io->unlock(io->lock_opaque);
    return v;
}

static void io_write(IOSpace *io, uint16_t port, uint32_t value, unsigned size)
{
    if (io->lock)
        io->lock(io->lock_opaque);
    iospace_write_locked(io, port, value, size);
    if (io->unlock)
        io->unlock(io->lock_opaque);
}

static uint32_t iospace_read_locked(IOSpace *io, uint16_t port, unsigned size)
{
    IORange *r = io->port[port];
    /* A wide access that leaves the owner's range (or has none) goes byte
     * by byte, so each port's owner answers for itself. */
    if (size > 1 && (!r || (uint32_t)port + size > r->base + r->count)) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= iospace_read_locked(io, (uint16_t)(port + i), 1) << (i * 8);
        return v;
    }
    if (!r) {
        LOG(LOG_UNIMP, "unassigned port read  0x%04x size %u\n", port, size);
        return (uint32_t)size_mask(size);
    }
    io->device_accesses++;
    return (uint32_t)ops_read(r->ops, r->opaque, port - r->base, size);
}

static void iospace_write_locked(IOSpace *io, uint16_t port, uint32_t value, unsigned size)
{
    IORange *r = io->port[port];
    if (size > 1 && (!r || (uint32_t)port + size > r->base + r->count)) {
        for (unsigned i = 0; i < size; i++)
            iospace_write_locked(io, (uint16_t)(port + i), value >> (i * 8), 1);
        return;
    }
    if (!r) {
        LOG(LOG_UNIMP, "unassigned port write 0x%04x size %u value 0x%x\n",
            port, size, value);
        return;
    }
    io->device_accesses++;
    ops_write(r->ops, r->opaque, port - r->base, value, size);
}

/* -d ioport: one line per guest access, as the guest issued it (a wide
 * access split over several owners is one line, named by the owner of
 * its first port). */
static void log_ioport(IOSpace *io, const char *dir, uint16_t port, unsigned size, uint32_t v)
{
    const char *owner = iospace_owner(io, port);
    log_printf("ioport: %s 0x%04x size %u value 0x%0*x %s\n", dir, port, size, (int)size * 2,
               v, owner ? owner : "unassigned");
}

uint32_t iospace_read(IOSpace *io, uint16_t port, unsigned size)
{
    uint32_t v = io_read(io, port, size);
    if (log_enabled(LOG_IOPORT))
        log_ioport(io, "in ", port, size, v);
    return v;
}

void iospace_write(IOSpace *io, uint16_t port, uint32_t value, unsigned size)
{
    /* before the device runs, so its own log lines follow the access */
    if (log_enabled(LOG_IOPORT))
        log_ioport(io, "out", port, size, value & (uint32_t)size_mask(size));
    io_write(io, port, value, size);
}
