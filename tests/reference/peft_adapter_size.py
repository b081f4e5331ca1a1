#!/usr/bin/env python3
"""Independent oracle for PEFT adapter file sizes and rank-for-budget (tests/unit/test_calc.c).

Re-derives adapter_model.safetensors sizes from the safetensors format description
(huggingface/safetensors: 8-byte length, compact JSON header with "__metadata__" first and
tensors sorted by dtype then name, padded with spaces to a multiple of 8, then the data)
and PEFT's key names, without any tunebench code. Checked against three published PEFT
adapters (see test_calc.c). Standard library only.

Regenerate the golden file:
    python3 tests/reference/peft_adapter_size.py > tests/reference/golden/adapter_sizes.txt
"""
import json

ESIZE = {"F32": 4, "BF16": 2, "F16": 2}
MODULES = [("self_attn", "q_proj"), ("self_attn", "k_proj"), ("self_attn", "v_proj"), ("self_attn", "o_proj"),
           ("mlp", "gate_proj"), ("mlp", "up_proj"), ("mlp", "down_proj")]

# name -> (D, F, L, H, Hkv, Dh), from the models' config.json
MODELS = {
    "llama-2-7b": (4096, 11008, 32, 32, 32, 128),
    "llama-3.1-8b": (4096, 14336, 32, 32, 8, 128),
    "llama-3.2-1b": (2048, 8192, 16, 32, 8, 64),
    "smollm2-135m": (576, 1536, 30, 9, 3, 64),
    "qwen2.5-0.5b": (896, 4864, 24, 14, 2, 64),
    "tinyllama-1.1b": (2048, 5632, 22, 32, 4, 64),
}


def shapes(model):
    D, F, L, H, Hkv, Dh = MODELS[model]
    q, kv = H * Dh, Hkv * Dh
    io = {"q_proj": (D, q), "k_proj": (D, kv), "v_proj": (D, kv), "o_proj": (q, D),
          "gate_proj": (D, F), "up_proj": (D, F), "down_proj": (F, D)}
    return L, io


def adapter_size(model, targets, rank, dtype):
    L, io = shapes(model)
    tensors = []
    for i in range(L):
        for block, name in MODULES:
            if name[:-5] not in targets:
                continue
            fin, fout = io[name]
            key = "base_model.model.model.layers.%d.%s.%s" % (i, block, name)
            tensors.append((key + ".lora_A.weight", [rank, fin]))
            tensors.append((key + ".lora_B.weight", [fout, rank]))
    tensors.sort(key=lambda t: t[0].encode())
    header = {"__metadata__": {"format": "pt"}}
    off = 0
    for key, shape in tensors:
        n = shape[0] * shape[1] * ESIZE[dtype]
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return 8 + len(text) + off


def max_rank(model, targets, dtype, budget):
    """Largest rank whose file fits, by a plain linear scan (no bisection, unlike the C code)."""
    best = 0
    r = 1
    while adapter_size(model, targets, r, dtype) <= budget:
        best = r
        r += 1
    return best


QKVO = ("q", "k", "v", "o")
ALL = ("q", "k", "v", "o", "gate", "up", "down")
QV = ("q", "v")


def main():
    print("# tunebench-golden adapter-sizes v1")
    print("# regenerate: python3 tests/reference/peft_adapter_size.py > tests/reference/golden/adapter_sizes.txt")
    print("# size MODEL TARGETS RANK DTYPE BYTES | budget MODEL TARGETS DTYPE BUDGET_BYTES MAX_RANK")
    cases = [("smollm2-135m", QV, 8), ("smollm2-135m", ALL, 64), ("qwen2.5-0.5b", QKVO, 16),
             ("tinyllama-1.1b", QV, 8), ("llama-2-7b", QKVO, 16), ("llama-3.1-8b", QKVO, 16),
             ("llama-3.1-8b", ALL, 7), ("llama-3.2-1b", QV, 1)]
    for model, t, r in cases:
        for dtype in ("F32", "BF16", "F16"):
            print("size %s %s %d %s %d" % (model, ",".join(t), r, dtype, adapter_size(model, t, r, dtype)))
    # The tutorial's exercise: hidden 4096, 32 layers, q,k,v,o, budgets of 10/50/100/500 MB
    # (llama-2-7b is that shape with multi-head attention; llama-3.1-8b the same with GQA).
    for model in ("llama-2-7b", "llama-3.1-8b"):
        for dtype in ("F16", "F32"):
            for mb in (10, 50, 100, 500):
                b = mb * 1000000
                print("budget %s %s %s %d %d" % (model, ",".join(QKVO), dtype, b, max_rank(model, QKVO, dtype, b)))
            b = 10 * 1048576
            print("budget %s %s %s %d %d" % (model, ",".join(QKVO), dtype, b, max_rank(model, QKVO, dtype, b)))


if __name__ == "__main__":
    main()
