/*
 * rp_html.c: the head and end of a report page and escaped elements (see
 * rp_html.h). Nothing here depends on the clock, the locale or the host, so
 * the same arguments give the same bytes.
 */
#include "rp_html.h"

#include <stdarg.h>

#include "rp_svg.h"

void rp_html_open(GString *out, const char *title, const char *lead, const char *css)
{
    g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                         "<meta name=\"color-scheme\" content=\"light\">\n"
                         /* the browser itself refuses any load: the page needs none */
                         "<meta http-equiv=\"Content-Security-Policy\" "
                         "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>");
    rp_html_escape(out, title);
    g_string_append_printf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", css);
    rp_html_escape(out, title);
    g_string_append(out, "</h1>\n");
    if (lead && *lead) {
        rp_html_elem(out, "p", "class=\"lead\"", lead);
        g_string_append_c(out, '\n');
    }
}

void rp_html_close(GString *out)
{
    g_string_append(out, "</main>\n</body>\n</html>\n");
}

void rp_html_escape(GString *out, const char *text)
{
    rp_svg_escape(out, text);
}

void rp_html_escapef(GString *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    rp_svg_escape(out, t);
    g_free(t);
}

void rp_html_elem(GString *out, const char *tag, const char *attrs, const char *text)
{
    g_string_append_printf(out, "<%s%s%s>", tag, attrs ? " " : "", attrs ? attrs : "");
    rp_svg_escape(out, text);
    g_string_append_printf(out, "</%s>", tag);
}

void rp_html_fact(GString *out, const char *term, const char *text)
{
    rp_html_elem(out, "dt", NULL, term);
    rp_html_elem(out, "dd", NULL, text);
    g_string_append_c(out, '\n');
}
