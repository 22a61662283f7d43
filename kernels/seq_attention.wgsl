// Self-attention of a whole token sequence (an encoder, batch 1): for every query token i and head
// h, out[i, h] = softmax(q_i · K_hᵀ · scale) · V_h over all T tokens. q, k and v come packed in one
// buffer [T, 3·D] (D = heads · head_dim), as one GEMM with the three projections stacked writes
// them; out is [T, D], heads side by side, which is what the out projection reads.
//
// One invocation per (query, head, group of 8 output dimensions), with an online softmax (running
// maximum and sum, the accumulator rescaled when the maximum grows): no workgroup memory and no
// barriers. Each group recomputes the scores of its query (head_dim / 8 times the minimum work
// for q·k), which costs less than the barriers of a shared softmax: a workgroup per (query, head)
// sharing its scores through workgroup memory took 260 ms on llvmpipe for 197 tokens and 4 heads.

struct P { t: u32, heads: u32, dh: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let groups = (p.dh + 7u) / 8u;
  let i = g.x / groups;
  let grp = g.x % groups;
  let h = g.y;
  if (i >= p.t) { return; }
  let d = p.heads * p.dh;
  let stride = 3u * d;
  let qo = i * stride + h * p.dh;
  // This group's 8 dimensions; past head_dim they read the last one and are not written.
  let c0 = grp * 8u;
  var cs: array<u32, 8>;
  for (var c = 0u; c < 8u; c++) { cs[c] = min(c0 + c, p.dh - 1u); }
  var mx = -3.0e38;
  var sum = 0.0;
  var lo = vec4<f32>(0.0);
  var hi = vec4<f32>(0.0);
  for (var j = 0u; j < p.t; j++) {
    let ko = j * stride + d + h * p.dh;
    var dot = 0.0;
    for (var c = 0u; c < p.dh; c++) { dot += qkv[qo + c] * qkv[ko + c]; }
    let s = dot * p.scale;
    let m = max(mx, s);
    let corr = exp(mx - m);
    let e = exp(s - m);
    mx = m;
    sum = sum * corr + e;
    let vo = ko + d;
    lo = lo * corr + e * vec4<f32>(qkv[vo + cs[0]], qkv[vo + cs[1]], qkv[vo + cs[2]], qkv[vo + cs[3]]);
    hi = hi * corr + e * vec4<f32>(qkv[vo + cs[4]], qkv[vo + cs[5]], qkv[vo + cs[6]], qkv[vo + cs[7]]);
  }
  let inv = 1.0 / sum;
  let oo = i * d + h * p.dh;
  for (var c = 0u; c < 8u; c++) {
    if (c0 + c >= p.dh) { break; }
    var v = 0.0;
    if (c < 4u) { v = lo[c]; } else { v = hi[c - 4u]; }
    out[oo + c0 + c] = v * inv;
  }
}
