/* tunebench — which screens exist. A tab appears only when its screen is listed here. */
#include "tui/screens/screens.h"

const tb_screen_class *const tb_screen_classes[] = {
    &tb_decide_screen_class,
    &tb_data_screen_class,
    &tb_calc_screen_class,
    &tb_train_screen_class,
    &tb_runs_screen_class,
    &tb_eval_screen_class,
    NULL,
};
