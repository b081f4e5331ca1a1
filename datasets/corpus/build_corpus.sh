#!/usr/bin/env bash
# tunebench — build the pretraining corpus for the bundled base model from Debian packages.
#
#   datasets/corpus/build_corpus.sh [--update] [--holdout FILE] [--mix FILE] [OUT]
#                                        (default OUT: datasets/corpus/out/corpus.txt)
#
# Two parts, plain UTF-8 text:
#  1. WordNet 3.0 glosses (package wordnet-base, /usr/share/wordnet/data.{noun,verb,adj,adv}):
#     one line "lemma: gloss" per word of each synset, examples included; underscores become
#     spaces, adjective markers like "(a)" are dropped. WordNet's license: NOTICE.
#  2. Debian package descriptions, English (the Translation-en indexes of the configured
#     archives, read with /usr/lib/apt/apt-helper cat-file): per package "name: short
#     description" (first entry of each package name only), then each paragraph of the long description unwrapped onto one line,
#     verbatim lines kept as they are; packages separated by a blank line. Boilerplate
#     is removed: a paragraph is kept only the first time it appears, and paragraphs that
#     appear in 20 or more descriptions ("This package contains the debugging symbols ...")
#     are dropped everywhere.
# --update runs `apt-get update -o Acquire::Languages=en` first (needs root), which is what
# puts the Translation-en indexes on a machine configured without them.
# --holdout FILE moves the lines of every 400th WordNet synset of each part of speech (the
# 200th, 600th, ...: about 290 synsets, 520 lines) out of OUT into FILE: general text the base
# model never saw, for checking that fine-tuning keeps it (datasets/demo/general.txt).
# --mix FILE also writes the text of the base model's last training phase: the WordNet part
# whole and every third package description (the 1st, 4th, ...): mostly dictionary text, the
# knowledge the demo's skill draws on, with enough descriptions kept that the model does not
# forget them (datasets/models/tunebench-demo/README.md).
# Descriptions are licensed per package: ship this script, not its output.
# Writes OUT.manifest: size and sha256 of every input and of OUT.
set -euo pipefail
export LC_ALL=C.UTF-8
here=$(cd "$(dirname "$0")" && pwd)
update=0
holdout=
mix=
while [ $# -gt 0 ]; do
    case $1 in
    --update) update=1; shift ;;
    --holdout) holdout=${2:?--holdout needs a file}; shift 2 ;;
    --mix) mix=${2:?--mix needs a file}; shift 2 ;;
    *) break ;;
    esac
done
out=${1:-$here/out/corpus.txt}
mkdir -p "$(dirname "$out")"
wn=/usr/share/wordnet
for f in data.noun data.verb data.adj data.adv; do
    [ -r "$wn/$f" ] || { echo "build_corpus.sh: $wn/$f missing: apt-get install wordnet-base" >&2; exit 2; }
done
if [ $update = 1 ]; then
    apt-get update -q -o Acquire::Languages=en >&2
fi
mapfile -t trans < <(apt-get indextargets -o Acquire::Languages=en --format '$(FILENAME)' \
    'Identifier: Translations' 'Language: en' 2>/dev/null | sort | while read -r f; do [ -e "$f" ] && echo "$f"; done)
if [ ${#trans[@]} -eq 0 ]; then
    echo "build_corpus.sh: no Translation-en index; run with --update (as root)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. WordNet: fields before " | " are offset, lex_filenum, ss_type, w_cnt (hex), then w_cnt
#    (word, lex_id) pairs; the gloss follows " | ". Lines starting with spaces are the license.
#    With --holdout, every 400th synset's lines go to held.txt instead.
: >"$tmp/held.txt"
for pos in noun verb adj adv; do
    awk -v held="$tmp/held.txt" -v every="${holdout:+400}" '
        /^ / { next }
        {
            bar = index($0, " | "); if (!bar) next
            nsyn++; dest = (every && nsyn % every == every / 2) ? held : ""
            gloss = substr($0, bar + 3); sub(/[ \t]+$/, "", gloss)
            split(substr($0, 1, bar - 1), f, " ")
            n = ("0x" f[4]) + 0
            for (i = 0; i < n; i++) {
                w = f[5 + 2 * i]
                sub(/\((a|p|ip)\)$/, "", w); gsub(/_/, " ", w)
                if (dest) print w ": " gloss >> dest; else print w ": " gloss
            }
        }' "$wn/data.$pos"
done >"$tmp/wordnet.txt"

# 2. Debian descriptions. Pass 1 counts each paragraph over all descriptions; pass 2 prints.
for f in "${trans[@]}"; do /usr/lib/apt/apt-helper cat-file "$f"; echo; done >"$tmp/trans.txt"
awk -v out="$tmp/debian.txt" '
    function flush_par() {
        if (par == "") return
        pars[++np] = par; par = ""
    }
    function flush_pkg(   i, p) {
        flush_par()
        if (pkg != "") {
            if (pass == 1) {
                for (i = 1; i <= np; i++) if (!((pkg SUBSEP pars[i]) in seenin)) { seenin[pkg SUBSEP pars[i]]; count[pars[i]]++ }
            } else {
                if (pkg in donepkg) { pkg = ""; np = 0; par = ""; indesc = 0; return }
                donepkg[pkg]
                print pkg ": " short > out
                for (i = 1; i <= np; i++) {
                    p = pars[i]
                    if (count[p] >= 20 || (p in printed)) continue
                    printed[p]; print p > out
                }
                print "" > out
            }
        }
        pkg = ""; short = ""; np = 0; par = ""; indesc = 0
    }
    FNR == 1 { pass++ ; pkg = ""; np = 0; par = ""; indesc = 0 }
    /^Package: / { flush_pkg(); pkg = substr($0, 10); next }
    /^Description-en: / { short = substr($0, 17); indesc = 1; next }
    /^$/ { flush_pkg(); next }
    /^[^ ]/ { indesc = 0; next }
    indesc && /^ \.$/ { flush_par(); next }
    indesc && /^  / { flush_par(); line = substr($0, 2); sub(/[ \t]+$/, "", line); pars[++np] = line; next }
    indesc && /^ / { line = substr($0, 2); sub(/[ \t]+$/, "", line); par = (par == "" ? line : par " " line); next }
    END { flush_pkg() }
' "$tmp/trans.txt" "$tmp/trans.txt"

cat "$tmp/wordnet.txt" "$tmp/debian.txt" >"$out.tmp"
mv "$out.tmp" "$out"
if [ -n "$holdout" ]; then
    cp "$tmp/held.txt" "$holdout.tmp"
    mv "$holdout.tmp" "$holdout"
fi
if [ -n "$mix" ]; then
    { cat "$tmp/wordnet.txt"; awk 'BEGIN { RS = ""; ORS = "\n\n" } NR % 3 == 1' "$tmp/debian.txt"; } >"$mix.tmp"
    mv "$mix.tmp" "$mix"
fi

{
    echo "# tunebench pretraining corpus: $(date -u +%Y-%m-%dT%H:%MZ), datasets/corpus/build_corpus.sh"
    echo "# kind  bytes  sha256  path"
    for f in "$wn"/data.noun "$wn"/data.verb "$wn"/data.adj "$wn"/data.adv "${trans[@]}"; do
        echo "input $(stat -c %s "$f") $(sha256sum "$f" | cut -d' ' -f1) $f"
    done
    echo "part $(stat -c %s "$tmp/wordnet.txt") $(sha256sum "$tmp/wordnet.txt" | cut -d' ' -f1) wordnet-glosses ($(wc -l <"$tmp/wordnet.txt") lines)"
    echo "part $(stat -c %s "$tmp/debian.txt") $(sha256sum "$tmp/debian.txt" | cut -d' ' -f1) debian-descriptions ($(grep -c '^$' "$tmp/debian.txt") packages)"
    echo "output $(stat -c %s "$out") $(sha256sum "$out" | cut -d' ' -f1) $out"
    if [ -n "$mix" ]; then
        echo "mix $(stat -c %s "$mix") $(sha256sum "$mix" | cut -d' ' -f1) $mix (WordNet, every third description)"
    fi
    if [ -n "$holdout" ]; then
        echo "holdout $(stat -c %s "$holdout") $(sha256sum "$holdout" | cut -d' ' -f1) $holdout ($(wc -l <"$holdout") lines, not in output)"
    fi
} >"$out.manifest"
cat "$out.manifest"
