#!/usr/bin/env bash
# QLoRA vs LoRA on a bf16 base, SMOL shape (SmolLM2-135M: D 576, L 30, F 1536, V 49152,
# batch 4 x 512, r 16 on q,k,v,o), CPU, the protocol of ../shared/BENCHMARKING.md: runs
# alternated round by round (qlora nf4-dq, qlora nf4, lora bf16 in f32, lora bf16 in bf16
# precision), 2 threads, OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset; medians [min-max] of
# tokens/s, peak RSS, the engine's accounted peak and the calculator's prediction; ratios of
# medians. bench_train quantizes the bf16 model at load for the QLoRA runs.
#
#   tests/bench/qlora_bench.sh [BUILD_DIR] [ROUNDS] [SHAPE]   (build, 3, smol; or demo)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
ROUNDS=${2:-3}
SHAPE=${3:-smol}
if [ "$SHAPE" = demo ]; then
    A=(--dim 256 --layers 8 --heads 8 --kv-heads 4 --ffn 688 --vocab 2048 --seq 256 --batch 8 --rank 16 --steps 8 --warmup 2)
else
    A=(--dim 576 --layers 30 --heads 9 --kv-heads 3 --ffn 1536 --vocab 49152 --seq 512 --batch 4 --rank 16 --steps 4 --warmup 1)
fi
ours() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD/tests/bench/bench_train" --threads 2 --peak 0 \
    --targets q,k,v,o --dtype bf16 "${A[@]}" "$@"; }
field() { grep '^RESULT train ' | sed -E "s/.* $1=([0-9.]+).*/\\1/"; }
declare -A TPS RSS ENG CALC
run() { # name flags...
    local name=$1 out; shift
    out=$(ours "$@" 2>&1)
    TPS[$name]="${TPS[$name]:-} $(field tokens_per_s <<<"$out")"
    RSS[$name]="${RSS[$name]:-} $(field peak_rss_mib <<<"$out")"
    ENG[$name]="${ENG[$name]:-} $(field engine_peak_mib <<<"$out")"
    CALC[$name]=$(field calc_mib <<<"$out")
    printf '  %-16s %8s tokens/s  RSS %6s MiB  engine %8s MiB  calc %8s MiB  (load %s)\n' "$name" \
        "$(field tokens_per_s <<<"$out")" "$(field peak_rss_mib <<<"$out")" "$(field engine_peak_mib <<<"$out")" \
        "${CALC[$name]}" "$(cut -d' ' -f1 /proc/loadavg)"
    grep -E '^# (nf4|memory)' <<<"$out" | sed 's/^/      /' || true
}
echo "# $(date -u '+%F %H:%M') $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD), shape $SHAPE"
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    run qlora_nf4dq --quant nf4-dq
    run lora_bf16 --precision f32
    run qlora_nf4 --quant nf4
    run lora_bf16_prec --precision bf16
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f [%.1f-%.1f]", m, a[1], a[NR]}'; }
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "| run | tokens/s median [min-max] | peak RSS MiB | engine peak MiB | calculator MiB | RSS / calc |"
echo "| --- | --- | --- | --- | --- | --- |"
for k in qlora_nf4dq qlora_nf4 lora_bf16 lora_bf16_prec; do
    rss=$(med <<<"${RSS[$k]}")
    echo "| $k | $(median <<<"${TPS[$k]}") | $rss | $(med <<<"${ENG[$k]}") | ${CALC[$k]} | $(awk -v a="$rss" -v b="${CALC[$k]}" 'BEGIN {printf "%.3f", a / b}') |"
done
for k in qlora_nf4dq qlora_nf4; do
    for b in lora_bf16 lora_bf16_prec; do
        awk -v q="$(med <<<"${TPS[$k]}")" -v l="$(med <<<"${TPS[$b]}")" -v rq="$(med <<<"${RSS[$k]}")" \
            -v rl="$(med <<<"${RSS[$b]}")" -v n="$k / $b" \
            'BEGIN {printf "%-28s tokens/s %.3f   peak RSS %.3f\n", n, q / l, rq / rl}'
    done
done
