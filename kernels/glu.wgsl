// The FFN's hidden vector from its up projection(s), finishing their split-K sum and bias:
// h = act(Σ_s g[s] + bg) · (Σ_s u[s] + bu) for a gated FFN (GATED; g and u side by side in one
// [splits, 2·ff] buffer, gate first), h = act(Σ_s u[s] + bu) for a plain one. With GATE_T, CATS's
// rule: h_j = 0 where |act(g_j)| ≤ thresholds[slot] (the down projection then skips row j).

override WG: u32 = 256u;
override GATED: bool = true;
override ACT: u32 = 3u;
override GATE_T: bool = false;
// SEQ: row r = workgroup_id.y of a token sequence (prefill): its own [splits, width] block of gu
// and row r of h.
override SEQ: bool = false;

struct P { ff: u32, splits: u32, slot: u32, _a: u32 }

@group(0) @binding(0) var<storage, read> gu: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> thresholds: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;
@group(0) @binding(4) var<uniform> p: P;

fn erf_approx(v: f32) -> f32 {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), as WGSL has no erf.
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let q = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - q * exp(-a * a));
}

fn activate(v: f32) -> f32 {
  switch (ACT) {
    case 1u: { return max(v, 0.0); }
    case 2u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
    case 3u: { return v / (1.0 + exp(-v)); }
    // GPT-2's tanh form, 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))).
    case 4u: { return 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); }
    default: { return v; }
  }
}

// The split-K partials' sum, four loads in flight (a plain loop over a runtime count issues
// them one after another, and the sum of 16 splits then costs 16 memory latencies).
fn split_sum(i: u32, stride: u32) -> f32 {
  var a = vec4<f32>(0.0);
  var s = 0u;
  for (; s + 4u <= p.splits; s += 4u) {
    a += vec4<f32>(gu[s * stride + i], gu[(s + 1u) * stride + i], gu[(s + 2u) * stride + i],
                   gu[(s + 3u) * stride + i]);
  }
  for (; s < p.splits; s++) { a.x += gu[s * stride + i]; }
  return (a.x + a.y) + (a.z + a.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * WG + lid;
  if (j >= p.ff) { return; }
  var width = p.ff;
  if (GATED) { width = 2u * p.ff; }
  let row = select(0u, wid.y, SEQ);
  let gb = row * p.splits * width;
  let a = bias[j] + split_sum(gb + j, width);
  var v = activate(a);
  if (GATED) {
    if (GATE_T && abs(v) <= thresholds[p.slot]) { v = 0.0; }
    let u = bias[j + p.ff] + split_sum(gb + j + p.ff, width);
    v *= u;
  }
  h[row * p.ff + j] = v;
}
