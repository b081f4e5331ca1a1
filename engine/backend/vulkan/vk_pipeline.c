/* tunebench — compute pipelines from the embedded SPIR-V, specialised per device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend/vulkan/vk_context.h"
#include "engine/backend/vulkan/vk_shaders.h"

const tb_vk_spirv *tb_vk_spirv_find(const char *name)
{
    for (const tb_vk_spirv *s = tb_vk_spirv_table; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static tb_status set_layout(tb_vk_ctx *ctx, uint32_t nbind, tb_error *err)
{
    if (ctx->set_layouts[nbind])
        return TB_OK;
    VkDescriptorSetLayoutBinding b[TB_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < nbind; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = nbind,
        .pBindings = b,
    };
    VkResult r = ctx->fn->vkCreateDescriptorSetLayout(ctx->device, &ci, NULL, &ctx->set_layouts[nbind]);
    if (r != VK_SUCCESS) {
        ctx->set_layouts[nbind] = VK_NULL_HANDLE;
        return tb_fail(err, TB_ERR_DEVICE, "vkCreateDescriptorSetLayout failed (%s)", tb_vk_result_name(r));
    }
    return TB_OK;
}

static tb_vk_pipeline *find_cached(tb_vk_ctx *ctx, const char *name, const uint32_t *spec, uint32_t nspec)
{
    for (size_t i = 0; i < ctx->npipes; i++) {
        tb_vk_pipeline *p = ctx->pipes[i];
        if (p->nspec == nspec && strcmp(p->name, name) == 0 &&
            (nspec == 0 || memcmp(p->spec, spec, nspec * sizeof *spec) == 0))
            return p;
    }
    return NULL;
}

static tb_status create(tb_vk_ctx *ctx, const tb_vk_spirv *code, tb_vk_pipeline *p, tb_error *err)
{
    tb_vk_fns *fn = ctx->fn;
    VkPushConstantRange range = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = p->push_size};
    VkPipelineLayoutCreateInfo lci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &ctx->set_layouts[p->nbind],
        .pushConstantRangeCount = p->push_size ? 1u : 0u,
        .pPushConstantRanges = &range,
    };
    VkResult r = fn->vkCreatePipelineLayout(ctx->device, &lci, NULL, &p->layout);
    if (r != VK_SUCCESS) {
        p->layout = VK_NULL_HANDLE;
        return tb_fail(err, TB_ERR_DEVICE, "%s: vkCreatePipelineLayout failed (%s)", p->name, tb_vk_result_name(r));
    }
    VkShaderModuleCreateInfo mci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = code->size,
        .pCode = code->code,
    };
    VkShaderModule module;
    r = fn->vkCreateShaderModule(ctx->device, &mci, NULL, &module);
    if (r != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "%s: vkCreateShaderModule failed (%s)", p->name, tb_vk_result_name(r));
    VkSpecializationMapEntry entries[TB_VK_MAX_SPEC];
    for (uint32_t i = 0; i < p->nspec; i++)
        entries[i] = (VkSpecializationMapEntry){.constantID = i, .offset = i * 4, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = p->nspec,
        .pMapEntries = entries,
        .dataSize = p->nspec * 4,
        .pData = p->spec,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
            .pSpecializationInfo = p->nspec ? &si : NULL,
        },
        .layout = p->layout,
    };
    r = fn->vkCreateComputePipelines(ctx->device, VK_NULL_HANDLE, 1, &ci, NULL, &p->pipeline);
    fn->vkDestroyShaderModule(ctx->device, module, NULL);
    if (r != VK_SUCCESS) {
        p->pipeline = VK_NULL_HANDLE;
        return tb_fail(err, TB_ERR_DEVICE, "%s: vkCreateComputePipelines failed (%s)", p->name, tb_vk_result_name(r));
    }
    return TB_OK;
}

tb_status tb_vk_pipeline_get(tb_vk_ctx *ctx, const char *name, uint32_t nbind,
                             uint32_t push_size, const uint32_t *spec, uint32_t nspec,
                             tb_vk_pipeline **out, tb_error *err)
{
    *out = find_cached(ctx, name, spec, nspec);
    if (*out)
        return TB_OK;
    if (nbind == 0 || nbind > TB_VK_MAX_BINDINGS || nspec > TB_VK_MAX_SPEC || push_size > 128)
        return tb_fail(err, TB_ERR_INVALID, "%s: %u bindings, %u constants, %u push bytes: too many",
                       name, nbind, nspec, push_size);
    const tb_vk_spirv *code = tb_vk_spirv_find(name);
    if (!code)
        return tb_fail(err, TB_ERR_INVALID, "no embedded kernel called %s", name);
    tb_status st = set_layout(ctx, nbind, err);
    if (st != TB_OK)
        return st;
    if (ctx->npipes == ctx->cap_pipes) {
        size_t cap = ctx->cap_pipes ? ctx->cap_pipes * 2 : 64;
        tb_vk_pipeline **grown = realloc(ctx->pipes, cap * sizeof *grown);
        if (!grown)
            return tb_fail(err, TB_ERR_NOMEM, "out of host memory for pipelines");
        ctx->pipes = grown;
        ctx->cap_pipes = cap;
    }
    /* One allocation each, so pointers handed out stay valid as the table grows. */
    tb_vk_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return tb_fail(err, TB_ERR_NOMEM, "out of host memory for a pipeline");
    snprintf(p->name, sizeof p->name, "%s", name);
    p->nspec = nspec;
    if (nspec)
        memcpy(p->spec, spec, nspec * sizeof *spec);
    p->nbind = nbind;
    p->push_size = push_size;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = create(ctx, code, p, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* TUNEBENCH_VK_DEBUG=1: what each pipeline costs to build (the driver compiles it here). */
    const char *dbg = getenv("TUNEBENCH_VK_DEBUG");
    if (dbg && dbg[0] == '1') {
        fprintf(stderr, "tunebench vulkan: pipeline %s", name);
        for (uint32_t i = 0; i < nspec; i++)
            fprintf(stderr, "%c%u", i ? ',' : '[', spec[i]);
        fprintf(stderr, "%s built in %.1f ms\n", nspec ? "]" : "",
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    if (st != TB_OK) {
        if (p->layout)
            ctx->fn->vkDestroyPipelineLayout(ctx->device, p->layout, NULL);
        free(p);
        return st;
    }
    ctx->pipes[ctx->npipes++] = p;
    *out = p;
    return TB_OK;
}

void tb_vk_pipelines_free(tb_vk_ctx *ctx)
{
    for (size_t i = 0; i < ctx->npipes; i++) {
        ctx->fn->vkDestroyPipeline(ctx->device, ctx->pipes[i]->pipeline, NULL);
        ctx->fn->vkDestroyPipelineLayout(ctx->device, ctx->pipes[i]->layout, NULL);
        free(ctx->pipes[i]);
    }
    free(ctx->pipes);
    ctx->pipes = NULL;
    ctx->npipes = ctx->cap_pipes = 0;
    for (int i = 0; i <= TB_VK_MAX_BINDINGS; i++)
        if (ctx->set_layouts[i])
            ctx->fn->vkDestroyDescriptorSetLayout(ctx->device, ctx->set_layouts[i], NULL);
    memset(ctx->set_layouts, 0, sizeof ctx->set_layouts);
}

static bool tile_fits(const tb_vk_ctx *ctx, tb_vk_tile t)
{
    if (!t.bm || !t.bn || !t.bk || !t.tm || !t.tn || t.bm % t.tm || t.bn % t.tn)
        return false;
    uint32_t threads = (t.bm / t.tm) * (t.bn / t.tn);
    uint32_t shared = (t.bm + 4 + t.bn + 4) * t.bk * 4;   /* matmul.comp pads rows by 4 */
    return threads <= ctx->info.max_invocations && threads <= 1024 &&
           shared <= ctx->info.max_shared_bytes && t.tm * t.tn <= 64;
}

void tb_vk_choose_tiles(tb_vk_ctx *ctx)
{
    /* GPUs: 128x128 tiles with 8x8 per invocation (256 invocations, 8 KiB shared) keep
     * the FMA units fed from registers, and a 64x16 tile for rank-sized sides (LoRA). CPU
     * devices (lavapipe) run a workgroup per core: one small tile for everything, which
     * also keeps the number of pipelines (each compiled by LLVM on first use) low. */
    bool cpu = ctx->info.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
    tb_vk_tile big = cpu ? (tb_vk_tile){32, 32, 8, 4, 4} : (tb_vk_tile){128, 128, 8, 8, 8};
    tb_vk_tile skinny = cpu ? big : (tb_vk_tile){64, 16, 16, 4, 2};
    const char *env = getenv("TUNEBENCH_VK_MATMUL_TILE");
    tb_vk_tile forced;
    if (env && sscanf(env, "%ux%ux%ux%ux%u", &forced.bm, &forced.bn, &forced.bk, &forced.tm, &forced.tn) == 5 &&
        tile_fits(ctx, forced))
        big = forced;
    if (!tile_fits(ctx, big))
        big = (tb_vk_tile){64, 64, 16, 4, 4};
    if (!tile_fits(ctx, big))
        big = (tb_vk_tile){16, 16, 16, 2, 2};
    if (!tile_fits(ctx, skinny))
        skinny = (tb_vk_tile){16, 16, 16, 2, 2};
    ctx->tile_big = big;
    ctx->tile_skinny = skinny;
}
