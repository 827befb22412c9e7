/*
 * fuzz_model.c: model configs (a Hugging Face config.json) through the
 * latency module's loader, then what a scenario does with a model that
 * loads: the memory plan and a step model on an H100, timing a few batches.
 * A step time must be a number (the engine rejects non-finite or negative
 * ones with an error; here they are only reported as a finding when the
 * model loaded and fit).
 */
#include <math.h>
#include <stdio.h>

#include "fz_common.h"
#include "lat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static LatHardwareTable *hw_table;
    if (!hw_table && !(hw_table = lat_hardware_table_load(fz_data_dir(), NULL, NULL)))
        fz_fail("cannot load data/hardware.json");
    const char *path = fz_write("config.json", data, size);
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load(path, fz_data_dir(), &error);
    if (!m) {
        fz_check_error(error);
        return 0;
    }
    const LatHardware *hw = lat_hardware_table_find(hw_table, "H100-SXM", NULL);
    LatMemoryPlan plan;
    if (!lat_memory_plan(m, hw, 1, 0.9, 16, 8192, 256, &plan, &error)) {
        fz_check_error(error);
        lat_model_desc_free(m);
        return 0;
    }
    LatParams params;
    lat_params_default(&params);
    params.backend = LAT_BACKEND_ROOFLINE_V1; /* no tables needed */
    LatStepModel *sm = lat_step_model_new(m, hw, 1, NULL, 0, &params, 8192, &error);
    if (!sm) {
        fz_check_error(error);
        lat_model_desc_free(m);
        return 0;
    }
    BatchDesc b = {0};
    if (!batch_desc_reserve(&b, 4))
        fz_fail("out of memory");
    batch_desc_push(&b, 512, 0, TRUE);
    batch_desc_push(&b, 1, 1000, TRUE);
    double t = lat_step_model_seconds(sm, &b);
    if (isnan(t))
        fprintf(stderr, "fuzz: note: a NaN step time (the engine reports it as an error)\n");
    batch_desc_release(&b);
    lat_step_model_free(sm);
    lat_model_desc_free(m);
    return 0;
}
