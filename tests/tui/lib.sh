# tunebench — drive the workbench in tmux like a person would (sourced after tap.sh).
# Every wait polls capture-pane for the text it expects; sleeps alone prove nothing.
TB=${TUNEBENCH:?set TUNEBENCH to the binary}
TMUX_SOCK=""
TUI_STARTS=0
SESSION=tb

tmx() { tmux -L "$TMUX_SOCK" "$@"; }

tui_start() {  # tui_start COLS ROWS [ARGS...]
    local cols=$1 rows=$2; shift 2
    # A fresh server per start: reusing a socket that is still shutting down races.
    [ -n "$TMUX_SOCK" ] && tmx kill-server 2>/dev/null
    TUI_STARTS=$((TUI_STARTS + 1))
    TMUX_SOCK="tbtest$$-$TUI_STARTS"
    # A UTF-8 locale as a person's terminal has; TERM with colors.
    tmx -f /dev/null new-session -d -s "$SESSION" -x "$cols" -y "$rows" \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color $* ; echo TB-EXITED:\$?; sleep 30"
    tmx set-option -t "$SESSION" status off >/dev/null
}

tui_screen() { tmx capture-pane -p -t "$SESSION"; }

tui_wait() {   # tui_wait TEXT [SECONDS]: poll until the pane shows TEXT
    local text=$1 secs=${2:-10} i
    for ((i = 0; i < secs * 20; i++)); do
        if tui_screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.05
    done
    echo "# timed out waiting for: $text"
    tui_screen | sed 's/^/#   | /'
    return 1
}

tui_wait_gone() {   # tui_wait_gone TEXT [SECONDS]
    local text=$1 secs=${2:-10} i
    for ((i = 0; i < secs * 20; i++)); do
        if ! tui_screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.05
    done
    echo "# still showing: $text"
    return 1
}

tui_keys() { tmx send-keys -t "$SESSION" "$@"; }

tui_resize() { tmx resize-window -t "$SESSION" -x "$1" -y "$2"; }

tui_stop() { [ -n "$TMUX_SOCK" ] && tmx kill-server 2>/dev/null; return 0; }
trap tui_stop EXIT
