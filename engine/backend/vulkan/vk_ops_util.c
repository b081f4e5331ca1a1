/* tunebench — helpers shared by the vk_ops_*.c files: view checks, grids, scratch. */
#include "engine/backend/vulkan/vk_ops.h"

tb_status tb_vk_check(const char *op, const char *arg, tb_vk_view v, size_t n, tb_error *err)
{
    if (!v.buf)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, arg, "%s: buffer missing", op);
    size_t es = tb_dtype_size(v.dt);
    if (es == 0)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, arg, "%s: dtype %s is not addressable "
                            "by element", op, tb_dtype_name(v.dt));
    size_t cap = v.buf->size / es;
    /* Shaders index with 32-bit integers: the whole buffer must stay below 2^32 elements. */
    if (v.off > cap || n > cap - v.off || cap > UINT32_MAX)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, arg,
                            "%s: %zu elements at offset %zu overrun a buffer of %zu %s elements",
                            op, n, v.off, cap, tb_dtype_name(v.dt));
    return TB_OK;
}

bool tb_vk_is_float(tb_dtype t)
{
    return t == TB_DTYPE_F32 || t == TB_DTYPE_BF16 || t == TB_DTYPE_F16;
}

tb_status tb_vk_grid(tb_vk_ctx *ctx, const char *op, uint64_t groups, uint32_t *gx, uint32_t *gy,
                     tb_error *err)
{
    uint64_t maxx = ctx->info.max_groups[0] < 65535u ? ctx->info.max_groups[0] : 65535u;
    if (groups <= maxx) {
        *gx = (uint32_t)groups;
        *gy = 1;
        return TB_OK;
    }
    uint64_t y = (groups + maxx - 1) / maxx;
    if (y > ctx->info.max_groups[1])
        return tb_fail(err, TB_ERR_UNSUPPORTED, "%s: %llu workgroups exceed this device's grid",
                       op, (unsigned long long)groups);
    /* Over-launch: kernels bound-check their index, so the rounded-up tail is harmless. */
    *gx = (uint32_t)maxx;
    *gy = (uint32_t)y;
    return TB_OK;
}

tb_status tb_vk_scratch(tb_vk_ctx *ctx, int slot, size_t bytes, tb_vk_buffer **out, tb_error *err)
{
    tb_vk_buffer *b = ctx->scratch[slot];
    if (!b || b->size < bytes) {
        if (b) {
            /* Work already enqueued may still use the old one. */
            tb_status st = tb_vk_flush(ctx, err);
            if (st != TB_OK)
                return st;
            tb_vk_buffer_free(b);
            ctx->scratch[slot] = NULL;
        }
        size_t want = bytes < 4096 ? 4096 : bytes + bytes / 4;
        tb_status st = tb_vk_buffer_create(ctx, want, "scratch buffer", &ctx->scratch[slot], err);
        if (st != TB_OK)
            return st;
    }
    *out = ctx->scratch[slot];
    return TB_OK;
}
