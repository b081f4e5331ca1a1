#!/usr/bin/env bash
# tunebench — build the demo fine-tuning dataset from WordNet 3.0 (Debian package wordnet-base).
#
#   datasets/demo/build_demo.sh [OUTDIR]        (default: datasets/demo)
#
# Writes OUTDIR/train.jsonl and OUTDIR/eval.jsonl (alpaca rows) and prints their sha256.
# Deterministic: the same WordNet files give byte-identical output.
#
# Words: the 2,000 most frequent lemmas by cntlist.rev (sum of the tag counts of all senses;
# ties by name), among lemmas that are words (letters, with "-" or "_" inside: no numbers,
# no "n't"). Every 10th word by rank (ranks 5, 15, 25, ...) is held out for eval.jsonl; the
# other 1,800 build train.jsonl. A word's part of speech is the one whose senses have the
# largest tag count; its sense is the first (most frequent) one in index.POS.
#
# Rows per word, in this order:
#   Define the word "X".                 -> X (noun): the definition of the sense.
#   Use the given word in a sentence.    -> a WordNet example of any sense of X that contains X
#     (input X)                             (or X+s/es/d/ed/ing), first letter capitalized,
#                                           final period added where it lacks one
#   Give a synonym for the given word.   -> the first other word of the first synset of X's part
#     (input X)                             of speech that has one
# A row is left out where WordNet has no such example or synonym; 13 ranked lemmas have no
# entry in the index files (sense keys of phrases like such_as, due_to) and give no rows.
#
# Held-out words stay out of train.jsonl: a train row is dropped when its output is a held-out
# word (a synonym) or repeats a held-out word's definition (two frequent words sharing a sense).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
wn=/usr/share/wordnet
for f in cntlist.rev index.noun index.verb index.adj index.adv data.noun data.verb data.adj data.adv; do
    [ -r "$wn/$f" ] || { echo "build_demo.sh: $wn/$f missing: apt-get install wordnet-base" >&2; exit 2; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Rank lemmas. cntlist.rev: "lemma%ss_type:lex_filenum:lex_id:head:head_id sense_number tag_cnt".
awk '{
        split($1, k, "%"); w = k[1]
        if (w !~ /^[a-z]([a-z_-]*[a-z])?$/) next
        c[w] += $3
    }
    END { for (w in c) print w, c[w] }' "$wn/cntlist.rev" |
    sort -k2,2nr -k1,1 | awk 'NR <= 2000 { print NR, $1 }' >"$tmp/ranks"

# 2. Everything else in one pass over cntlist (POS counts), the indexes and the data files.
#    ss_type 1..5 = noun, verb, adj, adv, adj satellite (counted as adj).
awk -v train="$tmp/train.jsonl" -v eval="$tmp/eval.jsonl" '
    function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
    function row(file, ins, inp, outp) {
        print "{\"instruction\": " jstr(ins) ", \"input\": " jstr(inp) ", \"output\": " jstr(outp) "}" > file
    }
    # A data line: offset lex_filenum ss_type w_cnt(hex) {word lex_id}... | gloss
    function words(line, arr,   bar, f, n, i, w) {
        bar = index(line, " | ")
        split(substr(line, 1, bar - 1), f, " ")
        n = ("0x" f[4]) + 0
        for (i = 0; i < n; i++) {
            w = tolower(f[5 + 2 * i]); sub(/\((a|p|ip)\)$/, "", w); arr[i + 1] = w
        }
        return n
    }
    function gloss(line) { return substr(line, index(line, " | ") + 3) }
    # The definition: the gloss up to its first quoted example, without trailing "; " and spaces.
    # Longer than 160 characters: whole "; "-separated clauses up to 160 (at least the first),
    # so a few encyclopedic glosses do not stand out as length outliers.
    function definition(g,   q, d, c, n, i, cut) {
        q = index(g, "\""); d = q ? substr(g, 1, q - 1) : g
        sub(/[; \t]+$/, "", d)
        if (length(d) > 160) {
            n = split(d, c, "; "); cut = c[1]
            for (i = 2; i <= n && length(cut) + 2 + length(c[i]) <= 160; i++) cut = cut "; " c[i]
            d = cut
        }
        if (d !~ /[.!?]$/) d = d "."
        return d
    }
    # The first quoted example in gloss g that contains word w (spaces for underscores).
    function example(g, w,   rest, q, e, le, pat) {
        pat = "(^|[^a-z])" w "([^a-z]|$)"
        rest = g
        while ((q = index(rest, "\"")) > 0) {
            rest = substr(rest, q + 1)
            q = index(rest, "\""); if (!q) break
            e = substr(rest, 1, q - 1); rest = substr(rest, q + 1)
            le = tolower(e)
            if (le ~ pat) {
                sub(/^[ \t]+/, "", e); sub(/[ \t]+$/, "", e)
                e = toupper(substr(e, 1, 1)) substr(e, 2)
                if (e !~ /[.!?]$/) e = e "."
                return e
            }
        }
        return ""
    }
    BEGIN { pname[1] = "noun"; pname[2] = "verb"; pname[3] = "adjective"; pname[4] = "adverb" }
    FILENAME ~ /ranks$/ { rank[$2] = $1; word[$1] = $2; nwords = $1; next }
    FILENAME ~ /cntlist.rev$/ {
        split($1, k, "%"); w = k[1]; if (!(w in rank)) next
        ss = substr(k[2], 1, 1) + 0; if (ss == 5) ss = 3
        pc[w, ss] += $3; next
    }
    FILENAME ~ /index\./ {
        if (/^ / || !($1 in rank)) next
        p = FILENAME; sub(/.*index\./, "", p); pi = (p == "noun" ? 1 : p == "verb" ? 2 : p == "adj" ? 3 : 4)
        # lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
        ns = $3; np = $4
        nsyn[$1, pi] = ns
        for (i = 1; i <= ns; i++) { off = $(6 + np + i); syn[$1, pi, i] = off; need[pi, off] }
        next
    }
    FILENAME ~ /data\./ {
        if (/^ /) next
        p = FILENAME; sub(/.*data\./, "", p); pi = (p == "noun" ? 1 : p == "verb" ? 2 : p == "adj" ? 3 : 4)
        if ((pi, $1) in need) data[pi, $1] = $0
        next
    }
    END {
        for (r = 1; r <= nwords; r++) {
            w = word[r]; best = 0
            for (pi = 1; pi <= 4; pi++)
                if (((w, pi) in nsyn) && (best == 0 || pc[w, pi] > pc[w, best])) best = pi
            pos[w] = best
            if (best) def[w] = definition(gloss(data[best, syn[w, best, 1]]))
            held[w] = (r % 10 == 5)
        }
        for (r = 1; r <= nwords; r++) { w = word[r]; if (held[w] && pos[w]) helddef[def[w]] }
        for (r = 1; r <= nwords; r++) {
            w = word[r]; best = pos[w]; if (!best) continue
            file = held[w] ? eval : train
            x = w; gsub(/_/, " ", x)
            d = x " (" pname[best] "): " def[w]
            if (held[w] || !(def[w] in helddef))
                row(file, "Define the word \"" x "\".", "", d)
            # Example: senses of the main part of speech first, then the others in order.
            e = ""
            for (t = 0; t < 4 && e == ""; t++) {
                pi = t == 0 ? best : t; if (t && pi == best) continue
                for (i = 1; i <= nsyn[w, pi] && e == ""; i++) e = example(gloss(data[pi, syn[w, pi, i]]), x)
            }
            if (e != "") row(file, "Use the given word in a sentence.", x, e)
            s = ""
            for (i = 1; i <= nsyn[w, best] && s == ""; i++) {
                delete ws; n = words(data[best, syn[w, best, i]], ws)
                for (j = 1; j <= n; j++) {
                    if (ws[j] == w || (!held[w] && (ws[j] in rank) && held[ws[j]])) continue
                    s = ws[j]; gsub(/_/, " ", s); break
                }
            }
            if (s != "") row(file, "Give a synonym for the given word.", x, s)
        }
    }' "$tmp/ranks" "$wn/cntlist.rev" "$wn"/index.noun "$wn"/index.verb "$wn"/index.adj "$wn"/index.adv \
    "$wn"/data.noun "$wn"/data.verb "$wn"/data.adj "$wn"/data.adv

mv "$tmp/train.jsonl" "$out/train.jsonl"
mv "$tmp/eval.jsonl" "$out/eval.jsonl"
for f in train eval; do
    echo "$f.jsonl $(wc -l <"$out/$f.jsonl") rows $(sha256sum "$out/$f.jsonl" | cut -d' ' -f1)"
done
