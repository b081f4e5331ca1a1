/* tunebench — adapters on a resident base (engine/lora/adapter_set.h). */
#include "engine/lora/adapter_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tb_adapter_set_init(tb_adapter_set *s, tb_llama *m)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->active = -1;
}

void tb_adapter_set_free(tb_adapter_set *s)
{
    if (s->m)
        s->m->lora = NULL;
    for (int i = 0; i < s->n; i++)
        tb_lora_free(s->v[i].lo);
    free(s->v);
    memset(s, 0, sizeof *s);
    s->active = -1;
}

void tb_adapter_short_name(const char *path, char *buf, size_t size)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    char *last = strrchr(p, '/');
    const char *name = last ? last + 1 : p;
    if (last && strcmp(name, "adapter") == 0) { /* a run's adapter: keep the run folder */
        *last = '\0';
        char *prev = strrchr(p, '/');
        snprintf(buf, size, "%s/adapter", prev ? prev + 1 : p);
        return;
    }
    snprintf(buf, size, "%s", name);
}

tb_status tb_adapter_set_load(tb_adapter_set *s, const char *dir, int *index, tb_error *err)
{
    tb_lora *lo = NULL;
    tb_status st = tb_lora_load_peft(&lo, dir, &s->m->cfg, s->m->be, false, err);
    if (st != TB_OK)
        return st;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 4;
        tb_adapter_slot *g = realloc(s->v, (size_t)cap * sizeof *g);
        if (!g) {
            tb_lora_free(lo);
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        }
        s->v = g, s->cap = cap;
    }
    tb_adapter_slot *slot = &s->v[s->n];
    memset(slot, 0, sizeof *slot);
    snprintf(slot->path, sizeof slot->path, "%s", dir);
    for (size_t k = strlen(slot->path); k > 1 && slot->path[k - 1] == '/'; k--)
        slot->path[k - 1] = '\0'; /* "runs/1/adapter/" as Tab completes it */
    tb_adapter_short_name(dir, slot->name, sizeof slot->name);
    slot->lo = lo;
    lo->train = false; /* evaluation: no dropout */
    if (index)
        *index = s->n;
    s->n++;
    return TB_OK;
}

void tb_adapter_set_activate(tb_adapter_set *s, int i)
{
    s->active = i >= 0 && i < s->n ? i : -1;
    s->m->lora = s->active >= 0 ? s->v[s->active].lo : NULL;
}

tb_status tb_lora_host_pairs(tb_lora *lo, float **mem, tb_lora_pair **pairs, size_t *n, tb_error *err)
{
    *mem = NULL;
    *pairs = NULL;
    *n = 0;
    tb_param_set *ps = &lo->params;
    size_t cap = (size_t)(lo->cfg.n_layers * TB_LORA_MODULE_COUNT);
    *mem = malloc((ps->total ? ps->total : 1) * sizeof **mem);
    *pairs = malloc((cap ? cap : 1) * sizeof **pairs);
    tb_status st = *mem && *pairs ? tb_param_set_download(ps, *mem, err) : tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int64_t l = 0; st == TB_OK && l < lo->cfg.n_layers; l++)
        for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
            long ia = lo->index[(l * TB_LORA_MODULE_COUNT + m) * 2], ib = lo->index[(l * TB_LORA_MODULE_COUNT + m) * 2 + 1];
            if (ia < 0)
                continue;
            (*pairs)[(*n)++] = (tb_lora_pair){l, (tb_lora_module)m, *mem + ps->p[ia].off, *mem + ps->p[ib].off};
        }
    if (st != TB_OK) {
        free(*mem), free(*pairs);
        *mem = NULL, *pairs = NULL, *n = 0;
    }
    return st;
}
