#!/usr/bin/env bash
# tunebench train / grad on the 320-token reference model and its tokenizer: progress lines
# and the adapter path; bad input stops before any compute with exit 2 naming the cause;
# kill -9 inside a checkpoint write leaves the previous checkpoint intact and --resume
# finishes the run; SIGINT checkpoints and exits cleanly; grad matches the PyTorch reference.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
M=$SRC/tests/reference/llama/llama_vocab320_f32
DATA=$SRC/datasets/examples/alpaca_clean.jsonl
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
COMMON=(--model "$M" --data "$DATA" --threads 2 --batch 2 --grad-accum 2 --lr 5e-3)

"$TB" train "${COMMON[@]}" --out "$W/runs" --max-steps 12 --logging-steps 4 --eval-split 0.1 --eval-steps 6 \
    >"$W/out" 2>"$W/err"; rc=$?
tap_eq "train/exits 0" "$rc" 0
tap_check "train/names the run folder" grep -q "^run 1: $W/runs/1$" "$W/out"
tap_check "train/reports the data and truncation" grep -q "^data: 20 rows: .* cut at --max-len" "$W/out"
tap_eq "train/a progress line per logging step" "$(grep -c '^step [0-9]*/12  epoch' "$W/out")" 3
tap_check "train/progress line: step/total, loss, eval, lr, tokens/s, ETA" \
    grep -qE '^step 8/12  epoch [0-9.]+  loss [0-9.]+  eval [0-9.]+  lr [0-9.e-]+  grad-norm [0-9.e-]+  [0-9]+ tokens/s  ETA ' "$W/out"
tap_eq "train/ends with the adapter path" "$(tail -1 "$W/out")" "adapter: $W/runs/1/adapter"
tap_check "train/PEFT adapter_config.json" grep -q '"peft_type": "LORA"' "$W/runs/1/adapter/adapter_config.json"
tap_check "train/config.json has hashes" grep -q '"data": "[0-9a-f]\{16\}"' "$W/runs/1/config.json"
# the adapter file is the size the calculator predicts for this model, rank and targets
want=$("$TB" calc --model "$M" --rank 16 --targets q,k,v,o --json | tr -d ' \n' | grep -o '"adapter_bytes":{"f32":[0-9]*' | grep -o '[0-9]*$')
tap_eq "train/adapter size = calc's prediction" "$(stat -c %s "$W/runs/1/adapter/adapter_model.safetensors")" "$want"
"$TB" runs --dir "$W/runs" --json >"$W/runs.json"
tap_check "runs/lists the finished run" grep -q '"status": "finished"' "$W/runs.json"

# --eval FILE, and --save-total-limit keeps the newest checkpoints only
head -17 "$DATA" >"$W/train.jsonl"
tail -3 "$DATA" >"$W/eval.jsonl"
"$TB" train "${COMMON[@]}" --data "$W/train.jsonl" --eval "$W/eval.jsonl" --out "$W/e" --max-steps 9 \
    --save-steps 2 --save-total-limit 2 --eval-steps 3 --quiet >"$W/out" 2>"$W/err"; rc=$?
tap_eq "eval-file/exits 0" "$rc" 0
tap_eq "save-total-limit/the newest 2 of 4 checkpoints are kept" "$(ls "$W/e/1/checkpoints" | tr '\n' ' ')" "step-6 step-8 "
"$TB" runs --dir "$W/e" --export 1 --csv --out "$W/m.csv"
tap_eq "eval-file/evals at steps 0, 3, 6, 9 in the store" "$(awk -F, 'NR > 1 && $6 != "" {print $3}' "$W/m.csv" | tr '\n' ' ')" "0 3 6 9 "

# bad input: exit 2 before any compute, with the cause named
"$TB" train --model "$W/nope" --data "$DATA" --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "train/missing model dir exits 2" "$rc" 2
tap_check "train/missing model dir is named" grep -q "$W/nope" "$W/err"
"$TB" train --model "$M" --data "$SRC/datasets/examples/flawed.jsonl" --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "train/validator errors exit 2" "$rc" 2
tap_check "train/validator errors are listed" grep -q "validator found 3 errors.*dup_exact" "$W/err"
"$TB" train --model "$M" --data "$DATA" --rank 40 --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "train/rank > min(in, out) exits 2" "$rc" 2
tap_check "train/rank > min(in, out) says why" grep -q "rank: rank 40 is impossible" "$W/err"
"$TB" train --model "$M" --data "$DATA" --max-len 5 --out "$W/bad" >/dev/null 2>"$W/err"; rc=$?
tap_eq "train/nothing to train exits 2" "$rc" 2
tap_check "train/nothing to train names --max-len" grep -q "nothing would be trained: --max-len 5" "$W/err"
"$TB" train --model "$M" --data "$DATA" --lr abc >/dev/null 2>"$W/err"; rc=$?
tap_eq "train/bad --lr exits 2" "$rc" 2
tap_eq "train/refused runs create nothing" "$(ls "$W/bad" 2>/dev/null | wc -l)" 0

# kill -9 inside the write of checkpoint 10: checkpoint 5 stays whole, --resume finishes
"$TB" train "${COMMON[@]}" --out "$W/k" --max-steps 14 --save-steps 5 --save-total-limit 5 --quiet \
    --fault-kill-checkpoint 10 >/dev/null 2>&1; rc=$?
tap_eq "kill9/the trainer died by SIGKILL" "$rc" 137
CK=$W/k/1/checkpoints
tap_check "kill9/step-5 is complete" test -s "$CK/step-5/trainer_state.json" -a -s "$CK/step-5/optimizer_sq.safetensors"
tap_check "kill9/no step-10 folder" test ! -e "$CK/step-10"
tap_check "kill9/the half-written folder is the temporary one" test -d "$CK/.tmp-step-10"
"$TB" runs --dir "$W/k" >"$W/out"
tap_check "kill9/the run shows as stale" grep -q "stale" "$W/out"
"$TB" train --resume "$W/k/1" --quiet >"$W/out" 2>"$W/err"; rc=$?
tap_eq "kill9/--resume exits 0" "$rc" 0
tap_check "kill9/--resume ends with the adapter" grep -q "^adapter: $W/k/1/adapter" "$W/out"
tap_check "kill9/checkpoint 10 written on the second try" test -s "$CK/step-10/trainer_state.json"
tap_check "kill9/the temporary folder is gone" test ! -e "$CK/.tmp-step-10"
"$TB" runs --dir "$W/k" --json >"$W/runs.json"
tap_check "kill9/the run finished" grep -q '"status": "finished"' "$W/runs.json"

# SIGINT: finish the step, checkpoint, exit 0 with the resume hint
"$TB" train "${COMMON[@]}" --out "$W/s" --max-steps 100000 --logging-steps 1 >"$W/out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q '^step 3/' "$W/out" && break; sleep 0.05; done
kill -INT $pid
wait $pid; rc=$?
tap_eq "sigint/exits 0" "$rc" 0
tap_check "sigint/says how to resume" grep -q "stopped at step [0-9]*; resume with --resume $W/s/1" "$W/out"
tap_check "sigint/a checkpoint was written" ls "$W"/s/1/checkpoints/step-*/trainer_state.json
tap_check "sigint/the adapter was written" test -s "$W/s/1/adapter/adapter_model.safetensors"
"$TB" runs --dir "$W/s" --json >"$W/runs.json"
tap_check "sigint/the run is stopped" grep -q '"status": "stopped"' "$W/runs.json"

# the same run on a Vulkan device (lavapipe in CI) logs the CPU's losses
if "$TB" devices --json 2>/dev/null | grep -q '"usable": true'; then
    for b in cpu vulkan; do
        "$TB" train "${COMMON[@]}" --out "$W/$b" --max-steps 6 --logging-steps 2 --backend $b --quiet >/dev/null 2>&1
        "$TB" runs --dir "$W/$b" --export 1 --csv | cut -d, -f3,5 | tail -n +2 >"$W/$b.csv"
    done
    tap_eq "vulkan/3 logged losses" "$(wc -l <"$W/vulkan.csv")" 3
    tap_check "vulkan/losses equal the CPU's to 1e-4" awk -F, 'NR == FNR {c[$1] = $2; next}
        {d = $2 - c[$1]; if (d < 0) d = -d; if (d > 1e-4 * (c[$1] < 0 ? -c[$1] : c[$1])) exit 1}' "$W/cpu.csv" "$W/vulkan.csv"
else
    tap_ok "vulkan/training on a Vulkan device # SKIP no usable Vulkan device" 0
fi

# grad: loss and adapter gradients against PyTorch's (tests/reference/llama_ref.py)
for c in llama_gqa_f32 qwen2_bias_f32; do
    R=$SRC/tests/reference/llama/$c
    "$TB" grad --model "$R" --adapter "$R/adapter" --ids 11,5,56,54,17,89,76,93,12,36,60,73 --out "$W/g.safetensors" \
        >/dev/null 2>"$W/err"; rc=$?
    tap_eq "grad/$c exits 0" "$rc" 0
done
R=$SRC/tests/reference/llama/llama_gqa_f32
IDS=11,5,56,54,17,89,76,93,12,36,60,73,42,56,50,21,69,76,33,84,37,91,89,19 # golden.safetensors "ids" (test_engine_cli.sh)
"$TB" grad --model "$R" --adapter "$R/adapter" --ids "$IDS" --out "$W/g.safetensors" >/dev/null 2>"$W/err"
tap_check "grad/loss and 28 gradients match PyTorch (rel < 1e-4)" "$TB_ST_DIFF" "$W/g.safetensors" "$R/grad_golden.safetensors" 1e-4
"$TB" grad --model "$R" --ids 1,2 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "grad/without --adapter or --full exits 2" "$rc" 2
"$TB" grad --model "$R" --adapter "$W/nope" --ids 1,2 --out "$W/x" >/dev/null 2>"$W/err"; rc=$?
tap_eq "grad/missing adapter exits 2" "$rc" 2
tap_check "grad/missing adapter names adapter_config.json" grep -q "nope/adapter_config.json" "$W/err"
tap_done
