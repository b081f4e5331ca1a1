#!/usr/bin/env bash
# Engine vs the PyTorch peer (../shared/bench/torch_lora_bench.py), protocol of
# ../shared/BENCHMARKING.md: SmolLM2-135M shape, random weights, bf16 storage; forward
# (prefill) at batch 4 x 512 and greedy decode at batch 1 (prompt 128, 64 new tokens),
# run alternately A B A B ... after a warm-up, medians [min-max] and ratios of medians.
# The peer runs at its best 2-thread setting (OMP_WAIT_POLICY=passive, OpenBLAS 2 threads)
# in both dtypes, and for decoding also on 1 thread (its fastest decode here: 15 vs 11
# tokens/s); OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for everyone.
#
#   tests/bench/engine_bench.sh [BUILD_DIR] [ROUNDS]      (default build, 3)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
ROUNDS=${2:-3}
SHARED=${TB_SHARED_DIR:-$(readlink -f ..)/shared}
[ -f "$SHARED/bench/torch_lora_bench.py" ] || SHARED=/work/shared
PEER="$SHARED/bench/torch_lora_bench.py"
SMOL=(--dim 576 --layers 30 --heads 9 --kv-heads 3 --ffn 1536 --vocab 49152)
ours() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD/tests/bench/bench_model" "$@"; }
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive /usr/bin/python3 "$PEER" "${SMOL[@]}" "$@"; }
tps() { grep "^RESULT $1 " | sed -E 's/.* tokens_per_s=([0-9.]+).*/\1/'; }

declare -A R
run() { # name kind cmd...
    local name=$1 kind=$2; shift 2
    local v
    v=$("$@" 2>&1 | tps "$kind")
    R[$name]="${R[$name]:-} $v"
    printf '  %-28s %s tokens/s   (load %s)\n' "$name" "$v" "$(cut -d' ' -f1 /proc/loadavg)"
}

echo "# $(date -u +%F) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
ours --mode forward --steps 1 --warmup 0 | grep '^#' || true   # writes the model once, prints the BLAS core
peer --mode forward --steps 1 --warmup 0 --dtype bfloat16 | grep '^#' | head -1 || true
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    run ours_forward_bf16 forward ours --mode forward --batch 4 --seq 512 --steps 3 --warmup 1 --precision bf16
    run peer_forward_bf16 forward peer --mode forward --batch 4 --seq 512 --steps 3 --warmup 1 --dtype bfloat16
    run ours_forward_f32 forward ours --mode forward --batch 4 --seq 512 --steps 3 --warmup 1 --precision f32
    run peer_forward_f32 forward peer --mode forward --batch 4 --seq 512 --steps 3 --warmup 1 --dtype float32
    run ours_decode generate_decode ours --mode generate --prompt 128 --gen 64 --steps 3 --warmup 1
    run peer_decode_bf16 generate_decode peer --mode generate --prompt 128 --gen 64 --steps 3 --warmup 1 --dtype bfloat16
    run peer_decode_f32 generate_decode peer --mode generate --prompt 128 --gen 64 --steps 3 --warmup 1 --dtype float32
    run peer_decode_bf16_1thread generate_decode peer --mode generate --prompt 128 --gen 64 --steps 3 --warmup 1 \
        --dtype bfloat16 --threads 1
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f [%.1f-%.1f]", m, a[1], a[NR]}'; }
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "| run | tokens/s median [min-max] |"
echo "| --- | --- |"
for k in ours_forward_bf16 peer_forward_bf16 ours_forward_f32 peer_forward_f32 ours_decode peer_decode_bf16 \
    peer_decode_f32 peer_decode_bf16_1thread; do
    echo "| $k | $(median <<<"${R[$k]}") |"
done
best() { local a b; a=$(med <<<"${R[$1]}"); b=$(med <<<"${R[$2]}"); awk -v a="$a" -v b="$b" 'BEGIN {print (a > b ? a : b)}'; }
fwd_peer=$(best peer_forward_bf16 peer_forward_f32)
dec_peer=$(best peer_decode_bf16 peer_decode_f32)
dec_peer=$(awk -v a="$dec_peer" -v b="$(med <<<"${R[peer_decode_bf16_1thread]}")" 'BEGIN {print (a > b ? a : b)}')
awk -v o="$(med <<<"${R[ours_forward_bf16]}")" -v p="$fwd_peer" 'BEGIN {printf "forward: ours (bf16 precision) / peer at its best = %.2fx\n", o / p}'
awk -v o="$(med <<<"${R[ours_forward_f32]}")" -v p="$(med <<<"${R[peer_forward_f32]}")" 'BEGIN {printf "forward f32 compute: ours / peer f32 = %.2fx\n", o / p}'
awk -v o="$(med <<<"${R[ours_decode]}")" -v p="$dec_peer" 'BEGIN {printf "decode: ours / peer at its best = %.2fx\n", o / p}'
