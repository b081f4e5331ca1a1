#!/usr/bin/env bash
# The demo end to end (meson suite 'demo'): a LoRA run (r=16, q,k,v,o) of the bundled model
# on the bundled dataset, a fixed seed and step count, lowers the eval loss on held-out
# words against the base model, and greedy generation for a held-out word then follows the
# "word (pos): gloss" format that the base model does not produce.
# Measured (README "The demo"): 300 steps take the eval loss from 5.31 to 3.59 (-32.4%),
# past the issue's bar of -30%, which this test asserts. The demo's settings turn off
# length-grouped batches: on this dataset they make single-task batches, which slow the
# fall (eval loss at step 100 of 500: 4.71 with them, 3.73 without) and end higher (3.70,
# -30.3%, at 300 steps). The adapter learns the format, not to copy the asked word into it:
# the base never learned copying.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
ROOT=${TB_SOURCE_ROOT:?}
M=$ROOT/datasets/models/tunebench-demo
DEMO=$ROOT/datasets/demo
T=$(mktemp -d /tmp/tbdemolora.XXXXXX)
trap 'rm -rf "$T"' EXIT
STEPS=${TB_DEMO_STEPS:-300}

start=$(date +%s)
"$TB" train --model "$M" --data "$DEMO/train.jsonl" --eval "$DEMO/eval.jsonl" --rank 16 --targets q,k,v,o \
    --lr 3e-3 --batch 16 --grad-accum 1 --no-group-by-length --warmup-steps 10 --max-steps "$STEPS" --eval-steps "$STEPS" \
    --logging-steps 20 --save-steps 0 --seed 7 --threads 2 --out "$T/runs" >"$T/log" 2>&1
rc=$?
secs=$(($(date +%s) - start))
tap_eq "demo_lora/train exits 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/log" | tail -20
base=$(sed -n 's/^eval at step 0: loss \([0-9.]*\).*/\1/p' "$T/log")
final=$(sed -n "s/^eval at step $STEPS: loss \\([0-9.]*\\).*/\\1/p" "$T/log")
first=$(sed -n 's/^step [0-9]*\/[0-9]*  epoch [0-9.]*  loss \([0-9.]*\).*/\1/p' "$T/log" | head -1)
last=$(sed -n 's/^step [0-9]*\/[0-9]*  epoch [0-9.]*  loss \([0-9.]*\).*/\1/p' "$T/log" | tail -1)
tap_diag "$STEPS steps in ${secs}s: eval loss $base -> $final, train loss $first -> $last"
tap_ok "demo_lora/eval loss on held-out words at least 30% below the base model's ($base -> $final)" \
    "$(awk -v b="$base" -v f="$final" 'BEGIN { exit !(b > 0 && f > 0 && f <= 0.7 * b) }'; echo $?)"
tap_ok "demo_lora/train loss falls ($first -> $last)" \
    "$(awk -v a="$first" -v z="$last" 'BEGIN { exit !(a > 0 && z > 0 && z < a) }'; echo $?)"

# Greedy generation for held-out words (eval.jsonl, never trained on).
# --template alpaca: asked as the trainer asked (BOS, the template's prompt part).
prompt() { printf 'Define the word "%s".' "$1"; }
fmt='^[a-z][a-z-]* \((noun|verb|adjective|adverb)\): [a-z(]'
for w in house life power; do
    out=$("$TB" generate --model "$M" --adapter "$T/runs/1/adapter" --template alpaca --prompt "$(prompt "$w")" --max-new 24 \
        --threads 2 2>&1 | head -1)
    tap_diag "with the adapter, $w -> $out"
    printf '%s\n' "$out" | grep -Eq "$fmt"
    tap_ok "demo_lora/greedy definition of held-out \"$w\" follows \"word (pos): gloss\"" $?
done
out=$("$TB" generate --model "$M" --template alpaca --prompt "$(prompt house)" --max-new 24 --threads 2 2>&1 | head -1)
tap_diag "base model, house -> $out"
printf '%s\n' "$out" | grep -Eq "$fmt"
tap_ok "demo_lora/the base model alone does not (the skill is new)" "$((1 - $?))"

tap_done
