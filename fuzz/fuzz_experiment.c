/*
 * fuzz_experiment.c: experiment folders of `servesim validate`
 * (docs/validation-format.md): the input is experiment.json; the folder
 * also holds requests.csv (a small valid request file) for points to name.
 */
#include "fz_common.h"
#include "val_validate.h"

static const char requests_csv[] = "arrival_time_s,input_tokens,output_tokens,ttft_s,e2e_s\n"
                                   "0.0,100,20,0.05,0.4\n"
                                   "0.5,200,10,0.06,0.3\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *dir;
    if (!dir) {
        dir = g_build_filename(fz_dir(), "experiment", NULL);
        g_mkdir_with_parents(dir, 0700);
        char *req = g_build_filename("experiment", "requests.csv", NULL);
        fz_write(req, (const uint8_t *)requests_csv, sizeof requests_csv - 1);
        g_free(req);
    }
    char *json = g_build_filename("experiment", "experiment.json", NULL);
    fz_write(json, data, size);
    g_free(json);
    GError *error = NULL;
    ValExperiment *e = val_experiment_load(dir, &error);
    if (!e) {
        fz_check_error(error);
        return 0;
    }
    if (!e->points || e->points->len == 0 || !e->hardware || !e->model)
        fz_fail("an experiment without points, hardware or model");
    val_experiment_free(e);
    return 0;
}
