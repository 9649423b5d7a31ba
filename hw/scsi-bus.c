/*
 * The SCSI bus (see scsi.h): which unit sits at which target and LUN, the
 * answers a target gives for itself (REPORT LUNS, and INQUIRY / REQUEST
 * SENSE / anything else sent to a LUN it does not have), and the request
 * completion helpers units share.
 *
 * Facts: SPC-4 6.33 (REPORT LUNS: select report 00h/02h, allocation length
 * at least 16, an 8-byte header then one 8-byte LUN each), SAM-5 4.7
 * (single level LUN structures: peripheral device addressing for LUNs below
 * 256, flat space addressing 01b above), SPC-4 6.6.2 (an INQUIRY to a LUN
 * that is not there: peripheral qualifier 011b, type 1Fh), SPC-4 4.5.3 and
 * table 50 (LOGICAL UNIT NOT SUPPORTED, ASC 25h).
 */
#include "hw/scsi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---- completing requests ---- */

void scsi_req_good(SCSIRequest *r)
{
    r->status = SCSI_STATUS_GOOD;
    r->sense_len = 0;
    r->ops->complete(r);
}

void scsi_req_check(SCSIRequest *r, uint8_t key, uint8_t asc, uint8_t ascq)
{
    r->status = SCSI_STATUS_CHECK_CONDITION;
    r->sense_len = scsi_build_sense(r->sense, key, asc, ascq);
    r->ops->complete(r);
}

void scsi_req_overrun(SCSIRequest *r)
{
    r->overrun = true;
    r->status = SCSI_STATUS_GOOD;
    r->sense_len = 0;
    r->ops->complete(r);
}

void scsi_req_reply(SCSIRequest *r, const void *buf, size_t len, uint64_t alloc)
{
    uint64_t n = len < alloc ? len : alloc;
    if (n > r->in_max) {
        scsi_req_overrun(r);
        return;
    }
    if (n)
        r->in_len = r->ops->write_in(r, 0, buf, (size_t)n);
    scsi_req_good(r);
}

/* ---- the bus ---- */

SCSIBus *scsi_bus_new(const char *name, int max_target, int max_lun)
{
    SCSIBus *bus = xcalloc(1, sizeof(*bus));
    snprintf(bus->name, sizeof bus->name, "%s", name);
    bus->max_target = max_target;
    bus->max_lun = max_lun;
    return bus;
}

void scsi_bus_free(SCSIBus *bus)
{
    free(bus);
}

SCSIDevice *scsi_bus_find(SCSIBus *bus, int target, int lun)
{
    for (int i = 0; i < bus->nunits; i++)
        if (bus->units[i]->target == target && bus->units[i]->lun == lun)
            return bus->units[i];
    return NULL;
}

bool scsi_bus_has_target(SCSIBus *bus, int target)
{
    for (int i = 0; i < bus->nunits; i++)
        if (bus->units[i]->target == target)
            return true;
    return false;
}

bool scsi_bus_attach(SCSIBus *bus, SCSIDevice *d, int target, int lun, char *err, size_t len)
{
    if (bus->nunits == SCSI_BUS_MAX_UNITS) {
        snprintf(err, len, "bus %s is full (%d units)", bus->name, SCSI_BUS_MAX_UNITS);
        return false;
    }
    if (lun < 0 || lun > bus->max_lun) {
        snprintf(err, len, "lun=%d is out of range for bus %s (0..%d)", lun, bus->name,
                 bus->max_lun);
        return false;
    }
    if (target < 0) {
        /* The first target with this LUN free (QEMU fills targets in order). */
        for (int t = 0; t <= bus->max_target && target < 0; t++)
            if (!scsi_bus_find(bus, t, lun))
                target = t;
        if (target < 0) {
            snprintf(err, len, "no free target on bus %s", bus->name);
            return false;
        }
    }
    if (target > bus->max_target) {
        snprintf(err, len, "scsi-id=%d is out of range for bus %s (0..%d)", target, bus->name,
                 bus->max_target);
        return false;
    }
    if (scsi_bus_find(bus, target, lun)) {
        snprintf(err, len, "scsi-id=%d lun=%d is already in use on bus %s", target, lun,
                 bus->name);
        return false;
    }
    d->bus = bus;
    d->target = target;
    d->lun = lun;
    bus->units[bus->nunits++] = d;
    return true;
}

/* Writes one LUN in the single level format: peripheral device addressing
 * below 256, flat space addressing above. */
static void put_lun(uint8_t *p, int lun)
{
    memset(p, 0, 8);
    if (lun < 256) {
        p[1] = (uint8_t)lun;
    } else {
        p[0] = (uint8_t)(0x40 | (lun >> 8));
        p[1] = (uint8_t)lun;
    }
}

static void bus_report_luns(SCSIBus *bus, int target, SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    uint32_t alloc = scsi_get_be32(c + 6);
    /* Select report 0 (all LUNs but well-known ones) and 2 (all) give the
     * same list: the target has no well-known LUNs. */
    if ((c[2] != 0x00 && c[2] != 0x02) || alloc < 16) {
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t buf[8 + 8 * SCSI_BUS_MAX_UNITS];
    uint32_t n = 8;
    memset(buf, 0, 8);
    for (int i = 0; i < bus->nunits; i++)
        if (bus->units[i]->target == target) {
            put_lun(buf + n, bus->units[i]->lun);
            n += 8;
        }
    if (n == 8) {                   /* no units: LUN 0 is still reported (SPC-4) */
        put_lun(buf + n, 0);
        n += 8;
    }
    scsi_put_be32(buf, n - 8);
    scsi_req_reply(r, buf, n, alloc);
}

/* A command to a LUN the target does not have (SPC-4 6.6.2, 6.40). */
static void bus_no_lun(SCSIRequest *r)
{
    const uint8_t *c = r->cdb;
    uint8_t buf[36];
    switch (c[0]) {
    case SCSI_INQUIRY:
        if (c[1] & 1) {             /* no vital product data to give */
            scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
            return;
        }
        memset(buf, 0, sizeof buf);
        buf[0] = 0x7f;              /* not capable of a unit here, type unknown */
        buf[2] = 0x06;              /* SPC-4 */
        buf[3] = 0x02;              /* response data format 2 */
        buf[4] = 31;
        scsi_req_reply(r, buf, 36, scsi_get_be16(c + 3));
        return;
    case SCSI_REQUEST_SENSE:
        scsi_build_sense(buf, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
        scsi_req_reply(r, buf, SCSI_SENSE_FIXED, c[4]);
        return;
    default:
        scsi_req_check(r, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
        return;
    }
}

void scsi_bus_submit(SCSIBus *bus, int target, int lun, SCSIRequest *r)
{
    r->status = SCSI_STATUS_GOOD;
    r->overrun = false;
    r->sense_len = 0;
    r->in_len = r->out_len = 0;
    r->buf = NULL;
    r->buf_len = 0;
    r->pending = 0;
    r->error = 0;
    r->dev = NULL;
    r->prev = r->next = NULL;
    if (r->cdb[0] == SCSI_REPORT_LUNS) {
        bus_report_luns(bus, target, r);
        return;
    }
    SCSIDevice *d = scsi_bus_find(bus, target, lun);
    if (!d) {
        bus_no_lun(r);
        return;
    }
    r->dev = d;
    d->ops->submit(d, r);
}

void scsi_bus_drain(SCSIBus *bus)
{
    for (int i = 0; i < bus->nunits; i++)
        if (bus->units[i]->ops->drain)
            bus->units[i]->ops->drain(bus->units[i]);
}

void scsi_bus_reset(SCSIBus *bus)
{
    for (int i = 0; i < bus->nunits; i++)
        if (bus->units[i]->ops->bus_reset)
            bus->units[i]->ops->bus_reset(bus->units[i]);
}

uint64_t scsi_bus_inflight_bytes(const SCSIBus *bus)
{
    uint64_t n = 0;
    for (int i = 0; i < bus->nunits; i++)
        n += bus->units[i]->inflight_bytes;
    return n;
}

void scsi_bus_released(SCSIBus *bus)
{
    if (bus && bus->on_release)
        bus->on_release(bus->opaque);
}
