/*
 * fuzz_sweep_table.c: the outputs of sweep slices as `servesim merge` reads
 * them (CSV with libcsv, or JSON: the first input byte chooses). A table that
 * reads must write back to text that reads again as the same text (the
 * round trip merge relies on for byte-identical results).
 */
#include "fz_common.h"
#include "sw_sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gboolean json = data[0] & 1;
    const char *path = fz_write(json ? "slice.json" : "slice.csv", data + 1, size - 1);
    GError *error = NULL;
    SwSweepTable *t = sw_sweep_table_read(path, &error);
    if (!t) {
        fz_check_error(error);
        return 0;
    }
    char *text = json ? sw_sweep_table_json(t) : sw_sweep_table_csv(t);
    const char *again_path = fz_write(json ? "again.json" : "again.csv", (const uint8_t *)text, strlen(text));
    SwSweepTable *again = sw_sweep_table_read(again_path, &error);
    if (!again)
        fz_fail("a table that read does not read back after writing: %s", error->message);
    char *text2 = json ? sw_sweep_table_json(again) : sw_sweep_table_csv(again);
    if (strcmp(text, text2) != 0)
        fz_fail("the round trip changed the table:\n%s\n---\n%s", text, text2);
    SwSweepTable *parts[1] = {t};
    const char *origins[1] = {path};
    SwSweepTable *merged = sw_sweep_table_merge(parts, origins, 1, &error);
    if (merged)
        sw_sweep_table_free(merged);
    else
        fz_check_error(g_steal_pointer(&error));
    g_free(text);
    g_free(text2);
    sw_sweep_table_free(again);
    sw_sweep_table_free(t);
    return 0;
}
