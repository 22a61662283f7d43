// Residual add and LayerNorm over a token sequence, one workgroup per output row:
//   x_out[r] ← x_in[src] + addend[src]     (src = rows[r] with GATHER, else r; ADD adds)
//   h[r]     ← (x_out[r] − mean) / sqrt(var + eps) · w + b
// GATHER keeps only the listed tokens (token pruning): the sequence after it is shorter, and the
// residual stream goes on compact. x_in and x_out are different buffers (a gathered row may be
// read after another workgroup has written its own row). Two passes (mean, then the centred sum of
// squares), so the variance matches ONNX Runtime's to f32 rounding.

override WG: u32 = 64u;
override ADD: bool = true;
override GATHER: bool = false;

struct P { rows: u32, n: u32, eps: f32, _a: u32 }

@group(0) @binding(0) var<storage, read> x_in: array<f32>;
@group(0) @binding(1) var<storage, read> addend: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> x_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> h: array<f32>;
@group(0) @binding(7) var<uniform> p: P;

var<workgroup> red: array<f32, WG>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= p.rows) { return; }
  var src = r;
  if (GATHER) { src = rows[r]; }
  let n = p.n;
  var s1 = 0.0;
  for (var j = lid; j < n; j += WG) {
    var v = x_in[src * n + j];
    if (ADD) { v += addend[src * n + j]; }
    x_out[r * n + j] = v;
    s1 += v;
  }
  let mean = workgroup_sum(lid, s1) / f32(n);
  var s2 = 0.0;
  for (var j = lid; j < n; j += WG) {
    let c = x_out[r * n + j] - mean;
    s2 += c * c;
  }
  let rstd = inverseSqrt(workgroup_sum(lid, s2) / f32(n) + p.eps);
  for (var j = lid; j < n; j += WG) {
    h[r * n + j] = (x_out[r * n + j] - mean) * rstd * w[j] + b[j];
  }
}
