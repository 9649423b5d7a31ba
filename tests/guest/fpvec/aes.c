/*
 * AES-NI and PCLMULQDQ for the guest differential test: an AES-128
 * encryption and decryption of the FIPS-197 example block (Appendix C.1,
 * key 000102..0f, plaintext 00112233..ff) and a carry-less multiply.
 */
#include <stdint.h>
#include <stdio.h>
#include <wmmintrin.h>

static __m128i expand(__m128i k, __m128i t)
{
    t = _mm_shuffle_epi32(t, 0xff);
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, t);
}

static void print(const char *what, __m128i v)
{
    uint8_t b[16];
    _mm_storeu_si128((__m128i *)b, v);
    printf("%s ", what);
    for (int i = 0; i < 16; i++)
        printf("%02x", b[i]);
    printf("\n");
}

int main(void)
{
    uint8_t key[16], pt[16];
    for (int i = 0; i < 16; i++) {
        key[i] = (uint8_t)i;
        pt[i] = (uint8_t)(i * 0x11);
    }
    __m128i k[11];
    k[0] = _mm_loadu_si128((const __m128i *)key);
#define EXP(i, rc) k[i] = expand(k[i - 1], _mm_aeskeygenassist_si128(k[i - 1], rc))
    EXP(1, 0x01); EXP(2, 0x02); EXP(3, 0x04); EXP(4, 0x08); EXP(5, 0x10);
    EXP(6, 0x20); EXP(7, 0x40); EXP(8, 0x80); EXP(9, 0x1b); EXP(10, 0x36);
    __m128i s = _mm_xor_si128(_mm_loadu_si128((const __m128i *)pt), k[0]);
    for (int i = 1; i < 10; i++)
        s = _mm_aesenc_si128(s, k[i]);
    s = _mm_aesenclast_si128(s, k[10]);
    print("aes128 encrypt", s);       /* FIPS-197: 69c4e0d86a7b0430d8cdb78070b4c55a */
    __m128i d = _mm_xor_si128(s, k[10]);
    for (int i = 9; i > 0; i--)
        d = _mm_aesdec_si128(d, _mm_aesimc_si128(k[i]));
    d = _mm_aesdeclast_si128(d, k[0]);
    print("aes128 decrypt", d);
    __m128i a = _mm_set_epi64x(0x0123456789abcdefll, (long long)0xfedcba9876543210ull);
    __m128i b = _mm_set_epi64x(0x1111111111111111ll, 0x8000000000000001ll);
    print("clmul 00", _mm_clmulepi64_si128(a, b, 0x00));
    print("clmul 11", _mm_clmulepi64_si128(a, b, 0x11));
    return 0;
}
