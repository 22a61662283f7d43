// The activations the kernels fuse, shared by every kernel that takes an `ACT` override: the host
// puts this file in front of the kernel's own source (after any `enable` prelude). Codes match
// ACT_CODE in activation.ts: 0 none, 1 relu, 2 gelu (erf form), 3 silu.

override ACT: u32 = 0u;

fn erf_approx(v: f32) -> f32 {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), as WGSL has no erf.
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - p * exp(-a * a));
}

// A kernel fusing a second activation (on its inputs, say) passes that one's code.
fn activate_as(kind: u32, v: f32) -> f32 {
  switch (kind) {
    case 1u: { return max(v, 0.0); }
    case 2u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
    case 3u: { return v / (1.0 + exp(-v)); }
    default: { return v; }
  }
}

fn activate(v: f32) -> f32 { return activate_as(ACT, v); }
