#!/usr/bin/env bash
# The Calc screen as a person uses it: open it on a model directory, switch presets, type a
# budget and watch the best rank light up, tick targets, checkpointing, a rank that cannot
# be, a bad config.json, help, assumptions, 80x24, monochrome, quit.
set -u
D=$(dirname "$0")
. "$D/../lib/tap.sh"
. "$D/lib.sh"
TMP=$(mktemp -d)
trap 'tui_stop; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/qwen"
cat >"$TMP/qwen/config.json" <<'JSON'
{"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,"max_position_embeddings":32768,
 "model_type":"qwen2","num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,
 "rope_theta":1000000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","use_sliding_window":false,"vocab_size":151936}
JSON
printf '{"architectures":["LlamaForCausalLM"],"hidden_size":30,"intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100}' >"$TMP/bad.json"

tui_start 100 30 "$TB" --model "$TMP/qwen"
tui_wait 'F1 Decide' >/dev/null
tui_keys F3
tap_ok "tui/calc opens on F3" "$(tui_wait 'F3 Calc' && tui_wait 'LoRA settings'; echo $?)"
tap_ok "tui/calc starts on the session model's config.json" "$(tui_wait 'qwen/config.json'; echo $?)"
tap_ok "tui/calc shows PEFT's line for it (Qwen2 bias, tied, GQA)" \
    "$(tui_wait 'trainable params: 2,162,688 || all params: 496,195,456'; echo $?)"
tap_ok "tui/calc draws the memory bars" "$(tui_wait 'QLoRA nf4+dq' && tui_wait 'Full FT'; echo $?)"

tui_keys p
tap_ok "tui/p goes to the first preset" "$(tui_wait 'HuggingFaceTB/SmolLM2-135M'; echo $?)"
for _ in 1 2 3 4 5 6; do tui_keys p; done
tap_ok "tui/llama-3.1-8b: the issue's check line" \
    "$(tui_wait 'trainable params: 13,631,488 || all params: 8,043,892,736' && tui_wait '0.1695'; echo $?)"

# Budget: 14 fields down from Model (rank, alpha, dtype, 7 targets, batch, seq, ckpt, budget).
for _ in $(seq 1 14); do tui_keys Down; done
tui_keys 5 0
tap_ok "tui/typing a budget recomputes before Enter: best rank 29" "$(tui_wait 'best rank 29'; echo $?)"
tap_ok "tui/the rank table highlights rank 29" "$(tui_wait '>    29'; echo $?)"
tui_keys Enter
tui_keys Up Space
tap_ok "tui/checkpointing on" "$(tui_wait 'ckpt on'; echo $?)"
tui_keys t
tap_ok "tui/t ticks all linear layers" "$(tui_wait 'trainable params: 41,943,040'; echo $?)"
tui_keys t
tap_ok "tui/t again: back to q,k,v,o" "$(tui_wait 'trainable params: 13,631,488'; echo $?)"

# A rank wider than k/v (1024) is refused live, naming the field; Esc restores it.
for _ in $(seq 1 12); do tui_keys Up; done
tui_keys 2 0 0 0
tap_ok "tui/rank 2000 names the rank and its limit" "$(tui_wait 'must be between 1 and 1024'; echo $?)"
tui_keys Escape
tap_ok "tui/Esc restores rank 16" "$(tui_wait 'trainable params: 13,631,488'; echo $?)"

tui_keys '?'
tap_ok "tui/? opens help" "$(tui_wait 'Help: Calc screen'; echo $?)"
tui_keys Escape
tui_wait_gone 'Help: Calc screen' >/dev/null
tui_keys a
tap_ok "tui/a shows the assumptions" "$(tui_wait 'Assumptions behind the memory numbers'; echo $?)"
tui_keys Enter
tui_wait_gone 'Assumptions behind' >/dev/null

# A bad config.json: choose "config.json file", type its path.
tui_keys Up Right Right Right
tap_ok "tui/config.json file choice" "$(tui_wait 'config.json file'; echo $?)"
tui_keys Down Enter
for _ in $(seq 1 80); do tui_keys BSpace; done
tmx send-keys -t "$SESSION" -l "$TMP/bad.json"
tui_keys Enter
tap_ok "tui/bad config.json: a dialog names the field" \
    "$(tui_wait 'Cannot use this config.json' && tui_wait 'num_attention_heads'; echo $?)"
tui_keys Enter
tap_ok "tui/the pane keeps the reason" "$(tui_wait 'do not divide hidden_size 30'; echo $?)"
tui_keys p
tap_ok "tui/p leaves the file for the first preset" "$(tui_wait 'trainable params: 1,843,200'; echo $?)"

tui_resize 80 24
tap_ok "tui/80x24 still shows the memory block" "$(tui_wait 'QLoRA nf4+dq'; echo $?)"
tui_keys q
tap_ok "tui/q quits with status 0" "$(tui_wait 'TB-EXITED:0'; echo $?)"

tui_start 100 30 env NO_COLOR=1 "$TB" --model "$TMP/none"
tui_keys F3
tap_ok "tui/NO_COLOR: the legend keeps the parts apart with glyphs" "$(tui_wait '#weights =LoRA +grads'; echo $?)"
tui_keys q
tap_ok "tui/NO_COLOR quits" "$(tui_wait 'TB-EXITED:0'; echo $?)"
tap_done
