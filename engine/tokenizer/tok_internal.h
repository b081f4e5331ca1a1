/* tunebench — tokenizer internals shared by the files of engine/tokenizer/ (not public).
 *
 * The pipeline mirrors Hugging Face `tokenizers` (tokenizer/mod.rs encode_single_sequence):
 *   raw text → (invalid UTF-8 replaced by U+FFFD) → split off non-normalized added tokens →
 *   normalize each remaining segment → split off normalized added tokens → pre-tokenize into
 *   pieces → BPE each piece → post-processor template (add_special) → ids.
 *
 * Byte-level models (a ByteLevel pre-tokenizer) work on raw bytes: the vocabulary is indexed
 * by the bytes a token stands for, not by its "Ġ"-alphabet spelling, so pieces are spans of
 * the input and need no remapping. SentencePiece-style models index by the spelling. */
#ifndef TB_TOK_INTERNAL_H
#define TB_TOK_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"
#include "engine/tokenizer/tokenizer.h"

/* ---- growable buffers -------------------------------------------------------------- */

typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
} tok_ids;

typedef struct tok_buf {
    char *p;
    size_t n, cap;
} tok_buf;

/* Make room for need elements of elem bytes in *p (capacity *cap, doubled as needed). */
bool tok_grow(void **p, size_t *cap, size_t need, size_t elem);
bool tok_ids_push(tok_ids *a, int32_t id);
bool tok_ids_append(tok_ids *a, const int32_t *ids, size_t n);
bool tok_buf_append(tok_buf *b, const void *data, size_t n);

/* Block arena: pointers stay valid until tok_arena_free (blocks never move). */
typedef struct tok_arena_block tok_arena_block;
typedef struct tok_arena {
    tok_arena_block *head;
} tok_arena;
char *tok_arena_alloc(tok_arena *a, size_t n);
void tok_arena_free(tok_arena *a);

/* ---- bytes and UTF-8 --------------------------------------------------------------- */

typedef struct tok_str {
    char *p;      /* NUL-terminated, owned by the tokenizer's string pool */
    uint32_t n;   /* bytes without the NUL */
} tok_str;

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid / truncated. */
int tok_utf8_len(const unsigned char *s, size_t avail);
/* Code point of the valid sequence at s (len from tok_utf8_len). */
uint32_t tok_utf8_decode(const unsigned char *s, int len);
int tok_utf8_encode(uint32_t cp, char out[4]);
/* When s is valid UTF-8, returns false. Otherwise writes a copy to *out (malloc'd) with each
 * maximal invalid subsequence replaced by U+FFFD, as Rust's from_utf8_lossy and the WHATWG
 * decoder do, and returns true. */
bool tok_utf8_sanitize(const char *s, size_t n, char **out, size_t *out_n);

/* Unicode White_Space (Rust char::is_whitespace, regex \s) and regex \w (letters, marks,
 * decimal digits, connector punctuation). */
bool tok_is_space(uint32_t cp);
bool tok_is_word(uint32_t cp);
/* Code point of the last char of s[0..n) (n > 0, valid UTF-8). */
uint32_t tok_utf8_last(const char *s, size_t n);

/* GPT-2 byte-level alphabet (FORMATS.md): byte → code point, and code point → byte (-1). */
uint32_t tok_bytelevel_cp(unsigned char b);
int tok_bytelevel_byte(uint32_t cp);
/* Decode a byte-level spelling into raw bytes; false when a char is outside the alphabet. */
bool tok_bytelevel_to_raw(const char *s, size_t n, tok_buf *out);

/* ---- hash maps --------------------------------------------------------------------- */

/* String → id. Keys live in an external per-id table (keys[id]); the map stores the hash
 * and the id. */
typedef struct tok_strmap {
    uint64_t *slots; /* (hash32 << 32) | (id + 1); 0 = empty */
    size_t mask;
    size_t count;
} tok_strmap;

bool tok_strmap_init(tok_strmap *m, size_t expected);
void tok_strmap_free(tok_strmap *m);
int32_t tok_strmap_get(const tok_strmap *m, const tok_str *keys, const char *s, size_t n);
/* Insert keys[id]; an existing equal key is re-pointed at id (last wins, as a Rust HashMap
 * collect). */
bool tok_strmap_put(tok_strmap *m, const tok_str *keys, int32_t id);

/* (left id, right id) → (rank, merged id). */
typedef struct tok_merge_entry {
    uint64_t key; /* (a << 32) | b, UINT64_MAX = empty */
    uint32_t rank;
    int32_t new_id;
} tok_merge_entry;

typedef struct tok_mergemap {
    tok_merge_entry *slots;
    size_t mask;
    size_t count;
} tok_mergemap;

bool tok_mergemap_init(tok_mergemap *m, size_t expected);
void tok_mergemap_free(tok_mergemap *m);
const tok_merge_entry *tok_mergemap_get(const tok_mergemap *m, int32_t a, int32_t b);
bool tok_mergemap_put(tok_mergemap *m, int32_t a, int32_t b, uint32_t rank, int32_t new_id);

/* ---- pipeline steps ---------------------------------------------------------------- */

typedef enum tok_norm_kind {
    TOK_NORM_NFC, TOK_NORM_NFD, TOK_NORM_NFKC, TOK_NORM_NFKD,
    TOK_NORM_PREPEND, TOK_NORM_REPLACE, TOK_NORM_LOWERCASE, TOK_NORM_STRIP,
} tok_norm_kind;

typedef struct tok_norm {
    tok_norm_kind kind;
    char *a;            /* PREPEND: text; REPLACE: literal pattern (when re is NULL) */
    size_t a_len;
    char *b;            /* REPLACE: replacement */
    size_t b_len;
    pcre2_code *re;     /* REPLACE with a Regex pattern */
    bool left, right;   /* STRIP */
} tok_norm;

typedef enum tok_split_behavior {
    TOK_SPLIT_REMOVED, TOK_SPLIT_ISOLATED, TOK_SPLIT_MERGED_PREV, TOK_SPLIT_MERGED_NEXT,
    TOK_SPLIT_CONTIGUOUS,
} tok_split_behavior;

typedef enum tok_pre_kind {
    TOK_PRE_SPLIT,     /* regex or literal; also Digits (\p{N}) */
    TOK_PRE_BYTELEVEL, /* optional prefix space + GPT-2 regex split; bytes stay raw */
    TOK_PRE_METASPACE,
} tok_pre_kind;

typedef enum tok_prepend {
    TOK_PREPEND_ALWAYS, TOK_PREPEND_FIRST, TOK_PREPEND_NEVER,
} tok_prepend;

typedef struct tok_pre {
    tok_pre_kind kind;
    pcre2_code *re;              /* SPLIT, BYTELEVEL with use_regex (NULL when not) */
    tok_split_behavior behavior; /* SPLIT */
    bool invert;                 /* SPLIT */
    bool add_prefix_space;       /* BYTELEVEL */
    char repl[5];                /* METASPACE replacement char (UTF-8) */
    int repl_len;
    tok_prepend prepend;         /* METASPACE */
    bool split;                  /* METASPACE */
} tok_pre;

typedef enum tok_dec_kind {
    TOK_DEC_BYTELEVEL, TOK_DEC_METASPACE, TOK_DEC_REPLACE, TOK_DEC_BYTEFALLBACK,
    TOK_DEC_FUSE, TOK_DEC_STRIP,
} tok_dec_kind;

typedef struct tok_dec {
    tok_dec_kind kind;
    char *a;            /* REPLACE: literal pattern; STRIP/METASPACE: the char */
    size_t a_len;
    char *b;            /* REPLACE: replacement */
    size_t b_len;
    pcre2_code *re;     /* REPLACE with a Regex pattern */
    int start, stop;    /* STRIP counts */
    tok_prepend prepend;/* METASPACE */
} tok_dec;

/* ---- added tokens ------------------------------------------------------------------ */

typedef struct tok_added {
    int32_t id;
    char *content;
    uint32_t len;
    bool special, normalized, lstrip, rstrip, single_word;
} tok_added;

/* Byte trie over added-token contents for leftmost-longest matching (HF uses Aho-Corasick
 * in LeftmostLongest mode; walking a trie from each start position gives the same matches). */
typedef struct tok_trie_node {
    int32_t first_child; /* index into nodes, -1 none */
    int32_t next_sibling;
    int32_t added;       /* index into tok->added ending here, -1 none */
    unsigned char byte;
} tok_trie_node;

typedef struct tok_trie {
    tok_trie_node *nodes;
    size_t n, cap;
    uint8_t first_byte[32]; /* bitmap of bytes that start some token: a fast skip */
} tok_trie;

bool tok_trie_insert(tok_trie *t, const char *s, size_t n, int32_t added_index);
void tok_trie_free(tok_trie *t);

/* A split of a string into added-token matches and plain text. */
typedef struct tok_seg {
    size_t start, end;
    int32_t id; /* added token id, -1 = plain text */
} tok_seg;

typedef struct tok_segs {
    tok_seg *v;
    size_t n, cap;
} tok_segs;

/* Appends the splits of s[0..n) to out (covering all of s; no empty plain segments). */
bool tok_added_split(const tb_tokenizer *tok, const tok_trie *trie, const char *s, size_t n,
                     tok_segs *out);

/* ---- BPE cache (lock-free reads, locked inserts, never evicts: HF stops at capacity) ---- */

typedef struct tok_cache_slot {
    _Atomic uint64_t tag;  /* 0 = empty; else hash | 1, published last */
    uint32_t key_off, key_len;
    uint32_t ids_off, n_ids;
} tok_cache_slot;

typedef struct tok_cache {
    tok_cache_slot *slots;
    size_t mask;
    char *keys;        /* key bytes arena */
    size_t keys_cap, keys_used;
    int32_t *ids;      /* id arena */
    size_t ids_cap, ids_used;
    size_t count;
    pthread_mutex_t lock;
    _Atomic bool full;     /* read without the lock: a stale false only costs a lock */
} tok_cache;

bool tok_cache_init(tok_cache *c);
void tok_cache_free(tok_cache *c);
/* Returns the cached ids of key (and *n), or NULL on a miss. */
const int32_t *tok_cache_get(tok_cache *c, const char *key, size_t len, uint32_t *n);
void tok_cache_put(tok_cache *c, const char *key, size_t len, const int32_t *ids, uint32_t n);

/* ---- the tokenizer ----------------------------------------------------------------- */

struct tb_tokenizer {
    char path[512];            /* for error messages */

    int32_t n_ids;             /* max id + 1 (vocab and added tokens) */
    tok_str *str;              /* id → token string as written in the file (NULL p: hole) */
    tok_str *raw;              /* id → bytes the token stands for (byte-level); == str otherwise */
    uint8_t *flags;            /* id → TOK_ID_* */
    tok_strmap str_map;        /* spelling → id: model vocab and added tokens */
    tok_strmap raw_map;        /* raw bytes → id: model vocab only (what BPE may produce) */
    tok_mergemap merges;

    bool byte_level;           /* a ByteLevel pre-tokenizer: pieces are raw bytes */
    /* SentencePiece-style models: when no token has this char (▁) after a different char,
     * no merge can join across "x▁", so a long piece is cut there and the parts cached. */
    char sp_split[5];
    int sp_split_len;
    bool byte_fallback, ignore_merges, fuse_unk;
    int32_t unk_id;            /* -1 none */
    /* Byte-level: the initial symbols of byte b: up to 4 ids (byte fallback can spell one
     * alphabet char as several <0xXX>), count 0 = unknown. */
    int32_t byte_syms[256][4];
    uint8_t byte_nsyms[256];
    bool byte_fb[256];         /* byte_syms[b] came from byte fallback */
    int32_t fallback_id[256];  /* <0xXX> ids, -1 when absent */

    tok_added *added;
    size_t n_added;
    tok_trie trie_raw;         /* added tokens matched before normalization */
    tok_trie trie_norm;        /* normalized added tokens, matched after */
    bool has_norm_added;

    tok_norm *norms;
    size_t n_norms;
    tok_pre *pres;
    size_t n_pres;
    tok_dec *decs;
    size_t n_decs;
    bool has_decoder;

    int32_t *post_prefix;      /* add_special: ids before the sequence */
    size_t n_post_prefix;
    int32_t *post_suffix;      /* and after it */
    size_t n_post_suffix;

    int32_t bos, eos, pad;

    tok_cache *cache;          /* a pointer: encode takes a const tokenizer, the cache mutates */
    tok_arena pool;            /* token strings */
};

enum {
    TOK_ID_SPECIAL = 1,  /* an added token with special: true */
    TOK_ID_ADDED = 2,    /* any added token */
    TOK_ID_VOCAB = 4,    /* in model.vocab: merges and BPE may use it */
};

/* tok_load.c */
tb_status tok_load_json(tb_tokenizer *tok, const char *json_text, size_t len, tb_error *err);
/* tok_pipeline_load.c: the four pipeline sections of tokenizer.json (a json_t object). */
struct json_t;
tb_status tok_pipeline_load(tb_tokenizer *tok, struct json_t *root, tb_error *err);
pcre2_code *tok_regex_compile(const tb_tokenizer *tok, const char *pattern, size_t len, bool literal,
                              const char *field, tb_error *err);
void tok_pipeline_free(tb_tokenizer *tok);
/* tok_normalize.c: normalize s (n bytes) into out (cleared first). */
bool tok_normalize(const tb_tokenizer *tok, const char *s, size_t n, tok_buf *out);
/* tok_pretok.c: pieces of a segment, each given to emit(). at_start: the segment begins at
 * offset 0 of the original text (Metaspace prepend_scheme "first"). */
typedef bool (*tok_piece_fn)(void *ctx, const char *s, size_t n);
bool tok_pretokenize(const tb_tokenizer *tok, const char *s, size_t n, bool at_start, tok_piece_fn emit,
                     void *ctx);
/* tok_bpe.c: append the ids of one piece to out. */
bool tok_bpe_piece(const tb_tokenizer *tok, const char *s, size_t n, tok_ids *out);
/* Runs BPE merges on syms (in place) and returns the new count. */
size_t tok_bpe_merge(const tok_mergemap *merges, int32_t *syms, size_t n);

#endif
