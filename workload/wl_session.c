/*
 * wl_session.c: the sessions of a trace, in reading order.
 *
 * A trace row may name its session (a conversation id, any text). The table
 * keeps, per session, its number (1, 2, ... in order of first appearance),
 * the lengths and line of its last good turn, its current content branch and
 * the next unused branch number. For each new turn it works out the session
 * prefix (given, or derived from the previous turn) and the branches the
 * scheduler names the turn's tokens by (scheduler/sched.h):
 * - derived prefix: the previous turn's input + output when the new prompt
 *   is at least that long (the client sent the whole conversation back),
 *   else 0 (not a continuation);
 * - a turn whose prefix covers all of the previous turn's tokens that had
 *   KV (prefix + 1 >= its input + output) continues its branch; any other
 *   turn starts the next branch number of the session.
 * A turn is checked first (wl_sessions_resolve) and entered only once the
 * whole row is good (wl_sessions_commit). A bad row skipped with
 * skip_bad_rows marks its session (wl_sessions_mark_skipped): the session's
 * next good turn had its previous turn unread, so it is not taken as a
 * continuation (prefix 0, a new branch; a given prefix is not checked).
 * Likewise a session's first turn read after `skip` rows may carry a prefix
 * (tolerate_first): it counts as 0.
 *
 * Cost: one hash lookup per row (two for a session row: check, commit).
 * Memory: one entry per session (about 64 bytes plus its id's text) for the
 * life of the source: a trace gives no sign that a session has ended.
 */
#include "wl_internal.h"

#include <string.h>

typedef struct {
    uint64_t number;        /* 1, 2, ... */
    guint32 input, output;  /* of its last good turn */
    guint64 line;           /* where that turn is */
    guint32 branch;         /* of its last good turn's tokens */
    guint32 next_branch;
    char key[];             /* the id as the trace spells it */
} Entry;

struct WlSessions {
    GHashTable *by_key;     /* key (inside the entry) -> Entry */
    GHashTable *broken;     /* keys (owned) with a row skipped since their last good turn */
    uint64_t count;
};

WlSessions *wl_sessions_new(void)
{
    WlSessions *s = g_new0(WlSessions, 1);
    s->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    s->broken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return s;
}

void wl_sessions_free(WlSessions *s)
{
    if (!s)
        return;
    g_hash_table_destroy(s->by_key);
    g_hash_table_destroy(s->broken);
    g_free(s);
}

void wl_sessions_reset(WlSessions *s)
{
    g_hash_table_remove_all(s->by_key);
    g_hash_table_remove_all(s->broken);
    s->count = 0;
}

uint64_t wl_sessions_count(const WlSessions *s)
{
    return s->count;
}

WlSessionStatus wl_sessions_resolve(const WlSessions *s, const char *key, guint32 input,
                                    gboolean has_prefix, guint32 prefix, gboolean tolerate_first,
                                    WlSessionTurn *turn, WlSessionPrevious *previous)
{
    memset(turn, 0, sizeof *turn);
    memset(previous, 0, sizeof *previous);
    const Entry *e = g_hash_table_lookup(s->by_key, key);
    gboolean broken = g_hash_table_contains(s->broken, key);
    if (!e) {
        turn->id = s->count + 1;
        if (has_prefix && prefix > 0 && !tolerate_first && !broken)
            return WL_SESSION_PREFIX_ON_FIRST;
        return WL_SESSION_OK; /* the first turn: no prefix, branch 0 */
    }
    turn->id = e->number;
    turn->prefix_branch = e->branch;
    if (broken) { /* its previous turn was not read: not a continuation */
        turn->branch = e->next_branch;
        turn->new_branch = TRUE;
        return WL_SESSION_OK;
    }
    previous->input = e->input;
    previous->output = e->output;
    previous->line = e->line;
    guint64 prev_total = (guint64)e->input + e->output;
    if (has_prefix) {
        if (prefix > prev_total)
            return WL_SESSION_PREFIX_PAST_PREVIOUS;
        turn->prefix_tokens = prefix;
    } else {
        turn->prefix_tokens = input >= prev_total ? (guint32)prev_total : 0;
    }
    if (turn->prefix_tokens > 0 && (guint64)turn->prefix_tokens + 1 >= prev_total) {
        turn->branch = e->branch;
    } else {
        turn->branch = e->next_branch;
        turn->new_branch = TRUE;
    }
    return WL_SESSION_OK;
}

void wl_sessions_mark_skipped(WlSessions *s, const char *key)
{
    if (!g_hash_table_contains(s->broken, key))
        g_hash_table_add(s->broken, g_strdup(key));
}

void wl_sessions_commit(WlSessions *s, const char *key, guint32 input, guint32 output,
                        guint64 line, const WlSessionTurn *turn)
{
    Entry *e = g_hash_table_lookup(s->by_key, key);
    if (!e) {
        gsize len = strlen(key);
        e = g_malloc0(sizeof *e + len + 1);
        memcpy(e->key, key, len + 1);
        e->number = ++s->count;
        e->next_branch = 1;
        g_hash_table_insert(s->by_key, e->key, e);
    } else if (turn->new_branch) {
        e->next_branch++;
    }
    /* the turn was resolved for this key just before (the trace reader
     * commits right after a successful resolve): a bug check, not input */
    g_assert(e->number == turn->id);
    g_hash_table_remove(s->broken, key);
    e->input = input;
    e->output = output;
    e->line = line;
    e->branch = turn->branch;
}
