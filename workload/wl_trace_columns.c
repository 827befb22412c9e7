/*
 * wl_trace_columns.c: mapping a trace's own column names to what servesim
 * reads ("arrival=timestamp,input=prompt_len,output=completion_len").
 *
 * Roles: arrival, input, output, prefix_group, shared_prefix_tokens, class,
 * session_id, session_prefix_tokens, priority, lora (servesim's column names
 * arrival_time_s, input_tokens, output_tokens are accepted for the first
 * three). A role may be given once; a column name is
 * any text without ',' or '=' up to WL_COLUMN_NAME_MAX - 1 bytes, blanks
 * around it ignored. The mapping is plain data (fixed arrays), so trace
 * options stay copyable by value. Cost: O(length of the text).
 */
#include "wl_internal.h"

#include <string.h>

static const struct {
    WlTraceRole role;
    const char *name;
    const char *alias;  /* servesim's column name, NULL when the same */
} roles[WL_TRACE_NUM_ROLES] = {
    {WL_ROLE_ARRIVAL, "arrival", "arrival_time_s"},
    {WL_ROLE_INPUT, "input", "input_tokens"},
    {WL_ROLE_OUTPUT, "output", "output_tokens"},
    {WL_ROLE_PREFIX_GROUP, "prefix_group", NULL},
    {WL_ROLE_SHARED_PREFIX, "shared_prefix_tokens", NULL},
    {WL_ROLE_CLASS, "class", NULL},
    {WL_ROLE_SESSION_ID, "session_id", NULL},
    {WL_ROLE_SESSION_PREFIX, "session_prefix_tokens", NULL},
    {WL_ROLE_PRIORITY, "priority", NULL},
    {WL_ROLE_LORA, "lora", NULL},
};

const char *wl_trace_role_name(WlTraceRole role)
{
    return role < WL_TRACE_NUM_ROLES ? roles[role].name : "unknown";
}

gboolean wl_trace_columns_any(const WlTraceColumns *c)
{
    for (guint r = 0; r < WL_TRACE_NUM_ROLES; r++)
        if (c->names[r][0])
            return TRUE;
    return FALSE;
}

gboolean wl_trace_columns_parse(const char *text, WlTraceColumns *out, GError **error)
{
    WlTraceColumns c;
    memset(&c, 0, sizeof c);
    char **items = g_strsplit(text ? text : "", ",", -1);
    gboolean ok = FALSE;
    guint n = 0;
    for (char **it = items; *it; it++) {
        char *item = g_strstrip(*it);
        if (!*item)
            continue;
        char *eq = strchr(item, '=');
        if (!eq) {
            wl_set_error(error, "column mapping '%s': expected ROLE=COLUMN (e.g. arrival=timestamp), got '%s'", text,
                         item);
            goto out;
        }
        *eq = '\0';
        char *role = g_strstrip(item), *column = g_strstrip(eq + 1);
        int found = -1;
        for (guint r = 0; r < WL_TRACE_NUM_ROLES; r++)
            if (strcmp(role, roles[r].name) == 0 || (roles[r].alias && strcmp(role, roles[r].alias) == 0))
                found = (int)r;
        if (found < 0) {
            wl_set_error(error,
                         "column mapping '%s': unknown role '%s' (expected arrival, input, output, prefix_group, "
                         "shared_prefix_tokens, class, session_id, session_prefix_tokens, priority or lora)",
                         text, role);
            goto out;
        }
        if (!*column || strlen(column) >= WL_COLUMN_NAME_MAX) {
            wl_set_error(error, "column mapping '%s': %s: expected a column name of 1 to %u bytes, got '%s'", text,
                         roles[found].name, WL_COLUMN_NAME_MAX - 1, column);
            goto out;
        }
        if (c.names[found][0]) {
            wl_set_error(error, "column mapping '%s': %s is given twice", text, roles[found].name);
            goto out;
        }
        g_strlcpy(c.names[found], column, WL_COLUMN_NAME_MAX);
        n++;
    }
    if (n == 0) {
        wl_set_error(error, "column mapping '%s': expected ROLE=COLUMN pairs, e.g. "
                            "arrival=timestamp,input=prompt_len,output=completion_len", text ? text : "");
        goto out;
    }
    *out = c;
    ok = TRUE;
out:
    g_strfreev(items);
    return ok;
}

char *wl_trace_columns_format(const WlTraceColumns *c)
{
    GString *s = g_string_new(NULL);
    for (guint r = 0; r < WL_TRACE_NUM_ROLES; r++)
        if (c->names[r][0])
            g_string_append_printf(s, "%s%s=%s", s->len ? "," : "", roles[r].name, c->names[r]);
    return g_string_free(s, FALSE);
}
