/*
 * sched_lora.c: LoRA adapters in the GPU and host slots of one server
 * (vLLM's LRUCacheWorkerLoRAManager with --max-loras and --max-cpu-loras).
 *
 * What it models: max_loras GPU slots (vLLM preallocates them at
 * max_lora_rank) and max_cpu_loras host slots, each an LRU cache of adapter
 * ids. Before a step runs, every adapter among its requests must sit in a
 * GPU slot: a missing one replaces the least recently used adapter the step
 * does not use (a copy over the host link), after being read from disk into
 * a host slot when it is not there either. The scheduler guarantees that a
 * step uses at most max_loras adapters (sched.c, vLLM's rule).
 *
 * Cost: O(slots) per adapter activated (linear scans: slot counts are
 * small, and only misses scan the host slots).
 */
#include "sched_options.h"

typedef struct {
    uint32_t *id;    /* 0: empty */
    uint64_t *used;  /* last use stamp */
    uint32_t n;
} Slots;

struct SchedLora {
    Slots gpu, cpu;
    uint64_t clock;
};

static void slots_init(Slots *s, uint32_t n)
{
    s->n = n;
    s->id = g_new0(uint32_t, n);
    s->used = g_new0(uint64_t, n);
}

SchedLora *sched_lora_new(uint32_t max_loras, uint32_t max_cpu_loras)
{
    g_return_val_if_fail(max_loras > 0, NULL);
    SchedLora *l = g_new0(SchedLora, 1);
    slots_init(&l->gpu, max_loras);
    slots_init(&l->cpu, MAX(max_cpu_loras, max_loras));
    return l;
}

void sched_lora_free(SchedLora *l)
{
    if (!l)
        return;
    g_free(l->gpu.id);
    g_free(l->gpu.used);
    g_free(l->cpu.id);
    g_free(l->cpu.used);
    g_free(l);
}

static int slots_find(const Slots *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->id[i] == id)
            return (int)i;
    return -1;
}

static gboolean in_set(const uint32_t *ids, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return TRUE;
    return FALSE;
}

/* The slot to fill: an empty one, else the least recently used one whose
 * adapter is not in `keep` (ties: the lowest index). */
static uint32_t slots_victim(const Slots *s, const uint32_t *keep, uint32_t nkeep)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->id[i] == 0)
            return i;
        if (keep && in_set(keep, nkeep, s->id[i]))
            continue;
        if (best == UINT32_MAX || s->used[i] < s->used[best])
            best = i;
    }
    /* Unreachable from input: the GPU slots are searched with `keep`, the
     * step's adapters, which lora_collect (sched.c) makes distinct and at
     * most max_loras = the number of GPU slots; the adapter being placed is
     * one of them and in no slot, so at most n - 1 slots hold kept adapters
     * and one is a victim. The host slots are searched without `keep` and
     * there is at least one (max_cpu_loras >= max_loras >= 1). */
    g_assert(best != UINT32_MAX);
    return best;
}

void sched_lora_activate(SchedLora *l, const uint32_t *ids, uint32_t n, uint32_t *loads, uint32_t *disk_loads)
{
    *loads = *disk_loads = 0;
    l->clock++;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t id = ids[k];
        int g = slots_find(&l->gpu, id);
        if (g < 0) {
            int c = slots_find(&l->cpu, id);
            if (c < 0) { /* from disk into a host slot */
                c = (int)slots_victim(&l->cpu, NULL, 0);
                l->cpu.id[c] = id;
                (*disk_loads)++;
            }
            l->cpu.used[c] = l->clock;
            g = (int)slots_victim(&l->gpu, ids, n);
            l->gpu.id[g] = id;
            (*loads)++;
        }
        l->gpu.used[g] = l->clock;
        int c = slots_find(&l->cpu, id);
        if (c >= 0)
            l->cpu.used[c] = l->clock;
    }
}

gboolean sched_lora_is_resident(const SchedLora *l, uint32_t id)
{
    return id != 0 && slots_find(&l->gpu, id) >= 0;
}

gboolean sched_lora_has_free_slot(const SchedLora *l)
{
    return slots_find(&l->gpu, 0) >= 0;
}
