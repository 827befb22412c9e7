/*
 * lat_hardware.c: the GPU table (data/hardware.json).
 *
 * What it models: datasheet figures of each GPU: dense BF16 and FP8 peaks,
 * HBM bandwidth, memory size, interconnect bandwidth, and the folder of its
 * MFU tables (data/mfu/<folder>) when it has measured ones. Efficiency factors
 * are not datasheet facts and live in LatParams instead.
 *
 * The table also says which GPU's measured tables time the kernels of a GPU
 * that has none of its own (lat_hardware_table_donors): its own first, then
 * the other GPUs with tables by nearest CUDA compute capability (the same
 * architecture first: the same tensor-core instructions and kernels; Ada,
 * 8.9, is nearer Hopper, 9.0, with which it shares FP8 tensor cores, than
 * Ampere, 8.0), ties going to the newer architecture, then by nearest ratio
 * of BF16 peak to bandwidth (the roofline's ridge point, on a log scale,
 * rounded to 0.01), then file order.
 *
 * Cost: one JSON parse per load; lookups are a linear scan over about ten
 * entries (case-insensitive name match). The table is immutable once loaded.
 */
#include <math.h>
#include <string.h>

#include "lat.h"
#include "lat_internal.h"
#include "ss_error.h"

struct LatHardwareTable {
    GPtrArray *gpus; /* LatHardware*, in file order */
};

static void hardware_free(gpointer p)
{
    LatHardware *h = p;
    if (!h)
        return;
    g_free(h->name);
    g_free(h->interconnect);
    g_free(h->mfu_tables);
    g_free(h->architecture);
    g_free(h->source);
    g_free(h);
}

void lat_hardware_table_free(LatHardwareTable *t)
{
    if (!t)
        return;
    g_ptr_array_free(t->gpus, TRUE);
    g_free(t);
}

static LatHardware *read_gpu(const cJSON *g, const char *path, guint index, GError **error)
{
    LatHardware *h = g_new0(LatHardware, 1);
    char *where = g_strdup_printf("%s: gpus[%u]", path, index);
    if (!cJSON_IsObject(g)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: expected an object", where);
        goto fail;
    }
    if (!lat_json_string(g, "name", where, TRUE, &h->name, error))
        goto fail;
    if (!*h->name) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field 'name': expected a non-empty string", where);
        goto fail;
    }
    g_free(where);
    where = g_strdup_printf("%s: gpus[%u] ('%s')", path, index, h->name);
    if (!lat_json_number(g, "bf16_tflops", where, TRUE, TRUE, &h->bf16_tflops, NULL, error) ||
        !lat_json_number(g, "fp8_tflops", where, FALSE, TRUE, &h->fp8_tflops, NULL, error) ||
        !lat_json_number(g, "mem_bw_tbs", where, TRUE, TRUE, &h->mem_bw_tbs, NULL, error) ||
        !lat_json_number(g, "mem_gb", where, TRUE, TRUE, &h->mem_gb, NULL, error) ||
        !lat_json_number(g, "mem_runtime_gib", where, FALSE, TRUE, &h->mem_runtime_gib, NULL, error) ||
        !lat_json_number(g, "link_gbs_per_dir", where, TRUE, TRUE, &h->link_gbs_per_dir, NULL, error) ||
        !lat_json_number(g, "host_link_gbs_per_dir", where, FALSE, TRUE, &h->host_link_gbs, NULL, error) ||
        !lat_json_string(g, "interconnect", where, FALSE, &h->interconnect, error) ||
        !lat_json_string(g, "mfu_tables", where, FALSE, &h->mfu_tables, error) ||
        !lat_json_string(g, "architecture", where, FALSE, &h->architecture, error) ||
        !lat_json_number(g, "compute_capability", where, FALSE, TRUE, &h->compute_capability, NULL, error) ||
        !lat_json_string(g, "source", where, FALSE, &h->source, error))
        goto fail;
    if (h->mfu_tables && (!*h->mfu_tables || strchr(h->mfu_tables, '/') || strchr(h->mfu_tables, '.'))) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'mfu_tables': expected a folder name under data/mfu, got '%s'", where,
                    h->mfu_tables);
        goto fail;
    }
    g_free(where);
    return h;
fail:
    g_free(where);
    hardware_free(h);
    return NULL;
}

LatHardwareTable *lat_hardware_table_load(const char *data_dir, const char *path, GError **error)
{
    char *file = path ? g_strdup(path) : g_build_filename(data_dir ? data_dir : ".", "hardware.json", NULL);
    cJSON *root = NULL;
    LatHardwareTable *t = g_new0(LatHardwareTable, 1);
    t->gpus = g_ptr_array_new_with_free_func(hardware_free);

    root = lat_read_json_file(file, error);
    if (!root)
        goto fail;
    const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(root, "gpus");
    if (!cJSON_IsArray(gpus) || cJSON_GetArraySize(gpus) == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field 'gpus': expected a non-empty array of GPUs",
                    file);
        goto fail;
    }
    guint i = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, gpus)
    {
        LatHardware *h = read_gpu(g, file, i, error);
        if (!h)
            goto fail;
        for (guint j = 0; j < t->gpus->len; j++) {
            const LatHardware *o = g_ptr_array_index(t->gpus, j);
            if (g_ascii_strcasecmp(o->name, h->name) == 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: gpus[%u]: name '%s' appears twice", file,
                            i, h->name);
                hardware_free(h);
                goto fail;
            }
        }
        g_ptr_array_add(t->gpus, h);
        i++;
    }
    cJSON_Delete(root);
    g_free(file);
    return t;
fail:
    cJSON_Delete(root);
    g_free(file);
    lat_hardware_table_free(t);
    return NULL;
}

const LatHardware *lat_hardware_table_find(const LatHardwareTable *t, const char *name, GError **error)
{
    for (guint i = 0; name && i < t->gpus->len; i++) {
        const LatHardware *h = g_ptr_array_index(t->gpus, i);
        if (g_ascii_strcasecmp(h->name, name) == 0)
            return h;
    }
    GString *known = g_string_new(NULL);
    for (guint i = 0; i < t->gpus->len; i++) {
        const LatHardware *h = g_ptr_array_index(t->gpus, i);
        g_string_append_printf(known, "%s%s", i ? ", " : "", h->name);
    }
    g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "unknown hardware '%s' (known: %s)", name ? name : "(null)",
                known->str);
    g_string_free(known, TRUE);
    return NULL;
}

guint lat_hardware_table_size(const LatHardwareTable *t) { return t->gpus->len; }

const LatHardware *lat_hardware_table_get(const LatHardwareTable *t, guint i)
{
    return i < t->gpus->len ? g_ptr_array_index(t->gpus, i) : NULL;
}

/* |ln(ridge(a) / ridge(b))|: ridge = BF16 FLOP/s per byte/s of HBM. */
static double ridge_distance(const LatHardware *a, const LatHardware *b)
{
    double ra = a->bf16_tflops / a->mem_bw_tbs, rb = b->bf16_tflops / b->mem_bw_tbs;
    return fabs(log(ra / rb));
}

typedef struct {
    const LatHardware *hw;
    guint rank;      /* 0 itself, 1 another GPU */
    double cc_dist;  /* |compute capability difference| (99 when unknown) */
    double cc;       /* the donor's, newer first on ties */
    double dist;     /* ridge distance, rounded */
    guint order;
} Donor;

static gint donor_cmp(gconstpointer a, gconstpointer b)
{
    const Donor *p = a, *q = b;
    if (p->rank != q->rank)
        return p->rank < q->rank ? -1 : 1;
    if (p->cc_dist != q->cc_dist)
        return p->cc_dist < q->cc_dist ? -1 : 1;
    if (p->cc != q->cc)
        return p->cc > q->cc ? -1 : 1;
    if (p->dist != q->dist)
        return p->dist < q->dist ? -1 : 1;
    return (p->order > q->order) - (p->order < q->order);
}

guint lat_hardware_table_donors(const LatHardwareTable *t, const LatHardware *hw, const LatHardware **out,
                                guint max)
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(Donor));
    for (guint i = 0; i < t->gpus->len; i++) {
        const LatHardware *h = g_ptr_array_index(t->gpus, i);
        if (!h->mfu_tables)
            continue;
        Donor d = {h, 1, 99.0, h->compute_capability, round(ridge_distance(hw, h) * 100.0) / 100.0, i};
        if (h == hw || g_ascii_strcasecmp(h->name, hw->name) == 0)
            d.rank = 0;
        if (h->compute_capability > 0 && hw->compute_capability > 0)
            d.cc_dist = round(fabs(h->compute_capability - hw->compute_capability) * 10.0) / 10.0;
        else if (h->architecture && hw->architecture && g_ascii_strcasecmp(h->architecture, hw->architecture) == 0)
            d.cc_dist = 0;
        g_array_append_val(all, d);
    }
    g_array_sort(all, donor_cmp);
    guint n = 0;
    for (guint i = 0; i < all->len && n < max; i++)
        out[n++] = g_array_index(all, Donor, i).hw;
    g_array_free(all, TRUE);
    return n;
}
