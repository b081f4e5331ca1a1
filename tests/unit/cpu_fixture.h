/* Test helper: one 2-thread f32 CPU backend per suite, as cmocka group setup/teardown.
 * Header-only (static) so a suite includes it and names cpu_setup/cpu_teardown. */
#ifndef TB_TEST_CPU_FIXTURE_H
#define TB_TEST_CPU_FIXTURE_H

#include "engine/backend/backend.h"

static tb_backend *be;

static inline int cpu_setup(void **state)
{
    (void)state;
    tb_error err;
    tb_backend_options o = {.threads = 2, .precision = TB_PRECISION_F32, .device = -1};
    return tb_backend_create(&be, "cpu", &o, NULL, 0, &err) == TB_OK ? 0 : -1;
}

static inline int cpu_teardown(void **state)
{
    (void)state;
    tb_backend_destroy(be);
    return 0;
}

#endif
