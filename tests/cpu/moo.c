/*
 * MOO reader (chunked little-endian format, gzip-compressed) and a small
 * JSON reader, for the CPU conformance runner.  See moo.h.
 */
#include "tests/cpu/moo.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/util.h"

/* ---- reading the file ---- */

static uint8_t *gz_read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        int r = gzread(gz, buf + n, (unsigned)(cap - n));
        if (r < 0) {
            snprintf(err, errlen, "%s: gzip read error", path);
            gzclose(gz);
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    gzclose(gz);
    *len = n;
    return buf;
}

typedef struct Cursor {
    const uint8_t *p, *end;
    bool bad;
} Cursor;

static uint32_t rd32(Cursor *c)
{
    if (c->end - c->p < 4) {
        c->bad = true;
        c->p = c->end;
        return 0;
    }
    uint32_t v = c->p[0] | c->p[1] << 8 | c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    c->p += 4;
    return v;
}

static uint16_t rd16(Cursor *c)
{
    if (c->end - c->p < 2) {
        c->bad = true;
        c->p = c->end;
        return 0;
    }
    uint16_t v = (uint16_t)(c->p[0] | c->p[1] << 8);
    c->p += 2;
    return v;
}

/* Next chunk: type and a cursor over its payload. */
static bool next_chunk(Cursor *c, char type[5], Cursor *payload)
{
    if (c->end - c->p < 8)
        return false;
    memcpy(type, c->p, 4);
    type[4] = 0;
    c->p += 4;
    uint32_t len = rd32(c);
    if ((size_t)(c->end - c->p) < len) {
        c->bad = true;
        return false;
    }
    payload->p = c->p;
    payload->end = c->p + len;
    payload->bad = false;
    c->p += len;
    return true;
}

static void parse_state(Cursor *c, MooState *st)
{
    char type[5];
    Cursor pl;
    while (next_chunk(c, type, &pl)) {
        if (!strcmp(type, "REGS")) {
            st->mask = rd16(&pl);
            for (int r = 0; r < MOO_NREGS; r++)
                if (st->mask & (1u << r))
                    st->regs[r] = rd16(&pl);
        } else if (!strcmp(type, "RAM ")) {
            uint32_t n = rd32(&pl);
            if (n > (uint32_t)((pl.end - pl.p) / 5))
                n = (uint32_t)((pl.end - pl.p) / 5);
            st->nram = n;
            st->ram_addr = xmalloc((n ? n : 1) * sizeof(uint32_t));
            st->ram_val = xmalloc(n ? n : 1);
            for (uint32_t i = 0; i < n; i++) {
                st->ram_addr[i] = rd32(&pl);
                st->ram_val[i] = pl.p < pl.end ? *pl.p++ : 0;
            }
        }
    }
}

static void parse_test(Cursor *c, MooTest *t)
{
    t->index = rd32(c);
    char type[5];
    Cursor pl;
    while (next_chunk(c, type, &pl)) {
        if (!strcmp(type, "NAME")) {
            uint32_t n = rd32(&pl);
            size_t m = n < sizeof(t->name) - 1 ? n : sizeof(t->name) - 1;
            if ((size_t)(pl.end - pl.p) < m)
                m = (size_t)(pl.end - pl.p);
            memcpy(t->name, pl.p, m);
            t->name[m] = 0;
        } else if (!strcmp(type, "BYTS")) {
            uint32_t n = rd32(&pl);
            if (n > sizeof(t->bytes))
                n = sizeof(t->bytes);
            if ((size_t)(pl.end - pl.p) < n)
                n = (uint32_t)(pl.end - pl.p);
            memcpy(t->bytes, pl.p, n);
            t->nbytes = n;
        } else if (!strcmp(type, "INIT")) {
            parse_state(&pl, &t->init);
        } else if (!strcmp(type, "FINA")) {
            parse_state(&pl, &t->fina);
        } else if (!strcmp(type, "EXCP")) {
            if (pl.end - pl.p >= 5) {
                t->has_exc = true;
                t->exc_vector = *pl.p++;
                t->exc_flags_addr = rd32(&pl);
            }
        } else if (!strcmp(type, "HASH")) {
            if (pl.end - pl.p >= 20)
                memcpy(t->hash, pl.p, 20);
        }
        /* others (GMET, CYCL, QUEU): skipped by length */
    }
}

MooFile *moo_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    uint8_t *data = gz_read_all(path, &len, err, errlen);
    if (!data)
        return NULL;
    Cursor c = { data, data + len, false };
    char type[5];
    Cursor pl;
    MooFile *f = xcalloc(1, sizeof(*f));
    uint32_t cap = 0;
    while (next_chunk(&c, type, &pl)) {
        if (!strcmp(type, "MOO ")) {
            pl.p += 4;   /* version, reserved */
            cap = rd32(&pl);
            if (cap > 1000000)
                cap = 1000000;
            f->tests = xcalloc(cap ? cap : 1, sizeof(MooTest));
        } else if (!strcmp(type, "META")) {
            if (pl.end - pl.p >= 15) {
                f->opcode = pl.p[3] | pl.p[4] << 8 | pl.p[5] << 16 | (uint32_t)pl.p[6] << 24;
                memcpy(f->mnemonic, pl.p + 7, 8);
                f->mnemonic[8] = 0;
            }
        } else if (!strcmp(type, "TEST")) {
            if (f->ntests >= cap) {
                cap = cap ? cap * 2 : 64;
                f->tests = xrealloc(f->tests, cap * sizeof(MooTest));
            }
            MooTest *t = &f->tests[f->ntests];
            memset(t, 0, sizeof(*t));
            parse_test(&pl, t);
            f->ntests++;
        }
    }
    bool bad = c.bad;
    free(data);
    if (bad) {
        snprintf(err, errlen, "%s: truncated or corrupt MOO data", path);
        moo_free(f);
        return NULL;
    }
    return f;
}

void moo_free(MooFile *f)
{
    if (!f)
        return;
    for (uint32_t i = 0; i < f->ntests; i++) {
        free(f->tests[i].init.ram_addr);
        free(f->tests[i].init.ram_val);
        free(f->tests[i].fina.ram_addr);
        free(f->tests[i].fina.ram_val);
    }
    free(f->tests);
    free(f);
}

/* ---- JSON ---- */

typedef struct JP {
    const char *p;
    char *err;
    size_t errlen;
    bool failed;
} JP;

static void jp_ws(JP *j)
{
    while (*j->p && isspace((unsigned char)*j->p))
        j->p++;
}

static Json *jp_fail(JP *j, const char *what)
{
    if (!j->failed)
        snprintf(j->err, j->errlen, "JSON: %s near '%.20s'", what, j->p);
    j->failed = true;
    return NULL;
}

static char *jp_string(JP *j)
{
    if (*j->p != '"') {
        jp_fail(j, "string expected");
        return NULL;
    }
    j->p++;
    size_t cap = 16, n = 0;
    char *s = xmalloc(cap);
    while (*j->p && *j->p != '"') {
        char ch = *j->p++;
        if (ch == '\\' && *j->p) {
            char e = *j->p++;
            ch = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            if (e == 'u') {           /* keep it simple: skip 4 hex digits */
                for (int k = 0; k < 4 && *j->p; k++)
                    j->p++;
                ch = '?';
            }
        }
        if (n + 1 >= cap)
            s = xrealloc(s, cap *= 2);
        s[n++] = ch;
    }
    if (*j->p != '"') {
        free(s);
        jp_fail(j, "unterminated string");
        return NULL;
    }
    j->p++;
    s[n] = 0;
    return s;
}

static Json *jp_value(JP *j, int depth);

static Json *jp_container(JP *j, int depth, bool obj)
{
    Json *v = xcalloc(1, sizeof(*v));
    v->type = obj ? JSON_OBJ : JSON_ARR;
    j->p++;
    jp_ws(j);
    size_t cap = 0;
    if (*j->p == (obj ? '}' : ']')) {
        j->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        jp_ws(j);
        if (obj) {
            key = jp_string(j);
            jp_ws(j);
            if (!key || *j->p != ':') {
                free(key);
                json_free(v);
                return jp_fail(j, "':' expected");
            }
            j->p++;
        }
        Json *item = jp_value(j, depth + 1);
        if (!item) {
            free(key);
            json_free(v);
            return NULL;
        }
        if (v->n == cap) {
            cap = cap ? cap * 2 : 8;
            v->items = xrealloc(v->items, cap * sizeof(*v->items));
            if (obj)
                v->keys = xrealloc(v->keys, cap * sizeof(*v->keys));
        }
        if (obj)
            v->keys[v->n] = key;
        v->items[v->n++] = item;
        jp_ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == (obj ? '}' : ']')) {
            j->p++;
            return v;
        }
        json_free(v);
        return jp_fail(j, "',' or end of container expected");
    }
}

static Json *jp_value(JP *j, int depth)
{
    jp_ws(j);
    if (depth > 64)
        return jp_fail(j, "nesting too deep");
    if (*j->p == '{' || *j->p == '[')
        return jp_container(j, depth, *j->p == '{');
    Json *v = xcalloc(1, sizeof(*v));
    if (*j->p == '"') {
        v->type = JSON_STR;
        v->str = jp_string(j);
        if (!v->str) {
            free(v);
            return NULL;
        }
    } else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
        v->type = JSON_BOOL;
        v->num = *j->p == 't';
        j->p += *j->p == 't' ? 4 : 5;
    } else if (!strncmp(j->p, "null", 4)) {
        v->type = JSON_NULL;
        j->p += 4;
    } else {
        char *end;
        v->type = JSON_NUM;
        v->num = strtod(j->p, &end);
        if (end == j->p) {
            free(v);
            return jp_fail(j, "value expected");
        }
        j->p = end;
    }
    return v;
}

Json *json_parse(const char *text, char *err, size_t errlen)
{
    JP j = { text, err, errlen, false };
    Json *v = jp_value(&j, 0);
    return v;
}

void json_free(Json *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

const Json *json_get(const Json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key))
            return obj->items[i];
    return NULL;
}
