#!/usr/bin/env bash
# Build the libFuzzer targets with clang + ASan/UBSan into build-fuzz/ and run each for a
# bounded time (FUZZ_SECONDS, default 20) over its seed corpus. Last line "N passed, N
# failed" (one case per target; .ci/run counts it); exit status 1 on any failure.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized >&2
fi
ninja -C build-fuzz >&2
secs=${FUZZ_SECONDS:-20}
rc=0
passed=0
failed=0
for name in $(ls tests/fuzz/corpus); do
    t=build-fuzz/tests/fuzz/fuzz_$name
    work=$(mktemp -d)
    cp tests/fuzz/corpus/"$name"/* "$work"/
    echo "== $name ($secs s)"
    if "$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 "$work" >"$work.log" 2>&1; then
        passed=$((passed + 1))
        tail -n 1 "$work.log"
    else
        failed=$((failed + 1))
        rc=1
        tail -n 40 "$work.log"
    fi
    rm -f "$work.log"
    rm -rf "$work"
done
echo "$passed passed, $failed failed"
exit $rc
