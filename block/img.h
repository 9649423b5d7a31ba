/*
 * vx86-img: the image tool (block/img-main.c and block/img-*.c), whose
 * subcommands, messages and exit codes follow qemu-img's where a script
 * would notice.  Shared helpers live in block/img-util.c.
 */
#ifndef VX86_BLOCK_IMG_H
#define VX86_BLOCK_IMG_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block-int.h"
#include "block/qcow2.h"

/* Prints "vx86-img: MESSAGE" on stderr. */
void img_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "1G", "512M", "64k", "1048576": bytes; false when malformed. */
bool img_parse_size(const char *s, uint64_t *out);
/* "1 GiB", "196 KiB", "1.5 MiB" as qemu-img prints sizes. */
void img_size_str(uint64_t v, char *buf, size_t len);
/* Opens an image through the block layer (format NULL: probe), with the
 * page cache and flushes honoured (writeback) or the cache mode given. */
BlockBackend *img_open(const char *file, const char *fmt, bool writable, bool lock);
BlockBackend *img_open_cache(const char *file, const char *fmt, bool writable, bool lock,
                             BlockCacheMode cache);
/* -t / -T values: QEMU's cache mode names; false with a message. */
bool img_parse_cache(const char *s, BlockCacheMode *out);
/* The qcow2 state of bb, or NULL for other formats. */
Qcow2 *img_qcow2(BlockBackend *bb);

/* The read-only import formats (block/img-import.c): format-specific
 * lines of `info` (nothing for other formats), bytes on disk of every
 * file of the image (UINT64_MAX: not such a format), qemu-img's cluster
 * size (0: none), and `check` (exit code, or -1 for other formats). */
void img_import_info_human(BlockBackend *bb);
void img_import_info_json(BlockBackend *bb, const char *indent);
uint64_t img_import_disk_usage(BlockBackend *bb);
uint64_t img_import_cluster_size(BlockBackend *bb);
/* false when qemu-img could not get the image's info (a VMDK with extents
 * of different kinds): no "dirty-flag" then. */
bool img_import_info_ok(BlockBackend *bb);
int img_import_check(BlockBackend *bb, const char *file, bool json, bool quiet);

int img_cmd_create(int argc, char **argv);
int img_cmd_info(int argc, char **argv);
int img_cmd_check(int argc, char **argv);
int img_cmd_snapshot(int argc, char **argv);
int img_cmd_resize(int argc, char **argv);
int img_cmd_convert(int argc, char **argv);
int img_cmd_compare(int argc, char **argv);
int img_cmd_map(int argc, char **argv);
int img_cmd_measure(int argc, char **argv);
int img_cmd_commit(int argc, char **argv);
int img_cmd_rebase(int argc, char **argv);

/* -o key=value,key=value for create/convert/measure. */
typedef struct ImgCreateOpts {
    Qcow2CreateOptions q;
    const char *compat;
    const char *prealloc;
} ImgCreateOpts;
bool img_parse_create_opts(const char *opts, ImgCreateOpts *o);
/* Creates a raw or qcow2 image; prints qemu-img's "Formatting" line
 * unless quiet.  0 or 1 (with a message). */
int img_create_image(const char *file, const char *fmt, const ImgCreateOpts *o, bool quiet);
/* qemu-img's estimate of a qcow2 image holding data_bytes of size. */
uint64_t img_qcow2_prealloc_size(uint64_t size, uint64_t cs, unsigned refcount_order, bool extl2);

#endif
