/*
 * Guest physical memory map and IO-port space.
 *
 * A MemMap holds regions of three kinds: RAM (host memory, lazily mapped),
 * ROM (host memory, guest writes dropped) and MMIO (callbacks).  Regions have
 * a priority: where two overlap, the higher priority wins (a VGA window over
 * RAM, say); equal-priority overlaps are refused at registration.
 * Accesses that hit no region read all ones and drop writes, and are logged
 * under `-d unimp`.
 *
 * The IO-port space is the same idea over 64 Ki ports with O(1) dispatch.
 *
 *   MemMap *mm = memmap_new();
 *   memmap_add_ram(mm, "ram", 0, 512 << 20, ram_ptr);
 *   memmap_add_mmio(mm, "hpet", 0xfed00000, 0x400, &hpet_ops, hpet, 0);
 *   uint64_t v = memmap_read(mm, 0xfed000f0, 8);
 */
#ifndef VX86_CORE_MEMORY_H
#define VX86_CORE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One callback shape for every device, MMIO and port IO alike.  offset is
 * relative to the region's base; size is 1, 2, 4 or 8 bytes.  Accesses
 * outside [min_size, max_size] are split into (or widened to) allowed
 * sizes by the dispatcher, so handlers only see sizes they declared. */
typedef struct MemOps {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    unsigned min_size; /* 0 means 1 */
    unsigned max_size; /* 0 means 4 */
} MemOps;

typedef enum MemKind { MEM_RAM, MEM_ROM, MEM_MMIO } MemKind;

typedef struct MemRegion {
    const char *name;
    uint64_t base, size;
    MemKind kind;
    int priority;
    uint8_t *host;          /* RAM/ROM: host memory backing [base, base+size) */
    const MemOps *ops;      /* MMIO */
    void *opaque;
    bool enabled;
    /* RAM with its own dirty log (memmap_add_ram_logged): one bit per
     * 4 KiB page of host, set by every write; NULL for other regions. */
    uint64_t *log;
} MemRegion;

typedef struct MemMap MemMap;

MemMap *memmap_new(void);
void memmap_free(MemMap *mm);

/* Registration returns the region, or NULL (and *err set when err is not
 * NULL, a malloc'ed message) on an equal-priority overlap or bad range. */
MemRegion *memmap_add_ram(MemMap *mm, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, char **err);
MemRegion *memmap_add_rom(MemMap *mm, const char *name, uint64_t base,
                          uint64_t size, uint8_t *host, char **err);
MemRegion *memmap_add_mmio(MemMap *mm, const char *name, uint64_t base,
                           uint64_t size, const MemOps *ops, void *opaque,
                           int priority, char **err);
/* RAM (writable) or ROM at a given priority: a chipset's shadow window
 * over lower-priority memory (i440FX PAM). */
MemRegion *memmap_add_host(MemMap *mm, const char *name, uint64_t base, uint64_t size,
                           uint8_t *host, bool writable, int priority, char **err);
/* RAM whose writes the owner wants to know of (the VGA's video memory
 * behind its framebuffer BAR): guest CPU writes go straight to host (the
 * translator logs the first write to each page after every sync, as for
 * a live migration: TLB_NOTDIRTY), device writes through the map set the
 * bits too.  log holds size / 4096 bits, pages counted from host, and
 * stays the owner's (it outlives the region when the BAR moves).  No code
 * is translated from it (executing there takes the device path), and KVM
 * gives it no memory slot, so under KVM every access exits to the map. */
MemRegion *memmap_add_ram_logged(MemMap *mm, const char *name, uint64_t base, uint64_t size,
                                 uint8_t *host, uint64_t *log, int priority, char **err);
/* Sets the log bits of [addr, addr+len) where it is logged RAM (a CPU's
 * first write to a clean page: the translator's TLB_NOTDIRTY path). */
void memmap_log_write(MemMap *mm, uint64_t addr, uint64_t len);
void memmap_set_priority(MemRegion *r, int priority);
void memmap_enable(MemMap *mm, MemRegion *r, bool on);
void memmap_remove(MemMap *mm, MemRegion *r);

/* The region that owns addr (highest priority), or NULL. */
const MemRegion *memmap_find(MemMap *mm, uint64_t addr);
/* Host pointer for len bytes of RAM (writable) or ROM (when !for_write) at
 * addr, or NULL when [addr, addr+len) is not wholly such memory. */
uint8_t *memmap_host_ptr(MemMap *mm, uint64_t addr, uint64_t len, bool for_write);
/* The same for RAM or ROM in one lookup; *writable: it is RAM. */
uint8_t *memmap_host_ptr_rw(MemMap *mm, uint64_t addr, uint64_t len, bool *writable);
/* As memmap_host_ptr_rw, and *log_clean: addr's page is logged RAM whose
 * bit is clear (its next write must be logged), *logged: it is logged RAM
 * at all (no code may be translated from it). */
uint8_t *memmap_host_ptr_log(MemMap *mm, uint64_t addr, uint64_t len, bool *writable,
                             bool *logged, bool *log_clean);
/* The largest RAM range around addr that one region owns unshadowed: its
 * first address and length in *lo / *len, and the host pointer of *lo;
 * NULL when addr is not RAM.  Valid until the map changes (generation). */
uint8_t *memmap_ram_range(MemMap *mm, uint64_t addr, uint64_t *lo, uint64_t *len);
/* Bumped whenever the map changes, so caches of lookups (the CPU's TLB)
 * know to flush. */
uint64_t memmap_generation(MemMap *mm);
/* A counter bumped by every access dispatched to a device (MMIO here,
 * ports in iospace_device_accesses): device state changes only through
 * these or from the main loop, so the CPU loop re-polls the interrupt
 * controllers only when it moved.  The address is stable for the map's
 * life, so a caller may keep it and read it without a call. */
const uint64_t *memmap_device_accesses(MemMap *mm);

/* Calls fn for each maximal range of the flattened map (the winning
 * region at every address), in address order; unassigned gaps are not
 * reported.  Accelerators that need non-overlapping slots (KVM) use it. */
typedef void (*MemFlatFn)(void *opaque, const MemRegion *r, uint64_t start, uint64_t len);
void memmap_flatten(MemMap *mm, MemFlatFn fn, void *opaque);

uint64_t memmap_read(MemMap *mm, uint64_t addr, unsigned size);
void memmap_write(MemMap *mm, uint64_t addr, uint64_t value, unsigned size);
/* What a read at addr returns from the regions below priority (those at
 * priority or above ignored): a chipset whose shadow window forwards
 * reads to the bus underneath (i440FX PAM write-only mode). */
uint64_t memmap_read_below(MemMap *mm, int priority, uint64_t addr, unsigned size);
/* Bulk copies (DMA, loaders).  Return false if any byte hit no RAM/ROM/MMIO. */
bool memmap_read_buf(MemMap *mm, uint64_t addr, void *buf, size_t len);
bool memmap_write_buf(MemMap *mm, uint64_t addr, const void *buf, size_t len);
/* Loaders may write into ROM: */
bool memmap_load_buf(MemMap *mm, uint64_t addr, const void *buf, size_t len);

/* Device dispatch runs between lock(opaque) and unlock(opaque) (the
 * machine's I/O lock: vCPU threads dispatch concurrently).  Lookups take
 * no lock: the region table is replaced whole on every change, and what a
 * change drops is kept until memmap_reclaim, which the owner calls when
 * no thread can be looking (between accelerator runs, or with every vCPU
 * stopped); memmap_retired says how much waits. */
void memmap_set_dispatch_lock(MemMap *mm, void (*lock)(void *), void (*unlock)(void *),
                              void *opaque);
unsigned memmap_retired(MemMap *mm);
void memmap_reclaim(MemMap *mm);

/* Called on every write that reaches RAM through memmap_write*, so the
 * translator can invalidate code on that page.  Optional. */
typedef void (*MemWriteNotify)(void *opaque, uint64_t addr, size_t len);
void memmap_set_write_notify(MemMap *mm, MemWriteNotify fn, void *opaque);

/* Dirty log: while set, every write that reaches RAM through the map
 * (memmap_write*, DMA) and every memmap_host_ptr(..., for_write) sets the
 * bit of its 4 KiB page in bitmap (a device writing later, from another
 * thread, after the log was synced, is not seen: drain I/O first), pages
 * counted from ram (the machine's RAM block of ram_size bytes).  NULL
 * bitmap stops it. */
void memmap_set_dirty_log(MemMap *mm, uint64_t *bitmap, const uint8_t *ram, uint64_t ram_size);

/* ---- IO ports ---- */
typedef struct IOSpace IOSpace;

IOSpace *iospace_new(void);
void iospace_free(IOSpace *io);
/* Claims ports [base, base+count).  Refuses (NULL / *err) overlap with a
 * registered range or a range past 0xffff. */
bool iospace_add(IOSpace *io, const char *name, uint32_t base, uint32_t count,
                 const MemOps *ops, void *opaque, char **err);
void iospace_remove(IOSpace *io, uint32_t base, uint32_t count);
const char *iospace_owner(IOSpace *io, uint16_t port);
/* Every access (and its table lookup) between lock and unlock. */
void iospace_set_dispatch_lock(IOSpace *io, void (*lock)(void *), void (*unlock)(void *),
                               void *opaque);
const uint64_t *iospace_device_accesses(IOSpace *io);   /* as memmap_device_accesses */
uint32_t iospace_read(IOSpace *io, uint16_t port, unsigned size);
void iospace_write(IOSpace *io, uint16_t port, uint32_t value, unsigned size);

#endif
