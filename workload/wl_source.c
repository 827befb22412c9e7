/*
 * wl_source.c: the common part of every request source.
 *
 * A source is a kind (synthetic or trace, through a small table of
 * operations) plus what all kinds share: the id counter, the class names
 * (interned in order of first appearance; a hash table maps a name to its id,
 * and nothing ever iterates it, so its order never reaches output), the
 * skipped-row count and the description. Cost: O(1) per request beyond the
 * kind's own work. Limits: after an error the source stays failed; ids and
 * class ids are assigned in the order requests are yielded.
 */
#include "wl_internal.h"

WlSource *wl_source_alloc(const WlSourceOps *ops, void *impl)
{
    WlSource *src = g_new0(WlSource, 1);
    src->ops = ops;
    src->impl = impl;
    src->class_names = g_ptr_array_new_with_free_func(g_free);
    src->class_ids = g_hash_table_new(g_str_hash, g_str_equal);
    src->adapter_names = g_ptr_array_new_with_free_func(g_free);
    src->adapter_ids = g_hash_table_new(g_str_hash, g_str_equal);
    return src;
}

guint32 wl_source_intern_adapter(WlSource *src, const char *name)
{
    gpointer id = g_hash_table_lookup(src->adapter_ids, name);
    if (id)
        return GPOINTER_TO_UINT(id);
    if (src->adapter_names->len >= WL_MAX_ADAPTERS)
        return 0;
    char *copy = g_strdup(name);
    g_ptr_array_add(src->adapter_names, copy);
    guint32 new_id = src->adapter_names->len;
    g_hash_table_insert(src->adapter_ids, copy, GUINT_TO_POINTER(new_id));
    return new_id;
}

guint wl_source_num_adapters(const WlSource *src)
{
    return src->adapter_names->len;
}

const char *wl_source_adapter_name(const WlSource *src, guint lora_id)
{
    g_return_val_if_fail(lora_id >= 1 && lora_id <= src->adapter_names->len, NULL);
    return g_ptr_array_index(src->adapter_names, lora_id - 1);
}

int wl_source_intern_class(WlSource *src, const char *name)
{
    gpointer id = g_hash_table_lookup(src->class_ids, name);
    if (id)
        return GPOINTER_TO_INT(id) - 1;
    if (src->class_names->len >= WL_MAX_CLASSES)
        return -1;
    char *copy = g_strdup(name);
    g_ptr_array_add(src->class_names, copy);
    int new_id = (int)src->class_names->len - 1;
    g_hash_table_insert(src->class_ids, copy, GINT_TO_POINTER(new_id + 1));
    return new_id;
}

int wl_source_next(WlSource *src, WlRequest *out, GError **error)
{
    g_return_val_if_fail(src != NULL && out != NULL, -1); /* a contract on the caller, not input */
    if (src->failed) {
        wl_set_error(error, "the request source stopped at an earlier error");
        return -1;
    }
    if (src->ended)
        return 0;
    int got = src->ops->next(src, out, error);
    if (got < 0) {
        src->failed = TRUE;
        return -1;
    }
    if (got == 0) {
        src->ended = TRUE;
        return 0;
    }
    out->id = src->next_id++;
    if (src->progress && src->next_id % src->progress_every == 0)
        src->progress(src->next_id, out->arrival, src->progress_user);
    return 1;
}

void wl_source_set_progress(WlSource *src, WlProgressFunc fn, void *user, uint64_t every)
{
    src->progress = fn;
    src->progress_user = user;
    src->progress_every = every > 0 ? every : 1;
}

guint wl_source_num_classes(const WlSource *src)
{
    return src->class_names->len;
}

const char *wl_source_class_name(const WlSource *src, guint class_id)
{
    /* callers pass ids the source gave (every source has at least one
     * class: synthetic specs need one, traces intern "default"): not input */
    g_return_val_if_fail(class_id < src->class_names->len, NULL);
    return g_ptr_array_index(src->class_names, class_id);
}

uint64_t wl_source_rows_skipped(const WlSource *src)
{
    return src->rows_skipped;
}

double wl_source_offered_rate(const WlSource *src)
{
    return src->offered_rate;
}

WlTraceFormat wl_source_trace_format(const WlSource *src)
{
    return src->trace_format;
}

const char *wl_source_describe(const WlSource *src)
{
    return src->description ? src->description : "";
}

void wl_source_free(WlSource *src)
{
    if (!src)
        return;
    if (src->ops && src->ops->finalize)
        src->ops->finalize(src->impl);
    g_hash_table_destroy(src->class_ids);
    g_ptr_array_free(src->class_names, TRUE);
    g_hash_table_destroy(src->adapter_ids);
    g_ptr_array_free(src->adapter_names, TRUE);
    g_free(src->description);
    g_free(src);
}
