#!/usr/bin/env bash
# LoRA training, tunebench vs the PyTorch peer (../shared/bench/torch_lora_bench.py), the
# protocol of ../shared/BENCHMARKING.md: DEMO and SMOL shapes, f32 and bf16 base weights,
# run alternately (ours, peer, ours, peer, ...) after a warm-up step inside each run, medians
# [min-max] of tokens/s and peak RSS, ratios of medians. Everyone runs with 2 threads,
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset; the peer at its best setting
# (OMP_WAIT_POLICY=passive, OpenBLAS 2 threads). MFU is against the sgemm peak bench_train
# measures in the same process.
#
#   tests/bench/train_bench.sh [BUILD_DIR] [ROUNDS] [SHAPES]   (build, 3, "demo smol")
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
ROUNDS=${2:-3}
SHAPES=${3:-demo smol}
SHARED=${TB_SHARED_DIR:-$(readlink -f ..)/shared}
[ -f "$SHARED/bench/torch_lora_bench.py" ] || SHARED=/work/shared
PEER="$SHARED/bench/torch_lora_bench.py"
DEMO=(--dim 256 --layers 8 --heads 8 --kv-heads 4 --ffn 688 --vocab 2048 --seq 256 --batch 8 --rank 16 --targets q,k,v,o)
SMOL=(--dim 576 --layers 30 --heads 9 --kv-heads 3 --ffn 1536 --vocab 49152 --seq 512 --batch 4 --rank 16 --targets q,k,v,o)
ours() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD/tests/bench/bench_train" --threads 2 "$@"; }
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive /usr/bin/python3 "$PEER" --threads 2 "$@"; }
field() { grep '^RESULT train ' | sed -E "s/.* $1=([0-9.]+).*/\\1/"; }

declare -A TPS RSS MFU
run() { # name cmd...
    local name=$1 out; shift
    out=$("$@" 2>&1)
    TPS[$name]="${TPS[$name]:-} $(field tokens_per_s <<<"$out")"
    RSS[$name]="${RSS[$name]:-} $(field peak_rss_mib <<<"$out")"
    MFU[$name]="${MFU[$name]:-} $(grep -o 'mfu=[0-9.]*' <<<"$out" | cut -d= -f2 || true)"
    printf '  %-22s %8s tokens/s  %6s MiB  (load %s)\n' "$name" "$(field tokens_per_s <<<"$out")" \
        "$(field peak_rss_mib <<<"$out")" "$(cut -d' ' -f1 /proc/loadavg)"
    grep -E '^# (sgemm|memory)' <<<"$out" | sed 's/^/      /' || true
}
echo "# $(date -u +%F) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    for s in $SHAPES; do
        if [ "$s" = demo ]; then A=("${DEMO[@]}"); st=(--steps 8 --warmup 2); else A=("${SMOL[@]}"); st=(--steps 4 --warmup 1); fi
        run "ours_${s}_f32" ours "${A[@]}" "${st[@]}" --dtype f32
        run "peer_${s}_f32" peer "${A[@]}" "${st[@]}" --dtype float32
        run "ours_${s}_bf16" ours "${A[@]}" "${st[@]}" --dtype bf16 --precision bf16 --peak 0
        run "peer_${s}_bf16" peer "${A[@]}" "${st[@]}" --dtype bfloat16
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f [%.1f-%.1f]", m, a[1], a[NR]}'; }
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "| run | tokens/s median [min-max] | peak RSS MiB median | MFU |"
echo "| --- | --- | --- | --- |"
for s in $SHAPES; do for d in f32 bf16; do for w in ours peer; do
    k=${w}_${s}_${d}
    mfu=-
    [ -n "$(tr -d ' ' <<<"${MFU[$k]}")" ] && mfu=$(med <<<"${MFU[$k]}")
    echo "| $k | $(median <<<"${TPS[$k]}") | $(med <<<"${RSS[$k]}") | $mfu |"
done; done; done
for s in $SHAPES; do for d in f32 bf16; do
    awk -v o="$(med <<<"${TPS[ours_${s}_${d}]}")" -v p="$(med <<<"${TPS[peer_${s}_${d}]}")" \
        -v ro="$(med <<<"${RSS[ours_${s}_${d}]}")" -v rp="$(med <<<"${RSS[peer_${s}_${d}]}")" -v n="$s $d" \
        'BEGIN {printf "%-10s tokens/s ours / peer = %.2fx   peak RSS ours / peer = %.2f\n", n, o / p, ro / rp}'
done; done
