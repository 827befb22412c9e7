/*
 * wl_time.c: the arrival-time formats of traces and their conversion.
 *
 * A trace's arrival column holds one of:
 *   seconds        relative seconds, as written (the first request may arrive
 *                  after 0);
 *   milliseconds   relative milliseconds;
 *   epoch-s, epoch-ms, epoch-us, epoch-ns
 *                  Unix epoch times, rebased to the first request;
 *   iso8601        "2023-11-16 18:15:46.6805900" ('T' for the space, a 'Z'
 *                  or ±HH:MM zone allowed), rebased to the first request.
 * "auto" decides on the first data row: text that reads as an ISO-8601 time
 * is iso8601; a number below 1e8 is seconds (1e8 s is three years, 1e8 as
 * an epoch is 1973); below 1e11 epoch-s, below 1e14 epoch-ms, below 1e17
 * epoch-us, else epoch-ns. Every later row must be in the same form.
 *
 * Absolute times are read exactly into integer nanoseconds since 1970
 * (decimal digits, no floating point, rounding half up beyond the
 * nanosecond); relative ones as doubles, as before. Cost: O(field length).
 */
#include "wl_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const struct {
    WlTimeFormat format;
    const char *name;
    const char *expected; /* for messages: "expected ..." */
} time_formats[] = {
    {WL_TIME_AUTO, "auto", "a time (seconds, Unix epoch seconds or milliseconds, or ISO-8601)"},
    {WL_TIME_SECONDS, "seconds", "a non-negative number of seconds"},
    {WL_TIME_MILLISECONDS, "milliseconds", "a non-negative number of milliseconds"},
    {WL_TIME_EPOCH_S, "epoch-s", "Unix epoch seconds like '1700000000.25'"},
    {WL_TIME_EPOCH_MS, "epoch-ms", "Unix epoch milliseconds like '1700000000250'"},
    {WL_TIME_EPOCH_US, "epoch-us", "Unix epoch microseconds like '1700000000250000'"},
    {WL_TIME_EPOCH_NS, "epoch-ns", "Unix epoch nanoseconds like '1700000000250000000'"},
    {WL_TIME_ISO8601, "iso8601", "a timestamp like '2023-11-16 18:15:46.6805900'"},
};

const char *wl_time_format_name(WlTimeFormat f)
{
    for (gsize i = 0; i < G_N_ELEMENTS(time_formats); i++)
        if (time_formats[i].format == f)
            return time_formats[i].name;
    return "unknown";
}

gboolean wl_time_format_from_name(const char *name, WlTimeFormat *out)
{
    for (gsize i = 0; name && i < G_N_ELEMENTS(time_formats); i++)
        if (g_ascii_strcasecmp(name, time_formats[i].name) == 0) {
            *out = time_formats[i].format;
            return TRUE;
        }
    /* other spellings people write */
    static const struct {
        const char *name;
        WlTimeFormat format;
    } aliases[] = {{"s", WL_TIME_SECONDS},        {"ms", WL_TIME_MILLISECONDS}, {"epoch", WL_TIME_EPOCH_S},
                   {"unix", WL_TIME_EPOCH_S},     {"unix-ms", WL_TIME_EPOCH_MS}, {"iso", WL_TIME_ISO8601},
                   {"iso-8601", WL_TIME_ISO8601}, {"timestamp", WL_TIME_ISO8601}};
    for (gsize i = 0; name && i < G_N_ELEMENTS(aliases); i++)
        if (g_ascii_strcasecmp(name, aliases[i].name) == 0) {
            *out = aliases[i].format;
            return TRUE;
        }
    return FALSE;
}

const char *wl_time_expected(WlTimeFormat f)
{
    for (gsize i = 0; i < G_N_ELEMENTS(time_formats); i++)
        if (time_formats[i].format == f)
            return time_formats[i].expected;
    return time_formats[0].expected;
}

gboolean wl_time_is_absolute(WlTimeFormat f)
{
    return f >= WL_TIME_EPOCH_S;
}

WlTimeFormat wl_time_detect(const char *text)
{
    gint64 ns;
    if (wl_parse_timestamp(text, &ns) == WL_PARSE_OK)
        return WL_TIME_ISO8601;
    double v;
    if (wl_parse_double(text, &v) != WL_PARSE_OK || v < 0)
        return WL_TIME_AUTO;
    if (v < 1e8)
        return WL_TIME_SECONDS;
    if (v < 1e11)
        return WL_TIME_EPOCH_S;
    if (v < 1e14)
        return WL_TIME_EPOCH_MS;
    if (v < 1e17)
        return WL_TIME_EPOCH_US;
    return WL_TIME_EPOCH_NS;
}

/* A non-negative decimal "123", "123.456" (blanks around allowed) times
 * 10^scale, rounded half up, into *out; exact. Exponent forms ("1.7e9") go
 * through a double. */
static WlParseStatus parse_scaled(const char *text, int scale, gint64 *out)
{
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    if (p == end)
        return WL_PARSE_EMPTY;
    if (memchr(p, 'e', (gsize)(end - p)) || memchr(p, 'E', (gsize)(end - p))) {
        double v;
        WlParseStatus st = wl_parse_double(text, &v);
        if (st != WL_PARSE_OK)
            return st;
        double scaled = v * pow(10.0, scale);
        if (!(scaled >= 0) || scaled >= 9.2e18)
            return WL_PARSE_RANGE;
        *out = (gint64)llround(scaled);
        return WL_PARSE_OK;
    }
    guint64 v = 0;
    int frac_digits = -1; /* -1: before the point */
    gboolean any = FALSE, round_up = FALSE;
    for (; p < end; p++) {
        if (*p == '.' && frac_digits < 0) {
            frac_digits = 0;
            continue;
        }
        if (!g_ascii_isdigit(*p))
            return WL_PARSE_SYNTAX;
        any = TRUE;
        guint d = (guint)(*p - '0');
        if (frac_digits >= 0 && frac_digits >= scale) { /* beyond the unit: round */
            if (frac_digits == scale)
                round_up = d >= 5;
            frac_digits++;
            continue;
        }
        if (v > ((guint64)G_MAXINT64 - d) / 10)
            return WL_PARSE_RANGE;
        v = v * 10 + d;
        if (frac_digits >= 0)
            frac_digits++;
    }
    if (!any)
        return WL_PARSE_SYNTAX;
    int have = frac_digits < 0 ? 0 : MIN(frac_digits, scale);
    for (int i = have; i < scale; i++) {
        if (v > (guint64)G_MAXINT64 / 10)
            return WL_PARSE_RANGE;
        v *= 10;
    }
    if (round_up && v < (guint64)G_MAXINT64)
        v++;
    *out = (gint64)v;
    return WL_PARSE_OK;
}

WlParseStatus wl_time_parse(const char *text, WlTimeFormat f, double *seconds, gint64 *ns)
{
    double v;
    WlParseStatus st;
    switch (f) {
    case WL_TIME_SECONDS:
    case WL_TIME_MILLISECONDS:
        st = wl_parse_double(text, &v);
        if (st != WL_PARSE_OK)
            return st;
        if (v < 0)
            return WL_PARSE_RANGE;
        *seconds = f == WL_TIME_MILLISECONDS ? v / 1000.0 : v;
        return WL_PARSE_OK;
    case WL_TIME_EPOCH_S:
        return parse_scaled(text, 9, ns);
    case WL_TIME_EPOCH_MS:
        return parse_scaled(text, 6, ns);
    case WL_TIME_EPOCH_US:
        return parse_scaled(text, 3, ns);
    case WL_TIME_EPOCH_NS:
        return parse_scaled(text, 0, ns);
    case WL_TIME_ISO8601:
        return wl_parse_timestamp(text, ns);
    case WL_TIME_AUTO:
        break;
    }
    return WL_PARSE_SYNTAX;
}
