/*
 * pl_report.c: writes the capacity plan's documents (see pl_plan.h and
 * docs/planning-report.md) into a folder: report.html (pl_report_html.c),
 * report.md (pl_report_md.c) and plan.json (pl_report_json.c). Each file is
 * written whole or not at all (scn_write_file).
 */
#include <errno.h>

#include "pl_plan.h"
#include "scn_json.h"

gboolean pl_report_write(const PlPlanResult *r, const char *dir, GError **error)
{
    g_return_val_if_fail(r != NULL && dir != NULL, FALSE); /* a contract on the caller, not input */
    static const struct {
        const char *name;
        char *(*render)(const PlPlanResult *r);
    } docs[] = {{"report.html", pl_report_html}, {"report.md", pl_report_markdown}, {"plan.json", pl_report_json}};
    gboolean ok = FALSE;
    char *path = NULL, *text = NULL;
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot create the report directory: %s",
                    dir, g_strerror(e));
        goto out;
    }
    for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
        path = g_build_filename(dir, docs[i].name, NULL);
        text = docs[i].render(r);
        if (!scn_write_file(path, text, error))
            goto out;
        g_clear_pointer(&path, g_free);
        g_clear_pointer(&text, g_free);
    }
    ok = TRUE;
out:
    g_free(path);
    g_free(text);
    return ok;
}
