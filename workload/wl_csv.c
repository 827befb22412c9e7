/*
 * wl_csv.c: a streaming CSV reader on libcsv that knows physical line
 * numbers, and the integer-column reader of empirical distributions.
 *
 * The file is read in blocks of 64 KiB, split into physical lines (memchr for
 * the line feed), and each line is fed to csv_parse() (strict mode, so a stray quote is an error rather
 * than a guess). The field callback copies the field out of libcsv's buffer
 * into the row being built; the row callback moves the finished row to a
 * small queue. A field's line is the current line minus the line feeds
 * inside it, so a quoted field spanning lines is reported where it starts.
 * CRLF line ends are handled by libcsv (the LF of a CRLF pair is recognised
 * and dropped). With CSV_REPALL_NL libcsv reports bare line ends too, which is
 * how blank lines are seen: they become empty rows, except at the end of the
 * file (a trailing blank line is common and harmless).
 *
 * A physical line longer than WL_CSV_MAX_LINE is an error of its own (not
 * an allocation without end: a binary file or /dev/zero given as a trace).
 *
 * Cost: O(bytes) time; memory the longest line and row plus a queue that
 * holds one row (several only when a single line holds bare CRs). Entries
 * are recycled, so steady-state reading does not allocate. A field holding a
 * NUL byte is an error of its row (callers work on NUL-terminated copies, so
 * it would otherwise be cut short without a word). Limits: a file
 * that ends lines with bare CRs only is parsed correctly but numbered as one
 * line.
 */
#include "wl_internal.h"

#include <csv.h>
#include <errno.h>
#include <string.h>

typedef enum {
    ENTRY_ROW = 0,
    ENTRY_BLANK,  /* blank_count empty lines starting at `line` */
    ENTRY_ERROR,  /* a malformed row */
} EntryKind;

typedef struct {
    EntryKind kind;
    GString *text;     /* the fields, each followed by a NUL */
    GArray *offsets;   /* gsize: start of each field in text */
    GArray *lines;     /* guint64: line where each field starts */
    guint64 line;      /* ROW: line of the first field; BLANK: first blank line */
    guint64 blank_count;
    GError *error;     /* ERROR */
    guint nul_field;   /* ROW: 1-based field holding the first NUL byte, 0: none */
    guint64 nul_line;  /* ROW: the line of that field */
} Entry;

#define BLOCK_SIZE 65536

struct WlCsvReader {
    char *path;
    FILE *fp;
    struct csv_parser parser;
    char *block;       /* BLOCK_SIZE bytes read ahead */
    size_t block_pos, block_end;
    gboolean block_eof;
    char *linebuf;     /* the current physical line */
    size_t linecap;
    guint64 line_no;   /* physical line being parsed (1-based) */
    gboolean at_eof;
    gboolean broken;   /* I/O error: final */
    GQueue ready;      /* Entry *, in file order */
    GPtrArray *spare;  /* Entry *, for reuse */
    Entry *building;   /* the row whose fields are arriving */
    Entry *current;    /* the row last returned, recycled at the next call */
    GPtrArray *field_ptrs; /* const char *: fields of `current` */
    int last_term;     /* the last row terminator seen (to fold CRLF), 0 after a field */
    guint64 blank_line, blank_count; /* blank lines not yet known to precede a row */
    gboolean line_had_lf; /* the last line read ended with a line feed */
};

static Entry *entry_get(WlCsvReader *r, EntryKind kind)
{
    Entry *e;
    if (r->spare->len > 0) {
        e = g_ptr_array_steal_index_fast(r->spare, r->spare->len - 1);
    } else {
        e = g_new0(Entry, 1);
        e->text = g_string_sized_new(64);
        e->offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
        e->lines = g_array_new(FALSE, FALSE, sizeof(guint64));
    }
    e->kind = kind;
    g_string_truncate(e->text, 0);
    g_array_set_size(e->offsets, 0);
    g_array_set_size(e->lines, 0);
    e->line = 0;
    e->blank_count = 0;
    e->error = NULL;
    e->nul_field = 0;
    e->nul_line = 0;
    return e;
}

static void entry_put(WlCsvReader *r, Entry *e)
{
    if (!e)
        return;
    g_clear_error(&e->error);
    g_ptr_array_add(r->spare, e);
}

static void entry_free(gpointer p)
{
    Entry *e = p;
    if (!e)
        return;
    g_string_free(e->text, TRUE);
    g_array_free(e->offsets, TRUE);
    g_array_free(e->lines, TRUE);
    g_clear_error(&e->error);
    g_free(e);
}

/* Blank lines followed by something: they are empty rows after all. */
static void flush_blanks(WlCsvReader *r)
{
    if (r->blank_count == 0)
        return;
    Entry *e = entry_get(r, ENTRY_BLANK);
    e->line = r->blank_line;
    e->blank_count = r->blank_count;
    g_queue_push_tail(&r->ready, e);
    r->blank_count = 0;
}

static void on_field(void *s, size_t len, void *data)
{
    WlCsvReader *r = data;
    if (!r->building)
        r->building = entry_get(r, ENTRY_ROW);
    Entry *e = r->building;
    const char *text = s ? s : "";
    guint64 newlines = 0;
    for (size_t i = 0; i < len; i++)
        newlines += text[i] == '\n';
    guint64 line = r->line_no > newlines ? r->line_no - newlines : 1;
    if (e->offsets->len == 0)
        e->line = line;
    if (e->nul_field == 0 && len > 0 && memchr(text, '\0', len)) {
        e->nul_field = e->offsets->len + 1;
        e->nul_line = line;
    }
    gsize off = e->text->len;
    g_array_append_val(e->offsets, off);
    g_array_append_val(e->lines, line);
    g_string_append_len(e->text, text, (gssize)len);
    g_string_append_c(e->text, '\0');
    r->last_term = 0;
}

static void on_row(int c, void *data)
{
    WlCsvReader *r = data;
    if (r->building) {
        flush_blanks(r);
        g_queue_push_tail(&r->ready, r->building);
        r->building = NULL;
    } else if (!(c == '\n' && r->last_term == '\r')) { /* not the LF of a CRLF */
        if (r->blank_count == 0)
            r->blank_line = r->line_no;
        r->blank_count++;
    }
    r->last_term = c;
}

static void parser_init(WlCsvReader *r)
{
    /* csv_init fails only when malloc does (g_malloc aborts then too) */
    if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
        g_error("libcsv: out of memory");
}

WlCsvReader *wl_csv_reader_open(const char *path, GError **error)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        wl_set_error(error, "%s: cannot open: %s", path, g_strerror(e));
        return NULL;
    }
    WlCsvReader *r = g_new0(WlCsvReader, 1);
    r->path = g_strdup(path);
    r->fp = fp;
    r->block = g_malloc(BLOCK_SIZE);
    r->spare = g_ptr_array_new_with_free_func(entry_free);
    r->field_ptrs = g_ptr_array_new();
    g_queue_init(&r->ready);
    r->last_term = '\n';
    parser_init(r);
    return r;
}

const char *wl_csv_reader_path(const WlCsvReader *r)
{
    return r->path;
}

gboolean wl_csv_reader_broken(const WlCsvReader *r)
{
    return r->broken;
}

/* A malformed line: the row being built is dropped, the parser restarted,
 * and an error entry queued in file order. */
static void queue_error(WlCsvReader *r, GError *err)
{
    entry_put(r, r->building);
    r->building = NULL;
    csv_free(&r->parser);
    parser_init(r);
    r->last_term = '\n';
    flush_blanks(r);
    Entry *e = entry_get(r, ENTRY_ERROR);
    e->error = err;
    g_queue_push_tail(&r->ready, e);
}

/* Reads and parses one more physical line (or finishes the file). Returns
 * FALSE on an I/O error (error set). */
/* Reads the next physical line (with its line feed, if any) into linebuf.
 * Returns its length, 0 at the end of the file, -1 on a read error (errno
 * set), -2 when it is longer than WL_CSV_MAX_LINE. */
static gssize read_line(WlCsvReader *r)
{
    size_t len = 0;
    for (;;) {
        if (r->block_pos == r->block_end) {
            if (r->block_eof)
                return (gssize)len;
            errno = 0;
            size_t n = fread(r->block, 1, BLOCK_SIZE, r->fp);
            if (n == 0) {
                if (ferror(r->fp))
                    return -1;
                r->block_eof = TRUE;
                return (gssize)len;
            }
            r->block_pos = 0;
            r->block_end = n;
        }
        const char *from = r->block + r->block_pos;
        const char *nl = memchr(from, '\n', r->block_end - r->block_pos);
        size_t take = nl ? (size_t)(nl - from) + 1 : r->block_end - r->block_pos;
        if (len + take > WL_CSV_MAX_LINE)
            return -2;
        if (len + take > r->linecap) {
            r->linecap = MAX(len + take, MAX(r->linecap * 2, 256));
            r->linebuf = g_realloc(r->linebuf, r->linecap);
        }
        memcpy(r->linebuf + len, from, take);
        len += take;
        r->block_pos += take;
        if (nl)
            return (gssize)len;
    }
}

static gboolean feed_line(WlCsvReader *r, GError **error)
{
    gssize n = read_line(r);
    if (n == -2) {
        r->broken = TRUE;
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ": expected a CSV line, got more than %u bytes without a "
                     "line end (is it a CSV file?)", r->path, r->line_no + 1, WL_CSV_MAX_LINE);
        return FALSE;
    }
    if (n <= 0) {
        if (n < 0) {
            int e = errno;
            r->broken = TRUE;
            wl_set_error(error, "%s:%" G_GUINT64_FORMAT ": cannot read: %s", r->path,
                         r->line_no + 1, g_strerror(e ? e : EIO));
            return FALSE;
        }
        r->at_eof = TRUE;
        /* Counts the line feeds of an unterminated quoted field (read from
         * the parser's public buffer fields) to say where it started. */
        guint64 newlines = 0;
        for (size_t i = 0; i < r->parser.entry_pos; i++)
            newlines += r->parser.entry_buf[i] == '\n';
        if (newlines > 0 && r->line_had_lf)
            newlines--; /* the last line's own line feed */
        guint col = r->building ? r->building->offsets->len + 1 : 1;
        if (csv_fini(&r->parser, on_field, on_row, r) != 0) {
            guint64 start = r->line_no > newlines ? r->line_no - newlines : 1;
            queue_error(r, g_error_new(SS_ERROR, SS_ERROR_INPUT,
                                       "%s:%" G_GUINT64_FORMAT ":%u: expected a closing quote, got "
                                       "the end of the file (the quoted field starts on line %"
                                       G_GUINT64_FORMAT ")",
                                       r->path, start, col, start));
        }
        return TRUE;
    }
    r->line_no++;
    const char *data = r->linebuf;
    size_t len = (size_t)n;
    r->line_had_lf = len > 0 && data[len - 1] == '\n';
    if (r->line_no == 1 && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3; /* a UTF-8 byte order mark */
        len -= 3;
    }
    size_t used = csv_parse(&r->parser, data, len, on_field, on_row, r);
    if (r->parser.entry_pos > WL_CSV_MAX_LINE) { /* a quoted field over many lines */
        r->broken = TRUE;
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ": expected a field of at most %u bytes, got more (a quote "
                     "that is never closed?)", r->path, r->line_no, WL_CSV_MAX_LINE);
        return FALSE;
    }
    if (used != len) {
        /* Out of memory, like a failed g_malloc (which aborts): not a state
         * input can reach, lines and fields being bounded above. */
        if (csv_error(&r->parser) == CSV_ENOMEM)
            g_error("libcsv: out of memory");
        guint col = r->building ? r->building->offsets->len + 1 : 1;
        queue_error(r, g_error_new(SS_ERROR, SS_ERROR_INPUT,
                                   "%s:%" G_GUINT64_FORMAT ":%u: malformed CSV: expected a "
                                   "delimiter or a line end after a closing quote, and no quote "
                                   "inside an unquoted field",
                                   r->path, r->line_no, col));
    }
    return TRUE;
}

int wl_csv_reader_next(WlCsvReader *r, WlCsvRow *row, GError **error)
{
    entry_put(r, r->current);
    r->current = NULL;
    for (;;) {
        Entry *e = g_queue_peek_head(&r->ready);
        if (e && e->kind == ENTRY_BLANK) {
            row->num_fields = 0;
            row->line = e->line;
            row->fields = NULL;
            row->field_lines = NULL;
            e->line++;
            if (--e->blank_count == 0)
                entry_put(r, g_queue_pop_head(&r->ready));
            return 1;
        }
        if (e && e->kind == ENTRY_ERROR) {
            g_queue_pop_head(&r->ready);
            g_propagate_error(error, e->error);
            e->error = NULL;
            entry_put(r, e);
            return -1;
        }
        if (e && e->nul_field > 0) {
            g_queue_pop_head(&r->ready);
            wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":%u: expected text, got a NUL byte in the field",
                         r->path, e->nul_line, e->nul_field);
            entry_put(r, e);
            return -1;
        }
        if (e) {
            g_queue_pop_head(&r->ready);
            r->current = e;
            g_ptr_array_set_size(r->field_ptrs, 0);
            for (guint i = 0; i < e->offsets->len; i++)
                g_ptr_array_add(r->field_ptrs,
                                e->text->str + g_array_index(e->offsets, gsize, i));
            row->num_fields = e->offsets->len;
            row->line = e->line;
            row->fields = (const char *const *)r->field_ptrs->pdata;
            row->field_lines = (const guint64 *)(gconstpointer)e->lines->data;
            return 1;
        }
        if (r->broken) {
            wl_set_error(error, "%s: cannot read on after an earlier read error", r->path);
            return -1;
        }
        if (r->at_eof)
            return 0; /* blank lines at the end are ignored */
        if (!feed_line(r, error))
            return -1;
    }
}

void wl_csv_reader_free(WlCsvReader *r)
{
    if (!r)
        return;
    entry_put(r, r->building);
    entry_put(r, r->current);
    Entry *e;
    while ((e = g_queue_pop_head(&r->ready)))
        entry_free(e);
    g_ptr_array_free(r->spare, TRUE);
    g_ptr_array_free(r->field_ptrs, TRUE);
    csv_free(&r->parser);
    g_free(r->linebuf);
    g_free(r->block);
    if (r->fp)
        fclose(r->fp);
    g_free(r->path);
    g_free(r);
}

/* ------------------------------------------------------ field checks -- */

gboolean wl_csv_field_count(const char *path, const WlCsvRow *row, guint index,
                            const char *column, gboolean allow_zero, guint64 max, guint64 *out,
                            GError **error)
{
    const char *expected = allow_zero ? "a non-negative integer" : "a positive integer";
    if (index >= row->num_fields) {
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%u: column '%s': expected %s, got no field (the row "
                     "has %u field%s)",
                     path, row->line, index + 1, column, expected, row->num_fields,
                     row->num_fields == 1 ? "" : "s");
        return FALSE;
    }
    const char *text = row->fields[index];
    guint64 line = row->field_lines[index];
    guint64 v = 0;
    WlParseStatus st = wl_parse_uint(text, max, &v);
    if (st == WL_PARSE_EMPTY) {
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":%u: column '%s': expected %s, got an empty field",
                     path, line, index + 1, column, expected);
        return FALSE;
    }
    if (st == WL_PARSE_RANGE) {
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%u: column '%s': expected %s of at most %"
                     G_GUINT64_FORMAT ", got '%s'",
                     path, line, index + 1, column, expected, max, text);
        return FALSE;
    }
    if (st != WL_PARSE_OK || (v == 0 && !allow_zero)) {
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":%u: column '%s': expected %s, got '%s'", path,
                     line, index + 1, column, expected, text);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean wl_csv_read_header(WlCsvReader *r, WlCsvRow *header, GError **error)
{
    for (;;) {
        int got = wl_csv_reader_next(r, header, error);
        if (got < 0)
            return FALSE;
        if (got == 0) {
            wl_set_error(error, "%s: expected a header line, got an empty file", r->path);
            return FALSE;
        }
        if (header->num_fields > 0)
            return TRUE; /* blank lines before the header are skipped */
    }
}

int wl_csv_header_find(const WlCsvRow *header, const char *name)
{
    for (guint i = 0; i < header->num_fields; i++)
        if (strcmp(header->fields[i], name) == 0)
            return (int)i;
    return -1;
}

char *wl_csv_header_join(const WlCsvRow *header)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < header->num_fields; i++)
        g_string_append_printf(s, "%s%s", i ? "," : "", header->fields[i]);
    return g_string_free(s, FALSE);
}

GArray *wl_csv_read_column(const char *path, const char *column, GError **error)
{
    GArray *values = NULL;
    WlCsvRow row;
    WlCsvReader *r = wl_csv_reader_open(path, error);
    if (!r)
        goto fail;
    if (!wl_csv_read_header(r, &row, error))
        goto fail;
    int col = wl_csv_header_find(&row, column);
    if (col < 0) {
        char *names = wl_csv_header_join(&row);
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ": expected a column '%s', got the header '%s'",
                     path, row.line, column, names);
        g_free(names);
        goto fail;
    }
    values = g_array_new(FALSE, FALSE, sizeof(guint32));
    int got;
    while ((got = wl_csv_reader_next(r, &row, error)) > 0) {
        if (row.num_fields == 0) {
            wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":1: expected a data row, got an empty row",
                         path, row.line);
            goto fail;
        }
        guint64 v;
        if (!wl_csv_field_count(path, &row, (guint)col, column, FALSE, WL_MAX_TOKENS, &v, error))
            goto fail;
        guint32 v32 = (guint32)v;
        g_array_append_val(values, v32);
    }
    if (got < 0)
        goto fail;
    if (values->len == 0) {
        wl_set_error(error, "%s: column '%s': expected at least one value, got no data rows", path,
                     column);
        goto fail;
    }
    wl_csv_reader_free(r);
    return values;
fail:
    if (values)
        g_array_free(values, TRUE);
    wl_csv_reader_free(r);
    return NULL;
}
