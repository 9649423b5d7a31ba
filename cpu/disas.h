/*
 * Disassembly for debug output (-d in_asm, -d out_asm) and error reports,
 * through capstone.  Not on any hot path.
 */
#ifndef VX86_CPU_DISAS_H
#define VX86_CPU_DISAS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Disassembles guest code[0..len) loaded at guest address addr in mode 16,
 * 32 or 64 into out (NUL-terminated, truncated to outlen), one line per
 * instruction: "0x<addr>:  <bytes>  <mnemonic> <operands>\n".  Bytes that do
 * not decode are printed as ".byte 0xNN" and skipped.  Returns the number of
 * bytes of code covered.
 */
size_t x86_disas(const uint8_t *code, size_t len, uint64_t addr, int mode,
                 char *out, size_t outlen);

/* The same for host (x86-64) code, for -d out_asm. */
size_t x86_disas_host(const uint8_t *code, size_t len, uint64_t addr,
                      char *out, size_t outlen);

/* One instruction into out without address/bytes; returns its length or 0. */
size_t x86_disas_one(const uint8_t *code, size_t len, uint64_t addr, int mode,
                     char *out, size_t outlen);

#endif
