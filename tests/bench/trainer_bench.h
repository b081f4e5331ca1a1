/* tunebench — the real trainer (engine/train tb_trainer, what `tunebench train` runs) timed
 * on a random model of a given shape: packed plain text drawn from a fixed seed, tokenized
 * by a small tokenizer (its ids are a subset of the model's vocabulary: the work per step
 * depends on the model's V, not on which ids occur), every position trained, batch B of T
 * positions per optimizer step, no eval, no checkpoints. tokens/s is the trainer's own
 * metric (real tokens per second between logs, one log per step), median after warm-up. */
#ifndef TB_BENCH_TRAINER_BENCH_H
#define TB_BENCH_TRAINER_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/core/dtype.h"
#include "engine/quant/quant.h"

typedef struct trainer_shape {
    const char *tag;          /* "demo", "smol", ... (names the RESULT line) */
    int64_t D, L, H, Hkv, F, V, T, B, R;
    const char *targets;      /* "q,k,v,o" or "all-linear" */
    tb_dtype dtype;           /* stored base weights F32 or BF16 */
    tb_quant_mode quant;      /* QLoRA: the linears quantized at load */
} trainer_shape;

typedef struct trainer_result {
    double tokens_per_s, min_tps, max_tps; /* median, min, max over the timed steps */
    double loss_first, loss_last;
    double host_peak_mib, device_peak_mib; /* accounting allocator peaks */
    int steps;                             /* timed */
} trainer_result;

/* Run warmup + steps optimizer steps of `s` on backend `backend` ("cpu", "vulkan") with
 * opt's threads, precision and device; tokenizer: a tokenizer.json (or a directory holding
 * one) with at most V tokens and an EOS. Prints a "RESULT trainer ..." line. 0 on success. */
int trainer_bench_run(const trainer_shape *s, const char *backend, const tb_backend_options *opt,
                      const char *tokenizer, int warmup, int steps, trainer_result *out);

#endif
