/* tunebench — learning-rate schedules (transformers.optimization, get_scheduler). */
#include <math.h>
#include <string.h>

#include "engine/optim/optim.h"

static const char *const names[TB_SCHED_COUNT] = {"constant", "linear", "cosine"};

const char *tb_schedule_name(tb_schedule_kind k) { return (unsigned)k < TB_SCHED_COUNT ? names[k] : "?"; }

bool tb_schedule_parse(const char *name, tb_schedule_kind *out)
{
    if (strcmp(name, "constant_with_warmup") == 0)
        return (*out = TB_SCHED_CONSTANT), true;
    for (int i = 0; i < TB_SCHED_COUNT; i++)
        if (strcmp(name, names[i]) == 0)
            return (*out = (tb_schedule_kind)i), true;
    return false;
}

int64_t tb_schedule_warmup(int64_t warmup_steps, double warmup_ratio, int64_t total)
{
    return warmup_steps > 0 ? warmup_steps : (int64_t)ceil((double)total * warmup_ratio);
}

double tb_schedule_factor(tb_schedule_kind k, int64_t step, int64_t warmup, int64_t total)
{
    /* get_*_schedule_with_warmup: the warmup ramp is step / max(1, warmup). */
    if (step < warmup)
        return (double)step / (double)(warmup > 1 ? warmup : 1);
    double span = (double)(total - warmup > 1 ? total - warmup : 1);
    double progress = (double)(step - warmup) / span;
    switch (k) {
    case TB_SCHED_LINEAR: return fmax(0.0, (double)(total - step) / span);
    case TB_SCHED_COSINE: return fmax(0.0, 0.5 * (1.0 + cos(M_PI * 0.5 * 2.0 * progress))); /* num_cycles 0.5 */
    default: return 1.0;
    }
}
