/* tunebench — LLM-as-judge: prompt, run a command with a timeout, parse its scores.
 * Contract: engine/eval/judge.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/eval/judge.h"

#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tb_judge_prompt(const char *reference, const char *output)
{
    /* The tutorial's llm_judge_eval prompt, word for word. */
    static const char fmt[] = "Rate this model output from 1-5 on:\n"
                              "- Accuracy (does it match the reference?)\n"
                              "- Completeness (does it cover all points?)\n"
                              "- Format (does it follow the expected structure?)\n"
                              "Reference answer: %s\n"
                              "Model output: %s\n"
                              "Return 3 scores as: accuracy,completeness,format\n";
    size_t n = sizeof fmt + strlen(reference) + strlen(output);
    char *p = malloc(n);
    if (p)
        snprintf(p, n, fmt, reference, output);
    return p;
}

/* ------------------------------------------------------------------ parsing */

/* Every match of pattern in text; the groups of the last one into v (1-based groups). */
static bool last_match(const char *pattern, const char *text, int groups, int *v)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo, NULL);
    if (!re)
        return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    bool found = false;
    size_t len = strlen(text), start = 0;
    while (md && start <= len && pcre2_match(re, (PCRE2_SPTR)text, len, start, 0, md, NULL) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        for (int g = 1; g <= groups; g++)
            v[g - 1] = text[ov[2 * g]] - '0';
        found = true;
        start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return found;
}

bool tb_judge_parse(const char *text, tb_judge_scores *out)
{
    int v[3];
    /* "4,3,5" not inside a longer number ("14,3,52" is not three scores) */
    if (last_match("(?<!\\d)(?<!\\d\\.)([1-5])\\s*,\\s*([1-5])\\s*,\\s*([1-5])(?!\\d|\\.\\d)", text, 3, v)) {
        out->accuracy = v[0], out->completeness = v[1], out->format = v[2];
        out->ok = true;
        return true;
    }
    static const char *const labels[3] = {"accuracy", "completeness", "format"};
    for (int k = 0; k < 3; k++) {
        char pat[96];
        snprintf(pat, sizeof pat, "\\b%s\\b[^0-9\\n]{0,20}([1-5])(?!\\d|\\.\\d)", labels[k]);
        if (!last_match(pat, text, 1, &v[k])) {
            out->ok = false;
            snprintf(out->why, sizeof out->why, "no scores in the judge's reply (expected \"accuracy,completeness,format\")");
            return false;
        }
    }
    out->accuracy = v[0], out->completeness = v[1], out->format = v[2];
    out->ok = true;
    return true;
}

/* ------------------------------------------------------------------ running */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

tb_status tb_judge_exec(const char *cmd, const char *input, double timeout_s, char **out, tb_error *err)
{
    *out = NULL;
    /* stdin is a socket so that writing to a command that never reads gets EPIPE through
     * MSG_NOSIGNAL instead of a SIGPIPE that would kill the whole workbench. */
    int in_sv[2], out_p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) != 0)
        return tb_fail(err, TB_ERR_IO, "judge: socketpair: %s", strerror(errno));
    if (pipe2(out_p, O_CLOEXEC) != 0) {
        close(in_sv[0]), close(in_sv[1]);
        return tb_fail(err, TB_ERR_IO, "judge: pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in_sv[0]), close(in_sv[1]), close(out_p[0]), close(out_p[1]);
        return tb_fail(err, TB_ERR_IO, "judge: fork: %s", strerror(errno));
    }
    if (pid == 0) { /* child: async-signal-safe calls only */
        setpgid(0, 0);
        int null = open("/dev/null", O_WRONLY);
        dup2(in_sv[1], 0);
        dup2(out_p[1], 1);
        if (null >= 0)
            dup2(null, 2);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no race with the kill below */
    close(in_sv[1]);
    close(out_p[1]);
    int in_fd = in_sv[0], out_fd = out_p[0];
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
    size_t in_len = strlen(input), in_off = 0;
    if (in_len == 0) {
        shutdown(in_fd, SHUT_WR);
        close(in_fd), in_fd = -1;
    }
    char *buf = malloc(TB_JUDGE_MAX_OUTPUT + 1);
    size_t n = 0;
    bool timed_out = false;
    double deadline = now_s() + timeout_s;
    while (buf && out_fd >= 0) {
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pf[2] = {{out_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        int np = in_fd >= 0 ? 2 : 1;
        int r = poll(pf, (nfds_t)np, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (np == 2 && pf[1].revents) {
            ssize_t w = send(in_fd, input + in_off, in_len - in_off, MSG_NOSIGNAL);
            if (w > 0)
                in_off += (size_t)w;
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                in_off = in_len; /* the command closed its stdin: fine, it has what it read */
            if (in_off == in_len) {
                shutdown(in_fd, SHUT_WR);
                close(in_fd), in_fd = -1;
            }
        }
        if (pf[0].revents) {
            char tmp[4096];
            ssize_t got = read(out_fd, tmp, sizeof tmp);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0) {
                close(out_fd), out_fd = -1;
                break;
            }
            size_t keep = (size_t)got;
            if (keep > TB_JUDGE_MAX_OUTPUT - n)
                keep = TB_JUDGE_MAX_OUTPUT - n; /* read on to EOF, keep the first bytes */
            memcpy(buf + n, tmp, keep);
            n += keep;
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    if (timed_out || !buf)
        kill(-pid, SIGKILL);
    int status = 0;
    /* stdout closed but the command may linger (a daemonized child kept it open no longer):
     * wait up to the deadline, then kill. */
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (now_s() > deadline) {
            timed_out = true;
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    if (!buf)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    buf[n] = '\0';
    if (timed_out) {
        free(buf);
        return tb_fail(err, TB_ERR_CANCELLED, "judge command timed out after %.0f s (killed)", timeout_s);
    }
    if (WIFSIGNALED(status)) {
        free(buf);
        return tb_fail(err, TB_ERR_IO, "judge command was killed by signal %d", WTERMSIG(status));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        int code = WEXITSTATUS(status);
        free(buf);
        return tb_fail(err, TB_ERR_IO, "judge command exited with status %d%s", code,
                       code == 127 ? " (command not found?)" : "");
    }
    *out = buf;
    return TB_OK;
}

void tb_judge_score(const char *cmd, const char *reference, const char *output, double timeout_s,
                    tb_judge_scores *scores)
{
    memset(scores, 0, sizeof *scores);
    char *prompt = tb_judge_prompt(reference, output), *reply = NULL;
    tb_error err;
    tb_error_clear(&err);
    if (!prompt) {
        snprintf(scores->why, sizeof scores->why, "out of memory");
        return;
    }
    if (tb_judge_exec(cmd, prompt, timeout_s, &reply, &err) != TB_OK)
        snprintf(scores->why, sizeof scores->why, "%s", err.message);
    else
        tb_judge_parse(reply, scores);
    free(prompt);
    free(reply);
}
