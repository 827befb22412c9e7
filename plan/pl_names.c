/*
 * pl_names.c: the names of a plan's candidates.
 *
 * A candidate without a "name" is called after its hardware and TP degree
 * ("H100-SXM TP4"), then every other setting in which the candidates differ
 * ("H100-SXM TP4 max_num_seqs=256 max_num_batched_tokens=8192"; the model
 * first when models differ), so that two candidates never share a name
 * because a swept setting was left out. Settings compared: model, hardware,
 * TP, the engine settings, the step-time model and its constants, the seed.
 * Candidates equal in all of them (their workloads differ, say) get " #2",
 * " #3", ... in plan order. Two explicit names that are the same are an
 * error. Cost: O(candidates x settings).
 */
#include <string.h>

#include "pl_plan_internal.h"
#include "ss_error.h"

#define NUM_SETTINGS 20

/* The settings of a candidate as text, in a fixed order (NUM_SETTINGS of
 * them); names[i] labels them. */
static void settings_of(const ScnScenario *s, char *values[NUM_SETTINGS], const char *names[NUM_SETTINGS])
{
    guint i = 0;
#define SET(label, ...)                                                                                            \
    do {                                                                                                           \
        names[i] = label;                                                                                          \
        values[i++] = g_strdup_printf(__VA_ARGS__);                                                                \
    } while (0)
#define SET_UINT(label, v, zero)                                                                                   \
    do {                                                                                                           \
        names[i] = label;                                                                                          \
        values[i++] = (v) ? g_strdup_printf("%u", (guint)(v)) : g_strdup(zero);                                    \
    } while (0)
    char d[G_ASCII_DTOSTR_BUF_SIZE];
    SET("model", "%s", s->model ? s->model : "");
    SET("hardware", "%s", s->hardware ? s->hardware : "");
    SET("tensor_parallel_size", "%u", s->tensor_parallel_size);
    SET_UINT("max_num_seqs", s->max_num_seqs, "default");
    SET_UINT("max_num_batched_tokens", s->max_num_batched_tokens, "default");
    SET_UINT("max_model_len", s->max_model_len, "default");
    SET("block_size", "%u", s->block_size);
    SET("gpu_memory_utilization", "%s", g_ascii_dtostr(d, sizeof d, s->gpu_memory_utilization));
    SET_UINT("num_gpu_blocks_override", s->num_gpu_blocks_override, "none");
    SET("long_prefill_token_threshold", "%u", s->long_prefill_token_threshold);
    SET("enable_prefix_caching", "%s", s->enable_prefix_caching ? "true" : "false");
    SET("latency_model", "%s", lat_backend_name(s->latency.backend));
    SET("step_overhead_us", "%s", g_ascii_dtostr(d, sizeof d, s->latency.step_overhead_us));
    SET("bw_efficiency", "%s", g_ascii_dtostr(d, sizeof d, s->latency.bw_efficiency));
    SET("link_efficiency", "%s", g_ascii_dtostr(d, sizeof d, s->latency.link_efficiency));
    SET("allreduce_latency_us", "%s", g_ascii_dtostr(d, sizeof d, s->latency.allreduce_latency_us));
    SET("v1_mfu_prefill", "%s", g_ascii_dtostr(d, sizeof d, s->latency.v1_mfu_prefill));
    SET("v1_mfu_decode", "%s", g_ascii_dtostr(d, sizeof d, s->latency.v1_mfu_decode));
    SET("bf16_fp8_mfu_ratio", "%s", g_ascii_dtostr(d, sizeof d, s->latency.bf16_fp8_mfu_ratio));
    SET("seed", "%" G_GUINT64_FORMAT, s->seed);
#undef SET
#undef SET_UINT
}

gboolean pl_plan_name_candidates(PlPlanSpec *p, GError **error)
{
    guint n = p->num_candidates;
    typedef char *Row[NUM_SETTINGS];
    Row *values = g_new0(Row, MAX(n, 1));
    const char *names[NUM_SETTINGS];
    for (guint c = 0; c < n; c++)
        settings_of(p->candidates[c].scenario, values[c], names);
    gboolean differs[NUM_SETTINGS] = {FALSE};
    for (guint k = 0; k < NUM_SETTINGS; k++)
        for (guint c = 1; c < n && !differs[k]; c++)
            differs[k] = strcmp(values[c][k], values[0][k]) != 0;
    gboolean ok = TRUE;
    for (guint c = 0; c < n; c++) {
        if (p->candidates[c].name)
            continue;
        GString *s = g_string_new(NULL);
        if (differs[0])
            g_string_append_printf(s, "%s ", values[c][0]);
        g_string_append_printf(s, "%s TP%s", values[c][1], values[c][2]);
        for (guint k = 3; k < NUM_SETTINGS; k++)
            if (differs[k])
                g_string_append_printf(s, " %s=%s", names[k], values[c][k]);
        p->candidates[c].name = g_string_free(s, FALSE);
        p->candidates[c].name_generated = TRUE;
    }
    /* an explicit name must be new; a generated one that is not gets " #k" */
    char **base = g_new0(char *, n + 1);
    for (guint c = 0; c < n; c++)
        base[c] = g_strdup(p->candidates[c].name);
    for (guint c = 0; c < n && ok; c++) {
        guint same = 0;
        int first = -1;
        for (guint e = 0; e < c; e++)
            if (strcmp(base[e], base[c]) == 0) {
                same++;
                first = first < 0 ? (int)e : first;
            }
        if (same == 0)
            continue;
        if (!p->candidates[c].name_generated) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: candidates[%u].name: \"%s\" is already the name of candidates[%d]", p->origin, c,
                        base[c], first);
            ok = FALSE;
            break;
        }
        char *named = g_strdup_printf("%s #%u", base[c], same + 1);
        g_free(p->candidates[c].name);
        p->candidates[c].name = named;
    }
    g_strfreev(base);
    for (guint c = 0; c < n; c++)
        for (guint k = 0; k < NUM_SETTINGS; k++)
            g_free(values[c][k]);
    g_free(values);
    return ok;
}
