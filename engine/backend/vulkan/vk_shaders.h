/* tunebench — the SPIR-V of every kernel variant, embedded at build time.
 *
 * shaders/meson.build compiles each kernel variant of shaders/ with glslc and shaders/embed.sh
 * writes the table; nothing is read from disk at run time. */
#ifndef TB_VK_SHADERS_H
#define TB_VK_SHADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tb_vk_spirv {
    const char *name;       /* "matmul_nt_bf16" */
    const uint32_t *code;
    size_t size;            /* bytes */
} tb_vk_spirv;

/* Terminated by a zeroed entry. */
extern const tb_vk_spirv tb_vk_spirv_table[];

/* The variant called name, or NULL. */
const tb_vk_spirv *tb_vk_spirv_find(const char *name);

#endif
