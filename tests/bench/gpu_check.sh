#!/usr/bin/env bash
# tunebench — the GPU check, run ON the device machine (prepared by gpu_prepare.sh; see
# BENCHMARKS.md "Vulkan backend"). Under 5 minutes:
#   1. the device as Vulkan sees it (tunebench devices)             ~5 s
#   2. every Vulkan kernel suite, on the GPU's tiles and limits, against the CPU backend;
#      logits/generate --backend vulkan vs cpu on the reference models   ~40 s
#   3. vk_bench: FMA peak, matmul GFLOP/s per shape vs that peak,
#      attention, LoRA step proxy tokens/s (DEMO, SMOL)             ~60 s
#   4. the engine's forward and decode (bench_model --backend vulkan), SMOL shape  ~30 s
#   5. the PyTorch CUDA peer on the same shapes, same run           ~90 s
# Everything lands in $OUT (the device tool brings it back); summary.txt holds the
# RESULT lines and the tokens/s ratios. GPU_CHECK_QUICK=1 is a dry run of the script
# itself on any machine (vk_bench --quick).
set -u
cd "$(dirname "$(readlink -f "$0")")/../.."
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.gl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f $icd ]; then
    export VK_DRIVER_FILES=$icd
fi
log() { echo "== $*" | tee -a "$out/summary.txt"; }
: >"$out/summary.txt"

log "1. device"
nvidia-smi -L 2>&1 | tee -a "$out/summary.txt"
timeout 30 .gl/bin/tunebench devices --backend vulkan 2>&1 | tee -a "$out/summary.txt"

log "2. kernel suites on the GPU"
for t in .gl/bin/test_vk_*; do
    CMOCKA_MESSAGE_OUTPUT=TAP timeout 60 "$t" >"$out/$(basename "$t").tap" 2>&1
    echo "$(basename "$t"): rc=$? $(grep -c '^ok' "$out/$(basename "$t").tap") ok, $(grep -c '^not ok' "$out/$(basename "$t").tap") not ok" |
        tee -a "$out/summary.txt"
done

TUNEBENCH=.gl/bin/tunebench TB_SOURCE_ROOT=$PWD timeout 120 bash tests/cli/test_vulkan_engine_cli.sh \
    >"$out/engine_cli.tap" 2>&1
echo "test_vulkan_engine_cli: rc=$? $(grep -c '^ok' "$out/engine_cli.tap") ok, $(grep -c '^not ok' "$out/engine_cli.tap") not ok" |
    tee -a "$out/summary.txt"

log "3. vk_bench"
timeout 200 .gl/bin/vk_bench --runs 5 ${GPU_CHECK_QUICK:+--quick} 2>&1 | tee "$out/vk_bench.txt" | grep -E '^(RESULT|#)' | tee -a "$out/summary.txt"
peak=$(awk '/^RESULT peak/ {sub("fp32_fma_gflops=", "", $3); print $3}' "$out/vk_bench.txt")

log "4. engine forward (B 4 x T 512) and decode, SmolLM2-135M shape, random weights"
small=${GPU_CHECK_QUICK:+--batch 1 --seq 16 --prompt 8 --gen 4}
for dt in bf16 f32; do
    timeout 90 .gl/bin/bench_model --backend vulkan --mode forward --dtype $dt --steps 4 --warmup 1 $small 2>&1 |
        tee "$out/engine_fwd_$dt.txt" | grep -E '^(RESULT|#)' | tee -a "$out/summary.txt"
done
timeout 90 .gl/bin/bench_model --backend vulkan --mode generate --dtype bf16 --steps 3 --warmup 1 $small 2>&1 |
    tee "$out/engine_gen.txt" | grep -E '^RESULT' | tee -a "$out/summary.txt"

log "5. PyTorch CUDA peer (plain PyTorch, same shapes)"
peer() {  # peer TAG FLAGS...
    local tag=$1; shift
    PYTHONUNBUFFERED=1 timeout 60 python3 tests/bench/torch_cuda_peer.py .gl/bench/torch_lora_bench.py \
        --steps 8 --warmup 2 --tag "$tag" ${peak:+--peak-gflops $peak} "$@" 2>&1 | tee "$out/torch_$tag.txt" |
        grep -E '^(RESULT|# torch)' | tee -a "$out/summary.txt"
}
smol="--dim 576 --layers 30 --heads 9 --kv-heads 3 --ffn 1536 --vocab 49152 --seq 512 --batch 4 --rank 16"
peer demo --dim 256 --layers 8 --heads 8 --kv-heads 4 --ffn 688 --vocab 2048 --seq 256 --batch 8 --rank 16 --targets q,k,v,o
peer smol $smol --targets q,k,v,o
peer smol_all $smol --targets all
peer smol_bf16 $smol --targets q,k,v,o --dtype bfloat16
peer fwd_bf16 $smol --mode forward --dtype bfloat16
peer fwd_f32 $smol --mode forward
peer gen_bf16 $smol --mode generate --dtype bfloat16 --steps 3 --warmup 1

log "6. tokens/s, Vulkan vs PyTorch CUDA"
for tag in demo smol smol_all smol_bf16; do
    ours=$(awk -v t="$tag" '$1 == "RESULT" && $2 == "step" && $3 == t {for (i = 4; i <= NF; i++) if ($i ~ /^tokens_per_s=/) {sub("tokens_per_s=", "", $i); print $i}}' "$out/vk_bench.txt")
    theirs=$(awk '/^RESULT train/ {for (i = 1; i <= NF; i++) if ($i ~ /^tokens_per_s=/) {sub("tokens_per_s=", "", $i); print $i}}' "$out/torch_$tag.txt" 2>/dev/null)
    if [ -n "$ours" ] && [ -n "$theirs" ]; then
        echo "$tag: vulkan ${ours} tokens/s, pytorch-cuda ${theirs} tokens/s, ratio $(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')" |
            tee -a "$out/summary.txt"
    else
        echo "$tag: missing a figure (vulkan '${ours}', pytorch '${theirs}')" | tee -a "$out/summary.txt"
    fi
done
tps() { awk -v k="$2" '$1 == "RESULT" && $2 == k {for (i = 1; i <= NF; i++) if ($i ~ /^tokens_per_s=/) {sub("tokens_per_s=", "", $i); print $i; exit}}' "$1" 2>/dev/null; }
for pair in "forward bf16:engine_fwd_bf16:torch_fwd_bf16:forward" "forward f32:engine_fwd_f32:torch_fwd_f32:forward" \
            "decode bf16:engine_gen:torch_gen_bf16:generate_decode"; do
    IFS=: read -r label a b kind <<<"$pair"
    ours=$(tps "$out/$a.txt" "$kind"); theirs=$(tps "$out/$b.txt" "$kind")
    echo "$label: vulkan ${ours:-?} tokens/s, pytorch-cuda ${theirs:-?} tokens/s" | tee -a "$out/summary.txt"
done
