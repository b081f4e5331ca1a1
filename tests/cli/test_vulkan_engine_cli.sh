#!/usr/bin/env bash
# tunebench logits / generate with --backend vulkan against --backend cpu on every reference
# tiny model (tests/reference/llama: GQA, MQA + tied head, llama3 RoPE, head dim 6, bf16
# weights, Qwen2 q/k/v bias, a 320 vocabulary): the same logits to 1e-4 of their largest
# magnitude, the same greedy tokens. Skips when no usable Vulkan device exists.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
SRC=${TB_SOURCE_ROOT:?set TB_SOURCE_ROOT}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

if ! "$TB" devices --backend vulkan >/dev/null 2>"$W/err"; then
    echo "1..0 # SKIP no usable Vulkan device: $(tail -n 1 "$W/err")"
    exit 0
fi

# max |a - b| / max |a| over two safetensors files' F32 "logits" (python3: meson needs it).
rel_diff() {
    python3 - "$1" "$2" <<'PY'
import array, json, struct, sys
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    meta = json.loads(b[8:8 + n])["logits"]
    lo, hi = meta["data_offsets"]
    a = array.array("f")
    a.frombytes(b[8 + n + lo:8 + n + hi])
    return a
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b) and len(a) > 0
print("%.3g" % (max(abs(x - y) for x, y in zip(a, b)) / max(abs(x) for x in a)))
PY
}

for dir in "$SRC"/tests/reference/llama/*/; do
    name=$(basename "$dir")
    V=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$dir/config.json")
    ids=$(awk -v v="$V" 'BEGIN { for (i = 0; i < 29; i++) printf "%s%d", i ? "," : "", (i * 37 + 11) % v }')
    "$TB" logits --model "$dir" --ids "$ids" --out "$W/cpu.st" --backend cpu 2>"$W/err"
    "$TB" logits --model "$dir" --ids "$ids" --out "$W/vk.st" --backend vulkan 2>"$W/err"; rc=$?
    tap_eq "vulkan logits/$name,T=29 exits 0" "$rc" 0
    d=$(rel_diff "$W/cpu.st" "$W/vk.st" 2>&1)
    tap_check "vulkan logits/$name,T=29 equal the CPU's (max diff $d of max |logit|)" \
        awk -v d="$d" 'BEGIN { exit !(d + 0 == d && d <= 1e-4) }'
    g_cpu=$("$TB" generate --model "$dir" --ids "$ids" --max-new 6 --backend cpu 2>/dev/null)
    g_vk=$("$TB" generate --model "$dir" --ids "$ids" --max-new 6 --backend vulkan 2>/dev/null)
    tap_eq "vulkan generate/$name greedy tokens equal the CPU's" "$g_vk" "$g_cpu"
done
"$TB" logits --model "$SRC/tests/reference/llama/llama_gqa_f32" --ids 1,2 --out "$W/x" --backend vulkan \
    --device 99 >/dev/null 2>"$W/err"; rc=$?
tap_eq "vulkan logits/--device 99 exits 2" "$rc" 2
tap_check "vulkan logits/--device 99 is named" grep -q "device 99 does not exist" "$W/err"
tap_done
