#!/usr/bin/env bash
# tunebench decide: presets give the tutorial's answers, JSON shape, exit codes.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}

for pair in support-bot:PROMPTING medical-formatter:FINE_TUNING kb-qa:RAG \
            code-review:FINE_TUNING_RAG ui-translation:PROMPTING; do
    name=${pair%%:*}; want=${pair#*:}
    got=$("$TB" decide --preset "$name" --json | jq -r .recommendation)
    tap_eq "decide/preset=$name" "$got" "$want"
done

json=$("$TB" decide --examples 3000 --format yes --citations yes --json)
tap_check "decide/json has recommendation, scores, reasons" \
    jq -e '(.recommendation|type=="string") and (.scores|keys|length==4) and (.reasons|type=="array" and length>0)' <<<"$json"
tap_eq "decide/json ft+rag" "$(jq -r .recommendation <<<"$json")" FINE_TUNING_RAG
tap_eq "decide/json score sum" "$(jq -r .scores.FINE_TUNING_RAG <<<"$json")" 6

# Flags override a preset wherever they stand.
got=$("$TB" decide --base-ok no --preset ui-translation --json | jq -r .facts.\"base-ok\")
tap_eq "decide/flag overrides preset" "$got" false

out=$("$TB" decide --preset code-review)
tap_check "decide/plain table names the recommendation" grep -q "Recommendation:  Fine-tuning + RAG" <<<"$out"

"$TB" decide --describable maybe >/dev/null 2>err.txt; rc=$?
tap_eq "decide/bad yes-no exits 2" "$rc" 2
tap_check "decide/bad value message names the flag" grep -q -- "--describable: 'maybe'" err.txt
"$TB" decide --examples -5 >/dev/null 2>err.txt; rc=$?
tap_eq "decide/negative examples exits 2" "$rc" 2
"$TB" decide --examples many >/dev/null 2>err.txt; rc=$?
tap_eq "decide/non-number examples exits 2" "$rc" 2
"$TB" decide --preset nope >/dev/null 2>err.txt; rc=$?
tap_eq "decide/unknown preset exits 2" "$rc" 2
"$TB" decide --bogus >/dev/null 2>err.txt; rc=$?
tap_eq "decide/unknown flag exits 2" "$rc" 2
"$TB" nosuchcommand >/dev/null 2>err.txt; rc=$?
tap_eq "cli/unknown command exits 2" "$rc" 2
tap_eq "decide/--list lists 5 presets" "$("$TB" decide --list | wc -l)" 5
rm -f err.txt
tap_done
