/* tunebench — the Train screen's alarm banner. */
#include "tui/train_alarms.h"

#include <stdio.h>
#include <string.h>

/* The engine's wording (health.c, step.c, trainer.c); test_train_alarms feeds the real
 * messages, so a change there fails a test instead of silently mislabelling. */
static const struct {
    const char *needle;
    tb_alarm_kind kind;
} patterns[] = {
    {"overfitting:", TB_ALARM_OVERFIT},
    {"NaN/Inf", TB_ALARM_NAN},
    {"is NaN: step skipped", TB_ALARM_NAN},
    {"is Inf: step skipped", TB_ALARM_NAN},
    {"grad-norm spike", TB_ALARM_GRAD_SPIKE},
    {"loss stuck at zero", TB_ALARM_ZERO_LOSS},
    {"run failed:", TB_ALARM_FAILED},
};

tb_alarm_kind tb_alarm_classify(const char *message)
{
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++)
        if (strstr(message, patterns[i].needle))
            return patterns[i].kind;
    return TB_ALARM_OTHER;
}

const char *tb_alarm_kind_label(tb_alarm_kind k)
{
    switch (k) {
    case TB_ALARM_NONE: return "";
    case TB_ALARM_OVERFIT: return "OVERFITTING";
    case TB_ALARM_NAN: return "NaN/Inf";
    case TB_ALARM_GRAD_SPIKE: return "GRAD-NORM SPIKE";
    case TB_ALARM_ZERO_LOSS: return "LOSS AT ZERO";
    case TB_ALARM_FAILED: return "RUN FAILED";
    case TB_ALARM_OTHER: return "WARNING";
    }
    return "";
}

void tb_alarm_banner_reset(tb_alarm_banner *b) { memset(b, 0, sizeof *b); }

bool tb_alarm_banner_feed(tb_alarm_banner *b, const tb_run_event *ev)
{
    bool severe = strcmp(ev->level, "alarm") == 0;
    if (!severe && strcmp(ev->level, "warning") != 0)
        return false; /* info: the run log only */
    if (severe)
        b->alarms++;
    else
        b->warnings++;
    /* A warning does not hide an alarm nobody has read yet. */
    if (b->kind != TB_ALARM_NONE && b->severe && !severe) {
        b->more++;
        return true;
    }
    b->more = b->kind != TB_ALARM_NONE ? b->more + 1 : 0;
    b->kind = tb_alarm_classify(ev->message);
    b->severe = severe;
    b->step = ev->step;
    snprintf(b->message, sizeof b->message, "%s", ev->message);
    return true;
}

void tb_alarm_banner_dismiss(tb_alarm_banner *b)
{
    b->kind = TB_ALARM_NONE;
    b->severe = false;
    b->more = 0;
    b->message[0] = '\0';
}
