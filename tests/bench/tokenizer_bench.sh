#!/usr/bin/env bash
# tunebench benchmark: tokenizer encode throughput against Hugging Face tokenizers (the Rust
# library via its Node binding, npm `tokenizers`), one thread each, same text, same chunks.
# Runs tunebench and the peer alternately, 3 runs each (each process warms up first), and
# prints medians [min-max] and the ratio. Checksums of the ids must agree.
#   BENCH=build/tests/bench/bench_tokenizer tests/bench/tokenizer_bench.sh
# Needs: tests/tokenizer/fetch.sh --reference, node, and a text: TEXT=FILE, else 2 MB from each
# end of datasets/corpus/out/corpus.txt (datasets/corpus/build_corpus.sh), else WordNet's data.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TB_TOKENIZER_CACHE:-$root/tests/tokenizer/.cache}
bench=${BENCH:-$root/build/tests/bench/bench_tokenizer}
ref=$cache/ref/node_modules/tokenizers
chunk=${CHUNK:-512}
runs=${RUNS:-3}
if [ ! -d "$ref" ] || ! command -v node >/dev/null; then
    echo "tokenizer_bench: no reference; run tests/tokenizer/fetch.sh --reference" >&2
    exit 0
fi
text=$(mktemp)
trap 'rm -f "$text"' EXIT
if [ -n "${TEXT:-}" ]; then
    cp "$TEXT" "$text"
elif [ -f "$root/datasets/corpus/out/corpus.txt" ]; then
    { head -c 2000000 "$root/datasets/corpus/out/corpus.txt"; tail -c 2000000 "$root/datasets/corpus/out/corpus.txt"; } >"$text"
else
    cat /usr/share/wordnet/data.noun | head -c 4000000 >"$text"
fi
echo "text: $(stat -c %s "$text") bytes, chunks of $chunk bytes (cut at line ends); $(nproc) cores; $(date -u +%F)"
printf '%-16s %-24s %-24s %s\n' tokenizer "tunebench MB/s" "HF tokenizers MB/s" ratio
med() { sort -g | awk '{v[NR]=$1} END {printf "%.2f [%.2f-%.2f]", v[int((NR+1)/2)], v[1], v[NR]}'; }
for name in ${MODELS:-llama3 qwen3 llama2 gpt2_style}; do
    tj=$cache/$name/tokenizer.json
    [ -f "$tj" ] || tj=$root/tests/tokenizer/data/$name.json
    [ -f "$tj" ] || continue
    a=() b=() ca="" cb=""
    for i in $(seq 1 "$runs"); do
        o=$(CHUNK=$chunk "$bench" "$tj" "$text" 1 | tail -1)
        a+=("$(sed -E 's/.*MB\/s=([0-9.]+).*/\1/' <<<"$o")"); ca=$(sed -E 's/.*checksum=([0-9]+).*/\1/' <<<"$o")
        o=$(CHUNK=$chunk BATCH=1 RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node "$root/tests/bench/tokenizer_ref.js" \
            "$ref" "$tj" "$text" 1 | tail -1)
        b+=("$(sed -E 's/.*MB\/s=([0-9.]+).*/\1/' <<<"$o")"); cb=$(sed -E 's/.*checksum=([0-9]+).*/\1/' <<<"$o")
    done
    ma=$(printf '%s\n' "${a[@]}" | med); mb=$(printf '%s\n' "${b[@]}" | med)
    ratio=$(awk -v x="${ma%% *}" -v y="${mb%% *}" 'BEGIN {printf "%.1fx", x / y}')
    same=$([ "$ca" = "$cb" ] && echo "ids equal" || echo "IDS DIFFER ($ca vs $cb)")
    printf '%-16s %-24s %-24s %s  %s\n' "$name" "$ma" "$mb" "$ratio" "$same"
done
