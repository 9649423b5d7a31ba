/*
 * kvm-ring3: a compute workload in ring 3, reached with as little ring-0
 * work as possible, for tests/system/kvm-ring3.sh.
 *
 * On an emulating KVM (kvm_pvm) ring-0 code runs in KVM's instruction
 * emulator, and ring-3 code runs natively only under 4-level paging (in
 * 32-bit protected mode without paging it is emulated too, ~1000x slower;
 * enabling non-PAE paging #GPs), so this is a 64-bit image.  The emulator
 * cannot do IRET in protected mode or a far RET to an outer privilege
 * level; SYSRET (and SYSEXIT) work.  So main() goes to ring 3 with SYSRET
 * and never comes back: ring 3 prints through the TSS I/O bitmap (ports
 * 0xe9 and 0xf4 allowed) and ends the test itself through the debug-exit
 * port.
 *
 * Ring 3 then:
 *  - times KVM_LOOP_ITERS iterations of the loop in kvm-loop.h with RDTSC
 *    (3 runs, the fastest counts) -> "info time ring3-loop cycles=N" and
 *    "loop result=X" (the script checks X against the host's own run);
 *  - computes a table of ALU results and their defined flags, string
 *    operations and a few known values, and prints them as "alu"/"str"
 *    lines: under -accel kvm these are the host CPU's own answers, so the
 *    tcg-vs-kvm comparison in kvm-state.sh holds the translator to them.
 * Not in images.list: 100 M iterations are too slow for the IR interpreter.
 */
#include "testrom.h"
#include "kvm-loop.h"


/* Flags each operation defines (SDM Vol. 2 "Flags Affected"); the others
 * are undefined and masked out of the dump. */
#define F_ALL EFLAGS_ARITH
#define F_LOGIC (EFLAGS_CF | EFLAGS_PF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)
#define F_MUL (EFLAGS_CF | EFLAGS_OF)
#define F_INC (EFLAGS_ARITH & ~EFLAGS_CF)

static const uint32_t operands[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000,
    0xfffffffe, 0xffffffff, 0x12345678, 0xdeadbeef, 0x00010001, 0x55aa55aa,
};
#define NOPS (sizeof(operands) / sizeof(operands[0]))

/* Run "insn b, a" with the arithmetic flags clear (or CF set when cf_in),
 * return a and the flags after it. */
#define BINOP(name, insn)                                                    \
    static uint32_t op_##name(uint32_t a, uint32_t b, uint32_t cf_in, uint32_t *fl) \
    {                                                                         \
        uint32_t f;                                                           \
        ureg f64;                                                             \
        asm volatile("pushq %q3; popfq; " insn " %2, %0; pushfq; popq %q1"   \
                     : "+r"(a), "=r"(f64) : "r"(b), "r"((ureg)(0x2 | cf_in)) : "cc"); \
        f = (uint32_t)f64;                                                    \
        *fl = f;                                                              \
        return a;                                                             \
    }
BINOP(add, "addl")
BINOP(adc, "adcl")
BINOP(sub, "subl")
BINOP(sbb, "sbbl")
BINOP(and, "andl")
BINOP(or, "orl")
BINOP(xor, "xorl")
BINOP(imul, "imull")
BINOP(bsf, "bsfl")
BINOP(bsr, "bsrl")

#define SHIFTOP(name, insn)                                                  \
    static uint32_t op_##name(uint32_t a, uint32_t c, uint32_t cf_in, uint32_t *fl) \
    {                                                                         \
        uint32_t f;                                                           \
        ureg f64;                                                             \
        asm volatile("pushq %q3; popfq; " insn " %%cl, %0; pushfq; popq %q1" \
                     : "+r"(a), "=r"(f64) : "c"(c), "r"((ureg)(0x2 | cf_in)) : "cc"); \
        f = (uint32_t)f64;                                                    \
        *fl = f;                                                              \
        return a;                                                             \
    }
SHIFTOP(shl, "shll")
SHIFTOP(shr, "shrl")
SHIFTOP(sar, "sarl")
SHIFTOP(rol, "roll")
SHIFTOP(ror, "rorl")
SHIFTOP(rcl, "rcll")

#define UNOP(name, insn)                                                     \
    static uint32_t op_##name(uint32_t a, uint32_t b, uint32_t cf_in, uint32_t *fl) \
    {                                                                         \
        uint32_t f;                                                           \
        (void)b;                                                              \
        ureg f64;                                                             \
        asm volatile("pushq %q2; popfq; " insn " %0; pushfq; popq %q1"       \
                     : "+r"(a), "=r"(f64) : "r"((ureg)(0x2 | cf_in)) : "cc"); \
        f = (uint32_t)f64;                                                    \
        *fl = f;                                                              \
        return a;                                                             \
    }
UNOP(neg, "negl")
UNOP(inc, "incl")
UNOP(dec, "decl")
UNOP(not, "notl")

typedef uint32_t (*alu_fn)(uint32_t a, uint32_t b, uint32_t cf_in, uint32_t *fl);

static uint32_t fold(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u;
    return h ^ (h >> 15);
}

/* Every operand pair, CF in = 0 and 1; the result and the defined flags
 * folded into one hash. */
static uint32_t alu_hash(alu_fn fn, uint32_t defined, int kind)
{
    uint32_t h = 0x811c9dc5u;
    for (unsigned i = 0; i < NOPS; i++) {
        for (unsigned j = 0; j < NOPS; j++) {
            for (uint32_t cf = 0; cf <= 1; cf++) {
                uint32_t a = operands[i], b = operands[j], fl;
                uint32_t mask = defined;
                if (kind == 1) {          /* shifts and rotates: count from b */
                    b &= 63;
                    uint32_t c = b & 31;
                    if (c != 1)
                        mask &= ~(uint32_t)EFLAGS_OF;   /* OF defined for count 1 only */
                    if (c == 0)
                        mask = EFLAGS_ARITH;             /* count 0: flags unchanged */
                }
                if (kind == 2 && b == 0)  /* BSF/BSR of 0: destination undefined */
                    continue;
                uint32_t r = fn(a, b, cf, &fl);
                h = fold(h, r);
                h = fold(h, fl & mask);
            }
        }
    }
    return h;
}

static void alu_dump(void)
{
    static const struct {
        const char *name;
        alu_fn fn;
        uint32_t defined;
        int kind;
    } ops[] = {
        { "add", op_add, F_ALL, 0 },  { "adc", op_adc, F_ALL, 0 },
        { "sub", op_sub, F_ALL, 0 },  { "sbb", op_sbb, F_ALL, 0 },
        { "and", op_and, F_LOGIC, 0 }, { "or", op_or, F_LOGIC, 0 },
        { "xor", op_xor, F_LOGIC, 0 }, { "imul", op_imul, F_MUL, 0 },
        { "bsf", op_bsf, EFLAGS_ZF, 2 }, { "bsr", op_bsr, EFLAGS_ZF, 2 },
        { "shl", op_shl, F_LOGIC, 1 }, { "shr", op_shr, F_LOGIC, 1 },
        { "sar", op_sar, F_LOGIC, 1 }, { "rol", op_rol, EFLAGS_CF | EFLAGS_OF, 1 },
        { "ror", op_ror, EFLAGS_CF | EFLAGS_OF, 1 }, { "rcl", op_rcl, EFLAGS_CF | EFLAGS_OF, 1 },
        { "neg", op_neg, F_ALL, 0 },  { "inc", op_inc, F_INC, 0 },
        { "dec", op_dec, F_INC, 0 },  { "not", op_not, 0, 0 },
    };
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        tprintf("alu %s hash=%08x\n", ops[i].name, alu_hash(ops[i].fn, ops[i].defined, ops[i].kind));

    /* A few single results the SDM pins down exactly. */
    uint32_t fl, r;
    r = op_add(0xffffffff, 1, 0, &fl);
    CHECK(r == 0 && (fl & EFLAGS_ARITH) == (EFLAGS_CF | EFLAGS_ZF | EFLAGS_PF | EFLAGS_AF),
          "add ffffffff+1 -> %x fl %x", r, fl);
    r = op_sub(0x80000000, 1, 0, &fl);
    CHECK(r == 0x7fffffff && (fl & (EFLAGS_OF | EFLAGS_SF | EFLAGS_CF)) == EFLAGS_OF,
          "sub 80000000-1 -> %x fl %x", r, fl);
    r = op_sar(0x80000000, 31, 0, &fl);
    CHECK(r == 0xffffffff, "sar 80000000,31 -> %x", r);
    r = op_bsr(0, 0x00010000, 0, &fl);
    CHECK(r == 16 && !(fl & EFLAGS_ZF), "bsr 10000 -> %u fl %x", r, fl);

    uint32_t lo, hi;
    asm("mull %3" : "=a"(lo), "=d"(hi) : "a"(0xdeadbeefu), "r"(0x12345678u) : "cc");
    tprintf("alu mul 12345678*deadbeef=%08x%08x\n", hi, lo);
    CHECK(hi == 0x0fd5bdeeu && lo == 0x5621ca08u);
    uint32_t q, rem;
    asm("divl %4" : "=a"(q), "=d"(rem) : "a"(0x9abcdef0u), "d"(0x12345678u), "r"(0xfedcba98u) : "cc");
    tprintf("alu div 123456789abcdef0/fedcba98=%08x rem %08x\n", q, rem);
    CHECK(q == 0x12492492u && rem == 0x51451440u);
}

/* String instructions, both directions, overlapping, with REP prefixes. */
static uint8_t strbuf[256];

static void str_dump(void)
{
    for (unsigned i = 0; i < sizeof(strbuf); i++)
        strbuf[i] = (uint8_t)(i * 7 + 3);
    /* Overlapping forward copy by 3: a repeating pattern appears. */
    uint8_t *src = strbuf, *dst = strbuf + 3;
    ureg count = 64;
    asm volatile("cld; rep movsb" : "+S"(src), "+D"(dst), "+c"(count) :: "memory");
    CHECK(strbuf[3] == 3 && strbuf[6] == 3 && strbuf[66] == 3, "rep movsb overlap");
    /* Backward copy (DF = 1) of 16 dwords down by 8 bytes. */
    src = strbuf + 200;
    dst = strbuf + 192;
    count = 16;
    asm volatile("std; rep movsl; cld" : "+S"(src), "+D"(dst), "+c"(count) :: "memory");
    dst = strbuf + 100;
    count = 10;
    asm volatile("cld; rep stosw" : "+D"(dst), "+c"(count) : "a"(0xa55a) : "memory");
    ureg left = 256;
    uint8_t *end = strbuf;
    asm volatile("cld; repne scasb" : "+c"(left), "+D"(end) : "a"(0x5a) : "cc", "memory");
    tprintf("str buf=%08x scas left=%u at=%u\n", mem_checksum(strbuf, sizeof(strbuf)),
            (unsigned)left, (unsigned)(end - strbuf));
}

static void ring3_main(void)
{
    uint16_t cs, ss;
    asm volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    /* The selectors are an "info" line: kvm_pvm runs guest ring 3 with the
     * host's own user selectors (CS 0x33, SS 0x2b) whatever SYSENTER_CS
     * says, so only the privilege level is compared. */
    tprintf("info ring3 cs=%04x ss=%04x\n", cs, ss);
    tprintf("ring3 cpl=%u\n", cs & 3);
    CHECK((cs & 3) == 3 && (ss & 3) == 3);

    uint64_t best = ~0ull;
    uint32_t result = 0;
    for (int run = 0; run < 3; run++) {
        uint64_t t0 = kvm_loop_rdtsc();
        result = kvm_loop_run(KVM_LOOP_ITERS, KVM_LOOP_SEED);
        uint64_t t1 = kvm_loop_rdtsc();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    tprintf("loop iters=%u result=%08x\n", KVM_LOOP_ITERS, result);
    tprintf("info time ring3-loop cycles=%llu\n", best);

    alu_dump();
    str_dump();
    testrom_exit(test_result());
}

/* SYSRET (64-bit operand size): CS = STAR[63:48] + 16 = SEL_UCODE64,
 * SS = STAR[63:48] + 8 = SEL_UDATA, both RPL 3; RIP = RCX, RFLAGS = R11
 * (IF clear: nothing in ring 3 wants an interrupt).  SYSRET is valid in
 * 64-bit mode on Intel and AMD alike, unlike SYSEXIT (#UD on AMD in long
 * mode); RSP is not touched, so it is loaded first. */
int main(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, (uint64_t)SEL_UCODE32 << 48 | (uint64_t)SEL_KCODE64 << 32);
    register ureg rflags asm("r11") = 0x2;
    asm volatile("mov %0, %%ds; mov %0, %%es; mov %2, %%rsp; sysretq"
                 :: "r"((ureg)(SEL_UDATA | 3)), "c"(ring3_main), "r"(ustack_top), "r"(rflags)
                 : "memory");
    return 1;   /* not reached */
}
