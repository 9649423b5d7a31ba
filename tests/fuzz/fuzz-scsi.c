/*
 * SCSI command harness (docs/fuzzing.md): the CDB parsers of scsi-hd and
 * scsi-cd (hw/scsi-disk.c) and the bus's own answers (hw/scsi-bus.c),
 * fed straight from the fuzzer through a stand-in HBA, without the virtio
 * queues in the way.  Each command of an input is:
 *
 *   byte 0       unit: bits 0-1 target (0 disk, 1 CD, 2 none), bit 2 LUN 1
 *   bytes 1-16   the CDB (the rest of the 32 bytes are zero)
 *   bytes 17-18  data-in room (LE, bytes; up to 64 KiB, or bit 15: * 512)
 *   byte 19      data-out length (n * 16 bytes), taken from the bytes that
 *                follow
 *
 * What must hold: every command completes exactly once (before the block
 * layer drained), never writes more data-in than the room given, never
 * reads past the data-out given, sense data is 18 bytes of fixed format
 * exactly when the status is CHECK CONDITION, and no sanitizer finding.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "core/machine.h"
#include "hw/scsi-disk.h"
#include "tests/fuzz/fuzz-image.h"
#include "tests/fuzz/fuzz-machine.h"

typedef struct FakeReq {
    SCSIRequest r;
    const uint8_t *out;
    uint8_t *in;
    int completions;
} FakeReq;

static Machine *m;
static SCSIBus *bus;
static BlockBackend *bbs[2];

static size_t fake_read_out(SCSIRequest *r, uint64_t off, void *buf, size_t len)
{
    FakeReq *f = (FakeReq *)r;
    if (off > r->out_max || len > r->out_max - off)
        abort();                    /* the unit asked for bytes it was not given */
    memcpy(buf, f->out + off, len);
    return len;
}

static size_t fake_write_in(SCSIRequest *r, uint64_t off, const void *buf, size_t len)
{
    FakeReq *f = (FakeReq *)r;
    if (off > r->in_max || len > r->in_max - off)
        abort();                    /* more data-in than the room */
    memcpy(f->in + off, buf, len);
    return len;
}

static void fake_complete(SCSIRequest *r)
{
    FakeReq *f = (FakeReq *)r;
    f->completions++;
    if (r->in_len > r->in_max || r->out_len > r->out_max)
        abort();
    if (r->overrun)
        return;
    if (r->status == SCSI_STATUS_CHECK_CONDITION) {
        if (r->sense_len != SCSI_SENSE_FIXED || r->sense[0] != 0x70)
            abort();
    } else if (r->status != SCSI_STATUS_GOOD || r->sense_len) {
        abort();
    }
}

static const SCSIRequestOps fake_ops = {
    .read_out = fake_read_out, .write_in = fake_write_in, .complete = fake_complete,
};

static BlockBackend *scratch_disk(off_t size)
{
    char err[256], path[256];
    fuzz_tmp_path(path, sizeof path, "scsi", "-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, size) < 0)
        abort();
    close(fd);
    BlockOpenOptions o = { .filename = path, .format = "raw", .no_lock = true,
                           .cache = BLK_CACHE_UNSAFE };
    BlockBackend *b = blk_open(&o, err, sizeof err);
    unlink(path);
    if (!b)
        abort();
    return b;
}

static void setup(void)
{
    char err[256];
    m = machine_new(1 << 20, CLOCK_MANUAL, err, sizeof err);
    if (!m)
        abort();
    bus = scsi_bus_new("fuzz.0", 255, 16383);
    bbs[0] = scratch_disk(1 << 20);
    bbs[1] = scratch_disk(256 << 10);
    SCSIDevice *hd = scsi_disk_create(m, &(SCSIDiskConfig){ .kind = SCSI_DISK_HD,
                                                            .bb = bbs[0] });
    SCSIDevice *cd = scsi_disk_create(m, &(SCSIDiskConfig){ .kind = SCSI_DISK_CD,
                                                            .bb = bbs[1] });
    if (!scsi_bus_attach(bus, hd, 0, 0, err, sizeof err) ||
        !scsi_bus_attach(bus, cd, 1, 0, err, sizeof err))
        abort();
}

static void run_command(FuzzInput *in)
{
    static uint8_t inbuf[64 * 512];
    FakeReq f;
    memset(&f, 0, sizeof f);
    uint8_t unit = fuzz_u8(in);
    for (int i = 0; i < 16; i++)
        f.r.cdb[i] = fuzz_u8(in);
    uint16_t room = fuzz_u16(in);
    f.r.in_max = room & 0x8000 ? (uint64_t)(room & 63) * 512 : room % 4096;
    size_t out = (size_t)fuzz_u8(in) * 16;
    if (out > in->left)
        out = in->left;
    f.out = in->p;
    f.r.out_max = out;
    in->p += out;
    in->left -= out;
    if (f.r.out_max && f.r.in_max)
        f.r.in_max = 0;             /* one direction, as virtio-scsi sends it */
    f.in = inbuf;
    f.r.ops = &fake_ops;
    scsi_bus_submit(bus, unit & 3, (unit >> 2) & 1, &f.r);
    for (int i = 0; i < 2; i++)
        blk_drain(bbs[i]);
    if (f.completions != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!m)
        setup();
    fuzz_machine_next_input(m);
    machine_reset_devices(m);
    /* Reset leaves a UNIT ATTENTION that would eat every input's first
     * command: a REQUEST SENSE to each unit takes it. */
    static const uint8_t clear_ua[20] = { 0, SCSI_REQUEST_SENSE, [5] = 18, [17] = 18 };
    for (int unit = 0; unit < 2; unit++) {
        uint8_t c[20];
        memcpy(c, clear_ua, sizeof c);
        c[0] = (uint8_t)unit;
        FuzzInput ua = { c, sizeof c };
        run_command(&ua);
    }
    FuzzInput in = { data, size };
    while (in.left)
        run_command(&in);
    return 0;
}
