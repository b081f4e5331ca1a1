/* tunebench — plain-C reference backend: the Vulkan suites' oracle until engine/backend/cpu
 * lands (see ref_backend.c). */
#ifndef TB_TESTS_REF_BACKEND_H
#define TB_TESTS_REF_BACKEND_H

#include "engine/backend/backend.h"

tb_backend *ref_backend_create(const tb_backend_options *opt);

#endif
