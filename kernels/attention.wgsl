// Attention of one query over a KV cache, split over the sequence (Flash-Decoding): `chunk` has a
// workgroup per (head, chunk of CHUNK positions) compute its scores, their max m, Σ exp(s − m) = l
// and Σ exp(s − m) · v; `combine` has a workgroup per head rescale the chunks to the global max and
// divide. Grouped-query attention: query head h reads KV head h / (heads / kv_heads). The sequence
// length (pos + 1) is read from the decoder's state buffer, so chunks past it return at once.
// `chunk_fused` saves the combine dispatch (a barrier and a launch per block on GPUs): every chunk
// workgroup counts itself in on its head's arrival counter once its partials are stored, and the
// last to arrive combines the head. Partials and counters go through atomics so that the last
// workgroup reads what the others stored, not a stale cache line.
//
// The caches are read in units of KV_UNIT elements (16 bytes: 4 f32 or 8 f16) through k_unit /
// v_unit, which the KV-cache prelude prepended to this source defines (attention_kv_f32.wgsl or
// attention_kv_f16.wgsl, which also declares the cache bindings 1 and 2).

override CHUNK: u32 = 64u;
// Threads of the chunk pass.
override WG: u32 = 256u;
// Head size (a multiple of KV_UNIT, at most 256). A constant, so that the loops over a row's units
// and over a chunk's positions have constant trip counts, unroll, and issue their loads together.
override HD: u32 = 128u;
// Lanes per key row in the score phase: a divisor of HD / KV_UNIT and of WG, at most WG / CHUNK,
// so every thread scores at most one position.
override LP: u32 = 4u;

// q's vec4s per cache unit.
const QV: u32 = KV_UNIT / 4u;

struct P { heads: u32, kv_heads: u32, hd: u32, chunks: u32, scale: f32, _a: u32, _b: u32, _c: u32 }
struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
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

// Stores a unit of Σ exp(s − m) · v at word b of part_o.
fn put_unit(b: u32, o: KvUnit) {
  put_o(b, o.lo.x);
  put_o(b + 1u, o.lo.y);
  put_o(b + 2u, o.lo.z);
  put_o(b + 3u, o.lo.w);
  if (KV_UNIT == 8u) {
    put_o(b + 4u, o.hi.x);
    put_o(b + 5u, o.hi.y);
    put_o(b + 6u, o.hi.z);
    put_o(b + 7u, o.hi.w);
  }
}

fn add_unit(a: KvUnit, w: f32, v: KvUnit) -> KvUnit { return KvUnit(a.lo + w * v.lo, a.hi + w * v.hi); }

// The chunk's query head, staged once per workgroup (at most 256 dimensions).
var<workgroup> qs: array<vec4<f32>, 64>;
// Partial dots [lane, position] of the score phase (LP · CHUNK ≤ WG).
var<workgroup> dots: array<f32, WG>;
var<workgroup> scores: array<f32, CHUNK>;
// Σ e · v per thread of the value phase (QV vec4s each), and Σ e per position group.
var<workgroup> acc: array<vec4<f32>, WG * QV>;
var<workgroup> lsum: array<f32, WG>;

fn qs_dot(u: u32, k: KvUnit) -> f32 {
  var a = dot(qs[u * QV], k.lo);
  if (QV == 2u) { a += dot(qs[u * QV + 1u], k.hi); }
  return a;
}

// A workgroup takes CHUNK positions of one head, with four barriers. Scores: LP lanes per
// position, each thread one position; lane l reads units l, l + LP, … of the key row, so the LP
// lanes' loads at each step are one contiguous segment, and the HD / KV_UNIT / LP loads of a
// thread are all in flight at once. The LP partial dots meet in workgroup memory, and every
// thread then reads all CHUNK scores for the max (broadcast reads instead of a barrier per level
// of a tree). Values: HD / KV_UNIT lanes read unit columns of WG / (HD / KV_UNIT) positions at a
// time, each thread weighting its CHUNK / groups positions' values by exp(s − m) itself (no
// second reduction for the weights); Σ exp(s − m) comes from the lane-0 threads' sums.
// A workgroup-uniform call: every thread of the workgroup makes it.
fn chunk_partials(h: u32, c: u32, len: u32, lid: u32) {
  let t0 = c * CHUNK;
  let units = HD / KV_UNIT;
  let row_units = p.kv_heads * units;
  let kvh = h / (p.heads / p.kv_heads);
  let head_units = kvh * units;
  let count = min(CHUNK, len - t0);
  if (lid < HD / 4u) { qs[lid] = q[h * (HD / 4u) + lid]; }
  workgroupBarrier();
  let lane = lid % LP;
  let i = lid / LP;
  var a = 0.0;
  if (i < count) {
    let base = (t0 + i) * row_units + head_units + lane;
    for (var u = 0u; u < units; u += LP) { a += qs_dot(u + lane, k_unit(base + u)); }
  }
  if (i < CHUNK) { dots[lane * CHUNK + i] = a; }
  workgroupBarrier();
  if (lid < CHUNK) {
    var s = -3.0e38;
    if (lid < count) {
      var d = 0.0;
      for (var l = 0u; l < LP; l++) { d += dots[l * CHUNK + lid]; }
      s = d * p.scale;
    }
    scores[lid] = s;
  }
  workgroupBarrier();
  var m = -3.0e38;
  for (var j = 0u; j < CHUNK; j++) { m = max(m, scores[j]); }
  let groups = WG / units;
  let vl = lid % units;
  let g = lid / units;
  var o = KvUnit(vec4<f32>(0.0), vec4<f32>(0.0));
  var el = 0.0;
  if (g < groups) {
    for (var j0 = 0u; j0 < CHUNK; j0 += groups) {
      let j = j0 + g;
      // No test of `count` before the load, so the loads of every step issue together: past
      // the chunk's last position the score is -3e38 and its weight exp(s − m) exactly 0, and the
      // row read is the last one's (a position never written could hold a NaN).
      if (CHUNK % groups == 0u || j < CHUNK) {
        let e = exp(scores[j] - m);
        o = add_unit(o, e, v_unit((t0 + min(j, count - 1u)) * row_units + head_units + vl));
        el += e;
      }
    }
  }
  acc[lid * QV] = o.lo;
  if (QV == 2u) { acc[lid * QV + 1u] = o.hi; }
  if (vl == 0u && g < groups) { lsum[g] = el; }
  workgroupBarrier();
  let slot = h * p.chunks + c;
  if (lid < units) {
    var sum = KvUnit(vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k = 0u; k < groups; k++) {
      let t = (k * units + lid) * QV;
      sum.lo += acc[t];
      if (QV == 2u) { sum.hi += acc[t + 1u]; }
    }
    put_unit(slot * HD + lid * KV_UNIT, sum);
  }
  if (lid == 0u) {
    var l = 0.0;
    for (var k = 0u; k < groups; k++) { l += lsum[k]; }
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
  if (WG % HD == 0u) {
    combine_head_wide(h, used, lid);
  } else {
    combine_head(h, used, lid, WG);
  }
  if (lid == 0u) { atomicStore(&arrivals[h], 0u); }
}

// The CPU-adapter form of `chunk` (llvmpipe runs a workgroup's threads as coroutines and pays a
// switch per barrier): one thread per position walks its key row unit by unit, and a thread per
// unit column sums the values, with two reductions' worth of barriers.
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

// q · a key unit, q read from storage (the rows form stages nothing).
fn q_dot(h: u32, u: u32, k: KvUnit) -> f32 {
  let b = h * (HD / 4u) + u * QV;
  var a = dot(q[b], k.lo);
  if (QV == 2u) { a += dot(q[b + 1u], k.hi); }
  return a;
}

var<workgroup> ps: array<f32, CHUNK>;

@compute @workgroup_size(CHUNK)
fn chunk_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let c = wid.y;
  let len = state.pos + 1u;
  let t0 = c * CHUNK;
  if (t0 >= len) { return; }
  let units = HD / KV_UNIT;
  let row_units = p.kv_heads * units;
  let kvh = h / (p.heads / p.kv_heads);
  let count = min(CHUNK, len - t0);
  var s = -3.0e38;
  if (lid < count) {
    let base = (t0 + lid) * row_units + kvh * units;
    var a = 0.0;
    for (var u = 0u; u < units; u++) { a += q_dot(h, u, k_unit(base + u)); }
    s = a * p.scale;
  }
  let m = rows_reduce(lid, s, true);
  var e = 0.0;
  if (lid < count) { e = exp(s - m); }
  ps[lid] = e;
  let l = rows_reduce(lid, e, false);
  let slot = h * p.chunks + c;
  for (var vl = lid; vl < units; vl += CHUNK) {
    var o = KvUnit(vec4<f32>(0.0), vec4<f32>(0.0));
    for (var i = 0u; i < count; i++) {
      o = add_unit(o, ps[i], v_unit((t0 + i) * row_units + kvh * units + vl));
    }
    put_unit(slot * HD + vl * KV_UNIT, o);
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
  for (var d = lid; d < HD; d += threads) {
    var o = 0.0;
    for (var c = 0u; c < used; c++) {
      let slot = h * p.chunks + c;
      o += get_o(slot * HD + d) * exp(get_ml(2u * slot) - m);
    }
    out[h * HD + d] = o / l;
  }
}

// chunk_fused's combine with every thread at work (WG a multiple of HD): the chunks' (max, sum)
// pairs folded by a tree over the threads, then WG / HD threads per output dimension, each over a
// share of the chunks. Atomic loads do not pipeline, so what costs is the longest chain of them
// per thread: 2 + 2 · used · HD / WG here, against 5 · used in combine_head.
fn combine_head_wide(h: u32, used: u32, lid: u32) {
  var m = -3.0e38;
  var l = 0.0;
  for (var c = lid; c < used; c += WG) {
    let slot = h * p.chunks + c;
    let mc = get_ml(2u * slot);
    let lc = get_ml(2u * slot + 1u);
    let mn = max(m, mc);
    l = l * exp(m - mn) + lc * exp(mc - mn);
    m = mn;
  }
  dots[lid] = m;
  lsum[lid] = l;
  workgroupBarrier();
  for (var s = 1u; s < WG; s <<= 1u) {
    if (lid % (2u * s) == 0u && lid + s < WG) {
      let m1 = dots[lid];
      let m2 = dots[lid + s];
      let mn = max(m1, m2);
      lsum[lid] = lsum[lid] * exp(m1 - mn) + lsum[lid + s] * exp(m2 - mn);
      dots[lid] = mn;
    }
    workgroupBarrier();
  }
  let gm = dots[0];
  let gl = lsum[0];
  workgroupBarrier();  // dots is reused below
  let cgroups = WG / HD;
  let d = lid % HD;
  let cg = lid / HD;
  var o = 0.0;
  for (var c = cg; c < used; c += cgroups) {
    let slot = h * p.chunks + c;
    o += get_o(slot * HD + d) * exp(get_ml(2u * slot) - gm);
  }
  dots[lid] = o;
  workgroupBarrier();
  if (cg == 0u) {
    var t = o;
    for (var k = 1u; k < cgroups; k++) { t += dots[k * HD + d]; }
    out[h * HD + d] = t / gl;
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
  for (var d = lid; d < HD; d += CHUNK) {
    var o = 0.0;
    for (var c = 0u; c < used; c++) {
      let slot = h * p.chunks + c;
      o += o_done[slot * HD + d] * exp(ml_done[2u * slot] - m);
    }
    out[h * HD + d] = o / l;
  }
}
