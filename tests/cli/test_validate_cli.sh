#!/usr/bin/env bash
# tunebench validate: exit codes, the JSON shape, --fix, --eval, --rules, --format, --map.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
EX=${TB_SOURCE_ROOT:?}/datasets/examples
T=$(mktemp -d /tmp/tbvalidate.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$TB" validate "$EX/alpaca_clean.jsonl" >"$T/out" 2>&1; rc=$?
tap_eq "validate/clean file exits 0" "$rc" 0
tap_check "validate/clean file says no findings" grep -q "no findings" "$T/out"

"$TB" validate "$EX/flawed.jsonl" --json >"$T/flawed.json"; rc=$?
tap_eq "validate/errors exit 1" "$rc" 1
tap_check "validate/json shape: rows, format, summary, stats, findings" \
    jq -e '(.rows == 30) and (.format == "jsonl") and (.summary|type=="object") and (.stats|type=="object")
           and (.findings|type=="array")
           and ([.findings[] | has("check") and has("severity") and has("row") and has("line") and has("field")
                 and has("message")] | all)' "$T/flawed.json"
tap_eq "validate/json lists the 5 defects" \
    "$(jq -c '[.findings[] | [.check, .line]]' "$T/flawed.json")" \
    '[["missing_field",8],["dup_exact",13],["empty_output",19],["length_outlier",24],["format_inconsistent",28]]'
tap_eq "validate/json summary counts" "$(jq -c '[.summary.dup_exact, .summary.pii, .errors, .warnings]' "$T/flawed.json")" "[1,0,3,2]"
tap_check "validate/json stats have min p10 median p90 max mean stddev" \
    jq -e '.stats.output | has("min") and has("p10") and has("median") and has("p90") and has("max") and has("mean") and has("stddev")' "$T/flawed.json"
tap_check "validate/json token stats say they are an estimate" jq -e '.stats.tokens.estimate == true' "$T/flawed.json"

# Text output points at file:line like a compiler.
"$TB" validate "$EX/flawed.jsonl" >"$T/out" 2>&1
tap_check "validate/text names file:line: severity: check" grep -q "flawed.jsonl:13: error: dup_exact:" "$T/out"

# Unusable input: exit 2 with the file and the reason.
"$TB" validate "$T/missing.jsonl" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/missing file exits 2" "$rc" 2
tap_check "validate/missing file message names it" grep -q "missing.jsonl: cannot open" "$T/err"
: >"$T/empty.jsonl"
"$TB" validate "$T/empty.jsonl" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/empty file exits 2" "$rc" 2
tap_check "validate/empty file says empty" grep -q "empty" "$T/err"
printf '{\n  "data": [1, 2]\n}\n' >"$T/obj.json"
"$TB" validate "$T/obj.json" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/pretty-printed object is not a dataset: exit 2" "$rc" 2
"$TB" validate "$T" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/a directory exits 2" "$rc" 2
"$TB" validate >/dev/null 2>&1; rc=$?
tap_eq "validate/no file exits 2" "$rc" 2
"$TB" validate "$EX/flawed.jsonl" --format xml >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/bad --format exits 2" "$rc" 2
"$TB" validate "$EX/flawed.jsonl" --max-tokens zero >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/bad --max-tokens exits 2" "$rc" 2
tap_check "validate/bad flag message names it" grep -q -- "--max-tokens" "$T/err"

# CSV twin, forced format, and the field map.
tap_eq "validate/csv example: 20 rows, 0 findings" \
    "$("$TB" validate "$EX/alpaca_clean.csv" --json | jq -c '[.rows, .format, ([.summary[]]|add)]')" '[20,"csv",0]'
printf 'question,answer\nWhat is 2+2?,4.\nWhat is 3+3?,\n' >"$T/qa.csv"
"$TB" validate "$T/qa.csv" --map instruction=question,output=answer --json >"$T/qa.json"; rc=$?
tap_eq "validate/--map reads other column names" "$(jq -c '[.shape, .summary.empty_output, .findings[0].field]' "$T/qa.json")" '["alpaca",1,"answer"]'
tap_eq "validate/--map finding exits 1" "$rc" 1
"$TB" validate "$T/qa.csv" --map instruction=question --format csv >/dev/null 2>&1; rc=$?
tap_eq "validate/without an output column every row misses it: exit 1" "$rc" 1
"$TB" validate "$T/qa.csv" --map nonsense=question >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/bad --map exits 2" "$rc" 2

# --fix: a cleaned copy, atomically, never over the input.
cp "$EX/flawed.jsonl" "$T/in.jsonl"
"$TB" validate "$T/in.jsonl" --fix "$T/fixed.jsonl" >"$T/out" 2>"$T/err"; rc=$?
tap_eq "validate/--fix still reports the input's errors (exit 1)" "$rc" 1
tap_eq "validate/--fix drops the duplicate (29 rows)" "$(wc -l <"$T/fixed.jsonl")" 29
tap_check "validate/--fix reports what it changed" grep -q "dropped 1 exact duplicates" "$T/out"
tap_eq "validate/--fix trimmed the trailing spaces" "$("$TB" validate "$T/fixed.jsonl" --json | jq .summary.format_inconsistent)" 0
tap_eq "validate/--fix left the input alone" "$(md5sum <"$T/in.jsonl")" "$(md5sum <"$EX/flawed.jsonl")"
"$TB" validate "$T/in.jsonl" --fix "$T/in.jsonl" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/--fix onto the input exits 2" "$rc" 2
tap_check "validate/--fix onto the input says why" grep -q "input file" "$T/err"
tap_eq "validate/--fix onto the input changed nothing" "$(md5sum <"$T/in.jsonl")" "$(md5sum <"$EX/flawed.jsonl")"
tap_eq "validate/--fix leaves no temporary files" "$(ls "$T" | grep -c '\.tmp\.')" 0

# --eval leakage.
head -3 "$EX/alpaca_clean.jsonl" >"$T/eval.jsonl"
"$TB" validate "$EX/alpaca_clean.jsonl" --eval "$T/eval.jsonl" --json >"$T/leak.json"; rc=$?
tap_eq "validate/leakage exits 1" "$rc" 1
tap_eq "validate/leakage names eval lines and file" \
    "$(jq -c '[.findings[] | select(.check=="leakage") | .line] ' "$T/leak.json")" '[1,2,3]'
tap_check "validate/leakage findings carry the eval file" jq -e '[.findings[] | select(.check=="leakage") | .file | endswith("eval.jsonl")] | all' "$T/leak.json"

# --rules.
printf 'error output /\\bFrench\\b/ No French here\n' >"$T/r.rules"
tap_eq "validate/--rules looks only at the named field" \
    "$("$TB" validate "$EX/alpaca_clean.jsonl" --rules "$T/r.rules" --json | jq -c '[.summary.rule, .errors]')" "[0,0]"
printf 'error input /\\bnine\\b/ Numbers as words\n' >"$T/r.rules"
tap_eq "validate/--rules matches the input field" \
    "$("$TB" validate "$EX/alpaca_clean.jsonl" --rules "$T/r.rules" --json | jq -c '[.summary.rule, .errors, .findings[0].line]')" "[1,1,3]"
printf 'error output (unclosed\n' >"$T/bad.rules"
"$TB" validate "$EX/alpaca_clean.jsonl" --rules "$T/bad.rules" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/bad rules file exits 2" "$rc" 2
tap_check "validate/bad rules file names file:line" grep -q "bad.rules:1" "$T/err"

# --max-tokens (estimate until the tokenizer lands).
"$TB" validate "$EX/alpaca_clean.jsonl" --max-tokens 40 --json >"$T/tok.json"
tap_check "validate/--max-tokens flags long examples, labelled as an estimate" \
    jq -e '(.summary.token_length > 0) and ([.findings[] | select(.check=="token_length") | .message | test("estimate")] | all)' "$T/tok.json"
# Exact token counts with a tokenizer: train a small one on the examples, then the count of
# a one-row dataset must be its prompt + its output tokenized apart (the template's masked and
# trained segments), plus BOS and EOS.
jq -r '.instruction + "\n" + .input + "\n" + .output' "$EX/alpaca_clean.jsonl" >"$T/corpus.txt"
"$TB" tokenizer-train --corpus "$T/corpus.txt" --vocab-size 600 --out "$T/tok.json" >/dev/null 2>&1
head -1 "$EX/alpaca_clean.jsonl" >"$T/one.jsonl"
prompt=$'### Instruction:\nGive three tips for staying healthy.\n\n### Response:\n'
output=$(jq -r .output "$T/one.jsonl")
np=$("$TB" tokenize --tokenizer "$T/tok.json" --text "$prompt" | wc -w)
no=$("$TB" tokenize --tokenizer "$T/tok.json" --text "$output" | wc -w)
"$TB" validate "$T/one.jsonl" --tokenizer "$T/tok.json" --max-tokens 50 --json >"$T/exact.json"
tap_eq "validate/--tokenizer counts exactly: prompt + output + BOS + EOS" \
    "$(jq -c '[.stats.tokens.max, .stats.tokens.estimate]' "$T/exact.json")" "[$((np + no + 2)),false]"
tap_eq "validate/--tokenizer token_length says how much of the response is cut" \
    "$(jq -r '.findings[] | select(.check=="token_length") | .message' "$T/exact.json")" \
    "$((np + no + 2)) tokens, over --max-tokens 50: truncation cuts $((np + no + 2 - 50)) of the $((no + 1)) response tokens"
"$TB" validate "$T/one.jsonl" --tokenizer "$T/missing.json" >/dev/null 2>"$T/err"; rc=$?
tap_eq "validate/a missing tokenizer exits 2" "$rc" 2

"$TB" validate --help >"$T/help"; rc=$?
tap_eq "validate/--help exits 0" "$rc" 0
tap_check "validate/--help lists every check" grep -q "merged_instruction" "$T/help"
tap_done
