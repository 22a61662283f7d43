// Attention of one query over a KV cache, split over the sequence (Flash-Decoding): `chunk` has a
// workgroup per (head, chunk of CHUNK positions) compute its scores, their max m, Σ exp(s − m) = l
// and Σ exp(s − m) · v; `combine` has a workgroup per head rescale the chunks to the global max and
// divide. Grouped-query attention: query head h reads KV head h / (heads / kv_heads). The sequence
// length (pos + 1) is read from the decoder's state buffer, so chunks past it return at once.

override CHUNK: u32 = 64u;
override MAX_HD: u32 = 256u;

struct P { heads: u32, kv_heads: u32, hd: u32, chunks: u32, scale: f32, _a: u32, _b: u32, _c: u32 }
struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> kcache: array<f32>;
@group(0) @binding(2) var<storage, read> vcache: array<f32>;
@group(0) @binding(3) var<storage, read> state: State;
@group(0) @binding(4) var<storage, read_write> part_ml: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> part_o: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> p: P;

var<workgroup> qs: array<f32, MAX_HD>;
var<workgroup> ps: array<f32, CHUNK>;
var<workgroup> red: array<f32, CHUNK>;

fn reduce_max(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = CHUNK / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = CHUNK / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(CHUNK)
fn chunk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let c = wid.y;
  let len = state.pos + 1u;
  let t0 = c * CHUNK;
  if (t0 >= len) { return; }
  let hd = p.hd;
  let kvd = p.kv_heads * hd;
  let kvh = h / (p.heads / p.kv_heads);
  for (var d = lid; d < hd; d += CHUNK) { qs[d] = q[h * hd + d]; }
  workgroupBarrier();
  let t = t0 + lid;
  var s = -3.0e38;
  if (t < len) {
    let base = t * kvd + kvh * hd;
    var acc = 0.0;
    for (var d = 0u; d < hd; d++) { acc += qs[d] * kcache[base + d]; }
    s = acc * p.scale;
  }
  let m = reduce_max(lid, s);
  var e = 0.0;
  if (t < len) { e = exp(s - m); }
  ps[lid] = e;
  let l = reduce_sum(lid, e);
  let slot = h * p.chunks + c;
  let count = min(CHUNK, len - t0);
  for (var d = lid; d < hd; d += CHUNK) {
    var o = 0.0;
    for (var i = 0u; i < count; i++) { o += ps[i] * vcache[(t0 + i) * kvd + kvh * hd + d]; }
    part_o[slot * hd + d] = o;
  }
  if (lid == 0u) { part_ml[slot] = vec2<f32>(m, l); }
}

@compute @workgroup_size(CHUNK)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let len = state.pos + 1u;
  let used = (len + CHUNK - 1u) / CHUNK;
  var m = -3.0e38;
  for (var c = 0u; c < used; c++) { m = max(m, part_ml[h * p.chunks + c].x); }
  var l = 0.0;
  for (var c = 0u; c < used; c++) {
    let ml = part_ml[h * p.chunks + c];
    l += ml.y * exp(ml.x - m);
  }
  for (var d = lid; d < p.hd; d += CHUNK) {
    var o = 0.0;
    for (var c = 0u; c < used; c++) {
      o += part_o[(h * p.chunks + c) * p.hd + d] * exp(part_ml[h * p.chunks + c].x - m);
    }
    out[h * p.hd + d] = o / l;
  }
}
