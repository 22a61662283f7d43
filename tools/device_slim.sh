#!/usr/bin/env bash
# The device tool copies the tracked tree (and untracked files git does not ignore) plus `.device`,
# and refuses more than 64 MiB; the zoo's larger models and the published runs push it past that.
# `hide` takes the paths a device run does not need out of the index and ignores them through
# .git/info/exclude, so the copy leaves them out while the files stay where they are (other work in
# the tree keeps reading them); `restore` puts them back in the index from HEAD. Nothing is committed
# either way, but while they are hidden a plain `git commit` would record their deletion: commit
# with explicit paths (`git commit -- PATH...`) or restore first.
#
# Usage, from the repository root: tools/device_slim.sh hide [PATH...] | tools/device_slim.sh restore
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
list=.git/device-hold.list
exclude=.git/info/exclude
begin="# device_slim begin"
end="# device_slim end"
default=(models/lm-char.onnx models/lm-char-decode.onnx models/lm-char-swiglu.onnx
  models/vit-relu-fmnist.onnx models/vit-gelu-fmnist.onnx results/published reports/published
  src/onnx/testdata)
case "${1:-}" in
  hide)
    shift
    if [ $# -gt 0 ]; then paths=("$@"); else paths=("${default[@]}"); fi
    [ ! -e "$list" ] || { echo "device_slim: paths are hidden already; run 'restore' first" >&2; exit 1; }
    printf '%s\n' "${paths[@]}" > "$list"
    mkdir -p "$(dirname "$exclude")"
    echo "$begin" >> "$exclude"
    for p in "${paths[@]}"; do
      git rm -r -q --cached --ignore-unmatch "$p"
      # The second pattern reaches files under folders that .gitignore re-includes.
      printf '/%s\n/%s/**\n' "$p" "$p" >> "$exclude"
    done
    echo "$end" >> "$exclude"
    echo "hidden: ${paths[*]}"
    ;;
  restore)
    [ -f "$list" ] || { echo "device_slim: nothing hidden" >&2; exit 1; }
    sed -i "/^$begin\$/,/^$end\$/d" "$exclude"
    while read -r p; do git reset -q -- "$p"; done < "$list"
    rm -f "$list"
    echo "restored"
    ;;
  *)
    echo "usage: tools/device_slim.sh hide [PATH...] | restore" >&2
    exit 2
    ;;
esac
