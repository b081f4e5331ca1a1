/* The bundled demo model (datasets/models/tunebench-demo): its config, tensor names, shapes
 * and dtype; its tokenizer in Hugging Face format, with lossless round trips over the demo
 * texts; and its losses and greedy tokens on known texts against the independent PyTorch
 * reference (tests/reference/demo_model.golden, made by tests/reference/demo_model_ref.py;
 * regenerate: /usr/bin/python3 tests/reference/demo_model_ref.py --tunebench build/tui/tunebench).
 * That the tokenizer's ids equal Hugging Face tokenizers' is test_tokenizer_golden's
 * (tests/tokenizer/golden/tunebench-demo.golden). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_logits.h"
#include "engine/core/fs.h"
#include "engine/io/hf_model.h"
#include "engine/model/llama.h"
#include "engine/tokenizer/tokenizer.h"

static char dir[1024], root[1024];

static void path_of(char *out, size_t size, const char *rel) { snprintf(out, size, "%s/%s", root, rel); }

/* ------------------------------------------------------------------ config and tensors */

static void test_config(void **state)
{
    (void)state;
    tb_hf_model *hf;
    tb_error err;
    if (tb_hf_model_open(&hf, dir, &err) != TB_OK)
        fail_msg("%s: %s", err.file, err.message);
    const tb_llama_config *c = tb_hf_model_config(hf);
    assert_string_equal(c->architecture, "LlamaForCausalLM");
    assert_int_equal(c->dim, 256);
    assert_int_equal(c->ffn_dim, 704);
    assert_int_equal(c->n_layers, 6);
    assert_int_equal(c->n_heads, 8);
    assert_int_equal(c->n_kv_heads, 4);
    assert_int_equal(c->head_dim, 32);
    assert_int_equal(c->vocab_size, 4096);
    assert_int_equal(c->max_pos, 256);
    assert_true(c->tie_embeddings);
    assert_false(c->qkv_bias);
    assert_int_equal(c->bos_id, 0);
    assert_int_equal(c->n_eos, 1);
    assert_int_equal(c->eos_ids[0], 0);
    assert_int_equal(c->torch_dtype, TB_DTYPE_BF16);
    tb_hf_model_close(hf);
}

static void expect(const tb_hf_model *hf, const char *name, int64_t d0, int64_t d1, int64_t *params)
{
    const tb_st_tensor *t = tb_hf_model_find(hf, name, NULL);
    if (!t)
        fail_msg("tensor %s missing", name);
    if (t->dtype != TB_DTYPE_BF16)
        fail_msg("%s: dtype %s, want BF16", name, tb_dtype_name(t->dtype));
    int nd = d1 ? 2 : 1;
    if (t->ndim != nd || t->shape[0] != d0 || (nd == 2 && t->shape[1] != d1))
        fail_msg("%s: wrong shape (ndim %d, %lld x %lld)", name, t->ndim, (long long)t->shape[0],
                 (long long)(t->ndim > 1 ? t->shape[1] : 0));
    *params += d0 * (d1 ? d1 : 1);
}

/* Exactly the Hugging Face Llama names (tied: no lm_head.weight), all BF16. */
static void test_tensors_bf16_hf_names(void **state)
{
    (void)state;
    tb_hf_model *hf;
    tb_error err;
    assert_int_equal(tb_hf_model_open(&hf, dir, &err), TB_OK);
    int64_t params = 0;
    expect(hf, "model.embed_tokens.weight", 4096, 256, &params);
    expect(hf, "model.norm.weight", 256, 0, &params);
    static const struct {
        const char *name;
        int64_t d0, d1;
    } per_layer[] = {
        {"input_layernorm.weight", 256, 0},         {"post_attention_layernorm.weight", 256, 0},
        {"self_attn.q_proj.weight", 256, 256},      {"self_attn.k_proj.weight", 128, 256},
        {"self_attn.v_proj.weight", 128, 256},      {"self_attn.o_proj.weight", 256, 256},
        {"mlp.gate_proj.weight", 704, 256},         {"mlp.up_proj.weight", 704, 256},
        {"mlp.down_proj.weight", 256, 704},
    };
    for (int l = 0; l < 6; l++)
        for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++) {
            char name[128];
            snprintf(name, sizeof name, "model.layers.%d.%s", l, per_layer[i].name);
            expect(hf, name, per_layer[i].d0, per_layer[i].d1, &params);
        }
    assert_int_equal(tb_hf_model_tensor_count(hf), 2 + 6 * 9);
    assert_int_equal(params, 5475584); /* `tunebench calc`'s "model alone" */
    tb_hf_model_close(hf);
}

/* ------------------------------------------------------------------ tokenizer */

static json_t *load_json(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s:%d: %s", path, je.line, je.text);
    return j;
}

/* The layout Hugging Face tokenizers reads (FORMATS.md "tokenizer.json"). */
static void test_tokenizer_hf_format(void **state)
{
    (void)state;
    json_t *j = load_json("tokenizer.json");
    json_t *model = json_object_get(j, "model");
    assert_string_equal(json_string_value(json_object_get(model, "type")), "BPE");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "pre_tokenizer"), "type")), "ByteLevel");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "decoder"), "type")), "ByteLevel");
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    assert_int_equal(json_object_size(vocab), 4096);
    assert_int_equal(json_array_size(merges), 4096 - 2 - 256);
    /* ids 0 .. V-1, each once */
    char *seen = calloc(4096, 1);
    const char *k;
    json_t *v;
    json_object_foreach(vocab, k, v) {
        json_int_t id = json_integer_value(v);
        assert_true(json_is_integer(v) && id >= 0 && id < 4096 && !seen[id]);
        seen[id] = 1;
    }
    free(seen);
    /* merges as pairs whose concatenation is a vocabulary token */
    size_t i;
    json_array_foreach(merges, i, v) {
        assert_true(json_is_array(v) && json_array_size(v) == 2);
        char cat[256];
        snprintf(cat, sizeof cat, "%s%s", json_string_value(json_array_get(v, 0)), json_string_value(json_array_get(v, 1)));
        if (!json_object_get(vocab, cat))
            fail_msg("merge %zu: %s is not in the vocabulary", i, cat);
    }
    json_t *added = json_object_get(j, "added_tokens");
    assert_int_equal(json_array_size(added), 2);
    static const char *const specials[] = {"<|endoftext|>", "<|pad|>"};
    for (i = 0; i < 2; i++) {
        json_t *a = json_array_get(added, i);
        assert_int_equal(json_integer_value(json_object_get(a, "id")), (json_int_t)i);
        assert_string_equal(json_string_value(json_object_get(a, "content")), specials[i]);
        assert_true(json_is_true(json_object_get(a, "special")));
    }
    json_decref(j);
    /* the model directory names them: bos = eos = <|endoftext|>, pad = <|pad|> */
    json_t *tc = load_json("tokenizer_config.json"), *gc = load_json("generation_config.json");
    assert_string_equal(json_string_value(json_object_get(tc, "eos_token")), "<|endoftext|>");
    assert_string_equal(json_string_value(json_object_get(tc, "pad_token")), "<|pad|>");
    assert_int_equal(json_integer_value(json_object_get(gc, "eos_token_id")), 0);
    assert_int_equal(json_integer_value(json_object_get(gc, "pad_token_id")), 1);
    json_decref(tc);
    json_decref(gc);
    tb_tokenizer *tok;
    tb_error err;
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_OK);
    assert_int_equal(tb_tokenizer_vocab_size(tok), 4096);
    assert_int_equal(tb_tokenizer_bos(tok), 0);
    assert_int_equal(tb_tokenizer_eos(tok), 0);
    assert_int_equal(tb_tokenizer_pad(tok), 1);
    tb_tokenizer_free(tok);
}

static void round_trip(const tb_tokenizer *tok, const char *text, size_t len, const char *where, size_t *tokens)
{
    int32_t *ids;
    size_t n;
    char *back;
    size_t blen;
    tb_error err;
    assert_int_equal(tb_tokenizer_encode(tok, text, len, false, &ids, &n, &err), TB_OK);
    assert_int_equal(tb_tokenizer_decode_bytes(tok, ids, n, false, &back, &blen, &err), TB_OK);
    if (blen != len || memcmp(back, text, len) != 0)
        fail_msg("%s: decode(encode(text)) differs: \"%.*s\" -> \"%s\"", where, (int)len, text, back);
    *tokens += n;
    free(ids);
    free(back);
}

/* decode(encode(x)) == x over every held-out general line and every demo dataset text. */
static void test_tokenizer_round_trip(void **state)
{
    (void)state;
    tb_tokenizer *tok;
    tb_error err;
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_OK);
    char path[1200];
    char *data;
    size_t len, lines = 0, texts = 0, tokens = 0, bytes = 0;
    path_of(path, sizeof path, "datasets/demo/general.txt");
    assert_int_equal(tb_read_file(path, &data, &len, &err), TB_OK);
    for (char *p = data, *nl; p < data + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(data + len - p));
        if (!nl)
            nl = data + len;
        round_trip(tok, p, (size_t)(nl - p + (nl < data + len)), "general.txt", &tokens); /* with its newline */
        lines++;
    }
    bytes += len;
    free(data);
    assert_int_equal(lines, 513);
    static const char *const files[] = {"datasets/demo/train.jsonl", "datasets/demo/eval.jsonl"};
    static const char *const fields[] = {"instruction", "input", "output"};
    for (int f = 0; f < 2; f++) {
        path_of(path, sizeof path, files[f]);
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        char line[4096];
        while (fgets(line, sizeof line, fp)) {
            json_t *row = json_loads(line, 0, NULL);
            assert_non_null(row);
            for (int k = 0; k < 3; k++) {
                const char *s = json_string_value(json_object_get(row, fields[k]));
                assert_non_null(s);
                round_trip(tok, s, strlen(s), files[f], &tokens);
                bytes += strlen(s);
                texts++;
            }
            json_decref(row);
        }
        fclose(fp);
    }
    assert_true(texts > 15000);
    /* a 4096-token BPE of English: between 2.5 and 5 bytes per token on this text */
    double bpt = (double)bytes / (double)tokens;
    if (bpt < 2.5 || bpt > 5)
        fail_msg("%.2f bytes per token", bpt);
    tb_tokenizer_free(tok);
}

/* ------------------------------------------------------------------ reference losses */

typedef struct gcase {
    char name[64];
    char *text;
    int32_t ids[512], greedy[32];
    int n_ids, n_greedy;
    double loss;
} gcase;

static int parse_ints(const char *s, int32_t *out, int max)
{
    int n = 0;
    char *end;
    for (long v = strtol(s, &end, 10); end != s && n < max; v = strtol(s, &end, 10)) {
        out[n++] = (int32_t)v;
        s = end;
    }
    return n;
}

static char *parse_hex(const char *s)
{
    size_t n = strlen(s) / 2;
    char *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        b[i] = (char)v;
    }
    b[n] = '\0';
    return b;
}

static int load_golden(gcase *cases, int max)
{
    char path[1200];
    path_of(path, sizeof path, "tests/reference/demo_model.golden");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s missing", path);
    char line[8192];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "TBDEMOGOLD 1\n");
    int n = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "case ", 5) == 0 && n + 1 < max)
            snprintf(cases[++n].name, sizeof cases[0].name, "%s", line + 5);
        else if (n < 0)
            continue;
        else if (strncmp(line, "text ", 5) == 0)
            cases[n].text = parse_hex(line + 5);
        else if (strncmp(line, "ids ", 4) == 0)
            cases[n].n_ids = parse_ints(line + 4, cases[n].ids, 512);
        else if (strncmp(line, "greedy ", 7) == 0)
            cases[n].n_greedy = parse_ints(line + 7, cases[n].greedy, 32);
        else if (strncmp(line, "loss ", 5) == 0)
            cases[n].loss = strtod(line + 5, NULL);
    }
    fclose(f);
    return n + 1;
}

/* Mean next-token cross-entropy (log-sum-exp in double) and greedy tokens, against the
 * reference; the text's ids against the golden's too. */
static void test_reference_loss_and_greedy(void **state)
{
    (void)state;
    gcase cases[8] = {0};
    int n = load_golden(cases, 8);
    assert_int_equal(n, 3);
    tb_backend *be;
    tb_backend_options o = {.threads = 1, .precision = TB_PRECISION_F32, .device = -1};
    tb_error err;
    assert_int_equal(tb_backend_create(&be, "cpu", &o, NULL, 0, &err), TB_OK);
    tb_llama *m;
    if (tb_llama_load(&m, dir, be, &err) != TB_OK)
        fail_msg("%s: %s", err.file, err.message);
    tb_tokenizer *tok;
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_OK);
    int64_t V = m->cfg.vocab_size;
    for (int c = 0; c < n; c++) {
        gcase *g = &cases[c];
        int32_t *ids;
        size_t nid;
        assert_int_equal(tb_tokenizer_encode(tok, g->text, strlen(g->text), false, &ids, &nid, &err), TB_OK);
        assert_int_equal((int)nid, g->n_ids);
        assert_memory_equal(ids, g->ids, nid * sizeof *ids);
        free(ids);
        float *lg = model_logits(m, g->ids, 1, g->n_ids, false);
        double sum = 0;
        for (int t = 0; t + 1 < g->n_ids; t++) {
            const float *r = lg + (size_t)t * (size_t)V;
            double mx = r[0], s = 0;
            for (int64_t v = 1; v < V; v++)
                mx = r[v] > mx ? r[v] : mx;
            for (int64_t v = 0; v < V; v++)
                s += exp((double)r[v] - mx);
            sum += mx + log(s) - (double)r[g->ids[t + 1]];
        }
        free(lg);
        double loss = sum / (g->n_ids - 1);
        printf("# demo_model/%s: T=%d loss %.6f (reference %.6f)\n", g->name, g->n_ids, loss, g->loss);
        if (fabs(loss - g->loss) > 1e-4 * fmax(1.0, g->loss))
            fail_msg("%s: loss %.6f, reference %.6f", g->name, loss, g->loss);
        int32_t seq[600];
        memcpy(seq, g->ids, (size_t)g->n_ids * sizeof *seq);
        for (int k = 0; k < g->n_greedy; k++) {
            int64_t T = g->n_ids + k;
            float *l = model_logits(m, seq, 1, T, false);
            const float *r = l + (size_t)(T - 1) * (size_t)V;
            int32_t best = 0;
            for (int64_t v = 1; v < V; v++)
                best = r[v] > r[best] ? (int32_t)v : best;
            free(l);
            seq[T] = best;
            if (best != g->greedy[k])
                fail_msg("%s: greedy token %d is %d, reference %d", g->name, k, best, g->greedy[k]);
        }
        free(g->text);
    }
    tb_tokenizer_free(tok);
    tb_llama_free(m);
    tb_backend_destroy(be);
}

int main(void)
{
    const char *r = getenv("TB_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s", r && *r ? r : ".");
    snprintf(dir, sizeof dir, "%s/datasets/models/tunebench-demo", root);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_tensors_bf16_hf_names),
        cmocka_unit_test(test_tokenizer_hf_format),
        cmocka_unit_test(test_tokenizer_round_trip),
        cmocka_unit_test(test_reference_loss_and_greedy),
    };
    return cmocka_run_group_tests_name("demo_model", tests, NULL, NULL);
}
