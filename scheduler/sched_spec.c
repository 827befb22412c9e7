/*
 * sched_spec.c: the acceptance of speculative draft tokens.
 *
 * What it models: how many of the k draft tokens a request verifies in a
 * step the target accepts. vLLM's synthetic rejection sampler
 * (vllm/config/speculative.py, rejection_sample_method "synthetic") takes
 * the same description: per-position unconditional rates r_1 >= r_2 >= ...
 * >= r_k, r_i the probability that the first i drafts are all accepted. A
 * request's accepted count at one verification is the largest a with
 * u < r_a for one uniform u, so P(a >= i) = r_i exactly, and the mean
 * accepted count is the sum of the rates (the mean acceptance length vLLM
 * reports is one more: the token the target samples itself).
 *
 * The builders turn the other usual descriptions into rates: a mean
 * acceptance length (vLLM's synthetic_acceptance_length, by vLLM's own
 * minimum-variance schedule: 1, 1, ..., the fraction, 0, ...), or a
 * per-position conditional rate alpha (every draft accepted with
 * probability alpha given the ones before it: r_i = alpha^i, the model of
 * Leviathan et al. 2023 and the EAGLE papers).
 *
 * Determinism: u comes from a counter-based generator of (seed, request id,
 * verification index): the same scenario and seed give the same draws
 * whatever the batch around the request, with any number of threads.
 * Cost: O(k) per verification, no state.
 */
#include <math.h>

#include "sched_options.h"
#include "ss_error.h"

static inline uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint32_t sched_spec_draw(const SchedConfig *c, uint64_t request_id, uint32_t step, uint32_t drafted)
{
    uint64_t h = mix(mix(mix(c->spec_seed ^ 0x5bd1e9955bd1e995ULL) ^ request_id) ^ step);
    double u = (double)(h >> 11) * 0x1.0p-53; /* [0, 1) */
    uint32_t k = MIN(drafted, MIN(c->num_spec_tokens, (uint32_t)SCHED_MAX_SPEC_TOKENS));
    uint32_t a = 0;
    while (a < k && u < c->spec_accept[a])
        a++;
    return a;
}

gboolean sched_spec_rates_from_length(double length, uint32_t k, double *rates, GError **error)
{
    if (k == 0 || k > SCHED_MAX_SPEC_TOKENS || !isfinite(length) || length < 1.0 || length > k + 1.0) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "synthetic_acceptance_length: expected a mean acceptance length in [1, %u] "
                    "(num_speculative_tokens + 1), got %g",
                    k + 1, length);
        return FALSE;
    }
    double drafts = length - 1.0; /* vLLM's minimum-variance schedule */
    for (uint32_t i = 0; i < k; i++)
        rates[i] = drafts >= i + 1.0 ? 1.0 : drafts > i ? drafts - i : 0.0;
    return TRUE;
}

gboolean sched_spec_rates_from_conditional(double alpha, uint32_t k, double *rates, GError **error)
{
    if (k == 0 || k > SCHED_MAX_SPEC_TOKENS || !isfinite(alpha) || alpha < 0.0 || alpha > 1.0) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "acceptance_rate: expected a probability in [0, 1], got %g",
                    alpha);
        return FALSE;
    }
    double r = 1.0;
    for (uint32_t i = 0; i < k; i++)
        rates[i] = r *= alpha;
    return TRUE;
}

gboolean sched_spec_rates_check(const double *rates, uint32_t k, GError **error)
{
    for (uint32_t i = 0; i < k; i++) {
        if (!isfinite(rates[i]) || rates[i] < 0.0 || rates[i] > 1.0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "synthetic_acceptance_rates[%u]: expected a probability in [0, 1], got %g", i, rates[i]);
            return FALSE;
        }
        if (i > 0 && rates[i] > rates[i - 1]) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "synthetic_acceptance_rates: expected non-increasing rates (the chance that the first i "
                        "drafts are all accepted), but [%u] = %g > [%u] = %g",
                        i, rates[i], i - 1, rates[i - 1]);
            return FALSE;
        }
    }
    return TRUE;
}

double sched_spec_mean_length(const double *rates, uint32_t k)
{
    double m = 1.0;
    for (uint32_t i = 0; i < k; i++)
        m += rates[i];
    return m;
}
