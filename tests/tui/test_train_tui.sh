#!/usr/bin/env bash
# The Train screen as a person uses it: the form opens ready on the session's model and
# dataset, refuses an impossible rank in the form and in a dialog on Enter, starts a run,
# the plot grows while we watch, pause holds it, save-now writes a checkpoint, the plot
# toggles, the run folder, quitting asks first, stop (checkpoint then stop), the run on the
# Runs screen and in the store; a run drawn in ASCII without UTF-8; 80x24.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"
ROOT=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
MODEL="$ROOT/tests/reference/llama/llama_vocab320_f32"
DATA="$ROOT/datasets/examples/alpaca_clean.jsonl"
W=$(mktemp -d /tmp/tb-train-tui-XXXXXX)
cleanup() { tui_stop; rm -rf "$W"; }
trap cleanup EXIT

# The x axis's last label ("123.0 step"): the highest step plotted.
last_step_label() { tui_screen | grep -oE '[0-9.]+k? step' | tail -1 | cut -d' ' -f1; }
# The side panel's "Step N/M".
step_now() { tui_screen | grep -oE 'Step +[0-9]+/' | head -1 | grep -oE '[0-9]+'; }
# Select the n-th field (0: Model dir): up to the top, then down.
field() {
    local keys=() k
    for ((k = 0; k < 30; k++)); do keys+=(Up); done
    for ((k = 0; k < $1; k++)); do keys+=(Down); done
    tui_keys "${keys[@]}"
}
F_RANK=5 F_LR=9 F_MAX_STEPS=13 F_EVAL_STEPS=20

tui_start 100 30 "$TB" --model "$MODEL" --data "$DATA" --runs "$W/runs"
tui_wait 'F4 Train' >/dev/null
tui_keys F4
tap_ok "tui/train: F4 opens the form on the session's model and dataset" \
    "$(tui_wait 'Train settings' && tui_wait 'llama_vocab320_f32' && tui_wait 'alpaca_clean.jsonl'; echo $?)"
tap_ok "tui/train: the preflight reads the model and the data" \
    "$(tui_wait 'D 32, L 2, H 4/2, V 320' && tui_wait '18 train / 2 eval examples'; echo $?)"
tap_ok "tui/train: the calculator's memory estimate for these settings" \
    "$(tui_wait 'Memory (calculator)' && tui_wait 'activ'; echo $?)"
tap_ok "tui/train: ready" "$(tui_wait 'Ready: Enter starts the run'; echo $?)"

# An impossible rank: refused in the form, and in a dialog on Enter.
field $F_RANK
tui_keys 6 4 Enter
tap_ok "tui/train: rank 64 refused in the form, saying why" \
    "$(tui_wait 'rank: rank 64 is impossible for this model'; echo $?)"
tui_keys Enter
tap_ok "tui/train: Enter on refused settings opens a dialog" \
    "$(tui_wait 'Cannot start the run' && tui_wait 'The trainer would refuse these settings'; echo $?)"
tui_keys Enter
tui_wait_gone 'Cannot start the run' >/dev/null
tui_keys 1 6 Enter
tui_wait 'Ready: Enter starts the run' >/dev/null

# A long run (stopped by hand) with a learning rate that moves the tiny model.
field $F_LR
tui_keys 0 . 0 0 5 Enter
field $F_MAX_STEPS
tui_keys 1 0 0 0 0 0 Enter
field $F_EVAL_STEPS
tui_keys 2 0 Enter
tap_ok "tui/train: the plan follows the form" "$(tui_wait '100000 steps (max steps'; echo $?)"
tui_keys Enter
tap_ok "tui/train: Enter starts the run" "$(tui_wait 'Run #1 running'; echo $?)"
tap_ok "tui/train: the chart has its legend, axes and the side panel" \
    "$(tui_wait '━ train  ━ eval' && tui_wait ' step' && tui_wait 'loss' && tui_wait 'Tok/s' && tui_wait 'Mem   est'; echo $?)"
sleep 0.5
s1=$(last_step_label)
sleep 1.5
s2=$(last_step_label)
tap_ok "tui/train: the plot grows while we watch ($s1 -> $s2)" \
    "$(awk -v a="${s1:-0}" -v b="${s2:-0}" 'BEGIN { exit !(b + 0 > a + 0 && a + 0 > 0) }'; echo $?)"

tui_keys p
tap_ok "tui/train: p pauses" "$(tui_wait 'Run #1 paused'; echo $?)"
p1=$(step_now)
sleep 1
p2=$(step_now)
tap_ok "tui/train: paused holds the step ($p1 = $p2)" "$([ -n "$p1" ] && [ "$p1" = "$p2" ]; echo $?)"
tui_keys p
tap_ok "tui/train: p resumes" "$(tui_wait 'Run #1 running'; echo $?)"

tui_keys c
tap_ok "tui/train: c saves a checkpoint now" "$(tui_wait 'Ckpt  step-'; echo $?)"
ck=$(tui_screen | grep -oE 'Ckpt  step-[0-9]+' | head -1 | cut -d' ' -f3)
tap_ok "tui/train: the checkpoint is on disk ($ck)" "$([ -n "$ck" ] && [ -d "$W/runs/1/checkpoints/$ck" ]; echo $?)"

tui_keys s l z
tap_ok "tui/train: EMA, log y and zoom" \
    "$(tui_wait 'train EMA 0.60 · last 100 steps' && tui_wait '[log y]'; echo $?)"
tui_keys - s l z

tui_keys o
tap_ok "tui/train: o shows the run folder" "$(tui_wait 'Run folder' && tui_wait "$W/runs/1"; echo $?)"
tui_keys Enter
tui_wait_gone 'Run folder' >/dev/null

tui_keys q
tap_ok "tui/train: quitting while it trains asks first" "$(tui_wait 'A job is running. Quit anyway?'; echo $?)"
tui_keys n
tui_wait_gone 'Quit anyway' >/dev/null

tui_keys x
tap_ok "tui/train: x asks before stopping" "$(tui_wait 'Stop the run?'; echo $?)"
tui_keys y
tap_ok "tui/train: the run stops (checkpoint, then stop)" "$(tui_wait 'Run #1 stopped' 20; echo $?)"
tap_ok "tui/train: the stop message says how to resume" "$(tui_wait 'resume with --resume'; echo $?)"
tap_ok "tui/train: the adapter is written" "$([ -f "$W/runs/1/adapter/adapter_model.safetensors" ]; echo $?)"

tui_keys F5
tap_ok "tui/train: the run is on the Runs screen, stopped" "$(tui_wait 'stopped' && tui_wait '1 run'; echo $?)"
tui_keys F4
tui_keys v
tap_ok "tui/train: v goes back to the form" "$(tui_wait 'v: back to run #1 (stopped)'; echo $?)"
tui_keys q
tap_ok "tui/train: q quits once nothing trains" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_eq "tui/train: the store records the run as stopped" \
    "$("$TB" runs --dir "$W/runs" --compare 1 --json | jq -r '.runs[0].status')" stopped

# Without UTF-8: the plot in ASCII; a short run that finishes; 80x24.
tui_start 80 24 env LANG=C LC_ALL=C "$TB" --model "$MODEL" --data "$DATA" --runs "$W/runs"
tui_wait 'F4 Train' >/dev/null
tui_keys F4
tui_wait 'Ready: Enter starts the run' >/dev/null
field $F_LR
tui_keys 0 . 0 0 5 Enter
field $F_MAX_STEPS
tui_keys 6 0 Enter
field $F_EVAL_STEPS
tui_keys 1 0 Enter
tui_wait '60 steps (max steps' >/dev/null
tui_keys Enter
tap_ok "tui/train: a short run finishes" "$(tui_wait 'Run #2 finished' 30; echo $?)"
tap_ok "tui/train: ASCII plot without UTF-8 (no braille, ASCII axes)" \
    "$(tui_wait '* train  o eval' && ! tui_screen | grep -q '⠁\|⡀\|━' && tui_wait '60.0 step'; echo $?)"
tap_ok "tui/train: 80x24 shows the chart, the side panel and the run log" \
    "$(tui_wait 'Loss per step' && tui_wait 'Step  60/60' && tui_wait 'Run log'; echo $?)"
tui_keys '?'
tap_ok "tui/train: ? lists the Train keys" "$(tui_wait 'Help: Train screen' && tui_wait 'save a checkpoint now'; echo $?)"
tui_keys q

# The dataset the Data screen loads becomes the form's.
tui_keys F2
tui_wait '20 rows  jsonl' >/dev/null
tui_keys o C-u
tui_keys -l "$ROOT/datasets/examples/chat_clean.jsonl"
tui_keys Enter
tui_wait '10 rows  jsonl' >/dev/null
tui_keys F4 v
field 1
tap_ok "tui/train: the Data screen's dataset is the form's" \
    "$(tui_wait 'chat_clean.jsonl' && tui_wait '10 rows: 9 train / 1 eval'; echo $?)"
tui_keys q
tap_ok "tui/train: quits with status 0" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
