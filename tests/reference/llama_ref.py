#!/usr/bin/python3
"""llama_ref.py - tiny random Llama-family models and their reference logits.

An independent reference for tunebench's forward pass: a plain-PyTorch Llama written
from Hugging Face transformers' modeling_llama / modeling_qwen2 semantics (RMSNorm in f32,
rotate_half RoPE with f32 inv_freq and llama3 scaling, repeat_kv GQA, causal softmax in
f32, SwiGLU MLP, optional q/k/v bias, tied or untied LM head). transformers itself is not
needed. Everything is computed in float32 (bf16-stored weights are widened first).

For each case it writes DIR/<case>/config.json + model.safetensors (a Hugging Face model
directory) and DIR/<case>/golden.safetensors holding:
  ids     I32 [T]        the input sequence
  logits  F32 [T, V]     reference logits at every position
  greedy  I32 [G]        greedy continuation of `ids` (argmax, KV-cache free recompute)
  logits_bf16in F32 [T, V] (bf16-weight cases) the same with every linear layer's input
                         rounded to bf16 first: what a bf16-activation matmul computes
with __metadata__ {"magic": "tunebench-llama-golden", "version": "1", "command": ...}.

Regenerate (Debian python3-torch):
  /usr/bin/python3 tests/reference/llama_ref.py --out tests/reference/llama
"""
import argparse
import json
import math
import os
import struct

import torch

MAGIC, VERSION = "tunebench-llama-golden", "1"
COMMAND = "/usr/bin/python3 tests/reference/llama_ref.py --out tests/reference/llama"

# name: config overrides and the random seed. Base: D 32, F 64, L 2, H 4, Hkv 2, V 96.
CASES = {
    "llama_gqa_f32": dict(seed=2),
    "llama_tied_mqa_f32": dict(seed=4, kv_heads=1, tied=True),
    "qwen2_bias_f32": dict(seed=5, arch="Qwen2ForCausalLM", bias=True, tied=True, theta=1000000.0),
    "llama_headdim6_f32": dict(seed=3, head_dim=6, heads=4, kv_heads=2),
    "llama3_rope_f32": dict(seed=0, theta=10000.0, llama3=dict(factor=8.0, low_freq_factor=1.0,
                                                              high_freq_factor=4.0,
                                                              original_max_position_embeddings=128),
                            head_dim=8, heads=4, kv_heads=1),
    "llama_gqa_bf16": dict(seed=1, dtype="bfloat16", layers=3),
    # Paired with tokenizer.json (committed beside it, made by `tunebench tokenizer-train
    # --corpus README.md --vocab-size 320`; this script does not touch it): text prompts.
    "llama_vocab320_f32": dict(seed=6, vocab=320, bos=0, eos=0),
}
T, GREEDY = 24, 8


def make_config(name, o):
    D, H = o.get("dim", 32), o.get("heads", 4)
    cfg = {
        "architectures": [o.get("arch", "LlamaForCausalLM")],
        "model_type": "qwen2" if o.get("arch") == "Qwen2ForCausalLM" else "llama",
        "hidden_size": D, "intermediate_size": o.get("ffn", 64),
        "num_hidden_layers": o.get("layers", 2), "num_attention_heads": H,
        "num_key_value_heads": o.get("kv_heads", 2), "vocab_size": o.get("vocab", 96),
        "rms_norm_eps": 1e-5, "rope_theta": o.get("theta", 10000.0),
        "max_position_embeddings": 256, "tie_word_embeddings": o.get("tied", False),
        "hidden_act": "silu", "bos_token_id": o.get("bos", 1), "eos_token_id": o.get("eos", 2),
        "torch_dtype": o.get("dtype", "float32"),
    }
    if "head_dim" in o:
        cfg["head_dim"] = o["head_dim"]
    if "llama3" in o:
        cfg["rope_scaling"] = dict(o["llama3"], rope_type="llama3")
    if o.get("arch") == "Qwen2ForCausalLM":
        cfg["use_sliding_window"] = False
    return cfg


def make_weights(cfg, bias, gen):
    D, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    Dh = cfg.get("head_dim", D // H)

    def lin(o, i):  # O(1) activations so the logits are far from uniform
        return torch.randn(o, i, generator=gen) / math.sqrt(i)

    def norm(n):
        return 1.0 + 0.2 * torch.randn(n, generator=gen)

    w = {"model.embed_tokens.weight": torch.randn(V, D, generator=gen),
         "model.norm.weight": norm(D)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = lin(V, D)
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        w[p + "input_layernorm.weight"] = norm(D)
        w[p + "self_attn.q_proj.weight"] = lin(H * Dh, D)
        w[p + "self_attn.k_proj.weight"] = lin(Hkv * Dh, D)
        w[p + "self_attn.v_proj.weight"] = lin(Hkv * Dh, D)
        w[p + "self_attn.o_proj.weight"] = lin(D, H * Dh)
        if bias:
            for n, width in (("q", H * Dh), ("k", Hkv * Dh), ("v", Hkv * Dh)):
                w[p + "self_attn.%s_proj.bias" % n] = 0.5 * torch.randn(width, generator=gen)
        w[p + "post_attention_layernorm.weight"] = norm(D)
        w[p + "mlp.gate_proj.weight"] = lin(F, D)
        w[p + "mlp.up_proj.weight"] = lin(F, D)
        w[p + "mlp.down_proj.weight"] = lin(D, F)
    return w


# ---------------------------------------------------------------- safetensors (by hand:
# the safetensors package is not installed here; format per the reference README)
DT = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int32: "I32"}


def save_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- the reference model
def inv_freq_of(cfg):
    """transformers _compute_default_rope_parameters / _compute_llama3_parameters (f32)."""
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    dim = cfg.get("head_dim", D // H)
    base = cfg["rope_theta"]
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type") == "llama3":
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        lo_wl, hi_wl = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > lo_wl, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < hi_wl) * ~(wavelen > lo_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, w, ids, bf16_inputs=False, lora=None, scale=0.0):
    """ids: LongTensor [T] -> logits [T, V], all f32. bf16_inputs: round the input of every
    linear layer (q/k/v/o, gate/up/down, lm_head) to bf16 (round to nearest even).
    lora: {peft key: tensor} of lora_A [r, in] / lora_B [out, r] (PEFT names), added as
    y += scale * (x A^T) B^T to the linears it names. Differentiable in w and lora."""
    def lin(x, m, key=None):
        y = (x.to(torch.bfloat16).float() if bf16_inputs else x) @ m.T
        a = lora.get("base_model.model.%s.lora_A.weight" % key) if lora and key else None
        if a is not None:
            y = y + scale * ((x @ a.T) @ lora["base_model.model.%s.lora_B.weight" % key].T)
        return y

    w = {k: (v.float() if v.dtype != torch.float32 else v) for k, v in w.items()}
    D, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    Dh = cfg.get("head_dim", D // H)
    eps, Tn = cfg["rms_norm_eps"], ids.shape[0]
    inv = inv_freq_of(cfg)
    freqs = torch.arange(Tn, dtype=torch.float32)[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((Tn, Tn), float("-inf")).triu(1)
    x = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(n):
            y = lin(h, w[p + "self_attn.%s_proj.weight" % n], p + "self_attn.%s_proj" % n)
            b = w.get(p + "self_attn.%s_proj.bias" % n)
            return y + b if b is not None else y
        q = proj("q").view(Tn, H, Dh).transpose(0, 1)
        k = proj("k").view(Tn, Hkv, Dh).transpose(0, 1)
        v = proj("v").view(Tn, Hkv, Dh).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=0)  # repeat_kv
        v = v.repeat_interleave(H // Hkv, dim=0)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(Dh) + mask, dim=-1, dtype=torch.float32)
        o = (att @ v).transpose(0, 1).reshape(Tn, H * Dh)
        x = x + lin(o, w[p + "self_attn.o_proj.weight"], p + "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(lin(h, w[p + "mlp.gate_proj.weight"], p + "mlp.gate_proj"))
        x = x + lin(g * lin(h, w[p + "mlp.up_proj.weight"], p + "mlp.up_proj"), w[p + "mlp.down_proj.weight"],
                    p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return lin(x, head)


# ---------------------------------------------------------------- LoRA and full gradients
# For these cases a PEFT adapter (random A, non-zero B) is written to DIR/<case>/adapter/
# and DIR/<case>/grad_golden.safetensors holds, for the sequence `ids` with labels = the next
# token at every position (HF causal LM loss, mean over T-1 positions):
#   loss F32 [] (a scalar), and the gradient of every adapter tensor under its PEFT key;
#   with full=True also "full.<HF name>": the gradient of every base weight (no adapter).
# metadata {"magic": "tunebench-grad-golden", "version": "1", "command": ...}.
GRAD_MAGIC = "tunebench-grad-golden"
LORA_CASES = {
    "llama_gqa_f32": dict(r=4, alpha=8.0, targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                   "down_proj"], full=True),
    "llama_tied_mqa_f32": dict(r=3, alpha=6.0, targets=["q_proj", "v_proj", "down_proj"], rslora=True, full=True),
    "qwen2_bias_f32": dict(r=4, alpha=16.0, targets=["q_proj", "k_proj", "v_proj", "o_proj"]),
    "llama_headdim6_f32": dict(r=2, alpha=4.0, targets=["k_proj", "o_proj", "gate_proj", "up_proj"]),
}


def lora_tensors(cfg, spec, gen):
    D, F = cfg["hidden_size"], cfg["intermediate_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    Dh = cfg.get("head_dim", D // H)
    shapes = {"q_proj": (D, H * Dh), "k_proj": (D, Hkv * Dh), "v_proj": (D, Hkv * Dh), "o_proj": (H * Dh, D),
              "gate_proj": (D, F), "up_proj": (D, F), "down_proj": (F, D)}
    out, r = {}, spec["r"]
    for i in range(cfg["num_hidden_layers"]):
        for m in spec["targets"]:
            blk = "mlp" if m in ("gate_proj", "up_proj", "down_proj") else "self_attn"
            key = "base_model.model.model.layers.%d.%s.%s" % (i, blk, m)
            fan_in, fan_out = shapes[m]
            out[key + ".lora_A.weight"] = (torch.rand(r, fan_in, generator=gen) * 2 - 1) / math.sqrt(fan_in)
            out[key + ".lora_B.weight"] = 0.3 * torch.randn(fan_out, r, generator=gen)
    return out


def causal_lm_loss(logits, ids):
    return torch.nn.functional.cross_entropy(logits[:-1], ids[1:])


def write_grad_golden(d, name, cfg, w, ids):
    spec = LORA_CASES[name]
    gen = torch.Generator().manual_seed(5000 + CASES[name]["seed"])
    lora = {k: v.clone().requires_grad_(True) for k, v in lora_tensors(cfg, spec, gen).items()}
    r = spec["r"]
    scale = spec["alpha"] / (math.sqrt(r) if spec.get("rslora") else r)
    loss = causal_lm_loss(forward(cfg, w, ids, lora=lora, scale=scale), ids)
    loss.backward()
    gold = {"loss": loss.detach().reshape(())}
    gold.update({k: v.grad.contiguous() for k, v in lora.items()})
    if spec.get("full"):
        wf = {k: v.float().clone().requires_grad_(True) for k, v in w.items()}
        full_loss = causal_lm_loss(forward(cfg, wf, ids), ids)
        full_loss.backward()
        gold["full_loss"] = full_loss.detach().reshape(())
        gold.update({"full." + k: v.grad.contiguous() for k, v in wf.items()})
    ad = os.path.join(d, "adapter")
    os.makedirs(ad, exist_ok=True)
    save_safetensors(os.path.join(ad, "adapter_model.safetensors"), {k: v.detach() for k, v in lora.items()},
                     {"format": "pt"})
    acfg = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": name, "r": r,
            "lora_alpha": spec["alpha"], "lora_dropout": 0.0, "target_modules": spec["targets"], "bias": "none",
            "use_rslora": bool(spec.get("rslora")), "some_future_key": {"ignored": True}}
    with open(os.path.join(ad, "adapter_config.json"), "w") as f:
        json.dump(acfg, f, indent=2)
        f.write("\n")
    save_safetensors(os.path.join(d, "grad_golden.safetensors"), gold,
                     {"magic": GRAD_MAGIC, "version": VERSION, "command": COMMAND})
    return float(loss)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, o in sorted(CASES.items()):
        gen = torch.Generator().manual_seed(1000 + o["seed"])
        cfg = make_config(name, o)
        w = make_weights(cfg, o.get("bias", False), gen)
        if o.get("dtype") == "bfloat16":
            w = {k: v.to(torch.bfloat16) for k, v in w.items()}
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        save_safetensors(os.path.join(d, "model.safetensors"), w, {"format": "pt"})
        ids = torch.randint(3, cfg["vocab_size"], (T,), generator=gen)
        with torch.no_grad():
            logits = forward(cfg, w, ids)
            seq = ids.clone()
            for _ in range(GREEDY):
                nxt = forward(cfg, w, seq)[-1].argmax()
                seq = torch.cat((seq, nxt.view(1)))
            gold = {"ids": ids.to(torch.int32), "logits": logits.contiguous(),
                    "greedy": seq[T:].to(torch.int32)}
            if o.get("dtype") == "bfloat16":
                gold["logits_bf16in"] = forward(cfg, w, ids, bf16_inputs=True).contiguous()
        save_safetensors(os.path.join(d, "golden.safetensors"), gold,
                         {"magic": MAGIC, "version": VERSION, "command": COMMAND})
        if name in LORA_CASES:
            print("%-20s LoRA loss %.5f" % (name, write_grad_golden(d, name, cfg, w, ids)))
        print("%-20s T=%d V=%d logits range [%.3f, %.3f]" % (name, T, cfg["vocab_size"],
                                                             logits.min(), logits.max()))


if __name__ == "__main__":
    main()
