/* tunebench — the training data pipeline: dataset rows → prompt template → tokenizer →
 * token ids + loss mask → length-grouped batches padded to the batch's longest example.
 *
 * An example of n tokens trains n - 1 positions: inputs ids[0 .. n-2], target t is
 * ids[t + 1] when that token is trained (the response, by default) and -1 (masked)
 * otherwise, which is Hugging Face's causal-LM shift with labels = -100 on the prompt.
 * Everything is deterministic for a seed: the eval split, each epoch's order. */
#ifndef TB_TRAIN_DATA_H
#define TB_TRAIN_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "datasets/row.h"
#include "datasets/template.h"
#include "engine/core/error.h"
#include "engine/tokenizer/tokenizer.h"

/* Tokenized examples, back to back. */
typedef struct tb_token_set {
    int32_t *ids;          /* (tokens) */
    uint8_t *trained;      /* (tokens) 1: the loss counts the token as a target */
    int64_t tokens, cap_tokens;
    int64_t *start;        /* (n + 1) first token of example i; start[n] = tokens */
    int64_t *targets;      /* (n) trained targets of example i */
    long *line;            /* (n) line of the source row; 0 for packed blocks */
    int64_t n, cap;
} tb_token_set;

static inline int64_t tb_token_set_len(const tb_token_set *s, int64_t i) { return s->start[i + 1] - s->start[i]; }

typedef struct tb_data_stats {
    long rows;                  /* records read (training file; plus eval file) */
    long skipped;               /* rows that cannot make an example (unparseable, no response, ...) */
    char first_skip[512];       /* why the first was skipped: "file:line: message" */
    long truncated;             /* examples cut at max_len */
    int64_t truncated_targets;  /* trained targets the cuts removed */
    long dropped;               /* examples left with nothing to train after the cut */
    int64_t longest;            /* tokens of the longest example before cutting */
    int64_t tokens, targets;    /* training set */
    int64_t eval_tokens, eval_targets;
    long missing_eos;           /* EOS segments the tokenizer had no id for */
} tb_data_stats;

typedef struct tb_data_opts {
    const char *path;               /* training file */
    const char *eval_path;          /* NULL: eval_split of the training examples (or no eval) */
    tb_dataset_format format;       /* AUTO: sniffed */
    const tb_field_map *map;        /* NULL: canonical field names */
    tb_template_kind template_kind; /* AUTO: by row shape */
    bool train_on_inputs;           /* train the prompt tokens too */
    int64_t max_len;                /* tokens per example at most (>= 2) */
    double eval_split;              /* fraction held out, [0, 0.5] */
    uint64_t seed;
    bool packed;                    /* plain text: documents (blank-line separated) + EOS, packed
                                       into blocks of max_len tokens, every token trained */
} tb_data_opts;

typedef struct tb_train_data {
    tb_token_set train, eval;
    tb_data_stats stats;
} tb_train_data;

/* Load, render, tokenize, cut and split. Refuses (TB_ERR_INVALID, naming the cause) when no
 * token would be trained. d is filled also on failure (free with tb_train_data_free). */
tb_status tb_train_data_load(tb_train_data *d, const tb_data_opts *o, const tb_tokenizer *tok, tb_error *err);
void tb_train_data_free(tb_train_data *d);

/* One line for people: rows, examples, tokens, what was cut or skipped. */
void tb_data_stats_format(const tb_data_stats *s, char *buf, size_t size);

/* ------------------------------------------------------------------ batches */

/* One epoch's order: example indices cut into batches of `batch`. */
typedef struct tb_batch_plan {
    int64_t *idx;          /* (n) */
    int64_t n, batch;
} tb_batch_plan;

/* shuffle: a seeded permutation for (seed, epoch) (else the set's order); group_by_length:
 * Hugging Face's LengthGroupedSampler (megabatches of 50 batches sorted by length, longest
 * batch first) so padding stays small. Without shuffle, grouping sorts the whole set. */
tb_status tb_batch_plan_make(tb_batch_plan *p, const tb_token_set *s, int64_t batch, uint64_t seed, int64_t epoch,
                             bool shuffle, bool group_by_length, tb_error *err);
void tb_batch_plan_free(tb_batch_plan *p);
static inline int64_t tb_batch_count(const tb_batch_plan *p) { return p->batch > 0 ? (p->n + p->batch - 1) / p->batch : 0; }

/* Batch b into host ids (rows, T) and targets (rows, T), rows <= batch, T = the batch's
 * longest example minus one, capacity cap_T (longer examples were cut at load). Padding:
 * pad_id inputs, -1 targets. *ntargets: unmasked targets. */
void tb_batch_fill(const tb_token_set *s, const tb_batch_plan *p, int64_t b, int32_t pad_id, int32_t *ids,
                   int32_t *targets, int64_t *rows, int64_t *T, int64_t *ntargets);

#endif
