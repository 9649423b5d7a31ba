/*
 * JSON (RFC 8259): a recursive-descent parser bounded in depth, and a
 * writer.  See json.h for the rules the parser enforces.
 */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/util.h"

/* ---- values ---- */

static JsonValue *json_new(JsonType t)
{
    JsonValue *v = xcalloc(1, sizeof(*v));
    v->type = t;
    return v;
}

JsonValue *json_null(void) { return json_new(JSON_NULL); }
JsonValue *json_array(void) { return json_new(JSON_ARRAY); }
JsonValue *json_object(void) { return json_new(JSON_OBJECT); }

JsonValue *json_bool(bool b)
{
    JsonValue *v = json_new(JSON_BOOL);
    v->b = b;
    return v;
}

JsonValue *json_int(int64_t i)
{
    JsonValue *v = json_new(JSON_INT);
    v->i = i;
    v->d = (double)i;
    return v;
}

JsonValue *json_double(double d)
{
    JsonValue *v = json_new(JSON_DOUBLE);
    v->d = d;
    return v;
}

JsonValue *json_string(const char *s)
{
    JsonValue *v = json_new(JSON_STRING);
    v->s = xstrdup(s);
    return v;
}

void json_free(JsonValue *v)
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
    free(v->s);
    free(v);
}

static void grow(JsonValue *c)
{
    if (c->n < c->cap)
        return;
    c->cap = c->cap ? c->cap * 2 : 4;
    c->items = xrealloc(c->items, c->cap * sizeof(*c->items));
    if (c->type == JSON_OBJECT)
        c->keys = xrealloc(c->keys, c->cap * sizeof(*c->keys));
}

void json_append(JsonValue *a, JsonValue *v)
{
    grow(a);
    a->items[a->n++] = v;
}

static ssize_t json_find(const JsonValue *o, const char *key)
{
    if (!o || o->type != JSON_OBJECT)
        return -1;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return (ssize_t)i;
    return -1;
}

void json_set(JsonValue *o, const char *key, JsonValue *v)
{
    ssize_t i = json_find(o, key);
    if (i >= 0) {
        json_free(o->items[i]);
        o->items[i] = v;
        return;
    }
    grow(o);
    o->keys[o->n] = xstrdup(key);
    o->items[o->n++] = v;
}

void json_set_str(JsonValue *o, const char *k, const char *s) { json_set(o, k, json_string(s)); }
void json_set_int(JsonValue *o, const char *k, int64_t i) { json_set(o, k, json_int(i)); }
void json_set_bool(JsonValue *o, const char *k, bool b) { json_set(o, k, json_bool(b)); }

JsonValue *json_get(const JsonValue *o, const char *key)
{
    ssize_t i = json_find(o, key);
    return i < 0 ? NULL : o->items[i];
}

const char *json_get_string(const JsonValue *o, const char *key)
{
    JsonValue *v = json_get(o, key);
    return v && v->type == JSON_STRING ? v->s : NULL;
}

JsonValue *json_copy(const JsonValue *v)
{
    JsonValue *c = json_new(v->type);
    c->b = v->b;
    c->i = v->i;
    c->d = v->d;
    if (v->s)
        c->s = xstrdup(v->s);
    for (size_t i = 0; i < v->n; i++) {
        if (v->type == JSON_OBJECT)
            json_set(c, v->keys[i], json_copy(v->items[i]));
        else
            json_append(c, json_copy(v->items[i]));
    }
    return c;
}

const char *json_type_name(JsonType t)
{
    static const char *const names[] = { "null", "boolean", "integer", "number",
                                         "string", "array", "object" };
    return t <= JSON_OBJECT ? names[t] : "?";
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool json_utf8_valid(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    for (size_t i = 0; i < len;) {
        size_t l = utf8_seq(p + i, len - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

/* ---- parser ---- */

typedef struct Parser {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    bool failed;
} Parser;

static JsonValue *perr(Parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static JsonValue *perr(Parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return NULL;
    ps->failed = true;
    char msg[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->err)
        snprintf(ps->err, ps->errlen, "%s at offset %zu", msg, (size_t)(ps->p - ps->start));
    return NULL;
}

static void skip_ws(Parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(Parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
        return false;
    ps->p += n;
    return true;
}

typedef struct StrBuf {
    char *data;
    size_t len, cap;
} StrBuf;

static void sb_put(StrBuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

static void put_utf8(StrBuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp; n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3f)); n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
    }
    sb_put(b, u, n);
}

/* At the opening quote; returns a malloc'ed string or NULL. */
static char *parse_string(Parser *ps)
{
    StrBuf b = { 0 };
    sb_put(&b, "", 0);
    ps->p++;
    for (;;) {
        if (ps->p >= ps->end) {
            perr(ps, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            return b.data;
        }
        if (c < 0x20) {
            perr(ps, "control character in string");
            break;
        }
        if (c == '\\') {
            if (ps->end - ps->p < 2) {
                perr(ps, "unterminated string");
                break;
            }
            char e = ps->p[1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char repl[] = "\"\\/\b\f\n\r\t";
                sb_put(&b, &repl[simple - "\"\\/bfnrt"], 1);
                ps->p += 2;
                continue;
            }
            if (e != 'u') {
                perr(ps, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
                break;
            }
            int hi = ps->end - ps->p >= 6 ? hex4(ps->p + 2) : -1;
            if (hi < 0) {
                perr(ps, "invalid \\u escape");
                break;
            }
            ps->p += 6;
            uint32_t cp = (uint32_t)hi;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                perr(ps, "lone low surrogate in \\u escape");
                break;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int lo = ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u'
                         ? hex4(ps->p + 2) : -1;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    perr(ps, "high surrogate without a low surrogate");
                    break;
                }
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            }
            if (cp == 0) {
                perr(ps, "\\u0000 is not supported in strings");
                break;
            }
            put_utf8(&b, cp);
            continue;
        }
        size_t l = utf8_seq((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
        if (!l) {
            perr(ps, "invalid UTF-8 in string");
            break;
        }
        sb_put(&b, ps->p, l);
        ps->p += l;
    }
    free(b.data);
    return NULL;
}

static JsonValue *parse_number(Parser *ps)
{
    const char *s = ps->p;
    bool integer = true;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return perr(ps, "invalid number");
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            return perr(ps, "leading zero in number");
    } else {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        integer = false;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return perr(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integer = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return perr(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    if (n > 64)
        return perr(ps, "number too long");
    char tmp[72];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (integer) {
        errno = 0;
        char *endp;
        long long v = strtoll(tmp, &endp, 10);
        if (errno == 0 && *endp == '\0')
            return json_int(v);
    }
    double d = strtod(tmp, NULL);
    if (!isfinite(d))
        return perr(ps, "number out of range");
    return json_double(d);
}

static JsonValue *parse_value(Parser *ps, int depth);

static JsonValue *parse_container(Parser *ps, int depth, bool object)
{
    if (depth >= JSON_MAX_DEPTH)
        return perr(ps, "nesting deeper than %d", JSON_MAX_DEPTH);
    char close = object ? '}' : ']';
    JsonValue *c = object ? json_object() : json_array();
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return c;
    }
    for (;;) {
        skip_ws(ps);
        char *key = NULL;
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                perr(ps, "expected a string key");
                break;
            }
            key = parse_string(ps);
            if (!key)
                break;
            if (json_find(c, key) >= 0) {
                free(key);
                perr(ps, "duplicate key");
                break;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                perr(ps, "expected ':'");
                break;
            }
            ps->p++;
        }
        JsonValue *v = parse_value(ps, depth + 1);
        if (!v) {
            free(key);
            break;
        }
        if (object) {
            grow(c);
            c->keys[c->n] = key;
            c->items[c->n++] = v;
        } else {
            json_append(c, v);
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return c;
        }
        perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    json_free(c);
    return NULL;
}

static JsonValue *parse_value(Parser *ps, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{':
        return parse_container(ps, depth, true);
    case '[':
        return parse_container(ps, depth, false);
    case '"': {
        char *s = parse_string(ps);
        if (!s)
            return NULL;
        JsonValue *v = json_new(JSON_STRING);
        v->s = s;
        return v;
    }
    case 't':
        if (literal(ps, "true"))
            return json_bool(true);
        break;
    case 'f':
        if (literal(ps, "false"))
            return json_bool(false);
        break;
    case 'n':
        if (literal(ps, "null"))
            return json_null();
        break;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
        break;
    }
    unsigned char c = (unsigned char)*ps->p;
    if (c >= 0x21 && c < 0x7f)
        return perr(ps, "unexpected character '%c'", c);
    return perr(ps, "unexpected byte 0x%02x", c);
}

JsonValue *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    Parser ps = { .p = text, .end = text + len, .start = text, .err = err, .errlen = errlen };
    if (err && errlen)
        err[0] = '\0';
    JsonValue *v = parse_value(&ps, 0);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        json_free(v);
        return perr(&ps, "trailing characters after the value");
    }
    return v;
}

/* ---- writer ---- */

static void write_string(StrBuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': sb_put(b, "\\\"", 2); break;
        case '\\': sb_put(b, "\\\\", 2); break;
        case '\n': sb_put(b, "\\n", 2); break;
        case '\r': sb_put(b, "\\r", 2); break;
        case '\t': sb_put(b, "\\t", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                sb_put(b, esc, 6);
            } else {
                sb_put(b, p, 1);
            }
        }
    }
    sb_put(b, "\"", 1);
}

static void write_value(StrBuf *b, const JsonValue *v)
{
    char num[40];
    switch (v->type) {
    case JSON_NULL: sb_put(b, "null", 4); break;
    case JSON_BOOL: v->b ? sb_put(b, "true", 4) : sb_put(b, "false", 5); break;
    case JSON_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->i);
        sb_put(b, num, strlen(num));
        break;
    case JSON_DOUBLE:
        snprintf(num, sizeof num, "%.17g", isfinite(v->d) ? v->d : 0.0);
        sb_put(b, num, strlen(num));
        break;
    case JSON_STRING: write_string(b, v->s); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        sb_put(b, v->type == JSON_OBJECT ? "{" : "[", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                sb_put(b, ", ", 2);
            if (v->type == JSON_OBJECT) {
                write_string(b, v->keys[i]);
                sb_put(b, ": ", 2);
            }
            write_value(b, v->items[i]);
        }
        sb_put(b, v->type == JSON_OBJECT ? "}" : "]", 1);
        break;
    }
}

char *json_to_string(const JsonValue *v)
{
    StrBuf b = { 0 };
    sb_put(&b, "", 0);
    write_value(&b, v);
    return b.data;
}
