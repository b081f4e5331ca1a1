// tunebench — shared by the attention kernels: tile shapes, indexing, the causal mask.
// An invocation is (row, lane): BQ (or BK) rows of L lanes; lane l owns head dims
// d = l, l + L, l + 2L, ... (DL of them), so the L lanes of a row read shared rows
// contiguously. Tiles of q/k/v rows live in shared memory; no (Tq x Tk) matrix exists.
layout(constant_id = 0) const uint WG = 64;   // rows * L
layout(constant_id = 1) const uint BQ = 16;   // query rows per tile
layout(constant_id = 2) const uint BK = 16;   // key rows per tile
layout(constant_id = 3) const uint DH = 64;   // head dim
layout(constant_id = 4) const uint L = 4;     // lanes per row
const uint DL = (DH + L - 1u) / L;            // dims per lane
const uint DP = DH + 1u;                      // shared row stride: the L lanes reading rows
                                              // c, c+1, ... at one d hit different banks
layout(local_size_x_id = 0) in;

TB_PUSH(TB_PC_ATTN)

const float NEG_INF = -1.0 / 0.0;

// Element (b, t, head, 0) of a query-shaped tensor (B, Tq, H*Dh) at offset off.
uint q_index(uint off, uint b, uint t, uint head)
{
    return off + ((b * pc.Tq + t) * pc.H + head) * DH;
}

// Element (b, pos, g, 0) of a key-shaped tensor (B, *, Hkv*Dh) with batch stride kv_stride.
uint kv_index(uint off, uint b, uint pos, uint g)
{
    return off + b * pc.kv_stride + (pos * pc.Hkv + g) * DH;
}

// (B, H, Tq) row statistics: lse and the backward's dout.out dots.
uint stat_index(uint off, uint b, uint head, uint t)
{
    return off + (b * pc.H + head) * pc.Tq + t;
}

// Query row t (0-based in this call) sees key position kpos: causal, within Tk.
bool visible(uint t, uint kpos)
{
    return t < pc.Tq && kpos <= pc.pos0 + t;
}
