// Dense GEMV with f16 weights (half the bytes of f32), f32 input, output and accumulation.
// Same layout as gemv.wgsl; needs the `shader-f16` feature. cols must be a multiple of 4.

enable f16;

override TX: u32 = 64u;      // threads per row (a power of two)
override TY: u32 = 4u;       // rows per workgroup
override ACT: u32 = 0u;      // fused activation: 0 none, 1 relu, 2 gelu (erf), 3 silu

struct Dims { rows: u32, cols: u32, has_bias: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> w: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

var<workgroup> partial: array<f32, 1024>;  // TX * TY <= 1024

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



@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) l: vec3<u32>) {
  let row = (wid.x + wid.y * nwg.x) * TY + l.y;
  let cols4 = dims.cols / 4u;
  let base = min(row, dims.rows - 1u) * cols4;
  var a0 = 0.0;
  var a1 = 0.0;
  var c = l.x;
  // Two loads in flight per iteration; the tail takes the last one.
  for (; c + TX < cols4; c += 2u * TX) {
    a0 += dot(vec4<f32>(w[base + c]), x[c]);
    a1 += dot(vec4<f32>(w[base + c + TX]), x[c + TX]);
  }
  if (c < cols4) { a0 += dot(vec4<f32>(w[base + c]), x[c]); }
  if (TX == 1u) {
    // One thread per row (best on CPU adapters such as llvmpipe): no workgroup reduction.
    if (row < dims.rows) {
      var v = a0 + a1;
      if (dims.has_bias != 0u) { v += bias[row]; }
      y[row] = activate(v);
    }
    return;
  }
  let slot = l.y * TX + l.x;
  partial[slot] = a0 + a1;
  workgroupBarrier();
  for (var stride = TX / 2u; stride > 0u; stride /= 2u) {
    if (l.x < stride) { partial[slot] += partial[slot + stride]; }
    workgroupBarrier();
  }
  if (l.x == 0u && row < dims.rows) {
    var v = partial[slot];
    if (dims.has_bias != 0u) { v += bias[row]; }
    y[row] = activate(v);
  }
}
