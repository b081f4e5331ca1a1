#!/usr/bin/env bash
# tunebench — run every fuzz target for a bounded time (CI calls this).
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [BUILD_DIR]      default 30 s, build-fuzz
# Sets up BUILD_DIR with clang, libFuzzer, ASan and UBSan when it does not exist. Seeds come
# from datasets/examples plus a few hand-made records, copied to a scratch corpus (the repo is
# not touched). Crash inputs are kept in BUILD_DIR/fuzz-crashes/. TAP output; exit 1 on a crash.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
SECS=${1:-30}
BUILD=${2:-build-fuzz}
if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized >&2 || { echo "not ok 1 - fuzz build setup"; exit 1; }
fi
ninja -C "$BUILD" tests/fuzz/fuzz_jsonl tests/fuzz/fuzz_json tests/fuzz/fuzz_csv tests/fuzz/fuzz_validate >&2 ||
    { echo "not ok 1 - fuzz build"; exit 1; }

WORK=$(mktemp -d /tmp/tbfuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/jsonl" "$WORK/json" "$WORK/csv" "$WORK/validate" "$BUILD/fuzz-crashes"
cp datasets/examples/*.jsonl "$WORK/jsonl/"
cp datasets/examples/*.jsonl datasets/examples/*.csv "$WORK/validate/"
cp datasets/examples/*.csv "$WORK/csv/"
printf '[{"instruction":"a","input":"","output":"b"},\n {"messages":[{"role":"user","content":"x"}]}]' >"$WORK/json/1.json"
printf '[\n {"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}],"system":"s"}\n]\n' >"$WORK/json/2.json"
printf 'instruction,output\n"multi\nline ""quoted""",x\n' >"$WORK/csv/2.csv"
printf '\xef\xbb\xbf{"prompt":"p","completion":"c"}\r\n{"instruction":"\\u0000"}\n' >"$WORK/jsonl/3.jsonl"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
n=0 failed=0
for t in jsonl json csv validate; do
    n=$((n + 1))
    log="$WORK/$t.log"
    if "$BUILD/tests/fuzz/fuzz_$t" "$WORK/$t" -dict=tests/fuzz/dataset.dict -max_total_time="$SECS" \
        -max_len=65536 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$BUILD/fuzz-crashes/$t-" \
        -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "ok $n - fuzz_$t (${runs:-?} inputs in ${SECS} s)"
    else
        failed=$((failed + 1))
        echo "not ok $n - fuzz_$t"
        grep -E "ERROR|SUMMARY|artifact" "$log" | head -20 | sed 's/^/# /'
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
