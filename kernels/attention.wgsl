// Attention of one query over a KV cache, split over the sequence (Flash-Decoding): `chunk` has a
// workgroup per (head, chunk of CHUNK positions) compute its scores, their max m, Σ exp(s − m) = l
// and Σ exp(s − m) · v; `combine` has a workgroup per head rescale the chunks to the global max and
// divide. Grouped-query attention: query head h reads KV head h / (heads / kv_heads). The sequence
// length (pos + 1) is read from the decoder's state buffer, so chunks past it return at once.
// `chunk_fused` saves the combine dispatch (a barrier and a launch per block on GPUs): every chunk
// workgroup counts itself in on its head's arrival counter once its partials are stored, and the
// last to arrive combines the head. Partials and counters go through atomics so that the last
// workgroup reads what the others stored, not a stale cache line.

override CHUNK: u32 = 64u;
// Threads of the chunk pass; GROUPS = WG / (hd / 4) positions (or position groups) at a time.
override WG: u32 = 256u;

struct P { heads: u32, kv_heads: u32, hd: u32, chunks: u32, scale: f32, _a: u32, _b: u32, _c: u32 }
struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> kcache: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> vcache: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> state: State;
// Per (head, chunk): m and l (2 words), and Σ exp(s − m) · v (hd words), as f32 bits.
@group(0) @binding(4) var<storage, read_write> part_ml: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> part_o: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> p: P;
// Arrivals per head (chunk_fused), back to 0 once the head is combined.
@group(0) @binding(8) var<storage, read_write> arrivals: array<atomic<u32>>;
// The same partials as plain f32 for the separate combine pass, which runs after the chunk pass
// has finished and so needs no atomics (plain loads pipeline; chains of atomic loads do not).
@group(0) @binding(9) var<storage, read> ml_done: array<f32>;
@group(0) @binding(10) var<storage, read> o_done: array<f32>;

fn put_o(i: u32, v: f32) { atomicStore(&part_o[i], bitcast<u32>(v)); }
fn put_ml(i: u32, v: f32) { atomicStore(&part_ml[i], bitcast<u32>(v)); }
fn get_o(i: u32) -> f32 { return bitcast<f32>(atomicLoad(&part_o[i])); }
fn get_ml(i: u32) -> f32 { return bitcast<f32>(atomicLoad(&part_ml[i])); }

// Per (position, lane) partial dot products, padded by one so a position's lanes span banks.
var<workgroup> dots: array<f32, CHUNK * 65u>;
var<workgroup> ps: array<f32, CHUNK>;
var<workgroup> red: array<f32, WG>;
var<workgroup> acc: array<vec4<f32>, WG>;

fn reduce(lid: u32, v: f32, is_max: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      if (is_max) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] += red[lid + s]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// A workgroup takes CHUNK positions of one head. Scores: hd/4 lanes read one position's key as
// vec4s (one coalesced row per lane group), GROUPS positions at a time; values: the same lanes
// read vec4 columns of GROUPS positions at a time. Every load is a contiguous row segment. A
// workgroup-uniform call: every thread of the workgroup makes it.
fn chunk_partials(h: u32, c: u32, len: u32, lid: u32) {
  let t0 = c * CHUNK;
  let hd4 = p.hd / 4u;
  let kvd4 = p.kv_heads * hd4;
  let kvh = h / (p.heads / p.kv_heads);
  let groups = WG / hd4;
  let lane = lid % hd4;
  let g = lid / hd4;
  let count = min(CHUNK, len - t0);
  var qv = vec4<f32>(0.0);
  if (g < groups) { qv = q[h * hd4 + lane]; }
  for (var i = g; i < count && g < groups; i += groups) {
    dots[i * 65u + lane] = dot(qv, kcache[(t0 + i) * kvd4 + kvh * hd4 + lane]);
  }
  workgroupBarrier();
  var s = -3.0e38;
  if (lid < count) {
    var a = 0.0;
    for (var l = 0u; l < hd4; l++) { a += dots[lid * 65u + l]; }
    s = a * p.scale;
  }
  let m = reduce(lid, s, true);
  var e = 0.0;
  if (lid < count) { e = exp(s - m); }
  if (lid < CHUNK) { ps[lid] = e; }
  let l = reduce(lid, e, false);
  var o = vec4<f32>(0.0);
  for (var i = g; i < count && g < groups; i += groups) {
    o += ps[i] * vcache[(t0 + i) * kvd4 + kvh * hd4 + lane];
  }
  acc[lid] = o;
  workgroupBarrier();
  let slot = h * p.chunks + c;
  if (g == 0u) {
    var sum = acc[lane];
    for (var k = 1u; k < groups; k++) { sum += acc[k * hd4 + lane]; }
    let base = slot * p.hd + lane * 4u;
    put_o(base, sum.x);
    put_o(base + 1u, sum.y);
    put_o(base + 2u, sum.z);
    put_o(base + 3u, sum.w);
  }
  if (lid == 0u) {
    put_ml(2u * slot, m);
    put_ml(2u * slot + 1u, l);
  }
}

@compute @workgroup_size(WG)
fn chunk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let len = state.pos + 1u;
  if (wid.y * CHUNK >= len) { return; }
  chunk_partials(wid.x, wid.y, len, lid);
}

var<workgroup> last_wg: u32;

@compute @workgroup_size(WG)
fn chunk_fused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let len = state.pos + 1u;
  if (wid.y * CHUNK >= len) { return; }
  chunk_partials(h, wid.y, len, lid);
  storageBarrier();  // this workgroup's partials are stored before it counts itself in
  let used = (len + CHUNK - 1u) / CHUNK;
  if (lid == 0u) { last_wg = u32(atomicAdd(&arrivals[h], 1u) == used - 1u); }
  if (workgroupUniformLoad(&last_wg) == 0u) { return; }
  storageBarrier();  // and the others' partials are read after their arrivals
  combine_head(h, used, lid, WG);
  if (lid == 0u) { atomicStore(&arrivals[h], 0u); }
}

// The CPU-adapter form of `chunk` (llvmpipe runs a workgroup's threads as coroutines and pays a
// switch per barrier): one thread per position walks its key row as vec4s, and hd/4 threads sum
// the values, with three reductions' worth of barriers instead of the lane-parallel form's many.
var<workgroup> rows_red: array<f32, CHUNK>;

fn rows_reduce(lid: u32, v: f32, is_max: bool) -> f32 {
  rows_red[lid] = v;
  workgroupBarrier();
  for (var s = CHUNK / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      if (is_max) {
        rows_red[lid] = max(rows_red[lid], rows_red[lid + s]);
      } else {
        rows_red[lid] += rows_red[lid + s];
      }
    }
    workgroupBarrier();
  }
  let r = rows_red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(CHUNK)
fn chunk_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let c = wid.y;
  let len = state.pos + 1u;
  let t0 = c * CHUNK;
  if (t0 >= len) { return; }
  let hd4 = p.hd / 4u;
  let kvd4 = p.kv_heads * hd4;
  let kvh = h / (p.heads / p.kv_heads);
  let count = min(CHUNK, len - t0);
  var s = -3.0e38;
  if (lid < count) {
    let base = (t0 + lid) * kvd4 + kvh * hd4;
    var a = 0.0;
    for (var l = 0u; l < hd4; l++) { a += dot(q[h * hd4 + l], kcache[base + l]); }
    s = a * p.scale;
  }
  let m = rows_reduce(lid, s, true);
  var e = 0.0;
  if (lid < count) { e = exp(s - m); }
  ps[lid] = e;
  let l = rows_reduce(lid, e, false);
  let slot = h * p.chunks + c;
  for (var lane = lid; lane < hd4; lane += CHUNK) {
    var o = vec4<f32>(0.0);
    for (var i = 0u; i < count; i++) { o += ps[i] * vcache[(t0 + i) * kvd4 + kvh * hd4 + lane]; }
    let b = slot * p.hd + lane * 4u;
    put_o(b, o.x);
    put_o(b + 1u, o.y);
    put_o(b + 2u, o.z);
    put_o(b + 3u, o.w);
  }
  if (lid == 0u) {
    put_ml(2u * slot, m);
    put_ml(2u * slot + 1u, l);
  }
}

// Rescales head h's `used` chunks to their common max and divides, `threads` threads at a time
// (chunk_fused's last workgroup; `combine` is the same over the plain views).
fn combine_head(h: u32, used: u32, lid: u32, threads: u32) {
  var m = -3.0e38;
  for (var c = 0u; c < used; c++) { m = max(m, get_ml(2u * (h * p.chunks + c))); }
  var l = 0.0;
  for (var c = 0u; c < used; c++) {
    let slot = h * p.chunks + c;
    l += get_ml(2u * slot + 1u) * exp(get_ml(2u * slot) - m);
  }
  for (var d = lid; d < p.hd; d += threads) {
    var o = 0.0;
    for (var c = 0u; c < used; c++) {
      let slot = h * p.chunks + c;
      o += get_o(slot * p.hd + d) * exp(get_ml(2u * slot) - m);
    }
    out[h * p.hd + d] = o / l;
  }
}

@compute @workgroup_size(CHUNK)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let len = state.pos + 1u;
  let used = (len + CHUNK - 1u) / CHUNK;
  var m = -3.0e38;
  for (var c = 0u; c < used; c++) { m = max(m, ml_done[2u * (h * p.chunks + c)]); }
  var l = 0.0;
  for (var c = 0u; c < used; c++) {
    let slot = h * p.chunks + c;
    l += ml_done[2u * slot + 1u] * exp(ml_done[2u * slot] - m);
  }
  for (var d = lid; d < p.hd; d += CHUNK) {
    var o = 0.0;
    for (var c = 0u; c < used; c++) {
      let slot = h * p.chunks + c;
      o += o_done[slot * p.hd + d] * exp(ml_done[2u * slot] - m);
    }
    out[h * p.hd + d] = o / l;
  }
}
