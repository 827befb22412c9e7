/*
 * sim_queue.c: binary min-heap of events on (time, seq); see sim_queue.h.
 */
#include "sim_queue.h"

struct SimQueue {
    SimEvent *heap;
    size_t len;
    size_t cap;
    uint64_t next_seq;
};

static inline gboolean before(const SimEvent *a, const SimEvent *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

SimQueue *sim_queue_new(void)
{
    SimQueue *q = g_new0(SimQueue, 1);
    q->cap = 64;
    q->heap = g_new(SimEvent, q->cap);
    return q;
}

void sim_queue_free(SimQueue *q)
{
    if (!q)
        return;
    g_free(q->heap);
    g_free(q);
}

uint64_t sim_queue_push(SimQueue *q, SimTime time, uint32_t kind, uint64_t data)
{
    if (q->len == q->cap) {
        q->cap *= 2;
        q->heap = g_renew(SimEvent, q->heap, q->cap);
    }
    SimEvent ev = {.time = time, .seq = q->next_seq++, .kind = kind, .data = data};
    size_t i = q->len++;
    while (i > 0) { /* sift up */
        size_t parent = (i - 1) / 2;
        if (!before(&ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
    return ev.seq;
}

gboolean sim_queue_pop(SimQueue *q, SimEvent *out)
{
    if (q->len == 0)
        return FALSE;
    *out = q->heap[0];
    SimEvent last = q->heap[--q->len];
    size_t i = 0, n = q->len;
    for (;;) { /* sift the last element down from the root */
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(&q->heap[child + 1], &q->heap[child]))
            child++;
        if (!before(&q->heap[child], &last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (n > 0)
        q->heap[i] = last;
    return TRUE;
}

const SimEvent *sim_queue_peek(const SimQueue *q)
{
    return q->len ? &q->heap[0] : NULL;
}

size_t sim_queue_size(const SimQueue *q)
{
    return q->len;
}
