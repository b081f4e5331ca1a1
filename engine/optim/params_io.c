/* tunebench — parameter sets to and from safetensors files (checkpoints). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/io/safetensors.h"
#include "engine/optim/params.h"

tb_status tb_param_set_save(const tb_param_set *s, const float *host, const char *path, const char *prefix,
                            tb_error *err)
{
    tb_st_write *w = calloc(s->n ? s->n : 1, sizeof *w);
    char *names = malloc((s->n ? s->n : 1) * 256);
    tb_status st = TB_OK;
    if (!w || !names) {
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s->n; i++) {
        const tb_param *p = &s->p[i];
        char *nm = names + i * 256;
        snprintf(nm, 256, "%s%s", prefix, p->name);
        w[i] = (tb_st_write){nm, TB_DTYPE_F32, p->ndim, {p->shape[0], p->shape[1]}, host + p->off};
    }
    const char *meta[] = {"format", "pt"};
    st = tb_safetensors_write(path, w, s->n, meta, 1, err);
done:
    free(w);
    free(names);
    return st;
}

tb_status tb_param_set_load(const tb_param_set *s, tb_buf *dst, const char *path, const char *prefix, tb_error *err)
{
    tb_safetensors *f;
    tb_status st = tb_safetensors_open(&f, path, err);
    if (st != TB_OK)
        return st;
    float *host = calloc(s->total, sizeof *host);
    if (!host) {
        tb_safetensors_close(f);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->n && st == TB_OK; i++) {
        const tb_param *p = &s->p[i];
        char nm[256];
        snprintf(nm, sizeof nm, "%s%s", prefix, p->name);
        const tb_st_tensor *t = tb_safetensors_find(f, nm);
        int64_t n = 1;
        for (int d = 0; t && d < t->ndim; d++)
            n *= t->shape[d];
        if (!t)
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, nm, "missing");
        else if (n != (int64_t)p->n ||
                 (t->dtype != TB_DTYPE_F32 && t->dtype != TB_DTYPE_BF16 && t->dtype != TB_DTYPE_F16))
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, nm, "%lld elements of %s, expected %zu floats",
                              (long long)n, tb_dtype_name(t->dtype), p->n);
        else
            tb_convert_to_f32(host + p->off, t->data, t->dtype, p->n);
    }
    if (st == TB_OK) {
        s->be->ops->upload(s->be, tb_view_of(dst), host, s->total);
        st = s->be->ops->sync(s->be, err);
    }
    free(host);
    tb_safetensors_close(f);
    return st;
}
