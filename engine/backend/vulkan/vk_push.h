/* tunebench — the C twins of the kernels' push-constant blocks.
 *
 * Both sides expand the same field lists (shaders/push.h); the size asserts catch a list
 * that outgrows its stated size or Vulkan's guaranteed 128 bytes. */
#ifndef TB_VK_PUSH_H
#define TB_VK_PUSH_H

#include <stdint.h>

#include "shaders/push.h"

#define TB_PC_CTYPE_U32 uint32_t
#define TB_PC_CTYPE_I32 int32_t
#define TB_PC_CTYPE_F32 float
#define TB_PC_CFIELD(t, name) TB_PC_CTYPE_##t name;

#define TB_PC_STRUCT(tag, list, size)                                        \
    typedef struct tag { list(TB_PC_CFIELD) } tag;                           \
    _Static_assert(sizeof(tag) == (size), #tag " size differs from push.h"); \
    _Static_assert((size) <= 128, #tag " exceeds Vulkan's 128 push-constant bytes")

TB_PC_STRUCT(tb_pc_matmul, TB_PC_MATMUL, TB_PC_MATMUL_SIZE);
TB_PC_STRUCT(tb_pc_ew, TB_PC_EW, TB_PC_EW_SIZE);
TB_PC_STRUCT(tb_pc_rows, TB_PC_ROWS, TB_PC_ROWS_SIZE);
TB_PC_STRUCT(tb_pc_rope, TB_PC_ROPE, TB_PC_ROPE_SIZE);
TB_PC_STRUCT(tb_pc_attn, TB_PC_ATTN, TB_PC_ATTN_SIZE);
TB_PC_STRUCT(tb_pc_reduce, TB_PC_REDUCE, TB_PC_REDUCE_SIZE);
TB_PC_STRUCT(tb_pc_adamw, TB_PC_ADAMW, TB_PC_ADAMW_SIZE);

#endif
