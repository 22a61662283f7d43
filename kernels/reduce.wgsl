// Sums the split-K partials of the sparse GEMVs: y[n] = act(Σ_s partials[s][n] + bias[n]).
// A workgroup is COLS columns × SLICES slices of the split dimension: each thread adds every
// SLICES-th split of its column (independent loads, no long dependent chain), then the slices
// meet in workgroup memory. Consecutive threads read consecutive columns (coalesced).

override COLS: u32 = 32u;
override SLICES: u32 = 8u;
// ACT (the activation after the bias) and activate() come from activation.wgsl (prepended).

struct Dims { n: u32, splits: u32, has_bias: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(COLS, SLICES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let n = wid.x * COLS + l.x;
  var a0 = 0.0;
  var a1 = 0.0;
  if (n < dims.n) {
    var s = l.y;
    for (; s + SLICES < dims.splits; s += 2u * SLICES) {
      a0 += partials[s * dims.n + n];
      a1 += partials[(s + SLICES) * dims.n + n];
    }
    if (s < dims.splits) { a0 += partials[s * dims.n + n]; }
  }
  part[l.y * COLS + l.x] = a0 + a1;
  workgroupBarrier();
  if (l.y == 0u && n < dims.n) {
    var sum = 0.0;
    for (var i = 0u; i < SLICES; i++) { sum += part[i * COLS + l.x]; }
    if (dims.has_bias != 0u) { sum += bias[n]; }
    y[n] = activate(sum);
  }
}
