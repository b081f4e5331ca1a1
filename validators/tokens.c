/* tunebench — token counting: the engine's tokenizer when built and given, else an estimate. */
#include "validators/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators/tokenizer_avail.h" /* generated: TB_HAVE_TOKENIZER */

#if TB_HAVE_TOKENIZER
#include "datasets/encode.h"
#endif

bool tb_token_counter_available(void) { return TB_HAVE_TOKENIZER != 0; }

tb_status tb_token_counter_open(tb_token_counter *tc, const char *model_dir, const char *tokenizer_path,
                                tb_error *err)
{
    memset(tc, 0, sizeof *tc);
    const char *what = tokenizer_path ? tokenizer_path : model_dir;
    if (!what) {
        snprintf(tc->note, sizeof tc->note,
                 "estimate (UTF-8 bytes / 4); give --model DIR or --tokenizer FILE for exact counts");
        return TB_OK;
    }
#if TB_HAVE_TOKENIZER
    tb_tokenizer *tok = NULL;
    tb_status s = tokenizer_path ? tb_tokenizer_load(&tok, tokenizer_path, err)
                                 : tb_tokenizer_load_dir(&tok, model_dir, err);
    if (s != TB_OK)
        return s;
    tc->tok = tok;
    tc->exact = true;
    snprintf(tc->note, sizeof tc->note, "exact, with the tokenizer of %s", what);
    return TB_OK;
#else
    (void)err;
    snprintf(tc->note, sizeof tc->note,
             "estimate (UTF-8 bytes / 4): this build has no tokenizer yet, so %s was not used", what);
    return TB_OK;
#endif
}

void tb_token_counter_close(tb_token_counter *tc)
{
#if TB_HAVE_TOKENIZER
    tb_tokenizer_free(tc->tok);
#endif
    tc->tok = NULL;
}

static long estimate(size_t bytes) { return (long)((bytes + 3) / 4); }

tb_status tb_token_count(tb_token_counter *tc, const tb_rendered *r, long *total, long *trained, tb_error *err)
{
    long t = 0, tr = 0;
#if TB_HAVE_TOKENIZER
    if (tc->exact) {
        tb_encoded e = {0};
        tb_status st = tb_rendered_encode(tc->tok, r, &e, err);
        *total = (long)e.n;
        *trained = (long)e.n_trained;
        tb_encoded_free(&e);
        return st;
    }
#else
    (void)tc;
    (void)err;
#endif
    for (int i = 0; i < r->n_segs; i++) {
        const tb_segment *s = &r->segs[i];
        long n = s->kind == TB_SEG_EOS ? 1 : estimate(s->len);
        t += n;
        if (s->trained)
            tr += n;
    }
    *total = t + (r->add_bos ? 1 : 0);
    *trained = tr;
    return TB_OK;
}
