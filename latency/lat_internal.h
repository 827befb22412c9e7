/*
 * lat_internal.h: helpers shared by the files of the latency module, not part
 * of its interface (other modules include lat.h and lat_mfu.h only).
 *
 * - File reading and the position of a JSON syntax error (line:column from
 *   the end pointer cJSON_ParseWithOpts returns).
 * - Typed getters for JSON fields that report "FILE: field 'x': expected ...".
 *   They borrow the cJSON node: the caller parsed it and deletes it before
 *   returning, so no cJSON pointer leaves the function that parsed it.
 * - Checked number parsing (never atoi): the whole string must be a number.
 */
#ifndef LAT_INTERNAL_H
#define LAT_INTERNAL_H

#include <cjson/cJSON.h>
#include <glib.h>

/* Reads a whole text file; NULL and an SS_ERROR_INPUT error naming the path
 * when it cannot be read. Free with g_free. */
char *lat_read_text_file(const char *path, GError **error);

/* Reads and parses a whole JSON file; NULL and an SS_ERROR_INPUT error
 * (cannot read, NUL byte, or "PATH:LINE:COLUMN: malformed JSON near '...'")
 * on failure. Free with cJSON_Delete. (Each loader parses and deletes its
 * own document: no cJSON pointer leaves the function that parsed it.) */
cJSON *lat_read_json_file(const char *path, GError **error);

/* The 1-based line and column of `pos` inside `text`. */
void lat_text_position(const char *text, const char *pos, guint *line, guint *column);

/* JSON field getters. `where` prefixes messages (e.g. the file name, or
 * "data/hardware.json: gpus[2]"). Each returns FALSE with an SS_ERROR_INPUT
 * error when the field is present but of the wrong kind or out of range;
 * when it is absent (or JSON null) it leaves *out alone, sets *present (when
 * not NULL) to FALSE and returns TRUE unless `required`. */
gboolean lat_json_uint(const cJSON *obj, const char *field, const char *where, gboolean required,
                       gboolean allow_zero, guint *out, gboolean *present, GError **error);
gboolean lat_json_number(const cJSON *obj, const char *field, const char *where, gboolean required,
                         gboolean positive, double *out, gboolean *present, GError **error);
gboolean lat_json_bool(const cJSON *obj, const char *field, const char *where, gboolean *out,
                       GError **error);
/* A string field copied out (g_free); NULL when absent or null. */
gboolean lat_json_string(const cJSON *obj, const char *field, const char *where, gboolean required,
                         char **out, GError **error);

/* Checked conversions: the whole of `s` (no leading/trailing junk, no
 * empty string) must be a number in range. */
gboolean lat_parse_uint64(const char *s, guint64 *out);
gboolean lat_parse_double(const char *s, double *out);

/* "a, b, c" from a NULL-terminated list (g_free). */
char *lat_join_names(char *const *names);

#endif /* LAT_INTERNAL_H */
