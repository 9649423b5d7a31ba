/*
 * PCMPISTRI / PCMPESTRI: the helper runs the host's own instruction when
 * the host has SSE4.2 (cpu/helpers-sse-str.c, pcmpstr_host) and the SDM
 * pseudocode otherwise (pcmpstr_generic).  These tests pin the generic
 * code to a few results worked out by hand from the SDM, then hold the two
 * implementations to each other on random operands for every imm8, so a
 * host without SSE4.2 computes what a host with it does.
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "tests/unit/unit.h"

static XMMReg str16(const char *s)
{
    XMMReg r;
    memset(&r, 0, sizeof(r));
    memcpy(r.b, s, strlen(s) < 16 ? strlen(s) : 16);
    return r;
}

static uint64_t istri(unsigned imm, const char *a, const char *b)
{
    XMMReg xa = str16(a), xb = str16(b), m;
    return pcmpstr_generic(X86_PCMPISTRI | (uint64_t)imm << 16, &xa, &xb, 0, 0, &m);
}

/* strcspn's use: equal any, signed bytes (imm 0x02): the index of the
 * first byte of b that is in the set a; CF: some byte matched; ZF: b ends
 * inside the 16 bytes; SF: a does. */
START_TEST(generic_equal_any_known)
{
    uint64_t r = istri(0x02, "abc", "xyzb");
    ck_assert_uint_eq(r >> 16, 3);
    ck_assert_uint_eq(r & 0xffff, CC_C | CC_Z | CC_S);
    r = istri(0x02, "abc", "xyz");
    ck_assert_uint_eq(r >> 16, 16);                 /* no match: 16 */
    ck_assert_uint_eq(r & 0xffff, CC_Z | CC_S);
    r = istri(0x42, "ab", "a..a");                  /* most significant match */
    ck_assert_uint_eq(r >> 16, 3);
}
END_TEST

/* strcmp's use: equal each, masked negative (imm 0x1a / 0x3a): the index
 * of the first difference inside the strings. */
START_TEST(generic_equal_each_known)
{
    uint64_t r = istri(0x1a, "hello", "help");
    ck_assert_uint_eq(r >> 16, 3);
    ck_assert_uint_eq(r & CC_C, CC_C);
    r = istri(0x1a, "same", "same");
    ck_assert_uint_eq(r >> 16, 16);                 /* equal strings: no index */
    ck_assert_uint_eq(r & 0xffff, CC_Z | CC_S);
    /* masked negative only inverts the valid elements of b: past its end
     * both are invalid, "equal", and stay set */
    r = istri(0x3a, "same", "same");
    ck_assert_uint_eq(r >> 16, 4);
    ck_assert_uint_eq(r & 0xffff, CC_C | CC_Z | CC_S);
    /* ranges (imm 0x04): "az" is the range a..z; '0' at 2 is outside it */
    r = istri(0x14, "az", "ab0");
    ck_assert_uint_eq(r >> 16, 2);
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Operands with a small alphabet (so elements match), early zero bytes
 * or words (implicit lengths below 16) and occasional sign bits. */
static void random_operand(XMMReg *x)
{
    static const uint8_t alphabet[] = { 'a', 'b', 'c', 'z', 0x80, 0xff, 0x7f, 0 };
    for (int i = 0; i < 16; i++)
        x->b[i] = (rnd() & 3) ? alphabet[rnd() % 8] : (uint8_t)rnd();
}

static uint64_t random_len(void)
{
    static const uint64_t edge[] = { 0, 1, 7, 8, 9, 15, 16, 17, 0xffffffff, 0xfffffff0,
                                     0x80000000, 0x7fffffff, 0xffffffff00000003ull };
    return (rnd() & 1) ? edge[rnd() % (sizeof(edge) / sizeof(edge[0]))]
                       : (uint64_t)((int)(rnd() % 41) - 20);
}

START_TEST(host_matches_generic)
{
    if (!pcmpstr_host_ok())
        return;                  /* nothing to compare with on this host */
    int compared = 0;
    for (unsigned imm = 0; imm < 256; imm++) {
        for (int k = 0; k < 400; k++) {
            XMMReg a, b, m;
            random_operand(&a);
            random_operand(&b);
            uint64_t rax = random_len(), rdx = random_len();
            uint64_t mnem = (k & 1) ? X86_PCMPESTRI : X86_PCMPISTRI;
            uint64_t op = mnem | (uint64_t)imm << 16;
            uint64_t host, gen = pcmpstr_generic(op, &a, &b, rax, rdx, &m);
            ck_assert(pcmpstr_host(op, &a, &b, rax, rdx, &host));
            if (host != gen)
                ck_abort_msg("imm %#x %s: host %#llx generic %#llx", imm,
                             mnem == X86_PCMPESTRI ? "estri" : "istri",
                             (unsigned long long)host, (unsigned long long)gen);
            compared++;
        }
    }
    ck_assert_int_eq(compared, 256 * 400);
    /* the 64-bit explicit form and the -M forms are left to the generic code */
    XMMReg a = str16("a"), b = str16("a");
    uint64_t r;
    ck_assert(!pcmpstr_host(X86_PCMPESTRI | 1ull << 24, &a, &b, 1, 1, &r));
    ck_assert(!pcmpstr_host(X86_PCMPISTRM, &a, &b, 0, 0, &r));
}
END_TEST

static Suite *sse_str_suite(void)
{
    Suite *s = suite_create("sse_str");
    TCase *tc = tcase_create("pcmpstr");
    tcase_add_test(tc, generic_equal_any_known);
    tcase_add_test(tc, generic_equal_each_known);
    tcase_add_test(tc, host_matches_generic);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(sse_str_suite)
