#!/usr/bin/env bash
# tunebench tokenize / detokenize / tokenizer-train: ids match the golden ids of HF tokenizers,
# --file gives one line per input line, round trips, exit 2 with the file or flag named.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
ROOT=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
data=$ROOT/tests/tokenizer/data
golden=$ROOT/tests/tokenizer/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# golden_field FILE CASE FIELD → the field's value for that case
golden_field() {
    awk -v c="$2" -v f="$3" '$1=="case"{cur=$2} cur==c && $1==f {print substr($0, length(f) + 2); exit}' "$1"
}

want=$(golden_field "$golden/gpt2_style.golden" english ids)
got=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --text "The quick brown fox jumps over the lazy dog.")
tap_eq "tokenize/english ids = HF golden (gpt2_style)" "$got" "$want"

want=$(golden_field "$golden/added_options.golden" english ids+)
got=$("$TB" tokenize --tokenizer "$data/added_options.json" --text "The quick brown fox jumps over the lazy dog." \
    --add-special)
tap_eq "tokenize/--add-special = HF golden ids+ (added_options)" "$got" "$want"

json=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --text "hello world" --json)
tap_check "tokenize/--json is an array of integers" jq -e 'type=="array" and length>0 and all(type=="number")' \
    <<<"$json"

printf 'first line\r\nsecond line\n\nlast, no newline' >"$tmp/in.txt"
out=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --file "$tmp/in.txt")
tap_eq "tokenize/--file: one line per input line (4 lines, one empty)" "$(wc -l <<<"$out")" 4
l2=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --text "second line")
tap_eq "tokenize/--file line 2 = --text of it" "$(sed -n 2p <<<"$out")" "$l2"
l1=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --text "first line")
tap_eq "tokenize/--file strips \\r\\n" "$(sed -n 1p <<<"$out")" "$l1"
jl=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --file "$tmp/in.txt" --json)
tap_check "tokenize/--file --json: one array per line" jq -e -s 'length==4 and (.[2]==[])' <<<"$jl"

text=$'Round trip: caf\u00e9, \u65e5\u672c, emoji \U0001F600, tabs\tand  spaces.'
ids=$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --text "$text")
back=$("$TB" detokenize --tokenizer "$data/gpt2_style.json" --ids "${ids// /,}")
tap_eq "detokenize/inverts tokenize" "$back" "$text"
back=$("$TB" detokenize --tokenizer "$data/gpt2_style.json" --ids "[$(jq -c . <<<"$("$TB" tokenize \
    --tokenizer "$data/gpt2_style.json" --text "$text" --json)" | tr -d '[]')]")
tap_eq "detokenize/accepts a JSON array" "$back" "$text"
got=$("$TB" detokenize --tokenizer "$data/added_options.json" --ids 0,1000,73,1002 --skip-special)
tap_eq "detokenize/--skip-special drops special ids" "$got" "$("$TB" detokenize --tokenizer \
    "$data/added_options.json" --ids 73)"

mkdir -p "$tmp/model"
cp "$data/gpt2_style.json" "$tmp/model/tokenizer.json"
echo '{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}' >"$tmp/model/tokenizer_config.json"
tap_eq "tokenize/--model DIR" "$("$TB" tokenize --model "$tmp/model" --text hi)" \
    "$("$TB" tokenize --tokenizer "$data/gpt2_style.json" --text hi)"

# Unusable input: exit 2, message names the file or flag.
"$TB" tokenize --tokenizer "$tmp/missing.json" --text x >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenize/missing tokenizer exits 2" "$rc" 2
tap_check "tokenize/missing tokenizer: message names the file" grep -q "$tmp/missing.json" "$tmp/err"
printf '{"model": {"type": "BPE",\n "vocab": [}' >"$tmp/bad.json"
"$TB" tokenize --tokenizer "$tmp/bad.json" --text x >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenize/corrupt tokenizer.json exits 2" "$rc" 2
tap_check "tokenize/corrupt: message names file:line" grep -q "$tmp/bad.json:2" "$tmp/err"
echo '{"model": {"type": "Unigram", "vocab": []}}' >"$tmp/uni.json"
"$TB" tokenize --tokenizer "$tmp/uni.json" --text x >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenize/unsupported model exits 2" "$rc" 2
tap_check "tokenize/unsupported: names model.type" grep -q "model.type: 'Unigram'" "$tmp/err"
"$TB" tokenize --tokenizer "$data/gpt2_style.json" --file "$tmp/nope.txt" >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenize/missing --file exits 2" "$rc" 2
tap_check "tokenize/missing --file: names it" grep -q "$tmp/nope.txt" "$tmp/err"
"$TB" tokenize --tokenizer "$data/gpt2_style.json" --text a --file "$tmp/in.txt" >/dev/null 2>&1; rc=$?
tap_eq "tokenize/--text with --file exits 2" "$rc" 2
"$TB" tokenize --model "$tmp" --text a >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenize/--model without tokenizer.json exits 2" "$rc" 2
tap_check "tokenize/--model: names tokenizer.json" grep -q "$tmp/tokenizer.json" "$tmp/err"
"$TB" detokenize --tokenizer "$data/gpt2_style.json" --ids 1,x,3 >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "detokenize/bad id exits 2" "$rc" 2
tap_check "detokenize/bad id: names --ids" grep -q -- "--ids: 'x,3'" "$tmp/err"
"$TB" detokenize --tokenizer "$data/gpt2_style.json" --ids 5,99999 >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "detokenize/unknown id exits 2" "$rc" 2
tap_check "detokenize/unknown id: names the id" grep -q "id 99999" "$tmp/err"

# tokenizer-train: a small corpus, the file loads, ids round-trip, bad flags exit 2.
for i in $(seq 1 200); do echo "the cat sat on the mat $i times; the dog sat on the log."; done >"$tmp/corpus.txt"
"$TB" tokenizer-train --corpus "$tmp/corpus.txt" --vocab-size 300 --out "$tmp/tok.json" >"$tmp/train.out"; rc=$?
tap_eq "tokenizer-train/exit 0" "$rc" 0
tap_check "tokenizer-train/reports the vocab" grep -q "vocab 300 (42 merges)" "$tmp/train.out"
tap_check "tokenizer-train/merges are pairs, specials first" jq -e \
    '(.model.merges[0]|type=="array" and length==2) and .added_tokens[0].content=="<|endoftext|>" and
     .added_tokens[1].content=="<|pad|>" and (.model.vocab|length)==300' "$tmp/tok.json"
ids=$("$TB" tokenize --tokenizer "$tmp/tok.json" --text "the cat sat on the mat")
tap_eq "tokenizer-train/frequent words become one token each" "$(wc -w <<<"$ids")" 6
back=$("$TB" detokenize --tokenizer "$tmp/tok.json" --ids "${ids// /,}")
tap_eq "tokenizer-train/round trip" "$back" "the cat sat on the mat"
"$TB" tokenizer-train --corpus "$tmp/corpus.txt" --vocab-size 100 --out "$tmp/t2.json" >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenizer-train/vocab below 258 exits 2" "$rc" 2
tap_check "tokenizer-train/names --vocab-size" grep -q -- "--vocab-size" "$tmp/err"
"$TB" tokenizer-train --corpus "$tmp/none.txt" --vocab-size 300 --out "$tmp/t2.json" >/dev/null 2>"$tmp/err"; rc=$?
tap_eq "tokenizer-train/missing corpus exits 2" "$rc" 2
tap_check "tokenizer-train/names the corpus" grep -q "$tmp/none.txt" "$tmp/err"

# pretrain: a tiny model from random weights on that corpus with that tokenizer: a complete
# Hugging Face directory comes out, the loss falls, generate loads it; bad flags name pretrain.
cat >"$tmp/config.json" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 300, "hidden_size": 32,
 "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
 "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
 "tie_word_embeddings": true, "initializer_range": 0.02, "bos_token_id": 0, "eos_token_id": 0}
JSON
(cd "$tmp" && "$TB" pretrain --config config.json --tokenizer tok.json --corpus corpus.txt --max-len 32 --batch 4 \
    --grad-accum 1 --warmup-steps 2 --max-steps 30 --logging-steps 1 --eval-split 0.1 --eval-steps 30 \
    --save-steps 10 --seed 3 --threads 1 --out runs >pretrain.out 2>&1); rc=$?
tap_eq "pretrain/exit 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/pretrain.out" | tail -5
for f in config.json model.safetensors tokenizer.json tokenizer_config.json generation_config.json; do
    tap_check "pretrain/the model directory has $f" test -s "$tmp/runs/1/model/$f"
done
tap_check "pretrain/bf16 weights by default" jq -e '.architectures == ["LlamaForCausalLM"] and .torch_dtype == "bfloat16"' \
    "$tmp/runs/1/model/config.json"
first=$(sed -n 's/^step 1\/30 .* loss \([0-9.]*\).*/\1/p' "$tmp/pretrain.out")
last=$(sed -n 's/^step 30\/30 .* loss \([0-9.]*\).*/\1/p' "$tmp/pretrain.out")
tap_ok "pretrain/the loss falls ($first -> $last)" \
    "$(awk -v a="$first" -v z="$last" 'BEGIN { exit !(a > 0 && z > 0 && z < a - 0.5) }'; echo $?)"
out=$("$TB" generate --model "$tmp/runs/1/model" --prompt "the cat" --max-new 4 --threads 1 2>&1); rc=$?
tap_eq "pretrain/generate loads the model ($out)" "$rc" 0
(cd "$tmp" && "$TB" pretrain --config config.json --tokenizer tok.json --corpus corpus.txt --lr abc >/dev/null 2>err); rc=$?
tap_eq "pretrain/bad --lr exits 2" "$rc" 2
tap_check "pretrain/the message names pretrain, not train" grep -q "^tunebench pretrain: --lr: 'abc'" "$tmp/err"
tap_done
