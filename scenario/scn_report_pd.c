/*
 * scn_report_pd.c: what a run's reports say about disaggregation,
 * autoscaling and SLO attainment (docs/output.md): a section of the
 * readable summary and the matching objects of servesim.run/2 JSON
 * ("fleet.disaggregation", the per-pool figures in "fleet.pools",
 * "fleet.scaling"). Nothing is written for a fleet that has none of them,
 * so the reports of other runs are unchanged.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "scn_fleet.h"

static void add_stats(cJSON *obj, const char *name, const SimStats *st)
{
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    cJSON_AddNumberToObject(o, "count", (double)st->count);
    cJSON_AddNumberToObject(o, "mean", st->mean);
    cJSON_AddNumberToObject(o, "p50", st->p50);
    cJSON_AddNumberToObject(o, "p90", st->p90);
    cJSON_AddNumberToObject(o, "p99", st->p99);
    cJSON_AddNumberToObject(o, "max", st->max);
}

/* JSON has no NaN: null. */
static void add_number_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_autoscale(cJSON *o, const ClAutoscaleSpec *a, double provision_s)
{
    cJSON *x = cJSON_AddObjectToObject(o, "autoscale");
    cJSON_AddStringToObject(x, "metric", cl_scale_metric_name(a->metric));
    cJSON_AddNumberToObject(x, "target", a->target);
    cJSON_AddNumberToObject(x, "up_threshold", a->up_threshold);
    cJSON_AddNumberToObject(x, "down_threshold", a->down_threshold);
    cJSON_AddNumberToObject(x, "interval_s", a->interval_s);
    cJSON_AddNumberToObject(x, "up_cooldown_s", a->up_cooldown_s);
    cJSON_AddNumberToObject(x, "down_cooldown_s", a->down_cooldown_s);
    cJSON_AddNumberToObject(x, "min_replicas", a->min_replicas);
    cJSON_AddNumberToObject(x, "max_replicas", a->max_replicas);
    cJSON_AddNumberToObject(x, "provision_s", provision_s);
}

static double pool_provision_s(const ScnBuilt *b, guint p)
{
    const ScnBuiltPool *bp = &b->pools[p];
    return cl_autoscale_provision_s(&bp->autoscale, lat_model_weight_bytes_per_gpu(b->model, bp->tensor_parallel_size));
}

void scn_report_json_pd(cJSON *fleet, const ScnBuilt *b, const ClResult *fr)
{
    if (fr->pools) {
        cJSON *pools = cJSON_GetObjectItemCaseSensitive(fleet, "pools");
        for (guint p = 0; p < fr->num_pools && p < b->num_pools; p++) {
            cJSON *o = cJSON_GetArrayItem(pools, (int)p);
            if (!o)
                continue;
            const ClPoolResult *pr = &fr->pools[p];
            cJSON_AddStringToObject(o, "role", cl_pool_role_name(pr->role));
            if (b->pools[p].autoscale.enabled)
                add_autoscale(o, &b->pools[p].autoscale, pool_provision_s(b, p));
            cJSON_AddNumberToObject(o, "replicas_min", pr->replicas_min);
            cJSON_AddNumberToObject(o, "replicas_mean", pr->replicas_mean);
            cJSON_AddNumberToObject(o, "replicas_max", pr->replicas_max);
            cJSON_AddNumberToObject(o, "gpu_hours", pr->gpu_hours);
            cJSON_AddNumberToObject(o, "scale_ups", pr->scale_ups);
            cJSON_AddNumberToObject(o, "scale_downs", pr->scale_downs);
            cJSON_AddNumberToObject(o, "completed", (double)pr->completed);
            cJSON_AddNumberToObject(o, "handed_off", (double)pr->handed_off);
            add_stats(o, "ttft_ms", &pr->ttft_ms);
            add_stats(o, "tpot_ms", &pr->tpot_ms);
        }
        double gpu_hours = 0;
        for (guint p = 0; p < fr->num_pools; p++)
            gpu_hours += fr->pools[p].gpu_hours;
        cJSON_AddNumberToObject(fleet, "gpu_hours", gpu_hours);
    }
    if (fr->pd) {
        const ClPdResult *pd = fr->pd;
        cJSON *o = cJSON_AddObjectToObject(fleet, "disaggregation");
        cJSON_AddNumberToObject(o, "disaggregated", (double)pd->disaggregated);
        cJSON_AddNumberToObject(o, "whole", (double)pd->whole);
        cJSON_AddNumberToObject(o, "transfers", (double)pd->transfers);
        cJSON_AddNumberToObject(o, "bytes_per_gpu", pd->bytes);
        cJSON *t = cJSON_AddObjectToObject(o, "transfer");
        cJSON_AddStringToObject(t, "link", cl_link_class_name(pd->transfer.link));
        cJSON_AddNumberToObject(t, "bandwidth_gbps", pd->transfer.bandwidth_gbps);
        cJSON_AddNumberToObject(t, "efficiency", pd->transfer.efficiency);
        cJSON_AddNumberToObject(t, "fabric_gbps", pd->transfer.fabric_gbps);
        cJSON_AddNumberToObject(t, "latency_ms", pd->transfer.latency_ms);
        cJSON_AddNumberToObject(t, "per_descriptor_us", pd->transfer.per_descriptor_us);
        cJSON_AddBoolToObject(t, "layerwise", pd->transfer.layerwise);
        add_stats(o, "transfer_mb", &pd->transfer_mb);
        add_stats(o, "transfer_ms", &pd->transfer_ms);
        add_stats(o, "prefill_queue_ms", &pd->prefill_queue_ms);
        add_stats(o, "prefill_ms", &pd->prefill_ms);
        add_stats(o, "kv_wait_ms", &pd->kv_wait_ms);
        add_stats(o, "decode_ms", &pd->decode_ms);
        cJSON *u = cJSON_AddObjectToObject(o, "link_utilisation");
        cJSON_AddNumberToObject(u, "nic_tx_max", pd->nic_tx_util_max);
        cJSON_AddNumberToObject(u, "nic_rx_max", pd->nic_rx_util_max);
        cJSON_AddNumberToObject(u, "nic_rx_mean", pd->nic_rx_util_mean);
        cJSON_AddNumberToObject(u, "fabric", pd->fabric_util);
    }
    if (fr->series) {
        const ClScaleSeries *s = fr->series;
        cJSON *o = cJSON_AddObjectToObject(fleet, "scaling");
        cJSON_AddNumberToObject(o, "window_s", s->window_s);
        cJSON_AddNumberToObject(o, "gpu_hours", s->gpu_hours_total);
        if (s->has_slo) {
            cJSON *slo = cJSON_AddObjectToObject(o, "slo");
            cJSON_AddNumberToObject(slo, "ttft_ms", s->slo.ttft_ms);
            cJSON_AddNumberToObject(slo, "tpot_ms", s->slo.tpot_ms);
        }
        add_number_or_null(o, "slo_attainment", s->slo_attainment);
        cJSON *time = cJSON_AddArrayToObject(o, "time_s");
        cJSON *gpu = cJSON_AddArrayToObject(o, "gpu_hours_per_window");
        cJSON *arrived = cJSON_AddArrayToObject(o, "arrived");
        cJSON *met = cJSON_AddArrayToObject(o, "met_slo");
        cJSON *att = cJSON_AddArrayToObject(o, "slo_attainment_per_window");
        for (guint k = 0; k < s->num_windows; k++) {
            cJSON_AddItemToArray(time, cJSON_CreateNumber(k * s->window_s));
            cJSON_AddItemToArray(gpu, cJSON_CreateNumber(s->gpu_hours[k]));
            cJSON_AddItemToArray(arrived, cJSON_CreateNumber((double)s->arrived[k]));
            cJSON_AddItemToArray(met, cJSON_CreateNumber((double)s->met[k]));
            if (s->has_slo && s->arrived[k])
                cJSON_AddItemToArray(att, cJSON_CreateNumber((double)s->met[k] / (double)s->arrived[k]));
            else
                cJSON_AddItemToArray(att, cJSON_CreateNull());
        }
        cJSON *serving = cJSON_AddObjectToObject(o, "serving");
        for (guint p = 0; p < s->num_pools && p < b->num_pools; p++) {
            cJSON *a = cJSON_AddArrayToObject(serving, b->pools[p].name);
            for (guint k = 0; k < s->num_windows; k++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber(s->serving[k * s->num_pools + p]));
        }
    }
}

static void stage_row(FILE *out, const char *name, const SimStats *st)
{
    if (st->count == 0) {
        fprintf(out, "  %-16s %10s\n", name, "-");
        return;
    }
    fprintf(out, "  %-16s %10.2f %10.2f %10.2f %10.2f %10.2f\n", name, st->mean, st->p50, st->p90, st->p99, st->max);
}

void scn_report_text_pd(FILE *out, const ScnScenario *s, const ScnBuilt *b, const ClResult *fr)
{
    if (fr->pd) {
        const ClPdResult *pd = fr->pd;
        const ClTransferSpec *t = &pd->transfer;
        ClRouterPolicy dp = s->fleet.decode_policy_given ? s->fleet.pd.decode_policy : s->fleet.router.policy;
        fprintf(out, "\ndisaggregation  decider %s", cl_decider_name(s->fleet.pd.decider));
        if (s->fleet.pd.decider == CL_DECIDE_PROMPT_LENGTH || s->fleet.pd.decider == CL_DECIDE_PREFIX_MISS)
            fprintf(out, " (threshold %u tokens)", s->fleet.pd.threshold_tokens);
        fprintf(out, "; decode replica picked %s by %s\n",
                s->fleet.pd.decode_at_arrival || s->fleet.pd.decider == CL_DECIDE_PREFIX_MISS ? "at arrival"
                                                                                              : "at the handoff",
                cl_router_policy_name(dp));
        fprintf(out, "           KV over %s: %g Gb/s per GPU at %.0f%%, %g ms + %g us per descriptor per transfer, ",
                cl_link_class_name(t->link), t->bandwidth_gbps, 100 * t->efficiency, t->latency_ms,
                t->per_descriptor_us);
        if (t->fabric_gbps > 0)
            fprintf(out, "a %g Gb/s fabric shared by all", t->fabric_gbps);
        else
            fprintf(out, "non-blocking fabric");
        fprintf(out, "%s\n", t->layerwise ? ", layer-wise streaming" : "");
        fprintf(out, "           %" G_GUINT64_FORMAT " disaggregated, %" G_GUINT64_FORMAT " whole; %" G_GUINT64_FORMAT
                     " transfers, %.2f GB per GPU (%.1f MB per transfer on average)\n",
                pd->disaggregated, pd->whole, pd->transfers, pd->bytes / 1e9, pd->transfer_mb.mean);
        fprintf(out, "           NIC use over the run: busiest sender %.1f%%, busiest receiver %.1f%%, receivers' "
                     "mean %.1f%%",
                100 * pd->nic_tx_util_max, 100 * pd->nic_rx_util_max, 100 * pd->nic_rx_util_mean);
        if (t->fabric_gbps > 0)
            fprintf(out, ", fabric %.1f%%", 100 * pd->fabric_util);
        fputc('\n', out);
        fprintf(out, "\n  %-16s %10s %10s %10s %10s %10s\n", "stage (ms)", "mean", "p50", "p90", "p99", "max");
        stage_row(out, "prefill queue", &pd->prefill_queue_ms);
        stage_row(out, "prefill", &pd->prefill_ms);
        stage_row(out, "KV wait", &pd->kv_wait_ms);
        stage_row(out, "  of it transfer", &pd->transfer_ms);
        stage_row(out, "decode", &pd->decode_ms);
        fprintf(out, "  (KV wait: from the end of the prefill to the KV on the decode replica: the handoff, the "
                     "decode replica's admission and the transfer)\n");
    }
    if (fr->pools) {
        double total = 0;
        for (guint p = 0; p < fr->num_pools; p++)
            total += fr->pools[p].gpu_hours;
        fprintf(out, "\n  %-10s %-7s %15s %8s %5s %5s %9s %9s %9s %9s %9s\n", "pool", "role", "replicas min/mean/max",
                "GPU-h", "ups", "downs", "completed", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99");
        for (guint p = 0; p < fr->num_pools && p < b->num_pools; p++) {
            const ClPoolResult *pr = &fr->pools[p];
            char reps[48];
            g_snprintf(reps, sizeof reps, "%u/%.2f/%u", pr->replicas_min, pr->replicas_mean, pr->replicas_max);
            fprintf(out, "  %-10.10s %-7s %15s %8.2f %5u %5u %9" G_GUINT64_FORMAT, b->pools[p].name,
                    cl_pool_role_name(pr->role), reps, pr->gpu_hours, pr->scale_ups, pr->scale_downs, pr->completed);
            if (pr->ttft_ms.count)
                fprintf(out, " %9.2f %9.2f %9.2f %9.2f\n", pr->ttft_ms.p50, pr->ttft_ms.p99, pr->tpot_ms.p50,
                        pr->tpot_ms.p99);
            else
                fprintf(out, " %9s %9s %9s %9s\n", "-", "-", "-", "-");
        }
        fprintf(out, "  GPU-hours %.2f over the run\n", total);
    }
    if (fr->series) {
        const ClScaleSeries *se = fr->series;
        fprintf(out, "\nscaling    %.2f GPU-hours over %u windows of %g s", se->gpu_hours_total, se->num_windows,
                se->window_s);
        if (se->has_slo) {
            fprintf(out, "; SLO (");
            const char *sep = "";
            if (se->slo.ttft_ms > 0) {
                fprintf(out, "TTFT <= %g ms", se->slo.ttft_ms);
                sep = ", ";
            }
            if (se->slo.tpot_ms > 0)
                fprintf(out, "%sTPOT <= %g ms", sep, se->slo.tpot_ms);
            fprintf(out, ") met by %.2f%% of the requests", 100 * se->slo_attainment);
            double worst = INFINITY;
            guint wk = 0;
            for (guint k = 0; k < se->num_windows; k++)
                if (se->arrived[k] && (double)se->met[k] / se->arrived[k] < worst) {
                    worst = (double)se->met[k] / se->arrived[k];
                    wk = k;
                }
            if (isfinite(worst))
                fprintf(out, "; worst window %.1f%% at %.0f s", 100 * worst, wk * se->window_s);
        }
        fputc('\n', out);
    }
}
