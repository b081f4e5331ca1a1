/* tunebench — the shared session: defaults point at the bundled demo. */
#include "tui/session.h"

#include <stdio.h>
#include <string.h>

#include "engine/core/fs.h"
#include "tb_config.h"

static void set_if_exists(char *dst, size_t size, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", TB_SOURCE_ROOT, rel);
    dst[0] = '\0';
    if (tb_path_exists(path))
        snprintf(dst, size, "%s", path);
}

void tb_session_defaults(tb_session *s, bool demo)
{
    memset(s, 0, sizeof *s);
    snprintf(s->runs_dir, sizeof s->runs_dir, "runs");
    if (!demo)
        return;
    set_if_exists(s->model_dir, sizeof s->model_dir, "datasets/models/tunebench-demo");
    set_if_exists(s->data_path, sizeof s->data_path, "datasets/demo/train.jsonl");
    set_if_exists(s->eval_path, sizeof s->eval_path, "datasets/demo/eval.jsonl");
    set_if_exists(s->train_settings, sizeof s->train_settings, "datasets/demo/train_settings.json");
}
