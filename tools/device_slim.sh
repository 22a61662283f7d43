#!/usr/bin/env bash
# The device tool copies the tracked tree plus `.device` and refuses more than 64 MiB; the zoo's
# larger models and the published runs push it past that. `hide` moves the paths a device run
# does not need out of the tree and the index (into .git/device-hold); `restore` puts them back.
# Nothing is committed either way.
#
# Usage, from the repository root: tools/device_slim.sh hide [PATH...] | tools/device_slim.sh restore
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
hold=.git/device-hold
default=(models/lm-char.onnx models/lm-char-decode.onnx models/lm-char-swiglu.onnx
  models/vit-relu-fmnist.onnx models/vit-gelu-fmnist.onnx results/published reports/published
  src/onnx/testdata)
case "${1:-}" in
  hide)
    shift
    if [ $# -gt 0 ]; then paths=("$@"); else paths=("${default[@]}"); fi
    [ ! -e "$hold" ] || { echo "device_slim: $hold exists; run 'restore' first" >&2; exit 1; }
    mkdir -p "$hold"
    printf '%s\n' "${paths[@]}" > "$hold.list"
    for p in "${paths[@]}"; do
      git rm -r -q --cached "$p"
      mkdir -p "$hold/$(dirname "$p")"
      mv "$p" "$hold/$p"
    done
    echo "hidden: ${paths[*]}"
    ;;
  restore)
    [ -f "$hold.list" ] || { echo "device_slim: nothing hidden" >&2; exit 1; }
    while read -r p; do
      mkdir -p "$(dirname "$p")"
      mv "$hold/$p" "$p"
      git reset -q -- "$p"
    done < "$hold.list"
    rm -rf "$hold" "$hold.list"
    echo "restored"
    ;;
  *)
    echo "usage: tools/device_slim.sh hide [PATH...] | restore" >&2
    exit 2
    ;;
esac
