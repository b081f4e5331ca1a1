#!/usr/bin/env bash
# tunebench logits / generate on the reference tiny models (tests/reference/llama): output
# shape and greedy tokens equal the PyTorch reference's; bad input exits 2 naming the
# file / tensor / flag. The ids and greedy tokens below are those stored in
# tests/reference/llama/llama_gqa_f32/golden.safetensors (tests/reference/llama_ref.py).
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
M=$SRC/tests/reference/llama/llama_gqa_f32
IDS=11,5,56,54,17,89,76,93,12,36,60,73,42,56,50,21,69,76,33,84,37,91,89,19
GREEDY=52,15,0,23,6,34,29,56
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

"$TB" logits --model "$M" --ids "$IDS" --out "$W/l.safetensors" 2>"$W/err"; rc=$?
tap_eq "logits/T=24,V=96 exits 0" "$rc" 0
hdr=$(head -c 200 "$W/l.safetensors" | tail -c +9 | tr -d '\0')
tap_check "logits/header has F32 logits [24, 96]" grep -q '"logits":{"dtype":"F32","shape":\[24,96\]' <<<"$hdr"
hlen=$(od -An -tu8 -N8 "$W/l.safetensors" | tr -d ' ')
tap_eq "logits/file size = 8 + header + 24*96*4" "$(stat -c %s "$W/l.safetensors")" $((8 + hlen + 24 * 96 * 4))

out=$("$TB" generate --model "$M" --ids "$IDS" --max-new 8 2>"$W/err"); rc=$?
tap_eq "generate/greedy exits 0" "$rc" 0
tap_eq "generate/greedy ids equal the reference" "$out" "$GREEDY"
out=$("$TB" generate --model "$M" --ids "$IDS" --max-new 8 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 3)
again=$("$TB" generate --model "$M" --ids "$IDS" --max-new 8 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 3)
tap_eq "generate/same seed, same tokens" "$out" "$again"
tap_eq "generate/8 sampled tokens" "$(tr ',' '\n' <<<"$out" | wc -l)" 8
"$TB" generate --model "$M" --ids "$IDS" --max-new 4 --stats >/dev/null 2>"$W/err"
tap_check "generate/--stats reports decode speed" grep -q "decode .* tokens/s" "$W/err"

# bad input: exit 2, and the message names what is wrong
"$TB" logits --ids 1,2 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "logits/no --model exits 2" "$rc" 2
"$TB" logits --model "$W/nope" --ids 1,2 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "logits/missing dir exits 2" "$rc" 2
tap_check "logits/missing dir is named" grep -q "$W/nope" "$W/err"
"$TB" logits --model "$M" --ids 1,x --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "logits/bad --ids exits 2" "$rc" 2
tap_check "logits/bad --ids names the flag" grep -q -- "--ids" "$W/err"
"$TB" logits --model "$M" --ids 1,96 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "logits/id outside the vocabulary exits 2" "$rc" 2
tap_check "logits/id outside the vocabulary is named" grep -q "ids: token id 96" "$W/err"

cp -r "$M" "$W/trunc"
truncate -s 5000 "$W/trunc/model.safetensors"
"$TB" logits --model "$W/trunc" --ids 1,2 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "logits/truncated safetensors exits 2" "$rc" 2
tap_check "logits/truncated safetensors: file named" grep -q "trunc/model.safetensors" "$W/err"

cp -r "$M" "$W/shape"
sed -i 's/"intermediate_size": 64/"intermediate_size": 65/' "$W/shape/config.json"
"$TB" generate --model "$W/shape" --ids 1,2 >/dev/null 2>"$W/err"; rc=$?
tap_eq "generate/shape mismatch exits 2" "$rc" 2
tap_check "generate/shape mismatch names file and tensor" \
    grep -q "shape/model.safetensors: model.layers.0.mlp.gate_proj.weight: shape \[64, 32\] does not match" "$W/err"

"$TB" generate --model "$M" --prompt "hello" >/dev/null 2>"$W/err"; rc=$?
tap_eq "generate/--prompt, model without tokenizer.json exits 2" "$rc" 2
tap_check "generate/--prompt without a tokenizer says so" grep -qi "tokenizer" "$W/err"

# Text prompts: a tiny model whose vocabulary is the tokenizer.json beside it (320 ids).
T320=$SRC/tests/reference/llama/llama_vocab320_f32
PROMPT="The engine runs a model"
if "$TB" tokenize --model "$T320" --text "$PROMPT" >"$W/ids" 2>"$W/err"; then
    ids=$(tr ' ' ',' <"$W/ids")
    gen_ids=$("$TB" generate --model "$T320" --ids "$ids" --max-new 10)
    want=$("$TB" detokenize --model "$T320" --ids "$gen_ids" --skip-special)
    got=$("$TB" generate --model "$T320" --prompt "$PROMPT" --max-new 10); rc=$?
    tap_eq "generate/--prompt exits 0" "$rc" 0
    tap_eq "generate/--prompt text = detokenize(generate --ids tokenize(prompt))" "$got" "$want"
    first=$("$TB" detokenize --model "$T320" --ids "${gen_ids%%,*}")
    "$TB" generate --model "$T320" --prompt "$PROMPT" --max-new 10 --stop "$first" --stats >"$W/out" 2>"$W/err"
    tap_check "generate/--stop ends at the stop string" grep -q "stop string" "$W/err"
    tap_eq "generate/--stop output is the text up to the stop string" "$(cat "$W/out")" "$first"
else
    tap_ok "generate/--prompt # SKIP this build has no tokenizer" 0
fi
"$TB" generate --model "$M" --ids 1 --top-p 0 >/dev/null 2>"$W/err"; rc=$?
tap_eq "generate/--top-p 0 exits 2" "$rc" 2
"$TB" generate --model "$M" --ids 1 --backend gpu9 >/dev/null 2>"$W/err"; rc=$?
tap_eq "generate/unknown backend exits 2" "$rc" 2
tap_check "generate/unknown backend names the flag" grep -q -- "--backend" "$W/err"
tap_done
