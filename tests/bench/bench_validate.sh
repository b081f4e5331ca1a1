#!/usr/bin/env bash
# tunebench benchmark — `tunebench validate` (all checks) vs `jq -c . FILE > /dev/null` on a
# synthetic alpaca JSONL (default 500 MB, generated into /tmp), alternating A B A B after a
# warm-up, as ../shared/BENCHMARKING.md asks. Prints medians [min-max], MB/s, peak RSS, the
# ratio, the machine load, and whether the targets hold (>= 1/2 of jq's speed, < 300 MB).
#   meson test -C build --benchmark validate_500mb        (or run this script with env set)
#   BENCH_MB=500 BENCH_RUNS=3 TUNEBENCH=... GEN_ALPACA=... tests/bench/bench_validate.sh
set -uo pipefail
TB=${TUNEBENCH:?set TUNEBENCH}
GEN=${GEN_ALPACA:?set GEN_ALPACA}
MB=${BENCH_MB:-500}
RUNS=${BENCH_RUNS:-3}
FILE=${BENCH_FILE:-/tmp/tunebench-bench-alpaca-${MB}mb.jsonl}
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE # no BLAS here; per BENCHMARKING.md all the same
command -v jq >/dev/null || { echo "bench: jq is not installed"; exit 1; }

want=$((MB * 1000000))
if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -lt "$want" ]; then
    "$GEN" "$FILE" "$MB" || exit 1
fi
bytes=$(stat -c %s "$FILE")
echo "file: $FILE ($bytes bytes, $(wc -l <"$FILE") rows)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$FILE" >/dev/null # warm the page cache for both tools

# one RUN: prints "seconds max_rss_kb"
TIMES=$(mktemp /tmp/tbbench.XXXXXX)
trap 'rm -f "$TIMES"' EXIT
measure() {
    /usr/bin/time -f "%e %M" -o "$TIMES" "$@" >/dev/null 2>/dev/null
    tail -n 1 "$TIMES"
}

tb_t=() tb_m=() jq_t=() jq_m=()
measure "$TB" validate "$FILE" >/dev/null # warm-up
for ((i = 0; i < RUNS; i++)); do
    read -r t m < <(measure "$TB" validate "$FILE" --json)
    tb_t+=("$t"); tb_m+=("$m")
    read -r t m < <(measure jq -c . "$FILE")
    jq_t+=("$t"); jq_m+=("$m")
    echo "run $((i + 1)): tunebench ${tb_t[-1]} s ${tb_m[-1]} KB   jq ${jq_t[-1]} s ${jq_m[-1]} KB"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s %s", a[int((NR+1)/2)], a[1], a[NR]}'; }
read -r tmed tmin tmax < <(stats "${tb_t[@]}")
read -r jmed jmin jmax < <(stats "${jq_t[@]}")
read -r tmem _ tmemmax < <(stats "${tb_m[@]}")
read -r jmem _ _ < <(stats "${jq_m[@]}")
awk -v b="$bytes" -v tm="$tmed" -v tl="$tmin" -v th="$tmax" -v jm="$jmed" -v jl="$jmin" -v jh="$jmax" \
    -v tr="$tmemmax" -v jr="$jmem" 'BEGIN {
    printf "tunebench validate: %.2f s [%.2f-%.2f]  %.1f MB/s  peak RSS %.0f MB\n", tm, tl, th, b/1e6/tm, tr/1024
    printf "jq -c .:            %.2f s [%.2f-%.2f]  %.1f MB/s  peak RSS %.0f MB\n", jm, jl, jh, b/1e6/jm, jr/1024
    ratio = jm / tm
    printf "speed ratio (tunebench / jq): %.2f  target >= 0.50: %s\n", ratio, (ratio >= 0.5 ? "met" : "MISSED")
    printf "peak RSS target < 300 MB: %s\n", (tr/1024 < 300 ? "met" : "MISSED")
}'
