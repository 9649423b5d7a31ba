/*
 * Floating-point work for the guest differential test (tests/guest/fpvec):
 * double/float arithmetic through SSE2, long double through the x87,
 * libm functions, conversions, every rounding mode, NaN/infinity/denormal
 * handling and printf/strtod.  Output is deterministic; vx86 must print
 * exactly what the host prints.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double rnd_double(void)
{
    uint64_t u = next();
    switch (u & 7) {
    case 0: return (double)(int64_t)(u >> 20) / 1024.0;
    case 1: return ldexp((double)(u >> 11), -1074 + (int)(u % 40));   /* denormals */
    case 2: return (u & 8) ? INFINITY : -INFINITY;
    case 3: return (u & 8) ? NAN : -0.0;
    default: {
        double d;
        u = (u & 0x800fffffffffffffull) | ((uint64_t)(1023 - 60 + (u >> 57)) << 52);
        memcpy(&d, &u, 8);
        return d;
    }
    }
}

static unsigned long long bits(double d)
{
    unsigned long long u;
    memcpy(&u, &d, 8);
    return u;
}

static void arith(void)
{
    static const int modes[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
    unsigned long long h = 0;
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        for (int i = 0; i < 20000; i++) {
            double a = rnd_double(), b = rnd_double();
            volatile double s = a + b, d = a - b, p = a * b, q = a / b, r = sqrt(fabs(a));
            volatile float f = (float)a * (float)b;
            long long ci = isfinite(a) && fabs(a) < 9e18 ? (long long)a : 0;
            long long rr = isfinite(a) && fabs(a) < 9e18 ? llrint(a) : 0;
            h = h * 1000003 ^ bits(s) ^ bits(d) << 1 ^ bits(p) << 2 ^ bits(q) << 3 ^ bits(r) << 4;
            h = h * 31 + (unsigned)(*(volatile uint32_t *)&f) + (unsigned long long)ci + (unsigned long long)rr;
            h += (a < b) + 2 * (a == b) + 4 * isunordered(a, b);
        }
        printf("arith mode %d: %016llx\n", m, h);
        printf("  fetestexcept: %x\n", fetestexcept(FE_ALL_EXCEPT));
        feclearexcept(FE_ALL_EXCEPT);
    }
    fesetround(FE_TONEAREST);
}

static void libm(void)
{
    double x = 0.001;
    for (int i = 0; i < 40; i++, x *= 1.7)
        printf("%-8.4g sin %.17g cos %.17g exp %.17g log %.17g pow %.17g atan2 %.17g\n", x,
               sin(x), cos(x), exp(-x), log(x), pow(x, 1.25), atan2(x, 3.0));
}

static void x87(void)
{
    long double acc = 1.0L, s = 0.0L;
    for (int i = 1; i <= 200; i++) {
        acc *= 1.0L + 1.0L / i;
        s += 1.0L / ((long double)i * i);
    }
    printf("x87: %.21Lg %.21Lg %La\n", acc, s, sqrtl(s * 6.0L));
    printf("x87 lib: %.21Lg %.21Lg %.21Lg\n", sinl(1.0L), expl(1.5L), logl(10.0L));
    volatile long double big = LDBL_MAX, tiny = LDBL_MIN;
    printf("x87 edges: %Lg %Lg %Lg %Lg\n", big * 2, tiny / 3, -big * 2, big - big * 2);
}

static void conversions(void)
{
    static const char *const in[] = { "0.1", "1e308", "4.9e-324", "2.2250738585072014e-308",
                                      "nan", "-inf", "123456789012345678901234567890",
                                      "0x1.fffffffffffffp1023", "3.14159265358979323846" };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        double d = strtod(in[i], NULL);
        float f = strtof(in[i], NULL);
        printf("%s -> %.17g %a | %.9g %a\n", in[i], d, d, f, f);
    }
    for (int i = -5; i <= 5; i++)
        printf("rint(%g)=%g round=%g trunc=%g floor=%g ceil=%g\n", i * 0.5, rint(i * 0.5),
               round(i * 0.5), trunc(i * 0.5), floor(i * 0.5), ceil(i * 0.5));
}

int main(void)
{
    arith();
    libm();
    x87();
    conversions();
    return 0;
}
