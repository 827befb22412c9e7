/*
 * fuzz_sweep.c: sweep files (docs/sweeps.md) through the sweep parser, then
 * the scenario of each of the first points (a base given as a path reads a
 * file of the harness's own folder, a copy of the input).
 */
#include "fz_common.h"
#include "sw_sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_text(data, size);
    fz_write("base.json", data, size); /* what a "base": "base.json" reads */
    GError *error = NULL;
    SwSweep *sw = sw_sweep_parse(text, "fuzz.json", fz_dir(), &error);
    if (!sw) {
        fz_check_error(error);
        g_free(text);
        return 0;
    }
    guint n = sw_sweep_num_points(sw), k = sw_sweep_num_params(sw);
    if (n == 0 || strlen(sw_sweep_id(sw)) != 16 || !sw_sweep_name(sw))
        fz_fail("a sweep of %u points, id '%s'", n, sw_sweep_id(sw));
    for (guint p = 0; p < MIN(n, 16); p++) {
        for (guint j = 0; j < k; j++)
            if (!sw_sweep_param_value(sw, p, j) || !sw_sweep_param_name(sw, j))
                fz_fail("point %u has no value for field %u", p, j);
        ScnScenario *s = sw_sweep_point_scenario(sw, p, &error);
        if (s)
            scn_scenario_free(s);
        else
            fz_check_error(g_steal_pointer(&error));
    }
    sw_sweep_free(sw);
    g_free(text);
    return 0;
}
