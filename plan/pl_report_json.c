/*
 * pl_report_json.c: the capacity plan as plan.json (schema "servesim.plan/2",
 * written with cJSON; see docs/planning-report.md): every field of the
 * PlPlanResult, the candidates in plan order with their load levels and the
 * fleets simulated, the ranking, and the autoscale comparison
 * (pl_report_scale.c) when the plan has one. Non-finite numbers are null;
 * strings are made valid UTF-8; the seed is written exactly (above 2^53
 * too). Same result, same bytes.
 */
#include <math.h>

#include "pl_report_internal.h"

void pl_json_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void json_str(cJSON *o, const char *key, const char *s)
{
    if (!s) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char *valid = g_utf8_make_valid(s, -1);
    cJSON_AddStringToObject(o, key, valid);
    g_free(valid);
}

static cJSON *json_point(const PlReport *rp, const PlLoadPoint *p)
{
    cJSON *o = cJSON_CreateObject();
    pl_json_num(o, "rate", p->rate);
    pl_json_num(o, "achieved_rate", p->achieved_rate);
    pl_json_num(o, "output_tokens_per_s", p->output_tokens_per_s);
    pl_json_num(o, "ttft_p50_ms", p->ttft_p50_ms);
    pl_json_num(o, "ttft_p99_ms", p->ttft_p99_ms);
    pl_json_num(o, "tpot_p50_ms", p->tpot_p50_ms);
    pl_json_num(o, "tpot_p99_ms", p->tpot_p99_ms);
    cJSON *vals = cJSON_AddArrayToObject(o, "slo_values");
    for (guint k = 0; k < rp->num_slos; k++)
        cJSON_AddItemToArray(vals,
                             isfinite(p->slo_values[k]) ? cJSON_CreateNumber(p->slo_values[k]) : cJSON_CreateNull());
    pl_json_num(o, "queue_growth_ms", p->queue_growth_ms);
    pl_json_num(o, "queue_growth_rate", p->queue_growth_rate);
    cJSON_AddBoolToObject(o, "meets_slos", p->meets_slos);
    cJSON_AddBoolToObject(o, "stable", p->stable);
    cJSON_AddBoolToObject(o, "sustained", pl_load_point_sustained(p));
    return o;
}

static cJSON *json_candidate(const PlReport *rp, guint idx)
{
    const PlCandidateResult *c = &rp->r->candidates[idx];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", idx);
    json_str(o, "name", c->name);
    json_str(o, "hardware", c->hardware);
    json_str(o, "latency_basis", c->latency_basis);
    json_str(o, "model", c->model);
    cJSON_AddNumberToObject(o, "tensor_parallel_size", c->tensor_parallel_size);
    cJSON_AddNumberToObject(o, "max_num_seqs", c->max_num_seqs);
    cJSON_AddNumberToObject(o, "max_num_batched_tokens", c->max_num_batched_tokens);
    pl_json_num(o, "price_per_gpu_hour", c->price_per_gpu_hour);
    cJSON_AddBoolToObject(o, "feasible", c->feasible);
    json_str(o, "error", c->error);
    cJSON_AddNumberToObject(o, "rank", c->rank);
    cJSON_AddBoolToObject(o, "recommended", c == rp->best);
    pl_json_num(o, "max_rate", c->max_rate);
    pl_json_num(o, "max_rate_upper", c->max_rate_upper);
    cJSON_AddBoolToObject(o, "max_rate_is_bound", c->max_rate_is_bound);
    json_str(o, "binding", c->binding);
    cJSON_AddNumberToObject(o, "evaluations", c->evaluations);
    cJSON_AddNumberToObject(o, "replicas", c->replicas);
    cJSON_AddNumberToObject(o, "replicas_by_division", c->replicas_by_division);
    if (c->disaggregated) {
        cJSON *d = cJSON_AddObjectToObject(o, "disaggregated");
        json_str(d, "prefill_hardware", c->prefill_hardware);
        cJSON_AddNumberToObject(d, "prefill_tensor_parallel_size", c->prefill_tp);
        pl_json_num(d, "prefill_price_per_gpu_hour", c->prefill_price);
        cJSON_AddNumberToObject(d, "prefill_replicas", c->prefill_replicas);
        json_str(d, "decode_hardware", c->decode_hardware);
        cJSON_AddNumberToObject(d, "decode_tensor_parallel_size", c->decode_tp);
        pl_json_num(d, "decode_price_per_gpu_hour", c->decode_price);
        cJSON_AddNumberToObject(d, "decode_replicas", c->decode_replicas);
    }
    json_str(o, "router", c->router);
    cJSON_AddNumberToObject(o, "fleet_evaluations", c->fleet_evaluations);
    cJSON *trials = cJSON_AddArrayToObject(o, "fleets");
    for (guint i = 0; i < c->num_trials; i++) {
        const PlFleetTrial *t = &c->trials[i];
        cJSON *to = cJSON_CreateObject();
        cJSON_AddNumberToObject(to, "replicas", t->replicas);
        if (c->disaggregated) {
            cJSON_AddNumberToObject(to, "prefill_replicas", t->prefill_replicas);
            cJSON_AddNumberToObject(to, "decode_replicas", t->decode_replicas);
            pl_json_num(to, "cost_per_hour", t->cost_per_hour);
        }
        cJSON_AddNumberToObject(to, "num_requests", t->num_requests);
        cJSON_AddBoolToObject(to, "sustained", t->meets_slos && t->stable);
        cJSON_AddBoolToObject(to, "meets_slos", t->meets_slos);
        cJSON_AddBoolToObject(to, "stable", t->stable);
        pl_json_num(to, "achieved_rate", t->achieved_rate);
        pl_json_num(to, "ttft_p99_ms", t->ttft_p99_ms);
        pl_json_num(to, "tpot_p99_ms", t->tpot_p99_ms);
        pl_json_num(to, "queue_growth_ms", t->queue_growth_ms);
        pl_json_num(to, "imbalance", t->imbalance);
        pl_json_num(to, "jain_index", t->jain_index);
        pl_json_num(to, "prefix_hit_rate", t->prefix_hit_rate);
        cJSON *sv = cJSON_AddArrayToObject(to, "slo_values");
        for (guint k = 0; k < rp->r->num_slos; k++)
            cJSON_AddItemToArray(sv, cJSON_CreateNumber(t->slo_values[k]));
        cJSON_AddItemToArray(trials, to);
    }
    cJSON_AddNumberToObject(o, "gpus", c->gpus);
    pl_json_num(o, "cost_per_hour", c->cost_per_hour);
    pl_json_num(o, "cost_per_million_output_tokens", c->cost_per_million_output_tokens);
    pl_json_num(o, "output_tokens_per_s_at_target", c->output_tokens_per_s_at_target);
    json_str(o, "verdict", c->verdict);
    cJSON *curve = cJSON_AddArrayToObject(o, "curve");
    for (guint i = 0; c->curve && i < c->num_curve; i++)
        cJSON_AddItemToArray(curve, json_point(rp, &c->curve[i]));
    return o;
}

char *pl_report_json(const PlPlanResult *r)
{
    g_return_val_if_fail(r != NULL, NULL); /* a contract: pl_plan_run never returns NULL */
    PlReport rp;
    pl_report_init(&rp, r);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "servesim.plan/2");
    json_str(root, "name", r->name);
    json_str(root, "description", r->description);
    json_str(root, "workload", r->workload);
    pl_json_num(root, "mean_output_tokens", r->mean_output_tokens);
    pl_json_num(root, "target_rate", r->target_rate);
    pl_json_num(root, "tolerance", r->tolerance);
    pl_json_num(root, "max_queue_growth_ms", r->max_queue_growth_ms);
    pl_json_num(root, "max_queue_growth_rate", r->max_queue_growth_rate);
    cJSON_AddNumberToObject(root, "num_requests", r->num_requests);
    cJSON_AddNumberToObject(root, "max_replicas", r->max_replicas);
    json_str(root, "router", r->router);
    /* exact, even above 2^53 */
    char seed[32];
    g_snprintf(seed, sizeof seed, "%" G_GUINT64_FORMAT, r->seed);
    cJSON_AddRawToObject(root, "seed", seed);
    cJSON *slos = cJSON_AddArrayToObject(root, "slos");
    for (guint k = 0; k < r->num_slos; k++) {
        const PlSlo *s = &r->slos[k];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddStringToObject(so, "metric", pl_slo_metric_name(s->metric));
        cJSON_AddStringToObject(so, "stat", pl_stat_name(s->stat));
        pl_json_num(so, "max_ms", s->max_ms);
        char *label = pl_slo_text(s);
        json_str(so, "label", label);
        g_free(label);
        cJSON_AddItemToArray(slos, so);
    }
    if (rp.best) {
        cJSON_AddNumberToObject(root, "recommended", r->recommended);
        json_str(root, "recommended_name", rp.best->name);
    } else {
        cJSON_AddNullToObject(root, "recommended");
        cJSON_AddNullToObject(root, "recommended_name");
    }
    cJSON *ranking = cJSON_AddArrayToObject(root, "ranking");
    for (guint k = 0; k < r->num_candidates; k++)
        cJSON_AddItemToArray(ranking, cJSON_CreateNumber(rp.order[k]));
    cJSON *cands = cJSON_AddArrayToObject(root, "candidates");
    for (guint i = 0; i < r->num_candidates; i++)
        cJSON_AddItemToArray(cands, json_candidate(&rp, i));
    pl_report_scale_json(root, r);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    pl_report_clear(&rp);
    char *out = g_strdup_printf("%s\n", text);
    cJSON_free(text);
    return out;
}
