/*
 * fuzz_scenario.c: scenario JSON (docs/scenario.md) through the scenario
 * parser, then every single-field update a flag or sweep axis can make with
 * a value taken from the parsed document, and a copy.
 */
#include "fz_common.h"
#include "scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_text(data, size);
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(text, "fuzz.json", fz_dir(), &error);
    if (!s) {
        fz_check_error(error);
        g_free(text);
        return 0;
    }
    /* each known field set from a short value cut from the input */
    const char *const *fields = scn_scenario_fields();
    for (guint i = 0; fields[i]; i++) {
        size_t off = size ? (i * 7) % size : 0;
        size_t len = MIN(size - off, 12);
        char *value = g_strndup(text + off, len);
        ScnScenario *c = scn_scenario_copy(s);
        if (!scn_scenario_set(c, fields[i], value, "fuzz", &error))
            fz_check_error(g_steal_pointer(&error));
        scn_scenario_free(c);
        g_free(value);
    }
    scn_scenario_free(s);
    g_free(text);
    return 0;
}
