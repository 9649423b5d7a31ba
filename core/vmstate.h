/*
 * Field-description tables for device (and CPU) state, and the generic
 * serialiser that saves and loads them.  Each device declares, next to its
 * state struct:
 *
 *   static const VMField pit_channel_fields[] = {
 *       VMF_U32(count, PITChannel),
 *       VMF_U8(mode, PITChannel),
 *       VMF_END
 *   };
 *   static const VMStateDesc pit_channel_vmsd = {
 *       .name = "pit-channel", .version = 1, .min_version = 1,
 *       .fields = pit_channel_fields,
 *   };
 *   static const VMField pit_fields[] = {
 *       VMF_STRUCT_ARRAY(chan, PITState, 3, pit_channel_vmsd),
 *       VMF_END
 *   };
 *
 * The stream is self-checking: each section carries its name, version and
 * length, every field its name hash, and the whole a CRC-32; a truncated,
 * corrupted or mismatched stream is refused with a message naming the
 * section and the field.
 */
#ifndef VX86_CORE_VMSTATE_H
#define VX86_CORE_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum VMFieldType {
    VMF_TYPE_END = 0,
    VMF_TYPE_U8, VMF_TYPE_U16, VMF_TYPE_U32, VMF_TYPE_U64,
    VMF_TYPE_I32, VMF_TYPE_I64, VMF_TYPE_BOOL,
    VMF_TYPE_BUFFER,      /* size bytes, opaque */
    VMF_TYPE_STRUCT,      /* nested description */
} VMFieldType;

typedef struct VMStateDesc VMStateDesc;

typedef struct VMField {
    const char *name;
    size_t offset;
    VMFieldType type;
    size_t size;          /* bytes of one element */
    unsigned count;       /* array length; 1 for scalars */
    const VMStateDesc *sub;
    int version;          /* field present since this section version */
} VMField;

struct VMStateDesc {
    const char *name;
    int version;
    int min_version;      /* oldest stream version we can still load */
    const VMField *fields;
    /* Optional hooks.  post_load returns 0, or -1 with *err set (malloc'ed)
     * when the loaded state is inconsistent. */
    void (*pre_save)(void *opaque);
    int (*post_load)(void *opaque, int version, char **err);
};

#define VMF_FIELD_(f, st, ty, n) \
    { .name = #f, .offset = offsetof(st, f), .type = (ty), \
      .size = sizeof(((st *)0)->f) / (n), .count = (n) }
#define VMF_U8(f, st)   VMF_FIELD_(f, st, VMF_TYPE_U8, 1)
#define VMF_U16(f, st)  VMF_FIELD_(f, st, VMF_TYPE_U16, 1)
#define VMF_U32(f, st)  VMF_FIELD_(f, st, VMF_TYPE_U32, 1)
#define VMF_U64(f, st)  VMF_FIELD_(f, st, VMF_TYPE_U64, 1)
#define VMF_I32(f, st)  VMF_FIELD_(f, st, VMF_TYPE_I32, 1)
#define VMF_I64(f, st)  VMF_FIELD_(f, st, VMF_TYPE_I64, 1)
#define VMF_BOOL(f, st) VMF_FIELD_(f, st, VMF_TYPE_BOOL, 1)
#define VMF_U8_ARRAY(f, st, n)  VMF_FIELD_(f, st, VMF_TYPE_U8, n)
#define VMF_U16_ARRAY(f, st, n) VMF_FIELD_(f, st, VMF_TYPE_U16, n)
#define VMF_U32_ARRAY(f, st, n) VMF_FIELD_(f, st, VMF_TYPE_U32, n)
#define VMF_U64_ARRAY(f, st, n) VMF_FIELD_(f, st, VMF_TYPE_U64, n)
#define VMF_BUFFER(f, st) \
    { .name = #f, .offset = offsetof(st, f), .type = VMF_TYPE_BUFFER, \
      .size = sizeof(((st *)0)->f), .count = 1 }
#define VMF_STRUCT(f, st, desc) \
    { .name = #f, .offset = offsetof(st, f), .type = VMF_TYPE_STRUCT, \
      .size = sizeof(((st *)0)->f), .count = 1, .sub = &(desc) }
#define VMF_STRUCT_ARRAY(f, st, n, desc) \
    { .name = #f, .offset = offsetof(st, f), .type = VMF_TYPE_STRUCT, \
      .size = sizeof(((st *)0)->f) / (n), .count = (n), .sub = &(desc) }
#define VMF_END { .name = NULL, .type = VMF_TYPE_END }

/* The name hash a field carries in the stream (FNV-1a of its name). */
uint32_t vmstate_field_hash(const char *name);

/* A growable byte buffer for streams. */
typedef struct VMBuf {
    uint8_t *data;
    size_t len, cap;
} VMBuf;

void vmbuf_init(VMBuf *b);
void vmbuf_free(VMBuf *b);
void vmbuf_put(VMBuf *b, const void *p, size_t n);

/* One section: name, version, fields.  Appends to b. */
void vmstate_save(VMBuf *b, const VMStateDesc *d, void *opaque);
/* Loads one section from [*pos, len) of data, advancing *pos.  Returns 0,
 * or -1 with *err (malloc'ed) naming the section/field and the problem. */
int vmstate_load(const uint8_t *data, size_t len, size_t *pos,
                 const VMStateDesc *d, void *opaque, char **err);

/* A whole stream: magic, then sections, then CRC-32 of everything before. */
void vmstream_begin(VMBuf *b);
void vmstream_end(VMBuf *b);
/* Checks magic, length and CRC; on success *pos points at the first section
 * and *end at the CRC. */
int vmstream_check(const uint8_t *data, size_t len, size_t *pos, size_t *end,
                   char **err);

#endif
