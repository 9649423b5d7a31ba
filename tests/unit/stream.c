/*
 * Test helper shared by the device suites: corrupt one field of a saved
 * state stream in place, keeping the stream well formed (the CRC is fixed
 * up), so a test can check that a device refuses an impossible value.
 */
#include <string.h>
#include <zlib.h>

#include "tests/unit/unit.h"

void unit_stream_patch(VMBuf *b, const char *section, const char *field, int nth,
                       const void *bytes, size_t n)
{
    size_t at = 12;   /* after the stream header */
    if (section) {
        size_t slen = strlen(section);
        while (at + 1 + slen <= b->len &&
               !(b->data[at] == slen && !memcmp(b->data + at + 1, section, slen)))
            at++;
        ck_assert_msg(at + 1 + slen <= b->len, "section %s not found in stream", section);
    }
    uint32_t h = vmstate_field_hash(field);
    uint8_t key[4] = { h, h >> 8, h >> 16, h >> 24 };
    for (size_t i = at; i + 8 + n <= b->len - 4; i++) {
        if (memcmp(b->data + i, key, 4) || nth-- > 0)
            continue;
        memcpy(b->data + i + 8, bytes, n);   /* value follows hash and length */
        uint32_t crc = (uint32_t)crc32(0, b->data, (uInt)(b->len - 4));
        uint8_t cb[4] = { crc, crc >> 8, crc >> 16, crc >> 24 };
        memcpy(b->data + b->len - 4, cb, 4);
        return;
    }
    ck_abort_msg("field %s not found in stream", field);
}
