#!/usr/bin/env bash
# tunebench — count test cases across all meson suites from meson's testlog.json.
# Every TAP "ok"/"not ok" line is one case ("ok ... # SKIP" counts as neither); a suite
# that failed without reporting a
# failing case (crash, timeout, sanitizer abort) counts one more failure.
# Prints the failing cases with their diagnosis lines, then the last line: "N passed, N failed".
set -u
log=${1:?usage: summarize.sh BUILD_DIR/meson-logs/testlog.json}
if [ ! -s "$log" ]; then
    echo "0 passed, 1 failed"
    exit 1
fi
jq -r -s '
  def cases: (.stdout // "") | split("\n");
  [ .[] | . as $t
    | (cases | map(select(test("^ok ") and (test("# (SKIP|skip)") | not))) | length) as $ok
    | (cases | map(select(test("^not ok "))) | length) as $bad
    | ($t.result == "OK" or $t.result == "EXPECTEDFAIL" or $t.result == "SKIP") as $suite_ok
    | (if ($ok + $bad) == 0 then (if $suite_ok then {p:1,f:0} else {p:0,f:1} end)
       else {p:$ok, f:($bad + (if ($suite_ok or $bad > 0) then 0 else 1 end))} end) as $c
    | $c + {name:$t.name, result:$t.result,
            failing:(cases as $c | [range(0; $c | length) as $i
                     | select($c[$i] | test("^not ok "))
                     # the case and its "#" diagnosis lines (at most 25 of them)
                     | $c[$i], ($c[$i + 1:] | (map(test("^#") | not) | index(true)) as $e
                                | .[0:($e // length)][0:25][])])}
  ] as $all
  | ($all[] | select(.f > 0) | "FAILED \(.name) [\(.result)]" , (.failing[] | "  \(.)")),
    "\([$all[].p] | add) passed, \([$all[].f] | add) failed"
' "$log"
