/* tunebench — the CPU backend: OpenBLAS sgemm (weights widened per tile), oneDNN bf16
 * matmul where available, OpenMP threads for everything else. The reference backend. */
#ifndef TB_BACKEND_CPU_H
#define TB_BACKEND_CPU_H

#include "engine/backend/backend.h"

tb_status tb_cpu_backend_create(tb_backend **out, const tb_backend_options *opt, tb_error *err);

#endif
