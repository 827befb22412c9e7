/*
 * pl_names.c: the names of a plan's candidates.
 *
 * A candidate without a "name" is called after its hardware and TP degree
 * ("H100-SXM TP4"), then every other setting in which the candidates differ
 * ("H100-SXM TP4 max_num_seqs=256 max_num_batched_tokens=8192"; the model
 * first when models differ), so that two candidates never share a name
 * because a swept setting was left out. Settings compared: model, hardware,
 * TP, the engine settings, the modelled vLLM version and its switches, the
 * step-time model and every constant of it (lat_params_names), the seed.
 * Candidates equal in all of them (their workloads differ, say) get " #2",
 * " #3", ... in plan order. Two explicit names that are the same are an
 * error. Cost: O(candidates x settings).
 */
#include <string.h>

#include "pl_plan_internal.h"
#include "ss_error.h"

typedef struct {
    const char *label; /* static */
    char *value;       /* owned */
} Setting;

static void add(GArray *out, const char *label, char *value)
{
    Setting st = {label, value};
    g_array_append_val(out, st);
}

static char *uint_or(guint v, const char *zero)
{
    return v ? g_strdup_printf("%u", v) : g_strdup(zero);
}

static char *tri(int v)
{
    return g_strdup(v < 0 ? "default" : v ? "true" : "false");
}

/* The settings of a candidate as text, in a fixed order: model, hardware,
 * TP, then the engine settings, the modelled vLLM, the step-time model and
 * each of its constants (lat_params_names), the seed. */
static GArray *settings_of(const ScnScenario *s)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(Setting));
    char d[G_ASCII_DTOSTR_BUF_SIZE];
    add(out, "model", g_strdup(s->model ? s->model : ""));
    add(out, "hardware", g_strdup(s->hardware ? s->hardware : ""));
    add(out, "tensor_parallel_size", g_strdup_printf("%u", s->tensor_parallel_size));
    add(out, "max_num_seqs", uint_or(s->max_num_seqs, "default"));
    add(out, "max_num_batched_tokens", uint_or(s->max_num_batched_tokens, "default"));
    add(out, "max_model_len", uint_or(s->max_model_len, "default"));
    add(out, "block_size", g_strdup_printf("%u", s->block_size));
    add(out, "gpu_memory_utilization", g_strdup(g_ascii_dtostr(d, sizeof d, s->gpu_memory_utilization)));
    add(out, "num_gpu_blocks_override", uint_or(s->num_gpu_blocks_override, "none"));
    add(out, "long_prefill_token_threshold", g_strdup_printf("%u", s->long_prefill_token_threshold));
    add(out, "enable_prefix_caching", g_strdup(s->enable_prefix_caching ? "true" : "false"));
    add(out, "vllm_version", g_strdup(s->vllm_version ? s->vllm_version : "default"));
    add(out, "async_scheduling", tri(s->async_scheduling));
    add(out, "scheduler_reserve_full_isl", tri(s->scheduler_reserve_full_isl));
    add(out, "enforce_eager", g_strdup(s->enforce_eager ? "true" : "false"));
    add(out, "otlp_traces_endpoint", g_strdup(s->otlp_traces_endpoint ? s->otlp_traces_endpoint : "none"));
    add(out, "latency_model", g_strdup(lat_backend_name(s->latency.backend)));
    for (const char *const *n = lat_params_names(); *n; n++) {
        double v;
        if (lat_params_get(&s->latency, *n, &v))
            add(out, *n, g_strdup(g_ascii_dtostr(d, sizeof d, v)));
    }
    add(out, "seed", g_strdup_printf("%" G_GUINT64_FORMAT, s->seed));
    return out;
}

static void settings_free(GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_free(g_array_index(a, Setting, i).value);
    g_array_free(a, TRUE);
}

#define VALUE(c, k) (g_array_index(rows[c], Setting, k).value)

gboolean pl_plan_name_candidates(PlPlanSpec *p, GError **error)
{
    guint n = p->num_candidates;
    GArray **rows = g_new0(GArray *, MAX(n, 1));
    for (guint c = 0; c < n; c++)
        rows[c] = settings_of(p->candidates[c].scenario);
    guint ns = n ? rows[0]->len : 0; /* the same settings, in the same order, for every candidate */
    gboolean *differs = g_new0(gboolean, MAX(ns, 1));
    for (guint k = 0; k < ns; k++)
        for (guint c = 1; c < n && !differs[k]; c++)
            differs[k] = strcmp(VALUE(c, k), VALUE(0, k)) != 0;
    gboolean ok = TRUE;
    for (guint c = 0; c < n; c++) {
        if (p->candidates[c].name)
            continue;
        GString *s = g_string_new(NULL);
        if (differs[0])
            g_string_append_printf(s, "%s ", VALUE(c, 0));
        if (p->candidates[c].pd_label) /* disaggregated: its pools' GPUs and TP */
            g_string_append_printf(s, "P/D %s", p->candidates[c].pd_label);
        else
            g_string_append_printf(s, "%s TP%s", VALUE(c, 1), VALUE(c, 2));
        for (guint k = 3; k < ns; k++)
            if (differs[k])
                g_string_append_printf(s, " %s=%s", g_array_index(rows[c], Setting, k).label, VALUE(c, k));
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
        settings_free(rows[c]);
    g_free(rows);
    g_free(differs);
    return ok;
}
