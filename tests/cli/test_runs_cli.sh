#!/usr/bin/env bash
# tunebench runs: listing, sorting, --compare with the recommendation, --export CSV, and
# exit 2 with a message for every kind of unusable input. The store is filled by the
# runs_fixture test tool through the run-store API (tests/tools/runs_fixture.c).
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
FX=${TB_RUNS_FIXTURE:?set TB_RUNS_FIXTURE to the runs_fixture tool}
W=$(mktemp -d /tmp/tb-runs-cli-XXXXXX)
trap 'rm -rf "$W"' EXIT
"$FX" populate "$W/runs/tunebench.db" || { echo "Bail out! fixture failed"; exit 1; }

# ---- list ----------------------------------------------------------------------------
json=$("$TB" runs --dir "$W/runs" --json)
tap_eq "runs/json lists 6 runs" "$(jq '.runs|length' <<<"$json")" 6
tap_eq "runs/default: best eval ascending, no eval last" "$(jq -c '[.runs[].id]' <<<"$json")" "[4,3,2,6,1,5]"
tap_eq "runs/json names the sort" "$(jq -r .sort <<<"$json")" best_eval
tap_eq "runs/crashed trainer (pid gone) is stale" \
    "$(jq -r '.runs[]|select(.name=="smol-r32-crashed").status' <<<"$json")" stale
tap_eq "runs/live run: best eval and step derived from metrics" \
    "$(jq -c '.runs[]|select(.id==6)|[.best_eval_loss,.best_eval_step,.last_step,.total_steps]' <<<"$json")" \
    "[1.9,150,150,300]"
tap_eq "runs/overfit run: best at 200, final higher" \
    "$(jq -c '.runs[]|select(.id==4)|[.best_eval_loss,.best_eval_step,.final_eval_loss]' <<<"$json")" "[1.85,200,1.86]"
tap_eq "runs/diverged run: no eval loss, failed" \
    "$(jq -c '.runs[]|select(.id==5)|[.status,.best_eval_loss,.rank,.trainable_params]' <<<"$json")" \
    '["failed",null,null,134515008]'
tap_check "runs/json has every Runs-screen column" jq -e '.runs[0] | has("name","status","mode","rank","alpha","lr",
    "epochs","batch","trainable_params","best_eval_loss","final_eval_loss","tokens_per_s","wall_time_s",
    "peak_mem_bytes","adapter_bytes")' <<<"$json"
tap_eq "runs/--sort params --desc" \
    "$("$TB" runs --dir "$W/runs" --sort params --desc --json | jq -c '[.runs[].id]')" "[5,4,6,3,2,1]"
tap_eq "runs/--sort name" "$("$TB" runs --dir "$W/runs" --sort name --json | jq -c '[.runs[].id]')" "[5,3,6,1,4,2]"
tap_eq "runs/--dir may name the .db file" \
    "$("$TB" runs --dir "$W/runs/tunebench.db" --json | jq '.runs|length')" 6
text=$("$TB" runs --dir "$W/runs")
tap_eq "runs/table: header + 6 rows" "$(wc -l <<<"$text")" 7
tap_check "runs/table header names the columns" grep -q "name .*status .*best eval final eval params" <<<"$text"
tap_check "runs/table row: r64 with its loss, size and adapter" \
    grep -qE "4 smol-r64 +finished +1\.8500 +1\.8600 +7\.37M .*28\.1 MiB" <<<"$text"
tap_check "runs/table row: crashed run is stale" grep -qE "smol-r32-crashed +stale" <<<"$text"

# ---- compare + recommend -----------------------------------------------------------------
c=$("$TB" runs --dir "$W/runs" --compare 1,2,3,4,5,6 --json)
tap_eq "compare/all: pick r8 (exactly 2x r4 is not penalized)" "$(jq .recommendation.pick <<<"$c")" 2
tap_eq "compare/all: the smallest run is the reference" "$(jq .recommendation.smallest <<<"$c")" 1
tap_eq "compare/all: r16, r64 and the crashed r32 penalized" \
    "$(jq -c '[.recommendation.verdicts[]|select(.verdict=="penalized").id]|sort' <<<"$c")" "[3,4,6]"
tap_eq "compare/all: full-ft not considered" \
    "$(jq -r '.recommendation.verdicts[]|select(.id==5).verdict' <<<"$c")" no-eval
tap_check "compare/all: reasons name the ratio and gain" \
    jq -e '.recommendation.reasons|any(test("#4 \"smol-r64\": penalized: 16.0x the parameters of #1 \"smol-r4\" for only 3.2% lower"))' <<<"$c"
tap_eq "compare/1,4: the big run is penalized, r4 wins" \
    "$("$TB" runs --dir "$W/runs" --compare 1,4 --json | jq -c '[.recommendation.pick, (.runs|length)]')" "[1,2]"
tap_eq "compare/2,3: r16 is 2x r8, kept, and better" \
    "$("$TB" runs --dir "$W/runs" --compare 2,3 --json | jq .recommendation.pick)" 3
tap_eq "compare/3,2 = 2,3 (order of ids does not matter)" \
    "$("$TB" runs --dir "$W/runs" --compare 3,2,3 --json | jq -c '[.recommendation.pick,[.runs[].id]]')" "[3,[3,2]]"
tap_eq "compare/single run is the pick" "$("$TB" runs --dir "$W/runs" --compare 6 --json | jq .recommendation.pick)" 6
c5=$("$TB" runs --dir "$W/runs" --compare 5 --json)
tap_eq "compare/no eval loss: no pick" "$(jq .recommendation.pick <<<"$c5")" null
tap_check "compare/no eval loss: says why" jq -e '.recommendation.reasons[0]|test("No run has an eval loss")' <<<"$c5"
ct=$("$TB" runs --dir "$W/runs" --compare 1,2,3,4)
tap_check "compare/text names the pick" grep -q "^Recommendation: #2 smol-r8" <<<"$ct"
tap_check "compare/text marks the pick row" grep -qE "^\* +2 smol-r8" <<<"$ct"
tap_check "compare/text gives the reasons" grep -q "  - #3 \"smol-r16\": penalized: 4.0x" <<<"$ct"

# ---- export -------------------------------------------------------------------------------
"$TB" runs --dir "$W/runs" --export 1 --csv >"$W/r1.csv"; rc=$?
tap_eq "export/exit 0" "$rc" 0
tap_eq "export/header" "$(head -1 "$W/r1.csv" | tr -d '\r')" \
    "run_id,run_name,step,epoch,train_loss,eval_loss,lr,grad_norm,tokens_per_s,wall_time"
tap_eq "export/one row per step" "$(wc -l <"$W/r1.csv")" 301
tap_eq "export/eval only every 50 steps" "$(awk -F, 'NR>1 && $6!=""' "$W/r1.csv" | wc -l)" 6
tap_eq "export/last eval is the best eval loss" "$(awk -F, '$3==300{print $6}' "$W/r1.csv")" 1.912
tap_eq "export/diverged steps have empty losses" "$("$TB" runs --dir "$W/runs" --export 5 | awk -F, '$3==130{print $5 "|" $6}')" "|"
"$TB" runs --dir "$W/runs" --export 1 --csv --out "$W/out/r1.csv" 2>"$W/err"; rc=$?
tap_eq "export/--out into a missing folder exits 2" "$rc" 2
tap_check "export/--out error names the file" grep -q "$W/out/r1.csv" "$W/err"
"$TB" runs --dir "$W/runs" --export 1 --csv --out "$W/r1-out.csv" 2>"$W/err"; rc=$?
tap_eq "export/--out exit 0" "$rc" 0
tap_check "export/--out equals stdout" cmp "$W/r1.csv" "$W/r1-out.csv"
tap_eq "export/--out leaves no temp file" "$(ls "$W" | grep -c '\.tmp\.')" 0
tap_check "export/--out says what it wrote" grep -q "wrote 300 metric rows of run #1" "$W/err"

# ---- unusable input: exit 2 and a message ----------------------------------------------------
expect2() {  # expect2 NAME GREP-PATTERN ARGS...
    local name=$1 pat=$2; shift 2
    "$TB" runs "$@" >/dev/null 2>"$W/err"; local rc=$?
    tap_eq "$name exits 2" "$rc" 2
    tap_check "$name says why" grep -q -- "$pat" "$W/err"
}
expect2 "errors/missing store" "no run store here" --dir "$W/nowhere"
expect2 "errors/unknown id" "no run with id 99" --dir "$W/runs" --compare 1,99
expect2 "errors/bad id" "'x' is not a whole number" --dir "$W/runs" --compare 1,x
expect2 "errors/empty id list" "give run ids" --dir "$W/runs" --compare ,
expect2 "errors/export unknown id" "no run with id 42" --dir "$W/runs" --export 42
expect2 "errors/unknown sort" "unknown column 'bogus'" --dir "$W/runs" --sort bogus
expect2 "errors/csv without export" "goes with --export" --dir "$W/runs" --csv
expect2 "errors/export with json" "does not apply" --dir "$W/runs" --export 1 --json
echo "not a database, just text" >"$W/junk.db"
expect2 "errors/not a database" "not a database" --dir "$W/junk.db"

# ---- an empty store ----------------------------------------------------------------------------
"$FX" init "$W/empty/tunebench.db"
tap_eq "empty/json: no runs" "$("$TB" runs --dir "$W/empty" --json | jq -c .runs)" "[]"
tap_check "empty/text says so" grep -q "No runs in" <<<"$("$TB" runs --dir "$W/empty")"
tap_done
