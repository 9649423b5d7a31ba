/*
 * vx86-img: create, inspect, check, convert and snapshot disk images, as
 * qemu-img does (same subcommands, options, messages and exit codes where
 * a script would notice).  This file: the dispatcher and create, info,
 * check, snapshot, resize; block/img-convert.c: convert, compare, map,
 * measure, commit, rebase.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/img.h"
#include "core/util.h"

static void usage(FILE *f)
{
    fputs("usage: vx86-img COMMAND [options]\n"
          "  create [-f fmt] [-b backing_file -F backing_fmt] [-o options] [-u] filename [size]\n"
          "  info [-f fmt] [--output=human|json] [--backing-chain] filename\n"
          "  check [-f fmt] [-r leaks|all] [--output=human|json] filename\n"
          "  convert [-c] [-p] [-f fmt] [-O output_fmt] [-o options] [-t cache] [-T src_cache]\n"
          "          filename output_filename\n"
          "  snapshot [-l | -c snapshot | -a snapshot | -d snapshot] filename\n"
          "  commit [-f fmt] [-d] filename\n"
          "  rebase [-f fmt] [-u] -b backing_file [-F backing_fmt] filename\n"
          "  resize [--shrink] [-f fmt] filename [+ | -]size\n"
          "  map [-f fmt] [--output=human|json] filename\n"
          "  compare [-f fmt] [-F fmt] filename1 filename2\n"
          "  measure [--output=human|json] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]\n"
          "Sizes take the suffixes k, M, G, T, P, E (powers of 1024).\n", f);
}

/* ---- create ---- */

int img_cmd_create(int argc, char **argv)
{
    const char *fmt = "raw", *base = NULL, *base_fmt = NULL, *opts = NULL;
    bool quiet = false, unsafe = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:b:F:o:uq")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': base = optarg; break;
        case 'F': base_fmt = optarg; break;
        case 'o': opts = optarg; break;
        case 'u': unsafe = true; break;
        case 'q': quiet = true; break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        img_error("Expecting image file name");
        return 1;
    }
    const char *file = argv[optind];
    ImgCreateOpts o = { 0 };
    if (!img_parse_create_opts(opts, &o))
        return 1;
    if (base) {
        o.q.backing = base;
        o.q.backing_fmt = base_fmt;
    }
    if (o.q.backing && !o.q.backing_fmt) {
        img_error("%s: Backing file specified without backing format", file);
        return 1;
    }
    if (o.q.backing && strcmp(fmt, "qcow2")) {
        img_error("%s: Backing file not supported for file format '%s'", file, fmt);
        return 1;
    }
    bool have_size = optind + 1 < argc;
    if (have_size && !img_parse_size(argv[optind + 1], &o.q.size)) {
        img_error("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
        fprintf(stderr, "vx86-img: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n");
        return 1;
    }
    if (o.q.backing && (!have_size || !unsafe)) {
        /* The backing file must open (and gives the size when none is given). */
        char *path;
        if (o.q.backing[0] == '/' || !strchr(file, '/'))
            path = xstrdup(o.q.backing);
        else {
            char *d = xstrdup(file);
            *strrchr(d, '/') = 0;
            path = xasprintf("%s/%s", d, o.q.backing);
            free(d);
        }
        BlockBackend *bb = img_open(path, o.q.backing_fmt, false, false);
        free(path);
        if (!bb) {
            if (!have_size)
                return 1;
        } else {
            if (!have_size)
                o.q.size = blk_size(bb);
            blk_close(bb);
        }
    } else if (!have_size) {
        img_error("%s: Image creation needs a size parameter", file);
        return 1;
    }
    return img_create_image(file, fmt, &o, quiet);
}

/* ---- info ---- */

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

static uint64_t disk_usage(BlockBackend *bb)
{
    uint64_t all = img_import_disk_usage(bb);     /* descriptor + extent files */
    if (all != UINT64_MAX)
        return all;
    struct stat st;
    if (fstat(blk_get_file(bb)->fd, &st) < 0)
        return 0;
    return (uint64_t)st.st_blocks * 512;
}

static void print_snapshot_table(BlockBackend *bb)
{
    BlockSnapshotInfo *l;
    int n = blk_snapshot_list(bb, &l);
    char row[512];
    blk_snapshot_row(NULL, NULL, row, sizeof row);
    printf("%s\n", row);
    for (int i = 0; i < n; i++) {
        blk_snapshot_row(&l[i], NULL, row, sizeof row);
        printf("%s\n", row);
    }
    free(l);
}

static void info_human(BlockBackend *bb, const char *file)
{
    Qcow2 *q = img_qcow2(bb);
    char vs[32], ds[32];
    img_size_str(blk_size(bb), vs, sizeof vs);
    img_size_str(disk_usage(bb), ds, sizeof ds);
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n",
           file, blk_format_name(bb), vs, blk_size(bb), ds);
    if (!q) {
        img_import_info_human(bb);
        return;
    }
    printf("cluster_size: %" PRIu64 "\n", q->cluster_size);
    if (q->backing_name) {
        printf("backing file: %s", q->backing_name);
        if (q->backing_path && strcmp(q->backing_path, q->backing_name))
            printf(" (actual path: %s)", q->backing_path);
        printf("\n");
        if (q->backing_fmt)
            printf("backing file format: %s\n", q->backing_fmt);
    }
    if (q->nb_snapshots) {
        printf("Snapshot list:\n");
        print_snapshot_table(bb);
    }
    printf("Format specific information:\n    compat: %s\n", q->version == 2 ? "0.10" : "1.1");
    if (q->version >= 3) {
        printf("    compression type: %s\n", q->compression_type ? "zstd" : "zlib");
        printf("    lazy refcounts: %s\n", q->lazy ? "true" : "false");
    }
    printf("    refcount bits: %u\n    corrupt: %s\n", q->refcount_bits,
           q->incompat & QCOW2_INCOMPAT_CORRUPT ? "true" : "false");
    if (q->version >= 3)
        printf("    extended l2: %s\n", q->extl2 ? "true" : "false");
}

static void info_json(BlockBackend *bb, const char *file, const char *indent)
{
    Qcow2 *q = img_qcow2(bb);
    printf("%s{\n", indent);
    if (q && q->backing_fmt)
        printf("%s    \"backing-filename-format\": \"%s\",\n", indent, q->backing_fmt);
    if (q && q->nb_snapshots) {
        printf("%s    \"snapshots\": [\n", indent);
        for (uint32_t i = 0; i < q->nb_snapshots; i++) {
            Qcow2Snapshot *s = &q->snaps[i];
            printf("%s        {\n", indent);
            if (s->icount != ~0ull)
                printf("%s            \"icount\": %" PRIu64 ",\n", indent, s->icount);
            printf("%s            \"vm-clock-nsec\": %" PRIu64 ",\n", indent,
                   s->vm_clock_nsec % UINT64_C(1000000000));
            printf("%s            \"name\": ", indent);
            json_str(s->name);
            printf(",\n%s            \"date-sec\": %u,\n", indent, s->date_sec);
            printf("%s            \"date-nsec\": %u,\n", indent, s->date_nsec);
            printf("%s            \"vm-clock-sec\": %" PRIu64 ",\n", indent,
                   s->vm_clock_nsec / UINT64_C(1000000000));
            printf("%s            \"id\": ", indent);
            json_str(s->id);
            printf(",\n%s            \"vm-state-size\": %" PRIu64 "\n", indent, s->vm_state_size);
            printf("%s        }%s\n", indent, i + 1 < q->nb_snapshots ? "," : "");
        }
        printf("%s    ],\n", indent);
    }
    printf("%s    \"virtual-size\": %" PRIu64 ",\n%s    \"filename\": ", indent, blk_size(bb), indent);
    json_str(file);
    printf(",\n");
    uint64_t cs = q ? q->cluster_size : img_import_cluster_size(bb);
    if (cs)
        printf("%s    \"cluster-size\": %" PRIu64 ",\n", indent, cs);
    printf("%s    \"format\": \"%s\",\n", indent, blk_format_name(bb));
    printf("%s    \"actual-size\": %" PRIu64 ",\n", indent, disk_usage(bb));
    img_import_info_json(bb, indent);
    if (q) {
        printf("%s    \"format-specific\": {\n%s        \"type\": \"qcow2\",\n"
               "%s        \"data\": {\n", indent, indent, indent);
        printf("%s            \"compat\": \"%s\",\n", indent, q->version == 2 ? "0.10" : "1.1");
        if (q->version >= 3) {
            printf("%s            \"compression-type\": \"%s\",\n", indent,
                   q->compression_type ? "zstd" : "zlib");
            printf("%s            \"lazy-refcounts\": %s,\n", indent, q->lazy ? "true" : "false");
        }
        printf("%s            \"refcount-bits\": %u,\n", indent, q->refcount_bits);
        printf("%s            \"corrupt\": %s%s\n", indent,
               q->incompat & QCOW2_INCOMPAT_CORRUPT ? "true" : "false", q->version >= 3 ? "," : "");
        if (q->version >= 3)
            printf("%s            \"extended-l2\": %s\n", indent, q->extl2 ? "true" : "false");
        printf("%s        }\n%s    },\n", indent, indent);
        if (q->backing_name) {
            printf("%s    \"full-backing-filename\": ", indent);
            json_str(q->backing_path ? q->backing_path : q->backing_name);
            printf(",\n%s    \"backing-filename\": ", indent);
            json_str(q->backing_name);
            printf(",\n");
        }
    }
    if (q || img_import_info_ok(bb))
        printf("%s    \"dirty-flag\": %s\n", indent,
               q && (q->incompat & QCOW2_INCOMPAT_DIRTY) ? "true" : "false");
    printf("%s}", indent);
}

int img_cmd_info(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    bool chain = false;
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "backing-chain", no_argument, NULL, 'B' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': output = optarg; break;
        case 'B': chain = true; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        img_error("Expecting one image file name");
        return 1;
    }
    bool json = !strcmp(output, "json");
    if (!json && strcmp(output, "human")) {
        img_error("--output must be used with human or json as argument.");
        return 1;
    }
    char *file = xstrdup(argv[optind]);
    const char *f = fmt;
    int n = 0;
    if (json && chain)
        printf("[\n");
    while (file) {
        BlockBackend *bb = img_open(file, f, false, false);
        if (!bb) {
            free(file);
            return 1;
        }
        Qcow2 *q = img_qcow2(bb);
        if (json) {
            if (n)
                printf(",\n");
            info_json(bb, file, chain ? "    " : "");
        } else {
            if (n)
                printf("\n");
            info_human(bb, file);
        }
        n++;
        char *next = chain && q && q->backing_path ? xstrdup(q->backing_path) : NULL;
        f = next && q->backing_fmt ? strdup(q->backing_fmt) : NULL;
        blk_close(bb);
        free(file);
        file = next;
    }
    if (json)
        printf(chain ? "\n]\n" : "\n");
    return 0;
}

/* ---- check ---- */

static int check_once(Qcow2 *q, unsigned fix, Qcow2CheckResult *res, bool quiet)
{
    int r = qcow2_check(q, fix, res, quiet ? NULL : stderr);
    return r;
}

int img_cmd_check(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human", *repair = NULL;
    bool quiet = false;
    static const struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:r:qU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'r': repair = optarg; break;
        case 'O': output = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        img_error("Expecting one image file name");
        return 1;
    }
    unsigned fix = 0;
    if (repair) {
        if (!strcmp(repair, "leaks"))
            fix = QCOW2_FIX_LEAKS;
        else if (!strcmp(repair, "all"))
            fix = QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS;
        else {
            img_error("Unknown option value for -r (expecting 'leaks' or 'all'): %s", repair);
            return 1;
        }
    }
    const char *file = argv[optind];
    BlockBackend *bb = img_open(file, fmt, fix != 0, fix != 0);
    if (!bb)
        return 1;
    Qcow2 *q = img_qcow2(bb);
    int irc = q || fix ? -1 : img_import_check(bb, file, !strcmp(output, "json"), quiet);
    if (irc >= 0) {
        blk_close(bb);
        return irc;
    }
    if (!q) {
        img_error("This image format does not support checks");
        blk_close(bb);
        return 63;
    }
    Qcow2CheckResult res;
    int r = check_once(q, fix, &res, quiet);
    if (r == 0 && fix && (res.leaks_fixed || res.corruptions_fixed)) {
        if (!quiet)
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   res.leaks_fixed, res.corruptions_fixed);
        if (q->incompat & QCOW2_INCOMPAT_DIRTY)
            qcow2_set_dirty(q, false);
        r = check_once(q, 0, &res, quiet);
    }
    if (r < 0) {
        img_error("Check failed: %s", strerror(-r));
        blk_close(bb);
        return 1;
    }
    int rc = 0;
    if (!strcmp(output, "json")) {
        printf("{\n    \"image-end-offset\": %" PRIu64 ",\n    \"total-clusters\": %" PRIu64 ",\n"
               "    \"check-errors\": %" PRIu64 ",\n", res.image_end_offset, res.total_clusters,
               res.check_errors);
        if (res.leaks)
            printf("    \"leaks\": %" PRIu64 ",\n", res.leaks);
        if (res.corruptions)
            printf("    \"corruptions\": %" PRIu64 ",\n", res.corruptions);
        printf("    \"allocated-clusters\": %" PRIu64 ",\n    \"filename\": ", res.allocated_clusters);
        json_str(file);
        printf(",\n    \"format\": \"qcow2\",\n    \"fragmented-clusters\": %" PRIu64 ",\n"
               "    \"compressed-clusters\": %" PRIu64 "\n}\n",
               res.fragmented_clusters, res.compressed_clusters);
    } else if (!quiet) {
        if (!res.corruptions && !res.leaks && !res.check_errors)
            printf("No errors were found on the image.\n");
        if (res.corruptions)
            printf("\n%" PRIu64 " errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image may corrupt it.\n",
                   res.corruptions);
        if (res.leaks)
            printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
                   "This means waste of disk space, but no harm to data.\n", res.leaks);
        if (res.check_errors)
            printf("\n%" PRIu64 " internal errors have occurred during the check.\n",
                   res.check_errors);
        if (res.total_clusters && res.allocated_clusters)
            printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, "
                   "%0.2f%% compressed clusters\n", res.allocated_clusters, res.total_clusters,
                   100.0 * res.allocated_clusters / res.total_clusters,
                   100.0 * res.fragmented_clusters / res.allocated_clusters,
                   100.0 * res.compressed_clusters / res.allocated_clusters);
        printf("Image end offset: %" PRIu64 "\n", res.image_end_offset);
    }
    if (res.check_errors)
        rc = 1;
    else if (res.corruptions)
        rc = 2;
    else if (res.leaks)
        rc = 3;
    blk_close(bb);
    return rc;
}

/* ---- snapshot ---- */

int img_cmd_snapshot(int argc, char **argv)
{
    char action = 0;
    const char *name = NULL, *fmt = NULL;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "lc:a:d:f:qU")) != -1) {
        switch (c) {
        case 'l': action = 'l'; break;
        case 'c': case 'a': case 'd':
            if (action) {
                img_error("Cannot mix '-l', '-a', '-c', '-d'");
                return 1;
            }
            action = (char)c;
            name = optarg;
            break;
        case 'f': fmt = optarg; break;
        case 'q': case 'U': break;
        default: return 1;
        }
    }
    if (optind >= argc || !action) {
        img_error("Expecting one image file name");
        return 1;
    }
    const char *file = argv[optind];
    BlockBackend *bb = img_open(file, fmt, action != 'l', action != 'l');
    if (!bb)
        return 1;
    Qcow2 *q = img_qcow2(bb);
    int rc = 0;
    char err[512];
    if (!q) {
        img_error("Could not %s snapshot: Operation not supported",
                  action == 'l' ? "list" : action == 'c' ? "create" : action == 'a' ? "apply" : "delete");
        rc = 1;
    } else if (action == 'l') {
        if (q->nb_snapshots) {
            printf("Snapshot list:\n");
            print_snapshot_table(bb);
        }
    } else {
        int r = action == 'c' ? qcow2_snapshot_create(q, name, err, sizeof err)
              : action == 'a' ? qcow2_snapshot_apply(q, name, err, sizeof err)
                              : qcow2_snapshot_delete(q, name, err, sizeof err);
        if (r < 0) {
            img_error("%s", err);
            rc = 1;
        }
    }
    blk_close(bb);
    return rc;
}

/* ---- resize ---- */

int img_cmd_resize(int argc, char **argv)
{
    const char *fmt = NULL;
    bool shrink = false;
    static const struct option lo[] = {
        { "shrink", no_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    /* "-1G" is a size, not an option: find the size first. */
    if (argc < 3) {
        img_error("Expecting image file name and size");
        return 1;
    }
    const char *sz = argv[argc - 1];
    argv[argc - 1] = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv, "f:q", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'S': shrink = true; break;
        case 'q': break;
        default: return 1;
        }
    }
    if (optind != argc - 2) {
        img_error("Expecting image file name and size");
        return 1;
    }
    const char *file = argv[optind];
    int sign = 0;
    if (*sz == '+' || *sz == '-')
        sign = *sz++ == '+' ? 1 : -1;
    uint64_t n;
    if (!img_parse_size(sz, &n)) {
        img_error("Invalid image size specified. You may use k, M, G, T, P or E suffixes for ");
        return 1;
    }
    BlockBackend *bb = img_open(file, fmt, true, true);
    if (!bb)
        return 1;
    uint64_t cur = blk_size(bb), want = sign > 0 ? cur + n : sign < 0 ? cur - n : n;
    if (sign < 0 && n > cur) {
        img_error("New image size must be positive");
        blk_close(bb);
        return 1;
    }
    Qcow2 *q = img_qcow2(bb);
    int rc = 0;
    char err[512];
    if (q) {
        if (qcow2_resize(q, want, shrink, err, sizeof err) < 0) {
            img_error("%s", err);
            rc = 1;
        }
    } else {
        if (want < cur && !shrink) {
            img_error("Use the --shrink option to perform a shrink operation.");
            rc = 1;
        } else if (ftruncate(blk_get_file(bb)->fd, (off_t)want) < 0) {
            img_error("Error resizing image: %s", strerror(errno));
            rc = 1;
        }
    }
    blk_close(bb);
    if (!rc)
        printf("Image resized.\n");
    return rc;
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    int (*fn)(int, char **);
} cmds[] = {
    { "create", img_cmd_create }, { "info", img_cmd_info }, { "check", img_cmd_check },
    { "convert", img_cmd_convert }, { "snapshot", img_cmd_snapshot },
    { "commit", img_cmd_commit }, { "rebase", img_cmd_rebase }, { "resize", img_cmd_resize },
    { "map", img_cmd_map }, { "compare", img_cmd_compare }, { "measure", img_cmd_measure },
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        img_error("Not enough arguments\nTry 'vx86-img --help' for more information");
        return 1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("vx86-img (vx86)\n");
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    img_error("Command not found: %s", argv[1]);
    return 1;
}
