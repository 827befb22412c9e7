/*
 * rp_html.h: the parts of the self-contained HTML pages that reports write
 * (the capacity plan's report.html, plan/; a sweep's report.html, sweep/):
 * the document's head with its content policy, the style rules the pages
 * share, and elements whose text is escaped.
 *
 * A page is rp_html_open (doctype, head with inline CSS, the <main> and
 * <header> with the title and an optional lead paragraph), the caller's
 * sections, then rp_html_close. The pages load nothing: the
 * Content-Security-Policy forbids every fetch but inline styles, and they
 * carry no script. Every text argument is escaped (rp_svg_escape); tag
 * names, attributes and CSS are written as given (pass constants).
 */
#ifndef RP_HTML_H
#define RP_HTML_H

#include <glib.h>

/* Style rules the pages share, as string literals to concatenate into a
 * page's stylesheet (in the order the page wants them). */
#define RP_HTML_CSS_PAGE                                                                                      \
    "*{box-sizing:border-box}\n"                                                                              \
    "body{margin:0;background:#f4f6f8;color:#1d2329;"                                                         \
    "font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\n"        \
    "main{max-width:1320px;margin:0 auto;padding:24px 32px 48px}\n"                                           \
    "h1{font-size:27px;margin:0 0 4px}\n"                                                                     \
    "h2{font-size:20px;margin:34px 0 12px;padding-bottom:4px;border-bottom:1px solid #cfd6dd}\n"
#define RP_HTML_CSS_LEAD ".lead{color:#4a5561;margin:0 0 18px}\n"
/* <dl class="facts">: terms in a column beside their texts (rp_html_fact). */
#define RP_HTML_CSS_FACTS                                                                                     \
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:5px 18px;margin:12px 0 0}\n"              \
    "dl.facts dt{font-weight:600;color:#4a5561}\n"                                                            \
    "dl.facts dd{margin:0}\n"
/* Tables in a <div class="scroll"> (scrolled sideways when too wide). */
#define RP_HTML_CSS_TABLE                                                                                     \
    ".scroll{overflow-x:auto}\n"                                                                              \
    "table{border-collapse:collapse;background:#fff;width:100%;font-size:13.5px}\n"                           \
    "th,td{border:1px solid #d3d9df;padding:5px 8px;text-align:left;vertical-align:top}\n"                     \
    "th{background:#e9edf1;font-weight:600}\n"
#define RP_HTML_CSS_ERR ".err{color:#9d1c12}\n"
/* <div class="charts">: the SVG charts (rp_svg.h) in a grid. */
#define RP_HTML_CSS_CHARTS ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px;margin-top:14px}\n"
#define RP_HTML_CSS_FOOTER "footer{margin-top:36px;color:#5b6670;font-size:13px}\n"

/* Appends the start of a page: doctype, head (`title`, `css` inline), then
 * <body><main><header><h1>title</h1> and, when `lead` is neither NULL nor
 * empty, <p class="lead">lead</p>. The caller closes the header. */
void rp_html_open(GString *out, const char *title, const char *lead, const char *css);
/* Appends the end of a page: </main></body></html>. */
void rp_html_close(GString *out);

/* Appends `text` escaped for HTML (rp_svg_escape). NULL appends nothing. */
void rp_html_escape(GString *out, const char *text);
/* Appends printf-formatted text, escaped. */
void rp_html_escapef(GString *out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* <tag attrs>escaped text</tag>; `attrs` may be NULL. */
void rp_html_elem(GString *out, const char *tag, const char *attrs, const char *text);
/* <dt>term</dt><dd>text</dd> and a newline, both escaped: one entry of a
 * <dl class="facts">. */
void rp_html_fact(GString *out, const char *term, const char *text);

#endif /* RP_HTML_H */
