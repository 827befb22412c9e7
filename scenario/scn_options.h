/*
 * scn_options.h: the engine options' part of the scenario reader, internal
 * to the scenario layer (scn_scenario.c calls it for the "engine" object).
 */
#ifndef SCN_OPTIONS_H
#define SCN_OPTIONS_H

#include <cjson/cJSON.h>

#include "scn.h"

/* The option keys of the "engine" object, NULL-terminated (static). */
const char *const *scn_options_engine_keys(void);
/* Reads the option keys present in `engine` over *o. Errors
 * (SS_ERROR_INPUT) name `origin` and "engine.<key>". */
gboolean scn_options_apply_engine(ScnOptions *o, const cJSON *engine, const char *origin, GError **error);
/* The scenario fields (for sweeps) the options add: name and engine key,
 * NULL-terminated pairs (static). */
const char *const *scn_options_fields(void);

/* The options' part of the memory plan's input: the draft, LoRA slots, the
 * hybrid KV cache manager. */
void scn_options_memory_input(const ScnScenario *s, const LatModelDesc *draft, guint draft_tp,
                              const LatModelDesc *model, LatMemoryInput *in);
/* The options' part of the scheduler's configuration (policy, speculation
 * and its acceptance model, sliding groups from the plan, the host tier's
 * blocks, LoRA slots). Errors (SS_ERROR_USAGE): offload without prefix
 * caching, an adapter beyond max_lora_rank, LoRA settings without LoRA. */
gboolean scn_options_sched(const ScnScenario *s, const LatModelDesc *model, const LatMemoryPlan *plan,
                           SchedConfig *c, GError **error);

#endif /* SCN_OPTIONS_H */
