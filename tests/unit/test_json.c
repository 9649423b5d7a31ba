/* core/json.c: the strict parser's accept/refuse rules and the writer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/unit.h"

static JsonValue *P(const char *s)
{
    char err[128];
    return json_parse(s, strlen(s), err, sizeof err);
}

static bool ok(const char *s)
{
    JsonValue *v = P(s);
    json_free(v);
    return v != NULL;
}

START_TEST(accepts)
{
    ck_assert(ok("{}"));
    ck_assert(ok(" [1, -2, 3.5e3, true, false, null, \"x\"] "));
    ck_assert(ok("{\"a\": {\"b\": [[]]}}"));
    ck_assert(ok("\"\\u00e9\\ud83d\\ude00\""));
    ck_assert(ok("\"\xc3\xa9\xf0\x9f\x98\x80\""));
    ck_assert(ok("-0"));
    ck_assert(ok("123456789012345678901234567890"));     /* a double */
    JsonValue *v = P("{\"execute\": \"x\", \"n\": 9223372036854775807}");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(json_get_string(v, "execute"), "x");
    ck_assert_int_eq(json_get(v, "n")->type, JSON_INT);
    ck_assert(json_get(v, "n")->i == INT64_MAX);
    json_free(v);
}
END_TEST

START_TEST(refuses)
{
    const char *bad[] = {
        "", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "1.", ".5", "1e",
        "+1", "NaN", "Infinity", "tru", "nul", "[1 2]", "{\"a\" 1}", "\"abc", "\"\\x\"",
        "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "\"a\nb\"", "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"\x80\"", "1 2",
        "{\"a\":1,\"a\":2}", "/* c */ 1", "1e999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!ok(bad[i]), "accepted: %s", bad[i]);
    /* nesting is bounded */
    char deep[2 * JSON_MAX_DEPTH + 3];
    memset(deep, '[', JSON_MAX_DEPTH + 1);
    memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
    deep[2 * JSON_MAX_DEPTH + 2] = '\0';
    ck_assert(!ok(deep));
    char fine[2 * JSON_MAX_DEPTH + 1];
    memset(fine, '[', JSON_MAX_DEPTH);
    memset(fine + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
    fine[2 * JSON_MAX_DEPTH] = '\0';
    ck_assert(ok(fine));
    char err[128];
    ck_assert_ptr_null(json_parse("[1,", 3, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "offset"));
}
END_TEST

START_TEST(writer)
{
    JsonValue *o = json_object(), *a = json_array();
    json_set_str(o, "s", "a\"b\\c\n\x01\xc3\xa9");
    json_append(a, json_int(-5));
    json_append(a, json_bool(true));
    json_append(a, json_null());
    json_set(o, "a", a);
    char *s = json_to_string(o);
    ck_assert_str_eq(s, "{\"s\": \"a\\\"b\\\\c\\n\\u0001\xc3\xa9\", \"a\": [-5, true, null]}");
    JsonValue *back = P(s);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(json_get_string(back, "s"), "a\"b\\c\n\x01\xc3\xa9");
    free(s);
    json_free(back);
    json_free(o);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accepts);
    tcase_add_test(tc, refuses);
    tcase_add_test(tc, writer);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(json_suite)
