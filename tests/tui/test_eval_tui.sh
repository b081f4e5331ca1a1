#!/usr/bin/env bash
# The Eval screen (F6) as a person uses it: the model is loaded on entering, a typed prompt
# streams into the base pane, greedy generation repeats itself, the sampling form changes
# the settings line, Esc leaves the prompt, no model gives a clear message, 80x24 works.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
M=$SRC/tests/reference/llama/llama_vocab320_f32

pane_text() { tui_screen | sed -n '/base/,/└/p'; }

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
first=$(pane_text | sed 's/[0-9.]* tok\/s//')
tui_keys g
sleep 0.3
tui_wait 'generation done' >/dev/null
again=$(pane_text | sed 's/[0-9.]* tok\/s//')
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

tui_start 100 30 "$TB"
tui_wait 'F1 Decide' >/dev/null
tui_keys F6
tap_ok "tui/without a model the screen says how to get one" "$(tui_wait 'No model: start the workbench with --model DIR'; echo $?)"
tui_keys g
tap_ok "tui/g without a model explains in a dialog" "$(tui_wait 'to generate text here'; echo $?)"
tui_keys Enter q
tap_ok "tui/q quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
