#!/usr/bin/env bash
# tunebench devices: the device list, --backend auto|cpu|vulkan and --device selection, and
# the fallbacks when there is no loader, no driver or no such device.
set -u
. "$(dirname "$0")/../lib/tap.sh"
TB=${TUNEBENCH:?set TUNEBENCH to the binary}

json=$("$TB" devices --json); rc=$?
tap_eq "devices/json exits 0" "$rc" 0
tap_check "devices/json has devices and backend" \
    jq -e '(.devices|type=="array") and (.backend.requested=="auto") and (.backend.selected=="cpu" or .backend.selected=="vulkan")' <<<"$json"
tap_eq "devices/--backend cpu selects cpu" "$("$TB" devices --backend cpu --json | jq -r .backend.selected)" cpu

# A build without Vulkan (-Dvulkan=disabled): auto says so, vulkan is refused; nothing else applies.
if [ "$(jq -r '.vulkan_error // ""' <<<"$json")" = "this build has no Vulkan backend" ]; then
    tap_check "devices/no-Vulkan build: auto says why" \
        jq -e '.backend.detail == "using the CPU: this build has no Vulkan backend"' <<<"$json"
    "$TB" devices --backend vulkan >/dev/null 2>err.txt; rc=$?
    tap_eq "devices/no-Vulkan build: --backend vulkan exits 2" "$rc" 2
    tap_check "devices/no-Vulkan build: the message says so" grep -q "this build has no Vulkan backend" err.txt
    tap_done
    exit $?
fi

usable=$(jq '[.devices[] | select(.usable)] | length' <<<"$json")
if [ "$usable" -gt 0 ]; then
    out=$("$TB" devices --backend vulkan); rc=$?
    tap_eq "devices/--backend vulkan opens a device" "$rc" 0
    tap_check "devices/--backend vulkan names the device" grep -q -- "--backend vulkan: vulkan: device 0 " <<<"$out"
    tap_check "devices/table lists subgroup and fp16" grep -q "subgroup fp16 int8" <<<"$out"
    # auto takes a GPU, and leaves a CPU device (lavapipe) to the CPU backend
    first=$(jq -r '[.devices[] | select(.usable)][0].type' <<<"$json")
    want=$([ "$first" = cpu ] && [ "$usable" -eq 1 ] && echo cpu || echo vulkan)
    tap_eq "devices/auto with a $first device selects $want" "$(jq -r .backend.selected <<<"$json")" "$want"
    tap_eq "devices/TUNEBENCH_VK_DEVICE=0 under auto uses it" \
        "$(TUNEBENCH_VK_DEVICE=0 "$TB" devices --json | jq -r .backend.selected)" vulkan
else
    for i in 1 2 3 4 5; do echo "ok $((TAP_N + i)) - devices/vulkan device cases # SKIP no usable Vulkan device"; done
    TAP_N=$((TAP_N + 5))
fi

# No driver (ICD): auto falls back with one line saying why; vulkan fails with exit 2.
export_no_icd() { VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json "$@"; }
out=$(export_no_icd "$TB" devices 2>&1); rc=$?
tap_eq "devices/no driver: auto exits 0" "$rc" 0
tap_check "devices/no driver: auto says it uses the CPU and why" grep -Eq -- "--backend auto: cpu \(using the CPU: no Vulkan (driver|device)" <<<"$out"
export_no_icd "$TB" devices --backend vulkan >/dev/null 2>err.txt; rc=$?
tap_eq "devices/no driver: --backend vulkan exits 2" "$rc" 2
tap_check "devices/no driver: the message says so" grep -Eq "no Vulkan (driver|device)" err.txt

# No loader at all.
out=$(TUNEBENCH_VK_LOADER=/nonexistent/libvulkan.so.1 "$TB" devices 2>&1); rc=$?
tap_eq "devices/no loader: auto exits 0" "$rc" 0
tap_check "devices/no loader: auto says why" grep -q "using the CPU: no Vulkan loader" <<<"$out"
TUNEBENCH_VK_LOADER=/nonexistent/libvulkan.so.1 "$TB" devices --backend vulkan >/dev/null 2>err.txt; rc=$?
tap_eq "devices/no loader: --backend vulkan exits 2" "$rc" 2
tap_check "devices/no loader: names the library" grep -q "no Vulkan loader (/nonexistent/libvulkan.so.1 not found" err.txt

# A device that does not exist, and bad values.
if [ "$usable" -gt 0 ]; then
    "$TB" devices --backend vulkan --device 99 >/dev/null 2>err.txt; rc=$?
    tap_eq "devices/--device 99 exits 2" "$rc" 2
    tap_check "devices/--device 99 says it does not exist" grep -q "Vulkan device 99 does not exist" err.txt
    TUNEBENCH_VK_DEVICE=abc "$TB" devices --backend vulkan >/dev/null 2>err.txt; rc=$?
    tap_eq "devices/TUNEBENCH_VK_DEVICE=abc exits 2" "$rc" 2
    tap_check "devices/TUNEBENCH_VK_DEVICE=abc is named" grep -q "TUNEBENCH_VK_DEVICE" err.txt
else
    for i in 1 2 3 4; do echo "ok $((TAP_N + i)) - devices/bad device cases # SKIP no usable Vulkan device"; done
    TAP_N=$((TAP_N + 4))
fi
"$TB" devices --backend gpu >/dev/null 2>err.txt; rc=$?
tap_eq "devices/--backend gpu exits 2" "$rc" 2
tap_check "devices/--backend gpu names the flag" grep -q -- "--backend: 'gpu'" err.txt
"$TB" devices --device -1 >/dev/null 2>err.txt; rc=$?
tap_eq "devices/--device -1 exits 2" "$rc" 2
tap_done
