// Sums the split-K partials of sparse_gemv.wgsl: y[n] = act(Σ_s partials[s][n] + bias[n]).

override WG: u32 = 256u;
override ACT: u32 = 0u;

struct Dims { n: u32, splits: u32, has_bias: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

fn erf_approx(v: f32) -> f32 {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), as WGSL has no erf.
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - p * exp(-a * a));
}

fn activate(v: f32) -> f32 {
  switch (ACT) {
    case 1u: { return max(v, 0.0); }
    case 2u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
    case 3u: { return v / (1.0 + exp(-v)); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= dims.n) { return; }
  var sum = 0.0;
  for (var s = 0u; s < dims.splits; s++) { sum += partials[s * dims.n + n]; }
  if (dims.has_bias != 0u) { sum += bias[n]; }
  y[n] = activate(sum);
}
