/* tunebench — the screen classes, in tab order (F1 Decide .. F6 Eval). */
#ifndef TB_TUI_SCREENS_H
#define TB_TUI_SCREENS_H

#include "tui/screen.h"

extern const tb_screen_class tb_decide_screen_class;
extern const tb_screen_class tb_data_screen_class;
extern const tb_screen_class tb_calc_screen_class;
extern const tb_screen_class tb_train_screen_class;
extern const tb_screen_class tb_runs_screen_class;
extern const tb_screen_class tb_eval_screen_class;

#endif
