#!/usr/bin/env bash
# tunebench — prepare the GPU check HERE (a machine without the GPU), for the device tool.
#
# The device machine has the NVIDIA driver and its Vulkan ICD, python3 with CUDA PyTorch,
# but none of our build dependencies and no Vulkan loader. So: build here, and collect
# into .gl/ (git-ignored) what the run there needs:
#   .gl/bin/    tunebench, the Vulkan test suites, vk_bench, bench_model (release build, no
#               oneDNN)
#   .gl/lib/    every shared library those link that is not part of glibc, and the Vulkan
#               loader libvulkan.so.1 (opened at run time, so ldd does not list it)
#   .gl/bench/  the shared PyTorch peer ../shared/bench/torch_lora_bench.py (not ours to
#               copy into the repository; it travels beside it)
# Then call the device tool's `run` with:
#   command: bash tests/bench/gpu_check.sh     carry: [".gl"]     timeout_s: 420
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
build=build-gpu
if [ ! -f $build/build.ninja ]; then
    meson setup $build --buildtype=release -Ddnnl=disabled -Dvulkan=enabled >/dev/null
fi
ninja -C $build >/dev/null
rm -rf .gl/bin .gl/lib .gl/bench
mkdir -p .gl/bin .gl/lib .gl/bench
bins=($build/tui/tunebench $build/tests/bench/vk_bench $build/tests/bench/bench_model $build/tests/vulkan/test_vk_*)
for b in "${bins[@]}"; do
    [ -x "$b" ] && [ -f "$b" ] && cp "$b" .gl/bin/
done
# Shared libraries: everything ldd resolves except glibc's own (the target's is newer).
skip='/(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libgcc_s|libresolv)\.so'
for b in .gl/bin/*; do
    ldd "$b" | awk '$3 ~ /^\// {print $3}'
done | sort -u | grep -Ev "$skip" | while read -r lib; do cp -L "$lib" .gl/lib/; done
loader=$( (/sbin/ldconfig -p 2>/dev/null || true) | awk '/libvulkan\.so\.1 / {print $NF; exit}')
for f in "$loader" /usr/lib/x86_64-linux-gnu/libvulkan.so.1 /usr/lib64/libvulkan.so.1; do
    if [ -n "$f" ] && [ -f "$f" ]; then cp -L "$f" .gl/lib/libvulkan.so.1; break; fi
done
[ -f .gl/lib/libvulkan.so.1 ] || { echo "gpu_prepare: no libvulkan.so.1 here (Debian: libvulkan1)" >&2; exit 1; }
shared=${TB_SHARED_DIR:-../shared}
[ -f "$shared/bench/torch_lora_bench.py" ] || shared=/work/shared
cp "$shared/bench/torch_lora_bench.py" .gl/bench/
echo "gpu_prepare: .gl holds $(du -sh .gl | cut -f1) ($(ls .gl/bin | wc -l) programs, $(ls .gl/lib | wc -l) libraries)"
echo "gpu_prepare: now run: bash tests/bench/gpu_check.sh   (device tool, carry [\".gl\"], timeout_s 420)"
