/*
 * scn_json.h: reading JSON documents with errors a person can act on.
 *
 * Syntax errors give file:line:column (computed from cJSON's parse end, not
 * its global error pointer, so parsing is safe in threads). Field errors
 * give the file and the field path ("engine.max_num_seqs: expected a
 * positive integer, got -3"). Getters leave *out untouched when the key is
 * absent, so defaults stay in place. Internal to the scenario layer and the
 * planner; no cJSON pointer leaves the function that owns the document.
 */
#ifndef SCN_JSON_H
#define SCN_JSON_H

#include <cjson/cJSON.h>
#include <glib.h>

/* Parses JSON text; `origin` names it in errors. cJSON_Delete the result. */
cJSON *scn_json_parse(const char *text, const char *origin, GError **error);
/* Reads and parses a file. */
cJSON *scn_json_parse_file(const char *path, GError **error);

/* Fails on any key of `obj` not in `allowed` (NULL-terminated), naming the
 * closest allowed key. */
gboolean scn_json_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
                             const char *origin, GError **error);

/* Typed getters: absent key -> TRUE, *out unchanged; wrong type or range ->
 * FALSE with an error naming origin and path.key. */
gboolean scn_json_get_uint(const cJSON *obj, const char *key, const char *path, const char *origin,
                           guint64 min, guint64 max, guint64 *out, GError **error);
gboolean scn_json_get_double(const cJSON *obj, const char *key, const char *path, const char *origin,
                             double min, double max, gboolean min_exclusive, double *out, GError **error);
gboolean scn_json_get_bool(const cJSON *obj, const char *key, const char *path, const char *origin,
                           gboolean *out, GError **error);
/* *out is replaced (the old value freed) when the key is present. */
gboolean scn_json_get_string(const cJSON *obj, const char *key, const char *path, const char *origin,
                             char **out, GError **error);

/* Reads a whole text file of at most SCN_MAX_TEXT_FILE bytes (scenario,
 * sweep and plan files). Errors (SS_ERROR_INPUT) read "PATH: cannot read the
 * WHAT: reason", name a larger file, or give the line:column of a NUL byte
 * (text is NUL-terminated: a NUL inside would silently cut it short).
 * g_free the result. */
#define SCN_MAX_TEXT_FILE ((gsize)64 << 20)
char *scn_read_file(const char *path, const char *what, gsize *length, GError **error);
/* The same with another size limit (sweep outputs, which can be large). */
char *scn_read_file_max(const char *path, const char *what, gsize max_bytes, gsize *length, GError **error);
/* For files another module reads whole (model configs, the hardware table,
 * hardware profiles): when `path` exists it must be a regular file of at
 * most SCN_MAX_TEXT_FILE bytes (a device such as /dev/zero, a pipe or a huge
 * file would be read without end). A missing file passes: the loader's own
 * message says what is missing. Errors are SS_ERROR_INPUT naming the path. */
gboolean scn_check_input_file(const char *path, const char *what, GError **error);
/* Writes a file whole or not at all (ss_output_write_text: a temporary file
 * renamed over it; devices and pipes are written through). Errors name the
 * path (SS_ERROR_INPUT). */
gboolean scn_write_file(const char *path, const char *text, GError **error);
/* Levenshtein distance, for "did you mean" hints. */
guint scn_edit_distance(const char *a, const char *b);

/* The JSON text of a value, for messages ("-3", "\"abc\"", "[...]"). g_free. */
char *scn_json_repr(const cJSON *v);

#endif /* SCN_JSON_H */
