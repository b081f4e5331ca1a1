/* Test helper: a model's logits for a batch of token ids. */
#include "model_logits.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

float *model_logits(tb_llama *m, const int32_t *ids, int64_t B, int64_t T, bool save)
{
    tb_llama_acts a;
    tb_error err;
    int64_t V = m->cfg.vocab_size;
    assert_int_equal(tb_llama_acts_init(&a, m, B, T, save ? TB_ACTS_SAVE : TB_ACTS_INFERENCE, B * T, &err), TB_OK);
    assert_int_equal(tb_llama_forward(m, &a, ids, B, T, NULL, &err), TB_OK);
    tb_llama_logits(m, &a, 0, B * T);
    float *out = malloc((size_t)(B * T * V) * sizeof *out);
    assert_non_null(out);
    assert_int_equal(m->be->ops->download(m->be, out, a.logits, (size_t)(B * T * V), &err), TB_OK);
    tb_llama_acts_free(&a);
    return out;
}
