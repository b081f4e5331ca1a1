/* tunebench — text generation with a KV cache: sampling (greedy, temperature, top-k,
 * top-p, repetition penalty; seeded) and the decode loop streaming tokens to a callback.
 *
 * Sampling follows transformers' logits processors in their order: repetition penalty
 * (over prompt + generated ids), temperature, top-k, top-p, then a draw from the softmax.
 * temperature 0 is greedy (argmax after the repetition penalty). */
#ifndef TB_MODEL_GENERATE_H
#define TB_MODEL_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/model/llama.h"

typedef struct tb_sampler_opts {
    float temperature;          /* 0: greedy */
    int top_k;                  /* 0: off */
    float top_p;                /* 1: off; keep the smallest set of tokens with probability >= top_p */
    float repetition_penalty;   /* 1: off; HF: seen tokens' logits / p when > 0, * p when < 0 */
    uint64_t seed;
} tb_sampler_opts;

typedef struct tb_sampler {
    tb_sampler_opts o;
    tb_rng rng;                 /* seeded from o.seed */
    int64_t V;
    float *work;                /* (V) scratch */
    int32_t *order;             /* (V) scratch */
    uint8_t *seen;              /* (V) ids seen so far (repetition penalty) */
} tb_sampler;

tb_status tb_sampler_init(tb_sampler *s, const tb_sampler_opts *o, int64_t V, tb_error *err);
void tb_sampler_free(tb_sampler *s);
/* Mark ids as seen (the prompt, then each generated token: tb_sampler_next does it). */
void tb_sampler_observe(tb_sampler *s, const int32_t *ids, size_t n);
/* Pick the next token from logits (V) (not modified). */
int32_t tb_sampler_next(tb_sampler *s, const float *logits);

/* Streaming: called with each new token as soon as it is chosen. Return false to stop. */
typedef bool (*tb_token_fn)(void *ctx, int32_t token);

/* Detokenizer for stop strings: the text of ids (malloc'd, caller frees); NULL on failure. */
typedef char *(*tb_decode_fn)(void *ctx, const int32_t *ids, size_t n);

typedef struct tb_generate_opts {
    tb_sampler_opts sampler;
    int64_t max_new;             /* tokens to generate at most */
    const int32_t *eos;          /* stop tokens (not passed to on_token) */
    int n_eos;
    const char *const *stop;     /* stop strings: generation ends once the text ends with one */
    int n_stop;
    tb_decode_fn decode;         /* needed for stop strings */
    void *decode_ctx;
    tb_token_fn on_token;        /* may be NULL */
    void *token_ctx;
} tb_generate_opts;

typedef enum tb_stop_reason {
    TB_STOP_LENGTH = 0,          /* max_new reached */
    TB_STOP_EOS,
    TB_STOP_STRING,
    TB_STOP_CALLBACK,
} tb_stop_reason;

typedef struct tb_generate_result {
    int32_t *ids;                /* (n) generated ids, malloc'd; caller frees */
    int64_t n;
    tb_stop_reason reason;
    double prefill_s, decode_s;  /* wall time of the prompt pass and of the decode steps */
} tb_generate_result;

/* Generate after prompt (n_prompt >= 1 ids), batch 1. */
tb_status tb_llama_generate(tb_llama *m, const int32_t *prompt, int64_t n_prompt, const tb_generate_opts *o,
                            tb_generate_result *res, tb_error *err);

#endif
