/*
 * JSON values, a strict parser and a writer (RFC 8259), for QMP.
 *
 *   char err[128];
 *   JsonValue *v = json_parse(text, len, err, sizeof err);   // NULL: err says why
 *   const char *cmd = json_get_string(v, "execute");
 *   JsonValue *r = json_object();
 *   json_set(r, "return", json_object());
 *   char *out = json_to_string(r);                           // malloc'ed, one line
 *   json_free(v); json_free(r); free(out);
 *
 * The parser is strict and bounded: nesting deeper than JSON_MAX_DEPTH and
 * input longer than the caller's buffer are refused; strings must be valid
 * UTF-8 (no overlong forms, surrogates or code points above U+10FFFF, as
 * raw bytes or as \u escapes; \u0000 is refused so that strings stay C
 * strings); no comments, no trailing commas, no NaN/Infinity, no leading
 * zeros; a duplicate key in an object is refused.  Numbers without a
 * fraction or exponent that fit an int64 are JSON_INT, others JSON_DOUBLE.
 * Objects keep their members in insertion order.
 */
#ifndef VX86_CORE_JSON_H
#define VX86_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum JsonType {
    JSON_NULL, JSON_BOOL, JSON_INT, JSON_DOUBLE, JSON_STRING, JSON_ARRAY, JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
    JsonType type;
    bool b;
    int64_t i;
    double d;
    char *s;                 /* JSON_STRING: NUL-terminated UTF-8 */
    size_t n, cap;           /* JSON_ARRAY / JSON_OBJECT: members */
    JsonValue **items;
    char **keys;             /* JSON_OBJECT only */
};

/* Parses exactly one value (surrounding whitespace allowed). */
JsonValue *json_parse(const char *text, size_t len, char *err, size_t errlen);

JsonValue *json_null(void);
JsonValue *json_bool(bool b);
JsonValue *json_int(int64_t i);
JsonValue *json_double(double d);
JsonValue *json_string(const char *s);      /* copied; must be valid UTF-8 */
JsonValue *json_array(void);
JsonValue *json_object(void);
JsonValue *json_copy(const JsonValue *v);
void json_free(JsonValue *v);

/* Takes ownership of v.  json_set replaces an existing member. */
void json_append(JsonValue *array, JsonValue *v);
void json_set(JsonValue *obj, const char *key, JsonValue *v);
/* Convenience setters. */
void json_set_str(JsonValue *obj, const char *key, const char *s);
void json_set_int(JsonValue *obj, const char *key, int64_t i);
void json_set_bool(JsonValue *obj, const char *key, bool b);

/* Member lookup (NULL when obj is not an object or has no such key). */
JsonValue *json_get(const JsonValue *obj, const char *key);
/* The member's string, or NULL when absent or not a string. */
const char *json_get_string(const JsonValue *obj, const char *key);

const char *json_type_name(JsonType t);

/* One line, no trailing newline; non-ASCII written as UTF-8, control
 * characters escaped.  malloc'ed. */
char *json_to_string(const JsonValue *v);

/* Checks that buf[0..len) is valid UTF-8 (the parser's rules). */
bool json_utf8_valid(const char *buf, size_t len);

#endif
