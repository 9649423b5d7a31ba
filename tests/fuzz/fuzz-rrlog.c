/* The record/replay log parser (core/replay.c replay_log_parse): any byte
 * string is indexed or refused with one line; an accepted log's events
 * count up, end with END, and their data lies inside the input.
 *
 * The first byte picks the form: odd, the rest is the whole file; even,
 * the rest is a log without its trailer, and the harness appends a valid
 * one (the event count from the parse's own count of records is not
 * known, so the next 4 bytes give it) with the right CRC-32, so inputs
 * reach the records instead of stopping at the checksum. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/replay.h"
#include "tests/fuzz/fuzz.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void check(const uint8_t *buf, size_t len)
{
    ReplayLog log;
    char err[256] = "";
    if (!replay_log_parse(buf, len, &log, err, sizeof err)) {
        if (!err[0] || strchr(err, '\n'))
            abort();                /* a refusal is one line */
        return;
    }
    if (log.nev == 0 || log.ev[log.nev - 1].kind != RR_EV_END)
        abort();
    for (size_t i = 0; i < log.nev; i++) {
        const ReplayEvent *e = &log.ev[i];
        if (i && e->count < log.ev[i - 1].count)
            abort();
        if (e->len && (e->data < buf || e->data + e->len > buf + len))
            abort();
    }
    replay_log_free(&log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
        memcpy(copy, data + 1, size - 1);
        check(copy, size - 1);
        free(copy);
        return 0;
    }
    if (size < 5)
        return 0;
    uint32_t nev;
    memcpy(&nev, data + 1, 4);
    size_t body = size - 5;
    uint8_t *buf = malloc(body + 16);
    memcpy(buf, data + 5, body);
    memcpy(buf + body, "VX86RRND", 8);
    put_u32(buf + body + 8, nev);
    put_u32(buf + body + 12, (uint32_t)crc32(crc32(0, NULL, 0), buf, (uInt)(body + 12)));
    check(buf, body + 16);
    free(buf);
    return 0;
}
