#!/usr/bin/env bash
# The Data screen as a person uses it: a dataset loads, the summary and findings show, a
# filter and a sort apply, Enter shows the example, h the histograms, x writes a fixed copy,
# a bad path gives an error dialog, a large file shows progress and Esc stops it.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"
EX=${TB_SOURCE_ROOT:?}/datasets/examples
T=$(mktemp -d /tmp/tbdatatui.XXXXXX)
trap 'tui_stop; rm -rf "$T"' EXIT

tui_start 110 30 "$TB" --data "$EX/flawed.jsonl"
tui_wait 'F1 Decide' >/dev/null
tui_keys F2
tap_ok "data/F2 opens the Data screen and loads --data" "$(tui_wait '3 errors, 2 warnings'; echo $?)"
tap_ok "data/summary lists checks with counts" "$(tui_wait 'missing_field       error      1   3.3%' && tui_wait 'format_inconsistent warn'; echo $?)"
tap_ok "data/findings show lines" "$(tui_wait '    13 error dup_exact'; echo $?)"

tui_keys Right f
tap_ok "data/f filters to errors" "$(tui_wait 'Findings: 3 shown, severity error'; echo $?)"
tui_keys f f f
tap_ok "data/f cycles back to all" "$(tui_wait 'Findings: 5 shown, severity all'; echo $?)"
tui_keys '>' '>' '>'
tap_ok "data/> sorts by the next column (arrow in the header)" "$(tui_wait 'Check▲'; echo $?)"
tui_keys I
tap_ok "data/I inverts the order" "$(tui_wait 'Check▼'; echo $?)"
tui_keys '>' '>' '>'

# Enter on the duplicate (the second row in line order) shows the example.
tui_keys Home Down Enter
tap_ok "data/Enter shows the example" "$(tui_wait 'dup_exact (error), row 12, line 13'; echo $?)"
tap_ok "data/the example shows the row's fields" "$(tui_wait 'Un pingouin est un oiseau.'; echo $?)"
tui_keys Escape
tap_ok "data/Esc closes the example" "$(tui_wait_gone 'row 12, line 13'; echo $?)"

# The checks pane filters the findings.
tui_keys Left Down Down
tap_ok "data/selecting a check filters the findings" "$(tui_wait 'Findings: 1 shown'; echo $?)"

tui_keys h
tap_ok "data/h shows length statistics and histograms" "$(tui_wait 'median' && tui_wait 'log scale'; echo $?)"
tui_keys h

tui_keys x
tap_ok "data/x asks where to save the fixed copy" "$(tui_wait 'Fix and save as'; echo $?)"
tui_keys C-u
tui_keys -l "$T/fixed.jsonl"
tui_keys Enter
tap_ok "data/the fixed copy is written" "$(tui_wait 'Wrote 29 rows'; echo $?)"
tap_eq "data/fixed copy has 29 rows" "$(wc -l <"$T/fixed.jsonl" 2>/dev/null)" 29
tui_keys Enter

# Open a file that does not exist: an error dialog, the old result stays.
tui_keys o C-u
tui_keys -l "$T/nope.jsonl"
tui_keys Enter
tap_ok "data/a missing file is an error dialog naming it" "$(tui_wait 'Cannot read the dataset' && tui_wait 'nope.jsonl'; echo $?)"
tui_keys Enter

# Tab completes paths.
tui_keys o C-u
tui_keys -l "$EX/fla"
tui_keys Tab
tap_ok "data/Tab completes a path" "$(tui_wait 'examples/flawed.jsonl_'; echo $?)"
tui_keys Escape

# A large file: progress bar while it loads, Esc stops it.
yes '{"instruction": "Same question every time.", "input": "", "output": "Same answer."}' | head -n 1500000 >"$T/big.jsonl"
tui_keys o C-u
tui_keys -l "$T/big.jsonl"
tui_keys Enter
tap_ok "data/a large file shows a progress bar" "$(tui_wait 'checking big.jsonl'; echo $?)"
tui_keys Escape
tap_ok "data/Esc stops the validation" "$(tui_wait 'stopped:' 20; echo $?)"

tui_keys q
tap_ok "data/q quits with status 0" "$(tui_wait 'TB-EXITED:0'; echo $?)"

# Monochrome and a small terminal.
tui_start 80 24 env NO_COLOR=1 "$TB" --data "$EX/chat_clean.jsonl"
tui_keys F2
tap_ok "data/NO_COLOR at 80x24 renders a clean chat file" "$(tui_wait 'No findings: every check passed.'; echo $?)"
tui_keys q
tap_ok "data/NO_COLOR quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
