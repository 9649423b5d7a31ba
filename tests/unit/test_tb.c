/* The TB cache's jump cache: inline keys and code, invalidation, flushes. */
#include <stdint.h>
#include <stdlib.h>

#include "tcg/tb.h"
#include "tests/unit/unit.h"

/* An engine that only counts releases: the cache never runs code here. */
static int releases;
static void fake_flush(IREngineCtx *ctx) {}
static void fake_release(IREngineCtx *ctx, void *code) { releases++; }
static void fake_chain(IREngineCtx *ctx, void *from, unsigned slot, void *to) {}
static void fake_unchain(IREngineCtx *ctx, void *from, unsigned slot) {}
static const IREngine fake_engine = {
    .name = "fake", .flush = fake_flush, .release = fake_release,
    .chain = fake_chain, .unchain = fake_unchain,
};

static char code_bytes[8];   /* distinct fake code pointers */

static TB *make_tb(TBCache *c, uint64_t pc, uint64_t cs_base, uint32_t flags, int code)
{
    TB *tb = tb_new();
    tb->pc = pc;
    tb->cs_base = cs_base;
    tb->flags = flags;
    tb->phys_pc = 0x100000 + (pc & 0xfffff);
    tb->phys_page2 = TB_NO_PAGE;
    tb->size = 4;
    tb->code = &code_bytes[code];
    tb_insert(c, tb);
    return tb;
}

static TBCache *new_cache(void)
{
    releases = 0;
    return tb_cache_new(&fake_engine, NULL, NULL, NULL);
}

START_TEST(jc_entry_holds_key_and_code_inline)
{
    TBCache *c = new_cache();
    TB *tb = make_tb(c, 0xc0101234, 0, 0x1234, 1);
    const TBJCEntry *e = &tb_jc_table(c)[tb_jc_index(0xc0101234)];
    ck_assert_uint_eq(e->pc, 0xc0101234);
    ck_assert_uint_eq(e->key, tb_jc_key(0, 0x1234));
    ck_assert_ptr_eq(e->code, &code_bytes[1]);
    ck_assert_ptr_eq(e->tb, tb);
    ck_assert_ptr_eq(tb_jc_lookup(c, 0xc0101234, 0, 0x1234), tb);
    /* Any part of the key differing is a miss. */
    ck_assert_ptr_null(tb_jc_lookup(c, 0xc0101234, 0, 0x1235));
    ck_assert_ptr_null(tb_jc_lookup(c, 0xc0101234, 0x10, 0x1234));
    ck_assert_ptr_null(tb_jc_lookup(c, 0xc0101235, 0, 0x1234));
    tb_cache_free(c);
}
END_TEST

START_TEST(empty_entries_never_match)
{
    TBCache *c = new_cache();
    /* Real mode at 0:0 with flags 0 is a legal key: a zeroed table would hit. */
    ck_assert_ptr_null(tb_jc_lookup(c, 0, 0, 0));
    ck_assert_ptr_null(tb_jc_lookup(c, ~(uint64_t)0, 0xffffffff, 0xffffffff));
    TB *tb = make_tb(c, 0, 0, 0, 2);
    ck_assert_ptr_eq(tb_jc_lookup(c, 0, 0, 0), tb);
    tb_jc_flush(c);
    ck_assert_ptr_null(tb_jc_lookup(c, 0, 0, 0));
    /* The hash table refills the entry. */
    ck_assert_ptr_eq(tb_lookup(c, tb->phys_pc, 0, 0, 0), tb);
    ck_assert_ptr_eq(tb_jc_lookup(c, 0, 0, 0), tb);
    tb_cache_free(c);
}
END_TEST

START_TEST(invalidate_clears_only_its_own_entry)
{
    TBCache *c = new_cache();
    /* Same index: flipping bit 0 of both halves of pc ^ pc >> bits. */
    uint64_t a = 0x1123, b = a ^ ((uint64_t)1 << TB_JC_BITS) ^ 1;
    ck_assert_uint_eq(tb_jc_index(a), tb_jc_index(b));
    TB *ta = make_tb(c, a, 0, 7, 3);
    TB *tb = make_tb(c, b, 0, 7, 4);
    ck_assert_ptr_null(tb_jc_lookup(c, a, 0, 7));   /* replaced by b */
    ck_assert_ptr_eq(tb_jc_lookup(c, b, 0, 7), tb);
    tb_invalidate(c, ta);
    ck_assert_ptr_eq(tb_jc_lookup(c, b, 0, 7), tb);
    tb_invalidate(c, tb);
    ck_assert_ptr_null(tb_jc_lookup(c, b, 0, 7));
    const TBJCEntry *e = &tb_jc_table(c)[tb_jc_index(b)];
    ck_assert_uint_eq(e->key, TB_JC_NOKEY);
    ck_assert_ptr_null(e->code);
    tb_reap(c);
    ck_assert_int_eq(releases, 2);
    tb_cache_free(c);
}
END_TEST

START_TEST(wide_cs_base_is_never_cached)
{
    TBCache *c = new_cache();
    ck_assert_uint_eq(tb_jc_key(0x100000000ULL, 0), TB_JC_NOKEY);
    TB *tb = make_tb(c, 0x5000, 0x100000000ULL, 0, 5);
    ck_assert_ptr_null(tb_jc_lookup(c, 0x5000, 0x100000000ULL, 0));
    ck_assert_ptr_eq(tb_lookup(c, tb->phys_pc, 0x5000, 0x100000000ULL, 0), tb);
    ck_assert_ptr_null(tb_jc_lookup(c, 0x5000, 0x100000000ULL, 0));
    ck_assert_uint_eq(tb_jc_table(c)[tb_jc_index(0x5000)].key, TB_JC_NOKEY);
    tb_cache_free(c);
}
END_TEST

START_TEST(flush_empties_the_jump_cache)
{
    TBCache *c = new_cache();
    make_tb(c, 0x401000, 0, 3, 6);
    tb_flush(c);
    ck_assert_ptr_null(tb_jc_lookup(c, 0x401000, 0, 3));
    ck_assert_uint_eq(tb_jc_table(c)[tb_jc_index(0x401000)].key, TB_JC_NOKEY);
    tb_cache_free(c);
}
END_TEST

/* A flush clears exactly what was filled since the last one, or the
 * whole table once more was filled than the cache keeps track of. */
static void fill_flush_check(int n)
{
    TBCache *c = new_cache();
    for (int i = 0; i < n; i++)
        make_tb(c, 0x10000000 + (uint64_t)i * 16, 0, 1, 0);
    ck_assert_ptr_nonnull(tb_jc_lookup(c, 0x10000000, 0, 1));
    tb_jc_flush(c);
    for (int i = 0; i < n; i++)
        ck_assert_ptr_null(tb_jc_lookup(c, 0x10000000 + (uint64_t)i * 16, 0, 1));
    /* Refilled after the flush, then flushed again. */
    ck_assert_ptr_nonnull(tb_lookup(c, 0x100000, 0x10000000, 0, 1));
    ck_assert_ptr_nonnull(tb_jc_lookup(c, 0x10000000, 0, 1));
    tb_jc_flush(c);
    ck_assert_ptr_null(tb_jc_lookup(c, 0x10000000, 0, 1));
    tb_cache_free(c);
}

START_TEST(flush_after_few_and_many_fills)
{
    fill_flush_check(3);
    fill_flush_check(5000);   /* more than the fill log holds */
}
END_TEST

static bool keep_upper_half(void *opaque, uint64_t pc)
{
    (void)opaque;
    return pc >= 0x80000000u;
}

START_TEST(flush_keep_spares_vouched_entries_until_a_full_flush)
{
    TBCache *c = new_cache();
    TB *kernel = make_tb(c, 0xc0101234, 0, 0x10, 1);
    TB *user = make_tb(c, 0x00401234, 0, 0x13, 2);
    tb_jc_flush_keep(c, keep_upper_half, NULL);
    ck_assert_ptr_eq(tb_jc_lookup(c, 0xc0101234, 0, 0x10), kernel);
    ck_assert_ptr_null(tb_jc_lookup(c, 0x00401234, 0, 0x13));
    (void)user;
    /* The kept entry is still on the fill log: a plain flush clears it. */
    tb_jc_flush(c);
    ck_assert_ptr_null(tb_jc_lookup(c, 0xc0101234, 0, 0x10));
    tb_cache_free(c);
}
END_TEST

static Suite *tb_suite(void)
{
    Suite *s = suite_create("tb");
    TCase *tc = tcase_create("jump cache");
    tcase_add_test(tc, jc_entry_holds_key_and_code_inline);
    tcase_add_test(tc, empty_entries_never_match);
    tcase_add_test(tc, invalidate_clears_only_its_own_entry);
    tcase_add_test(tc, wide_cs_base_is_never_cached);
    tcase_add_test(tc, flush_empties_the_jump_cache);
    tcase_add_test(tc, flush_after_few_and_many_fills);
    tcase_add_test(tc, flush_keep_spares_vouched_entries_until_a_full_flush);
    suite_add_tcase(s, tc);
    return s;
}
UNIT_SUITE(tb_suite)
