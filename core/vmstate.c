/*
 * The generic state serialiser.
 *
 * Stream:   "VX86STAT" u32 format-version  section*  u32 crc32(all before)
 * Section:  u8 name-length, name, u32 version, u32 payload-length, payload
 * Payload:  per field: u32 fnv1a(field name), u32 byte-length, bytes
 *           (scalars little-endian; structs are nested payloads)
 *
 * Field hashes and lengths make a stream from a different layout fail with
 * the field's name instead of loading garbage.  Loading with opaque == NULL
 * only checks the structure: the machine checks a whole stream that way
 * before it changes any device.
 */
#include "core/vmstate.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/util.h"

#define STREAM_MAGIC "VX86STAT"
#define STREAM_VERSION 1u

void vmbuf_init(VMBuf *b)
{
    memset(b, 0, sizeof(*b));
}

void vmbuf_free(VMBuf *b)
{
    free(b->data);
    vmbuf_init(b);
}

void vmbuf_put(VMBuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(VMBuf *b, uint32_t v)
{
    uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };
    vmbuf_put(b, x, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void patch_u32(VMBuf *b, size_t at, uint32_t v)
{
    b->data[at] = v;
    b->data[at + 1] = v >> 8;
    b->data[at + 2] = v >> 16;
    b->data[at + 3] = v >> 24;
}

uint32_t vmstate_field_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static void save_fields(VMBuf *b, const VMStateDesc *d, void *opaque);

static void save_scalar(VMBuf *b, const uint8_t *p, size_t size)
{
    /* Little-endian on the wire; hosts we build for are little-endian. */
    vmbuf_put(b, p, size);
}

static void save_field(VMBuf *b, const VMField *f, uint8_t *base)
{
    put_u32(b, vmstate_field_hash(f->name));
    size_t len_at = b->len;
    put_u32(b, 0);
    size_t start = b->len;
    for (unsigned i = 0; i < f->count; i++) {
        uint8_t *p = base + f->offset + i * f->size;
        if (f->type == VMF_TYPE_STRUCT)
            save_fields(b, f->sub, p);
        else
            save_scalar(b, p, f->size);
    }
    patch_u32(b, len_at, (uint32_t)(b->len - start));
}

static void save_fields(VMBuf *b, const VMStateDesc *d, void *opaque)
{
    if (d->pre_save)
        d->pre_save(opaque);
    for (const VMField *f = d->fields; f->type != VMF_TYPE_END; f++)
        save_field(b, f, opaque);
}

void vmstate_save(VMBuf *b, const VMStateDesc *d, void *opaque)
{
    uint8_t nlen = (uint8_t)strlen(d->name);
    vmbuf_put(b, &nlen, 1);
    vmbuf_put(b, d->name, nlen);
    put_u32(b, (uint32_t)d->version);
    size_t len_at = b->len;
    put_u32(b, 0);
    size_t start = b->len;
    save_fields(b, d, opaque);
    patch_u32(b, len_at, (uint32_t)(b->len - start));
}

typedef struct Reader {
    const uint8_t *data;
    size_t pos, end;
    const char *section;
    char **err;
} Reader;

static int fail(Reader *r, const char *field, const char *what)
{
    set_error(r->err, "state section '%s'%s%s: %s", r->section,
              field ? ", field " : "", field ? field : "", what);
    return -1;
}

static int load_fields(Reader *r, const VMStateDesc *d, uint8_t *opaque, int version);

static int load_field(Reader *r, const VMField *f, uint8_t *base)
{
    if (r->end - r->pos < 8)
        return fail(r, f->name, "stream truncated");
    uint32_t h = get_u32(r->data + r->pos);
    uint32_t len = get_u32(r->data + r->pos + 4);
    r->pos += 8;
    if (h != vmstate_field_hash(f->name))
        return fail(r, f->name, "field missing or out of order (layout mismatch)");
    if (len > r->end - r->pos)
        return fail(r, f->name, "stream truncated");
    if (f->type != VMF_TYPE_STRUCT) {
        if (len != f->size * f->count)
            return fail(r, f->name, "wrong field length");
        if (base)
            memcpy(base + f->offset, r->data + r->pos, len);
        r->pos += len;
        return 0;
    }
    size_t saved_end = r->end;
    r->end = r->pos + len;
    for (unsigned i = 0; i < f->count; i++) {
        uint8_t *p = base ? base + f->offset + i * f->size : NULL;
        if (load_fields(r, f->sub, p, f->sub->version) < 0)
            return -1;
    }
    if (r->pos != r->end)
        return fail(r, f->name, "trailing bytes in nested state");
    r->end = saved_end;
    return 0;
}

static int load_fields(Reader *r, const VMStateDesc *d, uint8_t *opaque, int version)
{
    for (const VMField *f = d->fields; f->type != VMF_TYPE_END; f++) {
        if (f->version > version)
            continue;   /* not in streams this old: keep the reset value */
        if (load_field(r, f, opaque) < 0)
            return -1;
    }
    if (opaque && d->post_load && d->post_load(opaque, version, r->err) < 0)
        return -1;
    return 0;
}

int vmstate_load(const uint8_t *data, size_t len, size_t *pos,
                 const VMStateDesc *d, void *opaque, char **err)
{
    Reader r = { .data = data, .pos = *pos, .end = len, .section = d->name, .err = err };
    if (r.end - r.pos < 1)
        return fail(&r, NULL, "stream truncated");
    uint8_t nlen = data[r.pos++];
    if (r.end - r.pos < (size_t)nlen + 8)
        return fail(&r, NULL, "stream truncated");
    if (nlen != strlen(d->name) || memcmp(data + r.pos, d->name, nlen)) {
        set_error(err, "state stream: expected section '%s', found '%.*s'",
                  d->name, nlen, (const char *)data + r.pos);
        return -1;
    }
    r.pos += nlen;
    uint32_t version = get_u32(data + r.pos);
    uint32_t plen = get_u32(data + r.pos + 4);
    r.pos += 8;
    if ((int)version > d->version || (int)version < d->min_version) {
        set_error(err, "state section '%s': version %u not supported (%d..%d)",
                  d->name, version, d->min_version, d->version);
        return -1;
    }
    if (plen > r.end - r.pos)
        return fail(&r, NULL, "stream truncated");
    r.end = r.pos + plen;
    if (load_fields(&r, d, opaque, (int)version) < 0)
        return -1;
    if (r.pos != r.end)
        return fail(&r, NULL, "trailing bytes in section");
    *pos = r.pos;
    return 0;
}

void vmstream_begin(VMBuf *b)
{
    vmbuf_put(b, STREAM_MAGIC, 8);
    put_u32(b, STREAM_VERSION);
}

void vmstream_end(VMBuf *b)
{
    put_u32(b, (uint32_t)crc32(0, b->data, (uInt)b->len));
}

int vmstream_check(const uint8_t *data, size_t len, size_t *pos, size_t *end,
                   char **err)
{
    if (len < 16) {
        set_error(err, "state stream: truncated (%zu bytes)", len);
        return -1;
    }
    if (memcmp(data, STREAM_MAGIC, 8)) {
        set_error(err, "state stream: not a vx86 state stream (bad magic)");
        return -1;
    }
    if (get_u32(data + 8) != STREAM_VERSION) {
        set_error(err, "state stream: format version %u not supported", get_u32(data + 8));
        return -1;
    }
    uint32_t want = get_u32(data + len - 4);
    if ((uint32_t)crc32(0, data, (uInt)(len - 4)) != want) {
        set_error(err, "state stream: checksum mismatch (corrupted or truncated)");
        return -1;
    }
    *pos = 12;
    *end = len - 4;
    return 0;
}
