#!/usr/bin/env bash
# The Eval screen (F6) as a person uses it: the model is loaded on entering, a typed prompt
# streams into the base pane, greedy generation repeats itself, the sampling form changes
# the settings line, Esc leaves the prompt, no model gives a clear message, 80x24 works;
# then with two trained adapters: panes side by side, the before/after evaluation, export
# GGUF, merge (confirmed, with its logits check), copy the adapter path.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
M=$SRC/tests/reference/llama/llama_vocab320_f32
D=$SRC/datasets/examples/alpaca_clean.jsonl
TMP=$(mktemp -d)
trap 'tui_stop; rm -rf "$TMP"' EXIT

pane_text() { tui_screen | sed -n '/base/,/└/p' | tail -n +2; }  # the text, not the title (its tok/s varies)

tui_start 100 30 "$TB" --model "$M"
tui_wait 'F1 Decide' >/dev/null
tui_keys F6
tap_ok "tui/eval opens on F6" "$(tui_wait 'F6 Eval' && tui_wait 'Prompt (i to type)'; echo $?)"
tap_ok "tui/eval loads the session model" "$(tui_wait 'llama, 2 layers, D 32, V 320, f32'; echo $?)"
tap_ok "tui/eval shows the base pane" "$(tui_wait '(nothing generated yet)'; echo $?)"
tui_keys i
tap_ok "tui/i starts typing" "$(tui_wait 'Enter generates, Esc leaves'; echo $?)"
tui_keys -l "Give three tips"
tap_ok "tui/the prompt shows what was typed" "$(tui_wait '> Give three tips'; echo $?)"
tui_keys Enter
tap_ok "tui/Enter generates: the base pane streams tokens" "$(tui_wait 'tok/s' && tui_wait 'generation done'; echo $?)"
tap_ok "tui/64 tokens by default" "$(tui_wait 'base  64 tok'; echo $?)"
first=$(pane_text)
tui_keys g
sleep 0.3
tui_wait 'generation done' >/dev/null
again=$(pane_text)
tap_eq "tui/greedy: g gives the same text again" "$again" "$first"

tui_keys s
tap_ok "tui/s opens the sampling settings" "$(tui_wait 'Sampling settings' && tui_wait 'Max new tokens'; echo $?)"
tui_keys Down Right Right
tap_ok "tui/temperature steps to 0.20" "$(tui_wait 'temperature 0.20'; echo $?)"
for _ in 1 2 3 4; do tui_keys Down; done
tui_keys 8 Enter
tap_ok "tui/max new tokens typed: 8" "$(tui_wait 'max new 8 '; echo $?)"
tui_keys Escape
tap_ok "tui/Esc returns to the panes" "$(tui_wait_gone 'Sampling settings'; echo $?)"
tui_keys g
tap_ok "tui/sampled generation stops at 8 tokens" "$(tui_wait 'base  8 tok' && tui_wait 'generation done'; echo $?)"
tui_keys i BSpace BSpace BSpace BSpace Escape
tap_ok "tui/Backspace edits the prompt, Esc leaves it" "$(tui_wait '> Give three ' && tui_wait 'Prompt (i to type)'; echo $?)"
tui_keys '?'
tap_ok "tui/? lists the Eval keys" "$(tui_wait 'Help: Eval screen' && tui_wait 'sampling settings'; echo $?)"
tui_keys x
tui_resize 80 24
tap_ok "tui/80x24 still draws the prompt and the pane" "$(tui_wait 'Prompt (i to type)' && tui_wait 'base'; echo $?)"
tui_keys q
tap_ok "tui/q quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"

tui_start 100 30 "$TB" --no-demo
tui_wait 'F1 Decide' >/dev/null
tui_keys F6
tap_ok "tui/without a model the screen says how to get one" "$(tui_wait 'No model: start the workbench with --model DIR'; echo $?)"
tui_keys g
tap_ok "tui/g without a model explains in a dialog" "$(tui_wait 'to generate text here'; echo $?)"
tui_keys Enter q
tap_ok "tui/q quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"

# A model directory longer than the line (CI's checkouts have such paths): its head gives
# way to "…", the model's shape stays.
LONG=$TMP/a-directory-name-long-enough-to-push-the-model-shape-off-an-80-column-line
mkdir -p "$LONG" && ln -s "$M" "$LONG/llama_vocab320_f32"
tui_start 80 24 "$TB" --model "$LONG/llama_vocab320_f32"
tui_wait 'F1 Decide' >/dev/null
tui_keys F6
tap_ok "tui/a long model path keeps the model's shape in view" \
    "$(tui_wait 'llama_vocab320_f32  (llama, 2 layers, D 32, V 320, f32)' && tui_wait 'Model …'; echo $?)"
tui_keys q
tap_ok "tui/q quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"

# ---- adapters, evaluation, actions
cd "$TMP"
"$TB" train --model "$M" --data "$D" --max-steps 20 --rank 4 --lr 5e-3 --out runs --skip-validation >/dev/null 2>&1
"$TB" train --model "$M" --data "$D" --max-steps 5 --rank 2 --targets all-linear --out runs --skip-validation >/dev/null 2>&1
tui_start 110 32 "$TB" --model "$M" --data "$D"
tui_wait 'F1 Decide' >/dev/null
tui_keys F6
tui_wait 'llama, 2 layers' >/dev/null
tui_keys e
tap_ok "tui/evaluate with the base alone" "$(tui_wait 'evaluation done: 20 examples x 1 sides' && tui_wait 'Before / after'; echo $?)"
tui_keys v a
tap_ok "tui/a asks for the adapter directory" "$(tui_wait 'Adapter directory: Tab completes'; echo $?)"
tui_keys -l "runs/1/adapte"
tui_keys Tab
tap_ok "tui/Tab completes the path" "$(tui_wait 'runs/1/adapter/'; echo $?)"
tui_keys Enter
tap_ok "tui/the adapter loads on the resident base" "$(tui_wait 'adapter 1/adapter loaded (r 4, q,k,v,o'; echo $?)"
tui_keys a
tui_keys -l "runs/2/adapter"
tui_keys Enter
tap_ok "tui/a second adapter: three panes" "$(tui_wait '2 2/adapter' && tui_wait '1 1/adapter'; echo $?)"
tui_keys i
tui_keys -l "Name a planet"
tui_keys Enter
tap_ok "tui/every side streams its answer" "$(tui_wait 'generation done' && tui_wait '1 1/adapter  64 tok' && tui_wait '2 2/adapter  64 tok'; echo $?)"
tui_keys e
tap_ok "tui/e evaluates base and both adapters" "$(tui_wait 'evaluation done: 20 examples x 3 sides' 30; echo $?)"
tap_ok "tui/the results show the before/after table" "$(tui_wait '1/adapter    delta  2/adapter    delta' && tui_wait 'exact match'; echo $?)"
tap_ok "tui/the trained adapter lowered the loss" \
    "$(tui_screen | awk '/^│loss /{ if ($4 + 0 < 0) ok = 1 } END { exit !ok }'; echo $?)"
tui_keys x
tap_ok "tui/x exports the selected adapter as GGUF" "$(tui_wait 'Wrote runs/1/adapter.gguf'; echo $?)"
tap_eq "tui/the GGUF file is there" "$(head -c 4 runs/1/adapter.gguf)" "GGUF"
tui_keys Enter 2 m
tap_ok "tui/m asks before merging adapter 2" "$(tui_wait 'Merge adapter' && tui_wait 'runs/2/adapter-merged'; echo $?)"
tui_keys y
tap_ok "tui/merged, with the logits check" "$(tui_wait 'max |logits(merged) - logits(base + adapter)|' 20; echo $?)"
tap_check "tui/the merged directory is complete" test -f runs/2/adapter-merged/model.safetensors -a -f runs/2/adapter-merged/tokenizer.json
tui_keys Enter c
tap_ok "tui/c shows the PEFT path it copied" "$(tui_wait 'Adapter path' && tui_wait 'PeftModel.from_pretrained'; echo $?)"
tui_keys Enter q
tap_ok "tui/q quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
