#!/usr/bin/env bash
# QLoRA quality: the eval loss of a QLoRA run (base linears nf4-dq, and nf4) against the LoRA
# run on the same bf16 base with the same settings, data, seed and steps (issue 10: within 5%).
#
#   tests/bench/qlora_quality.sh [BUILD_DIR] [SEEDS] [MODEL_DIR DATA_FILE]
#   QLORA_TRAIN_ARGS="..." tests/bench/qlora_quality.sh ...   (other training flags)
#
# With MODEL_DIR and DATA_FILE (a pretrained bf16 model and an alpaca/chat dataset, e.g. the
# bundled demo) it fine-tunes that. Without, it makes a small pretrained base first, so that
# quantization has learned weights to damage: a 2048-token BPE tokenizer (tunebench
# tokenizer-train) and a DEMO-shaped model (D 256, L 8, H 8, Hkv 4, F 688; BENCHMARKING.md)
# pretrained from scratch (tunebench train --mode full --packed) on the text of rows 0-699 of
# ../shared/fixtures/alpaca_data_cleaned_1000.json, saved in bf16; the fine-tuning data is
# rows 700-999 (alpaca), 10% of them held out (seeded). Everything runs on the CPU, 2 threads.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
SEEDS=${2:-1 2 3}
TB=$BUILD/tui/tunebench
W=${QLORA_WORK:-/tmp/tunebench-qlora-quality}
mkdir -p "$W"
echo "# $(date -u '+%F %H:%M') $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
if [ $# -ge 4 ]; then
    MODEL=$3 DATA=$4
else
    SHARED=${TB_SHARED_DIR:-$(readlink -f ..)/shared}
    [ -f "$SHARED/fixtures/alpaca_data_cleaned_1000.json" ] || SHARED=/work/shared
    SRC=$SHARED/fixtures/alpaca_data_cleaned_1000.json
    python3 - "$SRC" "$W" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
with open(sys.argv[2] + "/corpus.txt", "w") as f:
    for r in rows[:700]:
        f.write("\n".join(x for x in (r["instruction"], r["input"], r["output"]) if x).replace("\n\n", "\n") + "\n\n")
with open(sys.argv[2] + "/finetune.jsonl", "w") as f:
    for r in rows[700:]:
        f.write(json.dumps(r) + "\n")
PY
    DATA=$W/finetune.jsonl
    MODEL=$W/base
    if [ ! -f "$MODEL/model.safetensors" ]; then
        "$TB" tokenizer-train --corpus "$W/corpus.txt" --vocab-size 2048 --out "$W/tokenizer.json" >/dev/null
        cat >"$W/config.json" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 688,
 "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 2048,
 "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true,
 "bos_token_id": 0, "eos_token_id": 0}
JSON
        echo "pretraining the base (full, packed, 4 epochs) ..."
        "$TB" train --mode full --init-config "$W/config.json" --tokenizer "$W/tokenizer.json" --packed \
            --data "$W/corpus.txt" --max-len 257 --batch 8 --grad-accum 1 --lr 1e-3 --warmup-ratio 0.05 \
            --epochs 4 --eval-split 0.05 --eval-steps 200 --logging-steps 50 --save-steps 0 --save-dtype bf16 \
            --threads 2 --out "$W/pre" | grep -E '^(step|eval|peak|model)'
        rm -rf "$MODEL"
        cp -r "$(ls -d "$W"/pre/*/model | tail -1)" "$MODEL"
        [ -f "$MODEL/tokenizer.json" ] || cp "$W/tokenizer.json" "$MODEL/"
    fi
fi
# QLORA_TRAIN_ARGS replaces the training flags below (the demo's own recipe, for example:
# QLORA_TRAIN_ARGS="--eval datasets/demo/eval.jsonl --rank 16 --targets q,k,v,o --lr 3e-3 ...").
if [ -n "${QLORA_TRAIN_ARGS:-}" ]; then
    read -r -a TRAIN_ARGS <<<"$QLORA_TRAIN_ARGS"
else
    TRAIN_ARGS=(--eval-split 0.1 --max-len 256 --batch 4 --grad-accum 2 --lr 1e-3 --epochs 2 --rank 16
                --targets all-linear --eval-steps 20 --logging-steps 20 --save-steps 0)
fi
COMMON=(--model "$MODEL" --data "$DATA" "${TRAIN_ARGS[@]}" --threads 2)
declare -A FINAL BASE
run() { # name seed flags...
    local name=$1 seed=$2 out; shift 2
    rm -rf "$W/ft-$name-$seed"
    out=$("$TB" train "${COMMON[@]}" --seed "$seed" --out "$W/ft-$name-$seed" "$@" 2>&1)
    local b f
    b=$(grep -m1 '^eval at step 0:' <<<"$out" | sed -E 's/.*loss ([0-9.]+).*/\1/')
    f=$(grep '^eval at step' <<<"$out" | tail -1 | sed -E 's/.*step ([0-9]+): loss ([0-9.]+).*/\2 (step \1)/')
    BASE[$name]="${BASE[$name]:-} $b"
    FINAL[$name]="${FINAL[$name]:-} ${f%% *}"
    printf '  seed %s %-12s eval loss at step 0 %s, final %s  (%s, load %s)\n' "$seed" "$name" "$b" "$f" \
        "$(grep -o '[0-9]* tokens/s$' <<<"$out" | tail -1)" "$(cut -d' ' -f1 /proc/loadavg)"
}
for s in $SEEDS; do
    run lora_bf16 "$s"
    run qlora_nf4dq "$s" --quant nf4-dq
    run qlora_nf4 "$s" --quant nf4
done
mean() { tr ' ' '\n' | grep . | awk '{s += $1; n++} END {printf "%.4f", s / n}'; }
echo "| run | eval loss at step 0 (mean) | final eval loss (mean over seeds) | per seed |"
echo "| --- | --- | --- | --- |"
for k in lora_bf16 qlora_nf4dq qlora_nf4; do
    echo "| $k | $(mean <<<"${BASE[$k]}") | $(mean <<<"${FINAL[$k]}") | ${FINAL[$k]} |"
done
for k in qlora_nf4dq qlora_nf4; do
    awk -v q="$(mean <<<"${FINAL[$k]}")" -v l="$(mean <<<"${FINAL[lora_bf16]}")" -v n="$k" \
        'BEGIN {printf "%s / lora_bf16 final eval loss: %.4f (%+.2f%%)\n", n, q / l, 100 * (q / l - 1)}'
done
