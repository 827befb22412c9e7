/*
 * wl_parse.c: checked parsers for the numbers and timestamps of CSV fields.
 *
 * Every parser reads the whole field (blanks around are allowed) and says
 * whether it was empty, malformed or out of range, so callers can name what
 * they expected and what they found. No atoi, no unchecked strtod: integers
 * are read digit by digit with an overflow check; decimals go through
 * g_ascii_strtod (locale-independent) after a character check, with the end
 * pointer and errno checked; timestamps are read field by field into an exact
 * integer count of nanoseconds (no floating point). Cost: O(length of the
 * field). Limits: timestamps are proleptic Gregorian, years 1678 to 2261 (the
 * range of a signed 64-bit nanosecond count); no leap seconds.
 */
#include "wl_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static gboolean is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims blanks: [*begin, *end) is what remains. */
static void trim(const char *text, const char **begin, const char **end)
{
    const char *b = text;
    const char *e = text + strlen(text);
    while (b < e && is_blank(*b))
        b++;
    while (e > b && is_blank(e[-1]))
        e--;
    *begin = b;
    *end = e;
}

WlParseStatus wl_parse_uint(const char *text, guint64 max, guint64 *out)
{
    const char *p, *end;
    trim(text, &p, &end);
    if (p == end)
        return WL_PARSE_EMPTY;
    const char *digits = p;
    while (p < end && g_ascii_isdigit(*p))
        p++;
    const char *digits_end = p;
    if (digits_end == digits)
        return WL_PARSE_SYNTAX;
    if (p < end && *p == '.') { /* "42.0": an integer written as a decimal */
        p++;
        while (p < end && *p == '0')
            p++;
    }
    if (p != end)
        return WL_PARSE_SYNTAX;
    guint64 v = 0;
    for (const char *d = digits; d < digits_end; d++) {
        guint digit = (guint)(*d - '0');
        if (v > (G_MAXUINT64 - digit) / 10)
            return WL_PARSE_RANGE;
        v = v * 10 + digit;
    }
    if (v > max)
        return WL_PARSE_RANGE;
    *out = v;
    return WL_PARSE_OK;
}

WlParseStatus wl_parse_double(const char *text, double *out)
{
    const char *p, *end;
    trim(text, &p, &end);
    if (p == end)
        return WL_PARSE_EMPTY;
    gsize len = (gsize)(end - p);
    char buf[128];
    if (len >= sizeof buf)
        return WL_PARSE_SYNTAX;
    gboolean digit = FALSE;
    for (const char *q = p; q < end; q++) {
        if (g_ascii_isdigit(*q))
            digit = TRUE;
        else if (!strchr(".eE+-", *q))
            return WL_PARSE_SYNTAX; /* no hex, inf, nan, commas, ... */
    }
    if (!digit)
        return WL_PARSE_SYNTAX;
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *stop = NULL;
    errno = 0;
    double v = g_ascii_strtod(buf, &stop);
    if (stop != buf + len)
        return WL_PARSE_SYNTAX;
    if (errno == ERANGE && !isfinite(v))
        return WL_PARSE_RANGE;
    if (!isfinite(v))
        return WL_PARSE_RANGE;
    *out = v; /* an underflow (ERANGE with a tiny finite value) is accepted */
    return WL_PARSE_OK;
}

/* Reads exactly `n` digits at *p into *v; advances *p. */
static gboolean read_digits(const char **p, const char *end, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !g_ascii_isdigit(**p))
            return FALSE;
        x = x * 10 + (**p - '0');
        (*p)++;
    }
    *v = x;
    return TRUE;
}

static gboolean expect_char(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return FALSE;
    (*p)++;
    return TRUE;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's
 * days_from_civil). */
static gint64 days_from_civil(gint64 y, int m, int d)
{
    y -= m <= 2;
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    gint64 yoe = y - era * 400;
    gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

WlParseStatus wl_parse_timestamp(const char *text, gint64 *ns_out)
{
    const char *p, *end;
    trim(text, &p, &end);
    if (p == end)
        return WL_PARSE_EMPTY;
    int year, month, day, hour, minute, second;
    if (!read_digits(&p, end, 4, &year) || !expect_char(&p, end, '-') ||
        !read_digits(&p, end, 2, &month) || !expect_char(&p, end, '-') ||
        !read_digits(&p, end, 2, &day))
        return WL_PARSE_SYNTAX;
    if (p >= end || (*p != ' ' && *p != 'T'))
        return WL_PARSE_SYNTAX;
    p++;
    if (!read_digits(&p, end, 2, &hour) || !expect_char(&p, end, ':') ||
        !read_digits(&p, end, 2, &minute) || !expect_char(&p, end, ':') ||
        !read_digits(&p, end, 2, &second))
        return WL_PARSE_SYNTAX;
    gint64 frac_ns = 0;
    if (p < end && *p == '.') {
        p++;
        int ndigits = 0;
        gboolean round_up = FALSE;
        while (p < end && g_ascii_isdigit(*p)) {
            if (ndigits < 9)
                frac_ns = frac_ns * 10 + (*p - '0');
            else if (ndigits == 9)
                round_up = *p >= '5';
            ndigits++;
            p++;
        }
        if (ndigits == 0)
            return WL_PARSE_SYNTAX;
        for (int i = ndigits; i < 9; i++)
            frac_ns *= 10;
        frac_ns += round_up;
    }
    gint64 offset_s = 0; /* local time minus UTC */
    if (p < end && *p == 'Z') {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh, om = 0;
        if (!read_digits(&p, end, 2, &oh))
            return WL_PARSE_SYNTAX;
        if (p < end && *p == ':')
            p++;
        if (p < end && !read_digits(&p, end, 2, &om))
            return WL_PARSE_SYNTAX;
        if (oh > 23 || om > 59)
            return WL_PARSE_RANGE;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (p != end)
        return WL_PARSE_SYNTAX;
    if (year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59)
        return WL_PARSE_RANGE;
    gint64 secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                  offset_s;
    *ns_out = secs * 1000000000 + frac_ns;
    return WL_PARSE_OK;
}
