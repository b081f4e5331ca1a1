/* tunebench — the Train screen's alarm banner: which of the trainer's alarms and warnings
 * (engine/train/health.c, step.c) is shown above the plot, until the user dismisses it.
 *
 * An alarm (level "alarm": overfitting, NaN/Inf roll-back, loss stuck at zero, a failed run)
 * replaces whatever the banner shows; a warning (a skipped NaN step, a grad-norm spike)
 * shows only when no alarm is waiting to be read. Info events never raise the banner; all
 * events go to the run log either way. Pure state: unit-tested on the engine's messages. */
#ifndef TB_TUI_TRAIN_ALARMS_H
#define TB_TUI_TRAIN_ALARMS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/io/run_store.h"

typedef enum tb_alarm_kind {
    TB_ALARM_NONE = 0,
    TB_ALARM_OVERFIT,        /* eval loss rising while train loss falls */
    TB_ALARM_NAN,            /* NaN/Inf loss or gradient: step skipped, or rolled back */
    TB_ALARM_GRAD_SPIKE,     /* grad norm far above its running value */
    TB_ALARM_ZERO_LOSS,      /* train loss stuck at zero: everything masked? */
    TB_ALARM_FAILED,         /* the run failed */
    TB_ALARM_OTHER,          /* any other warning */
} tb_alarm_kind;

typedef struct tb_alarm_banner {
    tb_alarm_kind kind;      /* what is shown; NONE: no banner */
    bool severe;             /* an alarm (else a warning) */
    int64_t step;
    char message[512];
    long alarms, warnings;   /* all seen in this run */
    long more;               /* alarms and warnings since the shown one (in the run log) */
} tb_alarm_banner;

/* What an engine message is about. */
tb_alarm_kind tb_alarm_classify(const char *message);
/* "OVERFITTING", "NaN/Inf", ... */
const char *tb_alarm_kind_label(tb_alarm_kind k);

void tb_alarm_banner_reset(tb_alarm_banner *b);
/* One event of the run log, in order; true when the banner changed. */
bool tb_alarm_banner_feed(tb_alarm_banner *b, const tb_run_event *ev);
/* The user read it: the banner goes until the next alarm or warning. */
void tb_alarm_banner_dismiss(tb_alarm_banner *b);

#endif
