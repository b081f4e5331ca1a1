#!/usr/bin/env bash
# The Runs screen as a person uses it: the runs ranked by best eval loss, sorting, two runs
# overlaid with a legend, a recommendation with its reasons, a stale run, a run written by
# another process appearing and growing while we watch, quitting the UI without touching
# that run, monochrome glyphs, a store that appears after the UI opened, 80x24.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"
FX=${TB_RUNS_FIXTURE:?set TB_RUNS_FIXTURE to the runs_fixture tool}
W=$(mktemp -d /tmp/tb-runs-tui-XXXXXX)
WRITER=""
cleanup() { [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; tui_stop; rm -rf "$W"; }
trap cleanup EXIT
"$FX" populate "$W/runs/tunebench.db" || { echo "Bail out! fixture failed"; exit 1; }

row_of() { tui_screen | grep -n -- "$1" | head -1 | cut -d: -f1; }   # pane line showing TEXT
before() { [ "$(row_of "$1")" -lt "$(row_of "$2")" ]; }            # TEXT1 above TEXT2
# The x axis's last label ("123.0 step"): the highest step plotted.
last_step_label() { tui_screen | grep -oE '[0-9.]+ step' | tail -1 | cut -d' ' -f1 | cut -d. -f1; }

tui_start 100 30 "$TB" --runs "$W/runs"
tui_wait 'F5 Runs' >/dev/null
tui_keys F5
tap_ok "tui/runs: F5 opens the Runs screen with all 6 runs" "$(tui_wait '6 runs' && tui_wait 'smol-r32-crashed'; echo $?)"
tap_ok "tui/runs: ranked by best eval loss by default" \
    "$(tui_wait '▲best eval' >/dev/null && before 'smol-r64 ' 'smol-r16 ' && before 'smol-r16 ' 'smol-r8 ' &&
       before 'smol-r8 ' 'smol-r4 ' && before 'smol-r4 ' 'full-ft'; echo $?)"
tap_ok "tui/runs: crashed trainer shown as stale" "$(tui_wait 'smol-r32-crashed stale'; echo $?)"
tap_ok "tui/runs: the cursor run's curve is drawn" "$(tui_wait 'Loss of #4' && tui_wait '300.0 step'; echo $?)"

# Select two runs: r64 (cursor) and r8 (two rows down).
tui_keys Space Down Down Space
tap_ok "tui/runs: two selected runs overlaid" "$(tui_wait 'Loss of 2 runs: train + eval (dots)'; echo $?)"
tap_ok "tui/runs: the legend names both runs" "$(tui_wait '━ smol-r64  ━ smol-r8'; echo $?)"

tui_keys r
tap_ok "tui/runs: r recommends among the selection" "$(tui_wait 'Recommendation among the selected 2 runs'; echo $?)"
tap_ok "tui/runs: the pick and why" "$(tui_wait 'Pick #2 "smol-r8"' && tui_wait 'penalized: 8.0x the parameters'; echo $?)"
tui_keys Enter
tap_ok "tui/runs: the pick is named under the table" "$(tui_wait 'Recommended: #2 smol-r8'; echo $?)"
tui_keys c r
tap_ok "tui/runs: without a selection, among all runs" "$(tui_wait 'Recommendation among all 6 runs'; echo $?)"
tui_keys Enter
tui_wait_gone 'Recommendation among' >/dev/null

# Sorting: > twice = params ascending, I inverts.
tui_keys '>' '>'
tap_ok "tui/runs: > sorts by the next columns (params)" \
    "$(tui_wait '▲params' >/dev/null && before 'smol-r4 ' 'smol-r8 ' && before 'smol-r8 ' 'smol-r16 ' &&
       before 'smol-r64 ' 'full-ft'; echo $?)"
tui_keys I
tap_ok "tui/runs: I inverts (params descending)" \
    "$(tui_wait '▼params' >/dev/null && before 'full-ft' 'smol-r64 ' && before 'smol-r16 ' 'smol-r4 '; echo $?)"
tui_keys s l z
tap_ok "tui/runs: EMA, log y and zoom toggles" "$(tui_wait 'EMA 0.60 · last' && tui_wait '[log y]'; echo $?)"
tui_keys s l z z

# Newest first: sort by # descending; the cursor to the top.
for _ in 1 2 3 4 5; do tui_keys '<'; done
tui_keys I
tui_wait '▼#' >/dev/null
for _ in 1 2 3 4 5 6 7 8; do tui_keys Up; done

# A run written by another process appears and grows while we watch.
"$FX" grow "$W/runs/tunebench.db" live-run 400 40 &
WRITER=$!
tap_ok "tui/runs: a run started elsewhere appears, running" \
    "$(tui_wait 'live-run         running' && tui_wait '7 runs · 1 running'; echo $?)"
for _ in 1 2 3; do tui_keys Up; done   # the new run sorted in on top of the cursor
tap_ok "tui/runs: its curve is plotted" "$(tui_wait 'Loss of #7'; echo $?)"
s1=$(last_step_label)
sleep 1.5
s2=$(last_step_label)
tap_ok "tui/runs: the curve grows while we watch ($s1 -> $s2 steps)" "$([ "${s1:-0}" -gt 0 ] && [ "${s2:-0}" -gt "$s1" ]; echo $?)"

tui_keys q
tap_ok "tui/runs: q quits while the other run trains" "$(tui_wait 'TB-EXITED:0'; echo $?)"
kill -0 "$WRITER" 2>/dev/null
tap_ok "tui/runs: closing the UI leaves that run running" "$?"
# Let the writer log at least one step after the UI closed (it is slow on a loaded machine).
for _ in $(seq 1 100); do
    now=$("$TB" runs --dir "$W/runs" --compare 7 --json 2>/dev/null | jq -r '.runs[0].last_step')
    [ "${now:-0}" -gt "${s2:-0}" ] 2>/dev/null && break
    sleep 0.1
done
kill -TERM "$WRITER"
wait "$WRITER"
tap_ok "tui/runs: the writer stops cleanly on its own terms" "$?"
WRITER=""
tap_eq "tui/runs: the store records the run as stopped by its writer" \
    "$("$TB" runs --dir "$W/runs" --compare 7 --json | jq -r '.runs[0].status')" stopped
last=$("$TB" runs --dir "$W/runs" --compare 7 --json | jq -r '.runs[0].last_step')
tap_ok "tui/runs: the writer kept training after the UI closed ($last > $s2 steps)" "$([ "$last" -gt "${s2:-0}" ]; echo $?)"

# Monochrome: the overlay keeps runs apart by glyph.
tui_start 100 30 env NO_COLOR=1 "$TB" --runs "$W/runs"
tui_wait 'F5 Runs' >/dev/null
tui_keys F5
tui_wait 'smol-r64' >/dev/null
tui_keys Space Down Space
tap_ok "tui/runs: NO_COLOR overlay uses glyphs" "$(tui_wait '* smol-r64  + smol-r16'; echo $?)"
tui_resize 80 24
tap_ok "tui/runs: 80x24 still shows the table and chart" "$(tui_wait 'Loss of 2 runs' && tui_wait 'smol-r16'; echo $?)"
tui_keys '?'
tap_ok "tui/runs: ? lists the Runs keys" "$(tui_wait 'Help: Runs screen' && tui_wait 'recommend a run'; echo $?)"
tui_keys q q
tui_wait 'TB-EXITED:0' >/dev/null

# No store yet: the screen says so, and picks the store up once a trainer creates it.
tui_start 100 30 "$TB" --runs "$W/later"
tui_wait 'F5 Runs' >/dev/null
tui_keys F5
tap_ok "tui/runs: no store yet is said plainly" "$(tui_wait 'No run store here yet'; echo $?)"
"$FX" populate "$W/later/tunebench.db"
tap_ok "tui/runs: the store appears without reopening the UI" "$(tui_wait '6 runs' 5; echo $?)"
tui_keys q
tap_ok "tui/runs: quits with status 0" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
