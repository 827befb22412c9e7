/*
 * sim_queue.h: the event queue: a binary min-heap ordered by (time, seq).
 *
 * Every push gets the next sequence number, so events with equal times pop
 * in the order they were pushed (FIFO): the simulation has a total order of
 * events and no tie is left to chance. O(log n) per push and pop; the heap
 * array grows by doubling and never shrinks (no allocation in steady state).
 */
#ifndef SIM_QUEUE_H
#define SIM_QUEUE_H

#include <glib.h>

#include "ss_types.h"

typedef struct {
    SimTime time;   /* when it happens */
    uint64_t seq;   /* push order: breaks ties */
    uint32_t kind;  /* the caller's event type */
    uint64_t data;  /* the caller's payload */
} SimEvent;

typedef struct SimQueue SimQueue;

SimQueue *sim_queue_new(void);
void sim_queue_free(SimQueue *q); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimQueue, sim_queue_free)

/* Schedules an event; returns its sequence number. */
uint64_t sim_queue_push(SimQueue *q, SimTime time, uint32_t kind, uint64_t data);
/* Removes the earliest event into *out; FALSE when empty. */
gboolean sim_queue_pop(SimQueue *q, SimEvent *out);
/* The earliest event without removing it; NULL when empty. Borrowed. */
const SimEvent *sim_queue_peek(const SimQueue *q);
size_t sim_queue_size(const SimQueue *q);

#endif /* SIM_QUEUE_H */
