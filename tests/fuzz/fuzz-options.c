/* The command-line parser (core/options.c): the input is split at NUL
 * bytes into argv; every option string must parse or fail with a message,
 * never crash or read out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[64];
    int argc = 0;
    argv[argc++] = "vx86";
    for (size_t i = 0; i <= size && argc < 63;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    VMOptions o;
    char err[1024];
    options_init(&o);
    if (options_parse(&o, argc, argv, err, sizeof err) < 0 && !err[0])
        abort();                    /* a refusal must say why */
    options_free(&o);
    free(buf);
    return 0;
}
