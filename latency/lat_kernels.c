/*
 * lat_kernels.c: kernel times from measured tables, on any GPU (see
 * lat_kernels.h for the transfer rule).
 *
 * GEMMs: the nearest measured shape (k', n') of the first donor that has a
 * table of the GEMM's precision is looked up at the same number of output
 * tiles, x = m·n/n'. Each measured row becomes a point of the target's
 * curve, t = t_measured(x) · R_target(m, k, n) / R_donor(x, k', n'); the
 * points are lowered to their monotone envelope; between points the time is
 * interpolated linearly in m, below the first it is the first point's (the
 * kernel runs padded), beyond the last it grows with the target's roofline.
 * Attention: prefill keyed by the sequence length of equal causal work,
 * decode by (batch, mean KV length); the compute side transfers with the
 * peaks, the KV read with the bandwidth.
 *
 * Cost: a GEMM curve is O(table rows) to build; a lookup is a binary search.
 */
#include "lat_kernels.h"

#include <math.h>
#include <string.h>

void lat_roof_init(LatRoof *r, const LatHardware *hw, double compute_scale, double bw_scale)
{
    r->peak_bf16 = hw->bf16_tflops * 1e12 * compute_scale;
    r->peak_fp8 = hw->fp8_tflops * 1e12 * compute_scale;
    r->bw = hw->mem_bw_tbs * 1e12 * bw_scale;
}

static double peak_of(const LatHardware *hw, LatPrecision prec)
{
    double p = prec == LAT_PREC_FP8 && hw->fp8_tflops > 0 ? hw->fp8_tflops : hw->bf16_tflops;
    return p * 1e12;
}

/* --------------------------------------------------------------- GEMM -- */

double lat_gemm_flops(const LatGemmCurve *g, double m) { return 2.0 * m * g->k * g->n; }

double lat_gemm_bytes(const LatGemmCurve *g, double m)
{
    return (double)g->k * g->n * g->weight_bytes + m * ((double)g->k + g->n) * g->act_bytes;
}

LatGemmFormat lat_gemm_format(const LatModelDesc *m, gboolean sixteen_bit)
{
    if (sixteen_bit || (!m->fp8_weights && !m->weight_only))
        return (LatGemmFormat){2.0, FALSE, FALSE};
    return (LatGemmFormat){m->fp8_weights ? 1.0 : m->weight_bytes, m->fp8_weights, m->weight_only};
}

void lat_gemm_curve_init(LatGemmCurve *g, guint k, guint n, gboolean fp8_weights, double act_bytes,
                         const LatHardware *hw, const LatRoof *roof, const LatHardware *const *donors,
                         const LatMfuDb *const *dbs, guint ndonors, const LatParams *p)
{
    LatGemmFormat fmt = {fp8_weights ? 1.0 : 2.0, fp8_weights, FALSE};
    lat_gemm_curve_init_format(g, k, n, fmt, act_bytes, hw, roof, donors, dbs, ndonors, p);
}

void lat_gemm_curve_init_format(LatGemmCurve *g, guint k, guint n, LatGemmFormat fmt, double act_bytes,
                                const LatHardware *hw, const LatRoof *roof, const LatHardware *const *donors,
                                const LatMfuDb *const *dbs, guint ndonors, const LatParams *p)
{
    memset(g, 0, sizeof *g);
    g->k = k;
    g->n = n;
    g->act_bytes = act_bytes;
    g->weight_bytes = fmt.weight_bytes;
    g->prec = fmt.fp8 && hw->fp8_tflops > 0 ? LAT_PREC_FP8 : LAT_PREC_BF16;
    /* dequantized in the kernel: integer weight-only formats, and FP8
     * weights on a GPU without FP8 tensor cores (vLLM's FP8 Marlin) */
    g->weight_only = fmt.weight_only || (fmt.fp8 && g->prec != LAT_PREC_FP8);
    double peak_t = g->prec == LAT_PREC_FP8 ? roof->peak_fp8 : roof->peak_bf16;
    if (g->weight_only)
        peak_t *= p->woq_compute_efficiency;
    g->peak = peak_t;
    g->bw = roof->bw;

    LatPrecision table_prec = g->prec;
    for (guint i = 0; i < ndonors && !g->curve; i++) {
        g->curve = lat_mfu_gemm_curve_prec(dbs[i], table_prec, k, n, &g->exact);
        g->donor = donors[i];
    }
    if (!g->curve) {
        g->estimated = TRUE;
        g->donor = NULL;
        g->v1_rate = peak_t * p->v1_mfu;
        g->v1_bw = roof->bw * p->bw_efficiency;
        return;
    }
    guint tk, tn, unused;
    lat_mfu_curve_shape(g->curve, &tk, &tn, &unused);
    g->m_scale = (double)n / tn;
    double peak_d = peak_of(g->donor, table_prec);
    double bw_d = g->donor->mem_bw_tbs * 1e12;
    double wb_d = table_prec == LAT_PREC_FP8 ? 1.0 : 2.0;
    guint np = lat_mfu_curve_num_points(g->curve);
    g->m = g_new(double, np);
    g->t = g_new(double, np);
    g->npts = np;
    for (guint i = 0; i < np; i++) {
        double x = lat_mfu_curve_point_x(g->curve, i);
        double f_d = 2.0 * x * tk * tn;
        double t_d = f_d / lat_mfu_curve_point_rate_monotone(g->curve, i);
        double r_d = MAX(f_d / peak_d, ((double)tk * tn * wb_d + x * ((double)tk + tn) * 2.0) / bw_d);
        double m = x / g->m_scale;
        double r_t = MAX(lat_gemm_flops(g, m) / peak_t, lat_gemm_bytes(g, m) / roof->bw);
        g->m[i] = m;
        g->t[i] = t_d * r_t / r_d;
    }
    for (guint i = np - 1; i-- > 0;)
        g->t[i] = MIN(g->t[i], g->t[i + 1]);
}

void lat_gemm_curve_clear(LatGemmCurve *g)
{
    g_free(g->m);
    g_free(g->t);
    g->m = g->t = NULL;
    g->npts = 0;
}

double lat_gemm_curve_time(const LatGemmCurve *g, double m, char *src, gsize src_len)
{
    if (m <= 0)
        return 0.0;
    if (g->estimated) {
        if (src)
            g_snprintf(src, src_len, "estimated: no GEMM table on any GPU (roofline-v1: %.0f TFLOP/s, %.2f TB/s)",
                       g->v1_rate / 1e12, g->v1_bw / 1e12);
        return MAX(lat_gemm_flops(g, m) / g->v1_rate, lat_gemm_bytes(g, m) / g->v1_bw);
    }
    const double *M = g->m, *T = g->t;
    guint n = g->npts;
    double t;
    if (m <= M[0]) {
        t = T[0];
    } else if (m >= M[n - 1]) {
        /* beyond the table: the last point's fraction of the roofline */
        double r_last = MAX(lat_gemm_flops(g, M[n - 1]) / g->peak, lat_gemm_bytes(g, M[n - 1]) / g->bw);
        double r_m = MAX(lat_gemm_flops(g, m) / g->peak, lat_gemm_bytes(g, m) / g->bw);
        t = T[n - 1] * r_m / r_last;
    } else {
        guint lo = 0, hi = n - 1;
        while (hi - lo > 1) {
            guint mid = (lo + hi) / 2;
            if (M[mid] <= m)
                lo = mid;
            else
                hi = mid;
        }
        double w = (m - M[lo]) / (M[hi] - M[lo]);
        t = T[lo] * (1.0 - w) + T[hi] * w;
    }
    if (src) {
        guint tk, tn, unused;
        lat_mfu_curve_shape(g->curve, &tk, &tn, &unused);
        char wo[96] = "";
        if (g->weight_only)
            g_snprintf(wo, sizeof wo, ", weight-only at %.3g bytes/weight (woq_compute_efficiency)",
                       g->weight_bytes);
        g_snprintf(src, src_len, "%s k=%u n=%u%s%s%s", lat_mfu_curve_file(g->curve), tk, tn,
                   g->exact ? "" : " (nearest shape)", m > M[n - 1] ? ", beyond the table" : "", wo);
    }
    return t;
}

/* --------------------------------------------------------- attention -- */

static gint dbl_cmp(gconstpointer x, gconstpointer y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(GArray *v)
{
    if (v->len == 0)
        return 0.0;
    g_array_sort(v, dbl_cmp);
    return g_array_index(v, double, v->len / 2);
}

/* t(b, S) = alpha(b) + beta * S from the decode grid (see lat_kernels.h). */
static void decode_fit(LatAttn *a)
{
    guint nb, nk;
    const double *bs = lat_mfu_grid_batches(a->decode, &nb);
    const double *ks = lat_mfu_grid_kv_lengths(a->decode, &nk);
    GArray *per_token = g_array_new(FALSE, FALSE, sizeof(double));
    GArray *all = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < nb; i++)
        for (guint j = 0; j < nk; j++) {
            double s = bs[i] * ks[j];
            double f = lat_flops_attn_decode(a->kind, a->dec_tab_h, a->dec_dh, a->dec_rope, s);
            double t = f / lat_mfu_grid_rate_monotone(a->decode, bs[i], ks[j], NULL, 0);
            g_array_append_val(all, t);
            if (bs[i] >= 16) {
                double pt = t / s;
                g_array_append_val(per_token, pt);
            }
        }
    if (per_token->len == 0) /* no large batches: the table's smallest per-token time */
        for (guint i = 0; i < nb; i++)
            for (guint j = 0; j < nk; j++) {
                double pt = g_array_index(all, double, i * nk + j) / (bs[i] * ks[j]);
                g_array_append_val(per_token, pt);
            }
    a->dec_beta = median(per_token);
    a->dec_nb = nb;
    a->dec_b = g_new(double, nb);
    a->dec_alpha = g_new(double, nb);
    GArray *rest = g_array_new(FALSE, FALSE, sizeof(double));
    double prev = 0;
    for (guint i = 0; i < nb; i++) {
        g_array_set_size(rest, 0);
        for (guint j = 0; j < nk; j++) {
            double r = g_array_index(all, double, i * nk + j) - a->dec_beta * bs[i] * ks[j];
            g_array_append_val(rest, r);
        }
        double al = MAX(median(rest), prev);
        a->dec_b[i] = bs[i];
        a->dec_alpha[i] = al;
        prev = al;
    }
    g_array_free(rest, TRUE);
    g_array_free(per_token, TRUE);
    g_array_free(all, TRUE);
}

void lat_attn_init(LatAttn *a, const LatModelDesc *m, guint tp, const LatHardware *const *donors,
                   const LatMfuDb *const *dbs, guint ndonors)
{
    memset(a, 0, sizeof *a);
    guint h_gpu = m->num_heads / tp;
    guint kv_gpu = (m->num_kv_heads + tp - 1) / tp;
    a->n_h_gpu = h_gpu;
    guint pa, pb, pc; /* prefill lookup key */
    if (m->kv_lora_rank > 0) {
        a->kind = LAT_ATTN_MLA;
        a->d_qk = m->qk_nope_head_dim + m->qk_rope_head_dim;
        a->d_v = m->v_head_dim;
        a->dec_dh = m->kv_lora_rank;
        a->dec_rope = m->qk_rope_head_dim;
        a->kv_bytes_token = (m->kv_lora_rank + m->qk_rope_head_dim) * m->kv_bytes;
        pa = m->num_heads;
        pb = m->qk_nope_head_dim;
        pc = m->qk_rope_head_dim;
    } else {
        a->kind = LAT_ATTN_MHA;
        a->d_qk = a->d_v = a->dec_dh = m->head_dim;
        a->kv_bytes_token = 2.0 * kv_gpu * m->head_dim * m->kv_bytes;
        pa = m->num_heads;
        pb = m->num_kv_heads;
        pc = m->head_dim;
    }
    for (guint i = 0; i < ndonors && !a->prefill; i++) {
        a->prefill = lat_mfu_attn_prefill_curve(dbs[i], a->kind, pa, pb, pc, tp, &a->prefill_exact);
        a->prefill_donor = donors[i];
    }
    guint da = pa, db_ = a->kind == LAT_ATTN_MLA ? m->kv_lora_rank : pb, dc = pc;
    for (guint i = 0; i < ndonors && !a->decode; i++) {
        a->decode = lat_mfu_attn_decode_grid(dbs[i], a->kind, da, db_, dc, tp, &a->decode_exact);
        a->decode_donor = donors[i];
    }
    if (a->decode) {
        lat_mfu_grid_heads(a->decode, &a->dec_tab_h, &a->dec_tab_kv, NULL);
        decode_fit(a);
    }
}

void lat_attn_clear(LatAttn *a)
{
    g_free(a->dec_b);
    g_free(a->dec_alpha);
    a->dec_b = a->dec_alpha = NULL;
}

double lat_attn_prefill_time(const LatAttn *a, const LatRoof *roof, const LatParams *p, double t, double cached,
                             char *src, gsize src_len, double *flops, double *bytes)
{
    double f = lat_flops_attn_prefill(a->kind, a->n_h_gpu, a->d_qk, a->d_v, t, cached);
    double b = a->kv_bytes_token * (t + cached);
    if (flops)
        *flops = f;
    if (bytes)
        *bytes = b;
    double tc, tm = b / (roof->bw * p->bw_efficiency);
    if (a->prefill) {
        double s_eq = sqrt(t * t + 2.0 * t * cached);
        double rate = lat_mfu_curve_rate_monotone(a->prefill, s_eq, src, src_len);
        tc = f / rate * (a->prefill_donor->bf16_tflops * 1e12) / roof->peak_bf16;
        if (src) {
            gsize l = strlen(src);
            g_snprintf(src + l, src_len - l, "; at S=%.0f (t=%.0f after %.0f cached)%s", s_eq, t, cached,
                       a->prefill_exact ? "" : "; nearest shape");
        }
    } else {
        tc = f / (roof->peak_bf16 * p->v1_mfu);
        if (src)
            g_snprintf(src, src_len, "estimated: no prefill-attention table; MFU %.2f", p->v1_mfu);
    }
    return MAX(tc, tm);
}

double lat_attn_pairs(double t, double cached, double window)
{
    double full = t * cached + 0.5 * t * t;
    if (window <= 0)
        return full;
    /* the pairs of queries beyond the window: each query at position x > w
     * misses x - w keys; in the same continuous form as t·p + t²/2 */
    double u0 = MAX(cached, window), u1 = MAX(cached + t, window);
    return full - 0.5 * ((u1 - window) * (u1 - window) - (u0 - window) * (u0 - window));
}

double lat_attn_prefill_time_window(const LatAttn *a, const LatRoof *roof, const LatParams *p, double t,
                                    double cached, double window, char *src, gsize src_len, double *flops,
                                    double *bytes)
{
    double full = t * cached + 0.5 * t * t;
    double pairs = lat_attn_pairs(t, cached, window);
    if (window <= 0 || pairs >= full)
        return lat_attn_prefill_time(a, roof, p, t, cached, src, src_len, flops, bytes);
    double f = lat_flops_attn_prefill(a->kind, a->n_h_gpu, a->d_qk, a->d_v, t, cached) * (pairs / full);
    double b = a->kv_bytes_token * (t + MIN(cached, window - 1.0));
    if (flops)
        *flops = f;
    if (bytes)
        *bytes = b;
    double tc, tm = b / (roof->bw * p->bw_efficiency);
    double s_eq = sqrt(2.0 * pairs);
    if (a->prefill) {
        double rate = lat_mfu_curve_rate_monotone(a->prefill, s_eq, src, src_len);
        tc = f / rate * (a->prefill_donor->bf16_tflops * 1e12) / roof->peak_bf16;
        if (src) {
            gsize l = strlen(src);
            g_snprintf(src + l, src_len - l, "; window %.0f: at S=%.0f (t=%.0f after %.0f cached)%s", window, s_eq,
                       t, cached, a->prefill_exact ? "" : "; nearest shape");
        }
    } else {
        tc = f / (roof->peak_bf16 * p->v1_mfu);
        if (src)
            g_snprintf(src, src_len, "estimated: no prefill-attention table; MFU %.2f; window %.0f", p->v1_mfu,
                       window);
    }
    return MAX(tc, tm);
}

/* The decode-attention kernel (lat_kernels.h); inlined in both entry points
 * so that the one without drafts computes nothing for them. */
static G_ALWAYS_INLINE inline double decode_time(const LatAttn *a, const LatRoof *roof, const LatParams *p,
                                                 double num, double sum_kv, double spec, char *src, gsize src_len,
                                                 double *flops, double *bytes)
{
    if (num <= 0)
        return 0.0;
    /* each request reads its KV once for its 1 + spec_i query tokens */
    double queries = spec > 0 ? (num + spec) / num : 1.0;
    double f = lat_flops_attn_decode(a->kind, a->n_h_gpu, a->dec_dh, a->dec_rope, sum_kv) * queries;
    double b = a->kv_bytes_token * sum_kv;
    if (flops)
        *flops = f;
    if (bytes)
        *bytes = b;
    if (!a->decode) {
        if (src)
            g_snprintf(src, src_len, "estimated: no decode-attention table; MFU %.2f, bandwidth x %.2f", p->v1_mfu,
                       p->bw_efficiency);
        return MAX(f / (roof->peak_bf16 * p->v1_mfu), b / (roof->bw * p->bw_efficiency));
    }
    double f_tab = lat_flops_attn_decode(a->kind, a->dec_tab_h, a->dec_dh, a->dec_rope, sum_kv); /* one query */
    double kvb_tab = a->kind == LAT_ATTN_MLA ? a->kv_bytes_token : 2.0 * MAX(a->dec_tab_kv, 1u) * a->dec_dh * 2.0;
    double b_tab = kvb_tab * sum_kv;
    const LatHardware *d = a->decode_donor;
    double r_d = MAX(f_tab / (d->bf16_tflops * 1e12), b_tab / (d->mem_bw_tbs * 1e12));
    double r_t = MAX(f / roof->peak_bf16, b / roof->bw);
    /* alpha at `num` requests: linear between rows, flat beyond the ends */
    const double *B = a->dec_b, *A = a->dec_alpha;
    guint n = a->dec_nb;
    double alpha;
    if (num <= B[0])
        alpha = A[0];
    else if (num >= B[n - 1])
        alpha = A[n - 1];
    else {
        guint i = 0;
        while (i + 2 < n && B[i + 1] <= num)
            i++;
        double w = (num - B[i]) / (B[i + 1] - B[i]);
        alpha = A[i] * (1.0 - w) + A[i + 1] * w;
    }
    double stream = a->dec_beta * sum_kv * r_t / r_d;
    if (src) {
        g_snprintf(src, src_len, "%s: %.1f us per batch of %g + %.3g ns per KV token (fitted to the table)",
                   lat_mfu_grid_file(a->decode), alpha * 1e6, num, a->dec_beta * 1e9 * r_t / r_d);
        if (!a->decode_exact) {
            gsize l = strlen(src);
            g_snprintf(src + l, src_len - l, "; nearest shape");
        }
    }
    return alpha + stream;
}

double lat_attn_decode_time(const LatAttn *a, const LatRoof *roof, const LatParams *p, double num, double sum_kv,
                            double kv_max, char *src, gsize src_len, double *flops, double *bytes)
{
    (void)kv_max;
    return decode_time(a, roof, p, num, sum_kv, 0.0, src, src_len, flops, bytes);
}

double lat_attn_decode_time_spec(const LatAttn *a, const LatRoof *roof, const LatParams *p, double num,
                                 double sum_kv, double spec, char *src, gsize src_len, double *flops,
                                 double *bytes)
{
    return decode_time(a, roof, p, num, sum_kv, spec, src, src_len, flops, bytes);
}

/* ------------------------------------------------------ communication -- */

void lat_comm_init(LatComm *c, const LatHardware *hw, guint tp, const LatHardware *const *donors,
                   const LatMfuDb *const *dbs, guint ndonors)
{
    memset(c, 0, sizeof *c);
    c->tp = tp;
    c->pcie = hw->interconnect && g_ascii_strncasecmp(hw->interconnect, "PCIe", 4) == 0;
    c->link_bps = hw->link_gbs_per_dir * 1e9;
    if (c->pcie || tp < 2)
        return;
    for (guint i = 0; i < ndonors && !c->table; i++) {
        if (!lat_mfu_db_has_allreduce(dbs[i], tp))
            continue;
        const LatHardware *d = donors[i];
        if (d->interconnect && g_ascii_strncasecmp(d->interconnect, "PCIe", 4) == 0)
            continue;
        c->table = dbs[i];
        c->table_hw = d;
    }
}

double lat_comm_allreduce_time(const LatComm *c, const LatParams *p, double bytes, char *src, gsize src_len)
{
    if (c->tp < 2 || bytes <= 0)
        return 0.0;
    double ring = 2.0 * (c->tp - 1) / c->tp * bytes;
    if (c->pcie) {
        if (src)
            g_snprintf(src, src_len, "NCCL over PCIe: %g us + ring bytes / (%g GB/s x %.2f)",
                       p->pcie_allreduce_latency_us, c->link_bps / 1e9, p->pcie_link_efficiency);
        return p->pcie_allreduce_latency_us * 1e-6 + ring / (c->link_bps * p->pcie_link_efficiency);
    }
    double custom = p->allreduce_latency_us * 1e-6 + ring / (c->link_bps * p->link_efficiency);
    if (bytes <= p->custom_allreduce_max_mib * 1048576.0) {
        if (src)
            g_snprintf(src, src_len, "custom all-reduce (NVLink): %g us + ring bytes / (%g GB/s x %.2f)",
                       p->allreduce_latency_us, c->link_bps / 1e9, p->link_efficiency);
        return custom;
    }
    if (!c->table) {
        if (src)
            g_snprintf(src, src_len, "NCCL (NVLink), no measured table: %g us + ring bytes / (%g GB/s x %.2f)",
                       p->allreduce_latency_us, c->link_bps / 1e9, p->link_efficiency);
        return custom;
    }
    double us = lat_mfu_allreduce_us(c->table, c->tp, bytes, NULL);
    double t = us * 1e-6 * (c->table_hw->link_gbs_per_dir * 1e9) / c->link_bps;
    if (src)
        g_snprintf(src, src_len, "NCCL, measured: %s (%u GPUs of %s)%s", lat_mfu_allreduce_file(c->table), c->tp,
                   c->table_hw->name, c->table_hw->link_gbs_per_dir * 1e9 != c->link_bps ? ", scaled by link bandwidth" : "");
    return MAX(t, custom);
}

/* ---------------------------------------------------- elementwise ops -- */

double lat_elementwise_time(const LatRoof *roof, const LatParams *p, double bytes)
{
    if (bytes <= 0)
        return 0.0;
    return p->kernel_floor_us * 1e-6 + bytes / (roof->bw * p->elementwise_efficiency);
}
