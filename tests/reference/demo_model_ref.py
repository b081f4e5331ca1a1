#!/usr/bin/python3
"""demo_model_ref.py - reference losses and greedy tokens of the bundled demo model.

Runs datasets/models/tunebench-demo (bf16 weights widened to f32) through the independent
plain-PyTorch Llama of llama_ref.py on a few known texts and writes
tests/reference/demo_model.golden for tests/unit/test_demo_model.c:

  TBDEMOGOLD 1
  # comment lines
  model_sha256 <sha256 of model.safetensors>
  case NAME
  text <hex of the UTF-8 text>
  ids <token ids of the text>             (tunebench's tokenizer; it equals Hugging Face
                                           tokenizers' on this tokenizer: tokenizer_golden)
  loss <mean next-token cross-entropy over every position, f32 compute>
  greedy <12 greedy tokens after the text>
  end

Regenerate after the model changes (python3-torch from Debian; the ids come from the
built binary):
  /usr/bin/python3 tests/reference/demo_model_ref.py --tunebench build/tui/tunebench
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import forward  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
COMMAND = "/usr/bin/python3 tests/reference/demo_model_ref.py --tunebench build/tui/tunebench"
GREEDY = 12

CASES = [
    # held-out general text (datasets/demo/general.txt, never in pretraining)
    ("general", "smack: an enthusiastic kiss\n"),
    # pretraining-style text: a WordNet gloss line of the corpus
    ("gloss", "water: binary compound that occurs at room temperature as a clear colorless odorless "
              "tasteless liquid; freezes into ice below 0 degrees centigrade and boils above 100 "
              "degrees centigrade; widely used as a solvent\n"),
    # the demo task in the alpaca template, a held-out (eval.jsonl) word
    ("define_eval", "### Instruction:\nDefine the word \"house\".\n\n### Response:\n"),
]


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        buf = bytearray(raw[base + a:base + b])
        if t["dtype"] == "BF16":
            x = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        elif t["dtype"] == "F32":
            x = torch.frombuffer(buf, dtype=torch.float32)
        else:
            raise SystemExit("%s: unexpected dtype %s" % (name, t["dtype"]))
        out[name] = x.reshape(t["shape"]).float()
    return out, hashlib.sha256(raw).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tunebench", required=True, help="the built tunebench binary (for token ids)")
    ap.add_argument("--model", default=os.path.join(ROOT, "datasets", "models", "tunebench-demo"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "reference", "demo_model.golden"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    w, sha = load_safetensors(os.path.join(args.model, "model.safetensors"))
    lines = ["TBDEMOGOLD 1",
             "# reference: tests/reference/demo_model_ref.py (llama_ref.py's plain-PyTorch Llama, f32 compute)",
             "# regenerate: " + COMMAND,
             "model_sha256 " + sha]
    for name, text in CASES:
        out = subprocess.run([args.tunebench, "tokenize", "--model", args.model, "--json", "--text", text],
                             check=True, capture_output=True, text=True).stdout
        ids = json.loads(out.splitlines()[0])
        x = torch.tensor(ids, dtype=torch.long)
        with torch.no_grad():
            logits = forward(cfg, w, x)
            loss = torch.nn.functional.cross_entropy(logits[:-1], x[1:]).item()
            seq = x.clone()
            for _ in range(GREEDY):
                nxt = forward(cfg, w, seq)[-1].argmax()
                seq = torch.cat((seq, nxt.view(1)))
        lines += ["case " + name, "text " + text.encode().hex(), "ids " + " ".join(map(str, ids)),
                  "loss %.6f" % loss, "greedy " + " ".join(str(int(t)) for t in seq[len(ids):]), "end"]
        print("%-12s T=%3d loss %.4f" % (name, len(ids), loss))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
