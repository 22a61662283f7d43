#!/usr/bin/env bash
# Runs suites on the GPU machine (after the prelude printed by tools/device_pack.sh) and leaves
# one tarball per run folder in $OUT. Node modules are used as packed (--node-modules-dir=manual):
# that machine reaches no registry.
#
# Usage: tools/device_bench.sh SECONDS SUITE[,SUITE...] [bench flags...]
#   e.g. tools/device_bench.sh 300 kernels     (each call of the bench is capped at SECONDS)
set -uo pipefail
limit=$1
suites=$2
shift 2
args=()
for s in ${suites//,/ }; do args+=(--suite "$s"); done
mkdir -p "$OUT/runs"
timeout "$limit" deno run --node-modules-dir=manual --allow-read --allow-write=results,reports,.cache,"$OUT" \
  --allow-ffi --allow-env --allow-sys --allow-run=git,nvidia-smi cli/bench.ts "${args[@]}" --out "$OUT/runs" "$@" \
  > "$OUT/runs/bench-${suites//,/-}.log" 2>&1
echo "bench ${suites}: exit $?"
tail -n 40 "$OUT/runs/bench-${suites//,/-}.log"
for d in "$OUT"/runs/*/; do
  [ -f "$d/run.json" ] || continue
  tar -czf "$OUT/$(basename "$d").tgz" -C "$OUT/runs" "$(basename "$d")" && rm -rf "$d"
done
