#!/usr/bin/python3
"""tunebench — reference NF4 / double-quantization vectors from bitsandbytes' own algorithm.

Regenerate the committed golden file (Debian's /usr/bin/python3 with python3-torch):

    /usr/bin/python3 tests/reference/nf4_reference.py tests/reference/nf4_golden.bin

This is an independent, pure-PyTorch re-implementation of bitsandbytes' reference
("default" backend) algorithm, written from reading its sources (not copied; bitsandbytes
itself is not needed):

  bitsandbytes/backends/default/ops.py
    quantize_4bit        (kernel "bitsandbytes::quantize_4bit", "default")
    quantize_blockwise   (kernel "bitsandbytes::quantize_blockwise", "default")
    dequantize_blockwise (kernel "bitsandbytes::dequantize_blockwise", "default")
    _dequantize_4bit_impl
  bitsandbytes/functional.py
    quantize_4bit(..., compress_statistics=True)  offset = absmax.mean();
                                                  quantize_blockwise(absmax - offset, blocksize=256)
    dequantize_4bit / dequantize_blockwise        absmax = dequant(qabsmax) + offset
    create_dynamic_map(signed=True)               the 256-entry signed dynamic 8-bit map
    get_4bit_type("nf4")                          the 16 NF4 code values

The facts the C code (engine/quant/) must reproduce bit for bit:
  - absmax = max |x| of each block of 64 consecutive values of the flattened tensor (fp32);
  - scaled = clamp(x * (1 / absmax), -1, 1) in fp32: a reciprocal, then a product (not a
    division); an all-zero block gives 0 * inf = NaN;
  - code = argmin_i |scaled - code_i| over the fp32 distances; ties take the first (lower)
    index; a NaN row (all-zero block) gives index 0;
  - two codes per byte, first element in the high nibble; an odd count is padded with the
    code of 0.0 (index 7);
  - double quantization: offset = mean(absmax) (fp32), then the same blockwise scheme on
    absmax - offset with blocks of 256 and the dynamic map; dequant absmax =
    map[q] * nested_absmax[block] + offset, each step rounded to fp32.

One deliberate limit: for bf16/f16 input the default backend computes the partial *last*
block in the input's 16-bit precision (a 0-dim fp32 tensor does not promote a bf16
tensor), while full blocks and bitsandbytes' CUDA kernel compute in fp32. tunebench widens
16-bit input to fp32 exactly and always computes in fp32, so 16-bit cases here have whole
blocks only (checked below); the report line "16-bit partial-block divergence" measures
the difference on one example.
"""
import struct
import sys

import torch

NF4_CODE = [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]
BLOCK = 64
NESTED_BLOCK = 256
DTYPES = {torch.float32: 0, torch.bfloat16: 1, torch.float16: 2}


def dynamic_map_signed():
    """functional.py create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    for exponent i = 0..6, 2**i fraction means of linspace(0.1, 1, 2**i + 1) scaled by
    10**(i - 6), both signs; plus 0 and 1.0; sorted (256 values)."""
    data = []
    for i in range(7):
        bounds = torch.linspace(0.1, 1, 2 ** i + 1, dtype=torch.float32)
        means = (bounds[:-1] + bounds[1:]) / 2.0
        data += ((10 ** (i - 6)) * means).tolist()
        data += (-(10 ** (i - 6)) * means).tolist()
    data += [0, 1.0]
    assert len(data) == 256
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


def blockwise_absmax_scale(flat, blocksize):
    """absmax per block and the scaled values, as the default backend's quantize_4bit /
    quantize_blockwise do it (full blocks as a 2-D product, the rest separately)."""
    n = flat.numel()
    full, rem = n // blocksize, n % blocksize
    absmax = torch.zeros(full + (1 if rem else 0), dtype=torch.float32)
    body = flat[: n - rem].reshape(full, blocksize)
    absmax[:full] = torch.abs(body).max(dim=-1)[0] if full else absmax[:0]
    scaled = torch.clamp(body * (1 / absmax[:full].view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        tail = flat[n - rem:]
        absmax[-1] = torch.abs(tail).max()
        scaled = torch.cat([scaled, torch.clamp(tail * (1 / absmax[-1]), -1, 1)], dim=0)
    return absmax, scaled


def nearest(scaled, code):
    """argmin of |scaled - code| in fp32; torch.argmin returns the first minimum (and the
    first NaN, i.e. index 0, for a NaN row)."""
    diff = torch.abs(scaled.view(-1, 1) - code.to(scaled.dtype))
    return torch.argmin(diff, dim=-1).to(torch.uint8)


def quantize_nf4(x):
    flat = x.reshape(-1)
    absmax, scaled = blockwise_absmax_scale(flat, BLOCK)
    if scaled.numel() % 2:
        scaled = torch.nn.functional.pad(scaled, (0, 1), value=0.0)
    q = nearest(scaled, torch.tensor(NF4_CODE, dtype=torch.float32))
    packed = (q[::2] << 4) | q[1::2]
    return packed, absmax


def dequantize_nf4(packed, absmax, n):
    idx = torch.empty(packed.numel() * 2, dtype=torch.int64)
    idx[::2] = (packed >> 4).to(torch.int64)
    idx[1::2] = (packed & 0xF).to(torch.int64)
    vals = torch.tensor(NF4_CODE, dtype=torch.float32)[idx][:n]
    full, rem = n // BLOCK, n % BLOCK
    out = torch.empty(n, dtype=torch.float32)
    out[: n - rem] = (vals[: n - rem].view(-1, BLOCK) * absmax[:full].view(-1, 1)).reshape(-1)
    if rem:
        out[n - rem:] = vals[n - rem:] * absmax[-1]
    return out


def quantize_blockwise8(a, code, blocksize):
    absmax, scaled = blockwise_absmax_scale(a.reshape(-1), blocksize)
    return nearest(scaled, code), absmax


def dequantize_blockwise8(q, absmax, code, blocksize):
    out = code[q.reshape(-1).long()]
    n = out.numel()
    pad = (-n) % blocksize
    out = torch.nn.functional.pad(out, (0, pad), value=0)
    return (out.view(-1, blocksize) * absmax.view(-1, 1)).reshape(-1)[:n]


def double_quantize(absmax, dmap):
    offset = absmax.mean()
    # tunebench computes the mean as fl(fl(sum in double) / n); it must equal torch's.
    s = float(torch.tensor(absmax.double().sum().item(), dtype=torch.float32))
    mine = torch.tensor(s, dtype=torch.float32) / torch.tensor(float(absmax.numel()), dtype=torch.float32)
    assert mine.item() == offset.item(), (mine.item(), offset.item())
    q, nested = quantize_blockwise8(absmax - offset, dmap, NESTED_BLOCK)
    back = dequantize_blockwise8(q, nested, dmap, NESTED_BLOCK) + offset
    return offset, q, nested, back


def ties_case():
    """Blocks whose values sit exactly on fp32 midpoints between neighbouring codes (absmax
    1, so scaled == x), and one ulp either side of them."""
    vals = [1.0]
    for i in range(15):
        mid = torch.tensor((NF4_CODE[i] + NF4_CODE[i + 1]) / 2, dtype=torch.float32)
        vals += [mid.item(), torch.nextafter(mid, torch.tensor(2.0)).item(),
                 torch.nextafter(mid, torch.tensor(-2.0)).item()]
        # a midpoint computed the way the distance comparison sees it
        lo, hi = torch.tensor(NF4_CODE[i]), torch.tensor(NF4_CODE[i + 1])
        vals.append(((lo + hi) * 0.5).item())
    vals += [0.0] * ((-len(vals)) % BLOCK)
    x = torch.tensor(vals, dtype=torch.float32)
    # and the same block scaled by 0.75 and by 3 (scaled values then carry rounding)
    return torch.cat([x, x * 0.75, x * 3.0, -x]).reshape(-1, BLOCK)


def cases():
    g = torch.Generator().manual_seed(20260101)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * scale

    out = []
    out.append(("randn/rows=64,cols=64", randn(64, 64), True))
    out.append(("partial/rows=7,cols=37", randn(7, 37, scale=0.3), True))      # n=259, odd
    out.append(("tiny/rows=1,cols=5", randn(1, 5), True))
    z = randn(6, 64, scale=0.02)
    z[1] = 0.0                      # all-zero block: absmax 0
    z[3, :] = 0.0
    z[3, 17] = -1e-3                # negative absmax element (scaled -1)
    z[4] = torch.full((64,), 1e-39)  # subnormal absmax: 1/absmax = inf
    z[4, ::3] = 0.0
    z[5] = torch.linspace(-5e30, 5e30, 64)
    out.append(("zero_blocks/rows=6,cols=64", z, True))
    out.append(("ties/rows=16,cols=64", ties_case(), True))
    heavy = randn(300, 64, scale=0.05)
    heavy[::37] *= 40.0             # outlier rows: spread of absmax values
    out.append(("dq_two_nested_blocks/rows=300,cols=64", heavy, False))
    const = torch.ones(8, 64) * 0.5  # equal absmax: absmax - offset == 0, nested absmax 0
    out.append(("dq_equal_absmax/rows=8,cols=64", const, True))
    out.append(("bf16/rows=32,cols=128", randn(32, 128, scale=0.02).to(torch.bfloat16), True))
    out.append(("f16/rows=32,cols=64", randn(32, 64, scale=0.1).to(torch.float16), True))
    return out


def raw(t):
    if t.dtype == torch.bfloat16:
        return t.contiguous().view(torch.int16).numpy().tobytes()
    return t.contiguous().numpy().tobytes()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: nf4_reference.py OUT.bin")
    dmap = dynamic_map_signed()
    code = torch.tensor(NF4_CODE, dtype=torch.float32)
    body = bytearray()
    all_cases = cases()
    body += struct.pack("<I", len(all_cases))
    body += code.numpy().tobytes() + dmap.numpy().tobytes()
    for name, x, with_dequant in all_cases:
        n = x.numel()
        if x.dtype != torch.float32:
            assert n % BLOCK == 0, "16-bit cases must have whole blocks (see the module doc)"
        packed, absmax = quantize_nf4(x)
        deq = dequantize_nf4(packed, absmax, n)
        offset, qabs, nested, absmax_dq = double_quantize(absmax, dmap)
        deq_dq = dequantize_nf4(packed, absmax_dq, n)
        rows, cols = x.shape
        nb = name.encode()
        body += struct.pack("<I", len(nb)) + nb
        body += struct.pack("<IqqI", DTYPES[x.dtype], rows, cols, 1 if with_dequant else 0)
        body += raw(x) + packed.numpy().tobytes() + absmax.numpy().tobytes()
        body += struct.pack("<f", offset.item()) + qabs.numpy().tobytes() + nested.numpy().tobytes()
        body += absmax_dq.numpy().tobytes()
        if with_dequant:
            body += deq.numpy().tobytes() + deq_dq.numpy().tobytes()
        print(f"{name}: n={n} blocks={absmax.numel()} nested={nested.numel()} offset={offset.item():.9g}")

    # Informational: how much the default backend's 16-bit partial-block path differs.
    g = torch.Generator().manual_seed(7)
    xb = (torch.randn(7, 37, generator=g) * 0.05).to(torch.bfloat16)
    p16, _ = quantize_nf4(xb)
    p32, _ = quantize_nf4(xb.float())
    diff = int((p16 != p32).sum())
    print(f"16-bit partial-block divergence: {diff} of {p16.numel()} bytes differ (bf16, n=259)")

    header = (
        "TBNF4GOLD 1\n"
        "# regenerate: /usr/bin/python3 tests/reference/nf4_reference.py tests/reference/nf4_golden.bin\n"
        f"# torch {torch.__version__}; bitsandbytes default-backend algorithm (see the script)\n"
        "END\n"
    ).encode()
    with open(sys.argv[1], "wb") as f:
        f.write(header + bytes(body))


if __name__ == "__main__":
    main()
