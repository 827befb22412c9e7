/*
 * fuzz_hardware.c: hardware tables (data/hardware.json) through the latency
 * module's loader; every GPU of a table that loads is looked up by name.
 */
#include "fz_common.h"
#include "lat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_write("hardware.json", data, size);
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(NULL, path, &error);
    if (!t) {
        fz_check_error(error);
        return 0;
    }
    for (guint i = 0; i < lat_hardware_table_size(t); i++) {
        const LatHardware *hw = lat_hardware_table_get(t, i);
        if (!hw || !lat_hardware_table_find(t, hw->name, NULL))
            fz_fail("GPU %u cannot be found by its name", i);
    }
    if (lat_hardware_table_find(t, "no such gpu \x01", &error))
        fz_fail("found a GPU that is not there");
    fz_check_error(error);
    lat_hardware_table_free(t);
    return 0;
}
