/* tunebench — path entry with Tab completion. */
#include "tui/widgets/pathentry.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/core/fs.h"

#include "tui/screen.h"
#include "tui/widgets/draw.h"

#define KEY_ESC 27
#define CTRL(c) ((c) & 0x1f)

void tb_path_expand(const char *in, char *out, size_t size)
{
    const char *home = getenv("HOME");
    if (in[0] == '~' && (in[1] == '/' || in[1] == '\0') && home)
        snprintf(out, size, "%s%s", home, in + 1);
    else
        snprintf(out, size, "%s", in);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int tb_path_complete(const char *input, char *out, size_t out_size, char *matches, size_t matches_size)
{
    snprintf(out, out_size, "%s", input);
    if (matches_size)
        matches[0] = '\0';
    char path[4096];
    tb_path_expand(input, path, sizeof path);
    /* Split into the directory to list and the name prefix typed so far. */
    const char *slash = strrchr(input, '/');
    size_t keep = slash ? (size_t)(slash - input) + 1 : 0; /* bytes of input before the name */
    const char *prefix = input + keep;
    char dir[4096];
    const char *pslash = strrchr(path, '/');
    if (pslash)
        snprintf(dir, sizeof dir, "%.*s", (int)(pslash - path + 1), path);
    else
        snprintf(dir, sizeof dir, "./");
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(matches, matches_size, "no such directory: %s", dir);
        return 0;
    }
    size_t plen = strlen(prefix);
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_name[0] == '.' && prefix[0] != '.')
            continue;
        if (strncmp(e->d_name, prefix, plen) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n > 0) {
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        /* The longest common prefix of the matches. */
        size_t common = strlen(names[0]);
        for (int i = 1; i < n; i++) {
            size_t k = 0;
            while (k < common && names[i][k] == names[0][k])
                k++;
            common = k;
        }
        char full[4096];
        snprintf(full, sizeof full, "%s%s", dir, names[0]);
        bool is_dir = n == 1 && tb_path_is_dir(full);
        snprintf(out, out_size, "%.*s%.*s%s", (int)keep, input, (int)common, names[0], is_dir ? "/" : "");
        size_t used = 0;
        if (n > 1)
            used = (size_t)snprintf(matches, matches_size, "%d matches:", n);
        for (int i = 0; i < n && n > 1 && used + 2 < matches_size; i++)
            used += (size_t)snprintf(matches + used, matches_size - used, " %s", names[i]);
    } else {
        snprintf(matches, matches_size, "no file starts with '%s'", prefix);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return n;
}

void tb_pathentry_set(tb_pathentry *p, const char *text)
{
    snprintf(p->text, sizeof p->text, "%s", text);
    p->len = strlen(p->text);
    p->hint[0] = '\0';
}

int tb_pathentry_key(tb_pathentry *p, int key)
{
    switch (key) {
    case '\n':
    case '\r':
    case KEY_ENTER:
        return TB_UI_HANDLED | TB_UI_REDRAW | TB_PATH_SUBMIT;
    case KEY_ESC:
        return TB_UI_HANDLED | TB_UI_REDRAW | TB_PATH_CANCEL;
    case '\t': {
        char out[4096];
        tb_path_complete(p->text, out, sizeof out, p->hint, sizeof p->hint);
        snprintf(p->text, sizeof p->text, "%s", out);
        p->len = strlen(p->text);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    }
    case KEY_BACKSPACE:
    case 127:
    case 8:
        while (p->len > 0 && (p->text[p->len - 1] & 0xC0) == 0x80)
            p->len--;
        if (p->len > 0)
            p->len--;
        p->text[p->len] = '\0';
        p->hint[0] = '\0';
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case CTRL('u'):
        p->len = 0;
        p->text[0] = '\0';
        p->hint[0] = '\0';
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case CTRL('w'):
        while (p->len > 0 && p->text[p->len - 1] == '/')
            p->len--;
        while (p->len > 0 && p->text[p->len - 1] != '/')
            p->len--;
        p->text[p->len] = '\0';
        return TB_UI_HANDLED | TB_UI_REDRAW;
    default:
        if (key >= 32 && key < 256 && key != 127 && p->len + 1 < sizeof p->text) {
            p->text[p->len++] = (char)key;
            p->text[p->len] = '\0';
            p->hint[0] = '\0';
        }
        /* While typing a path every other key is swallowed (no stray screen switches). */
        return TB_UI_HANDLED | TB_UI_REDRAW;
    }
}

void tb_pathentry_draw(const tb_pathentry *p, WINDOW *win, int y, int x, int w, bool focused)
{
    if (w < 4)
        return;
    tb_draw_fill(win, y, x, w, focused ? TB_ROLE_SELECTED : TB_ROLE_VALUE);
    /* Long paths show their tail: the part that tells files apart. */
    char shown[4200];
    snprintf(shown, sizeof shown, "%s%s", p->text, focused ? "_" : "");
    tb_draw_text_tail(win, y, x, w - 1, focused ? TB_ROLE_SELECTED : TB_ROLE_VALUE, shown);
}
