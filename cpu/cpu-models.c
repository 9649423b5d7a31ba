/*
 * CPU models and CPUID.
 *
 * A model is a name and a set of CPUID feature words.  cpu_create() applies
 * the model named in CPUConfig.model_name (the -cpu option; NULL means the
 * default, "vx86") and stores the words in cpu->cfg.feat[].  Two things
 * read them and nothing else decides what the guest has:
 *   - cpu_cpuid(): what CPUID reports (leaves 0-4, 7, 0xD, 0x80000000-8);
 *   - cpu_has_feature(): the translator's check of every decoded
 *     instruction's X86Feature (an instruction of a feature the model does
 *     not report raises #UD, as on a CPU without it).
 * So a guest never sees a feature bit for something that is not
 * implemented, and never runs an instruction of a feature it was not told
 * about.  Add a feature to a model only once its instructions are done.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

#define B(n) (1u << (n))

/* CPUID.1:EDX */
enum {
    F1D_FPU = B(0), F1D_DE = B(2), F1D_PSE = B(3), F1D_TSC = B(4), F1D_MSR = B(5),
    F1D_PAE = B(6), F1D_CX8 = B(8), F1D_APIC = B(9), F1D_SEP = B(11), F1D_PGE = B(13),
    F1D_CMOV = B(15), F1D_PAT = B(16), F1D_PSE36 = B(17), F1D_CLFLUSH = B(19),
    F1D_MMX = B(23), F1D_FXSR = B(24), F1D_SSE = B(25), F1D_SSE2 = B(26),
};
/* CPUID.1:ECX */
enum {
    F1C_SSE3 = B(0), F1C_PCLMUL = B(1), F1C_MONITOR = B(3), F1C_VMX = B(5),
    F1C_SSSE3 = B(9), F1C_CX16 = B(13), F1C_SSE41 = B(19), F1C_SSE42 = B(20),
    F1C_MOVBE = B(22), F1C_POPCNT = B(23), F1C_AES = B(25), F1C_XSAVE = B(26),
    F1C_OSXSAVE = B(27), F1C_AVX = B(28), F1C_RDRAND = B(30), F1C_HYPERVISOR = B(31),
};
/* CPUID.7.0:EBX */
enum {
    F7B_FSGSBASE = B(0), F7B_SGX = B(2), F7B_BMI1 = B(3), F7B_BMI2 = B(8), F7B_SMEP = B(7), F7B_INVPCID = B(10),
    F7B_RTM = B(11), F7B_FDP_EXCPTN = B(6), F7B_NO_FCS_FDS = B(13), F7B_RDSEED = B(18),
    F7B_ADX = B(19), F7B_SMAP = B(20), F7B_CLFLUSHOPT = B(23), F7B_CLWB = B(24),
    F7B_SHA = B(29),
};
enum { F7C_PKU = B(3) };
enum { F7D_ARCH_CAP = B(29) };   /* IA32_ARCH_CAPABILITIES MSR (cpu_arch_capabilities) */
/* CPUID.80000001 */
enum { F81D_SYSCALL = B(11), F81D_NX = B(20), F81D_PDPE1GB = B(26), F81D_RDTSCP = B(27),
       F81D_LM = B(29) };
enum { F81C_LAHF = B(0), F81C_LZCNT = B(5), F81C_PREFETCHW = B(8) };
/* CPUID.(0xD,1):EAX */
enum { FD1A_XSAVEOPT = B(0), FD1A_XSAVEC = B(1), FD1A_XSAVES = B(3) };

typedef struct CPUModel {
    const char *name;
    const char *desc;
    uint32_t feat[8];
} CPUModel;

static const CPUModel cpu_models[] = {
    {
        "vx86", "everything vx86 implements (default)",
        {
            [CPU_FEAT_1_EDX] = F1D_FPU | F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE |
                               F1D_CX8 | F1D_APIC | F1D_SEP | F1D_PGE | F1D_CMOV | F1D_PAT |
                               F1D_PSE36 | F1D_CLFLUSH | F1D_MMX | F1D_FXSR | F1D_SSE |
                               F1D_SSE2,
            [CPU_FEAT_1_ECX] = F1C_SSE3 | F1C_PCLMUL | F1C_SSSE3 | F1C_CX16 | F1C_SSE41 |
                               F1C_SSE42 | F1C_MOVBE | F1C_POPCNT | F1C_AES | F1C_XSAVE,
            [CPU_FEAT_7_EBX] = F7B_FSGSBASE | F7B_BMI1 | F7B_SMEP | F7B_BMI2 | F7B_ADX |
                               F7B_SMAP | F7B_NO_FCS_FDS | F7B_SHA,
            [CPU_FEAT_7_EDX] = F7D_ARCH_CAP,
            [CPU_FEAT_81_EDX] = F81D_SYSCALL | F81D_NX | F81D_PDPE1GB | F81D_RDTSCP | F81D_LM,
            [CPU_FEAT_81_ECX] = F81C_LAHF | F81C_LZCNT | F81C_PREFETCHW,
            [CPU_FEAT_D1_EAX] = FD1A_XSAVEOPT,
        },
    },
    {
        "qemu64", "the x86-64 baseline of QEMU's qemu64 (no XSAVE)",
        {
            [CPU_FEAT_1_EDX] = F1D_FPU | F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE |
                               F1D_CX8 | F1D_APIC | F1D_SEP | F1D_PGE | F1D_CMOV | F1D_PAT |
                               F1D_PSE36 | F1D_CLFLUSH | F1D_FXSR | F1D_SSE | F1D_SSE2,
            [CPU_FEAT_1_ECX] = F1C_CX16,
            [CPU_FEAT_81_EDX] = F81D_SYSCALL | F81D_NX | F81D_LM,
            [CPU_FEAT_81_ECX] = F81C_LAHF,
        },
    },
};

/* QEMU's names for "everything this emulator implements". */
static const struct { const char *alias, *model; } cpu_model_aliases[] = {
    { "max", "vx86" },
    { "host", "vx86" },
};

/* CPUID feature flags by QEMU's -cpu names (target/i386's feature word
 * tables name them so); a second spelling QEMU also accepts follows. */
typedef struct CPUFeatureName {
    const char *name, *alias;
    uint8_t word;
    uint32_t bit;
} CPUFeatureName;

static const CPUFeatureName cpu_feature_names[] = {
    { "fpu", NULL, CPU_FEAT_1_EDX, F1D_FPU }, { "de", NULL, CPU_FEAT_1_EDX, F1D_DE },
    { "pse", NULL, CPU_FEAT_1_EDX, F1D_PSE }, { "tsc", NULL, CPU_FEAT_1_EDX, F1D_TSC },
    { "msr", NULL, CPU_FEAT_1_EDX, F1D_MSR }, { "pae", NULL, CPU_FEAT_1_EDX, F1D_PAE },
    { "cx8", NULL, CPU_FEAT_1_EDX, F1D_CX8 }, { "apic", NULL, CPU_FEAT_1_EDX, F1D_APIC },
    { "sep", NULL, CPU_FEAT_1_EDX, F1D_SEP }, { "pge", NULL, CPU_FEAT_1_EDX, F1D_PGE },
    { "cmov", NULL, CPU_FEAT_1_EDX, F1D_CMOV }, { "pat", NULL, CPU_FEAT_1_EDX, F1D_PAT },
    { "pse36", NULL, CPU_FEAT_1_EDX, F1D_PSE36 },
    { "clflush", NULL, CPU_FEAT_1_EDX, F1D_CLFLUSH }, { "mmx", NULL, CPU_FEAT_1_EDX, F1D_MMX },
    { "fxsr", NULL, CPU_FEAT_1_EDX, F1D_FXSR }, { "sse", NULL, CPU_FEAT_1_EDX, F1D_SSE },
    { "sse2", NULL, CPU_FEAT_1_EDX, F1D_SSE2 },
    { "pni", "sse3", CPU_FEAT_1_ECX, F1C_SSE3 },
    { "pclmulqdq", "pclmuldq", CPU_FEAT_1_ECX, F1C_PCLMUL },
    { "monitor", NULL, CPU_FEAT_1_ECX, F1C_MONITOR }, { "vmx", NULL, CPU_FEAT_1_ECX, F1C_VMX },
    { "ssse3", NULL, CPU_FEAT_1_ECX, F1C_SSSE3 }, { "cx16", NULL, CPU_FEAT_1_ECX, F1C_CX16 },
    { "sse4.1", "sse4_1", CPU_FEAT_1_ECX, F1C_SSE41 },
    { "sse4.2", "sse4_2", CPU_FEAT_1_ECX, F1C_SSE42 },
    { "movbe", NULL, CPU_FEAT_1_ECX, F1C_MOVBE }, { "popcnt", NULL, CPU_FEAT_1_ECX, F1C_POPCNT },
    { "aes", NULL, CPU_FEAT_1_ECX, F1C_AES }, { "xsave", NULL, CPU_FEAT_1_ECX, F1C_XSAVE },
    { "avx", NULL, CPU_FEAT_1_ECX, F1C_AVX }, { "rdrand", NULL, CPU_FEAT_1_ECX, F1C_RDRAND },
    { "hypervisor", NULL, CPU_FEAT_1_ECX, F1C_HYPERVISOR },
    { "fsgsbase", NULL, CPU_FEAT_7_EBX, F7B_FSGSBASE }, { "sgx", NULL, CPU_FEAT_7_EBX, F7B_SGX },
    { "bmi1", NULL, CPU_FEAT_7_EBX, F7B_BMI1 }, { "bmi2", NULL, CPU_FEAT_7_EBX, F7B_BMI2 },
    { "smep", NULL, CPU_FEAT_7_EBX, F7B_SMEP }, { "invpcid", NULL, CPU_FEAT_7_EBX, F7B_INVPCID },
    { "rtm", NULL, CPU_FEAT_7_EBX, F7B_RTM },
    { "fdp-excptn-only", NULL, CPU_FEAT_7_EBX, F7B_FDP_EXCPTN },
    { "zero-fcs-fds", NULL, CPU_FEAT_7_EBX, F7B_NO_FCS_FDS },
    { "rdseed", NULL, CPU_FEAT_7_EBX, F7B_RDSEED }, { "adx", NULL, CPU_FEAT_7_EBX, F7B_ADX },
    { "smap", NULL, CPU_FEAT_7_EBX, F7B_SMAP },
    { "clflushopt", NULL, CPU_FEAT_7_EBX, F7B_CLFLUSHOPT },
    { "clwb", NULL, CPU_FEAT_7_EBX, F7B_CLWB }, { "sha-ni", NULL, CPU_FEAT_7_EBX, F7B_SHA },
    { "pku", NULL, CPU_FEAT_7_ECX, F7C_PKU },
    { "arch-capabilities", NULL, CPU_FEAT_7_EDX, F7D_ARCH_CAP },
    { "syscall", NULL, CPU_FEAT_81_EDX, F81D_SYSCALL },
    { "nx", "xd", CPU_FEAT_81_EDX, F81D_NX },
    { "pdpe1gb", NULL, CPU_FEAT_81_EDX, F81D_PDPE1GB },
    { "rdtscp", NULL, CPU_FEAT_81_EDX, F81D_RDTSCP },
    { "lm", "i64", CPU_FEAT_81_EDX, F81D_LM },
    { "lahf-lm", "lahf_lm", CPU_FEAT_81_ECX, F81C_LAHF },
    { "abm", NULL, CPU_FEAT_81_ECX, F81C_LZCNT },
    { "3dnowprefetch", NULL, CPU_FEAT_81_ECX, F81C_PREFETCHW },
    { "xsaveopt", NULL, CPU_FEAT_D1_EAX, FD1A_XSAVEOPT },
    { "xsavec", NULL, CPU_FEAT_D1_EAX, FD1A_XSAVEC },
    { "xsaves", NULL, CPU_FEAT_D1_EAX, FD1A_XSAVES },
};

static const CPUFeatureName *cpu_feature_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(cpu_feature_names) / sizeof(cpu_feature_names[0]); i++) {
        const CPUFeatureName *f = &cpu_feature_names[i];
        if ((strlen(f->name) == len && !strncmp(f->name, name, len)) ||
            (f->alias && strlen(f->alias) == len && !strncmp(f->alias, name, len)))
            return f;
    }
    return NULL;
}

void cpu_models_print(FILE *f)
{
    fprintf(f, "CPU models (-cpu NAME[,+FEATURE|-FEATURE|FEATURE=on|off,...]):\n");
    for (size_t i = 0; i < sizeof(cpu_models) / sizeof(cpu_models[0]); i++)
        fprintf(f, "  %-8s %s\n", cpu_models[i].name, cpu_models[i].desc);
    for (size_t i = 0; i < sizeof(cpu_model_aliases) / sizeof(cpu_model_aliases[0]); i++)
        fprintf(f, "  %-8s the same as %s\n", cpu_model_aliases[i].alias, cpu_model_aliases[i].model);
    /* What can be added: the features of the "everything" model. */
    fprintf(f, "\nRecognized CPUID flags (those vx86 implements can be added with +):\n ");
    size_t col = 1;
    for (size_t i = 0; i < sizeof(cpu_feature_names) / sizeof(cpu_feature_names[0]); i++) {
        const CPUFeatureName *n = &cpu_feature_names[i];
        bool impl = cpu_models[0].feat[n->word] & n->bit;
        size_t w = strlen(n->name) + 1 + (impl ? 0 : 1);
        if (col + w > 78) {
            fprintf(f, "\n ");
            col = 1;
        }
        fprintf(f, " %s%s", n->name, impl ? "" : "*");
        col += w;
    }
    fprintf(f, "\n  (* not implemented: can only be removed)\n");
}

/* The ",+feat,-feat,feat=on|off" list after the model name. */
static bool cpu_apply_features(CPUConfig *cfg, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *name = p;
        size_t nlen = len;
        int on = -1;
        if (len && (*p == '+' || *p == '-')) {
            on = *p == '+';
            name++;
            nlen--;
        } else {
            const char *eq = memchr(p, '=', len);
            if (eq) {
                nlen = (size_t)(eq - p);
                size_t vlen = len - nlen - 1;
                const char *v = eq + 1;
                if ((vlen == 2 && !strncmp(v, "on", 2)) || (vlen == 4 && !strncmp(v, "true", 4)))
                    on = 1;
                else if ((vlen == 3 && !strncmp(v, "off", 3)) ||
                         (vlen == 5 && !strncmp(v, "false", 5)))
                    on = 0;
                else {
                    snprintf(err, errlen, "%.*s: expected on or off", (int)len, p);
                    return false;
                }
            }
        }
        if (on < 0 || nlen == 0) {
            snprintf(err, errlen, "'%.*s': expected +FEATURE, -FEATURE or FEATURE=on|off",
                     (int)len, p);
            return false;
        }
        const CPUFeatureName *f = cpu_feature_find(name, nlen);
        if (!f) {
            snprintf(err, errlen, "unknown CPU feature '%.*s' (-cpu help lists them)",
                     (int)nlen, name);
            return false;
        }
        if (on && !(cpu_models[0].feat[f->word] & f->bit)) {
            snprintf(err, errlen, "CPU feature '%s' is not implemented by vx86", f->name);
            return false;
        }
        if (on)
            cfg->feat[f->word] |= f->bit;
        else
            cfg->feat[f->word] &= ~f->bit;
        p += len + (end ? 1 : 0);
        if (end && !*p) {
            snprintf(err, errlen, "empty feature after ','");
            return false;
        }
    }
    return true;
}

bool cpu_model_apply(CPUConfig *cfg, const char *spec, char *err, size_t errlen)
{
    char name[64];
    const char *features = "";
    if (!spec || !*spec)
        spec = cpu_models[0].name;
    size_t nlen = strcspn(spec, ",");
    if (spec[nlen])
        features = spec + nlen + 1;
    if (nlen >= sizeof name || (spec[nlen] && !*features)) {
        snprintf(err, errlen, "invalid CPU model '%s'", spec);
        return false;
    }
    memcpy(name, spec, nlen);
    name[nlen] = '\0';
    const char *model = name;
    for (size_t i = 0; i < sizeof(cpu_model_aliases) / sizeof(cpu_model_aliases[0]); i++)
        if (strcmp(cpu_model_aliases[i].alias, name) == 0)
            model = cpu_model_aliases[i].model;
    const CPUModel *m = NULL;
    for (size_t i = 0; i < sizeof(cpu_models) / sizeof(cpu_models[0]); i++)
        if (strcmp(cpu_models[i].name, model) == 0)
            m = &cpu_models[i];
    if (!m) {
        char list[128] = "";
        for (size_t i = 0; i < sizeof(cpu_models) / sizeof(cpu_models[0]); i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", cpu_models[i].name);
        }
        snprintf(err, errlen, "unknown CPU model '%s' (known: %s, max)", name, list);
        return false;
    }
    memcpy(cfg->feat, m->feat, sizeof(cfg->feat));
    cfg->model_name = m->name;
    if (!cpu_apply_features(cfg, features, err, errlen))
        return false;
    /* The configuration switches can only take features away. */
    if (!cfg->x86_64) {
        cfg->feat[CPU_FEAT_81_EDX] &= ~(uint32_t)(F81D_LM | F81D_SYSCALL);
        cfg->feat[CPU_FEAT_81_ECX] &= ~(uint32_t)F81C_LAHF;
        cfg->feat[CPU_FEAT_1_ECX] &= ~(uint32_t)F1C_CX16;
    }
    if (!cfg->nx)
        cfg->feat[CPU_FEAT_81_EDX] &= ~(uint32_t)F81D_NX;
    if (!cfg->pae)
        cfg->feat[CPU_FEAT_1_EDX] &= ~(uint32_t)F1D_PAE;
    /* The page walker honours PS in a PDPTE only when CPUID says so. */
    if (!cfg->page1gb)
        cfg->feat[CPU_FEAT_81_EDX] &= ~(uint32_t)F81D_PDPE1GB;
    cfg->page1gb = cfg->feat[CPU_FEAT_81_EDX] & F81D_PDPE1GB;
    return true;
}

/* X86Feature -> (feature word, bit); word -1: always present. */
static const struct { int8_t word; uint32_t bit; } feature_bits[X86_FEAT_COUNT] = {
    [X86_FEAT_NONE] = { -1, 0 },
    [X86_FEAT_FPU] = { CPU_FEAT_1_EDX, F1D_FPU },
    [X86_FEAT_CMOV] = { CPU_FEAT_1_EDX, F1D_CMOV },
    [X86_FEAT_MMX] = { CPU_FEAT_1_EDX, F1D_MMX },
    [X86_FEAT_SSE] = { CPU_FEAT_1_EDX, F1D_SSE },
    [X86_FEAT_SSE2] = { CPU_FEAT_1_EDX, F1D_SSE2 },
    [X86_FEAT_SSE3] = { CPU_FEAT_1_ECX, F1C_SSE3 },
    [X86_FEAT_SSSE3] = { CPU_FEAT_1_ECX, F1C_SSSE3 },
    [X86_FEAT_SSE41] = { CPU_FEAT_1_ECX, F1C_SSE41 },
    [X86_FEAT_SSE42] = { CPU_FEAT_1_ECX, F1C_SSE42 },
    [X86_FEAT_POPCNT] = { CPU_FEAT_1_ECX, F1C_POPCNT },
    [X86_FEAT_MOVBE] = { CPU_FEAT_1_ECX, F1C_MOVBE },
    [X86_FEAT_AES] = { CPU_FEAT_1_ECX, F1C_AES },
    [X86_FEAT_PCLMUL] = { CPU_FEAT_1_ECX, F1C_PCLMUL },
    [X86_FEAT_CX8] = { CPU_FEAT_1_EDX, F1D_CX8 },
    [X86_FEAT_CX16] = { CPU_FEAT_1_ECX, F1C_CX16 },
    [X86_FEAT_RDRAND] = { CPU_FEAT_1_ECX, F1C_RDRAND },
    [X86_FEAT_RDSEED] = { CPU_FEAT_7_EBX, F7B_RDSEED },
    [X86_FEAT_FSGSBASE] = { CPU_FEAT_7_EBX, F7B_FSGSBASE },
    [X86_FEAT_BMI1] = { CPU_FEAT_7_EBX, F7B_BMI1 },
    [X86_FEAT_BMI2] = { CPU_FEAT_7_EBX, F7B_BMI2 },
    [X86_FEAT_LZCNT] = { CPU_FEAT_81_ECX, F81C_LZCNT },
    [X86_FEAT_ADX] = { CPU_FEAT_7_EBX, F7B_ADX },
    [X86_FEAT_XSAVE] = { CPU_FEAT_1_ECX, F1C_XSAVE },
    [X86_FEAT_XSAVEOPT] = { CPU_FEAT_D1_EAX, FD1A_XSAVEOPT },
    [X86_FEAT_XSAVEC] = { CPU_FEAT_D1_EAX, FD1A_XSAVEC },
    [X86_FEAT_XSAVES] = { CPU_FEAT_D1_EAX, FD1A_XSAVES },
    [X86_FEAT_FXSR] = { CPU_FEAT_1_EDX, F1D_FXSR },
    [X86_FEAT_CLFLUSH] = { CPU_FEAT_1_EDX, F1D_CLFLUSH },
    [X86_FEAT_CLFLUSHOPT] = { CPU_FEAT_7_EBX, F7B_CLFLUSHOPT },
    [X86_FEAT_CLWB] = { CPU_FEAT_7_EBX, F7B_CLWB },
    [X86_FEAT_MONITOR] = { CPU_FEAT_1_ECX, F1C_MONITOR },
    [X86_FEAT_RDTSCP] = { CPU_FEAT_81_EDX, F81D_RDTSCP },
    [X86_FEAT_SMAP] = { CPU_FEAT_7_EBX, F7B_SMAP },
    [X86_FEAT_VMX] = { CPU_FEAT_1_ECX, F1C_VMX },
    [X86_FEAT_SHA] = { CPU_FEAT_7_EBX, F7B_SHA },
    [X86_FEAT_PREFETCHW] = { CPU_FEAT_81_ECX, F81C_PREFETCHW },
    [X86_FEAT_LAHF64] = { CPU_FEAT_81_ECX, F81C_LAHF },
    [X86_FEAT_SYSCALL] = { CPU_FEAT_81_EDX, F81D_SYSCALL },
    [X86_FEAT_SEP] = { CPU_FEAT_1_EDX, F1D_SEP },
    [X86_FEAT_MSR] = { CPU_FEAT_1_EDX, F1D_MSR },
    [X86_FEAT_TSC] = { CPU_FEAT_1_EDX, F1D_TSC },
    [X86_FEAT_RTM] = { CPU_FEAT_7_EBX, F7B_RTM },
    [X86_FEAT_PKU] = { CPU_FEAT_7_ECX, F7C_PKU },
    [X86_FEAT_INVPCID] = { CPU_FEAT_7_EBX, F7B_INVPCID },
    [X86_FEAT_SGX] = { CPU_FEAT_7_EBX, F7B_SGX },
    [X86_FEAT_AVX] = { CPU_FEAT_1_ECX, F1C_AVX },
};

bool cpu_has_feature(const CPUState *cpu, int f)
{
    if (f < 0 || f >= X86_FEAT_COUNT)
        return false;
    if (feature_bits[f].word < 0)
        return true;
    if (feature_bits[f].bit == 0)
        return false;
    return (cpu->cfg.feat[feature_bits[f].word] & feature_bits[f].bit) != 0;
}

static void cpuid_str(uint32_t *r, const char *s)
{
    memcpy(r, s, 4);
}

/* Deterministic cache parameters (leaf 4): type, level, ways, sets. */
static void cpuid_cache(uint32_t sub, uint32_t r[4])
{
    static const struct { uint8_t type, level; uint16_t ways; uint32_t sets; } c[] = {
        { 1, 1, 8, 64 },      /* L1d 32 KiB */
        { 2, 1, 8, 64 },      /* L1i 32 KiB */
        { 3, 2, 8, 1024 },    /* L2 512 KiB */
        { 3, 3, 16, 8192 },   /* L3 8 MiB */
    };
    if (sub >= sizeof(c) / sizeof(c[0]))
        return;
    r[0] = c[sub].type | (uint32_t)c[sub].level << 5 | 1u << 8;   /* self-initialising */
    r[1] = (uint32_t)(c[sub].ways - 1) << 22 | 63;                /* 64-byte lines */
    r[2] = c[sub].sets - 1;
}

/* Size of the XSAVE area for the components in mask (x87 and SSE live in
 * the 512-byte legacy area, then the 64-byte header). */
static uint32_t xsave_size(uint64_t mask)
{
    (void)mask;
    return 512 + 64;
}

void cpu_cpuid(CPUState *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    const CPUConfig *cfg = &cpu->cfg;
    const uint32_t *f = cfg->feat;
    r[0] = r[1] = r[2] = r[3] = 0;
    switch (leaf) {
    case 0:
        r[0] = 0x15;
        cpuid_str(&r[1], "Genu");
        cpuid_str(&r[3], "ineI");
        cpuid_str(&r[2], "ntel");
        break;
    case 1:
        r[0] = (uint32_t)((cfg->family & 0xf) << 8 | (cfg->model & 0xf) << 4 |
                          (cfg->stepping & 0xf));
        /* APIC id, 1 logical processor, CLFLUSH line size 64 */
        r[1] = (uint32_t)cpu->index << 24 | 1u << 16 | 8u << 8;
        r[2] = f[CPU_FEAT_1_ECX];
        if ((r[2] & F1C_XSAVE) && (cpu->cr[4] & CR4_OSXSAVE))
            r[2] |= F1C_OSXSAVE;
        /* x2APIC: the board's local APIC has the mode (hw/lapic.c). */
        if (cpu->board && cpu->board->msr)
            r[2] |= 1u << 21;
        r[3] = f[CPU_FEAT_1_EDX];
        break;
    case 2:
        r[0] = 0xff01;      /* one iteration; descriptor FF: see leaf 4 */
        break;
    case 4:
        cpuid_cache(sub, r);
        break;
    case 7:
        if (sub == 0) {
            r[1] = f[CPU_FEAT_7_EBX];
            r[2] = f[CPU_FEAT_7_ECX];
            r[3] = f[CPU_FEAT_7_EDX];
        }
        break;
    case 0xd:
        if (!(f[CPU_FEAT_1_ECX] & F1C_XSAVE))
            break;
        if (sub == 0) {
            r[0] = XSTATE_SUPPORTED;
            r[1] = xsave_size(cpu->xcr0);
            r[2] = xsave_size(XSTATE_SUPPORTED);
        } else if (sub == 1) {
            r[0] = f[CPU_FEAT_D1_EAX];
        }
        break;
    case 0x15:
        /* TSC / core crystal clock.  The crystal is the local APIC's
         * 1 GHz bus clock (hw/lapic.h), so Linux takes both the TSC rate
         * and the APIC timer rate from here instead of calibrating them
         * against the PIT, which host jitter can spoil. */
        r[0] = 1000;
        r[1] = (uint32_t)((cfg->tsc_hz ? cfg->tsc_hz : 1000000000ULL) / 1000000);
        r[2] = 1000000000u;
        break;
    case 0x80000000:
        r[0] = 0x80000008;
        break;
    case 0x80000001:
        r[2] = f[CPU_FEAT_81_ECX];
        r[3] = f[CPU_FEAT_81_EDX];
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        static const char brand[48] = "vx86 virtual CPU";
        memcpy(r, brand + (leaf - 0x80000002) * 16, 16);
        break;
    }
    case 0x80000008:
        r[0] = 40 | 48u << 8;        /* physical / linear address bits */
        break;
    default:
        break;
    }
}
