/* tunebench — LoRA merge into a full-precision model directory (engine/lora/merge.h). */
#define _XOPEN_SOURCE 700
#include "engine/lora/merge.h"

#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/core/fs.h"
#include "engine/io/hf_model.h"
#include "engine/io/safetensors.h"
#include "engine/quant/nf4_bnb.h"

/* ------------------------------------------------------------------ names */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* bitsandbytes companions of a 4-bit weight: dropped once it is dequantized. */
static bool is_bnb_companion(const char *name)
{
    static const char *const suffixes[] = {".weight.absmax", ".weight.quant_map", ".weight.nested_absmax",
                                           ".weight.nested_quant_map", (".weight" TB_NF4_BNB_STATE_SUFFIX)};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends_with(name, suffixes[i]))
            return true;
    return false;
}

/* "model.layers.3.self_attn.q_proj.weight" -> layer 3, module q; false for other names. */
static bool parse_linear(const char *name, int64_t *layer, tb_lora_module *m)
{
    long long l;
    char block[32], proj[32];
    int used = 0;
    if (sscanf(name, "model.layers.%lld.%31[a-z_].%31[a-z_].weight%n", &l, block, proj, &used) != 3 ||
        name[used] != '\0')
        return false;
    for (int k = 0; k < TB_LORA_MODULE_COUNT; k++)
        if (strcmp(proj, tb_lora_module_name((tb_lora_module)k)) == 0 &&
            strcmp(block, tb_lora_module_block((tb_lora_module)k)) == 0) {
            *layer = l;
            *m = (tb_lora_module)k;
            return true;
        }
    return false;
}

/* Files of a model directory that are weights (replaced by model.safetensors) or rewritten. */
static bool skip_file(const char *name)
{
    static const char *const suffixes[] = {".safetensors", ".bin", ".pt", ".pth", ".gguf", ".index.json", ".tmp"};
    if (strcmp(name, "config.json") == 0 || name[0] == '.')
        return true;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends_with(name, suffixes[i]))
            return true;
    return false;
}

/* ------------------------------------------------------------------ directory helpers */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static tb_status copy_files(const char *from, const char *to, size_t *copied, tb_error *err)
{
    DIR *d = opendir(from);
    if (!d)
        return tb_error_set(err, TB_ERR_IO, from, 0, NULL, "cannot list: %s", strerror(errno));
    tb_status st = TB_OK;
    struct dirent *e;
    while (st == TB_OK && (e = readdir(d))) {
        char src[4096], dst[4096];
        struct stat sb;
        if (skip_file(e->d_name) || !tb_path_join(src, sizeof src, from, e->d_name) ||
            !tb_path_join(dst, sizeof dst, to, e->d_name) || stat(src, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        char *data;
        size_t len;
        if ((st = tb_read_file(src, &data, &len, err)) == TB_OK) {
            st = tb_atomic_write(dst, data, len, err);
            free(data);
            (*copied)++;
        }
    }
    closedir(d);
    return st;
}

static tb_status write_config(const char *model_dir, const char *dir, tb_dtype dtype, tb_error *err)
{
    char path[4096];
    tb_path_join(path, sizeof path, model_dir, "config.json");
    json_error_t je;
    json_t *cfg = json_load_file(path, 0, &je);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return tb_error_set(err, TB_ERR_FORMAT, path, je.line, NULL, "not a JSON object: %s", je.text);
    }
    json_object_del(cfg, "quantization_config");
    json_object_set_new(cfg, "torch_dtype", json_string(dtype == TB_DTYPE_BF16 ? "bfloat16" : "float32"));
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(cfg);
    if (!text)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    tb_path_join(path, sizeof path, dir, "config.json");
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps leaves room for the NUL: replace it, write n + 1 bytes */
    tb_status st = tb_atomic_write(path, text, n + 1, err);
    free(text);
    return st;
}

/* ------------------------------------------------------------------ tensors */

/* The f32 value of one base tensor (rows x cols): stored floats converted, or a 4-bit weight
 * dequantized. *out malloc'd. */
static tb_status base_f32(const tb_hf_model *hf, const tb_st_tensor *t, bool bnb, float **out, int64_t *rows,
                          int64_t *cols, tb_error *err)
{
    *out = NULL;
    if (bnb) {
        tb_nf4 w;
        tb_status st = tb_nf4_load_bnb(&w, tb_nf4_source_hf_model(hf), t->name, err);
        if (st != TB_OK)
            return st;
        *rows = w.rows, *cols = w.cols;
        *out = malloc((size_t)w.n * sizeof **out);
        if (*out)
            tb_nf4_dequant_range(&w, 0, w.n, *out);
        tb_nf4_free(&w);
        return *out ? TB_OK : tb_fail(err, TB_ERR_NOMEM, "out of memory for %s", t->name);
    }
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    *rows = t->ndim >= 2 ? t->shape[0] : 1;
    *cols = t->ndim >= 2 ? n / (t->shape[0] ? t->shape[0] : 1) : n;
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    if (!*out)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for %s", t->name);
    tb_convert_to_f32(*out, t->data, t->dtype, (size_t)n);
    return TB_OK;
}

typedef struct out_tensors {
    tb_st_write *w;
    void **owned;
    char **names;
    size_t n;
} out_tensors;

static void out_free(out_tensors *o, size_t cap)
{
    for (size_t i = 0; i < cap; i++) {
        if (o->owned)
            free(o->owned[i]);
        if (o->names)
            free(o->names[i]);
    }
    free(o->w), free(o->owned), free(o->names);
}

static tb_status build_tensors(const tb_hf_model *hf, const tb_lora_pair *pairs, size_t n_pairs, int64_t rank,
                               float scale, tb_dtype dtype, out_tensors *o, tb_lora_merge_info *info, tb_error *err)
{
    const tb_llama_config *cfg = tb_hf_model_config(hf);
    size_t cap = tb_hf_model_tensor_count(hf);
    o->w = calloc(cap ? cap : 1, sizeof *o->w);
    o->owned = calloc(cap ? cap : 1, sizeof *o->owned);
    o->names = calloc(cap ? cap : 1, sizeof *o->names);
    if (!o->w || !o->owned || !o->names)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    bool *used = calloc(n_pairs ? n_pairs : 1, sizeof *used);
    if (!used)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    tb_status st = TB_OK;
    tb_nf4_source src = tb_nf4_source_hf_model(hf);
    for (size_t i = 0; i < cap && st == TB_OK; i++) {
        const char *file;
        const tb_st_tensor *t = tb_hf_model_tensor_at(hf, i, &file);
        if (cfg->bnb_4bit && is_bnb_companion(t->name))
            continue;
        bool bnb = cfg->bnb_4bit && tb_nf4_bnb_present(src, t->name);
        bool is_float = t->dtype == TB_DTYPE_F32 || t->dtype == TB_DTYPE_BF16 || t->dtype == TB_DTYPE_F16;
        tb_st_write *w = &o->w[o->n];
        if (!(o->names[o->n] = strdup(t->name))) {
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            break;
        }
        w->name = o->names[o->n];
        if (!bnb && !is_float) { /* integer tensors (rare in Llama checkpoints) go over as they are */
            w->dtype = t->dtype, w->ndim = t->ndim, w->data = t->data;
            memcpy(w->shape, t->shape, sizeof w->shape);
            o->n++;
            continue;
        }
        float *f32;
        int64_t rows, cols;
        if ((st = base_f32(hf, t, bnb, &f32, &rows, &cols, err)) != TB_OK)
            break;
        int64_t layer;
        tb_lora_module m;
        if (parse_linear(t->name, &layer, &m))
            for (size_t k = 0; k < n_pairs; k++) {
                if (pairs[k].layer != layer || pairs[k].module != m)
                    continue;
                int64_t in, out;
                tb_lora_module_shape(cfg, m, &in, &out);
                if (rows != out || cols != in) {
                    st = tb_error_set(err, TB_ERR_INVALID, file, 0, t->name,
                                      "[%lld, %lld] does not match the adapter's [%lld, %lld]", (long long)rows,
                                      (long long)cols, (long long)out, (long long)in);
                    break;
                }
                /* W (out, in) += s * B (out, R) @ A (R, in) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, (int)rank, scale, pairs[k].b,
                            (int)rank, pairs[k].a, (int)in, 1.0f, f32, (int)in);
                used[k] = true;
                info->merged++;
            }
        info->dequantized += bnb;
        size_t count = (size_t)(rows * cols);
        void *conv = st == TB_OK ? malloc((count ? count : 1) * tb_dtype_size(dtype)) : NULL;
        if (st == TB_OK && !conv)
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory for %s", t->name);
        if (st == TB_OK) {
            tb_convert_from_f32(conv, dtype, f32, count);
            o->owned[o->n] = conv;
            w->dtype = dtype;
            w->data = conv;
            if (bnb) {
                w->ndim = 2, w->shape[0] = rows, w->shape[1] = cols;
            } else {
                w->ndim = t->ndim;
                memcpy(w->shape, t->shape, sizeof w->shape);
            }
            o->n++;
        } else {
            free(conv);
        }
        free(f32);
    }
    for (size_t k = 0; k < n_pairs && st == TB_OK; k++)
        if (!used[k])
            st = tb_fail(err, TB_ERR_INVALID, "the adapter has layer %lld %s, which the model %s does not have",
                         (long long)pairs[k].layer, tb_lora_module_name(pairs[k].module), tb_hf_model_dir(hf));
    free(used);
    return st;
}

/* ------------------------------------------------------------------ merge */

tb_status tb_lora_merge_dir(const char *model_dir, const tb_lora_pair *pairs, size_t n, int64_t rank, float scale,
                            tb_dtype out_dtype, const char *out_dir, tb_lora_merge_info *info, tb_error *err)
{
    tb_lora_merge_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    if (out_dtype != TB_DTYPE_F32 && out_dtype != TB_DTYPE_BF16)
        return tb_fail(err, TB_ERR_INVALID, "merged models are written in f32 or bf16");
    if (tb_path_exists(out_dir) && (!tb_path_is_dir(out_dir) || rmdir(out_dir) != 0))
        return tb_error_set(err, TB_ERR_INVALID, out_dir, 0, "--out",
                            "already exists: choose a new directory (the merge never writes over one)");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out_dir, (long)getpid());
    tb_hf_model *hf = NULL;
    out_tensors o = {0};
    size_t cap = 0;
    tb_status st = tb_hf_model_open(&hf, model_dir, err);
    if (st == TB_OK) {
        cap = tb_hf_model_tensor_count(hf);
        remove_tree(tmp);
        st = tb_mkdirs(tmp, err);
    }
    if (st == TB_OK)
        st = build_tensors(hf, pairs, n, rank, scale, out_dtype, &o, info, err);
    char path[4096];
    if (st == TB_OK) {
        tb_path_join(path, sizeof path, tmp, "model.safetensors");
        /* {"format": "pt"}: what transformers writes for a model too */
        st = tb_safetensors_write(path, o.w, o.n, tb_peft_adapter_meta, 1, err);
        info->tensors = o.n;
        info->bytes = tb_safetensors_file_size(o.w, o.n, tb_peft_adapter_meta, 1);
    }
    if (st == TB_OK)
        st = write_config(model_dir, tmp, out_dtype, err);
    if (st == TB_OK)
        st = copy_files(model_dir, tmp, &info->files_copied, err);
    if (st == TB_OK)
        st = tb_fsync_dir(tmp, err);
    if (st == TB_OK && rename(tmp, out_dir) != 0)
        st = tb_error_set(err, TB_ERR_IO, out_dir, 0, NULL, "cannot rename %s into place: %s", tmp, strerror(errno));
    if (st == TB_OK) {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", out_dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent)
            *slash = '\0';
        else
            snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
        st = tb_fsync_dir(parent, err);
    }
    if (st != TB_OK)
        remove_tree(tmp);
    out_free(&o, cap);
    tb_hf_model_close(hf);
    return st;
}
