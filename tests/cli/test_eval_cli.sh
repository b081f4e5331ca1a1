#!/usr/bin/env bash
# tunebench eval / merge / export end to end on the reference tiny model with a 20-step
# adapter trained here: the before/after table and JSON, the judge through a command (good,
# garbage, failing, hanging), the regression check, merge (logits diff < 1e-4, complete
# directory), export (GGUF magic, keys, tensor names), and bad input exiting 2 with the
# file or flag named.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
M=$SRC/tests/reference/llama/llama_vocab320_f32
D=$SRC/datasets/examples/alpaca_clean.jsonl
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

"$TB" train --model "$M" --data "$D" --max-steps 20 --rank 4 --lr 5e-3 --out runs --skip-validation >/dev/null 2>&1
tap_eq "setup/a 20-step adapter trained" "$(test -f runs/1/adapter/adapter_model.safetensors; echo $?)" 0
A=runs/1/adapter
"$TB" train --model "$M" --data "$D" --max-steps 5 --rank 2 --targets all-linear --out runs --skip-validation >/dev/null 2>&1
A2=runs/2/adapter

"$TB" eval --model "$M" --adapter "$A" --data "$D" --limit 4 --max-new 8 >out.txt 2>err.txt; rc=$?
tap_eq "eval/exits 0" "$rc" 0
tap_check "eval/the summary table has base, adapter and delta" grep -qE '^metric +base +1/adapter +delta' out.txt
tap_check "eval/loss and perplexity rows" grep -qE '^perplexity +[0-9.]+ +[0-9.]+ +[-+]?[0-9.]+' out.txt
tap_check "eval/exact match and length ratio rows" grep -qE '^length ratio ' out.txt
tap_check "eval/4 examples, each with its reference" test "$(grep -c '^  reference ' out.txt)" -eq 4
tap_check "eval/the adapter lowered the loss (trained on these rows)" \
    awk '/^loss /{ if ($4 + 0 < 0) ok = 1 } END { exit !ok }' out.txt

"$TB" eval --model "$M" --adapter "$A" --adapter "$A2" --data "$D" --limit 3 --max-new 4 --json >out.json 2>err.txt; rc=$?
tap_eq "eval --json/exits 0 with two adapters" "$rc" 0
tap_eq "eval --json/three sides" "$(jq '.sides | length' out.json)" 3
tap_eq "eval --json/side names" "$(jq -r '[.sides[].name] | join(",")' out.json)" "base,1/adapter,2/adapter"
tap_eq "eval --json/3 examples x 3 sides" "$(jq '[.examples[].sides | length] | add' out.json)" 9
tap_check "eval --json/delta = side - base" \
    jq -e '(.sides[1].delta.loss - (.sides[1].summary.loss - .sides[0].summary.loss)) | fabs < 1e-9' out.json
tap_check "eval --json/per-example loss is finite" jq -e '[.examples[].sides[].loss] | all(. > 0)' out.json
tap_check "eval --json/generations kept" jq -e '[.examples[].sides[].generated | type] | all(. == "string")' out.json

"$TB" eval --model "$M" --adapter "$A" --data "$D" --limit 2 --max-new 4 --judge-cmd "cat >/dev/null; echo 'Scores: 4,3,5'" --json >j.json 2>err.txt
tap_eq "judge/scores parsed for every cell" "$(jq '[.examples[].sides[].judge.accuracy] | add' j.json)" 16
tap_check "judge/clearly labelled" jq -e '.judge.label | test("LLM-as-judge")' j.json
tap_eq "judge/mean format score" "$(jq '.sides[1].summary.judge_format' j.json)" 5
"$TB" eval --model "$M" --data "$D" --limit 1 --max-new 4 --judge-cmd "echo no idea" >j.txt 2>err.txt; rc=$?
tap_eq "judge/garbage reply: eval still exits 0" "$rc" 0
tap_check "judge/garbage reply: the example is unscored, with why" grep -q 'unscored: no scores' j.txt
"$TB" eval --model "$M" --data "$D" --limit 1 --max-new 4 --judge-cmd "exit 7" >j.txt 2>err.txt
tap_check "judge/failing command: status named" grep -q 'exited with status 7' j.txt
start=$(date +%s)
"$TB" eval --model "$M" --data "$D" --limit 1 --max-new 4 --judge-cmd "sleep 60" --judge-timeout 0.5 >j.txt 2>err.txt
tap_check "judge/hanging command: killed at the timeout" grep -q 'timed out after' j.txt
tap_check "judge/hanging command: no 60 s wait" test $(($(date +%s) - start)) -lt 20

printf 'The cat sat on the mat. The dog sat on the log. %.0s' $(seq 1 20) >general.txt
"$TB" eval --model "$M" --adapter "$A" --data "$D" --limit 1 --max-new 0 --general general.txt >g.txt 2>err.txt; rc=$?
tap_eq "general/exits 0" "$rc" 0
tap_check "general/regression lines for base and adapter" grep -qE '1/adapter: (WARNING: general-text perplexity rose|general text: perplexity)' g.txt
"$TB" eval --model "$M" --adapter "$A" --data "$D" --limit 1 --max-new 0 --general general.txt --regression-threshold 0 --json >g.json 2>err.txt
tap_check "general/threshold 0: a rise warns, a fall does not" \
    jq -e '.sides[1].regression | (.warn == (.change > 0))' g.json

"$TB" merge --model "$M" --adapter "$A" --out merged >m.txt 2>err.txt; rc=$?
tap_eq "merge/exits 0" "$rc" 0
diff=$(sed -n 's/^max |logits(merged) - logits(base + adapter)| = \([^ ]*\) .*/\1/p' m.txt)
tap_check "merge/measured max logits diff < 1e-4 in f32 ($diff)" awk -v d="$diff" 'BEGIN { exit !(d != "" && d + 0 < 1e-4) }'
tap_check "merge/a complete HF directory" test -f merged/config.json -a -f merged/model.safetensors -a -f merged/tokenizer.json
tap_check "merge/the merged model generates" "$TB" generate --model merged --ids 1,2,3 --max-new 4
"$TB" merge --model "$M" --adapter "$A" --out merged >/dev/null 2>err.txt; rc=$?
tap_eq "merge/an existing --out exits 2" "$rc" 2
tap_check "merge/an existing --out is named" grep -q 'merged: --out: already exists' err.txt
"$TB" merge --model "$M" --adapter "$A" --out m4 --dtype nf4 >/dev/null 2>err.txt; rc=$?
tap_eq "merge/--dtype nf4 refused (exit 2)" "$rc" 2

"$TB" export --adapter "$A" --gguf a.gguf >x.txt 2>err.txt; rc=$?
tap_eq "export/exits 0 (base from base_model_name_or_path)" "$rc" 0
tap_eq "export/GGUF magic and version 3" "$(head -c 8 a.gguf | od -An -tx1 | tr -d ' ')" "4747554603000000"
tap_check "export/llama.cpp keys" grep -qa 'adapter.lora.alpha' a.gguf
tap_check "export/lora tensor names" grep -qa 'blk.1.attn_q.weight.lora_b' a.gguf
tap_check "export/says it permuted q/k" grep -q 'interleaved RoPE order' x.txt
sed 's|"base_model_name_or_path": "[^"]*"|"base_model_name_or_path": "meta-llama/elsewhere"|' "$A/adapter_config.json" >cfg.tmp
mkdir -p moved && cp "$A/adapter_model.safetensors" moved/ && mv cfg.tmp moved/adapter_config.json
"$TB" export --adapter moved --gguf b.gguf >/dev/null 2>err.txt; rc=$?
tap_eq "export/no local base: exit 2" "$rc" 2
tap_check "export/no local base: asks for --model" grep -q -- '--model DIR' err.txt
"$TB" export --adapter moved --gguf b.gguf --model "$M" --dtype bf16 >/dev/null 2>err.txt; rc=$?
tap_eq "export/--model given: exits 0" "$rc" 0

"$TB" eval --model "$M" --adapter nope --data "$D" >/dev/null 2>err.txt; rc=$?
tap_eq "eval/missing adapter exits 2" "$rc" 2
tap_check "eval/missing adapter is named" grep -q 'nope/adapter_config.json' err.txt
"$TB" eval --model "$M" --data missing.jsonl >/dev/null 2>err.txt; rc=$?
tap_eq "eval/missing data exits 2" "$rc" 2
tap_check "eval/missing data is named" grep -q 'missing.jsonl' err.txt
"$TB" eval --model "$M" >/dev/null 2>err.txt; rc=$?
tap_eq "eval/no --data exits 2" "$rc" 2
"$TB" eval --model "$M" --data "$D" --max-new x >/dev/null 2>err.txt; rc=$?
tap_eq "eval/bad --max-new exits 2" "$rc" 2
tap_check "eval/bad --max-new is named" grep -q -- '--max-new' err.txt
printf '{"instruction": "x"}\n' >empty.jsonl
"$TB" eval --model "$M" --data empty.jsonl >/dev/null 2>err.txt; rc=$?
tap_eq "eval/no usable example exits 2" "$rc" 2
tap_check "eval/no usable example says why" grep -q 'no example to evaluate' err.txt
truncate -s 100 moved/adapter_model.safetensors
"$TB" export --adapter moved --gguf c.gguf --model "$M" >/dev/null 2>err.txt; rc=$?
tap_eq "export/truncated adapter exits 2" "$rc" 2
tap_check "export/truncated adapter: file named" grep -q 'moved/adapter_model.safetensors' err.txt
tap_done
