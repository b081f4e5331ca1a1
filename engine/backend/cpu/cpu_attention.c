/* tunebench — CPU causal grouped-query attention, forward and backward.
 *
 * Work is split into blocks of QB query rows of one (batch, head); each block computes its
 * scores against only the keys it can see (causal), so memory is QB x Tk per thread and
 * no Tq x Tk matrix is kept. Forward saves the log-sum-exp of each score row; backward
 * recomputes the probabilities from it (the FlashAttention recipe, with sgemm tiles).
 * Head h reads kv head h / (H / Hkv), as HF's repeat_kv lays them out. Head dims that are
 * multiples of 16 (every Llama) take the AVX-512 tiles of cpu_attn512.c where the CPU has
 * them; this sgemm version serves the rest (and decoding's single rows). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "engine/backend/cpu/cpu_internal.h"

#define QB 64

typedef struct att {
    cpu_backend *cb;
    const tb_attn_dims *d;
    float *O, *L, *dQ, *dK, *dV;
    const float *Q, *K, *V, *dO, *Oc, *Lc;
    int64_t nqb, Tk;
} att;

/* Attention work of this many multiply-adds or more goes to the pool. */
#define PAR_WORK (1 << 16)

static void fwd_task(void *ctx, int64_t task, int tid)
{
    att *a = ctx;
    const tb_attn_dims *d = a->d;
    int64_t Tq = d->Tq, H = d->H, Dh = d->Dh, ldq = H * Dh, ldk = d->Hkv * Dh, group = H / d->Hkv;
    int64_t b = task / (H * a->nqb), h = task / a->nqb % H, qb = task % a->nqb;
    int64_t t0 = qb * QB, rows = Tq - t0 < QB ? Tq - t0 : QB, kend = d->pos0 + t0 + rows;
    const float *Qb = a->Q + (b * Tq + t0) * ldq + h * Dh;
    const float *Kb = a->K + b * d->kv_stride_b + (h / group) * Dh;
    const float *Vb = a->V + b * d->kv_stride_b + (h / group) * Dh;
    float *S = a->cb->tile[tid].p; /* (rows, kend) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)kend, (int)Dh, d->scale, Qb, (int)ldq, Kb,
                (int)ldk, 0.0f, S, (int)kend);
    for (int64_t i = 0; i < rows; i++) {
        float *s = S + i * kend;
        int64_t valid = d->pos0 + t0 + i + 1;
        float mx = cpu_max(s, (size_t)valid);
        float sum = cpu_exp_shift_sum(s, (size_t)valid, mx), inv = 1.0f / sum;
        for (int64_t j = 0; j < valid; j++)
            s[j] *= inv;
        memset(s + valid, 0, (size_t)(kend - valid) * sizeof(float));
        if (a->L)
            a->L[(b * H + h) * Tq + t0 + i] = mx + logf(sum);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)Dh, (int)kend, 1.0f, S, (int)kend, Vb,
                (int)ldk, 0.0f, a->O + (b * Tq + t0) * ldq + h * Dh, (int)ldq);
}

void cpu_attention_forward(tb_backend *be, tb_view out, tb_view lse, tb_view q, tb_view k, tb_view v,
                           const tb_attn_dims *d)
{
    cpu_backend *cb = cpu_of(be);
#if CPU_X86
    if (cpu_attn512_forward(cb, cpu_f32(out), tb_view_null(lse) ? NULL : cpu_f32(lse), cpu_f32(q), cpu_f32(k),
                            cpu_f32(v), d))
        return;
#endif
    int64_t Tk = d->pos0 + d->Tq;
    for (int t = 0; t < cb->threads; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)(QB * Tk)))
            return;
    att a = {.cb = cb, .d = d, .O = cpu_f32(out), .L = tb_view_null(lse) ? NULL : cpu_f32(lse), .Q = cpu_f32(q),
             .K = cpu_f32(k), .V = cpu_f32(v), .nqb = (d->Tq + QB - 1) / QB, .Tk = Tk};
    cpu_tasks(cb, Tk * d->Tq * d->Dh * d->H * d->B >= PAR_WORK, d->B * d->H * a.nqb, fwd_task, &a);
}

static void bwd_task(void *ctx, int64_t task, int tid)
{
    att *a = ctx;
    const tb_attn_dims *d = a->d;
    int64_t Tq = d->Tq, H = d->H, Hkv = d->Hkv, Dh = d->Dh, Tk = a->Tk;
    int64_t ldq = H * Dh, ldk = Hkv * Dh, group = H / Hkv;
    int64_t b = task / Hkv, kvh = task % Hkv;
    const float *Kb = a->K + b * d->kv_stride_b + kvh * Dh, *Vb = a->V + b * d->kv_stride_b + kvh * Dh;
    float *dKb = a->dK + b * d->kv_stride_b + kvh * Dh, *dVb = a->dV + b * d->kv_stride_b + kvh * Dh;
    for (int64_t j = 0; j < Tk; j++) {
        memset(dKb + j * ldk, 0, (size_t)Dh * sizeof(float));
        memset(dVb + j * ldk, 0, (size_t)Dh * sizeof(float));
    }
    float *P = a->cb->tile[tid].p, *dP = P + QB * Tk;
    for (int64_t h = kvh * group; h < (kvh + 1) * group; h++)
        for (int64_t qb = 0; qb < a->nqb; qb++) {
            int64_t t0 = qb * QB, rows = Tq - t0 < QB ? Tq - t0 : QB, kend = d->pos0 + t0 + rows;
            int64_t row0 = (b * Tq + t0) * ldq + h * Dh;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)kend, (int)Dh, d->scale, a->Q + row0,
                        (int)ldq, Kb, (int)ldk, 0.0f, P, (int)kend);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)kend, (int)Dh, 1.0f, a->dO + row0,
                        (int)ldq, Vb, (int)ldk, 0.0f, dP, (int)kend);
            for (int64_t i = 0; i < rows; i++) {
                float *p = P + i * kend, *dp = dP + i * kend;
                int64_t valid = d->pos0 + t0 + i + 1;
                float l = a->Lc[(b * H + h) * Tq + t0 + i];
                float di = cpu_dot(a->dO + row0 + i * ldq, a->Oc + row0 + i * ldq, TB_DTYPE_F32, (size_t)Dh);
                cpu_exp_shift_sum(p, (size_t)valid, l); /* p = exp(s - lse): the probabilities */
                for (int64_t j = 0; j < valid; j++)
                    dp[j] = p[j] * (dp[j] - di);
                memset(p + valid, 0, (size_t)(kend - valid) * sizeof(float));
                memset(dp + valid, 0, (size_t)(kend - valid) * sizeof(float));
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)Dh, (int)kend, d->scale, dP,
                        (int)kend, Kb, (int)ldk, 0.0f, a->dQ + row0, (int)ldq);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kend, (int)Dh, (int)rows, d->scale, dP,
                        (int)kend, a->Q + row0, (int)ldq, 1.0f, dKb, (int)ldk);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kend, (int)Dh, (int)rows, 1.0f, P, (int)kend,
                        a->dO + row0, (int)ldq, 1.0f, dVb, (int)ldk);
        }
}

/* dS = P * (dP - rowsum(dO * O)); dQ = scale dS K; dK += scale dS^T Q; dV += P^T dO.
 * One task per (batch, kv head): the heads sharing a kv head run in the same task, so
 * their dK/dV sums never race. */
void cpu_attention_backward(tb_backend *be, tb_view dq, tb_view dk, tb_view dv, tb_view dout, tb_view q,
                            tb_view k, tb_view v, tb_view out, tb_view lse, const tb_attn_dims *d)
{
    cpu_backend *cb = cpu_of(be);
#if CPU_X86
    if (cpu_attn512_backward(cb, cpu_f32(dq), cpu_f32(dk), cpu_f32(dv), cpu_f32(dout), cpu_f32(q), cpu_f32(k),
                             cpu_f32(v), cpu_f32(out), cpu_f32(lse), d))
        return;
#endif
    int64_t Tk = d->pos0 + d->Tq;
    for (int t = 0; t < cb->threads; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)(2 * QB * Tk)))
            return;
    att a = {.cb = cb, .d = d, .dQ = cpu_f32(dq), .dK = cpu_f32(dk), .dV = cpu_f32(dv), .dO = cpu_f32(dout),
             .Q = cpu_f32(q), .K = cpu_f32(k), .V = cpu_f32(v), .Oc = cpu_f32(out), .Lc = cpu_f32(lse),
             .nqb = (d->Tq + QB - 1) / QB, .Tk = Tk};
    cpu_tasks(cb, Tk * d->Tq * d->Dh * d->H * d->B >= PAR_WORK, d->B * d->Hkv, bwd_task, &a);
}
