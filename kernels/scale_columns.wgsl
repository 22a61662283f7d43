// In place, W[r][c] ← W[r][c] · s[c] over a row-major [rows, cols] weight (cols a multiple of 4,
// as the dense GEMV stores it): folds an RMSNorm's weight into the GEMV that reads the norm's
// output, so that GEMV only scales its dots by 1/rms (gemv.wgsl NORM_IN). F16 weights are read
// and written as u32 pairs, so no shader-f16 is needed; the product is rounded to f16 once.

override WG: u32 = 256u;
override F16: bool = false;

struct P { words: u32, cols: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<storage, read_write> w: array<u32>;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.words) { return; }
  if (F16) {
    let c = (i * 2u) % p.cols;
    let v = unpack2x16float(w[i]) * vec2<f32>(s[c], s[c + 1u]);
    w[i] = pack2x16float(v);
  } else {
    w[i] = bitcast<u32>(bitcast<f32>(w[i]) * s[i % p.cols]);
  }
}
