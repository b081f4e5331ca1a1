/* tunebench — a one-line path entry with shell-like Tab completion.
 *
 * Keys: printable characters insert at the end, Backspace deletes, Ctrl-U clears, Ctrl-W
 * deletes the last path component, Tab completes (the longest common prefix of the
 * matches; a lone directory gets its '/'), Enter submits, Esc cancels. "~/" means $HOME. */
#ifndef TB_WIDGETS_PATHENTRY_H
#define TB_WIDGETS_PATHENTRY_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tb_pathentry {
    char text[4096];
    size_t len;
    char hint[512];   /* after Tab: the matches ("3 matches: a.jsonl b.jsonl c.csv"), or why none */
} tb_pathentry;

/* Flags from tb_pathentry_key on top of TB_UI_*. */
enum { TB_PATH_SUBMIT = 1 << 9, TB_PATH_CANCEL = 1 << 10 };

void tb_pathentry_set(tb_pathentry *p, const char *text);
int tb_pathentry_key(tb_pathentry *p, int key);
void tb_pathentry_draw(const tb_pathentry *p, WINDOW *win, int y, int x, int w, bool focused);

/* Complete `input` against the file system: *out gets the completed text (input itself when
 * nothing matches); matches names the candidates (up to size). Returns the match count.
 * Hidden files are offered only when the typed name starts with '.'. */
int tb_path_complete(const char *input, char *out, size_t out_size, char *matches, size_t matches_size);
/* "~/x" → "$HOME/x" into out (other paths copied). */
void tb_path_expand(const char *in, char *out, size_t size);

#endif
