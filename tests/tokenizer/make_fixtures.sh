#!/usr/bin/env bash
# tunebench — the committed tokenizer fixtures in tests/tokenizer/data/ (their golden ids come
# from gen_golden.js like the real tokenizers'):
#   gpt2_style.json     tunebench tokenizer-train on the Alpaca fixture, vocab 1000
#   smollm2_style.json  the same vocab with SmolLM2's pre-tokenizer (Digits, then ByteLevel)
#   added_options.json  the same vocab with added tokens using lstrip/rstrip/single_word/
#                       normalized, NFKC + Lowercase + a regex Replace normalizer, and a
#                       TemplateProcessing post-processor (bos ... eos)
# Usage: TUNEBENCH=build/tui/tunebench tests/tokenizer/make_fixtures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TB=${TUNEBENCH:-$here/../../build/tui/tunebench}
shared=${TB_SHARED_DIR:-$here/../../../shared}
[ -d "$shared" ] || shared=/work/shared
data=$here/data
"$TB" tokenizer-train --corpus "$shared/fixtures/alpaca_data_cleaned_1000.json" --vocab-size 1000 \
    --out "$data/gpt2_style.json"
jq '.pre_tokenizer = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": true},
        {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}' \
    "$data/gpt2_style.json" >"$data/smollm2_style.json"
jq '.normalizer = {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"},
        {"type": "Replace", "pattern": {"Regex": "\\t+"}, "content": "\t"}]} |
    .added_tokens += [
        {"id": 1000, "content": "<mask>", "single_word": true, "lstrip": true, "rstrip": true,
         "normalized": false, "special": true},
        {"id": 1001, "content": "yesterday", "single_word": false, "lstrip": false, "rstrip": false,
         "normalized": true, "special": false},
        {"id": 1002, "content": "[SEP]", "single_word": false, "lstrip": true, "rstrip": false,
         "normalized": false, "special": true},
        {"id": 1003, "content": "ony", "single_word": true, "lstrip": false, "rstrip": false,
         "normalized": true, "special": false}] |
    .post_processor = {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]},
                           "[SEP]": {"id": "[SEP]", "ids": [1002], "tokens": ["[SEP]"]}}}' \
    "$data/gpt2_style.json" >"$data/added_options.json"
ls -la "$data"
