/*
 * ss_output.c: output files written to a temporary name and renamed into
 * place (see ss_output.h).
 *
 * Opening resolves the destination: a symbolic link to its target (realpath),
 * then, for a regular file or a path that does not exist, a temporary file
 * ".NAME.XXXXXX" in the destination's folder (g_mkstemp_full, mode 0666
 * minus the umask); for anything else (device, pipe) the destination itself,
 * opened for writing. Committing checks the stream's error flag, closes it
 * and renames; aborting closes and unlinks.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "ss_output.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ss_error.h"

struct SsOutput {
    char *path;      /* as given, for messages */
    char *target;    /* the file the rename replaces (the path, or a link's target) */
    char *tmp;       /* the temporary file, NULL when writing through */
    FILE *fp;
};

static void output_free(SsOutput *o)
{
    g_free(o->path);
    g_free(o->target);
    g_free(o->tmp);
    g_free(o);
}

static SsOutput *fail_errno(SsOutput *o, int err, GError **error)
{
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot write: %s", o->path, g_strerror(err));
    output_free(o);
    return NULL;
}

SsOutput *ss_output_open(const char *path, GError **error)
{
    SsOutput *o = g_new0(SsOutput, 1);
    o->path = g_strdup(path);
    if (!path || !*path)
        return fail_errno(o, ENOENT, error);
    o->target = g_strdup(path);
    GStatBuf st;
    gboolean exists = g_lstat(path, &st) == 0;
    if (exists && S_ISLNK(st.st_mode)) {
        char *real = realpath(path, NULL);
        if (real) { /* an existing target: replace it, keep the link */
            g_free(o->target);
            o->target = g_strdup(real);
            free(real);
            exists = g_stat(o->target, &st) == 0;
        } else {
            exists = TRUE; /* a dangling link: written through, fopen creates its target */
            st.st_mode = S_IFLNK;
        }
    }
    if (exists && S_ISDIR(st.st_mode)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot write: it is a folder, expected a file name",
                    path);
        output_free(o);
        return NULL;
    }
    if (!exists || S_ISREG(st.st_mode)) {
        char *dir = g_path_get_dirname(o->target);
        char *base = g_path_get_basename(o->target);
        char *name = g_strdup_printf(".%s.XXXXXX", base);
        o->tmp = g_build_filename(dir, name, NULL);
        g_free(dir);
        g_free(base);
        g_free(name);
        int fd = g_mkstemp_full(o->tmp, O_WRONLY, 0666);
        if (fd < 0) {
            int e = errno;
            g_clear_pointer(&o->tmp, g_free);
            return fail_errno(o, e, error);
        }
        o->fp = fdopen(fd, "w");
        if (!o->fp) {
            int e = errno;
            close(fd);
            g_unlink(o->tmp);
            g_clear_pointer(&o->tmp, g_free);
            return fail_errno(o, e, error);
        }
        return o;
    }
    o->fp = fopen(path, "w"); /* a device or a pipe: written through */
    if (!o->fp)
        return fail_errno(o, errno, error);
    return o;
}

FILE *ss_output_stream(SsOutput *o)
{
    return o->fp;
}

const char *ss_output_path(const SsOutput *o)
{
    return o->path;
}

gboolean ss_output_commit(SsOutput *o, GError **error)
{
    int err = 0;
    if (fflush(o->fp) != 0)
        err = errno ? errno : EIO;
    if (ferror(o->fp) && !err)
        err = EIO;
    if (fclose(o->fp) != 0 && !err)
        err = errno ? errno : EIO;
    o->fp = NULL;
    if (!err && o->tmp && g_rename(o->tmp, o->target) != 0)
        err = errno;
    if (err) {
        if (o->tmp)
            g_unlink(o->tmp);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: write failed: %s", o->path, g_strerror(err));
        output_free(o);
        return FALSE;
    }
    output_free(o);
    return TRUE;
}

void ss_output_abort(SsOutput *o)
{
    if (!o)
        return;
    if (o->fp)
        fclose(o->fp);
    if (o->tmp)
        g_unlink(o->tmp);
    output_free(o);
}

gboolean ss_output_write_text(const char *path, const char *text, GError **error)
{
    SsOutput *o = ss_output_open(path, error);
    if (!o)
        return FALSE;
    fputs(text, ss_output_stream(o));
    return ss_output_commit(o, error);
}
