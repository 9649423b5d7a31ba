/*
 * fw_cfg device (see fwcfg.h).
 *
 * Facts: QEMU docs/specs/fw_cfg.rst (guest-side interface: selector sets
 * the item and resets the data offset; data reads return successive bytes
 * and 0 past the end; signature "QEMU" at key 0; ID bit 1 = DMA; the DMA
 * address register is 64-bit big-endian and writing its low half starts
 * the operation; FWCfgDmaAccess { be32 control; be32 length; be64 address }
 * with control bits error 0, read 1, skip 2, select 3 (key in bits 31:16),
 * write 4; the device clears control when done or leaves the error bit;
 * reading the DMA register returns "QEMU CFG").
 */
#include "hw/fwcfg.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

typedef struct FWCfgItem {
    uint16_t key;
    uint8_t *data;
    uint32_t len;
    char name[FW_CFG_MAX_FILE_PATH];    /* "" for numbered items */
} FWCfgItem;

struct FWCfgState {
    Machine *m;
    FWCfgItem *items;
    size_t nitems, cap;
    uint16_t next_file_key;
    FWCfgSelectFn select_fn;
    void *select_opaque;

    uint16_t cur_key;
    uint32_t cur_offset;
    uint32_t dma_hi;
};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t bswap32(uint32_t v)
{
    return __builtin_bswap32(v);
}

static FWCfgItem *fwcfg_item(FWCfgState *s, uint16_t key)
{
    for (size_t i = 0; i < s->nitems; i++)
        if (s->items[i].key == key)
            return &s->items[i];
    return NULL;
}

static FWCfgItem *fwcfg_set_item(FWCfgState *s, uint16_t key, const void *data, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    FWCfgItem *it = fwcfg_item(s, key);
    if (!it) {
        if (s->nitems == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 32;
            s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
        }
        it = &s->items[s->nitems++];
        memset(it, 0, sizeof(*it));
        it->key = key;
    }
    free(it->data);
    it->data = xmalloc(len ? len : 1);
    if (len)
        memcpy(it->data, data, len);
    it->len = (uint32_t)len;
    return it;
}

/* Regenerates key 0x19 from the named items, in key order. */
static void fwcfg_rebuild_dir(FWCfgState *s)
{
    uint32_t count = 0;
    for (size_t i = 0; i < s->nitems; i++)
        count += s->items[i].name[0] != 0;
    size_t len = 4 + (size_t)count * 64;
    uint8_t *dir = xcalloc(1, len);
    put_be32(dir, count);
    uint8_t *p = dir + 4;
    for (uint16_t key = FW_CFG_FILE_FIRST; key < s->next_file_key; key++) {
        FWCfgItem *it = fwcfg_item(s, key);
        if (!it || !it->name[0])
            continue;
        put_be32(p, it->len);
        p[4] = (uint8_t)(key >> 8);
        p[5] = (uint8_t)key;
        memcpy(p + 8, it->name, FW_CFG_MAX_FILE_PATH);
        p += 64;
    }
    fwcfg_set_item(s, FW_CFG_FILE_DIR, dir, len);
    free(dir);
}

/* ---- public item API ---- */

bool fwcfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len)
{
    key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
    if (key == FW_CFG_FILE_DIR || (key >= FW_CFG_FILE_FIRST && key < s->next_file_key))
        return false;                    /* owned by the file machinery */
    return fwcfg_set_item(s, key, data, len) != NULL;
}

bool fwcfg_add_i16(FWCfgState *s, uint16_t key, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return fwcfg_add_bytes(s, key, b, sizeof(b));
}

bool fwcfg_add_i32(FWCfgState *s, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fwcfg_add_bytes(s, key, b, sizeof(b));
}

bool fwcfg_add_i64(FWCfgState *s, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fwcfg_add_bytes(s, key, b, sizeof(b));
}

int fwcfg_find_file(FWCfgState *s, const char *name)
{
    for (size_t i = 0; i < s->nitems; i++)
        if (s->items[i].name[0] && !strcmp(s->items[i].name, name))
            return s->items[i].key;
    return -1;
}

int fwcfg_add_file(FWCfgState *s, const char *name, const void *data, size_t len)
{
    if (!name[0] || strlen(name) >= FW_CFG_MAX_FILE_PATH || fwcfg_find_file(s, name) >= 0 ||
        s->next_file_key >= FW_CFG_WRITE_CHANNEL || len > UINT32_MAX)
        return -1;
    uint16_t key = s->next_file_key++;
    FWCfgItem *it = fwcfg_set_item(s, key, data, len);
    snprintf(it->name, sizeof(it->name), "%s", name);
    fwcfg_rebuild_dir(s);
    return key;
}

bool fwcfg_update_file(FWCfgState *s, const char *name, const void *data, size_t len)
{
    int key = fwcfg_find_file(s, name);
    if (key < 0 || len > UINT32_MAX)
        return false;
    fwcfg_set_item(s, (uint16_t)key, data, len);
    fwcfg_rebuild_dir(s);
    if (s->cur_key == key) {
        FWCfgItem *it = fwcfg_item(s, (uint16_t)key);
        if (s->cur_offset > it->len)
            s->cur_offset = it->len;
    }
    return true;
}

void fwcfg_set_select_hook(FWCfgState *s, FWCfgSelectFn fn, void *opaque)
{
    s->select_fn = fn;
    s->select_opaque = opaque;
}

/* ---- guest interface ---- */

static void fwcfg_select(FWCfgState *s, uint16_t key)
{
    s->cur_key = key;
    s->cur_offset = 0;
    if (s->select_fn)
        s->select_fn(s->select_opaque, s, key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
}

static FWCfgItem *fwcfg_current(FWCfgState *s)
{
    return fwcfg_item(s, s->cur_key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
}

static uint8_t fwcfg_read_byte(FWCfgState *s)
{
    FWCfgItem *it = fwcfg_current(s);
    if (!it || s->cur_offset >= it->len)
        return 0;
    return it->data[s->cur_offset++];
}

static uint64_t fwcfg_io_read(void *opaque, uint64_t off, unsigned size)
{
    FWCfgState *s = opaque;
    if (off == 0)
        return 0;                        /* the selector is write-only */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)fwcfg_read_byte(s) << (8 * i);
    return v;
}

static void fwcfg_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;
    if (off == 0 && size == 2)
        fwcfg_select(s, (uint16_t)val);
    else
        LOG(LOG_GUEST_ERRORS, "fw_cfg: %u-byte write to port 0x%x ignored\n", size,
            (unsigned)(FW_CFG_PORT_SEL + off));
}

static const MemOps fwcfg_io_ops = {
    .read = fwcfg_io_read, .write = fwcfg_io_write, .min_size = 1, .max_size = 2,
};

/* Copies n bytes of the current item to guest address addr (zeros past
 * the end of the item); false when the range is not wholly RAM. */
static bool fwcfg_dma_read_to(FWCfgState *s, uint64_t addr, uint32_t n)
{
    MemMap *mm = s->m->mem;
    if (n == 0)
        return true;
    if (!memmap_host_ptr(mm, addr, n, true))
        return false;
    FWCfgItem *it = fwcfg_current(s);
    uint32_t avail = it && s->cur_offset < it->len ? it->len - s->cur_offset : 0;
    uint32_t copy = MIN(avail, n);
    if (copy && !memmap_write_buf(mm, addr, it->data + s->cur_offset, copy))
        return false;
    s->cur_offset += copy;
    static const uint8_t zeros[512];
    for (uint32_t done = copy; done < n;) {
        uint32_t chunk = MIN(n - done, (uint32_t)sizeof(zeros));
        memmap_write_buf(mm, addr + done, zeros, chunk);
        done += chunk;
    }
    return true;
}

static void fwcfg_dma_run(FWCfgState *s, uint64_t desc)
{
    MemMap *mm = s->m->mem;
    uint8_t d[16];
    /* The descriptor must be RAM: anything else cannot even be told it
     * failed, so it is logged and dropped. */
    if (!memmap_host_ptr(mm, desc, sizeof(d), true) || !memmap_read_buf(mm, desc, d, sizeof(d))) {
        LOG(LOG_GUEST_ERRORS, "fw_cfg: DMA descriptor at 0x%llx is not in RAM\n",
            (unsigned long long)desc);
        return;
    }
    uint32_t control = get_be32(d), length = get_be32(d + 4);
    uint64_t addr = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);
    bool ok = true;
    if (control & FW_CFG_DMA_CTL_SELECT)
        fwcfg_select(s, (uint16_t)(control >> 16));
    if (control & FW_CFG_DMA_CTL_READ) {
        ok = fwcfg_dma_read_to(s, addr, length);
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        FWCfgItem *it = fwcfg_current(s);
        uint32_t len = it ? it->len : 0;
        s->cur_offset = length > len - MIN(s->cur_offset, len) ? len : s->cur_offset + length;
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        ok = false;                      /* no guest-writable items */
    }
    if (!ok)
        LOG(LOG_GUEST_ERRORS, "fw_cfg: DMA of %u bytes at 0x%llx failed\n", length,
            (unsigned long long)addr);
    uint8_t result[4];
    put_be32(result, ok ? 0 : FW_CFG_DMA_CTL_ERROR);
    memmap_write_buf(mm, desc, result, sizeof(result));
}

static uint64_t fwcfg_dma_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    static const char sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)(uint8_t)sig[off + i] << (8 * i);
    return v;
}

static void fwcfg_dma_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;
    if (size != 4) {
        LOG(LOG_GUEST_ERRORS, "fw_cfg: %u-byte DMA register write ignored\n", size);
        return;
    }
    /* The register is big-endian: a little-endian outl carries it swapped. */
    if (off == 0) {
        s->dma_hi = bswap32((uint32_t)val);
    } else if (off == 4) {
        uint64_t addr = (uint64_t)s->dma_hi << 32 | bswap32((uint32_t)val);
        s->dma_hi = 0;
        fwcfg_dma_run(s, addr);
    }
}

static const MemOps fwcfg_dma_ops = {
    .read = fwcfg_dma_read, .write = fwcfg_dma_write, .min_size = 1, .max_size = 4,
};

/* ---- device record ---- */

static void fwcfg_reset(void *opaque)
{
    FWCfgState *s = opaque;
    s->cur_key = 0;
    s->cur_offset = 0;
    s->dma_hi = 0;
}

static int fwcfg_post_load(void *opaque, int version, char **err)
{
    FWCfgState *s = opaque;
    (void)version;
    FWCfgItem *it = fwcfg_current(s);
    if (s->cur_offset > (it ? it->len : 0)) {
        set_error(err, "fw_cfg: data offset %u beyond item 0x%x", s->cur_offset, s->cur_key);
        return -1;
    }
    return 0;
}

static const VMField fwcfg_fields[] = {
    VMF_U16(cur_key, FWCfgState),
    VMF_U32(cur_offset, FWCfgState),
    VMF_U32(dma_hi, FWCfgState),
    VMF_END
};

static const VMStateDesc fwcfg_vmsd = {
    .name = "fw_cfg", .version = 1, .min_version = 1, .fields = fwcfg_fields,
    .post_load = fwcfg_post_load,
};

static void fwcfg_free(void *opaque)
{
    FWCfgState *s = opaque;
    for (size_t i = 0; i < s->nitems; i++)
        free(s->items[i].data);
    free(s->items);
    free(s);
}

static const DeviceOps fwcfg_device_ops = {
    .name = "fw_cfg", .reset = fwcfg_reset, .free = fwcfg_free, .vmsd = &fwcfg_vmsd,
};

FWCfgState *fwcfg_create(Machine *m, uint16_t base, uint16_t dma_base)
{
    FWCfgState *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->next_file_key = FW_CFG_FILE_FIRST;
    if (!iospace_add(m->io, "fw_cfg", base, 2, &fwcfg_io_ops, s, NULL)) {
        fwcfg_free(s);
        return NULL;
    }
    if (!iospace_add(m->io, "fw_cfg-dma", dma_base, 8, &fwcfg_dma_ops, s, NULL)) {
        iospace_remove(m->io, base, 2);
        fwcfg_free(s);
        return NULL;
    }
    fwcfg_set_item(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fwcfg_add_i32(s, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
    fwcfg_rebuild_dir(s);
    machine_add_device(m, &fwcfg_device_ops, s);
    return s;
}
