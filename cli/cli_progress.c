/*
 * cli_progress.c: the progress line of long commands (run, replay, sweep,
 * plan) on stderr.
 *
 * The line appears only when stderr is a terminal, --quiet was not given,
 * and the work has run for more than a second; it is rewritten in place at
 * most five times a second and erased when the work ends, so short runs,
 * pipes and logs never see it. Callers may report from several threads:
 * a mutex serialises the writes.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void cli_progress_init(CliProgress *p, gboolean quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->t0 = g_get_monotonic_time();
    p->last = 0;
    p->shown = FALSE;
    g_mutex_init(&p->lock);
}

double cli_progress_elapsed(const CliProgress *p)
{
    return (g_get_monotonic_time() - p->t0) / 1e6;
}

void cli_progress_show(CliProgress *p, const char *format, ...)
{
    if (!p->enabled)
        return;
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&p->lock);
    if (now - p->t0 >= G_USEC_PER_SEC && now - p->last >= G_USEC_PER_SEC / 5) {
        va_list ap;
        va_start(ap, format);
        char *text = g_strdup_vprintf(format, ap);
        va_end(ap);
        fprintf(stderr, "\r\033[K%s", text);
        fflush(stderr);
        g_free(text);
        p->last = now;
        p->shown = TRUE;
    }
    g_mutex_unlock(&p->lock);
}

void cli_progress_done(CliProgress *p)
{
    g_mutex_lock(&p->lock);
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->shown = FALSE;
    }
    g_mutex_unlock(&p->lock);
    g_mutex_clear(&p->lock);
}
