/* tunebench — model presets for the calculator: the published config.json numbers of
 * common Llama-family models, so sizes can be planned without downloading anything. */
#ifndef TB_PLAN_PRESETS_H
#define TB_PLAN_PRESETS_H

#include "engine/model/config.h"

typedef struct tb_model_preset {
    const char *name;      /* CLI name: "llama-3.1-8b" */
    const char *hub_repo;  /* where the config.json is published: "meta-llama/Llama-3.1-8B" */
    tb_llama_config cfg;
} tb_model_preset;

int tb_model_preset_count(void);
const tb_model_preset *tb_model_preset_at(int index);
const tb_model_preset *tb_model_preset_find(const char *name);  /* NULL when unknown */

#endif
