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

struct MemMap {
    MemRegion **regions;
    size_t n, cap;
    uint64_t generation;
    /* The last winner over [hit_lo, hit_last], looked up by every vCPU
     * thread's TLB fills: a sequence lock (hit_seq even = stable) so no
     * thread reads a region with another lookup's span.  A thread that
     * finds it being written searches without it. */
    unsigned hit_seq;
    const MemRegion *last_hit;
    uint64_t hit_lo, hit_last;
    MemWriteNotify notify;
    void *notify_opaque;
    uint64_t device_accesses;     /* MMIO dispatches, see memory.h */
    uint64_t *dirty;              /* dirty log (memmap_set_dirty_log) */
    const uint8_t *dirty_ram;
    uint64_t dirty_ram_size;
};

/* Takes the cache for writing (even -> odd), or false when another
 * thread has it. */
static bool hit_cache_lock(MemMap *mm, unsigned *seq)
{
    unsigned s = __atomic_load_n(&mm->hit_seq, __ATOMIC_RELAXED);
    if (s & 1)
        return false;
    if (!__atomic_compare_exchange_n(&mm->hit_seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    *seq = s;
    return true;
}

static void hit_cache_set(MemMap *mm, const MemRegion *r, uint64_t lo, uint64_t last)
{
    unsigned s;
    if (!hit_cache_lock(mm, &s))
        return;
    __atomic_store_n(&mm->last_hit, r, __ATOMIC_RELAXED);
    __atomic_store_n(&mm->hit_lo, lo, __ATOMIC_RELAXED);
    __atomic_store_n(&mm->hit_last, last, __ATOMIC_RELAXED);
    __atomic_store_n(&mm->hit_seq, s + 2, __ATOMIC_RELEASE);
}

/* The map changed (on the thread changing it): nothing cached survives. */
static void hit_cache_clear(MemMap *mm)
{
    unsigned s;
    while (!hit_cache_lock(mm, &s))
        ;
    __atomic_store_n(&mm->last_hit, NULL, __ATOMIC_RELAXED);
    __atomic_store_n(&mm->hit_seq, s + 2, __ATOMIC_RELEASE);
}

/* The cached winner when it covers addr (with its span), else NULL. */
static const MemRegion *hit_cache_get(MemMap *mm, uint64_t addr, uint64_t *lo, uint64_t *last)
{
    unsigned s = __atomic_load_n(&mm->hit_seq, __ATOMIC_ACQUIRE);
    if (s & 1)
        return NULL;
    const MemRegion *h = __atomic_load_n(&mm->last_hit, __ATOMIC_RELAXED);
    uint64_t l = __atomic_load_n(&mm->hit_lo, __ATOMIC_RELAXED);
    uint64_t e = __atomic_load_n(&mm->hit_last, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&mm->hit_seq, __ATOMIC_RELAXED) != s || !h || addr - l > e - l)
        return NULL;
    *lo = l;
    *last = e;
    return h;
}

MemMap *memmap_new(void)
{
    return xcalloc(1, sizeof(MemMap));
}

void memmap_free(MemMap *mm)
{
    if (!mm)
        return;
    for (size_t i = 0; i < mm->n; i++)
        free(mm->regions[i]);
    free(mm->regions);
    free(mm);
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
    for (size_t i = 0; i < mm->n; i++) {
        const MemRegion *o = mm->regions[i];
        if (o->priority == tmpl->priority &&
            ranges_overlap(o->base, o->size, tmpl->base, tmpl->size)) {
            set_error(err, "memory region '%s' at 0x%llx overlaps '%s' at 0x%llx "
                      "with the same priority", tmpl->name,
                      (unsigned long long)tmpl->base, o->name,
                      (unsigned long long)o->base);
            return NULL;
        }
    }
    if (mm->n == mm->cap) {
        mm->cap = mm->cap ? mm->cap * 2 : 16;
        mm->regions = xrealloc(mm->regions, mm->cap * sizeof(*mm->regions));
    }
    MemRegion *r = xmalloc(sizeof(*r));
    *r = *tmpl;
    r->enabled = true;
    mm->regions[mm->n++] = r;
    mm->generation++;
    hit_cache_clear(mm);
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

void memmap_set_priority(MemRegion *r, int priority)
{
    r->priority = priority;
}

void memmap_enable(MemMap *mm, MemRegion *r, bool on)
{
    if (r->enabled != on) {
        r->enabled = on;
        mm->generation++;
        hit_cache_clear(mm);
    }
}

void memmap_remove(MemMap *mm, MemRegion *r)
{
    for (size_t i = 0; i < mm->n; i++) {
        if (mm->regions[i] == r) {
            memmove(&mm->regions[i], &mm->regions[i + 1],
                    (mm->n - i - 1) * sizeof(*mm->regions));
            mm->n--;
            free(r);
            mm->generation++;
            hit_cache_clear(mm);
            return;
        }
    }
}

uint64_t memmap_generation(MemMap *mm)
{
    return mm->generation;
}

const uint64_t *memmap_device_accesses(MemMap *mm)
{
    return &mm->device_accesses;
}

/* The winner at addr: the enabled region with the highest priority.
 * The answer is cached with the span around addr over which it stays the
 * winner (its own range cut by higher-priority regions beside addr), so
 * RAM with ROM/MMIO windows on top still hits the cache (the page walker
 * and the TLB fill call this for every access they make). */
/* The winner at addr and the span around it where it stays the winner. */
static const MemRegion *find_span(MemMap *mm, uint64_t addr, uint64_t *span_lo,
                                  uint64_t *span_last)
{
    const MemRegion *h = hit_cache_get(mm, addr, span_lo, span_last);
    if (h)
        return h;
    const MemRegion *best = NULL;
    for (size_t i = 0; i < mm->n; i++) {
        const MemRegion *r = mm->regions[i];
        if (r->enabled && addr - r->base < r->size &&
            (!best || r->priority > best->priority))
            best = r;
    }
    if (!best)
        return NULL;
    uint64_t lo = best->base, last = best->base + best->size - 1;
    for (size_t i = 0; i < mm->n; i++) {
        const MemRegion *r = mm->regions[i];
        if (r == best || !r->enabled || r->priority <= best->priority)
            continue;
        uint64_t r_last = r->base + r->size - 1;
        if (r_last < lo || r->base > last)
            continue;
        if (r_last < addr)
            lo = r_last + 1;
        else
            last = r->base - 1;     /* above addr: it does not contain addr */
    }
    hit_cache_set(mm, best, lo, last);
    *span_lo = lo;
    *span_last = last;
    return best;
}

const MemRegion *memmap_find(MemMap *mm, uint64_t addr)
{
    uint64_t lo, last;
    return find_span(mm, addr, &lo, &last);
}

uint8_t *memmap_host_ptr_rw(MemMap *mm, uint64_t addr, uint64_t len, bool *writable)
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
    return r->host + (addr - r->base);
}

static void mark_dirty(MemMap *mm, const uint8_t *host, size_t len);

uint8_t *memmap_host_ptr(MemMap *mm, uint64_t addr, uint64_t len, bool for_write)
{
    bool writable;
    uint8_t *p = memmap_host_ptr_rw(mm, addr, len, &writable);
    if (!p || (!writable && for_write))
        return NULL;
    /* A device about to write through the pointer (virtio rings and
     * buffers): log it for a live migration now. */
    if (for_write)
        mark_dirty(mm, p, len);
    return p;
}

uint8_t *memmap_ram_range(MemMap *mm, uint64_t addr, uint64_t *lo, uint64_t *len)
{
    uint64_t span_lo, span_last;
    const MemRegion *r = find_span(mm, addr, &span_lo, &span_last);
    if (!r || r->kind != MEM_RAM)
        return NULL;
    *lo = span_lo;
    *len = span_last - span_lo + 1;
    return r->host + (span_lo - r->base);
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
    uint64_t *pts = xmalloc((mm->n * 2 + 1) * sizeof(*pts));
    for (size_t i = 0; i < mm->n; i++) {
        if (!mm->regions[i]->enabled)
            continue;
        pts[n++] = mm->regions[i]->base;
        pts[n++] = mm->regions[i]->base + mm->regions[i]->size;  /* may wrap to 0 at 2^64 */
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

static void mark_dirty(MemMap *mm, const uint8_t *host, size_t len)
{
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
        mm->device_accesses++;
        return ops_read(r->ops, r->opaque, off, size);
    }
    uint64_t v = 0;
    memcpy(&v, r->host + off, size);
    return v;
}

uint64_t memmap_read_below(MemMap *mm, int priority, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++, addr++) {
        const MemRegion *best = NULL;
        for (size_t k = 0; k < mm->n; k++) {
            const MemRegion *r = mm->regions[k];
            if (r->enabled && r->priority < priority && addr - r->base < r->size &&
                (!best || r->priority > best->priority))
                best = r;
        }
        uint64_t b = 0xff;
        if (best && best->kind == MEM_MMIO) {
            mm->device_accesses++;
            b = ops_read(best->ops, best->opaque, addr - best->base, 1);
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
        mm->device_accesses++;
        ops_write(r->ops, r->opaque, off, value, size);
        break;
    case MEM_ROM:
        break;
    case MEM_RAM:
        memcpy(r->host + off, &value, size);
        mark_dirty(mm, r->host + off, size);
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
        for (size_t i = 0; i < mm->n; i++) {
            const MemRegion *o = mm->regions[i];
            if (o != r && o->enabled && o->priority > r->priority &&
                o->base > addr && o->base - addr < chunk)
                chunk = o->base - addr;
        }
        if (r->kind == MEM_MMIO) {
            mm->device_accesses++;
            for (size_t i = 0; i < chunk; i++) {
                if (rd)
                    rd[i] = ops_read(r->ops, r->opaque, off + i, 1);
                else
                    ops_write(r->ops, r->opaque, off + i, wr[i], 1);
            }
        } else if (rd) {
            memcpy(rd, r->host + off, chunk);
        } else if (r->kind == MEM_RAM || into_rom) {
            memcpy(r->host + off, wr, chunk);
            if (r->kind == MEM_RAM)
                mark_dirty(mm, r->host + off, chunk);
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
};

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

uint32_t iospace_read(IOSpace *io, uint16_t port, unsigned size)
{
    IORange *r = io->port[port];
    /* A wide access that leaves the owner's range (or has none) goes byte
     * by byte, so each port's owner answers for itself. */
    if (size > 1 && (!r || (uint32_t)port + size > r->base + r->count)) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= iospace_read(io, (uint16_t)(port + i), 1) << (i * 8);
        return v;
    }
    if (!r) {
        LOG(LOG_UNIMP, "unassigned port read  0x%04x size %u\n", port, size);
        return (uint32_t)size_mask(size);
    }
    io->device_accesses++;
    return (uint32_t)ops_read(r->ops, r->opaque, port - r->base, size);
}

void iospace_write(IOSpace *io, uint16_t port, uint32_t value, unsigned size)
{
    IORange *r = io->port[port];
    if (size > 1 && (!r || (uint32_t)port + size > r->base + r->count)) {
        for (unsigned i = 0; i < size; i++)
            iospace_write(io, (uint16_t)(port + i), value >> (i * 8), 1);
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
