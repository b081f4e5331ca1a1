#!/usr/bin/env bash
# The bundled demo dataset: rebuilt from WordNet it equals the committed files, the validator
# finds nothing, and the eval words never occur as a word of the training file.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
DEMO=${TB_SOURCE_ROOT:?}/datasets/demo
T=$(mktemp -d /tmp/tbdemo.XXXXXX)
trap 'rm -rf "$T"' EXIT

if [ -r /usr/share/wordnet/cntlist.rev ]; then
    bash "$DEMO/build_demo.sh" "$T" >/dev/null 2>"$T/err"
    tap_eq "demo/build_demo.sh exits 0" "$?" 0
    tap_check "demo/train.jsonl is what build_demo.sh writes" cmp "$T/train.jsonl" "$DEMO/train.jsonl"
    tap_check "demo/eval.jsonl is what build_demo.sh writes" cmp "$T/eval.jsonl" "$DEMO/eval.jsonl"
else
    TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - demo/build_demo.sh # SKIP wordnet-base not installed"
fi

"$TB" validate "$DEMO/train.jsonl" --eval "$DEMO/eval.jsonl" >"$T/out" 2>&1
tap_eq "demo/validate train + eval exits 0" "$?" 0
tap_check "demo/validate finds nothing (no leakage either)" grep -q "^0 errors, 0 warnings$" "$T/out"
"$TB" validate "$DEMO/eval.jsonl" >"$T/out" 2>&1
tap_check "demo/validate eval finds nothing" grep -q "^0 errors, 0 warnings$" "$T/out"

# The word of a row: the quoted word of "Define the word" rows, else the input.
word() { jq -r 'if .input == "" then (.instruction | capture("\"(?<w>.*)\"").w) else .input end' "$1" | sort -u; }
word "$DEMO/train.jsonl" >"$T/trainw"
word "$DEMO/eval.jsonl" >"$T/evalw"
tap_eq "demo/no eval word is a training word" "$(comm -12 "$T/trainw" "$T/evalw" | wc -l)" 0
jq -r 'select(.instruction | startswith("Give a synonym")) | .output' "$DEMO/train.jsonl" | sort -u >"$T/syn"
tap_eq "demo/no eval word is a training synonym" "$(comm -12 "$T/syn" "$T/evalw" | wc -l)" 0
n=$(wc -l <"$T/trainw"); e=$(wc -l <"$T/evalw")
tap_eq "demo/2000 words less the few without a sense: 1788 train, 198 eval" "$n $e" "1788 198"
rows=$(wc -l <"$DEMO/train.jsonl")
tap_ok "demo/train.jsonl has about 4,000-5,000 rows ($rows)" "$([ "$rows" -ge 3500 ] && [ "$rows" -le 5500 ]; echo $?)"
tap_eq "demo/the three templates" \
    "$(jq -r '.instruction | sub("\"[^\"]*\"";"\"X\"")' "$DEMO/train.jsonl" | sort -u | tr '\n' '|')" \
    'Define the word "X".|Give a synonym for the given word.|Use the given word in a sentence.|'
tap_check "demo/definitions read X (pos): gloss." \
    jq -e -s '[.[] | select(.input == "") | .output | test("^[a-z][a-z -]* \\((noun|verb|adjective|adverb)\\): .+[.!?]$")] | all' \
    "$DEMO/train.jsonl"

# generate --template alpaca asks as training asked: BOS, then the template's prompt part
# around the instruction (the demo tokenizer's post-processor adds no BOS, the trainer does).
M=${TB_SOURCE_ROOT}/datasets/models/tunebench-demo
P='Define the word "house".'
rendered=$(printf '### Instruction:\n%s\n\n### Response:' "$P")$'\n' # $() drops a final newline
ids=$("$TB" tokenize --model "$M" --json --text "$rendered" | jq -r '[0] + . | map(tostring) | join(",")')
want=$("$TB" generate --model "$M" --ids "$ids" --max-new 8 --threads 2 2>/dev/null)
want=$("$TB" detokenize --model "$M" --ids "$want" 2>/dev/null)
got=$("$TB" generate --model "$M" --template alpaca --prompt "$P" --max-new 8 --threads 2 2>/dev/null)
tap_eq "demo/generate --template alpaca equals BOS + the rendered prompt's ids" "$got" "$want"
"$TB" generate --model "$M" --template yaml --prompt x >/dev/null 2>"$T/err"
tap_eq "demo/generate --template yaml exits 2" "$?" 2
tap_check "demo/... naming the templates" grep -q "not alpaca, chatml, llama3 or plain" "$T/err"

tap_done
