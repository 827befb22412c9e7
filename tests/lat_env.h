/*
 * lat_env.h: a step model on a GPU as the simulator builds it (the GPU's own
 * measured tables, then the donors lat_hardware_table_donors picks), for the
 * latency tests. Header-only; each test program includes it once.
 */
#ifndef LAT_ENV_H
#define LAT_ENV_H

#include <math.h>

#include "lat.h"
#include "lat_mfu.h"
#include "ss_test.h"

#define LAT_ENV_MAX_SOURCES 8

typedef struct {
    LatModelDesc *model;
    LatHardwareTable *hwt;
    const LatHardware *hw;
    LatHardware custom;          /* a GPU made up by a test (lat_env_open_hw) */
    LatMfuDb *dbs[LAT_ENV_MAX_SOURCES];
    LatTableSource src[LAT_ENV_MAX_SOURCES];
    guint nsrc;
    LatStepModel *sm;
    LatParams params;
    LatModelDesc *draft;         /* a draft head a test made (freed by lat_env_close) */
} LatEnv;

/* Loads `model` on `hw` (borrowed, may be a made-up GPU) with the donors of
 * `donor_of` (a GPU of the table whose donors are used). */
static inline void lat_env_build(LatEnv *e, guint tp, LatBackend backend, const LatHardware *donor_of)
{
    GError *error = NULL;
    lat_params_default(&e->params);
    e->params.backend = backend;
    e->nsrc = 0;
    if (backend != LAT_BACKEND_ROOFLINE_V1) {
        const LatHardware *d[LAT_ENV_MAX_SOURCES];
        guint n = lat_hardware_table_donors(e->hwt, donor_of, d, LAT_ENV_MAX_SOURCES);
        for (guint i = 0; i < n; i++) {
            e->dbs[i] = lat_mfu_db_load(ss_test_data_dir(), d[i]->mfu_tables, &error);
            g_assert_no_error(error);
            e->src[i] = (LatTableSource){d[i], e->dbs[i]};
            e->nsrc++;
        }
    }
    e->sm = lat_step_model_new(e->model, e->hw, tp, e->src, e->nsrc, &e->params, 16384, &error);
    g_assert_no_error(error);
}

static inline void lat_env_open(LatEnv *e, const char *model, const char *gpu, guint tp, LatBackend backend)
{
    GError *error = NULL;
    memset(e, 0, sizeof *e);
    e->model = lat_model_desc_load(model, ss_test_data_dir(), &error);
    g_assert_no_error(error);
    e->hwt = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    e->hw = lat_hardware_table_find(e->hwt, gpu, &error);
    g_assert_no_error(error);
    lat_env_build(e, tp, backend, e->hw);
}

/* Rebuilds the step model with changed parameters (e->params). */
static inline void lat_env_rebuild(LatEnv *e, guint tp)
{
    GError *error = NULL;
    lat_step_model_free(e->sm);
    e->sm = lat_step_model_new(e->model, e->hw, tp, e->src, e->nsrc, &e->params, 16384, &error);
    g_assert_no_error(error);
}

static inline void lat_env_close(LatEnv *e)
{
    lat_step_model_free(e->sm);
    lat_model_desc_free(e->draft);
    for (guint i = 0; i < e->nsrc; i++)
        lat_mfu_db_free(e->dbs[i]);
    lat_hardware_table_free(e->hwt);
    lat_model_desc_free(e->model);
}

/* n decodes, each attending to kv tokens (kv - 1 cached + the new one). */
static inline void lat_env_decodes(BatchDesc *b, guint32 n, guint32 kv)
{
    for (guint32 i = 0; i < n; i++)
        batch_desc_push(b, 1, kv - 1, true);
}

static inline const LatComponent *lat_env_comp(const LatBreakdown *br, const char *name)
{
    for (guint i = 0; i < br->num_components; i++)
        if (strcmp(br->components[i].name, name) == 0)
            return &br->components[i];
    return NULL;
}

static inline double lat_env_comp_s(const LatBreakdown *br, const char *name)
{
    const LatComponent *c = lat_env_comp(br, name);
    return c ? c->seconds : 0.0;
}

#endif /* LAT_ENV_H */
