/*
 * vx86-img for the read-only import formats (VMDK, VDI, VHD): the
 * format-specific part of `info` (as qemu-img prints it: cluster size,
 * create type, CIDs, extents) and `check` (the drivers' read-only
 * consistency checks, with qemu-img's summary lines and exit codes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "block/img.h"
#include "block/vdi.h"
#include "block/vmdk.h"
#include "block/vpc.h"

static Vmdk *as_vmdk(BlockBackend *bb)
{
    return strcmp(blk_format_name(bb), "vmdk") ? NULL : blk_get_driver_state(bb);
}

static Vdi *as_vdi(BlockBackend *bb)
{
    return strcmp(blk_format_name(bb), "vdi") ? NULL : blk_get_driver_state(bb);
}

static Vpc *as_vpc(BlockBackend *bb)
{
    return strcmp(blk_format_name(bb), "vpc") ? NULL : blk_get_driver_state(bb);
}

/* Whether every extent is of one kind (the same type; sparse ones with
 * the same grain and compression): qemu-img shows a cluster size and the
 * dirty flag of a VMDK only then. */
static bool vmdk_extents_alike(const Vmdk *v)
{
    const VmdkExtent *a = &v->extents[0];
    for (int i = 1; i < v->nb_extents; i++) {
        const VmdkExtent *b = &v->extents[i];
        if (b->type != a->type || (a->type == VMDK_EXTENT_SPARSE &&
                                   (b->grain_bytes != a->grain_bytes ||
                                    b->compressed != a->compressed)))
            return false;
    }
    return true;
}

/* qemu-img's cluster size of a VMDK: the grain of alike sparse extents. */
static uint64_t vmdk_cluster_size(const Vmdk *v)
{
    return vmdk_extents_alike(v) && v->extents[0].type == VMDK_EXTENT_SPARSE
           ? v->extents[0].grain_bytes : 0;
}

bool img_import_info_ok(BlockBackend *bb)
{
    Vmdk *v = as_vmdk(bb);
    return !v || vmdk_extents_alike(v);
}

/* The extent's format as qemu-img names it: "" for the image's own
 * sparse extent, else the descriptor's type. */
static const char *extent_format(const VmdkExtent *ex)
{
    if (!ex->own_file && ex->type == VMDK_EXTENT_SPARSE)
        return "";
    return ex->type == VMDK_EXTENT_FLAT ? "FLAT" : ex->type == VMDK_EXTENT_ZERO ? "ZERO" : "SPARSE";
}

uint64_t img_import_disk_usage(BlockBackend *bb)
{
    Vmdk *v = as_vmdk(bb);
    return v ? vmdk_disk_usage(v) : UINT64_MAX;
}

uint64_t img_import_cluster_size(BlockBackend *bb)
{
    Vmdk *v = as_vmdk(bb);
    Vdi *d = as_vdi(bb);
    Vpc *h = as_vpc(bb);
    return v ? vmdk_cluster_size(v) : d ? d->block_size : h ? h->block_size : 0;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

void img_import_info_human(BlockBackend *bb)
{
    Vmdk *v = as_vmdk(bb);
    uint64_t cs = img_import_cluster_size(bb);
    if (cs)
        printf("cluster_size: %" PRIu64 "\n", cs);
    if (!v)
        return;
    printf("Format specific information:\n    cid: %u\n    parent cid: %u\n"
           "    create type: %s\n    extents:\n", v->cid, v->parent_cid, v->create_type);
    for (int i = 0; i < v->nb_extents; i++) {
        const VmdkExtent *ex = &v->extents[i];
        printf("        [%d]:\n", i);
        if (ex->type == VMDK_EXTENT_SPARSE && ex->compressed)
            printf("            compressed: true\n");
        printf("            virtual size: %" PRIu64 "\n", ex->size);
        if (ex->type != VMDK_EXTENT_ZERO)
            printf("            filename: %s\n", ex->name);
        if (ex->type == VMDK_EXTENT_SPARSE)
            printf("            cluster size: %" PRIu64 "\n", ex->grain_bytes);
        printf("            format: %s\n", extent_format(ex));
    }
}

void img_import_info_json(BlockBackend *bb, const char *indent)
{
    Vmdk *v = as_vmdk(bb);
    if (!v)
        return;
    printf("%s    \"format-specific\": {\n%s        \"type\": \"vmdk\",\n%s        \"data\": {\n",
           indent, indent, indent);
    printf("%s            \"cid\": %u,\n%s            \"parent-cid\": %u,\n", indent, v->cid,
           indent, v->parent_cid);
    printf("%s            \"create-type\": ", indent);
    json_str(v->create_type);
    printf(",\n%s            \"extents\": [\n", indent);
    for (int i = 0; i < v->nb_extents; i++) {
        const VmdkExtent *ex = &v->extents[i];
        printf("%s                {\n", indent);
        if (ex->type == VMDK_EXTENT_SPARSE && ex->compressed)
            printf("%s                    \"compressed\": true,\n", indent);
        printf("%s                    \"virtual-size\": %" PRIu64 ",\n", indent, ex->size);
        if (ex->type != VMDK_EXTENT_ZERO) {
            printf("%s                    \"filename\": ", indent);
            json_str(ex->name);
            printf(",\n");
        }
        if (ex->type == VMDK_EXTENT_SPARSE)
            printf("%s                    \"cluster-size\": %" PRIu64 ",\n", indent, ex->grain_bytes);
        printf("%s                    \"format\": \"%s\"\n", indent, extent_format(ex));
        printf("%s                }%s\n", indent, i + 1 < v->nb_extents ? "," : "");
    }
    printf("%s            ]\n%s        }\n%s    }%s\n", indent, indent, indent,
           img_import_info_ok(bb) ? "," : "");
}

int img_import_check(BlockBackend *bb, const char *file, bool json, bool quiet)
{
    Vmdk *v = as_vmdk(bb);
    Vdi *d = as_vdi(bb);
    Vpc *h = as_vpc(bb);
    if (!v && !d && !h)
        return -1;
    FILE *out = quiet || json ? fopen("/dev/null", "w") : stdout;
    FILE *o = out ? out : stdout;
    uint64_t errs = v ? vmdk_check(v, o) : d ? vdi_check(d, o) : vpc_check(h, o);
    if (out && out != stdout)
        fclose(out);
    if (json) {
        printf("{\n    \"check-errors\": 0,\n");
        if (errs)
            printf("    \"corruptions\": %" PRIu64 ",\n", errs);
        printf("    \"filename\": ");
        json_str(file);
        printf(",\n    \"format\": \"%s\"\n}\n", blk_format_name(bb));
    } else if (!quiet) {
        if (errs)
            printf("\n%" PRIu64 " errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image may corrupt it.\n", errs);
        else
            printf("No errors were found on the image.\n");
    }
    return errs ? 2 : 0;
}
