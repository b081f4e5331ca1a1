#!/usr/bin/env python3
"""torch_cuda_peer.py - run ../shared/bench/torch_lora_bench.py on a CUDA GPU, unchanged.

The shared peer (BENCHMARKING.md) is plain PyTorch on the CPU. This shim runs the same file
with every tensor on the GPU, so the model, LoRA and optimizer stay exactly the peer's:
  - torch.set_default_device("cuda"): parameters, buffers, masks land on the GPU;
  - torch.randint with the peer's CPU generator draws on the CPU, then moves to the GPU
    (the same tokens as on the CPU);
  - time.perf_counter synchronizes the GPU first, so the peer's step timer measures
    finished work rather than queued kernels.
usage: torch_cuda_peer.py PATH/torch_lora_bench.py [its flags...]
"""
import runpy
import sys
import time

import torch

if len(sys.argv) < 2:
    sys.exit(__doc__)
if not torch.cuda.is_available():
    sys.exit("torch_cuda_peer: no CUDA device")
peer = sys.argv[1]
torch.set_default_device("cuda")
_randint = torch.randint


def _randint_cpu_generator(*args, generator=None, **kw):
    if generator is not None and generator.device.type == "cpu":
        return _randint(*args, generator=generator, device="cpu", **kw).to("cuda")
    return _randint(*args, generator=generator, **kw)


torch.randint = _randint_cpu_generator
_perf_counter = time.perf_counter


def _synced_perf_counter():
    torch.cuda.synchronize()
    return _perf_counter()


time.perf_counter = _synced_perf_counter
print("# torch_cuda_peer: %s on %s, torch %s" % (peer, torch.cuda.get_device_name(), torch.__version__))
sys.argv = [peer] + sys.argv[2:]
runpy.run_path(peer, run_name="__main__")
print("# torch_cuda_peer: max_memory_allocated_mib=%.0f" % (torch.cuda.max_memory_allocated() / 2**20))
