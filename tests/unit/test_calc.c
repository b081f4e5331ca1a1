/* The LoRA calculator against independent truth: PEFT count lines and model sizes published
 * by others, published PEFT adapter file sizes, an independent Python re-derivation of the
 * safetensors layout (tests/reference/peft_adapter_size.py), the project's own safetensors
 * writer, and hand-derived activation arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/io/safetensors.h"
#include "engine/plan/calc.h"
#include "engine/plan/presets.h"

static const tb_llama_config *preset(const char *name)
{
    const tb_model_preset *p = tb_model_preset_find(name);
    assert_non_null(p);
    return &p->cfg;
}

static tb_lora_targets targets(const char *text)
{
    tb_lora_targets t;
    tb_error err;
    assert_int_equal(tb_lora_targets_parse(text, &t, &err), TB_OK);
    return t;
}

/* ---- PEFT count lines published by others ---------------------------------------- */

typedef struct count_case {
    const char *model;     /* preset name, or NULL for config_json */
    const char *config_json;
    const char *targets;
    int64_t rank;
    const char *line;      /* as print_trainable_parameters prints it today ({:.4f}) */
} count_case;

static const count_case count_cases[] = {
    /* The check; the tutorial (../shared/reference/fine-tuning-tutorial.txt, "LoRA: the
     * revolution") prints exactly this for meta-llama/Llama-3.1-8B, r=16 on q,k,v,o. */
    {"llama-3.1-8b", NULL, "q,k,v,o", 16,
     "trainable params: 13,631,488 || all params: 8,043,892,736 || trainable%: 0.1695"},
    /* TinyLlama/TinyLlama-1.1B-Chat-v1.0, r=8 on q_proj,v_proj: published verbatim as "Expected
     * output" in a public TinyLlama LoRA README and as "Salida Real en Google Colab" (older
     * PEFT: trainable%: 0.10229075727027588) in public tutorials (found with the code index). */
    {"tinyllama-1.1b", NULL, "q,v", 8,
     "trainable params: 1,126,400 || all params: 1,101,174,784 || trainable%: 0.1023"},
    /* Qwen/Qwen2.5-0.5B(-Instruct), r=8 on q,v (q/k/v bias, tied): published verbatim in a
     * public run log ("LoRA adapter applied (rank=8)") and a public Qwen2.5 LoRA tutorial. */
    {"qwen2.5-0.5b", NULL, "q,v", 8,
     "trainable params: 540,672 || all params: 494,573,440 || trainable%: 0.1093"},
    /* meta-llama/Llama-2-7b-hf, r=8 on q,v: PEFT's classic example, published as
     * "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622" in many
     * public tutorials (and 0.06220594176090199 by older PEFT versions). */
    {"llama-2-7b", NULL, "q,v", 8,
     "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622"},
    /* Qwen/Qwen2.5-3B-Instruct with PEFT's default qwen2 targets (q_proj, v_proj), r=16: the
     * PEFT README quickstart, https://github.com/huggingface/peft#quickstart ("# prints:
     * trainable params: 3,686,400 || all params: 3,089,625,088 || trainable%: 0.1193"),
     * copied e.g. in oniondai/LLMIsAllYouNeed llm_test/PEFT_baseline.py. Config: the model's
     * published config.json (GQA 16/2, q/k/v bias, tied). */
    {NULL,
     "{\"architectures\":[\"Qwen2ForCausalLM\"],\"attention_dropout\":0.0,\"bos_token_id\":151643,"
     "\"eos_token_id\":151645,\"hidden_act\":\"silu\",\"hidden_size\":2048,\"initializer_range\":0.02,"
     "\"intermediate_size\":11008,\"max_position_embeddings\":32768,\"max_window_layers\":70,"
     "\"model_type\":\"qwen2\",\"num_attention_heads\":16,\"num_hidden_layers\":36,\"num_key_value_heads\":2,"
     "\"rms_norm_eps\":1e-06,\"rope_theta\":1000000.0,\"sliding_window\":32768,\"tie_word_embeddings\":true,"
     "\"torch_dtype\":\"bfloat16\",\"use_cache\":true,\"use_sliding_window\":false,\"vocab_size\":151936}",
     "q,v", 16, "trainable params: 3,686,400 || all params: 3,089,625,088 || trainable%: 0.1193"},
};

static void test_peft_line(void **state)
{
    const count_case *c = *state;
    tb_llama_config cfg;
    if (c->model) {
        cfg = *preset(c->model);
    } else {
        tb_error err;
        assert_int_equal(tb_llama_config_parse(&cfg, c->config_json, "qwen2.5-3b/config.json", &err), TB_OK);
    }
    tb_lora_count n;
    tb_plan_lora_count(&cfg, targets(c->targets), c->rank, &n);
    char line[192];
    tb_plan_peft_line(n.trainable, n.all_params, line, sizeof line);
    assert_string_equal(line, c->line);
}

/* ---- model sizes (PEFT's all params without LoRA) published by others ------------ */

typedef struct total_case {
    const char *model;
    int64_t total;
} total_case;

static const total_case total_cases[] = {
    /* NVIDIA-NeMo/Automodel PR #1354 (https://github.com/NVIDIA-NeMo/Automodel/pull/1354):
     * "Total parameters: 8,030,261,248" for Llama-3.1-8B. */
    {"llama-3.1-8b", 8030261248},
    /* The rest: counts measured from the published checkpoints and quoted in public repositories
     * found with the code index, e.g. "SmolLM2-135M-Instruct ... 134,515,008 | 269,060,552"
     * (parameters | file bytes), "SmolLM2-360M ... 361,821,120 params in 290 tensors",
     * "TinyLlama-1.1B-Chat-v1.0 ... 1,100,048,384", "Qwen2.5-0.5B ... 494,032,768" (also
     * "trainable params: 494,032,768 || all params: 494,032,768 || trainable%: 100.0000" for
     * full fine-tuning), "Llama-3.2-1B ... 1,235,814,400 BF16 parameters", "Llama 3.2 3B ...
     * 3,212,749,824", "mistralai/Mistral-7B-v0.1 ... Parameters: 7,241,732,096",
     * Llama-2-7b: 6,742,609,920 all params - 4,194,304 LoRA (r=8, q,v) = 6,738,415,616. */
    {"smollm2-135m", 134515008},   {"smollm2-360m", 361821120}, {"tinyllama-1.1b", 1100048384},
    {"qwen2.5-0.5b", 494032768},   {"llama-3.2-1b", 1235814400}, {"llama-3.2-3b", 3212749824},
    {"mistral-7b", 7241732096},    {"llama-2-7b", 6738415616},
};

static void test_base_total(void **state)
{
    const total_case *c = *state;
    const tb_llama_config *cfg = preset(c->model);
    assert_int_equal(tb_plan_base_params(cfg), c->total);
    tb_error err;
    assert_int_equal(tb_llama_config_validate(cfg, c->model, &err), TB_OK);
}

static void test_full_ft_line(void **state)
{
    (void)state;
    char line[192];
    int64_t n = tb_plan_base_params(preset("qwen2.5-0.5b"));
    tb_plan_peft_line(n, n, line, sizeof line);
    assert_string_equal(line, "trainable params: 494,032,768 || all params: 494,032,768 || trainable%: 100.0000");
}

/* Per module, GQA: k/v project to Hkv*Dh = 1024 on Llama-3.1-8B, so the tutorial's
 * d*r + r*d (= 131,072 per module at r=16) overcounts k and v. */
static void test_per_module_gqa(void **state)
{
    (void)state;
    tb_lora_count n;
    tb_plan_lora_count(preset("llama-3.1-8b"), TB_LORA_TARGETS_ALL, 16, &n);
    assert_int_equal(n.per_layer[TB_LORA_Q], 16 * (4096 + 4096));
    assert_int_equal(n.per_layer[TB_LORA_K], 16 * (4096 + 1024));
    assert_int_equal(n.per_layer[TB_LORA_V], 16 * (4096 + 1024));
    assert_int_equal(n.per_layer[TB_LORA_O], 16 * (4096 + 4096));
    assert_int_equal(n.per_layer[TB_LORA_GATE], 16 * (4096 + 14336));
    assert_int_equal(n.per_layer[TB_LORA_DOWN], 16 * (14336 + 4096));
    assert_int_equal(n.total[TB_LORA_K], 32 * 16 * (4096 + 1024));
    /* Explicit head_dim: Llama-3.2-3B has 24 heads of 128 (q width 3072 = D) and 8 kv heads. */
    tb_plan_lora_count(preset("llama-3.2-3b"), TB_LORA_TARGETS_QKVO, 8, &n);
    assert_int_equal(n.out[TB_LORA_Q], 3072);
    assert_int_equal(n.out[TB_LORA_K], 1024);
    assert_int_equal(n.in[TB_LORA_O], 3072);
    assert_int_equal(n.trainable, 28 * 8 * (2 * (3072 + 3072) + 2 * (3072 + 1024)));
}

/* The tutorial's exercise (hidden 4096, 32 layers, q,k,v,o): its d*r + r*d per module is
 * right for multi-head Llama-2-7B and 23% too high for GQA Llama-3.1-8B. */
static void test_tutorial_formula(void **state)
{
    (void)state;
    static const int64_t ranks[] = {4, 8, 16, 32, 64};
    for (int i = 0; i < 5; i++) {
        int64_t r = ranks[i], tutorial = 4 * 32 * (4096 * r + r * 4096);
        tb_lora_count mha, gqa;
        tb_plan_lora_count(preset("llama-2-7b"), TB_LORA_TARGETS_QKVO, r, &mha);
        tb_plan_lora_count(preset("llama-3.1-8b"), TB_LORA_TARGETS_QKVO, r, &gqa);
        assert_int_equal(mha.trainable, tutorial);
        assert_int_equal(gqa.trainable, tutorial * 13 / 16);
    }
}

/* ---- adapter file sizes ---------------------------------------------------------- */

typedef struct published_file {
    const char *model, *targets;
    int64_t rank;
    tb_dtype dtype;
    uint64_t bytes;
} published_file;

/* adapter_model.safetensors written by PEFT, sizes from the git-lfs pointers and settings
 * from the adapter_config.json next to them:
 * - github.com/mmammidi/LoRA-fine-tuning-Llama-3.1-8B-FirstProject @135a7e25: Llama-3.1-8B,
 *   r=64, q,k,v,o, PEFT 0.18.0, f32 -> size 218138576
 * - github.com/karbolak/llama3.2-qlora-finetunined-poetry-fusion @adf9b233: Llama-3.2-1B,
 *   r=64, q,v, f32 -> size 27271552
 * - github.com/NotLoadedExe/llama3.1-8b-coder-devops @ef28d70d: Llama-3.1-8B (unsloth), r=16,
 *   all seven, PEFT 0.18.0, f32 -> size 167832240 */
static const published_file published_files[] = {
    {"llama-3.1-8b", "q,k,v,o", 64, TB_DTYPE_F32, 218138576},
    {"llama-3.2-1b", "q,v", 64, TB_DTYPE_F32, 27271552},
    {"llama-3.1-8b", "all-linear", 16, TB_DTYPE_F32, 167832240},
};

static void test_published_adapter_file(void **state)
{
    const published_file *c = *state;
    uint64_t bytes;
    tb_error err;
    assert_int_equal(tb_plan_adapter_bytes(preset(c->model), targets(c->targets), c->rank, c->dtype, &bytes, &err),
                     TB_OK);
    assert_int_equal(bytes, c->bytes);
}

static const char *source_root(void)
{
    const char *r = getenv("TB_SOURCE_ROOT");
    return r && *r ? r : ".";
}

static tb_dtype golden_dtype(const char *s)
{
    return strcmp(s, "F32") == 0 ? TB_DTYPE_F32 : strcmp(s, "BF16") == 0 ? TB_DTYPE_BF16 : TB_DTYPE_F16;
}

/* Every "size" and "budget" line of tests/reference/golden/adapter_sizes.txt. */
static void test_golden(void **state)
{
    const char *kind = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/reference/golden/adapter_sizes.txt", source_root());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "# tunebench-golden adapter-sizes v1\n");
    int checked = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        char k[16], model[32], tg[64], dt[8];
        long long a, b;
        tb_error err;
        if (line[0] == '#' || sscanf(line, "%15s", k) != 1 || strcmp(k, kind) != 0)
            continue;
        if (strcmp(kind, "size") == 0) {
            assert_int_equal(sscanf(line, "%*s %31s %63s %lld %7s %lld", model, tg, &a, dt, &b), 5);
            uint64_t bytes;
            assert_int_equal(tb_plan_adapter_bytes(preset(model), targets(tg), a, golden_dtype(dt), &bytes, &err), TB_OK);
            if (bytes != (uint64_t)b)
                print_error("%s  got %llu\n", line, (unsigned long long)bytes), failed++;
        } else {
            assert_int_equal(sscanf(line, "%*s %31s %63s %7s %lld %lld", model, tg, dt, &a, &b), 5);
            tb_budget_result r;
            assert_int_equal(tb_plan_max_rank_for_budget(preset(model), targets(tg), golden_dtype(dt), (uint64_t)a, &r,
                                                         &err), TB_OK);
            if (r.rank != b)
                print_error("%s  got %lld\n", line, (long long)r.rank), failed++;
        }
        checked++;
    }
    fclose(f);
    assert_true(checked >= 20);
    assert_int_equal(failed, 0);
}

/* Write the adapter with the project's writer and compare the file's size; read it back. */
static void check_written(const tb_llama_config *cfg, tb_lora_targets t, int64_t rank, tb_dtype dtype)
{
    tb_error err;
    tb_lora_layout lay;
    assert_int_equal(tb_lora_layout_build(&lay, cfg, t, rank, dtype, &err), TB_OK);
    size_t max_bytes = 0;
    for (size_t i = 0; i < lay.n; i++) {
        size_t b = (size_t)(lay.tensors[i].shape[0] * lay.tensors[i].shape[1]) * tb_dtype_size(dtype);
        if (b > max_bytes)
            max_bytes = b;
    }
    void *zeros = calloc(1, max_bytes);
    assert_non_null(zeros);
    for (size_t i = 0; i < lay.n; i++)
        lay.tensors[i].data = zeros;
    char dir[] = "/tmp/tb_calc_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    assert_int_equal(tb_safetensors_write(path, lay.tensors, lay.n, tb_peft_adapter_meta, 1, &err), TB_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    uint64_t predicted;
    assert_int_equal(tb_plan_adapter_bytes(cfg, t, rank, dtype, &predicted, &err), TB_OK);
    assert_int_equal((uint64_t)sb.st_size, predicted);
    tb_safetensors *st;
    assert_int_equal(tb_safetensors_open(&st, path, &err), TB_OK);
    assert_int_equal(tb_safetensors_count(st), lay.n);
    assert_string_equal(tb_safetensors_metadata(st, "format"), "pt");
    char key[128];
    tb_lora_peft_key(key, sizeof key, cfg->n_layers - 1, TB_LORA_V, 'B');
    const tb_st_tensor *v = tb_safetensors_find(st, key);
    if ((t >> TB_LORA_V) & 1u) {
        assert_non_null(v);
        assert_int_equal(v->shape[0], tb_llama_kv_dim(cfg)); /* lora_B [out, R] */
        assert_int_equal(v->shape[1], rank);
        assert_int_equal(v->dtype, dtype);
    }
    tb_safetensors_close(st);
    unlink(path);
    rmdir(dir);
    free(zeros);
    tb_lora_layout_free(&lay);
}

static void test_writer_smollm2(void **state)
{
    (void)state;
    check_written(preset("smollm2-135m"), targets("q,v"), 8, TB_DTYPE_BF16);
}

static void test_writer_odd_shapes(void **state)
{
    (void)state;
    /* 3 layers, odd widths, explicit head_dim 6 != D/H, every module, f32 and f16. */
    tb_llama_config c = *preset("smollm2-135m");
    c.dim = 30, c.ffn_dim = 77, c.n_layers = 3, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 6, c.vocab_size = 50;
    tb_error err;
    assert_int_equal(tb_llama_config_validate(&c, "odd", &err), TB_OK);
    check_written(&c, TB_LORA_TARGETS_ALL, 3, TB_DTYPE_F32);
    check_written(&c, targets("k,down"), 5, TB_DTYPE_F16);
}

/* ---- rank for a budget ----------------------------------------------------------- */

static void test_budget_edges(void **state)
{
    (void)state;
    const tb_llama_config *c = preset("llama-3.1-8b");
    tb_error err;
    tb_budget_result r;
    uint64_t r1, r2;
    assert_int_equal(tb_plan_adapter_bytes(c, TB_LORA_TARGETS_QKVO, 1, TB_DTYPE_BF16, &r1, &err), TB_OK);
    assert_int_equal(tb_plan_adapter_bytes(c, TB_LORA_TARGETS_QKVO, 2, TB_DTYPE_BF16, &r2, &err), TB_OK);
    /* Smaller than rank 1: nothing fits, and the result says what rank 1 needs. */
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_BF16, r1 - 1, &r, &err), TB_OK);
    assert_int_equal(r.rank, 0);
    assert_int_equal(r.rank1_bytes, r1);
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_BF16, 0, &r, &err), TB_OK);
    assert_int_equal(r.rank, 0);
    /* Exactly rank 1's size, and one byte short of rank 2's. */
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_BF16, r1, &r, &err), TB_OK);
    assert_int_equal(r.rank, 1);
    assert_int_equal(r.bytes, r1);
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_BF16, r2 - 1, &r, &err), TB_OK);
    assert_int_equal(r.rank, 1);
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_BF16, r2, &r, &err), TB_OK);
    assert_int_equal(r.rank, 2);
    /* Huge: capped at the smallest side of a targeted matrix (k/v: 1024 rows). */
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_F32, UINT64_C(1) << 60, &r, &err),
                     TB_OK);
    assert_int_equal(r.rank, 1024);
    assert_true(r.capped);
    assert_int_equal(r.max_rank, 1024);
    /* Exactly the cap's size: fits, but no more than that. */
    uint64_t top;
    assert_int_equal(tb_plan_adapter_bytes(c, TB_LORA_TARGETS_QKVO, 1024, TB_DTYPE_F32, &top, &err), TB_OK);
    assert_int_equal(tb_plan_max_rank_for_budget(c, TB_LORA_TARGETS_QKVO, TB_DTYPE_F32, top, &r, &err), TB_OK);
    assert_int_equal(r.rank, 1024);
    assert_false(r.capped);
    /* No targets: refused. */
    assert_int_not_equal(tb_plan_max_rank_for_budget(c, 0, TB_DTYPE_F32, 1000000, &r, &err), TB_OK);
}

/* Whatever the budget, the answer is the boundary: size(r) <= budget < size(r + 1). */
static void test_budget_boundary(void **state)
{
    (void)state;
    const tb_llama_config *c = preset("qwen2.5-0.5b");
    tb_lora_targets t = targets("all-linear");
    static const uint64_t budgets[] = {1234567, 2000000, 5000000, 12345678, 50000000, 99999999};
    for (int i = 0; i < 6; i++) {
        tb_budget_result r;
        tb_error err;
        uint64_t at, next;
        assert_int_equal(tb_plan_max_rank_for_budget(c, t, TB_DTYPE_BF16, budgets[i], &r, &err), TB_OK);
        assert_true(r.rank >= 1);
        assert_int_equal(tb_plan_adapter_bytes(c, t, r.rank, TB_DTYPE_BF16, &at, &err), TB_OK);
        assert_int_equal(tb_plan_adapter_bytes(c, t, r.rank + 1, TB_DTYPE_BF16, &next, &err), TB_OK);
        assert_true(at <= budgets[i]);
        assert_true(next > budgets[i]);
    }
}

/* ---- memory ---------------------------------------------------------------------- */

/* A tiny model by hand: D 8, F 16, L 2, H 2, Hkv 1, Dh 4 (Q 8, KV 4), V 32, untied;
 * B 1, T 4, r 2 on q,v (2 targets).
 * Per layer, per token: x_in and x_mid 2 D = 16, 2 rstd = 2, q + attn out = 16, k + v = 8,
 * gate + up 2 F = 32, attention log-sum-exp H = 2, A·x 2 targets x r 2 = 4 -> 80;
 * x 4 tokens = 320 elements = 1280 bytes.
 * Head, per token: the shared norm output D and SwiGLU output F = 24, 2 (B,T,D) = 16,
 * rstd 1 + ids and targets 2 = 43 -> 172; one block of logits (all 4 rows here) x V = 128
 * and its 4 per-token losses -> 304 elements = 1216 bytes.
 * Gradients, per token: 3 D (residual, norm output gradient, recomputed norm output) + 2 Q
 * + 2 KV + 3 F + R (one dh scratch) = 24 + 16 + 8 + 48 + 2 = 98 -> 392 elements = 1568 bytes.
 * No checkpointing: 2 * 1280 + 1216 + 1568 = 5344. Checkpointing: each layer's input
 * (4 x 8 x 4 = 128 bytes) plus one shared set of the rest (1280 - 128) -> 256 + 1152 + 1216
 * + 1568 = 4192.
 * Base params: 2 * 32 * 8 (untied) + 8 + 2 * (2 * 8 + 64 + 32 + 32 + 64 + 3 * 128) = 1704. */
static void test_memory_by_hand(void **state)
{
    (void)state;
    tb_llama_config c = *preset("tinyllama-1.1b");
    c.dim = 8, c.ffn_dim = 16, c.n_layers = 2, c.n_heads = 2, c.n_kv_heads = 1, c.head_dim = 4, c.vocab_size = 32;
    assert_int_equal(tb_plan_base_params(&c), 1704);
    tb_mem_options o = {.batch = 1, .seq = 4, .base_dtype = TB_DTYPE_BF16, .rank = 2, .targets = targets("q,v")};
    tb_mem_estimate e;
    tb_plan_memory(&c, TB_TRAIN_LORA, &o, &e);
    assert_int_equal(e.act.layer_bytes, 1280);
    assert_int_equal(e.act.head_bytes, 1216);
    assert_int_equal(e.act.grad_bytes, 1568);
    assert_int_equal(e.part[TB_PART_ACTIVATIONS], 5344);
    int64_t lora = 2 * 2 * ((8 + 8) + (8 + 4)); /* layers * r * (q in+out + v in+out) = 112 */
    assert_int_equal(e.trainable_params, lora);
    assert_int_equal(e.part[TB_PART_WEIGHTS], 1704 * 2);
    assert_int_equal(e.part[TB_PART_LORA], lora * 4);
    assert_int_equal(e.part[TB_PART_GRADS], lora * 4);
    assert_int_equal(e.part[TB_PART_OPTIMIZER], lora * 8);
    assert_int_equal(e.total, 1704 * 2 + lora * 16 + 5344);
    o.checkpointing = true;
    tb_plan_memory(&c, TB_TRAIN_LORA, &o, &e);
    assert_int_equal(e.part[TB_PART_ACTIVATIONS], 4192);
    /* Full FT: f32 weights + f32 grads + 2 f32 moments = 16 bytes per parameter; no A·x. */
    o.checkpointing = false;
    tb_plan_memory(&c, TB_TRAIN_FULL, &o, &e);
    assert_int_equal(e.part[TB_PART_WEIGHTS] + e.part[TB_PART_GRADS] + e.part[TB_PART_OPTIMIZER], 1704 * 16);
    assert_int_equal(e.part[TB_PART_LORA], 0);
    assert_int_equal(e.act.layer_bytes, 1280 - 4 * 4 * 4);
    assert_int_equal(e.act.grad_bytes, 1568 - 2 * 4 * 4); /* no dh */
}

static void test_nf4_bits(void **state)
{
    (void)state;
    /* 64 values: 32 code bytes + 4 (fp32 absmax) = 36; double quant: 32 + 1 + 4 + 4 = 41. */
    assert_int_equal(tb_plan_nf4_bytes(64, false), 36);
    assert_int_equal(tb_plan_nf4_bytes(64, true), 41);
    /* A partial last block and an odd count: 65 values -> 33 code bytes, 2 blocks. */
    assert_int_equal(tb_plan_nf4_bytes(65, false), 33 + 8);
    assert_int_equal(tb_plan_nf4_bytes(65, true), 33 + 2 + 4 + 4);
    assert_true(tb_plan_nf4_bits(false) == 4.5);
    assert_true(tb_plan_nf4_bits(true) == 4.126953125);
    /* 4096 x 4096: exactly 4.5 bits; with double quantization 4.127 plus the 4-byte offset. */
    int64_t n = 4096LL * 4096;
    assert_true(8.0 * (double)tb_plan_nf4_bytes(n, false) / (double)n == 4.5);
    double dq = 8.0 * (double)tb_plan_nf4_bytes(n, true) / (double)n;
    assert_true(dq > 4.12695 && dq < 4.12696);
    /* QLoRA on Llama-3.1-8B: the linears alone, 4.5 / ~4.127 bits. */
    tb_mem_options o = {.batch = 1, .seq = 16, .base_dtype = TB_DTYPE_BF16, .rank = 16, .targets = TB_LORA_TARGETS_QKVO};
    tb_mem_estimate q, qdq;
    tb_plan_memory(preset("llama-3.1-8b"), TB_TRAIN_QLORA, &o, &q);
    tb_plan_memory(preset("llama-3.1-8b"), TB_TRAIN_QLORA_DQ, &o, &qdq);
    assert_true(q.quantized_bits == 4.5);
    assert_true(qdq.quantized_bits > 4.1269 && qdq.quantized_bits < 4.1271);
}

static void test_memory_order(void **state)
{
    (void)state;
    for (int i = 0; i < tb_model_preset_count(); i++) {
        const tb_llama_config *c = &tb_model_preset_at(i)->cfg;
        tb_mem_options o = {.batch = 2, .seq = 256, .base_dtype = TB_DTYPE_BF16, .rank = 16,
                            .targets = TB_LORA_TARGETS_QKVO};
        tb_mem_estimate m[TB_TRAIN_MODE_COUNT], ck;
        for (int k = 0; k < TB_TRAIN_MODE_COUNT; k++)
            tb_plan_memory(c, (tb_train_mode)k, &o, &m[k]);
        assert_true(m[TB_TRAIN_FULL].total > m[TB_TRAIN_LORA].total);
        assert_true(m[TB_TRAIN_LORA].total > m[TB_TRAIN_QLORA].total);
        assert_true(m[TB_TRAIN_QLORA].total > m[TB_TRAIN_QLORA_DQ].total);
        o.checkpointing = true;
        tb_plan_memory(c, TB_TRAIN_LORA, &o, &ck);
        assert_true(ck.part[TB_PART_ACTIVATIONS] < m[TB_TRAIN_LORA].part[TB_PART_ACTIVATIONS]);
        assert_int_equal(tb_mem_part_category(TB_PART_ACTIVATIONS), TB_MEM_ACTIVATIONS);
    }
}

/* ---- input checks ---------------------------------------------------------------- */

static void expect_calc_error(tb_calc_input *in, const char *field)
{
    tb_calc_result r;
    tb_error err;
    tb_error_clear(&err);
    assert_int_not_equal(tb_calc_run(in, &r, "cfg", &err), TB_OK);
    assert_string_equal(err.field, field);
}

static void test_calc_errors(void **state)
{
    (void)state;
    tb_calc_input in;
    tb_calc_input_defaults(&in);
    in.cfg = *preset("smollm2-135m");
    tb_calc_result r;
    tb_error err;
    assert_int_equal(tb_calc_run(&in, &r, "cfg", &err), TB_OK);
    assert_int_equal(r.n_rows, 5);
    in.cfg.n_heads = 0;
    expect_calc_error(&in, "num_attention_heads");
    in.cfg = *preset("smollm2-135m");
    in.cfg.n_layers = -3;
    expect_calc_error(&in, "num_hidden_layers");
    in.cfg = *preset("smollm2-135m");
    in.rank = 0;
    expect_calc_error(&in, "rank");
    in.rank = 193; /* k/v are 192 wide on SmolLM2-135M */
    expect_calc_error(&in, "rank");
    in.rank = 16;
    in.targets = 0;
    expect_calc_error(&in, "targets");
    in.targets = TB_LORA_TARGETS_QKVO;
    in.mem.batch = 0;
    expect_calc_error(&in, "batch");
    in.mem.batch = 1;
    in.mem.seq = 0;
    expect_calc_error(&in, "seq");
}

static void test_calc_rows(void **state)
{
    (void)state;
    tb_calc_input in;
    tb_calc_input_defaults(&in);
    in.cfg = *preset("llama-3.1-8b");
    in.rank = 12;
    in.has_budget = true;
    in.budget_bytes = 50000000;
    tb_calc_result r;
    tb_error err;
    assert_int_equal(tb_calc_run(&in, &r, "cfg", &err), TB_OK);
    /* 4, 8, 12 (chosen), 16, 29 (budget), 32, 64 in order. */
    assert_int_equal(r.n_rows, 7);
    static const int64_t want[] = {4, 8, 12, 16, 29, 32, 64};
    for (int i = 0; i < 7; i++)
        assert_int_equal(r.rows[i].rank, want[i]);
    assert_true(r.rows[2].chosen);
    assert_true(r.rows[4].budget_best);
    assert_int_equal(r.budget.rank, 29);
    assert_true(r.rows[0].savings_vs_full > r.rows[6].savings_vs_full);
    assert_true(r.n_assumptions >= 5);
}

static void test_parsers(void **state)
{
    (void)state;
    tb_lora_targets t;
    tb_error err;
    char buf[64];
    assert_int_equal(targets("q,k,v,o"), TB_LORA_TARGETS_QKVO);
    assert_int_equal(targets("all-linear"), TB_LORA_TARGETS_ALL);
    assert_int_equal(targets(" Q_PROJ , v"), (1u << TB_LORA_Q) | (1u << TB_LORA_V));
    assert_int_equal(targets("gate_proj,up,down_proj"), 0x70u);
    assert_int_not_equal(tb_lora_targets_parse("q,x", &t, &err), TB_OK);
    assert_non_null(strstr(err.message, "'x'"));
    assert_int_not_equal(tb_lora_targets_parse("", &t, &err), TB_OK);
    assert_int_not_equal(tb_lora_targets_parse("q,,v", &t, &err), TB_OK);
    tb_lora_targets_format(targets("v,q,down"), buf, sizeof buf);
    assert_string_equal(buf, "q,v,down");
    tb_lora_targets_format(TB_LORA_TARGETS_ALL, buf, sizeof buf);
    assert_string_equal(buf, "all-linear");

    int64_t ranks[TB_CALC_MAX_RANKS];
    int n;
    assert_int_equal(tb_calc_parse_ranks("4,8,16", ranks, &n, &err), TB_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ranks[2], 16);
    assert_int_not_equal(tb_calc_parse_ranks("4,,8", ranks, &n, &err), TB_OK);
    assert_int_not_equal(tb_calc_parse_ranks("0", ranks, &n, &err), TB_OK);
    assert_int_not_equal(tb_calc_parse_ranks("8x", ranks, &n, &err), TB_OK);
    assert_int_not_equal(tb_calc_parse_ranks("", ranks, &n, &err), TB_OK);

    tb_plan_format_thousands(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    tb_plan_format_thousands(999, buf, sizeof buf);
    assert_string_equal(buf, "999");
    tb_plan_format_thousands(1000, buf, sizeof buf);
    assert_string_equal(buf, "1,000");
    tb_plan_format_thousands(-1234567, buf, sizeof buf);
    assert_string_equal(buf, "-1,234,567");
}

static void test_presets(void **state)
{
    (void)state;
    assert_true(tb_model_preset_count() >= 9);
    for (int i = 0; i < tb_model_preset_count(); i++) {
        const tb_model_preset *p = tb_model_preset_at(i);
        tb_error err;
        assert_int_equal(tb_llama_config_validate(&p->cfg, p->name, &err), TB_OK);
        assert_ptr_equal(tb_model_preset_find(p->name), p);
        assert_non_null(strchr(p->hub_repo, '/'));
    }
    assert_null(tb_model_preset_find("gpt-5"));
    assert_null(tb_model_preset_at(-1));
}

#define NAMED(n, fn, st) {(n), (fn), NULL, NULL, (void *)(uintptr_t)(st)}

int main(void)
{
    static const char *const size = "size", *const budget = "budget";
    struct CMUnitTest tests[64];
    int n = 0;
    static char names[32][96];
    for (size_t i = 0; i < sizeof count_cases / sizeof count_cases[0]; i++) {
        const count_case *c = &count_cases[i];
        snprintf(names[n], sizeof names[n], "peft_line/%s,r=%lld,%s", c->model ? c->model : "qwen2.5-3b",
                 (long long)c->rank, c->targets);
        tests[n] = (struct CMUnitTest)NAMED(names[n], test_peft_line, c);
        n++;
    }
    int k = n;
    for (size_t i = 0; i < sizeof total_cases / sizeof total_cases[0]; i++, k++) {
        snprintf(names[k], sizeof names[k], "base_total/%s", total_cases[i].model);
        tests[n++] = (struct CMUnitTest)NAMED(names[k], test_base_total, &total_cases[i]);
    }
    for (size_t i = 0; i < sizeof published_files / sizeof published_files[0]; i++, k++) {
        const published_file *p = &published_files[i];
        snprintf(names[k], sizeof names[k], "adapter_file/published,%s,r=%lld,%s,f32", p->model, (long long)p->rank,
                 p->targets);
        tests[n++] = (struct CMUnitTest)NAMED(names[k], test_published_adapter_file, p);
    }
    tests[n++] = (struct CMUnitTest)NAMED("peft_line/qwen2.5-0.5b,full-ft", test_full_ft_line, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("per_module/llama-3.1-8b,gqa,r=16", test_per_module_gqa, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("tutorial/d=4096,L=32,qkvo,ranks=4..64", test_tutorial_formula, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("adapter_file/golden-python-reference", test_golden, size);
    tests[n++] = (struct CMUnitTest)NAMED("budget/golden,tutorial-10-50-100-500MB", test_golden, budget);
    tests[n++] = (struct CMUnitTest)NAMED("adapter_file/writer,smollm2-135m,r=8,q,v,bf16", test_writer_smollm2, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("adapter_file/writer,D=30,F=77,L=3,Dh=6", test_writer_odd_shapes, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("budget/edges,llama-3.1-8b", test_budget_edges, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("budget/boundary,qwen2.5-0.5b,all-linear", test_budget_boundary, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("memory/by-hand,D=8,L=2,B=1,T=4,r=2", test_memory_by_hand, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("memory/nf4-bits", test_nf4_bits, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("memory/order,all-presets", test_memory_order, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("calc/errors-name-the-field", test_calc_errors, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("calc/rows,llama-3.1-8b,r=12,budget=50MB", test_calc_rows, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("parse/targets,ranks,thousands", test_parsers, NULL);
    tests[n++] = (struct CMUnitTest)NAMED("presets/validate", test_presets, NULL);
    return _cmocka_run_group_tests("calc", tests, (size_t)n, NULL, NULL);
}
