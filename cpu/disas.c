/*
 * Capstone wrapper for debug disassembly of guest and host code.  Each call
 * opens its own capstone handle so two machines (or threads) never share
 * one; this is debug output, so the cost does not matter.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/disas.h"

typedef struct OutBuf {
    char *p;
    size_t len, used;
} OutBuf;

static void out_printf(OutBuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void out_printf(OutBuf *o, const char *fmt, ...)
{
    if (!o->len || o->used >= o->len - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - 1 - o->used;
}

static cs_mode disas_cs_mode(int mode)
{
    return mode == 16 ? CS_MODE_16 : mode == 32 ? CS_MODE_32 : CS_MODE_64;
}

static size_t disas_lines(const uint8_t *code, size_t len, uint64_t addr,
                          int mode, char *out, size_t outlen)
{
    OutBuf o = { out, outlen, 0 };
    csh h;
    size_t pos = 0;
    if (outlen)
        out[0] = 0;
    if (cs_open(CS_ARCH_X86, disas_cs_mode(mode), &h) != CS_ERR_OK) {
        out_printf(&o, "(capstone unavailable)\n");
        return 0;
    }
    cs_insn *insn = cs_malloc(h);
    while (pos < len) {
        const uint8_t *p = code + pos;
        size_t left = len - pos;
        uint64_t a = addr + pos;
        out_printf(&o, "0x%08" PRIx64 ":  ", a);
        if (cs_disasm_iter(h, &p, &left, &a, insn)) {
            for (unsigned i = 0; i < 8; i++) {
                if (i < insn->size)
                    out_printf(&o, "%02x", insn->bytes[i]);
                else
                    out_printf(&o, "  ");
            }
            out_printf(&o, "%s %s %s\n", insn->size > 8 ? "+" : " ",
                       insn->mnemonic, insn->op_str);
            pos += insn->size;
        } else {
            out_printf(&o, "%02x                 .byte 0x%02x\n", code[pos], code[pos]);
            pos++;
        }
    }
    cs_free(insn, 1);
    cs_close(&h);
    return pos;
}

size_t x86_disas(const uint8_t *code, size_t len, uint64_t addr, int mode,
                 char *out, size_t outlen)
{
    return disas_lines(code, len, addr, mode, out, outlen);
}

size_t x86_disas_host(const uint8_t *code, size_t len, uint64_t addr,
                      char *out, size_t outlen)
{
    return disas_lines(code, len, addr, 64, out, outlen);
}

size_t x86_disas_one(const uint8_t *code, size_t len, uint64_t addr, int mode,
                     char *out, size_t outlen)
{
    csh h;
    cs_insn *insn;
    size_t n = 0;
    if (outlen)
        out[0] = 0;
    if (cs_open(CS_ARCH_X86, disas_cs_mode(mode), &h) != CS_ERR_OK)
        return 0;
    if (cs_disasm(h, code, len, addr, 1, &insn) == 1) {
        snprintf(out, outlen, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
                 insn->op_str);
        n = insn->size;
        cs_free(insn, 1);
    }
    cs_close(&h);
    return n;
}
