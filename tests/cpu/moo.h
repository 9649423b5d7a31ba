/*
 * Reader for the MOO CPU-test format (SingleStepTests 80286 set), written
 * from the description in the test data's README.md (../shared/testdata/,
 * next to the repository root), plus a tiny JSON reader for the set's
 * metadata.json (undefined-flag masks).
 *
 *   MooFile *f = moo_load("00.MOO.gz", err, sizeof err);
 *   for (uint32_t i = 0; i < f->ntests; i++) run(&f->tests[i]);
 *   moo_free(f);
 */
#ifndef VX86_TESTS_CPU_MOO_H
#define VX86_TESTS_CPU_MOO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register order of the REGS chunk's bit mask. */
enum { MOO_AX, MOO_BX, MOO_CX, MOO_DX, MOO_CS, MOO_SS, MOO_DS, MOO_ES, MOO_SP, MOO_BP,
       MOO_SI, MOO_DI, MOO_IP, MOO_FLAGS, MOO_NREGS };

typedef struct MooState {
    uint16_t mask;             /* which regs[] are present */
    uint16_t regs[MOO_NREGS];
    uint32_t nram;
    uint32_t *ram_addr;
    uint8_t *ram_val;
} MooState;

typedef struct MooTest {
    uint32_t index;
    char name[96];
    uint8_t bytes[32];
    uint32_t nbytes;
    MooState init, fina;
    bool has_exc;
    uint8_t exc_vector;
    uint32_t exc_flags_addr;
    uint8_t hash[20];
} MooTest;

typedef struct MooFile {
    char mnemonic[9];
    uint32_t opcode;
    uint32_t ntests;
    MooTest *tests;
} MooFile;

MooFile *moo_load(const char *path, char *err, size_t errlen);
void moo_free(MooFile *f);

/* ---- minimal JSON ---- */
typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } JsonType;
typedef struct Json {
    JsonType type;
    double num;
    char *str;                 /* JSON_STR value */
    char **keys;               /* JSON_OBJ */
    struct Json **items;       /* JSON_ARR / JSON_OBJ values */
    size_t n;
} Json;

Json *json_parse(const char *text, char *err, size_t errlen);
void json_free(Json *j);
const Json *json_get(const Json *obj, const char *key);

#endif
