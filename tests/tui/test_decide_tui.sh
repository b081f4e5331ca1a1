#!/usr/bin/env bash
# The Decide screen as a person uses it: render, answer, watch the result move, help,
# resize below 80x24 and back, quit.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"

tui_start 100 30 "$TB"
tap_ok "tui/decide renders" "$(tui_wait 'Recommendation' && tui_wait 'F1 Decide'; echo $?)"
tap_ok "tui/decide opens on the first scenario: prompting" "$(tui_wait '>Prompting' ; echo $?)"
tap_ok "tui/footer shows help and quit keys" "$(tui_wait '? Help' && tui_wait 'q, F10 Quit'; echo $?)"

# Next preset (medical formatter) -> fine-tuning.
tui_keys p
tap_ok "tui/p selects the next preset" "$(tui_wait 'medical-formatter'; echo $?)"
tap_ok "tui/recommendation becomes fine-tuning" "$(tui_wait '>Fine-tuning ' ; echo $?)"

# Answer a question by keys: go to "Needs citations / sources" and say yes -> FT + RAG.
for _ in 1 2 3 4 5 6 7 8 9; do tui_keys Down; done
tui_keys y
tap_ok "tui/answering citations=yes gives fine-tuning + RAG" "$(tui_wait '>Fine-tuning + RAG' ; echo $?)"
tap_ok "tui/preset shows custom after a change" "$(tui_wait '(custom)'; echo $?)"

# Type a number of examples: up to the examples field, type 12, Enter -> too few.
for _ in 1 2 3 4 5 6 7 8; do tui_keys Up; done
tui_keys 1 2 Enter
tap_ok "tui/12 typed examples: too few to fine-tune, RAG wins" "$(tui_wait '>RAG'; echo $?)"

# Help overlay.
tui_keys '?'
tap_ok "tui/? opens help" "$(tui_wait 'Help: Decide screen'; echo $?)"
tui_keys Escape
tap_ok "tui/any key closes help" "$(tui_wait_gone 'Help: Decide screen'; echo $?)"

# Too small, then back.
tui_resize 60 20
tap_ok "tui/60x20 asks to enlarge" "$(tui_wait 'enlarge to at least 80x24'; echo $?)"
tui_resize 100 30
tap_ok "tui/100x30 recovers" "$(tui_wait 'Recommendation'; echo $?)"

tui_keys q
tap_ok "tui/q quits with status 0" "$(tui_wait 'TB-EXITED:0'; echo $?)"

# Monochrome: NO_COLOR still renders the screen.
tui_start 100 30 env NO_COLOR=1 "$TB"
tap_ok "tui/NO_COLOR renders" "$(tui_wait 'Recommendation'; echo $?)"
tui_keys q
tap_ok "tui/NO_COLOR quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
