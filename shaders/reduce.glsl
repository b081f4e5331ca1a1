// tunebench — workgroup reductions through shared memory (tree order, so results do not
// depend on the subgroup size). WG must be a power of two and every invocation must call
// these in uniform control flow. Declares the spec constant WG (constant_id 0) and binds
// the workgroup size to it.
layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

shared float red_buf[WG];

float tb_add(float a, float b)
{
    return a + b;
}

// float NAME(float v): combine v over the workgroup with COMBINE(a, b), tree order.
#define TB_WG_REDUCE(NAME, COMBINE)                      \
    float NAME(float v)                                  \
    {                                                    \
        uint t = gl_LocalInvocationID.x;                 \
        red_buf[t] = v;                                  \
        barrier();                                       \
        for (uint s = WG / 2u; s > 0u; s >>= 1) {        \
            if (t < s)                                   \
                red_buf[t] = COMBINE(red_buf[t], red_buf[t + s]); \
            barrier();                                   \
        }                                                \
        float r = red_buf[0];                            \
        barrier();                                       \
        return r;                                        \
    }

TB_WG_REDUCE(wg_sum, tb_add)
TB_WG_REDUCE(wg_max, max)
