#!/usr/bin/env bash
# Build the libFuzzer targets with clang + ASan/UBSan into build-fuzz/ and run each for a
# bounded time (FUZZ_SECONDS, default 20) over its seed corpus. Exit status: failures.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized >&2
fi
ninja -C build-fuzz >&2
secs=${FUZZ_SECONDS:-20}
rc=0
for name in $(ls tests/fuzz/corpus); do
    t=build-fuzz/tests/fuzz/fuzz_$name
    work=$(mktemp -d)
    cp tests/fuzz/corpus/"$name"/* "$work"/
    echo "== $name ($secs s)"
    "$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 "$work" 2>&1 | tail -n 3 || rc=1
    rm -rf "$work"
done
exit $rc
