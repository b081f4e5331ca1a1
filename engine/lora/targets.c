/* tunebench — LoRA target modules and PEFT's adapter layout. */
#include "engine/lora/targets.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *shrt, *block;
} modules[TB_LORA_MODULE_COUNT] = {
    {"q_proj", "q", "self_attn"},  {"k_proj", "k", "self_attn"}, {"v_proj", "v", "self_attn"},
    {"o_proj", "o", "self_attn"},  {"gate_proj", "gate", "mlp"}, {"up_proj", "up", "mlp"},
    {"down_proj", "down", "mlp"},
};

const char *const tb_peft_adapter_meta[2] = {"format", "pt"};

const char *tb_lora_module_name(tb_lora_module m) { return m < TB_LORA_MODULE_COUNT ? modules[m].name : "?"; }
const char *tb_lora_module_short(tb_lora_module m) { return m < TB_LORA_MODULE_COUNT ? modules[m].shrt : "?"; }
const char *tb_lora_module_block(tb_lora_module m) { return m < TB_LORA_MODULE_COUNT ? modules[m].block : "?"; }

void tb_lora_module_shape(const tb_llama_config *cfg, tb_lora_module m, int64_t *in, int64_t *out)
{
    /* GQA: k and v project to Hkv*Dh, not D (the tutorial's d·r + r·d misses this). */
    int64_t q = tb_llama_q_dim(cfg), kv = tb_llama_kv_dim(cfg);
    switch (m) {
    case TB_LORA_Q: *in = cfg->dim, *out = q; break;
    case TB_LORA_K:
    case TB_LORA_V: *in = cfg->dim, *out = kv; break;
    case TB_LORA_O: *in = q, *out = cfg->dim; break;
    case TB_LORA_GATE:
    case TB_LORA_UP: *in = cfg->dim, *out = cfg->ffn_dim; break;
    case TB_LORA_DOWN: *in = cfg->ffn_dim, *out = cfg->dim; break;
    default: *in = *out = 0; break;
    }
}

int tb_lora_targets_count(tb_lora_targets t)
{
    int n = 0;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
        n += (t >> m) & 1u;
    return n;
}

/* One entry: "q", "q_proj", case-insensitive, surrounding spaces trimmed. */
static int parse_entry(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    char word[32];
    if (len == 0 || len >= sizeof word)
        return -1;
    for (size_t i = 0; i < len; i++)
        word[i] = (char)tolower((unsigned char)s[i]);
    word[len] = '\0';
    if (strcmp(word, "all-linear") == 0 || strcmp(word, "all") == 0)
        return TB_LORA_MODULE_COUNT;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
        if (strcmp(word, modules[m].name) == 0 || strcmp(word, modules[m].shrt) == 0)
            return m;
    return -1;
}

tb_status tb_lora_targets_parse(const char *text, tb_lora_targets *out, tb_error *err)
{
    tb_lora_targets t = 0;
    const char *p = text ? text : "";
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int m = parse_entry(p, len);
        if (m < 0)
            return tb_fail(err, TB_ERR_INVALID,
                           "'%.*s' is not a target module (q, k, v, o, gate, up, down, their *_proj names, or all-linear)",
                           (int)(len > 40 ? 40 : len), p);
        t |= m == TB_LORA_MODULE_COUNT ? TB_LORA_TARGETS_ALL : 1u << m;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = t;
    return TB_OK;
}

void tb_lora_targets_format(tb_lora_targets t, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    if ((t & TB_LORA_TARGETS_ALL) == TB_LORA_TARGETS_ALL) {
        snprintf(buf, size, "all-linear");
        return;
    }
    size_t used = 0;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        if (!((t >> m) & 1u))
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? "," : "", modules[m].shrt);
        if (w < 0 || (size_t)w >= size - used)
            return;
        used += (size_t)w;
    }
}

int64_t tb_lora_max_rank(const tb_llama_config *cfg, tb_lora_targets t)
{
    int64_t best = 0;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        if (!((t >> m) & 1u))
            continue;
        int64_t in, out;
        tb_lora_module_shape(cfg, (tb_lora_module)m, &in, &out);
        int64_t r = in < out ? in : out;
        if (best == 0 || r < best)
            best = r;
    }
    return best;
}

void tb_lora_peft_key(char *buf, size_t size, int64_t layer, tb_lora_module m, char a_or_b)
{
    snprintf(buf, size, "base_model.model.model.layers.%lld.%s.%s.lora_%c.weight", (long long)layer,
             tb_lora_module_block(m), tb_lora_module_name(m), a_or_b);
}

void tb_lora_layout_free(tb_lora_layout *layout)
{
    if (!layout)
        return;
    free(layout->tensors);
    free(layout->names);
    layout->tensors = NULL;
    layout->names = NULL;
    layout->n = 0;
}

#define KEY_MAX 96 /* "base_model.model.model.layers.<19 digits>.self_attn.gate_proj.lora_A.weight" fits */

tb_status tb_lora_layout_build(tb_lora_layout *out, const tb_llama_config *cfg, tb_lora_targets t, int64_t rank,
                               tb_dtype dtype, tb_error *err)
{
    memset(out, 0, sizeof *out);
    int nmod = tb_lora_targets_count(t & TB_LORA_TARGETS_ALL);
    if (rank <= 0 || cfg->n_layers <= 0)
        return tb_fail(err, TB_ERR_INVALID, "rank and layer count must be positive");
    size_t n = (size_t)cfg->n_layers * (size_t)nmod * 2;
    out->tensors = calloc(n ? n : 1, sizeof *out->tensors);
    out->names = malloc((n ? n : 1) * KEY_MAX);
    if (!out->tensors || !out->names) {
        tb_lora_layout_free(out);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for a %zu-tensor adapter layout", n);
    }
    size_t k = 0;
    for (int64_t layer = 0; layer < cfg->n_layers; layer++) {
        for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
            if (!((t >> m) & 1u))
                continue;
            int64_t in, o;
            tb_lora_module_shape(cfg, (tb_lora_module)m, &in, &o);
            for (int ab = 0; ab < 2; ab++, k++) {
                char *name = out->names + k * KEY_MAX;
                tb_lora_peft_key(name, KEY_MAX, layer, (tb_lora_module)m, ab ? 'B' : 'A');
                tb_st_write *w = &out->tensors[k];
                w->name = name;
                w->dtype = dtype;
                w->ndim = 2;
                w->shape[0] = ab ? o : rank;    /* lora_A (R, in); lora_B (out, R) */
                w->shape[1] = ab ? rank : in;
            }
        }
    }
    out->n = k;
    return TB_OK;
}
