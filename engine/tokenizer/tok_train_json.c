/* tunebench — the tokenizer.json a training run writes: Hugging Face's layout for a GPT-2
 * style byte-level BPE (ByteLevel pre-tokenizer with the GPT-2 regex, ByteLevel decoder),
 * merges as ["a", "b"] pairs (tokenizers >= 0.20), special tokens as added tokens. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

static json_t *byte_level(bool prefix, bool trim)
{
    return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", prefix, "trim_offsets", trim,
                     "use_regex", true);
}

char *tok_train_json(const tok_str *raw, int32_t nids, int32_t n_special, const uint32_t (*merges)[2],
                     int32_t nmerges);

/* raw[id]: the bytes of each id (the first n_special: special tokens' text). */
char *tok_train_json(const tok_str *raw, int32_t nids, int32_t n_special, const uint32_t (*merges)[2],
                     int32_t nmerges)
{
    tok_buf *spell = calloc((size_t)nids, sizeof *spell); /* byte-level spelling of each id */
    json_t *root = json_object(), *vocab = json_object(), *jm = json_array(), *added = json_array();
    char *out = NULL;
    if (!spell || !root || !vocab || !jm || !added)
        goto done;
    for (int32_t i = 0; i < nids; i++) {
        bool ok = tok_buf_append(&spell[i], "", 0);
        for (uint32_t k = 0; ok && k < raw[i].n; k++) {
            char ch[4];
            int l = i < n_special ? 1 : tok_utf8_encode(tok_bytelevel_cp((unsigned char)raw[i].p[k]), ch);
            ok = tok_buf_append(&spell[i], i < n_special ? &raw[i].p[k] : ch, (size_t)l);
        }
        if (!ok)
            goto done;
        spell[i].p[spell[i].n] = '\0';
        json_object_set_new(vocab, spell[i].p, json_integer(i));
    }
    for (int32_t m = 0; m < nmerges; m++)
        json_array_append_new(jm, json_pack("[s,s]", spell[merges[m][0]].p, spell[merges[m][1]].p));
    for (int32_t i = 0; i < n_special; i++)
        json_array_append_new(added, json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", i, "content", spell[i].p,
                                               "single_word", false, "lstrip", false, "rstrip", false, "normalized",
                                               false, "special", true));
    json_t *model = json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE", "dropout",
                              "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", false,
                              "byte_fallback", false, "ignore_merges", false, "vocab", vocab, "merges", jm);
    vocab = jm = NULL; /* owned by model */
    json_object_set_new(root, "version", json_string("1.0"));
    json_object_set_new(root, "truncation", json_null());
    json_object_set_new(root, "padding", json_null());
    json_object_set_new(root, "added_tokens", added);
    added = NULL;
    json_object_set_new(root, "normalizer", json_null());
    json_object_set_new(root, "pre_tokenizer", byte_level(false, true));
    json_object_set_new(root, "post_processor", byte_level(true, false));
    json_object_set_new(root, "decoder", byte_level(true, true));
    json_object_set_new(root, "model", model);
    out = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
done:
    if (spell)
        for (int32_t i = 0; i < nids; i++)
            free(spell[i].p);
    free(spell);
    json_decref(root);
    json_decref(vocab);
    json_decref(jm);
    json_decref(added);
    return out;
}
