/* tunebench test tool — compare two safetensors files tensor by tensor.
 *
 *   st_diff GOT REF [TOL]   every tensor of GOT against REF's tensor of the same name:
 *                           max |diff| / max |ref| per tensor; prints the worst; exit 0
 *                           when every one is below TOL (default 1e-4), 1 otherwise, 2 on
 *                           unusable input (missing tensor, shape mismatch, not F32). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/io/safetensors.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: st_diff GOT REF [TOL]\n");
        return 2;
    }
    double tol = argc > 3 ? atof(argv[3]) : 1e-4, worst = 0;
    tb_safetensors *a, *b;
    tb_error err;
    if (tb_safetensors_open(&a, argv[1], &err) != TB_OK || tb_safetensors_open(&b, argv[2], &err) != TB_OK) {
        fprintf(stderr, "st_diff: %s: %s\n", err.file, err.message);
        return 2;
    }
    const char *worst_name = "";
    for (size_t i = 0; i < tb_safetensors_count(a); i++) {
        const tb_st_tensor *t = tb_safetensors_at(a, i), *r = tb_safetensors_find(b, t->name);
        if (!r || r->end - r->begin != t->end - t->begin || t->dtype != TB_DTYPE_F32 || r->dtype != TB_DTYPE_F32) {
            fprintf(stderr, "st_diff: %s: missing in %s or not the same F32 shape\n", t->name, argv[2]);
            return 2;
        }
        size_t n = (t->end - t->begin) / 4;
        const float *x = t->data, *y = r->data;
        double scale = 0, d = 0;
        for (size_t k = 0; k < n; k++)
            scale = fmax(scale, fabs((double)y[k]));
        for (size_t k = 0; k < n; k++)
            d = isnan(x[k]) ? INFINITY : fmax(d, fabs((double)x[k] - (double)y[k]));
        d /= scale > 0 ? scale : 1;
        if (d >= worst)
            worst = d, worst_name = t->name;
    }
    printf("%zu tensors, worst relative error %.3g (%s)\n", tb_safetensors_count(a), worst, worst_name);
    tb_safetensors_close(a);
    tb_safetensors_close(b);
    return worst < tol ? 0 : 1;
}
