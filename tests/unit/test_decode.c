/*
 * x86 decoder (cpu/decode.c): hand-checked encodings from the Intel SDM
 * (Vol 2 instruction pages, Vol 2 chapter 2 for prefixes/ModRM/SIB, and
 * Appendix A for the opcode maps).
 */
#include <stdio.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/disas.h"
#include "tests/unit/unit.h"

/* Decodes hex text ("48 8b 05 ...") in mode; returns the status. */
static X86DecodeStatus dec_n(int mode, const char *hex, size_t avail, X86Insn *in)
{
    uint8_t buf[32];
    size_t n = 0;
    unsigned v;
    int used;
    while (n < sizeof(buf) && sscanf(hex, " %2x%n", &v, &used) == 1) {
        buf[n++] = (uint8_t)v;
        hex += used;
    }
    return x86_decode(buf, avail ? avail : n, (X86CpuMode)mode, in);
}

static X86DecodeStatus dec(int mode, const char *hex, X86Insn *in)
{
    return dec_n(mode, hex, 0, in);
}

#define ck_ok(mode, hex, in, mn, len) do { \
        ck_assert_int_eq(dec(mode, hex, in), X86_DECODE_OK); \
        ck_assert_str_eq(x86_mnem_name[(in)->mnem], #mn); \
        ck_assert_uint_eq((in)->length, len); \
    } while (0)

/* SDM MOVBE / CRC32: 0F 38 F0/F1 is MOVBE, with F2 it is CRC32; 66 stays
 * the operand-size prefix for both. */
START_TEST(movbe_crc32_by_prefix)
{
    X86Insn in;
    ck_ok(32, "0f 38 f0 06", &in, MOVBE, 4);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_REG);
    ck_assert_uint_eq(in.op[1].kind, X86_OPK_MEM);
    ck_assert_uint_eq(in.opsize, 4);
    ck_ok(32, "66 0f 38 f1 06", &in, MOVBE, 5);
    ck_assert_uint_eq(in.opsize, 2);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_MEM);
    ck_ok(32, "f2 0f 38 f0 c1", &in, CRC32, 5);
    ck_assert_uint_eq(in.op[1].size, 1);
    ck_ok(32, "66 f2 0f 38 f1 c1", &in, CRC32, 6);
    ck_assert_uint_eq(in.op[1].size, 2);       /* CRC32 r32, r/m16 */
    ck_assert_uint_eq(in.op[0].size, 4);
    /* MOVBE has no register form */
    ck_assert_int_eq(dec(32, "0f 38 f0 c1", &in), X86_DECODE_UD);
}
END_TEST

/* SDM MOV: REX.W + B8+rd io is MOV r64, imm64 (10 bytes). */
START_TEST(mov_r64_imm64)
{
    X86Insn in;
    ck_ok(64, "48 b8 88 77 66 55 44 33 22 11", &in, MOV, 10);
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RAX);
    ck_assert_uint_eq(in.op[0].size, 8);
    ck_assert(in.imm == 0x1122334455667788LL);
    ck_ok(64, "49 bf 01 00 00 00 00 00 00 80", &in, MOV, 10);
    ck_assert_uint_eq(in.op[0].reg, 15);
    ck_ok(64, "b8 01 00 00 00", &in, MOV, 5);   /* without REX.W: imm32 */
    ck_assert_uint_eq(in.op[0].size, 4);
}
END_TEST

/* SDM 2.2.1.6: mod=00 rm=101 in 64-bit mode is RIP + disp32. */
START_TEST(rip_relative)
{
    X86Insn in;
    ck_ok(64, "48 8b 05 10 00 00 00", &in, MOV, 7);
    ck_assert(in.mem.present && in.mem.rip_relative);
    ck_assert_uint_eq(in.mem.base, X86_GPR_NONE);
    ck_assert_int_eq(in.mem.disp, 0x10);
    ck_assert_uint_eq(in.op[0].size, 8);
    /* in 32-bit mode the same ModRM is an absolute disp32 */
    ck_ok(32, "8b 05 10 00 00 00", &in, MOV, 6);
    ck_assert(!in.mem.rip_relative);
    /* REX.B does not change it (still RIP-relative, not r13) */
    ck_ok(64, "49 8b 05 f0 ff ff ff", &in, MOV, 7);
    ck_assert(in.mem.rip_relative);
    ck_assert_int_eq(in.mem.disp, -16);
}
END_TEST

/* SDM Table 2-1: 16-bit [BP+SI]+disp8, default segment SS for BP. */
START_TEST(mem16_bp_si_disp8)
{
    X86Insn in;
    ck_ok(16, "8b 42 fe", &in, MOV, 3);
    ck_assert_uint_eq(in.mem.base, X86_GPR_RBP);
    ck_assert_uint_eq(in.mem.index, X86_GPR_RSI);
    ck_assert_int_eq(in.mem.disp, -2);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_SS);
    ck_assert_uint_eq(in.addrsize, 2);
    ck_assert_uint_eq(in.opsize, 2);
    /* mod=00 rm=110 is disp16 with no base, default DS */
    ck_ok(16, "8b 06 34 12", &in, MOV, 4);
    ck_assert_uint_eq(in.mem.base, X86_GPR_NONE);
    ck_assert_int_eq(in.mem.disp, 0x1234);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_DS);
    /* 67 in 32-bit mode selects 16-bit addressing */
    ck_ok(32, "67 8b 00", &in, MOV, 3);
    ck_assert_uint_eq(in.mem.base, X86_GPR_RBX);
    ck_assert_uint_eq(in.mem.index, X86_GPR_RSI);
}
END_TEST

/* Several segment overrides: the last one is used. */
START_TEST(segment_override_last_wins)
{
    X86Insn in;
    ck_ok(32, "26 2e 64 8b 00", &in, MOV, 5);
    ck_assert_uint_eq(in.seg_override, X86_SEG_FS);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_FS);
    ck_ok(32, "64 26 8b 00", &in, MOV, 4);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_ES);
}
END_TEST

/* SDM 3.3.7.1 (Vol 1): in 64-bit mode ES/CS/SS/DS overrides are ignored. */
START_TEST(segment_override_64bit)
{
    X86Insn in;
    ck_ok(64, "26 8b 00", &in, MOV, 3);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_DS);
    ck_assert_uint_eq(in.seg_override, X86_SEG_ES);   /* still reported */
    ck_ok(64, "65 8b 00", &in, MOV, 3);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_GS);
    ck_ok(64, "2e 8b 45 00", &in, MOV, 4);              /* [rbp]: SS */
    ck_assert_uint_eq(in.mem.seg, X86_SEG_SS);
}
END_TEST

/* SDM LOCK: only ADD..XCHG-class instructions with a memory destination. */
START_TEST(lock_rules)
{
    X86Insn in;
    ck_ok(32, "f0 01 08", &in, ADD, 3);
    ck_assert(in.prefixes & X86_PFX_LOCK);
    ck_assert(in.flags & X86_F_LOCK);
    ck_assert_int_eq(dec(32, "f0 01 c8", &in), X86_DECODE_UD);  /* reg dest */
    ck_assert_int_eq(dec(32, "f0 89 08", &in), X86_DECODE_UD);  /* MOV */
    ck_assert_int_eq(dec(32, "f0 39 08", &in), X86_DECODE_UD);  /* CMP */
    ck_assert_int_eq(dec(32, "f0 90", &in), X86_DECODE_UD);
    ck_ok(64, "f0 48 0f c7 0e", &in, CMPXCHG16B, 5);
    ck_ok(32, "f0 0f ba 28 03", &in, BTS, 5);
}
END_TEST

/* SDM 2.3.11: an instruction longer than 15 bytes raises #GP(0). */
START_TEST(fifteen_byte_limit)
{
    X86Insn in;
    /* 14 redundant prefixes + NOP = 15 bytes: fine */
    ck_ok(32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", &in, NOP, 15);
    ck_assert_int_eq(dec(32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", &in),
                     X86_DECODE_TOO_LONG);
    /* 11 prefixes + ADD EAX, imm32 (5 bytes) = 16 */
    ck_assert_int_eq(dec(32, "3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 3e 05 01 02 03 04", &in),
                     X86_DECODE_TOO_LONG);
    /* the limit is known before the buffer ends: still TOO_LONG */
    ck_assert_int_eq(dec_n(32, "26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26", 16, &in),
                     X86_DECODE_TOO_LONG);
}
END_TEST

/* SDM 2.2.1: REX must come right before the opcode, else it is ignored;
 * REX.W takes precedence over 66. */
START_TEST(rex_placement_and_w)
{
    X86Insn in;
    ck_ok(64, "48 66 89 c8", &in, MOV, 4);
    ck_assert_uint_eq(in.rex, 0);
    ck_assert_uint_eq(in.opsize, 2);
    ck_ok(64, "66 48 89 c8", &in, MOV, 4);
    ck_assert_uint_eq(in.rex, 0x48);
    ck_assert_uint_eq(in.opsize, 8);
    /* two REX: only the last counts */
    ck_ok(64, "41 48 89 c8", &in, MOV, 4);
    ck_assert_uint_eq(in.rex_b, 0);
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RAX);
}
END_TEST

/* SDM 2.3.5/Appendix A: C4/C5 outside 64-bit mode are VEX only with
 * ModRM.mod == 11b, otherwise LES/LDS. */
START_TEST(c4_c5_les_lds_or_vex)
{
    X86Insn in;
    ck_ok(32, "c4 06", &in, LES, 2);
    ck_assert_uint_eq(in.op[1].kind, X86_OPK_MEM);
    ck_ok(16, "c5 1e 00 10", &in, LDS, 4);
    ck_ok(32, "c5 f8 77", &in, VEX, 3);                /* VZEROUPPER */
    ck_assert(in.flags & X86_F_UNIMPL);
    ck_assert_int_eq(dec(64, "c4 06", &in), X86_DECODE_NEED_MORE); /* VEX in 64 */
    ck_assert_int_eq(dec(64, "c4 06 00 00", &in), X86_DECODE_UD);  /* map 6 */
    ck_ok(32, "62 06", &in, BOUND, 2);
}
END_TEST

/* VEX/EVEX measured: imm8 for map 0F3A, none for VZEROUPPER's ModRM. */
START_TEST(vex_evex_lengths)
{
    X86Insn in;
    ck_ok(64, "c4 e3 79 0f c1 08", &in, VEX, 6);       /* VPALIGNR ..., 8 */
    ck_assert_uint_eq(in.vex.mmmmm, 3);
    ck_ok(64, "c5 f9 6f 04 25 00 00 00 00", &in, VEX, 9); /* VMOVDQA SIB disp32 */
    ck_assert_uint_eq(in.vex.pp, 1);
    ck_ok(64, "c5 fd 70 c1 1b", &in, VEX, 5);          /* VPSHUFD ymm, imm8 */
    ck_assert_uint_eq(in.vex.L, 1);
    ck_ok(64, "62 f1 7c 48 58 c1", &in, EVEX, 6);      /* VADDPS zmm */
    ck_assert_uint_eq(in.vex.L, 2);
    /* SDM 2.3.2: 66/F2/F3/REX/LOCK before VEX is #UD */
    ck_assert_int_eq(dec(64, "66 c5 f8 77", &in), X86_DECODE_UD);
    ck_assert_int_eq(dec(64, "41 c5 f8 77", &in), X86_DECODE_UD);
}
END_TEST

START_TEST(swapgs_only_64)
{
    X86Insn in;
    ck_ok(64, "0f 01 f8", &in, SWAPGS, 3);
    ck_assert(in.flags & X86_F_PRIV);
    ck_assert_int_eq(dec(32, "0f 01 f8", &in), X86_DECODE_UD);
    ck_ok(32, "0f 01 f9", &in, RDTSCP, 3);
    ck_ok(32, "0f 01 d0", &in, XGETBV, 3);
    ck_ok(32, "0f 01 c8", &in, MONITOR, 3);
    ck_ok(32, "0f 01 c9", &in, MWAIT, 3);
    ck_ok(32, "0f 01 ca", &in, CLAC, 3);
    ck_ok(32, "0f 01 cb", &in, STAC, 3);
    ck_ok(32, "0f 01 38", &in, INVLPG, 3);
    ck_ok(32, "0f 01 10", &in, LGDT, 3);
    ck_assert_uint_eq(in.op[0].size, 6);
    ck_ok(64, "0f 01 10", &in, LGDT, 3);
    ck_assert_uint_eq(in.op[0].size, 10);
}
END_TEST

/* 40-4F: INC/DEC r32 in 32-bit mode, REX prefixes in 64-bit mode. */
START_TEST(inc_dec_vs_rex)
{
    X86Insn in;
    ck_ok(32, "40", &in, INC, 1);
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RAX);
    ck_ok(32, "4f", &in, DEC, 1);
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RDI);
    ck_ok(64, "48 ff c0", &in, INC, 3);
    ck_assert_uint_eq(in.opsize, 8);
    ck_ok(64, "41 50", &in, PUSH, 2);
    ck_assert_uint_eq(in.op[0].reg, 8);
    ck_assert_int_eq(dec_n(64, "40", 1, &in), X86_DECODE_NEED_MORE);
}
END_TEST

/* SDM PUSH: in 64-bit mode the operand size defaults to 64 (66 gives 16). */
START_TEST(push_default_64)
{
    X86Insn in;
    ck_ok(64, "6a ff", &in, PUSH, 2);
    ck_assert_uint_eq(in.opsize, 8);
    ck_assert_int_eq(in.imm, -1);
    ck_ok(64, "68 78 56 34 12", &in, PUSH, 5);
    ck_assert_uint_eq(in.opsize, 8);
    ck_ok(64, "66 6a 01", &in, PUSH, 3);
    ck_assert_uint_eq(in.opsize, 2);
    ck_ok(64, "66 68 34 12", &in, PUSH, 4);            /* Iz: imm16 */
    ck_ok(64, "55", &in, PUSH, 1);
    ck_assert_uint_eq(in.opsize, 8);
    ck_assert_int_eq(dec(64, "06", &in), X86_DECODE_UD);   /* PUSH ES */
    ck_assert_int_eq(dec(64, "37", &in), X86_DECODE_UD);   /* AAA */
    ck_assert_int_eq(dec(64, "d6", &in), X86_DECODE_UD);   /* SALC */
}
END_TEST

/* SDM JMP/Jcc: in 64-bit mode operand size is 64 and the offset rel32. */
START_TEST(near_branch_64)
{
    X86Insn in;
    ck_ok(64, "e9 00 01 00 00", &in, JMP, 5);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_REL);
    ck_assert_int_eq(in.op[0].imm, 0x100);
    ck_assert_uint_eq(in.opsize, 8);
    ck_assert(in.flags & X86_F_BRANCH);
    ck_ok(64, "66 e9 00 01 00 00", &in, JMP, 6);       /* Intel: 66 ignored */
    ck_ok(32, "66 e9 00 01", &in, JMP, 4);             /* rel16 */
    ck_ok(64, "0f 84 fe ff ff ff", &in, JCC, 6);
    ck_assert_uint_eq(in.cond, 4);
    ck_assert_int_eq(in.imm, -2);
    ck_ok(64, "ff e0", &in, JMP, 2);
    ck_assert_uint_eq(in.op[0].size, 8);
}
END_TEST

/* SDM MOV (A0-A3): moffs is address-size wide, 8 bytes in 64-bit mode. */
START_TEST(moffs_sizes)
{
    X86Insn in;
    ck_ok(64, "a1 88 77 66 55 44 33 22 11", &in, MOV, 9);
    ck_assert(in.mem.moffs);
    ck_assert(in.mem.disp == 0x1122334455667788LL);
    ck_assert_uint_eq(in.op[1].kind, X86_OPK_MEM);
    ck_ok(64, "67 a1 44 33 22 11", &in, MOV, 6);
    ck_ok(32, "a2 44 33 22 11", &in, MOV, 5);
    ck_ok(16, "a3 34 12", &in, MOV, 3);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_DS);
}
END_TEST

/* SDM 3.7.2.1 (Vol 1): with any REX, byte registers 4-7 are SPL..DIL;
 * without, AH/CH/DH/BH. */
START_TEST(byte_registers_rex)
{
    X86Insn in;
    ck_ok(64, "88 e0", &in, MOV, 2);           /* mov al, ah */
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RAX);
    ck_assert_uint_eq(in.op[1].reg, X86_GPR_AH);
    ck_ok(64, "40 88 e0", &in, MOV, 3);        /* mov al, spl */
    ck_assert_uint_eq(in.op[1].reg, X86_GPR_RSP);
    ck_ok(64, "40 b7 01", &in, MOV, 3);        /* mov dil, 1 */
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RDI);
    ck_ok(64, "b7 01", &in, MOV, 2);           /* mov bh, 1 */
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_BH);
    ck_ok(64, "44 88 c0", &in, MOV, 3);        /* mov al, r8b */
    ck_assert_uint_eq(in.op[1].reg, 8);
}
END_TEST

/* SDM Table A-10 (x87 D9 register forms). */
START_TEST(x87_forms)
{
    X86Insn in;
    ck_ok(32, "d9 e8", &in, FLD1, 2);
    ck_ok(32, "d9 c1", &in, FLD, 2);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_ST);
    ck_assert_uint_eq(in.op[0].reg, 1);
    ck_ok(32, "dd 00", &in, FLD, 2);
    ck_assert_uint_eq(in.op[0].size, 8);
    ck_ok(32, "db 28", &in, FLD, 2);
    ck_assert_uint_eq(in.op[0].size, 10);
    ck_ok(32, "df e0", &in, FNSTSW, 2);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_REG);
    ck_ok(32, "de d9", &in, FCOMPP, 2);
    ck_ok(32, "dc c1", &in, FADD, 2);          /* fadd st(1), st(0) */
    ck_assert_uint_eq(in.op[0].reg, 1);
    ck_assert_int_eq(dec(32, "d9 08", &in), X86_DECODE_UD);   /* D9 /1 reserved */
    ck_assert_int_eq(dec(32, "d9 e2", &in), X86_DECODE_UD);
}
END_TEST

START_TEST(need_more)
{
    X86Insn in;
    ck_assert_int_eq(dec_n(64, "48 8b 05 10 00", 5, &in), X86_DECODE_NEED_MORE);
    ck_assert_int_eq(dec_n(64, "0f", 1, &in), X86_DECODE_NEED_MORE);
    ck_assert_int_eq(dec_n(64, "", 0, &in), X86_DECODE_NEED_MORE);
    ck_assert_int_eq(dec_n(32, "e8 00 00", 3, &in), X86_DECODE_NEED_MORE);
    ck_assert_int_eq(dec_n(32, "8b 44", 2, &in), X86_DECODE_NEED_MORE); /* SIB */
}
END_TEST

/* SDM Table 2-3: SIB forms. */
START_TEST(sib_forms)
{
    X86Insn in;
    ck_ok(32, "8b 44 8e 10", &in, MOV, 4);     /* [esi+ecx*4+0x10] */
    ck_assert_uint_eq(in.mem.base, X86_GPR_RSI);
    ck_assert_uint_eq(in.mem.index, X86_GPR_RCX);
    ck_assert_uint_eq(in.mem.scale, 4);
    ck_assert_int_eq(in.mem.disp, 0x10);
    ck_ok(32, "8b 04 8d 00 10 00 00", &in, MOV, 7);  /* [ecx*4+0x1000] */
    ck_assert_uint_eq(in.mem.base, X86_GPR_NONE);
    ck_assert_int_eq(in.mem.disp, 0x1000);
    ck_ok(32, "8b 04 24", &in, MOV, 3);        /* [esp]: no index, SS */
    ck_assert_uint_eq(in.mem.index, X86_GPR_NONE);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_SS);
    ck_ok(64, "4b 8b 04 cc", &in, MOV, 4);     /* [r12+r9*8] */
    ck_assert_uint_eq(in.mem.base, 12);
    ck_assert_uint_eq(in.mem.index, 9);
    ck_assert_uint_eq(in.mem.scale, 8);
    ck_assert_uint_eq(in.mem.seg, X86_SEG_DS);
    ck_ok(64, "42 8b 04 24", &in, MOV, 4);     /* REX.X: index r12 */
    ck_assert_uint_eq(in.mem.index, 12);
}
END_TEST

/* SDM group 15 and the fences (0F AE). */
START_TEST(group15)
{
    X86Insn in;
    ck_ok(32, "0f ae e8", &in, LFENCE, 3);
    ck_ok(32, "0f ae f0", &in, MFENCE, 3);
    ck_ok(32, "0f ae f8", &in, SFENCE, 3);
    ck_ok(32, "0f ae 38", &in, CLFLUSH, 3);
    ck_ok(32, "66 0f ae 38", &in, CLFLUSHOPT, 4);
    ck_ok(32, "0f ae 10", &in, LDMXCSR, 3);
    ck_ok(64, "f3 48 0f ae c0", &in, RDFSBASE, 5);
    ck_assert_uint_eq(in.op[0].size, 8);
    ck_ok(64, "f3 0f ae d1", &in, WRFSBASE, 4);
    ck_assert_int_eq(dec(32, "f3 0f ae c0", &in), X86_DECODE_UD);
}
END_TEST

/* SSE mandatory prefixes select the instruction (SDM Appendix A.3). */
START_TEST(sse_mandatory_prefix)
{
    X86Insn in;
    ck_ok(32, "0f 58 c1", &in, ADDPS, 3);
    ck_ok(32, "66 0f 58 c1", &in, ADDPD, 4);
    ck_assert_uint_eq(in.mandatory, 0x66);
    ck_ok(32, "f3 0f 58 c1", &in, ADDSS, 4);
    ck_ok(32, "f2 0f 58 c1", &in, ADDSD, 4);
    ck_ok(32, "66 f3 0f 58 c1", &in, ADDSS, 5);   /* F3 beats 66 */
    ck_ok(64, "44 0f 58 c1", &in, ADDPS, 4);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_XMM);
    ck_assert_uint_eq(in.op[0].reg, 8);
    ck_ok(32, "0f fc c1", &in, PADDB, 3);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_MMX);
    ck_ok(32, "66 0f fc c1", &in, PADDB, 4);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_XMM);
    ck_ok(32, "66 0f 3a 0f c1 08", &in, PALIGNR, 6);
    ck_assert_int_eq(in.imm, 8);
}
END_TEST

START_TEST(enter_and_far_pointers)
{
    X86Insn in;
    ck_ok(32, "c8 10 00 02", &in, ENTER, 4);
    ck_assert_int_eq(in.imm, 0x10);
    ck_assert_int_eq(in.imm2, 2);
    ck_ok(32, "ea 78 56 34 12 08 00", &in, JMPF, 7);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_FARPTR);
    ck_assert_int_eq(in.op[0].imm, 0x12345678);
    ck_assert_uint_eq(in.op[0].sel, 8);
    ck_ok(16, "ea 34 12 00 f0", &in, JMPF, 5);
    ck_assert_uint_eq(in.op[0].sel, 0xf000);
    ck_ok(16, "9a 34 12 00 f0", &in, CALLF, 5);
    ck_assert_int_eq(dec(64, "ea 78 56 34 12 08 00", &in), X86_DECODE_UD);
    ck_ok(64, "ff 28", &in, JMPF, 2);          /* JMP m16:32 still valid */
    ck_assert_int_eq(dec(64, "ff e8", &in), X86_DECODE_UD);   /* reg form */
}
END_TEST

/* SDM CMPXCHG8B/16B: 0F C7 /1 memory only, REX.W selects 16B. */
START_TEST(cmpxchg8b_16b)
{
    X86Insn in;
    ck_ok(64, "0f c7 0e", &in, CMPXCHG8B, 3);
    ck_assert_uint_eq(in.op[0].size, 8);
    ck_ok(64, "48 0f c7 0e", &in, CMPXCHG16B, 4);
    ck_assert_uint_eq(in.op[0].size, 16);
    ck_assert_int_eq(dec(64, "0f c7 c8", &in), X86_DECODE_UD);
    ck_ok(64, "0f c7 f0", &in, RDRAND, 3);
    ck_ok(64, "0f c7 f8", &in, RDSEED, 3);
}
END_TEST

/* SDM MOV CRn: ModRM.mod is ignored, the operand is always a register. */
START_TEST(control_registers)
{
    X86Insn in;
    ck_ok(32, "0f 20 c0", &in, MOV, 3);
    ck_assert_uint_eq(in.op[1].kind, X86_OPK_CREG);
    ck_assert_uint_eq(in.op[1].reg, 0);
    ck_ok(32, "0f 22 d8", &in, MOV, 3);       /* mov cr3, eax */
    ck_assert_uint_eq(in.op[0].reg, 3);
    ck_ok(32, "0f 20 00", &in, MOV, 3);       /* mod=00 still a register */
    ck_assert(!in.mem.present);
    ck_ok(64, "44 0f 20 c0", &in, MOV, 4);    /* mov rax, cr8 */
    ck_assert_uint_eq(in.op[1].reg, 8);
    ck_assert_uint_eq(in.opsize, 8);
    ck_ok(64, "66 0f 20 c0", &in, MOV, 4);    /* 66 ignored */
    ck_assert_uint_eq(in.opsize, 8);
}
END_TEST

START_TEST(mov_sreg)
{
    X86Insn in;
    ck_ok(32, "8e d8", &in, MOV, 2);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_SEGREG);
    ck_assert_uint_eq(in.op[0].reg, X86_SEG_DS);
    ck_assert(in.flags & X86_F_SHADOW);
    ck_assert_int_eq(dec(32, "8e c8", &in), X86_DECODE_UD);   /* MOV CS */
    ck_assert_int_eq(dec(32, "8e f0", &in), X86_DECODE_UD);   /* Sreg 6 */
    ck_ok(32, "8c e0", &in, MOV, 2);
    ck_assert_uint_eq(in.op[1].reg, X86_SEG_FS);
}
END_TEST

START_TEST(nop_pause_xchg)
{
    X86Insn in;
    ck_ok(64, "90", &in, NOP, 1);
    ck_ok(64, "f3 90", &in, PAUSE, 2);
    ck_ok(64, "41 90", &in, XCHG, 2);
    ck_assert_uint_eq(in.op[0].reg, 8);
    ck_ok(64, "66 0f 1f 44 00 00", &in, NOP, 6);
    ck_ok(64, "0f 1f 84 00 00 00 00 00", &in, NOP, 8);
}
END_TEST

/* Operands are in Intel order, immediates sign-extended (Iz for 64-bit). */
START_TEST(operand_order_and_imm)
{
    X86Insn in;
    ck_ok(32, "01 c8", &in, ADD, 2);          /* add eax, ecx */
    ck_assert_uint_eq(in.nops, 2);
    ck_assert_uint_eq(in.op[0].reg, X86_GPR_RAX);
    ck_assert_uint_eq(in.op[1].reg, X86_GPR_RCX);
    ck_ok(64, "48 05 ff ff ff ff", &in, ADD, 6);
    ck_assert_int_eq(in.imm, -1);
    ck_assert_uint_eq(in.op[0].size, 8);
    ck_ok(64, "48 83 c0 80", &in, ADD, 4);
    ck_assert_int_eq(in.imm, -128);
    ck_ok(32, "69 c1 10 00 00 00", &in, IMUL, 6);
    ck_assert_uint_eq(in.nops, 3);
    ck_ok(32, "c1 e0 04", &in, SHL, 3);
    ck_ok(32, "d1 f8", &in, SAR, 2);
    ck_assert_uint_eq(in.op[1].kind, X86_OPK_IMM);
    ck_assert_int_eq(in.op[1].imm, 1);
}
END_TEST

START_TEST(string_ops)
{
    X86Insn in;
    ck_ok(32, "f3 a4", &in, MOVS, 2);
    ck_assert(in.flags & X86_F_REP);
    ck_assert(in.prefixes & X86_PFX_REP);
    ck_assert_uint_eq(in.op[0].kind, X86_OPK_STR);
    ck_assert_uint_eq(in.op[0].seg, X86_SEG_ES);
    ck_assert_uint_eq(in.op[1].seg, X86_SEG_DS);
    ck_ok(32, "26 a4", &in, MOVS, 2);         /* source overridable only */
    ck_assert_uint_eq(in.op[1].seg, X86_SEG_ES);
    ck_assert_uint_eq(in.op[0].seg, X86_SEG_ES);
    ck_ok(32, "f2 ae", &in, SCAS, 2);
    ck_assert(in.flags & X86_F_REPNE);
    ck_ok(64, "48 a5", &in, MOVS, 2);
    ck_assert_uint_eq(in.opsize, 8);
}
END_TEST

START_TEST(groups_and_invalid)
{
    X86Insn in;
    ck_ok(32, "80 38 05", &in, CMP, 3);
    ck_ok(32, "f6 c0 01", &in, TEST, 3);
    ck_ok(32, "f7 d8", &in, NEG, 2);
    ck_ok(32, "fe c0", &in, INC, 2);
    ck_assert_int_eq(dec(32, "fe d0", &in), X86_DECODE_UD);    /* FE /2 */
    ck_assert_int_eq(dec(32, "ff f8", &in), X86_DECODE_UD);    /* FF /7 */
    ck_ok(32, "0f 00 d8", &in, LTR, 3);
    ck_ok(32, "0f ba e0 03", &in, BT, 4);
    ck_assert_int_eq(dec(32, "0f ba c0 03", &in), X86_DECODE_UD); /* /0 */
    ck_ok(32, "0f 0b", &in, UD2, 2);
    ck_ok(32, "0f b9 c0", &in, UD1, 3);
    ck_assert_int_eq(dec(32, "0f 0f c0 b4", &in), X86_DECODE_UD);  /* 3DNow! */
    ck_assert_int_eq(dec(32, "0f 04", &in), X86_DECODE_UD);
    ck_ok(32, "0f 71 d0 04", &in, PSRLW, 4);
    ck_assert_int_eq(dec(32, "0f 71 10 04", &in), X86_DECODE_UD);  /* mem */
    ck_ok(32, "0f a2", &in, CPUID, 2);
    ck_assert(in.flags & X86_F_SERIAL);
}
END_TEST

START_TEST(mnemonic_names)
{
    ck_assert_str_eq(x86_mnem_name[X86_ADD], "ADD");
    ck_assert_str_eq(x86_mnem_name[X86_CMPXCHG8B], "CMPXCHG8B");
    ck_assert_str_eq(x86_mnem_name[X86_FADD], "FADD");
    ck_assert_str_eq(x86_mnem_name[X86_MOVZX], "MOVZX");
    for (unsigned i = 0; i < X86_MNEM_COUNT; i++)
        ck_assert_ptr_nonnull(x86_mnem_name[i]);
}
END_TEST

/* The capstone wrapper used for -d in_asm / out_asm. */
START_TEST(disas_lines)
{
    static const uint8_t code[] = { 0x48, 0x89, 0xc8, 0xc3, 0x0f };
    char out[512], one[64];
    size_t n = x86_disas(code, 4, 0x1000, 64, out, sizeof(out));
    ck_assert_uint_eq(n, 4);
    ck_assert_ptr_nonnull(strstr(out, "0x00001000"));
    ck_assert_ptr_nonnull(strstr(out, "mov rax, rcx"));
    ck_assert_ptr_nonnull(strstr(out, "ret"));
    /* an undecodable tail byte is shown as data, not dropped */
    n = x86_disas_host(code, 5, 0, out, sizeof(out));
    ck_assert_uint_eq(n, 5);
    ck_assert_ptr_nonnull(strstr(out, ".byte 0x0f"));
    ck_assert_uint_eq(x86_disas_one(code, 4, 0, 16, one, sizeof(one)), 1);
    ck_assert_str_eq(one, "dec ax");           /* 48 is DEC in 16-bit code */
    /* truncation keeps a terminated string */
    x86_disas(code, 4, 0, 64, out, 8);
    ck_assert_uint_eq(strlen(out), 7);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, movbe_crc32_by_prefix);
    tcase_add_test(tc, mov_r64_imm64);
    tcase_add_test(tc, rip_relative);
    tcase_add_test(tc, mem16_bp_si_disp8);
    tcase_add_test(tc, segment_override_last_wins);
    tcase_add_test(tc, segment_override_64bit);
    tcase_add_test(tc, lock_rules);
    tcase_add_test(tc, fifteen_byte_limit);
    tcase_add_test(tc, rex_placement_and_w);
    tcase_add_test(tc, c4_c5_les_lds_or_vex);
    tcase_add_test(tc, vex_evex_lengths);
    tcase_add_test(tc, swapgs_only_64);
    tcase_add_test(tc, inc_dec_vs_rex);
    tcase_add_test(tc, push_default_64);
    tcase_add_test(tc, near_branch_64);
    tcase_add_test(tc, moffs_sizes);
    tcase_add_test(tc, byte_registers_rex);
    tcase_add_test(tc, x87_forms);
    tcase_add_test(tc, need_more);
    tcase_add_test(tc, sib_forms);
    tcase_add_test(tc, group15);
    tcase_add_test(tc, sse_mandatory_prefix);
    tcase_add_test(tc, enter_and_far_pointers);
    tcase_add_test(tc, cmpxchg8b_16b);
    tcase_add_test(tc, control_registers);
    tcase_add_test(tc, mov_sreg);
    tcase_add_test(tc, nop_pause_xchg);
    tcase_add_test(tc, operand_order_and_imm);
    tcase_add_test(tc, string_ops);
    tcase_add_test(tc, groups_and_invalid);
    tcase_add_test(tc, mnemonic_names);
    tcase_add_test(tc, disas_lines);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_SUITE(decode_suite)
