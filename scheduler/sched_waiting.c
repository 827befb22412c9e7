/*
 * sched_waiting.c: the waiting queue. Under FCFS a ring buffer of requests
 * in arrival order, a preempted (or set aside) request going back to its
 * front; under the priority policy a binary heap on vLLM's (priority,
 * arrival) order, which a preempted request re-enters at its own place.
 * Requests whose remote KV has arrived wait ahead of it, in a FIFO of their
 * own (s->ready: sched_internal.h's next_waiting and pop_waiting see both).
 * O(1) per operation under FCFS (amortised over the doublings), O(log
 * waiting) under the priority policy.
 */
#include "sched_internal.h"

static void heap_push(SchedScheduler *s, SchedRequest *r)
{
    uint32_t i = s->wait_len++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!prio_before(r, s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = r;
}

static SchedRequest *heap_pop(SchedScheduler *s)
{
    SchedRequest *top = s->heap[0];
    SchedRequest *last = s->heap[--s->wait_len];
    uint32_t i = 0, n = s->wait_len;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && prio_before(s->heap[c + 1], s->heap[c]))
            c++;
        if (!prio_before(s->heap[c], last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n > 0)
        s->heap[i] = last;
    return top;
}

static void waiting_grow(SchedScheduler *s)
{
    uint32_t cap = s->wait_cap * 2;
    SchedRequest **w = g_new(SchedRequest *, cap);
    for (uint32_t i = 0; i < s->wait_len; i++)
        w[i] = s->waiting[(s->wait_head + i) % s->wait_cap];
    g_free(s->waiting);
    s->waiting = w;
    s->wait_cap = cap;
    s->wait_head = 0;
    if (s->heap)
        s->heap = g_renew(SchedRequest *, s->heap, cap);
}

void sched_waiting_push_back(SchedScheduler *s, SchedRequest *r)
{
    if (s->wait_len == s->wait_cap)
        waiting_grow(s);
    if (G_UNLIKELY(s->heap != NULL)) {
        heap_push(s, r);
        return;
    }
    s->waiting[(s->wait_head + s->wait_len) % s->wait_cap] = r;
    s->wait_len++;
}

/* A preempted (or set aside) request: the front of the FCFS queue; under
 * the priority policy, back into the heap at its own place. */
void sched_waiting_push_front(SchedScheduler *s, SchedRequest *r)
{
    if (s->wait_len == s->wait_cap)
        waiting_grow(s);
    if (G_UNLIKELY(s->heap != NULL)) {
        heap_push(s, r);
        return;
    }
    s->wait_head = (s->wait_head + s->wait_cap - 1) % s->wait_cap;
    s->waiting[s->wait_head] = r;
    s->wait_len++;
}

SchedRequest *sched_waiting_pop_front(SchedScheduler *s)
{
    if (G_UNLIKELY(s->heap != NULL))
        return heap_pop(s);
    SchedRequest *r = s->waiting[s->wait_head];
    s->wait_head = (s->wait_head + 1) % s->wait_cap;
    s->wait_len--;
    return r;
}

void sched_add_request(SchedScheduler *s, SchedRequest *r)
{
    /* the engine adds only requests fresh from sched_request_init: a bug
     * check, unreachable from input */
    g_assert(r->status == SCHED_WAITING && r->num_computed == 0 && r->num_blocks == 0);
    sched_waiting_push_back(s, r);
}

SchedRequest *sched_waiting_at(const SchedScheduler *s, uint32_t i)
{
    uint32_t nready = s->ready->len - s->ready_head;
    if (i < nready)
        return g_ptr_array_index(s->ready, s->ready_head + i);
    i -= nready;
    if (i >= s->wait_len)
        return NULL;
    return s->heap ? s->heap[i] : s->waiting[(s->wait_head + i) % s->wait_cap];
}
