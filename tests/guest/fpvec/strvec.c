/*
 * String and vector work for the guest differential test: glibc's SSE2/
 * SSE4.2 string functions over many lengths and alignments, SSE4.2 string
 * compares and CRC32 through intrinsics, and SSE2-SSE4.1 integer vector
 * code.  Deterministic output.
 */
#include <nmmintrin.h>
#include <smmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmmintrin.h>

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void strings(void)
{
    static char buf[8192] __attribute__((aligned(64))), dst[8192] __attribute__((aligned(64)));
    unsigned long long h = 0;
    for (int i = 0; i < (int)sizeof(buf); i++)
        buf[i] = (char)('a' + next() % 26);
    for (int len = 0; len < 300; len++) {
        for (int al = 0; al < 33; al += 3) {
            char *s = buf + 1024 + al;
            char saved = s[len];
            s[len] = 0;
            h = h * 131 + strlen(s);
            h = h * 131 + (unsigned long long)(strchr(s, 'q') ? strchr(s, 'q') - s : -1);
            h = h * 131 + (unsigned long long)(strrchr(s, 'e') ? strrchr(s, 'e') - s : -1);
            memcpy(dst + al, s, (size_t)len + 1);
            h = h * 131 + (unsigned)strcmp(dst + al, s) + (unsigned)memcmp(dst + al, s, (size_t)len);
            memset(dst, 'z', (size_t)len);
            h = h * 131 + (unsigned long long)strspn(dst, "z");
            const char *f = strstr(s, "ab");
            h = h * 131 + (unsigned long long)(f ? f - s : -1);
            memmove(dst + 1, dst, (size_t)len);
            h = h * 131 + (unsigned char)dst[len / 2];
            s[len] = saved;
        }
    }
    printf("strings: %016llx\n", h);
    char line[256];
    snprintf(line, sizeof(line), "%s|%10.3f|%-8d|%x", "vx86", 3.14159, -42, 0xbeef);
    printf("snprintf: %s (%zu)\n", line, strlen(line));
}

static void sse42(void)
{
    const char *hay = "The quick brown fox jumps over the lazy dog 0123456789";
    __m128i set = _mm_setr_epi8('a', 'e', 'i', 'o', 'u', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    unsigned h = 0;
    for (size_t i = 0; i + 16 <= strlen(hay); i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(hay + i));
        h = h * 33 + (unsigned)_mm_cmpistri(set, v, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY);
        h = h * 33 + (unsigned)_mm_cmpestri(set, 5, v, 16, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED);
        __m128i m = _mm_cmpistrm(_mm_setr_epi8('a', 'z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                                 v, _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_UNIT_MASK);
        h = h * 33 + (unsigned)_mm_movemask_epi8(m);
    }
    uint32_t crc = ~0u;
    for (size_t i = 0; i < strlen(hay); i++)
        crc = _mm_crc32_u8(crc, (unsigned char)hay[i]);
    uint64_t crc64 = _mm_crc32_u64(0x1234, 0x0123456789abcdefull);
    printf("sse4.2: %08x crc32c %08x %08llx popcnt %d\n", h, ~crc, (unsigned long long)crc64,
           _mm_popcnt_u32(h));
}

static void vectors(void)
{
    int16_t a[4096], b[4096];
    for (int i = 0; i < 4096; i++) {
        a[i] = (int16_t)next();
        b[i] = (int16_t)next();
    }
    __m128i acc = _mm_setzero_si128();
    for (int i = 0; i < 4096; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(b + i));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(x, y));
        acc = _mm_xor_si128(acc, _mm_shuffle_epi8(_mm_adds_epi16(x, y), _mm_set1_epi8(3)));
        acc = _mm_add_epi64(acc, _mm_sad_epu8(x, y));
        acc = _mm_blend_epi16(acc, _mm_mullo_epi32(x, y), 0x5a);
        acc = _mm_max_epi32(acc, _mm_cvtepi16_epi32(x));
        acc = _mm_alignr_epi8(acc, _mm_abs_epi16(y), 5);
    }
    int32_t out[4];
    _mm_storeu_si128((__m128i *)out, acc);
    printf("vectors: %08x %08x %08x %08x\n", out[0], out[1], out[2], out[3]);
    __m128 f = _mm_setr_ps(1.5f, -2.25f, 1e-40f, 3e38f);
    __m128 g = _mm_dp_ps(f, _mm_setr_ps(2, 3, 4, 5), 0xff);
    __m128 r = _mm_round_ps(_mm_mul_ps(f, _mm_set1_ps(1.75f)), _MM_FROUND_TO_NEG_INF);
    float of[4], og[4];
    _mm_storeu_ps(of, r);
    _mm_storeu_ps(og, g);
    printf("sse4.1 fp: %a %a %a %a | %a\n", of[0], of[1], of[2], of[3], og[0]);
}

int main(void)
{
    strings();
    sse42();
    vectors();
    return 0;
}
