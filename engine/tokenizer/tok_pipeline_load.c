/* tunebench — tokenizer.json's pipeline sections: normalizer, pre_tokenizer, post_processor,
 * decoder. Each type HF defines that we support becomes one step; any other is refused with
 * the field named, never silently skipped (a skipped step would change the ids). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

/* The GPT-2 split regex of HF's ByteLevel pre-tokenizer (pre_tokenizers/byte_level.rs). */
static const char gpt2_regex[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

#define FAIL(st, field, ...) tb_error_set(err, (st), tok->path, 0, (field), __VA_ARGS__)

pcre2_code *tok_regex_compile(const tb_tokenizer *tok, const char *pattern, size_t len, bool literal,
                              const char *field, tb_error *err)
{
    int code;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        FAIL(TB_ERR_FORMAT, field, "regex does not compile at offset %zu: %s", (size_t)off, (const char *)msg);
        return NULL;
    }
    /* JIT where the platform has it; pcre2_match falls back to the interpreter otherwise. */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

static const char *str_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool bool_field(json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* {"String": "..."} or {"Regex": "..."}: the literal (copied) or a compiled regex. */
static tb_status load_pattern(tb_tokenizer *tok, json_t *pat, const char *field, char **lit, size_t *lit_len,
                              pcre2_code **re, bool compile_literal, tb_error *err)
{
    json_t *s = json_object_get(pat, "String");
    json_t *r = json_object_get(pat, "Regex");
    if (json_is_string(s)) {
        if (compile_literal) {
            *re = tok_regex_compile(tok, json_string_value(s), json_string_length(s), true, field, err);
            return *re ? TB_OK : err ? err->status : TB_ERR_FORMAT;
        }
        *lit = dup_bytes(json_string_value(s), json_string_length(s));
        *lit_len = json_string_length(s);
        return *lit ? TB_OK : FAIL(TB_ERR_NOMEM, field, "out of memory");
    }
    if (json_is_string(r)) {
        *re = tok_regex_compile(tok, json_string_value(r), json_string_length(r), false, field, err);
        return *re ? TB_OK : err ? err->status : TB_ERR_FORMAT;
    }
    return FAIL(TB_ERR_FORMAT, field, "pattern must be {\"String\": ...} or {\"Regex\": ...}");
}

static void *push_step(void **arr, size_t *n, size_t elem)
{
    void *a = realloc(*arr, (*n + 1) * elem);
    if (!a)
        return NULL;
    *arr = a;
    void *slot = (char *)a + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

/* ---- normalizer -------------------------------------------------------------------- */

static tb_status load_normalizer(tb_tokenizer *tok, json_t *n, tb_error *err)
{
    if (!n || json_is_null(n))
        return TB_OK;
    const char *type = str_field(n, "type");
    if (!type)
        return FAIL(TB_ERR_FORMAT, "normalizer.type", "missing");
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(n, "normalizers");
        size_t i;
        json_t *v;
        if (!json_is_array(list))
            return FAIL(TB_ERR_FORMAT, "normalizer.normalizers", "must be an array");
        json_array_foreach(list, i, v) {
            tb_status st = load_normalizer(tok, v, err);
            if (st != TB_OK)
                return st;
        }
        return TB_OK;
    }
    tok_norm *s = push_step((void **)&tok->norms, &tok->n_norms, sizeof *s);
    if (!s)
        return FAIL(TB_ERR_NOMEM, "normalizer", "out of memory");
    if (!strcmp(type, "NFC"))
        s->kind = TOK_NORM_NFC;
    else if (!strcmp(type, "NFD"))
        s->kind = TOK_NORM_NFD;
    else if (!strcmp(type, "NFKC"))
        s->kind = TOK_NORM_NFKC;
    else if (!strcmp(type, "NFKD"))
        s->kind = TOK_NORM_NFKD;
    else if (!strcmp(type, "Lowercase"))
        s->kind = TOK_NORM_LOWERCASE;
    else if (!strcmp(type, "Strip")) {
        s->kind = TOK_NORM_STRIP;
        s->left = bool_field(n, "strip_left", true);
        s->right = bool_field(n, "strip_right", true);
    } else if (!strcmp(type, "Prepend")) {
        json_t *p = json_object_get(n, "prepend");
        if (!json_is_string(p))
            return FAIL(TB_ERR_FORMAT, "normalizer.prepend", "must be a string");
        s->kind = TOK_NORM_PREPEND;
        s->a = dup_bytes(json_string_value(p), json_string_length(p));
        s->a_len = json_string_length(p);
    } else if (!strcmp(type, "Replace")) {
        json_t *c = json_object_get(n, "content");
        if (!json_is_string(c))
            return FAIL(TB_ERR_FORMAT, "normalizer.content", "must be a string");
        s->kind = TOK_NORM_REPLACE;
        s->b = dup_bytes(json_string_value(c), json_string_length(c));
        s->b_len = json_string_length(c);
        return load_pattern(tok, json_object_get(n, "pattern"), "normalizer.pattern", &s->a, &s->a_len, &s->re,
                            false, err);
    } else
        return FAIL(TB_ERR_UNSUPPORTED, "normalizer.type", "'%s' is not supported (supported: NFC, NFD, NFKC, "
                    "NFKD, Lowercase, Strip, Prepend, Replace, Sequence)", type);
    return TB_OK;
}

/* ---- pre-tokenizer ----------------------------------------------------------------- */

static tb_status parse_prepend(tb_tokenizer *tok, json_t *n, const char *field, tok_prepend *out, tb_error *err)
{
    const char *scheme = str_field(n, "prepend_scheme");
    if (!scheme) {
        /* Older files: add_prefix_space true/false. */
        *out = bool_field(n, "add_prefix_space", true) ? TOK_PREPEND_ALWAYS : TOK_PREPEND_NEVER;
        return TB_OK;
    }
    if (!strcmp(scheme, "always"))
        *out = TOK_PREPEND_ALWAYS;
    else if (!strcmp(scheme, "first"))
        *out = TOK_PREPEND_FIRST;
    else if (!strcmp(scheme, "never"))
        *out = TOK_PREPEND_NEVER;
    else
        return FAIL(TB_ERR_FORMAT, field, "unknown prepend_scheme '%s'", scheme);
    return TB_OK;
}

static tb_status parse_replacement(tb_tokenizer *tok, json_t *n, const char *field, char out[5], int *len,
                                   tb_error *err)
{
    json_t *r = json_object_get(n, "replacement");
    const char *s = json_is_string(r) ? json_string_value(r) : "\xE2\x96\x81"; /* ▁ */
    size_t l = json_is_string(r) ? json_string_length(r) : 3;
    int cl = l ? tok_utf8_len((const unsigned char *)s, l) : 0;
    if (!cl || (size_t)cl != l)
        return FAIL(TB_ERR_FORMAT, field, "replacement must be one character");
    memcpy(out, s, l);
    out[l] = '\0';
    *len = (int)l;
    return TB_OK;
}

static tb_status load_pre(tb_tokenizer *tok, json_t *n, tb_error *err)
{
    if (!n || json_is_null(n))
        return TB_OK;
    const char *type = str_field(n, "type");
    if (!type)
        return FAIL(TB_ERR_FORMAT, "pre_tokenizer.type", "missing");
    if (tok->n_pres && tok->pres[tok->n_pres - 1].kind == TOK_PRE_BYTELEVEL)
        return FAIL(TB_ERR_UNSUPPORTED, "pre_tokenizer", "a pre-tokenizer after ByteLevel is not supported");
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(n, "pretokenizers");
        size_t i;
        json_t *v;
        if (!json_is_array(list))
            return FAIL(TB_ERR_FORMAT, "pre_tokenizer.pretokenizers", "must be an array");
        json_array_foreach(list, i, v) {
            tb_status st = load_pre(tok, v, err);
            if (st != TB_OK)
                return st;
        }
        return TB_OK;
    }
    tok_pre *s = push_step((void **)&tok->pres, &tok->n_pres, sizeof *s);
    if (!s)
        return FAIL(TB_ERR_NOMEM, "pre_tokenizer", "out of memory");
    if (!strcmp(type, "Split")) {
        s->kind = TOK_PRE_SPLIT;
        const char *b = str_field(n, "behavior");
        if (!b)
            return FAIL(TB_ERR_FORMAT, "pre_tokenizer.behavior", "missing");
        if (!strcmp(b, "Removed"))
            s->behavior = TOK_SPLIT_REMOVED;
        else if (!strcmp(b, "Isolated"))
            s->behavior = TOK_SPLIT_ISOLATED;
        else if (!strcmp(b, "MergedWithPrevious"))
            s->behavior = TOK_SPLIT_MERGED_PREV;
        else if (!strcmp(b, "MergedWithNext"))
            s->behavior = TOK_SPLIT_MERGED_NEXT;
        else if (!strcmp(b, "Contiguous"))
            s->behavior = TOK_SPLIT_CONTIGUOUS;
        else
            return FAIL(TB_ERR_FORMAT, "pre_tokenizer.behavior", "unknown behavior '%s'", b);
        s->invert = bool_field(n, "invert", false);
        return load_pattern(tok, json_object_get(n, "pattern"), "pre_tokenizer.pattern", NULL, NULL, &s->re, true,
                            err);
    }
    if (!strcmp(type, "Digits")) {
        /* HF: char::is_numeric (Nd, Nl, No) = \p{N}; individual digits isolated, else runs. */
        s->kind = TOK_PRE_SPLIT;
        s->behavior = bool_field(n, "individual_digits", false) ? TOK_SPLIT_ISOLATED : TOK_SPLIT_CONTIGUOUS;
        s->re = tok_regex_compile(tok, "\\p{N}", 5, false, "pre_tokenizer", err);
        return s->re ? TB_OK : err ? err->status : TB_ERR_FORMAT;
    }
    if (!strcmp(type, "ByteLevel")) {
        s->kind = TOK_PRE_BYTELEVEL;
        s->add_prefix_space = bool_field(n, "add_prefix_space", true);
        tok->byte_level = true;
        if (bool_field(n, "use_regex", true)) {
            s->re = tok_regex_compile(tok, gpt2_regex, sizeof gpt2_regex - 1, false, "pre_tokenizer", err);
            if (!s->re)
                return err ? err->status : TB_ERR_FORMAT;
        }
        return TB_OK;
    }
    if (!strcmp(type, "Metaspace")) {
        s->kind = TOK_PRE_METASPACE;
        s->split = bool_field(n, "split", true);
        tb_status st = parse_replacement(tok, n, "pre_tokenizer.replacement", s->repl, &s->repl_len, err);
        return st != TB_OK ? st : parse_prepend(tok, n, "pre_tokenizer.prepend_scheme", &s->prepend, err);
    }
    return FAIL(TB_ERR_UNSUPPORTED, "pre_tokenizer.type", "'%s' is not supported (supported: Split, Digits, "
                "ByteLevel, Metaspace, Sequence)", type);
}

/* ---- post-processor: reduced to ids before and after the sequence ------------------ */

static tb_status add_ids(tb_tokenizer *tok, int32_t **arr, size_t *n, json_t *ids, const char *field, tb_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            return FAIL(TB_ERR_FORMAT, field, "ids must be non-negative integers");
        int32_t *a = realloc(*arr, (*n + 1) * sizeof *a);
        if (!a)
            return FAIL(TB_ERR_NOMEM, field, "out of memory");
        a[(*n)++] = (int32_t)json_integer_value(v);
        *arr = a;
    }
    return TB_OK;
}

static tb_status load_template(tb_tokenizer *tok, json_t *n, int32_t **pre, size_t *npre, int32_t **suf,
                               size_t *nsuf, tb_error *err)
{
    json_t *single = json_object_get(n, "single");
    json_t *specials = json_object_get(n, "special_tokens");
    if (!json_is_array(single))
        return FAIL(TB_ERR_FORMAT, "post_processor.single", "must be an array");
    bool seen_a = false;
    size_t i;
    json_t *item;
    json_array_foreach(single, i, item) {
        json_t *sp = json_object_get(item, "SpecialToken");
        if (json_object_get(item, "Sequence")) {
            if (seen_a)
                return FAIL(TB_ERR_UNSUPPORTED, "post_processor.single", "the sequence appears twice");
            seen_a = true;
            continue;
        }
        const char *name = sp ? str_field(sp, "id") : NULL;
        if (!name)
            return FAIL(TB_ERR_FORMAT, "post_processor.single", "items must be SpecialToken or Sequence");
        json_t *entry = json_object_get(specials, name);
        json_t *ids = json_object_get(entry, "ids");
        if (!json_is_array(ids))
            return FAIL(TB_ERR_FORMAT, "post_processor.special_tokens", "'%s' has no ids", name);
        tb_status st = seen_a ? add_ids(tok, suf, nsuf, ids, "post_processor.special_tokens", err)
                              : add_ids(tok, pre, npre, ids, "post_processor.special_tokens", err);
        if (st != TB_OK)
            return st;
    }
    if (!seen_a)
        return FAIL(TB_ERR_FORMAT, "post_processor.single", "has no Sequence");
    return TB_OK;
}

/* Bert/Roberta: {"cls": ["[CLS]", 101], "sep": ["[SEP]", 102]} → cls A sep. */
static tb_status load_cls_sep(tb_tokenizer *tok, json_t *n, int32_t **pre, size_t *npre, int32_t **suf,
                              size_t *nsuf, tb_error *err)
{
    json_t *cls = json_array_get(json_object_get(n, "cls"), 1);
    json_t *sep = json_array_get(json_object_get(n, "sep"), 1);
    if (!json_is_integer(cls) || !json_is_integer(sep))
        return FAIL(TB_ERR_FORMAT, "post_processor", "cls and sep must be [token, id]");
    json_t *a = json_pack("[O]", cls), *b = json_pack("[O]", sep);
    tb_status st = add_ids(tok, pre, npre, a, "post_processor.cls", err);
    if (st == TB_OK)
        st = add_ids(tok, suf, nsuf, b, "post_processor.sep", err);
    json_decref(a);
    json_decref(b);
    return st;
}

/* Applies processor n on top of what is already in tok->post_*: a later processor wraps
 * the output of an earlier one (HF's Sequence runs them in order). */
static tb_status load_post(tb_tokenizer *tok, json_t *n, tb_error *err)
{
    if (!n || json_is_null(n))
        return TB_OK;
    const char *type = str_field(n, "type");
    if (!type)
        return FAIL(TB_ERR_FORMAT, "post_processor.type", "missing");
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(n, "processors");
        size_t i;
        json_t *v;
        if (!json_is_array(list))
            return FAIL(TB_ERR_FORMAT, "post_processor.processors", "must be an array");
        json_array_foreach(list, i, v) {
            tb_status st = load_post(tok, v, err);
            if (st != TB_OK)
                return st;
        }
        return TB_OK;
    }
    if (!strcmp(type, "ByteLevel"))
        return TB_OK; /* offsets only */
    int32_t *pre = NULL, *suf = NULL;
    size_t npre = 0, nsuf = 0;
    tb_status st;
    if (!strcmp(type, "TemplateProcessing"))
        st = load_template(tok, n, &pre, &npre, &suf, &nsuf, err);
    else if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing"))
        st = load_cls_sep(tok, n, &pre, &npre, &suf, &nsuf, err);
    else
        st = FAIL(TB_ERR_UNSUPPORTED, "post_processor.type", "'%s' is not supported (supported: "
                  "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)", type);
    if (st == TB_OK) {
        int32_t *np = malloc((npre + tok->n_post_prefix + 1) * sizeof *np);
        int32_t *ns = malloc((tok->n_post_suffix + nsuf + 1) * sizeof *ns);
        if (!np || !ns) {
            free(np);
            free(ns);
            st = FAIL(TB_ERR_NOMEM, "post_processor", "out of memory");
        } else {
            /* memcpy with a NULL source is undefined even for 0 bytes. */
            if (npre)
                memcpy(np, pre, npre * sizeof *np);
            if (tok->n_post_prefix)
                memcpy(np + npre, tok->post_prefix, tok->n_post_prefix * sizeof *np);
            if (tok->n_post_suffix)
                memcpy(ns, tok->post_suffix, tok->n_post_suffix * sizeof *ns);
            if (nsuf)
                memcpy(ns + tok->n_post_suffix, suf, nsuf * sizeof *ns);
            free(tok->post_prefix);
            free(tok->post_suffix);
            tok->post_prefix = np;
            tok->post_suffix = ns;
            tok->n_post_prefix += npre;
            tok->n_post_suffix += nsuf;
        }
    }
    free(pre);
    free(suf);
    return st;
}

/* ---- decoder ----------------------------------------------------------------------- */

static tb_status load_decoder(tb_tokenizer *tok, json_t *n, tb_error *err)
{
    if (!n || json_is_null(n))
        return TB_OK;
    const char *type = str_field(n, "type");
    if (!type)
        return FAIL(TB_ERR_FORMAT, "decoder.type", "missing");
    tok->has_decoder = true;
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(n, "decoders");
        size_t i;
        json_t *v;
        if (!json_is_array(list))
            return FAIL(TB_ERR_FORMAT, "decoder.decoders", "must be an array");
        json_array_foreach(list, i, v) {
            tb_status st = load_decoder(tok, v, err);
            if (st != TB_OK)
                return st;
        }
        return TB_OK;
    }
    tok_dec *s = push_step((void **)&tok->decs, &tok->n_decs, sizeof *s);
    if (!s)
        return FAIL(TB_ERR_NOMEM, "decoder", "out of memory");
    if (!strcmp(type, "ByteLevel"))
        s->kind = TOK_DEC_BYTELEVEL;
    else if (!strcmp(type, "ByteFallback"))
        s->kind = TOK_DEC_BYTEFALLBACK;
    else if (!strcmp(type, "Fuse"))
        s->kind = TOK_DEC_FUSE;
    else if (!strcmp(type, "Strip")) {
        json_t *c = json_object_get(n, "content");
        json_t *a = json_object_get(n, "start"), *b = json_object_get(n, "stop");
        if (!json_is_string(c) || !json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 ||
            json_integer_value(b) < 0 || json_integer_value(a) > 1 << 20 || json_integer_value(b) > 1 << 20)
            return FAIL(TB_ERR_FORMAT, "decoder", "Strip needs content, start, stop");
        s->kind = TOK_DEC_STRIP;
        s->a = dup_bytes(json_string_value(c), json_string_length(c));
        s->a_len = json_string_length(c);
        s->start = (int)json_integer_value(a);
        s->stop = (int)json_integer_value(b);
    } else if (!strcmp(type, "Replace")) {
        json_t *c = json_object_get(n, "content");
        if (!json_is_string(c))
            return FAIL(TB_ERR_FORMAT, "decoder.content", "must be a string");
        s->kind = TOK_DEC_REPLACE;
        s->b = dup_bytes(json_string_value(c), json_string_length(c));
        s->b_len = json_string_length(c);
        return load_pattern(tok, json_object_get(n, "pattern"), "decoder.pattern", &s->a, &s->a_len, &s->re, false,
                            err);
    } else if (!strcmp(type, "Metaspace")) {
        char r[5];
        int rl;
        s->kind = TOK_DEC_METASPACE;
        tb_status st = parse_replacement(tok, n, "decoder.replacement", r, &rl, err);
        if (st != TB_OK)
            return st;
        s->a = dup_bytes(r, (size_t)rl);
        s->a_len = (size_t)rl;
        return parse_prepend(tok, n, "decoder.prepend_scheme", &s->prepend, err);
    } else
        return FAIL(TB_ERR_UNSUPPORTED, "decoder.type", "'%s' is not supported (supported: ByteLevel, Metaspace, "
                    "Replace, ByteFallback, Fuse, Strip, Sequence)", type);
    return TB_OK;
}

tb_status tok_pipeline_load(tb_tokenizer *tok, json_t *root, tb_error *err)
{
    tb_status st = load_normalizer(tok, json_object_get(root, "normalizer"), err);
    if (st == TB_OK)
        st = load_pre(tok, json_object_get(root, "pre_tokenizer"), err);
    if (st == TB_OK)
        st = load_post(tok, json_object_get(root, "post_processor"), err);
    if (st == TB_OK)
        st = load_decoder(tok, json_object_get(root, "decoder"), err);
    return st;
}

void tok_pipeline_free(tb_tokenizer *tok)
{
    for (size_t i = 0; i < tok->n_norms; i++) {
        free(tok->norms[i].a);
        free(tok->norms[i].b);
        pcre2_code_free(tok->norms[i].re);
    }
    for (size_t i = 0; i < tok->n_pres; i++)
        pcre2_code_free(tok->pres[i].re);
    for (size_t i = 0; i < tok->n_decs; i++) {
        free(tok->decs[i].a);
        free(tok->decs[i].b);
        pcre2_code_free(tok->decs[i].re);
    }
    free(tok->norms);
    free(tok->pres);
    free(tok->decs);
    free(tok->post_prefix);
    free(tok->post_suffix);
    tok->norms = NULL;
    tok->pres = NULL;
    tok->decs = NULL;
    tok->post_prefix = tok->post_suffix = NULL;
}
