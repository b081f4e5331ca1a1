#!/usr/bin/env bash
# tunebench train with QLoRA (--quant nf4|nf4-dq, --mode qlora) on the 320-token reference
# model: the run trains (the loss falls), records its mode, resumes as QLoRA, and its
# adapter is an ordinary PEFT LoRA adapter of the unchanged base (same tensors, shapes and
# config keys as a LoRA run's; the engine loads it onto the unquantized model); settings
# QLoRA cannot honour exit 2 naming the flag; logits/generate take --quant too.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
M=$SRC/tests/reference/llama/llama_vocab320_f32
DATA=$SRC/datasets/examples/alpaca_clean.jsonl
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
COMMON=(--model "$M" --data "$DATA" --threads 2 --batch 2 --grad-accum 2 --lr 5e-3 --max-steps 12 --logging-steps 2)

# tensor names, dtypes and shapes of a safetensors file, one per line (python3: meson needs it)
st_layout() {
    python3 - "$1" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
for k in sorted(h):
    if k != "__metadata__":
        print(k, h[k]["dtype"], h[k]["shape"])
PY
}
# a key of adapter_config.json
cfg_key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

"$TB" train "${COMMON[@]}" --quant nf4-dq --out "$W/q" >"$W/out" 2>"$W/err"; rc=$?
tap_eq "qlora/--quant nf4-dq exits 0" "$rc" 0
tap_check "qlora/says what it trains" grep -q "^qlora: r=16 alpha=32 targets q,k,v,o, .* base linears in NF4 with double quantization" "$W/out"
first=$(grep -o 'loss [0-9.]*' "$W/out" | head -1 | cut -d' ' -f2)
last=$(grep -o 'loss [0-9.]*' "$W/out" | tail -1 | cut -d' ' -f2)
tap_check "qlora/the training loss falls ($first -> $last)" awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.1) }'
tap_check "qlora/the run records its mode" grep -q '"mode": "qlora_dq"' "$W/q/1/config.json"
"$TB" runs --dir "$W/q" --json >"$W/runs.json"
tap_check "qlora/the store lists a finished qlora_dq run" grep -q '"mode": "qlora_dq"' "$W/runs.json"

"$TB" train "${COMMON[@]}" --out "$W/l" --quiet >/dev/null 2>&1
A=$W/q/1/adapter
tap_eq "qlora/adapter tensors, dtypes and shapes are a LoRA run's" "$(st_layout "$A/adapter_model.safetensors")" \
    "$(st_layout "$W/l/1/adapter/adapter_model.safetensors")"
tap_eq "qlora/adapter_config.json names the unchanged base" "$(cfg_key "$A/adapter_config.json" base_model_name_or_path)" "$M"
tap_eq "qlora/adapter_config.json has a LoRA run's keys" \
    "$(python3 -c 'import json, sys; print(sorted(json.load(open(sys.argv[1]))))' "$A/adapter_config.json")" \
    "$(python3 -c 'import json, sys; print(sorted(json.load(open(sys.argv[1]))))' "$W/l/1/adapter/adapter_config.json")"
tap_eq "qlora/peft_type LORA" "$(cfg_key "$A/adapter_config.json" peft_type)" "LORA"
"$TB" grad --model "$M" --adapter "$A" --ids 5,17,200,3,9,44 --out "$W/g.st" >"$W/out" 2>"$W/err"; rc=$?
tap_eq "qlora/the adapter loads onto the unquantized base (grad exits 0)" "$rc" 0

"$TB" train "${COMMON[@]}" --mode qlora --quant nf4 --max-steps 4 --save-steps 2 --out "$W/r" --quiet >"$W/out" 2>&1
tap_check "qlora/--mode qlora --quant nf4 records qlora" grep -q '"mode": "qlora"' "$W/r/1/config.json"
"$TB" train --resume "$W/r/1" --max-steps 6 >"$W/out" 2>"$W/err"; rc=$?
tap_eq "qlora/--resume exits 0" "$rc" 0
tap_check "qlora/--resume trains QLoRA on NF4" grep -q "^qlora: .* base linears in NF4$" "$W/out"
tap_check "qlora/--resume continues to step 6" grep -q "^step 6/6" "$W/out"

"$TB" train "${COMMON[@]}" --mode full --quant nf4 --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "qlora/--mode full --quant nf4 exits 2" "$rc" 2
tap_check "qlora/--mode full --quant nf4 says why" grep -q "quant: full fine-tuning" "$W/err"
"$TB" train "${COMMON[@]}" --mode qlora --quant none --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "qlora/--mode qlora --quant none exits 2" "$rc" 2
"$TB" train "${COMMON[@]}" --quant nf8 --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "qlora/--quant nf8 exits 2" "$rc" 2
tap_check "qlora/--quant nf8 is named" grep -q "quant: 'nf8' is not none, nf4 or nf4-dq" "$W/err"
tap_eq "qlora/refused runs create nothing" "$(ls "$W/bad" 2>/dev/null | wc -l)" 0

"$TB" logits --model "$M" --ids 5,17,200,3 --out "$W/lq.st" --quant nf4-dq >/dev/null 2>"$W/err"; rc=$?
tap_eq "qlora/logits --quant nf4-dq exits 0" "$rc" 0
g=$("$TB" generate --model "$M" --ids 5,17,200,3 --max-new 4 --quant nf4 2>"$W/err"); rc=$?
tap_eq "qlora/generate --quant nf4 exits 0" "$rc" 0
"$TB" grad --model "$M" --full --quant nf4 --ids 5,17,200 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "qlora/grad --full --quant nf4 exits 2" "$rc" 2
tap_check "qlora/grad --full --quant nf4 says why" grep -q "NF4" "$W/err"
tap_done
