# tunebench — TAP helpers for shell test scripts (sourced). Each check prints one
# "ok N - name" or "not ok N - name" line; tap_done prints the plan and sets the exit status.
TAP_N=0
TAP_FAILED=0

tap_ok() {   # tap_ok NAME CONDITION-EXIT-STATUS
    # "$(cmd; echo $?)" also captures what cmd printed: the status is the last line, the
    # lines before it are the diagnosis, shown under a failure.
    local status=${2##*$'\n'} diag=""
    [ "$status" != "$2" ] && diag=${2%$'\n'*}
    TAP_N=$((TAP_N + 1))
    if [ "$status" = 0 ]; then
        echo "ok $TAP_N - $1"
    else
        echo "not ok $TAP_N - $1"
        [ -n "$diag" ] && printf '%s\n' "$diag" | sed 's/^\([^#]\)/# \1/'
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

tap_check() {  # tap_check NAME COMMAND...   (passes when the command succeeds)
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then
        tap_ok "$name" 0
    else
        tap_ok "$name" 1
        printf '%s\n' "$out" | sed 's/^/# /' | head -40
    fi
}

tap_eq() {   # tap_eq NAME GOT WANT
    if [ "$2" = "$3" ]; then
        tap_ok "$1" 0
    else
        tap_ok "$1" 1
        echo "#   got:  $2"
        echo "#   want: $3"
    fi
}

tap_diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

tap_done() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
}
