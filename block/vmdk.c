/*
 * VMware VMDK, read-only: monolithicSparse, streamOptimized (deflate
 * grains, with the grain directory in the header or in a footer at the
 * end), monolithicFlat, twoGbMaxExtentSparse and twoGbMaxExtentFlat.
 * Facts from VMware's "Virtual Disk Format 5.0" specification; state and
 * layout in block/vmdk.h.
 *
 * Opening checks everything a read will rely on, so reads never meet a
 * surprise they could only answer with -EIO: the sparse header's fields
 * (version, newline bytes, compression, capacity, grain size, entries per
 * grain table, where the descriptor and the grain directory lie), every
 * grain directory entry (its grain table inside the file), every grain
 * table entry (its grain inside the file; a compressed grain's marker
 * names the right sector and a bounded size) and the descriptor (its
 * syntax, the create type, the extents: type, size, file).  Grain tables
 * are then held in memory.  A refusal is one line, "FILE: problem".
 *
 * Extent files are found relative to the descriptor's folder; an absolute
 * name or one with a ".." component is refused, so an image handed to us
 * can never make the guest read a host file outside its own folder (QEMU
 * allows both).  Extents are never descriptors themselves, so there is no
 * recursion and no descriptor loop.
 *
 * Writes are refused at open (a writable open fails with a message that
 * says what to do instead): the -snapshot overlay and qcow2 overlays with
 * backing_fmt=vmdk open the image read-only.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "block/vmdk.h"
#include "core/util.h"

#define MARKER_BYTES 12          /* uint64 value, uint32 size, (uint32 type if size 0) */
#define MARKER_EOS 0
#define MARKER_FOOTER 3

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int say(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *why, size_t wl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, wl, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- probing ---- */

/* A text descriptor: printable lines; the first that is neither blank nor
 * a comment reads "version=1" (2 or 3). */
static bool looks_like_descriptor(const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        for (size_t k = i; k < e; k++)
            if (buf[k] < 0x20 && buf[k] != '\t' && buf[k] != '\r')
                return false;
        size_t s = i;
        while (s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r'))
            s++;
        if (s < e && buf[s] != '#')
            return e - s >= 9 && !memcmp(buf + s, "version=", 8) &&
                   buf[s + 8] >= '1' && buf[s + 8] <= '3';
        i = e + 1;
    }
    return false;
}

int vmdk_probe(const uint8_t *buf, size_t len)
{
    if (len >= 4 && (le32(buf) == VMDK_MAGIC || le32(buf) == VMDK_COWD_MAGIC))
        return 100;
    return looks_like_descriptor(buf, len) ? 100 : 0;
}

/* ---- the descriptor ---- */

typedef struct DescExtent {
    char access[12];
    uint64_t sectors;
    char type[16];
    char *name;                 /* NULL for ZERO */
    uint64_t offset;            /* sectors, FLAT only */
} DescExtent;

typedef struct Desc {
    char *create_type;
    uint32_t cid, parent_cid;
    bool parent_hint;
    int version;
    int n;
    DescExtent *ext;
} Desc;

static void desc_free(Desc *d)
{
    free(d->create_type);
    for (int i = 0; i < d->n; i++)
        free(d->ext[i].name);
    free(d->ext);
    memset(d, 0, sizeof(*d));
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A decimal number of at most 19 digits (no overflow), then p moves past it. */
static bool parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > 19)
            return false;
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    if (!n)
        return false;
    *out = v;
    *p = s;
    return true;
}

static bool parse_hex32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int n = 0;
    for (; *s; s++, n++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
              : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;
        if (d < 0 || n >= 8)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return n > 0;
}

/* RW 20480 FLAT "name-flat.vmdk" 0   /   RW 20480 ZERO */
static int parse_extent_line(Desc *d, const char *line, int lineno, char *why, size_t wl)
{
    if (d->n >= VMDK_MAX_EXTENTS)
        return say(why, wl, "descriptor names more than %d extents", VMDK_MAX_EXTENTS);
    DescExtent e = { 0 };
    const char *p = line;
    size_t n = strcspn(p, " \t");
    memcpy(e.access, p, n);               /* the caller checked it is RW/RDONLY/NOACCESS */
    p = skip_space(p + n);
    if (!parse_u64(&p, &e.sectors) || (*p != ' ' && *p != '\t'))
        return say(why, wl, "descriptor line %d: extent size is not a number", lineno);
    p = skip_space(p);
    n = strcspn(p, " \t");
    if (!n || n >= sizeof e.type)
        return say(why, wl, "descriptor line %d: extent type missing or too long", lineno);
    memcpy(e.type, p, n);
    p = skip_space(p + n);
    if (*p == '"') {
        const char *q = strchr(p + 1, '"');
        if (!q || q == p + 1)
            return say(why, wl, "descriptor line %d: extent file name is not a quoted name", lineno);
        e.name = xcalloc(1, (size_t)(q - p));
        memcpy(e.name, p + 1, (size_t)(q - p - 1));
        p = skip_space(q + 1);
        if (*p && !parse_u64(&p, &e.offset)) {
            free(e.name);
            return say(why, wl, "descriptor line %d: extent offset is not a number", lineno);
        }
        p = skip_space(p);
    }
    if (*p) {
        free(e.name);
        return say(why, wl, "descriptor line %d: unexpected '%.20s' after the extent", lineno, p);
    }
    d->ext = xrealloc(d->ext, (size_t)(d->n + 1) * sizeof(*d->ext));
    d->ext[d->n++] = e;
    return 0;
}

/* key = value, the value optionally quoted. */
static int parse_setting(Desc *d, char *line, int lineno, char *why, size_t wl)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return say(why, wl, "descriptor line %d is neither a setting nor an extent", lineno);
    char *k_end = eq;
    while (k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'))
        k_end--;
    *k_end = 0;
    for (char *k = line; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '.' || *k == '_' || *k == '-'))
            return say(why, wl, "descriptor line %d: '%.20s' is not a setting name", lineno, line);
    char *v = (char *)skip_space(eq + 1);
    size_t vl = strlen(v);
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        v[vl - 1] = 0;
        v++;
    }
    if (!strcmp(line, "version")) {
        if (strcmp(v, "1") && strcmp(v, "2") && strcmp(v, "3"))
            return say(why, wl, "descriptor version '%.20s' is not supported", v);
        d->version = v[0] - '0';
    } else if (!strcmp(line, "CID")) {
        if (!parse_hex32(v, &d->cid))
            return say(why, wl, "descriptor CID '%.20s' is not a 32-bit hex number", v);
    } else if (!strcmp(line, "parentCID")) {
        if (!parse_hex32(v, &d->parent_cid))
            return say(why, wl, "descriptor parentCID '%.20s' is not a 32-bit hex number", v);
    } else if (!strcmp(line, "createType")) {
        free(d->create_type);
        d->create_type = xstrdup(v);
    } else if (!strcmp(line, "parentFileNameHint")) {
        d->parent_hint = true;
    }
    return 0;                                 /* ddb.* and other settings: not needed */
}

/* A descriptor ends at its first NUL: the rest of its sectors is padding,
 * which in a descriptor file must be NULs only (anything else there makes
 * it a binary file, not a descriptor). */
static int parse_descriptor(Desc *d, const char *text, size_t len, bool embedded,
                            char *why, size_t wl)
{
    memset(d, 0, sizeof(*d));
    d->parent_cid = VMDK_PARENT_NONE;
    size_t n = strnlen(text, len);
    for (size_t i = n; i < len && !embedded; i++)
        if (text[i])
            return say(why, wl, "not a VMDK descriptor (binary data at offset %zu)", i);
    char *copy = xmalloc(n + 1);
    memcpy(copy, text, n);
    copy[n] = 0;
    int r = 0, lineno = 0;
    for (char *line = copy, *next; line && r == 0; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        lineno++;
        size_t ll = strlen(line);
        while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
            line[--ll] = 0;
        line = (char *)skip_space(line);
        if (!*line || *line == '#')
            continue;
        for (char *c = line; *c && r == 0; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                r = say(why, wl, "descriptor line %d holds a control character", lineno);
        if (r)
            break;
        size_t tok = strcspn(line, " \t");
        if ((tok == 2 && !strncmp(line, "RW", 2)) || (tok == 6 && !strncmp(line, "RDONLY", 6)) ||
            (tok == 8 && !strncmp(line, "NOACCESS", 8)))
            r = parse_extent_line(d, line, lineno, why, wl);
        else
            r = parse_setting(d, line, lineno, why, wl);
    }
    free(copy);
    if (r)
        desc_free(d);
    return r;
}

static int check_parent(const Desc *d, char *why, size_t wl)
{
    if (d->parent_cid != VMDK_PARENT_NONE || d->parent_hint)
        return say(why, wl, "VMDK delta images (with a parent disk) are not supported");
    return 0;
}

/* ---- extent file names ---- */

char *vmdk_extent_path(const char *descriptor, const char *name, char *why, size_t wl)
{
    if (!*name) {
        say(why, wl, "an extent has an empty file name");
        return NULL;
    }
    if (name[0] == '/') {
        say(why, wl, "extent '%s' is an absolute path (only names relative to the "
            "descriptor's folder are allowed)", name);
        return NULL;
    }
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            say(why, wl, "extent '%s' leaves the descriptor's folder ('..')", name);
            return NULL;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    char *tmp = xstrdup(descriptor);
    char *dir = dirname(tmp);
    char *path = strcmp(dir, ".") ? xasprintf("%s/%s", dir, name) : xstrdup(name);
    free(tmp);
    return path;
}

/* ---- sparse extents ---- */

typedef struct SparseHeader {
    uint32_t magic, version, flags, gt_entries;
    uint64_t capacity, grain, desc_off, desc_size, rgd, gd, overhead;
    uint8_t nl[4];
    uint16_t compress;
} SparseHeader;

static void header_parse(const uint8_t *h, SparseHeader *s)
{
    s->magic = le32(h);
    s->version = le32(h + 4);
    s->flags = le32(h + 8);
    s->capacity = le64(h + 12);
    s->grain = le64(h + 20);
    s->desc_off = le64(h + 28);
    s->desc_size = le64(h + 36);
    s->gt_entries = le32(h + 44);
    s->rgd = le64(h + 48);
    s->gd = le64(h + 56);
    s->overhead = le64(h + 64);
    memcpy(s->nl, h + 73, 4);
    s->compress = (uint16_t)(h[77] | h[78] << 8);
}

/* streamOptimized images written as a stream keep the real header in a
 * footer: footer marker, header copy, end-of-stream marker, the file's
 * last three sectors. */
static int read_footer(VmdkExtent *ex, SparseHeader *s, char *why, size_t wl)
{
    uint64_t fs = ex->file->file_size;
    if (fs < 4 * VMDK_SECTOR)
        return say(why, wl, "grain directory is in a footer, but the file is too short for one");
    uint8_t t[3 * VMDK_SECTOR];
    if (bfile_pread(ex->file, fs - sizeof t, t, sizeof t) < 0)
        return say(why, wl, "cannot read the footer");
    if (le32(t + 8) != 0 || le32(t + 12) != MARKER_FOOTER)
        return say(why, wl, "grain directory is in a footer, but there is no footer marker "
                   "three sectors before the end");
    if (le64(t + 2 * VMDK_SECTOR) != 0 || le32(t + 2 * VMDK_SECTOR + 8) != 0 ||
        le32(t + 2 * VMDK_SECTOR + 12) != MARKER_EOS)
        return say(why, wl, "the last sector is not an end-of-stream marker");
    header_parse(t + VMDK_SECTOR, s);
    if (s->magic != VMDK_MAGIC)
        return say(why, wl, "the footer holds no sparse header (magic 0x%08x)", s->magic);
    if (s->gd == VMDK_GD_AT_END)
        return say(why, wl, "the footer's grain directory is at the end again");
    return 0;
}

static int header_check(VmdkExtent *ex, const SparseHeader *s, char *why, size_t wl)
{
    uint64_t fs = ex->file->file_size;
    if (s->version < 1 || s->version > 3)
        return say(why, wl, "sparse header version %u is not supported", s->version);
    if ((s->flags & VMDK_FLAG_NL_DETECT) && memcmp(s->nl, "\n \r\n", 4))
        return say(why, wl, "the header's newline check bytes are wrong "
                   "(was the file copied in text mode?)");
    if (s->compress > 1)
        return say(why, wl, "compression algorithm %u is not supported", s->compress);
    if (s->capacity == 0 || s->capacity > VMDK_MAX_SIZE / VMDK_SECTOR)
        return say(why, wl, "capacity of %" PRIu64 " sectors is out of range", s->capacity);
    if (s->grain == 0 || (s->grain & (s->grain - 1)) || s->grain > VMDK_MAX_GRAIN_SECTORS)
        return say(why, wl, "grain size of %" PRIu64 " sectors is not a power of two "
                   "from 1 to %u", s->grain, VMDK_MAX_GRAIN_SECTORS);
    if (s->gt_entries == 0 || s->gt_entries > VMDK_MAX_GT_ENTRIES)
        return say(why, wl, "%u entries per grain table is out of range (1..%u)",
                   s->gt_entries, VMDK_MAX_GT_ENTRIES);
    if (s->desc_off && (s->desc_size > VMDK_MAX_DESCRIPTOR / VMDK_SECTOR ||
                        s->desc_off > fs / VMDK_SECTOR ||
                        (s->desc_off + s->desc_size) * VMDK_SECTOR > fs))
        return say(why, wl, "embedded descriptor (sector %" PRIu64 ", %" PRIu64 " sectors) "
                   "lies past the end of the file or is too big", s->desc_off, s->desc_size);
    uint64_t grains = (s->capacity + s->grain - 1) / s->grain;
    uint64_t gd_entries = (grains + s->gt_entries - 1) / s->gt_entries;
    if (gd_entries * 4 > VMDK_MAX_GT_BYTES)
        return say(why, wl, "grain directory of %" PRIu64 " entries is too big", gd_entries);
    if (s->gd == 0 || s->gd > fs / VMDK_SECTOR || s->gd * VMDK_SECTOR + gd_entries * 4 > fs)
        return say(why, wl, "grain directory (sector %" PRIu64 ", %" PRIu64 " entries) lies "
                   "past the end of the file", s->gd, gd_entries);
    ex->version = s->version;
    ex->flags = s->flags;
    ex->capacity = s->capacity;
    ex->grain_bytes = s->grain * VMDK_SECTOR;
    ex->gt_entries = s->gt_entries;
    ex->gd_sector = s->gd;
    ex->gd_entries = (uint32_t)gd_entries;
    /* A redundant directory is only looked at by check; an unusable one is
     * left out rather than refused. */
    ex->rgd_sector = (s->flags & VMDK_FLAG_RGD) && s->rgd && s->rgd <= fs / VMDK_SECTOR &&
                     s->rgd * VMDK_SECTOR + gd_entries * 4 <= fs ? s->rgd : 0;
    ex->desc_sector = s->desc_off;
    ex->desc_sectors = s->desc_off ? s->desc_size : 0;
    ex->overhead = s->overhead;
    ex->compressed = s->compress == 1;
    ex->markers = (s->flags & VMDK_FLAG_MARKERS) != 0;
    ex->zero_grain = (s->flags & VMDK_FLAG_ZERO_GRAIN) != 0;
    return 0;
}

/* The most a compressed grain may take: deflate's worst case plus slack. */
static uint64_t compressed_bound(const VmdkExtent *ex)
{
    return compressBound((uLong)ex->grain_bytes) + 4096;
}

/* Bytes of grain g that lie inside the extent's capacity. */
static uint64_t grain_used_bytes(const VmdkExtent *ex, uint64_t g)
{
    uint64_t cap = ex->capacity * VMDK_SECTOR, start = g * ex->grain_bytes;
    return MIN(ex->grain_bytes, cap - start);
}

/* A compressed grain's marker: the sector it belongs to and its size. */
static int read_marker(const VmdkExtent *ex, uint32_t sector, uint64_t *lba, uint32_t *size)
{
    uint8_t m[MARKER_BYTES];
    if ((uint64_t)sector * VMDK_SECTOR + MARKER_BYTES > ex->file->file_size)
        return -EIO;
    int r = bfile_pread(ex->file, (uint64_t)sector * VMDK_SECTOR, m, sizeof m);
    if (r < 0)
        return r;
    *lba = le64(m);
    *size = le32(m + 8);
    return 0;
}

static int check_grain(const VmdkExtent *ex, uint64_t g, uint32_t e, uint32_t gdi, uint32_t gti,
                       char *why, size_t wl)
{
    uint64_t fs = ex->file->file_size, at = (uint64_t)e * VMDK_SECTOR;
    if (e == 0 || (e == 1 && ex->zero_grain))
        return 0;
    if (!ex->compressed) {
        if (at + grain_used_bytes(ex, g) > fs)
            return say(why, wl, "grain table %u entry %u points past the end of the file "
                       "(sector %u)", gdi, gti, e);
        return 0;
    }
    if (!ex->markers) {
        if (at >= fs)
            return say(why, wl, "grain table %u entry %u points past the end of the file "
                       "(sector %u)", gdi, gti, e);
        return 0;
    }
    uint64_t lba;
    uint32_t size;
    if (read_marker(ex, e, &lba, &size) < 0)
        return say(why, wl, "grain table %u entry %u points past the end of the file "
                   "(sector %u)", gdi, gti, e);
    uint64_t want = g * (ex->grain_bytes / VMDK_SECTOR);
    if (lba != want)
        return say(why, wl, "compressed grain at sector %u is marked for sector %" PRIu64
                   ", not %" PRIu64, e, lba, want);
    if (size == 0 || size > compressed_bound(ex) || at + MARKER_BYTES + size > fs)
        return say(why, wl, "compressed grain at sector %u (%u bytes) is empty, too big or "
                   "runs past the end of the file", e, size);
    return 0;
}

static int load_grain_tables(VmdkExtent *ex, char *why, size_t wl)
{
    uint64_t fs = ex->file->file_size, gt_bytes = (uint64_t)ex->gt_entries * 4;
    ex->gd = xmalloc((size_t)ex->gd_entries * 4);
    if (bfile_pread(ex->file, ex->gd_sector * VMDK_SECTOR, ex->gd, (size_t)ex->gd_entries * 4) < 0)
        return say(why, wl, "cannot read the grain directory");
    ex->gt = xcalloc(ex->gd_entries, sizeof(*ex->gt));
    uint64_t total = 0;
    uint64_t grains = (ex->capacity * VMDK_SECTOR + ex->grain_bytes - 1) / ex->grain_bytes;
    uint8_t *raw = xmalloc((size_t)gt_bytes);
    int r = 0;
    for (uint32_t i = 0; i < ex->gd_entries && r == 0; i++) {
        uint32_t s = le32((const uint8_t *)&ex->gd[i]);
        ex->gd[i] = s;
        if (!s)
            continue;
        if ((uint64_t)s * VMDK_SECTOR + gt_bytes > fs) {
            r = say(why, wl, "grain table %u (sector %u) lies past the end of the file", i, s);
            break;
        }
        total += gt_bytes;
        if (total > VMDK_MAX_GT_BYTES) {
            r = say(why, wl, "grain tables need more than %u MiB", VMDK_MAX_GT_BYTES >> 20);
            break;
        }
        if (bfile_pread(ex->file, (uint64_t)s * VMDK_SECTOR, raw, (size_t)gt_bytes) < 0) {
            r = say(why, wl, "cannot read grain table %u", i);
            break;
        }
        ex->gt[i] = xmalloc((size_t)gt_bytes);
        for (uint32_t k = 0; k < ex->gt_entries && r == 0; k++) {
            uint64_t g = (uint64_t)i * ex->gt_entries + k;
            uint32_t e = le32(raw + 4 * k);
            if (g >= grains)
                e = 0;                        /* past the capacity: never read */
            ex->gt[i][k] = e;
            r = check_grain(ex, g, e, i, k, why, wl);
        }
    }
    free(raw);
    return r;
}

/* Opens the sparse extent in ex->file (header or footer, grain tables). */
static int sparse_open(VmdkExtent *ex, char *why, size_t wl)
{
    uint8_t h[VMDK_SECTOR];
    if (ex->file->file_size < VMDK_SECTOR)
        return say(why, wl, "file is too short for a sparse header");
    if (bfile_pread(ex->file, 0, h, sizeof h) < 0)
        return say(why, wl, "cannot read the sparse header");
    SparseHeader s;
    header_parse(h, &s);
    if (s.magic == VMDK_COWD_MAGIC)
        return say(why, wl, "VMDK3 (COWD) sparse extents are not supported");
    if (s.magic != VMDK_MAGIC)
        return say(why, wl, "not a VMDK sparse extent (no KDMV magic)");
    if (s.gd == VMDK_GD_AT_END) {
        if (read_footer(ex, &s, why, wl) < 0)
            return -1;
        ex->footer = true;
    }
    if (header_check(ex, &s, why, wl) < 0)
        return -1;
    ex->type = VMDK_EXTENT_SPARSE;
    return load_grain_tables(ex, why, wl);
}

/* ---- opening ---- */

static void extent_free(VmdkExtent *ex)
{
    if (ex->own_file && ex->file) {
        bfile_close(ex->file);
        free(ex->file);
    }
    if (ex->gt)
        for (uint32_t i = 0; i < ex->gd_entries; i++)
            free(ex->gt[i]);
    free(ex->gt);
    free(ex->gd);
    free(ex->name);
}

void vmdk_close(Vmdk *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->nb_extents; i++)
        extent_free(&v->extents[i]);
    free(v->extents);
    for (int i = 0; i < VMDK_GRAIN_CACHE; i++)
        free(v->cache[i].data);
    free(v->create_type);
    pthread_mutex_destroy(&v->cache_lock);
    free(v);
}

static VmdkExtent *add_extent(Vmdk *v)
{
    v->extents = xrealloc(v->extents, (size_t)(v->nb_extents + 1) * sizeof(*v->extents));
    VmdkExtent *ex = &v->extents[v->nb_extents++];
    memset(ex, 0, sizeof(*ex));
    return ex;
}

/* monolithicSparse / streamOptimized: the file is the one extent; its
 * embedded descriptor gives the create type and CIDs. */
static int open_monolithic(Vmdk *v, BlockFile *file, char *why, size_t wl)
{
    VmdkExtent *ex = add_extent(v);
    ex->file = file;
    ex->name = xstrdup(file->filename);
    if (sparse_open(ex, why, wl) < 0)
        return -1;
    ex->size = ex->capacity * VMDK_SECTOR;
    v->size = ex->size;
    v->parent_cid = VMDK_PARENT_NONE;
    if (!ex->desc_sector || !ex->desc_sectors) {
        v->create_type = xstrdup(ex->compressed ? "streamOptimized" : "monolithicSparse");
        return 0;
    }
    size_t len = (size_t)(ex->desc_sectors * VMDK_SECTOR);
    char *text = xmalloc(len);
    Desc d;
    int r = bfile_pread(file, ex->desc_sector * VMDK_SECTOR, text, len) < 0
            ? say(why, wl, "cannot read the embedded descriptor")
            : parse_descriptor(&d, text, len, true, why, wl);
    free(text);
    if (r < 0)
        return -1;
    r = check_parent(&d, why, wl);
    v->create_type = d.create_type ? xstrdup(d.create_type)
                     : xstrdup(ex->compressed ? "streamOptimized" : "monolithicSparse");
    v->cid = d.cid;
    v->parent_cid = d.parent_cid;
    desc_free(&d);
    return r;
}

static const char *const supported_types[] = {
    "monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
    "streamOptimized", "vmfs",
};

static bool create_type_supported(const char *t)
{
    for (size_t i = 0; i < ARRAY_SIZE(supported_types); i++)
        if (!strcmp(t, supported_types[i]))
            return true;
    return false;
}

static int open_extent_file(VmdkExtent *ex, const char *descriptor, const DescExtent *de,
                            BlockCacheMode cache, char *why, size_t wl)
{
    char *path = vmdk_extent_path(descriptor, de->name, why, wl);
    if (!path)
        return -1;
    char reason[512];
    ex->file = xcalloc(1, sizeof(*ex->file));
    ex->own_file = true;
    int r = bfile_open(ex->file, path, false, cache, reason, sizeof reason);
    struct stat st;
    if (r < 0) {
        free(ex->file);
        ex->file = NULL;
        say(why, wl, "cannot open extent '%s': %s", de->name, reason);
    } else if (fstat(ex->file->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        r = say(why, wl, "extent '%s' is not a regular file", de->name);
    }
    free(path);
    return r < 0 ? -1 : 0;
}

static int open_desc_extent(Vmdk *v, BlockFile *top, const DescExtent *de, char *why, size_t wl)
{
    VmdkExtent *ex = add_extent(v);
    ex->name = xstrdup(de->name ? de->name : "");
    if (!strcmp(de->access, "NOACCESS"))
        return say(why, wl, "NOACCESS extents are not supported");
    if (de->sectors == 0 || de->sectors > VMDK_MAX_SIZE / VMDK_SECTOR)
        return say(why, wl, "extent of %" PRIu64 " sectors is out of range", de->sectors);
    ex->size = de->sectors * VMDK_SECTOR;
    if (!strcmp(de->type, "ZERO")) {
        ex->type = VMDK_EXTENT_ZERO;
        return 0;
    }
    bool flat = !strcmp(de->type, "FLAT") || !strcmp(de->type, "VMFS");
    if (!flat && strcmp(de->type, "SPARSE"))
        return say(why, wl, "extent type %s is not supported", de->type);
    if (!de->name)
        return say(why, wl, "a %s extent names no file", de->type);
    if (open_extent_file(ex, top->filename, de, top->cache, why, wl) < 0)
        return -1;
    char sub[512];
    if (flat) {
        ex->type = VMDK_EXTENT_FLAT;
        if (de->offset > VMDK_MAX_SIZE / VMDK_SECTOR)
            return say(why, wl, "extent '%s' starts at sector %" PRIu64 ", out of range",
                       de->name, de->offset);
        ex->flat_offset = de->offset * VMDK_SECTOR;
        if (ex->flat_offset + ex->size > ex->file->file_size)
            return say(why, wl, "extent '%s' is %" PRIu64 " bytes, too short for %" PRIu64
                       " sectors from sector %" PRIu64, de->name, ex->file->file_size,
                       de->sectors, de->offset);
        return 0;
    }
    if (sparse_open(ex, sub, sizeof sub) < 0)
        return say(why, wl, "extent '%s': %s", de->name, sub);
    if (ex->capacity < de->sectors)
        return say(why, wl, "extent '%s' holds %" PRIu64 " sectors, the descriptor says %"
                   PRIu64, de->name, ex->capacity, de->sectors);
    return 0;
}

static int open_descriptor(Vmdk *v, BlockFile *file, char *why, size_t wl)
{
    if (file->file_size > VMDK_MAX_DESCRIPTOR)
        return say(why, wl, "not a VMDK: no sparse magic, and too big (%" PRIu64 " bytes) for "
                   "a descriptor", file->file_size);
    size_t len = (size_t)file->file_size;
    char *text = xmalloc(len + 1);
    Desc d;
    int r = bfile_pread(file, 0, text, len) < 0 ? say(why, wl, "cannot read the descriptor")
                                               : parse_descriptor(&d, text, len, false, why, wl);
    free(text);
    if (r < 0)
        return -1;
    if (!d.version)
        r = say(why, wl, "not a VMDK descriptor (no version= line)");
    else if (!d.create_type)
        r = say(why, wl, "the descriptor has no createType");
    else if (!create_type_supported(d.create_type))
        r = say(why, wl, "create type '%s' is not supported", d.create_type);
    else if (check_parent(&d, why, wl) < 0)
        r = -1;
    else if (!d.n)
        r = say(why, wl, "the descriptor names no extent");
    for (int i = 0; i < d.n && r == 0; i++) {
        r = open_desc_extent(v, file, &d.ext[i], why, wl);
        if (r == 0) {
            VmdkExtent *ex = &v->extents[v->nb_extents - 1];
            ex->start = v->size;
            if (ex->size > VMDK_MAX_SIZE - v->size)
                r = say(why, wl, "the extents add up to more than %" PRIu64 " bytes",
                        (uint64_t)VMDK_MAX_SIZE);
            else
                v->size += ex->size;
        }
    }
    if (r == 0) {
        v->create_type = xstrdup(d.create_type);
        v->cid = d.cid;
        v->parent_cid = d.parent_cid;
    }
    desc_free(&d);
    return r;
}

Vmdk *vmdk_open(BlockFile *file, char *err, size_t errlen)
{
    Vmdk *v = xcalloc(1, sizeof(*v));
    v->filename = file->filename;
    pthread_mutex_init(&v->cache_lock, NULL);
    char why[768] = "";
    int r;
    uint8_t magic[4] = { 0 };
    if (file->writable)
        r = say(why, sizeof why, "vmdk images are read-only in vx86: use -snapshot, readonly=on, "
                "or a qcow2 overlay (qemu-img create -f qcow2 -b IMAGE -F vmdk overlay.qcow2)");
    else if (file->file_size >= 4 && bfile_pread(file, 0, magic, 4) < 0)
        r = say(why, sizeof why, "cannot read the first sector");
    else if (le32(magic) == VMDK_MAGIC)
        r = open_monolithic(v, file, why, sizeof why);
    else if (le32(magic) == VMDK_COWD_MAGIC)
        r = say(why, sizeof why, "VMDK3 (COWD) images are not supported");
    else
        r = open_descriptor(v, file, why, sizeof why);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", file->filename, why);
        vmdk_close(v);
        return NULL;
    }
    return v;
}

/* ---- reading ---- */

static int inflate_grain(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)outlen;
    int zr = inflate(&z, Z_FINISH);
    size_t got = outlen - z.avail_out;
    inflateEnd(&z);
    if (zr != Z_STREAM_END)
        return -EIO;
    memset(out + got, 0, outlen - got);     /* a short last grain */
    return 0;
}

/* Inflates grain g (table entry e) of a compressed extent into out. */
static int read_compressed_grain(const VmdkExtent *ex, uint64_t g, uint32_t e, uint8_t *out)
{
    uint64_t at = (uint64_t)e * VMDK_SECTOR, fs = ex->file->file_size;
    uint64_t n;
    if (ex->markers) {
        uint64_t lba;
        uint32_t size;
        int r = read_marker(ex, e, &lba, &size);
        if (r < 0)
            return r;
        if (lba != g * (ex->grain_bytes / VMDK_SECTOR) || size == 0 ||
            size > compressed_bound(ex) || at + MARKER_BYTES + size > fs)
            return -EIO;                      /* checked at open: the file changed */
        at += MARKER_BYTES;
        n = size;
    } else {
        if (at >= fs)
            return -EIO;
        n = MIN(compressed_bound(ex), fs - at);
    }
    uint8_t *in = xmalloc((size_t)n);
    int r = bfile_pread(ex->file, at, in, (size_t)n);
    if (r == 0)
        r = inflate_grain(in, (size_t)n, out, (size_t)ex->grain_bytes);
    free(in);
    return r;
}

/* Copies bytes [in, in + len) of compressed grain g, through the cache. */
static int read_cached_grain(Vmdk *v, const VmdkExtent *ex, uint64_t g, uint32_t e,
                             uint64_t in, uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&v->cache_lock);
    for (int i = 0; i < VMDK_GRAIN_CACHE; i++) {
        VmdkGrainCache *c = &v->cache[i];
        if (c->data && c->ex == ex && c->grain == g) {
            memcpy(buf, c->data + in, len);
            c->used = ++v->cache_clock;
            pthread_mutex_unlock(&v->cache_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&v->cache_lock);
    uint8_t *data = xmalloc((size_t)ex->grain_bytes);
    int r = read_compressed_grain(ex, g, e, data);
    if (r < 0) {
        free(data);
        return r;
    }
    memcpy(buf, data + in, len);
    pthread_mutex_lock(&v->cache_lock);
    VmdkGrainCache *victim = &v->cache[0];
    for (int i = 1; i < VMDK_GRAIN_CACHE; i++)
        if (v->cache[i].used < victim->used)
            victim = &v->cache[i];
    free(victim->data);
    *victim = (VmdkGrainCache){ .ex = ex, .grain = g, .data = data, .used = ++v->cache_clock };
    pthread_mutex_unlock(&v->cache_lock);
    return 0;
}

static uint32_t grain_entry(const VmdkExtent *ex, uint64_t g)
{
    uint64_t gdi = g / ex->gt_entries;
    if (gdi >= ex->gd_entries || !ex->gt[gdi])
        return 0;
    return ex->gt[gdi][g % ex->gt_entries];
}

/* Reads [off, off + len) of a sparse extent (extent-relative offsets);
 * runs of grains that follow each other in the file are one read. */
static int sparse_read(Vmdk *v, const VmdkExtent *ex, uint64_t off, uint8_t *buf, size_t len)
{
    uint64_t gs = ex->grain_bytes;
    while (len) {
        uint64_t g = off / gs, in = off % gs;
        uint32_t e = grain_entry(ex, g);
        size_t n = (size_t)MIN((uint64_t)len, gs - in);
        int r = 0;
        if (e == 0 || (e == 1 && ex->zero_grain)) {
            memset(buf, 0, n);
        } else if (ex->compressed) {
            r = read_cached_grain(v, ex, g, e, in, buf, n);
        } else {
            uint64_t host = (uint64_t)e * VMDK_SECTOR + in;
            /* extend over the following grains while they follow in the file */
            while (n < len) {
                uint32_t next = grain_entry(ex, g + 1);
                if (next <= 1 || (uint64_t)next * VMDK_SECTOR != (uint64_t)e * VMDK_SECTOR + gs)
                    break;
                g++;
                e = next;
                n += (size_t)MIN((uint64_t)(len - n), gs);
            }
            r = bfile_pread(ex->file, host, buf, n);
        }
        if (r < 0)
            return r;
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static const VmdkExtent *find_extent(const Vmdk *v, uint64_t off)
{
    int lo = 0, hi = v->nb_extents - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (v->extents[mid].start <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    return &v->extents[lo];
}

int vmdk_pread(Vmdk *v, uint64_t offset, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        if (offset >= v->size)
            return -EIO;
        const VmdkExtent *ex = find_extent(v, offset);
        uint64_t in = offset - ex->start;
        size_t n = (size_t)MIN((uint64_t)len, ex->size - in);
        int r = 0;
        switch (ex->type) {
        case VMDK_EXTENT_ZERO:
            memset(p, 0, n);
            break;
        case VMDK_EXTENT_FLAT:
            r = bfile_pread(ex->file, ex->flat_offset + in, p, n);
            break;
        case VMDK_EXTENT_SPARSE:
            r = sparse_read(v, ex, in, p, n);
            break;
        }
        if (r < 0)
            return r;
        offset += n;
        p += n;
        len -= n;
    }
    return 0;
}

uint64_t vmdk_disk_usage(const Vmdk *v)
{
    struct stat st;
    uint64_t sum = 0;
    /* the image file itself (a descriptor, or the one sparse extent) */
    if (v->nb_extents && !v->extents[0].own_file && v->extents[0].file &&
        fstat(v->extents[0].file->fd, &st) == 0)
        return (uint64_t)st.st_blocks * 512;
    if (stat(v->filename, &st) == 0)
        sum += (uint64_t)st.st_blocks * 512;
    for (int i = 0; i < v->nb_extents; i++)
        if (v->extents[i].own_file && fstat(v->extents[i].file->fd, &st) == 0)
            sum += (uint64_t)st.st_blocks * 512;
    return sum;
}

/* ---- check ---- */

typedef struct Range {
    uint64_t start, end;      /* bytes in the extent file */
    const char *what;
    uint64_t id;
} Range;

static int range_cmp(const void *a, const void *b)
{
    const Range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void add_range(Range **r, size_t *n, size_t *cap, uint64_t start, uint64_t len,
                      const char *what, uint64_t id)
{
    if (!len)
        return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *r = xrealloc(*r, *cap * sizeof(**r));
    }
    (*r)[(*n)++] = (Range){ start, start + len, what, id };
}

/* The redundant grain directory and its tables must say what the main ones say. */
static uint64_t check_redundant(const VmdkExtent *ex, FILE *out)
{
    if (!ex->rgd_sector) {
        if (ex->flags & VMDK_FLAG_RGD) {
            fprintf(out, "ERROR %s: the redundant grain directory lies past the end of the file\n",
                    ex->name);
            return 1;
        }
        return 0;
    }
    uint64_t errs = 0, gt_bytes = (uint64_t)ex->gt_entries * 4;
    uint8_t *rgd = xmalloc((size_t)ex->gd_entries * 4), *rgt = xmalloc((size_t)gt_bytes);
    if (bfile_pread(ex->file, ex->rgd_sector * VMDK_SECTOR, rgd, (size_t)ex->gd_entries * 4) < 0) {
        fprintf(out, "ERROR %s: cannot read the redundant grain directory\n", ex->name);
        errs++;
    }
    for (uint32_t i = 0; i < ex->gd_entries && !errs; i++) {
        uint32_t s = le32(rgd + 4 * i);
        if (!ex->gt[i] && !s)
            continue;
        if (!ex->gt[i] || !s || (uint64_t)s * VMDK_SECTOR + gt_bytes > ex->file->file_size ||
            bfile_pread(ex->file, (uint64_t)s * VMDK_SECTOR, rgt, (size_t)gt_bytes) < 0) {
            fprintf(out, "ERROR %s: redundant grain directory entry %u (sector %u) does not "
                    "match the grain directory (sector %u)\n", ex->name, i, s, ex->gd[i]);
            errs++;
            continue;
        }
        for (uint32_t k = 0; k < ex->gt_entries; k++) {
            uint64_t g = (uint64_t)i * ex->gt_entries + k;
            if (g * ex->grain_bytes < ex->capacity * VMDK_SECTOR && le32(rgt + 4 * k) != ex->gt[i][k]) {
                fprintf(out, "ERROR %s: redundant grain table %u entry %u is %u, the grain "
                        "table says %u\n", ex->name, i, k, le32(rgt + 4 * k), ex->gt[i][k]);
                errs++;
                break;
            }
        }
    }
    free(rgd);
    free(rgt);
    return errs;
}

static uint64_t check_sparse(const VmdkExtent *ex, FILE *out)
{
    Range *rs = NULL;
    size_t n = 0, cap = 0;
    uint64_t errs = 0, gt_bytes = (uint64_t)ex->gt_entries * 4;
    add_range(&rs, &n, &cap, 0, VMDK_SECTOR, "the header", 0);
    if (ex->footer)
        add_range(&rs, &n, &cap, ex->file->file_size - 3 * VMDK_SECTOR, 3 * VMDK_SECTOR,
                  "the footer", 0);
    add_range(&rs, &n, &cap, ex->desc_sector * VMDK_SECTOR, ex->desc_sectors * VMDK_SECTOR,
              "the embedded descriptor", 0);
    add_range(&rs, &n, &cap, ex->gd_sector * VMDK_SECTOR, (uint64_t)ex->gd_entries * 4,
              "the grain directory", 0);
    if (ex->rgd_sector)
        add_range(&rs, &n, &cap, ex->rgd_sector * VMDK_SECTOR, (uint64_t)ex->gd_entries * 4,
                  "the redundant grain directory", 0);
    uint8_t *grain = xmalloc((size_t)ex->grain_bytes);
    for (uint32_t i = 0; i < ex->gd_entries; i++) {
        if (!ex->gt[i])
            continue;
        add_range(&rs, &n, &cap, (uint64_t)ex->gd[i] * VMDK_SECTOR, gt_bytes, "grain table", i);
        for (uint32_t k = 0; k < ex->gt_entries; k++) {
            uint32_t e = ex->gt[i][k];
            uint64_t g = (uint64_t)i * ex->gt_entries + k;
            if (e == 0 || (e == 1 && ex->zero_grain))
                continue;
            uint64_t len = grain_used_bytes(ex, g);
            if (ex->compressed) {
                uint64_t lba;
                uint32_t size = 0;
                len = ex->markers && read_marker(ex, e, &lba, &size) == 0 ? MARKER_BYTES + size
                                                                        : VMDK_SECTOR;
                if (read_compressed_grain(ex, g, e, grain) < 0) {
                    fprintf(out, "ERROR %s: compressed grain at sector %u (guest sector %" PRIu64
                            ") does not inflate to a grain\n", ex->name, e,
                            g * (ex->grain_bytes / VMDK_SECTOR));
                    errs++;
                }
            }
            add_range(&rs, &n, &cap, (uint64_t)e * VMDK_SECTOR, len, "grain", g);
        }
    }
    free(grain);
    qsort(rs, n, sizeof(*rs), range_cmp);
    size_t far = 0;                   /* the range seen so far that reaches furthest */
    for (size_t i = 1; i < n; i++) {
        if (rs[far].end > rs[i].start) {
            fprintf(out, "ERROR %s: %s %" PRIu64 " at byte %" PRIu64 " overlaps %s %" PRIu64
                    " at byte %" PRIu64 "\n", ex->name, rs[i].what, rs[i].id, rs[i].start,
                    rs[far].what, rs[far].id, rs[far].start);
            errs++;
        }
        if (rs[i].end > rs[far].end)
            far = i;
    }
    free(rs);
    return errs + check_redundant(ex, out);
}

uint64_t vmdk_check(Vmdk *v, FILE *out)
{
    uint64_t errs = 0;
    for (int i = 0; i < v->nb_extents; i++)
        if (v->extents[i].type == VMDK_EXTENT_SPARSE)
            errs += check_sparse(&v->extents[i], out);
    return errs;
}

/* ---- the driver ---- */

static void *drv_open(BlockFile *file, uint64_t *size, char *err, size_t errlen)
{
    Vmdk *v = vmdk_open(file, err, errlen);
    if (v)
        *size = v->size;
    return v;
}

static void drv_close(void *state)
{
    vmdk_close(state);
}

static int drv_pread(void *state, uint64_t offset, void *buf, size_t len)
{
    return vmdk_pread(state, offset, buf, len);
}

static int drv_pwrite(void *state, uint64_t offset, const void *buf, size_t len)
{
    return -EROFS;                    /* never opened writable */
}

static int drv_flush(void *state)
{
    return 0;
}

const BlockDriver blk_driver_vmdk = {
    .name = "vmdk",
    .probe = vmdk_probe,
    .open = drv_open,
    .close = drv_close,
    .pread = drv_pread,
    .pwrite = drv_pwrite,
    .flush = drv_flush,
};
