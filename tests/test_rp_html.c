/*
 * test_rp_html.c: the HTML page parts that the plan and sweep reports share
 * (report/rp_html.c): the head carries the content policy and the given
 * stylesheet, the title and lead are escaped and the lead is left out when
 * empty, elements and facts escape their text (and repair invalid UTF-8),
 * and the shared style rules are the ones both reports open with.
 */
#include <string.h>

#include "rp_html.h"
#include "ss_test.h"

static void test_open_and_close(void)
{
    GString *o = g_string_new(NULL);
    rp_html_open(o, "Plan: <b>&\"x\"", "a <i>lead</i>", "p{color:red}\n");
    rp_html_close(o);
    const char *s = o->str;
    CU_ASSERT(g_str_has_prefix(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<title>Plan: &lt;b&gt;&amp;&quot;x&quot;</title>\n<style>\np{color:red}\n</style>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<header>\n<h1>Plan: &lt;b&gt;&amp;&quot;x&quot;</h1>\n"
                                     "<p class=\"lead\">a &lt;i&gt;lead&lt;/i&gt;</p>\n"));
    CU_ASSERT(g_str_has_suffix(s, "</h1>\n<p class=\"lead\">a &lt;i&gt;lead&lt;/i&gt;</p>\n</main>\n</body>\n"
                                  "</html>\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "<b>"));
    CU_ASSERT_PTR_NULL(strstr(s, "<script"));
    g_string_free(o, TRUE);

    o = g_string_new(NULL);
    rp_html_open(o, "t", "", "");
    CU_ASSERT_PTR_NULL(strstr(o->str, "class=\"lead\""));
    CU_ASSERT(g_str_has_suffix(o->str, "<h1>t</h1>\n"));
    g_string_truncate(o, 0);
    rp_html_open(o, "t", NULL, "");
    CU_ASSERT_PTR_NULL(strstr(o->str, "class=\"lead\""));
    g_string_free(o, TRUE);
}

static void test_elements(void)
{
    GString *o = g_string_new(NULL);
    rp_html_elem(o, "td", "class=\"n\"", "1 < 2 & 'q'");
    CU_ASSERT_STRING_EQUAL(o->str, "<td class=\"n\">1 &lt; 2 &amp; &#39;q&#39;</td>");
    g_string_truncate(o, 0);
    rp_html_elem(o, "p", NULL, NULL);
    CU_ASSERT_STRING_EQUAL(o->str, "<p></p>");
    g_string_truncate(o, 0);
    rp_html_fact(o, "a<b", "c\x01\xff");
    CU_ASSERT_STRING_EQUAL(o->str, "<dt>a&lt;b</dt><dd>c \xef\xbf\xbd</dd>\n");
    g_string_truncate(o, 0);
    rp_html_escapef(o, "%u <%s>", 3u, "x");
    CU_ASSERT_STRING_EQUAL(o->str, "3 &lt;x&gt;");
    g_string_free(o, TRUE);
}

static void test_shared_css(void)
{
    /* each rule ends its line; the page rules open with the box model */
    static const char *const parts[] = {RP_HTML_CSS_PAGE, RP_HTML_CSS_LEAD, RP_HTML_CSS_FACTS, RP_HTML_CSS_TABLE,
                                        RP_HTML_CSS_ERR, RP_HTML_CSS_CHARTS, RP_HTML_CSS_FOOTER};
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        CU_ASSERT(g_str_has_suffix(parts[i], "}\n"));
        CU_ASSERT_PTR_NULL(strstr(parts[i], "url("));
    }
    CU_ASSERT(g_str_has_prefix(RP_HTML_CSS_PAGE, "*{box-sizing:border-box}\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(RP_HTML_CSS_FACTS, "dl.facts dt{"));
}

static const SsTestCase cases[] = {
    {"the page's head, title, lead and end", test_open_and_close},
    {"elements and facts escape their text", test_elements},
    {"the shared style rules", test_shared_css},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"report html", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
