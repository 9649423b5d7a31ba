/*
 * AES-NI (AESENC, AESENCLAST, AESDEC, AESDECLAST, AESIMC,
 * AESKEYGENASSIST) for helper_sse_int, from FIPS-197 and the SDM's
 * pseudocode.  The S-boxes are computed once from their definition
 * (multiplicative inverse in GF(2^8) followed by the affine map) rather
 * than typed in.  The state is the 16 bytes of the XMM register, column
 * major as FIPS-197 lays it out (byte i = row i % 4, column i / 4).
 */
#include <pthread.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/fpu.h"

static uint8_t sbox[256], inv_sbox[256];
static pthread_once_t sbox_once = PTHREAD_ONCE_INIT;

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t p = 0;
    while (b) {
        if (b & 1)
            p ^= a;
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
        b >>= 1;
    }
    return p;
}

static void sbox_init(void)
{
    for (int x = 0; x < 256; x++) {
        uint8_t inv = 0;
        for (int y = 1; y < 256 && x; y++)
            if (gf_mul((uint8_t)x, (uint8_t)y) == 1) {
                inv = (uint8_t)y;
                break;
            }
        uint8_t s = inv;
        for (int i = 1; i <= 4; i++)
            s ^= (uint8_t)((inv << i) | (inv >> (8 - i)));
        s ^= 0x63;
        sbox[x] = s;
        inv_sbox[s] = (uint8_t)x;
    }
}

static void shift_rows(uint8_t *st, bool inv)
{
    uint8_t t[16];
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 4; r++) {
            int src = inv ? (c - r + 4) % 4 : (c + r) % 4;
            t[c * 4 + r] = st[src * 4 + r];
        }
    memcpy(st, t, 16);
}

static void mix_columns(uint8_t *st, bool inv)
{
    static const uint8_t fwd[4] = { 2, 3, 1, 1 }, bwd[4] = { 14, 11, 13, 9 };
    const uint8_t *m = inv ? bwd : fwd;
    for (int c = 0; c < 4; c++) {
        uint8_t col[4], out[4];
        memcpy(col, st + c * 4, 4);
        for (int r = 0; r < 4; r++)
            out[r] = (uint8_t)(gf_mul(col[0], m[(4 - r) % 4]) ^ gf_mul(col[1], m[(5 - r) % 4]) ^
                               gf_mul(col[2], m[(6 - r) % 4]) ^ gf_mul(col[3], m[(7 - r) % 4]));
        memcpy(st + c * 4, out, 4);
    }
}

static uint32_t sub_word(uint32_t w)
{
    return (uint32_t)sbox[w & 0xff] | (uint32_t)sbox[(w >> 8) & 0xff] << 8 |
           (uint32_t)sbox[(w >> 16) & 0xff] << 16 | (uint32_t)sbox[w >> 24] << 24;
}

bool sse_int_op_crypto(unsigned mnem, XMMReg *r, const XMMReg *a, const XMMReg *b,
                       unsigned imm)
{
    pthread_once(&sbox_once, sbox_init);
    uint8_t st[16];
    memcpy(st, a->b, 16);
    switch (mnem) {
    case X86_AESENC: case X86_AESENCLAST:
        shift_rows(st, false);
        for (int i = 0; i < 16; i++)
            st[i] = sbox[st[i]];
        if (mnem == X86_AESENC)
            mix_columns(st, false);
        break;
    case X86_AESDEC: case X86_AESDECLAST:
        shift_rows(st, true);
        for (int i = 0; i < 16; i++)
            st[i] = inv_sbox[st[i]];
        if (mnem == X86_AESDEC)
            mix_columns(st, true);
        break;
    case X86_AESIMC:
        memcpy(st, b->b, 16);
        mix_columns(st, true);
        memcpy(r->b, st, 16);
        return true;
    case X86_AESKEYGENASSIST: {
        uint32_t x1 = sub_word(b->d[1]), x3 = sub_word(b->d[3]);
        r->d[0] = x1;
        r->d[1] = ((x1 >> 8) | (x1 << 24)) ^ imm;
        r->d[2] = x3;
        r->d[3] = ((x3 >> 8) | (x3 << 24)) ^ imm;
        return true;
    }
    default:
        return false;
    }
    for (int i = 0; i < 16; i++)
        r->b[i] = st[i] ^ b->b[i];
    return true;
}
