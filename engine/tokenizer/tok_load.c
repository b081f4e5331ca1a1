/* tunebench — loading tokenizer.json: the BPE model (vocab, merges, options), added tokens,
 * the tables the encoder needs; the public accessors. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tok_internal.h"

#define FAIL(st, field, ...) tb_error_set(err, (st), tok->path, 0, (field), __VA_ARGS__)

/* Ids are array indices: a file claiming id 2^31 must not make us allocate 16 GB. */
enum { MAX_ID = 1 << 24 };

static bool pool_str(tb_tokenizer *tok, tok_str *dst, const char *s, size_t n)
{
    char *p = tok_arena_alloc(&tok->pool, n + 1);
    if (!p)
        return false;
    memcpy(p, s, n);
    p[n] = '\0';
    dst->p = p;
    dst->n = (uint32_t)n;
    return true;
}

static int32_t vocab_id(const tb_tokenizer *tok, const char *s, size_t n)
{
    int32_t id = tok_strmap_get(&tok->str_map, tok->str, s, n);
    return id >= 0 && (tok->flags[id] & TOK_ID_VOCAB) ? id : -1;
}

/* Sizes the id tables from model.vocab and added_tokens. */
static tb_status scan_ids(tb_tokenizer *tok, json_t *vocab, json_t *added, tb_error *err)
{
    int64_t max_id = -1;
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= MAX_ID)
            return FAIL(TB_ERR_FORMAT, "model.vocab", "token '%.60s' has id %s; ids are integers in [0, %d)", key,
                        json_is_integer(v) ? "out of range" : "that is not an integer", MAX_ID);
        if (json_integer_value(v) > max_id)
            max_id = json_integer_value(v);
    }
    size_t i;
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= MAX_ID ||
            !json_is_string(json_object_get(v, "content")))
            return tb_error_set(err, TB_ERR_FORMAT, tok->path, 0, "added_tokens",
                                "entry %zu needs an integer id in [0, %d) and a string content", i, MAX_ID);
        if (json_integer_value(id) > max_id)
            max_id = json_integer_value(id);
    }
    size_t entries = json_object_size(vocab) + json_array_size(added);
    if (max_id < 0)
        return FAIL(TB_ERR_FORMAT, "model.vocab", "the vocabulary is empty");
    if ((size_t)max_id > 2 * entries + 1024)
        return FAIL(TB_ERR_FORMAT, "model.vocab", "ids go up to %lld for %zu tokens; the id space is mostly empty",
                    (long long)max_id, entries);
    tok->n_ids = (int32_t)max_id + 1;
    tok->str = calloc((size_t)tok->n_ids, sizeof *tok->str);
    tok->flags = calloc((size_t)tok->n_ids, 1);
    if (!tok->str || !tok->flags || !tok_strmap_init(&tok->str_map, entries))
        return FAIL(TB_ERR_NOMEM, NULL, "out of memory for %d ids", tok->n_ids);
    return TB_OK;
}

static tb_status load_vocab(tb_tokenizer *tok, json_t *vocab, tb_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v) {
        int32_t id = (int32_t)json_integer_value(v);
        if (tok->str[id].p)
            return FAIL(TB_ERR_FORMAT, "model.vocab", "id %d is used by two tokens ('%.60s' and '%.60s')", id,
                        tok->str[id].p, key);
        /* jansson keys are NUL-terminated; json_object_foreach gives no length, and NUL never
         * occurs in real vocabularies (byte tokens are spelled <0x00> or Ā). */
        if (!pool_str(tok, &tok->str[id], key, strlen(key)) || !tok_strmap_put(&tok->str_map, tok->str, id))
            return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
        tok->flags[id] |= TOK_ID_VOCAB;
    }
    return TB_OK;
}

static tb_status load_added(tb_tokenizer *tok, json_t *added, tb_error *err)
{
    size_t n = json_array_size(added);
    tok->added = calloc(n ? n : 1, sizeof *tok->added);
    if (!tok->added)
        return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(added, i, v) {
        json_t *c = json_object_get(v, "content");
        tok_added *a = &tok->added[tok->n_added];
        a->id = (int32_t)json_integer_value(json_object_get(v, "id"));
        a->special = json_is_true(json_object_get(v, "special"));
        /* HF's default: special tokens are not normalized, others are. */
        json_t *norm = json_object_get(v, "normalized");
        a->normalized = json_is_boolean(norm) ? json_is_true(norm) : !a->special;
        a->lstrip = json_is_true(json_object_get(v, "lstrip"));
        a->rstrip = json_is_true(json_object_get(v, "rstrip"));
        a->single_word = json_is_true(json_object_get(v, "single_word"));
        tok_str s;
        if (!pool_str(tok, &s, json_string_value(c), json_string_length(c)))
            return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
        a->content = s.p;
        a->len = s.n;
        if (!s.n)
            continue; /* HF ignores empty added tokens */
        /* Content already in the model vocabulary: HF's add_tokens keeps the model's id. */
        int32_t in_vocab = vocab_id(tok, s.p, s.n);
        if (in_vocab >= 0)
            a->id = in_vocab;
        if (!tok->str[a->id].p) {
            tok->str[a->id] = s;
        } else if (tok->str[a->id].n != s.n || memcmp(tok->str[a->id].p, s.p, s.n) != 0) {
            if (!(tok->flags[a->id] & TOK_ID_VOCAB))
                return tb_error_set(err, TB_ERR_FORMAT, tok->path, 0, "added_tokens",
                                    "id %d is given to two added tokens", a->id);
        }
        tok->flags[a->id] |= TOK_ID_ADDED | (a->special ? TOK_ID_SPECIAL : 0);
        tok->n_added++;
    }
    /* The map gets the added contents after the vocab: HF's token_to_id asks the added
     * vocabulary first. */
    for (size_t k = 0; k < tok->n_added; k++) {
        tok_added *a = &tok->added[k];
        if (!a->len)
            continue;
        /* An added token whose id also names a different vocab spelling stays out of the
         * map (the map compares against str[id]); real files never do this. */
        if (tok->str[a->id].n == a->len && memcmp(tok->str[a->id].p, a->content, a->len) == 0 &&
            !tok_strmap_put(&tok->str_map, tok->str, a->id))
            return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
        tok_trie *t = a->normalized ? &tok->trie_norm : &tok->trie_raw;
        if (!tok_trie_insert(t, a->content, a->len, (int32_t)k))
            return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
    }
    return TB_OK;
}

/* Byte-level models: index the vocabulary by the bytes each token stands for. */
static tb_status build_raw(tb_tokenizer *tok, tb_error *err)
{
    tok->raw = calloc((size_t)tok->n_ids, sizeof *tok->raw);
    if (!tok->raw || !tok_strmap_init(&tok->raw_map, (size_t)tok->n_ids))
        return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
    tok_buf b = {0};
    for (int32_t id = 0; id < tok->n_ids; id++) {
        if (!(tok->flags[id] & TOK_ID_VOCAB))
            continue;
        if (!tok->byte_level) {
            tok->raw[id] = tok->str[id];
        } else if (tok_bytelevel_to_raw(tok->str[id].p, tok->str[id].n, &b)) {
            if (!pool_str(tok, &tok->raw[id], b.p ? b.p : "", b.n)) {
                free(b.p);
                return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
            }
        } else {
            continue; /* a char outside the alphabet: no input can produce this token */
        }
        if (!tok_strmap_put(&tok->raw_map, tok->raw, id)) {
            free(b.p);
            return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
        }
    }
    free(b.p);
    return TB_OK;
}

static tb_status load_merges(tb_tokenizer *tok, json_t *merges, tb_error *err)
{
    if (!tok_mergemap_init(&tok->merges, json_array_size(merges)))
        return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
    tok_buf cat = {0};
    tb_status st = TB_OK;
    size_t i;
    json_t *m;
    char field[64];
    json_array_foreach(merges, i, m) {
        const char *a, *b;
        size_t al, bl;
        snprintf(field, sizeof field, "model.merges[%zu]", i);
        if (json_is_string(m)) {
            /* Older files: "a b", exactly one space (HF: split(' ') must give two parts). */
            a = json_string_value(m);
            const char *sp = memchr(a, ' ', json_string_length(m));
            if (!sp || memchr(sp + 1, ' ', json_string_length(m) - (size_t)(sp + 1 - a))) {
                st = FAIL(TB_ERR_FORMAT, field, "'%.80s' is not two tokens separated by one space", a);
                break;
            }
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = json_string_length(m) - al - 1;
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            a = json_string_value(json_array_get(m, 0));
            al = json_string_length(json_array_get(m, 0));
            b = json_string_value(json_array_get(m, 1));
            bl = json_string_length(json_array_get(m, 1));
        } else {
            st = FAIL(TB_ERR_FORMAT, field, "a merge is \"a b\" or [\"a\", \"b\"]");
            break;
        }
        int32_t ia = vocab_id(tok, a, al), ib = vocab_id(tok, b, bl);
        cat.n = 0;
        if (!tok_buf_append(&cat, a, al) || !tok_buf_append(&cat, b, bl)) {
            st = FAIL(TB_ERR_NOMEM, NULL, "out of memory");
            break;
        }
        int32_t inew = vocab_id(tok, cat.p, cat.n);
        if (ia < 0 || ib < 0 || inew < 0) {
            st = FAIL(TB_ERR_FORMAT, field, "'%.*s' is not in the vocabulary", (int)(ia < 0 ? al : ib < 0 ? bl : cat.n),
                      ia < 0 ? a : ib < 0 ? b : cat.p);
            break;
        }
        if (!tok_mergemap_put(&tok->merges, ia, ib, (uint32_t)i, inew)) {
            st = FAIL(TB_ERR_NOMEM, NULL, "out of memory");
            break;
        }
    }
    free(cat.p);
    return st;
}

/* Initial symbols of each byte for byte-level models, <0xXX> ids for byte fallback. */
static void build_byte_tables(tb_tokenizer *tok)
{
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        tok->fallback_id[b] = vocab_id(tok, name, 6);
    }
    if (!tok->byte_level)
        return;
    for (int b = 0; b < 256; b++) {
        char ch[4];
        int l = tok_utf8_encode(tok_bytelevel_cp((unsigned char)b), ch);
        int32_t id = tok_strmap_get(&tok->raw_map, tok->raw, (const char *)&(unsigned char){(unsigned char)b}, 1);
        tok->byte_nsyms[b] = 0;
        if (id >= 0) {
            tok->byte_syms[b][0] = id;
            tok->byte_nsyms[b] = 1;
        } else if (tok->byte_fallback) {
            /* HF falls back on the bytes of the alphabet char, all or nothing. */
            int k = 0;
            for (; k < l && tok->fallback_id[(unsigned char)ch[k]] >= 0; k++)
                tok->byte_syms[b][k] = tok->fallback_id[(unsigned char)ch[k]];
            if (k == l) {
                tok->byte_nsyms[b] = (uint8_t)l;
                tok->byte_fb[b] = true;
            }
        }
    }
}

static tb_status load_model(tb_tokenizer *tok, json_t *model, tb_error *err)
{
    json_t *dropout = json_object_get(model, "dropout");
    if (dropout && !json_is_null(dropout) && json_number_value(dropout) != 0.0)
        return FAIL(TB_ERR_UNSUPPORTED, "model.dropout", "BPE dropout is a training-time option; not supported");
    const char *fields[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(model, fields[i]);
        if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0)) {
            char f[64];
            snprintf(f, sizeof f, "model.%s", fields[i]);
            return FAIL(TB_ERR_UNSUPPORTED, f, "a non-empty %s is not supported", fields[i]);
        }
    }
    tok->byte_fallback = json_is_true(json_object_get(model, "byte_fallback"));
    tok->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    tok->fuse_unk = json_is_true(json_object_get(model, "fuse_unk"));
    tok->unk_id = -1;
    json_t *unk = json_object_get(model, "unk_token");
    if (json_is_string(unk)) {
        tok->unk_id = vocab_id(tok, json_string_value(unk), json_string_length(unk));
        if (tok->unk_id < 0)
            return FAIL(TB_ERR_FORMAT, "model.unk_token", "'%s' is not in the vocabulary", json_string_value(unk));
    }
    return TB_OK;
}

/* See sp_split in tok_internal.h. */
static void find_sp_split(tb_tokenizer *tok)
{
    const char *sep = "\xE2\x96\x81"; /* ▁ */
    size_t sl = 3;
    for (size_t i = 0; i < tok->n_pres; i++)
        if (tok->pres[i].kind == TOK_PRE_METASPACE) {
            sep = tok->pres[i].repl;
            sl = (size_t)tok->pres[i].repl_len;
        }
    if (tok->byte_level)
        return;
    bool used = false;
    for (int32_t id = 0; id < tok->n_ids; id++) {
        const tok_str *t = &tok->raw[id];
        if (!t->p || !(tok->flags[id] & TOK_ID_VOCAB))
            continue;
        for (const char *p = t->p; (p = memmem(p, t->n - (size_t)(p - t->p), sep, sl)); p += sl) {
            used = true;
            if (p > t->p && !(p - t->p >= (ptrdiff_t)sl && memcmp(p - sl, sep, sl) == 0))
                return; /* a token joins "x▁": cutting there could change the result */
        }
    }
    if (used) {
        memcpy(tok->sp_split, sep, sl);
        tok->sp_split_len = (int)sl;
    }
}

/* bos/eos/pad from the file alone: the post-processor's tokens first, then well-known names. */
static int32_t first_special(const tb_tokenizer *tok, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        int32_t id = tb_tokenizer_token_id(tok, names[i]);
        if (id >= 0)
            return id;
    }
    return -1;
}

static void guess_specials(tb_tokenizer *tok)
{
    static const char *const bos_names[] = {"<|begin_of_text|>", "<s>", "<|startoftext|>", "<bos>", "<|endoftext|>",
                                            NULL};
    static const char *const eos_names[] = {"<|end_of_text|>", "</s>", "<|endoftext|>", "<eos>", "<|im_end|>", NULL};
    static const char *const pad_names[] = {"<|pad|>", "<pad>", "[PAD]", "<|finetune_right_pad_id|>", NULL};
    tok->bos = tok->n_post_prefix ? tok->post_prefix[0] : first_special(tok, bos_names);
    tok->eos = tok->n_post_suffix ? tok->post_suffix[tok->n_post_suffix - 1] : first_special(tok, eos_names);
    tok->pad = first_special(tok, pad_names);
}

static tb_status load_root(tb_tokenizer *tok, json_t *root, tb_error *err)
{
    if (!json_is_object(root))
        return FAIL(TB_ERR_FORMAT, NULL, "not a JSON object");
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model))
        return FAIL(TB_ERR_FORMAT, "model", "missing or not an object");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (type && strcmp(type, "BPE") != 0)
        return FAIL(TB_ERR_UNSUPPORTED, "model.type", "'%s' is not supported (only BPE models)", type);
    json_t *vocab = json_object_get(model, "vocab");
    json_t *merges = json_object_get(model, "merges");
    json_t *added = json_object_get(root, "added_tokens");
    json_t *empty = json_array();
    if (!added || json_is_null(added))
        added = empty;
    tb_status st = TB_OK;
    if (!json_is_object(vocab))
        st = FAIL(TB_ERR_FORMAT, "model.vocab", "missing or not an object (is this a BPE tokenizer.json?)");
    else if (!json_is_array(merges))
        st = FAIL(TB_ERR_FORMAT, "model.merges", "missing or not an array");
    else if (!json_is_array(added))
        st = FAIL(TB_ERR_FORMAT, "added_tokens", "must be an array");
    if (st == TB_OK)
        st = scan_ids(tok, vocab, added, err);
    if (st == TB_OK)
        st = load_vocab(tok, vocab, err);
    if (st == TB_OK)
        st = load_added(tok, added, err);
    if (st == TB_OK)
        st = load_model(tok, model, err);
    if (st == TB_OK)
        st = tok_pipeline_load(tok, root, err);
    if (st == TB_OK)
        st = build_raw(tok, err);
    if (st == TB_OK)
        st = load_merges(tok, merges, err);
    json_decref(empty);
    if (st != TB_OK)
        return st;
    for (size_t i = 0; i < tok->n_post_prefix + tok->n_post_suffix; i++) {
        int32_t id = i < tok->n_post_prefix ? tok->post_prefix[i] : tok->post_suffix[i - tok->n_post_prefix];
        if (id >= tok->n_ids)
            return FAIL(TB_ERR_FORMAT, "post_processor.special_tokens", "id %d is outside the vocabulary", id);
    }
    build_byte_tables(tok);
    find_sp_split(tok);
    guess_specials(tok);
    tok->cache = malloc(sizeof *tok->cache);
    if (!tok->cache || !tok_cache_init(tok->cache)) {
        free(tok->cache);
        tok->cache = NULL;
        return FAIL(TB_ERR_NOMEM, NULL, "out of memory");
    }
    return TB_OK;
}

tb_status tok_load_json(tb_tokenizer *tok, const char *text, size_t len, tb_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return tb_error_set(err, TB_ERR_FORMAT, tok->path, jerr.line, NULL, "invalid JSON: %s", jerr.text);
    tb_status st = load_root(tok, root, err);
    json_decref(root);
    return st;
}

static tb_tokenizer *tok_new(const char *path)
{
    tb_tokenizer *tok = calloc(1, sizeof *tok);
    if (tok)
        snprintf(tok->path, sizeof tok->path, "%s", path ? path : "");
    if (tok)
        tok->bos = tok->eos = tok->pad = tok->unk_id = -1;
    return tok;
}

tb_status tb_tokenizer_load(tb_tokenizer **out, const char *path, tb_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    tb_status st = tb_read_file(path, &text, &len, err);
    if (st != TB_OK)
        return st;
    st = tb_tokenizer_load_buffer(out, text, len, path, err);
    free(text);
    return st;
}

tb_status tb_tokenizer_load_buffer(tb_tokenizer **out, const char *json, size_t len, const char *name,
                                   tb_error *err)
{
    *out = NULL;
    tb_tokenizer *tok = tok_new(name);
    if (!tok)
        return tb_error_set(err, TB_ERR_NOMEM, name, 0, NULL, "out of memory");
    tb_status st = tok_load_json(tok, json, len, err);
    if (st != TB_OK) {
        tb_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return TB_OK;
}

void tb_tokenizer_free(tb_tokenizer *tok)
{
    if (!tok)
        return;
    tok_pipeline_free(tok);
    if (tok->cache) {
        tok_cache_free(tok->cache);
        free(tok->cache);
    }
    tok_strmap_free(&tok->str_map);
    tok_strmap_free(&tok->raw_map);
    tok_mergemap_free(&tok->merges);
    tok_trie_free(&tok->trie_raw);
    tok_trie_free(&tok->trie_norm);
    free(tok->added);
    free(tok->str);
    free(tok->raw);
    free(tok->flags);
    tok_arena_free(&tok->pool);
    free(tok);
}

int32_t tb_tokenizer_vocab_size(const tb_tokenizer *tok) { return tok->n_ids; }
int32_t tb_tokenizer_bos(const tb_tokenizer *tok) { return tok->bos; }
int32_t tb_tokenizer_eos(const tb_tokenizer *tok) { return tok->eos; }
int32_t tb_tokenizer_pad(const tb_tokenizer *tok) { return tok->pad; }

int32_t tb_tokenizer_token_id(const tb_tokenizer *tok, const char *token)
{
    return tok_strmap_get(&tok->str_map, tok->str, token, strlen(token));
}

const char *tb_tokenizer_token_str(const tb_tokenizer *tok, int32_t id)
{
    return id >= 0 && id < tok->n_ids ? tok->str[id].p : NULL;
}

bool tb_tokenizer_is_special(const tb_tokenizer *tok, int32_t id)
{
    return id >= 0 && id < tok->n_ids && (tok->flags[id] & TOK_ID_SPECIAL);
}
