/*
 * wl_rand.c: random streams and the variates the generators need.
 *
 * Each consumer (a class's arrivals, input lengths, output lengths, prefix
 * choice) owns one GRand (Mersenne Twister) seeded from the scenario seed and
 * the consumer's name through a fixed hash, so streams never depend on the
 * order in which consumers are created or on other consumers' parameters.
 *
 * Variates: exponential by inversion, normal by Box-Muller (two uniforms per
 * draw, the second value discarded so a draw never depends on an earlier
 * one), gamma by Marsaglia and Tsang's squeeze method ("A simple method for
 * generating gamma variables", ACM TOMS 26(3), 2000) with the U^(1/k) boost
 * for shapes below 1. Cost: O(1) expected per draw (gamma rejects under 5%
 * for shape >= 1). Limits: the uniforms have 53 random bits (g_rand_double);
 * for very small gamma shapes (cv >> 1) most draws underflow to 0, which is
 * the correct limit of such a distribution at nanosecond resolution.
 */
#include "wl_internal.h"

#include <math.h>
#include <string.h>

/* FNV-1a, 64 bits: a fixed, platform-independent hash of the consumer name. */
static guint64 fnv1a64(const char *s)
{
    guint64 h = G_GUINT64_CONSTANT(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= G_GUINT64_CONSTANT(1099511628211);
    }
    return h;
}

GRand *wl_rand_new_for(guint64 seed, const char *consumer)
{
    guint64 h = fnv1a64(consumer);
    guint32 words[4] = {
        (guint32)(seed & 0xffffffffu),
        (guint32)(seed >> 32),
        (guint32)(h & 0xffffffffu),
        (guint32)(h >> 32),
    };
    return g_rand_new_with_seed_array(words, G_N_ELEMENTS(words));
}

double wl_rand_open0(GRand *r)
{
    return 1.0 - g_rand_double(r); /* g_rand_double is in [0, 1) */
}

double wl_rand_exponential(GRand *r)
{
    return -log(wl_rand_open0(r));
}

double wl_rand_normal(GRand *r)
{
    double u1 = wl_rand_open0(r);
    double u2 = g_rand_double(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

double wl_rand_gamma(GRand *r, double shape)
{
    /* the only caller passes 1 / cv^2 with cv in (0, WL_MAX_CV], checked when
     * the spec is read: unreachable from input */
    g_return_val_if_fail(shape > 0.0, 0.0);
    if (shape < 1.0) {
        /* G(k) = G(k + 1) * U^(1/k), in logs so tiny values underflow cleanly. */
        double g = wl_rand_gamma(r, shape + 1.0);
        double log_u = log(wl_rand_open0(r));
        return exp(log(g) + log_u / shape);
    }
    double d = shape - 1.0 / 3.0;
    double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = wl_rand_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = wl_rand_open0(r);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2)
            return d * v;
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v)))
            return d * v;
    }
}
