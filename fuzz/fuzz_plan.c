/*
 * fuzz_plan.c: capacity-plan files (docs/planning.md) through the plan
 * parser (base scenario, SLOs, candidates and grids, prices, search).
 */
#include "fz_common.h"
#include "pl_plan_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_text(data, size);
    fz_write("base.json", data, size); /* what a "base": "base.json" reads */
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "fuzz.json", fz_dir(), &error);
    if (!p) {
        fz_check_error(error);
    } else {
        if (p->num_candidates == 0 || p->num_slos == 0 || !(p->min_rate < p->max_rate))
            fz_fail("a plan of %u candidates, %u SLOs, rates %g..%g", p->num_candidates, p->num_slos, p->min_rate,
                    p->max_rate);
        for (guint i = 0; i < p->num_candidates; i++)
            if (!p->candidates[i].name || !(pl_plan_spec_price(p, p->candidates[i].scenario->hardware) >= 0))
                fz_fail("candidate %u without a name or a price", i);
        pl_plan_spec_free(p);
    }
    g_free(text);
    return 0;
}
