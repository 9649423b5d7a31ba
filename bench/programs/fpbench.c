/*
 * Floating-point workload: an n-body simulation (double precision, SSE2
 * on x86-64) and a Mandelbrot set count.  Deterministic; prints results
 * rounded so that every correct IEEE-754 engine prints the same text.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { double x, y, z, vx, vy, vz, m; } Body;

static double energy(const Body *b, int n)
{
    double e = 0;
    for (int i = 0; i < n; i++) {
        e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(Body *b, int n, double dt)
{
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b[i].vx -= dx * b[j].m * mag; b[i].vy -= dy * b[j].m * mag; b[i].vz -= dz * b[j].m * mag;
            b[j].vx += dx * b[i].m * mag; b[j].vy += dy * b[i].m * mag; b[j].vz += dz * b[i].m * mag;
        }
    }
    for (int i = 0; i < n; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

static long mandel(int w, int h, int iters)
{
    long inside = 0;
    for (int py = 0; py < h; py++) {
        for (int px = 0; px < w; px++) {
            double cr = -2.0 + 3.0 * px / w, ci = -1.5 + 3.0 * py / h;
            double zr = 0, zi = 0;
            int k = 0;
            while (k < iters && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                k++;
            }
            inside += k == iters;
        }
    }
    return inside;
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    Body b[5] = {
        { 0, 0, 0, 0, 0, 0, 39.47841760435743 },
        { 4.84, -1.16, -0.10, 0.606, 2.81, -0.02, 0.0377 },
        { 8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.0113 },
        { 12.89, -15.11, -0.22, 1.08, 0.868, -0.01, 0.0017 },
        { 15.37, -25.91, 0.17, 0.979, 0.594, -0.034, 0.0020 },
    };
    double e0 = energy(b, 5);
    for (unsigned s = 0; s < scale * 1000000; s++)
        advance(b, 5, 0.01);
    double e1 = energy(b, 5);
    long m = mandel(600, 400, 200 * (int)scale);
    printf("fpbench energy %.6f -> %.6f mandel %ld\n", e0, e1, m);
    return 0;
}
