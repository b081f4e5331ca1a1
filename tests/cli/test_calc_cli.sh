#!/usr/bin/env bash
# tunebench calc: the issue's check line, JSON shape, budgets, config sources, bad input.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

out=$("$TB" calc --preset llama-3.1-8b --rank 16 --targets q,k,v,o)
tap_check "calc/llama-3.1-8b r=16 q,k,v,o prints PEFT's line" \
    grep -qxF "trainable params: 13,631,488 || all params: 8,043,892,736 || trainable%: 0.1695" <<<"$out"

json=$("$TB" calc --preset llama-3.1-8b --budget-mb 50 --json)
tap_check "calc/json has the issue's keys" jq -e '
  (.total_params|type=="number") and (.trainable_params==13631488) and (.all_params==8043892736)
  and (.trainable_percent|type=="number")
  and (.adapter_bytes|has("f32") and has("bf16") and has("f16"))
  and (.memory|has("full") and has("lora") and has("qlora") and has("qlora_dq"))
  and ([.memory[]|.total_bytes|type=="number"]|all)
  and (.memory.lora|has("weights_bytes") and has("gradients_bytes") and has("optimizer_bytes") and has("activations_bytes"))
  and (.max_rank_for_budget==29) and (.assumptions|length>0)' <<<"$json"
tap_eq "calc/json memory parts add up to the total" \
    "$(jq '.memory.lora | .weights_bytes + .lora_bytes + .gradients_bytes + .optimizer_bytes + .activations_bytes == .total_bytes' <<<"$json")" true
tap_eq "calc/json rank table marks the budget's rank" "$(jq -c '[.ranks[]|select(.budget_best)|.rank]' <<<"$json")" "[29]"
tap_eq "calc/adapter bf16 bytes (exact)" "$(jq .adapter_bytes.bf16 <<<"$json")" 27297544

# The tutorial's exercise: hidden 4096, 32 layers, q,k,v,o, f16 adapters (Llama-2-7B is that
# shape with multi-head attention). Ranks from the independent Python reference.
for pair in 10:4 50:23 100:47 500:238; do
    mbv=${pair%%:*}; want=${pair#*:}
    got=$("$TB" calc --preset llama-2-7b --targets q,k,v,o --dtype f16 --budget-mb "$mbv" --json | jq .max_rank_for_budget)
    tap_eq "calc/tutorial budget ${mbv} MB, f16 -> rank $want" "$got" "$want"
done
tap_eq "calc/10 MiB holds rank 4, not the naive 5 (the header costs bytes)" \
    "$("$TB" calc --preset llama-2-7b --dtype f16 --budget-mib 10 --json | jq .max_rank_for_budget)" 4
tap_eq "calc/budget smaller than rank 1 -> null" \
    "$("$TB" calc --preset llama-3.1-8b --budget-mb 0.001 --json | jq .max_rank_for_budget)" null
huge=$("$TB" calc --preset llama-3.1-8b --budget-mb 1e9 --json)
tap_eq "calc/huge budget is capped at 1024 (k/v width)" "$(jq -c '[.max_rank_for_budget, .budget.capped]' <<<"$huge")" "[1024,true]"
out=$("$TB" calc --preset llama-3.1-8b --budget-mb 0.001)
tap_check "calc/text says no rank fits" grep -q "no rank fits" <<<"$out"

# Checkpointing lowers activations; QLoRA below LoRA.
a=$("$TB" calc --preset smollm2-135m --json | jq .memory.lora.activations_bytes)
b=$("$TB" calc --preset smollm2-135m --checkpointing --json | jq .memory.lora.activations_bytes)
tap_ok "calc/checkpointing lowers activations ($b < $a)" "$([ "$b" -lt "$a" ]; echo $?)"

# --config and --model read a config.json.
cat >"$TMP/config.json" <<'JSON'
{"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,"max_position_embeddings":32768,
 "model_type":"qwen2","num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,
 "rope_theta":1000000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","use_sliding_window":false,"vocab_size":151936}
JSON
tap_eq "calc/--config file equals the preset" \
    "$("$TB" calc --config "$TMP/config.json" --rank 8 --targets q,v --json | jq .all_params)" 494573440
tap_eq "calc/--model dir reads its config.json" \
    "$("$TB" calc --model "$TMP" --json | jq .total_params)" 494032768
tap_eq "calc/--list lists the presets" "$("$TB" calc --list | wc -l)" 9

# Bad configs: exit 2 and the message names the field.
bad() {  # bad NAME FIELD JSON
    printf '%s' "$3" >"$TMP/bad.json"
    "$TB" calc --config "$TMP/bad.json" >/dev/null 2>"$TMP/err"; local rc=$?
    tap_eq "calc/bad config: $1 exits 2" "$rc" 2
    tap_check "calc/bad config: $1 names $2" grep -q -- "$2" "$TMP/err"
}
base='"architectures":["LlamaForCausalLM"],"intermediate_size":64,"vocab_size":100'
bad "missing hidden_size" hidden_size "{$base,\"num_hidden_layers\":2,\"num_attention_heads\":4}"
bad "zero heads" num_attention_heads "{$base,\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":0}"
bad "heads not dividing hidden" num_attention_heads "{$base,\"hidden_size\":30,\"num_hidden_layers\":2,\"num_attention_heads\":4}"
bad "negative layers" num_hidden_layers "{$base,\"hidden_size\":32,\"num_hidden_layers\":-2,\"num_attention_heads\":4}"
bad "kv heads not dividing heads" num_key_value_heads "{$base,\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":3}"
bad "not JSON" "invalid JSON" "{\"hidden_size\": "
"$TB" calc --config "$TMP/nope.json" >/dev/null 2>"$TMP/err"; rc=$?
tap_eq "calc/missing config file exits 2" "$rc" 2
tap_check "calc/missing config file is named" grep -q "nope.json" "$TMP/err"

# Bad flags: exit 2, message names the flag.
flag() {  # flag NAME WANT-IN-MESSAGE ARGS...
    local name=$1 want=$2; shift 2
    "$TB" calc "$@" >/dev/null 2>"$TMP/err"; local rc=$?
    tap_eq "calc/$name exits 2" "$rc" 2
    tap_check "calc/$name names $want" grep -q -- "$want" "$TMP/err"
}
flag "no model" "--preset" --rank 8
flag "two models" "only one" --preset llama-2-7b --config "$TMP/config.json"
flag "unknown preset" "--preset" --preset gpt-5
flag "rank 0" "--rank" --preset llama-2-7b --rank 0
flag "rank above k/v width" "--rank" --preset smollm2-135m --rank 500
flag "bad target" "--targets" --preset llama-2-7b --targets q,x
flag "bad dtype" "--dtype" --preset llama-2-7b --dtype f8
flag "negative budget" "--budget-mb" --preset llama-2-7b --budget-mb -1
flag "two budgets" "one budget" --preset llama-2-7b --budget-mb 1 --budget-mib 1
flag "bad ranks" "--ranks" --preset llama-2-7b --ranks 4,,8
flag "batch 0" "--batch" --preset llama-2-7b --batch 0
tap_done
