// Self-attention of a whole token sequence (an encoder, batch 1): for every query token i and head
// h, out[i, h] = softmax(q_i · K_hᵀ · scale) · V_h over all T tokens. q, k and v come packed in one
// buffer [T, 3·D] (D = heads · head_dim), as one GEMM with the three projections stacked writes
// them; out is [T, D], heads side by side, which is what the out projection reads. One workgroup
// per (query, head): the scores of all keys stay in workgroup memory, so the softmax is exact (max,
// then the sum of exponentials) and each key is read once per pass.

override WG: u32 = 64u;
const MAX_T: u32 = 1024u;

struct P { t: u32, heads: u32, dh: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

var<workgroup> s: array<f32, MAX_T>;
var<workgroup> red: array<f32, WG>;

fn reduce_max(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (lid < k) { red[lid] = max(red[lid], red[lid + k]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x;
  let h = wid.y;
  let d = p.heads * p.dh;
  let stride = 3u * d;
  let qo = i * stride + h * p.dh;
  var mx = -3.4028235e38;
  for (var j = lid; j < p.t; j += WG) {
    let ko = j * stride + d + h * p.dh;
    var dot = 0.0;
    for (var c = 0u; c < p.dh; c++) { dot += qkv[qo + c] * qkv[ko + c]; }
    let v = dot * p.scale;
    s[j] = v;
    mx = max(mx, v);
  }
  mx = reduce_max(lid, mx);
  var sum = 0.0;
  for (var j = lid; j < p.t; j += WG) {
    let e = exp(s[j] - mx);
    s[j] = e;
    sum += e;
  }
  sum = reduce_sum(lid, sum);
  let inv = 1.0 / sum;
  for (var c = lid; c < p.dh; c += WG) {
    var acc = 0.0;
    for (var j = 0u; j < p.t; j++) { acc += s[j] * qkv[j * stride + 2u * d + h * p.dh + c]; }
    out[i * d + h * p.dh + c] = acc * inv;
  }
}
