/*
 * sched_setup.c: the scheduler's configuration checked (every field a user
 * can set, with the reason of a rejected value), the sizes derived from it,
 * and a scheduler made, freed and asked whether a request can ever fit.
 */
#include <string.h>

#include "sched_internal.h"
#include "ss_error.h"

/* ---------------------------------------------------------------- config -- */

gboolean sched_config_validate(const SchedConfig *c, GError **error)
{
    struct {
        const char *flag;
        uint32_t value;
    } positive[] = {
        {"--max-num-seqs", c->max_num_seqs},
        {"--max-num-batched-tokens", c->max_num_batched_tokens},
        {"--max-model-len", c->max_model_len},
        {"--block-size", c->block_size},
        {"--num-gpu-blocks", c->num_gpu_blocks},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(positive); i++)
        if (positive[i].value == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s must be a positive integer, got 0",
                        positive[i].flag);
            return FALSE;
        }
    if (c->max_num_seqs > SCHED_MAX_NUM_SEQS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--max-num-seqs: expected at most %u, got %u",
                    SCHED_MAX_NUM_SEQS, c->max_num_seqs);
        return FALSE;
    }
    if (c->num_gpu_blocks > SCHED_MAX_BLOCKS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "the KV cache would have %u blocks, more than the %u the simulator supports "
                    "(raise --block-size, or lower --num-gpu-blocks-override)",
                    c->num_gpu_blocks, SCHED_MAX_BLOCKS);
        return FALSE;
    }
    if (c->max_num_batched_tokens < c->max_num_seqs) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--max-num-batched-tokens (%u) must be >= --max-num-seqs (%u), as vLLM requires",
                    c->max_num_batched_tokens, c->max_num_seqs);
        return FALSE;
    }
    if (c->num_gpu_blocks < 2) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "the KV cache needs at least 2 blocks (one is reserved), got %u", c->num_gpu_blocks);
        return FALSE;
    }
    if (c->max_model_len < 2) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--max-model-len must be at least 2 (one prompt and one output token), got %u",
                    c->max_model_len);
        return FALSE;
    }
    if (c->policy != SCHED_POLICY_FCFS && c->policy != SCHED_POLICY_PRIORITY) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--scheduling-policy: expected fcfs or priority");
        return FALSE;
    }
    if (c->num_spec_tokens > SCHED_MAX_SPEC_TOKENS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "speculative_config.num_speculative_tokens: at most %u are modelled, got %u",
                    SCHED_MAX_SPEC_TOKENS, c->num_spec_tokens);
        return FALSE;
    }
    if (c->num_spec_tokens > 0 && !sched_spec_rates_check(c->spec_accept, c->num_spec_tokens, error))
        return FALSE;
    if (c->kv_groups_sliding > 0 && c->sliding_window == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "sliding-window KV groups need a sliding window");
        return FALSE;
    }
    if (c->cpu_blocks > SCHED_MAX_BLOCKS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "the host KV tier would have %u blocks, more than the %u the simulator supports "
                    "(lower --kv-offloading-size)",
                    c->cpu_blocks, SCHED_MAX_BLOCKS);
        return FALSE;
    }
    if (c->max_loras > 0 && c->max_cpu_loras < c->max_loras) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--max-cpu-loras (%u) must be >= --max-loras (%u), as vLLM requires",
                    c->max_cpu_loras, c->max_loras);
        return FALSE;
    }
    return TRUE;
}

uint32_t sched_window_cap_blocks(const SchedConfig *c)
{
    uint64_t bs = c->block_size;
    uint64_t span = MIN((uint64_t)c->sliding_window - 1 + c->max_num_batched_tokens, (uint64_t)c->max_model_len);
    return (uint32_t)MIN((span + bs - 1) / bs + 1, (uint64_t)G_MAXUINT32);
}

uint64_t sched_blocks_for_tokens(const SchedConfig *c, uint64_t tokens)
{
    uint64_t bs = c->block_size;
    uint64_t full = (tokens + bs - 1) / bs;
    if (c->kv_groups_sliding == 0 || tokens == 0)
        return full;
    return full + (uint64_t)c->kv_groups_sliding * MIN(full, (uint64_t)sched_window_cap_blocks(c));
}

const char *sched_fit_reason(SchedFit f)
{
    switch (f) {
    case SCHED_FITS:
        return "fits";
    case SCHED_REJECT_TOO_LONG:
        return "prompt + output longer than max_model_len";
    case SCHED_REJECT_NO_BLOCKS:
        return "needs more KV blocks than the cache has";
    }
    return "unknown";
}

/* ------------------------------------------------------------- lifecycle -- */

SchedScheduler *sched_new(const SchedConfig *cfg, GError **error)
{
    if (!sched_config_validate(cfg, error))
        return NULL;
    SchedScheduler *s = g_new0(SchedScheduler, 1);
    s->cfg = *cfg;
    /* vLLM's block pool reserves one block (the null block) */
    s->pool = sched_kv_pool_new(cfg->num_gpu_blocks - 1, cfg->block_size, cfg->enable_prefix_caching);
    s->running = g_new(SchedRequest *, cfg->max_num_seqs);
    s->wait_cap = 1024;
    s->waiting = g_new(SchedRequest *, s->wait_cap);
    s->step.reqs = g_new(SchedRequest *, cfg->max_num_seqs);
    s->spare = g_new(uint32_t *, cfg->max_num_seqs);
    s->spare_cap = g_new(uint32_t, cfg->max_num_seqs);
    s->ready = g_ptr_array_new();
    s->remote = g_ptr_array_new();
    s->held = g_ptr_array_new();
    s->remote_admitted = g_ptr_array_new();
    if (!batch_desc_reserve(&s->step.batch, cfg->max_num_seqs)) {
        sched_free(s);
        g_set_error(error, SS_ERROR, SS_ERROR_SIM, "out of memory for %u batch entries", cfg->max_num_seqs);
        return NULL;
    }
    if (cfg->policy == SCHED_POLICY_PRIORITY)
        s->heap = g_new(SchedRequest *, s->wait_cap);
    if (cfg->max_loras > 0) {
        s->lora = sched_lora_new(cfg->max_loras, cfg->max_cpu_loras);
        s->step_loras = g_new0(uint32_t, cfg->max_loras);
    }
    if (cfg->cpu_blocks > 0)
        s->cpu = sched_cpu_tier_new(cfg->cpu_blocks);
    if (cfg->num_spec_tokens > 0)
        s->slack_tokens = cfg->num_spec_tokens + cfg->num_lookahead_tokens;
    return s;
}

void sched_free(SchedScheduler *s)
{
    if (!s)
        return;
    sched_kv_pool_free(s->pool);
    g_free(s->running);
    g_free(s->waiting);
    g_free(s->step.reqs);
    for (uint32_t i = 0; i < s->num_spare; i++)
        g_free(s->spare[i]);
    g_free(s->spare);
    g_free(s->spare_cap);
    g_ptr_array_free(s->ready, TRUE);
    g_ptr_array_free(s->remote, TRUE);
    g_ptr_array_free(s->held, TRUE);
    g_ptr_array_free(s->remote_admitted, TRUE);
    batch_desc_release(&s->step.batch);
    g_free(s->hit_blocks);
    g_free(s->heap);
    g_free(s->skipped);
    g_free(s->step_loras);
    sched_lora_free(s->lora);
    sched_cpu_tier_free(s->cpu);
    g_free(s);
}

SchedFit sched_check_fit(const SchedScheduler *s, uint32_t prompt_tokens, uint32_t output_tokens)
{
    uint64_t total = (uint64_t)prompt_tokens + output_tokens;
    if (total > s->cfg.max_model_len)
        return SCHED_REJECT_TOO_LONG;
    /* the last sampled token never needs a KV slot (draft tokens and
     * lookahead slots may, up to max_model_len) */
    uint64_t kv_tokens = MIN(total - 1 + s->slack_tokens, (uint64_t)MAX(s->cfg.max_model_len, total - 1));
    uint64_t blocks = sched_blocks_for_tokens(&s->cfg, kv_tokens);
    if (blocks > sched_kv_pool_num_blocks(s->pool))
        return SCHED_REJECT_NO_BLOCKS;
    return SCHED_FITS;
}

