/*
 * fuzz_profile.c: hardware profiles (written by `servesim calibrate`,
 * docs/calibration.md) through the latency module's reader: the GPU a
 * profile is for, then its constants applied over the defaults, once for
 * its own GPU and once for another (which must fail without changing them).
 */
#include <string.h>

#include "fz_common.h"
#include "lat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_write("profile.json", data, size);
    GError *error = NULL;
    char *hw = lat_profile_hardware(path, &error);
    if (!hw) {
        fz_check_error(error);
        return 0;
    }
    LatParams p, before;
    lat_params_default(&p);
    if (!lat_params_apply_profile(&p, path, hw, &error))
        fz_check_error(g_steal_pointer(&error));
    memset(&before, 0, sizeof before); /* padding too: compared byte by byte */
    lat_params_default(&before);
    memcpy(&p, &before, sizeof p);
    if (lat_params_apply_profile(&p, path, "no such gpu", &error))
        fz_fail("a profile for '%s' applied to another GPU", hw);
    fz_check_error(error);
    if (memcmp(&p, &before, sizeof p) != 0)
        fz_fail("a failed profile changed the constants");
    g_free(hw);
    return 0;
}
