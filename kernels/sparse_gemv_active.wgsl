// Input-sparse GEMV over the active list, in one dispatch: y = act(Σ_{j active} v_j · Wt[j, :] + b)
// with Wt [K, N] row-major (row j = input channel j, N contiguous; TEAL's and Deja Vu's layout),
// so a skipped channel skips one contiguous row. The weight loader `wchunk` (a 16-byte chunk of a
// row: 4 f32 or 8 f16 columns) and CHUNK_COLS come from sparse_weights_{f32,f16}.wgsl, and ACT
// (on the output) from activation.wgsl; the host puts both in front.
//
// Active list. SOURCE 0: each workgroup compacts x itself, in index order (each thread counts
// the kept inputs of a contiguous segment, one exclusive scan gives every kept input its place in
// the list), and keeps only its split's share in workgroup memory: no pass of its own, no atomics,
// and every workgroup sees the same list. SOURCE 1: the list comes from elsewhere (select.wgsl,
// or any kernel that writes idx/vals/count): vals[i] multiplies row idx[i], i < count[0].
//
// Work. Workgroup (tile, split) owns LANES chunks of columns and the split-th of S equal shares
// of the ACTIVE list (balanced whatever the pattern of kept channels). Its G = WG / LANES thread
// rows take every G-th entry of the share, UNROLL weight loads in flight, then meet in workgroup
// memory.
//
// Reduction. S = 1 writes y directly. Otherwise each workgroup stores its partial sums
// (partials[split][col]); with REDUCE 1, the last workgroup of a tile to finish (an arrival
// counter per tile, reset by that workgroup for the next run) adds the S partials in split order,
// adds the bias and activation and writes y, so the sum is the same whatever the arrival order
// (bitwise deterministic, like the list). With REDUCE 0 the partials (also for S = 1) are left
// for reduce.wgsl or for the next kernel to finish. Partials go through atomics so that the last workgroup reads
// them from the device-coherent level, ordered by the storage barriers around the counter.

override WG: u32 = 256u;        // threads per workgroup (power of two)
override LANES: u32 = 64u;      // 16-byte chunks per tile (power of two, <= WG)
override UNROLL: u32 = 4u;      // weight loads in flight per thread: 1, 2, 4 or 8
override SOURCE: u32 = 0u;      // 0: compact x here (threshold rule); 1: read idx/vals/count
override MODE: u32 = 0u;        // SOURCE 0 rule: 0 keep |x_j · s_j| > t, 1 keep x_j > t
override SCALED: bool = false;  // s_j from `scale` (WINA's column norms), else 1
override VALS_ACT: u32 = 0u;    // SOURCE 1: activation applied to vals[i] (values before it)
override REDUCE: u32 = 1u;      // with S > 1: 1 the last workgroup of a tile writes y, 0 partials only
override LIST_MAX: u32 = 1024u; // SOURCE 0: entries of one share held in workgroup memory

override G: u32 = WG / LANES;

struct Dims {
  k: u32,          // inputs
  nc: u32,         // chunks per weight row
  n: u32,          // outputs
  splits: u32,     // S
  t: f32,          // SOURCE 0 threshold
  has_bias: u32,
  part_base: u32,  // word offset of the partials in `scratch` (after the tile counters)
  _pad: u32,
}

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;       // SOURCE 0 input, SOURCE 1 vals
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> list_idx: array<u32>;
@group(0) @binding(4) var<storage, read> list_count: array<u32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> scratch: array<atomic<u32>>;  // counters, partials
@group(0) @binding(8) var<uniform> dims: Dims;

var<workgroup> acc_wg: array<vec4<f32>, WG>;
var<workgroup> scan_wg: array<u32, WG>;
var<workgroup> list_row: array<u32, LIST_MAX>;
var<workgroup> list_val: array<f32, LIST_MAX>;
var<workgroup> total_wg: u32;
var<workgroup> last_wg: u32;

fn keep(v: f32, j: u32) -> bool {
  if (j >= dims.k) { return false; }
  if (MODE == 1u) { return v > dims.t; }
  var m = abs(v);
  if (SCALED) { m *= scale[j]; }
  return m > dims.t;
}

fn kept4(q: vec4<f32>, j: u32) -> u32 {
  return u32(keep(q.x, j)) + u32(keep(q.y, j + 1u)) + u32(keep(q.z, j + 2u)) +
         u32(keep(q.w, j + 3u));
}

// Exclusive prefix sum of one u32 per thread (Hillis–Steele); the total goes to total_wg.
fn exclusive_scan(lid: u32, v: u32) -> u32 {
  scan_wg[lid] = v;
  workgroupBarrier();
  for (var off = 1u; off < WG; off *= 2u) {
    var add = 0u;
    if (lid >= off) { add = scan_wg[lid - off]; }
    workgroupBarrier();
    scan_wg[lid] += add;
    workgroupBarrier();
  }
  if (lid == WG - 1u) { total_wg = scan_wg[lid]; }
  return scan_wg[lid] - v;
}

fn stage(p: u32, begin: u32, end: u32, j: u32, v: f32) {
  if (p >= begin && p < end) {
    list_row[p - begin] = j;
    list_val[p - begin] = v;
  }
}

fn row_of(i: u32, begin: u32) -> u32 {
  if (SOURCE == 0u) { return list_row[i]; }
  return list_idx[begin + i];
}

fn val_of(i: u32, begin: u32) -> f32 {
  if (SOURCE == 0u) { return list_val[i]; }
  let e = begin + i;
  return activate_as(VALS_ACT, x[e / 4u][e % 4u]);
}

// Sums acc_wg over the G thread rows: the result lands in the first LANES slots.
fn reduce_rows(lid: u32, v: vec4<f32>) -> vec4<f32> {
  if (G == 1u) { return v; }
  workgroupBarrier();  // earlier readers of acc_wg are done
  acc_wg[lid] = v;
  workgroupBarrier();
  for (var stride = G / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride * LANES) { acc_wg[lid] += acc_wg[lid + stride * LANES]; }
    workgroupBarrier();
  }
  return acc_wg[lid % LANES];
}

fn write_y(c: u32, lo: vec4<f32>, hi: vec4<f32>) {
  for (var q = 0u; q < CHUNK_COLS; q++) {
    let col = c * CHUNK_COLS + q;
    if (col < dims.n) {
      var v = select(hi[q % 4u], lo[q % 4u], q < 4u);
      if (dims.has_bias != 0u) { v += bias[col]; }
      y[col] = activate(v);
    }
  }
}

fn partial_at(split: u32, c: u32, q: u32) -> u32 {
  return dims.part_base + (split * dims.nc + c) * CHUNK_COLS + q;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x;
  let split = wid.y;
  let lane = lid % LANES;
  let g = lid / LANES;
  let c = tile * LANES + lane;
  let cc = min(c, dims.nc - 1u);  // past the last chunk: load the last one, write nothing

  // 1. This split's share [begin, end) of the active list.
  var total = 0u;
  if (SOURCE == 0u) {
    // Thread lid owns a contiguous run of seg vec4s, loaded four at a time before any is tested,
    // so the list comes out in index order: consecutive entries are consecutive weight rows. (An
    // order striding by WG vec4s had every split read rows 4·WG apart at the same moment: the
    // likely cause, by power-of-two strides, of the 1.2 TB/s the H200 measured with every row
    // kept, against 2.6 TB/s at a quarter skipped.)
    let k4 = (dims.k + 3u) / 4u;
    let seg = (k4 + WG - 1u) / WG;
    let lo = min(k4, lid * seg);
    let hi = min(k4, lo + seg);
    var kept = 0u;
    for (var i = lo; i < hi; i += 4u) {
      let i1 = min(i + 1u, k4 - 1u);
      let i2 = min(i + 2u, k4 - 1u);
      let i3 = min(i + 3u, k4 - 1u);
      let q0 = x[i];
      let q1 = x[i1];
      let q2 = x[i2];
      let q3 = x[i3];
      kept += kept4(q0, i * 4u);
      if (i + 1u < hi) { kept += kept4(q1, i1 * 4u); }
      if (i + 2u < hi) { kept += kept4(q2, i2 * 4u); }
      if (i + 3u < hi) { kept += kept4(q3, i3 * 4u); }
    }
    let offset = exclusive_scan(lid, kept);
    total = workgroupUniformLoad(&total_wg);
    let share = (total + dims.splits - 1u) / dims.splits;
    let begin = min(total, split * share);
    let end = min(total, begin + share);
    if (offset < end && offset + kept > begin) {
      var p = offset;
      for (var i = lo; i < hi && p < end; i++) {
        let q = x[i];
        let j = i * 4u;
        if (keep(q.x, j)) { stage(p, begin, end, j, q.x); p++; }
        if (keep(q.y, j + 1u)) { stage(p, begin, end, j + 1u, q.y); p++; }
        if (keep(q.z, j + 2u)) { stage(p, begin, end, j + 2u, q.z); p++; }
        if (keep(q.w, j + 3u)) { stage(p, begin, end, j + 3u, q.w); p++; }
      }
    }
    workgroupBarrier();
  } else {
    total = list_count[0];
  }
  let share = (total + dims.splits - 1u) / dims.splits;
  let begin = min(total, split * share);
  let rows = min(total, begin + share) - begin;

  // 2. The sweep: every G-th entry of the share, UNROLL loads issued before any is used.
  let nc = dims.nc;
  var a0 = Chunk(vec4<f32>(), vec4<f32>());
  var a1 = Chunk(vec4<f32>(), vec4<f32>());
  var i = g;
  if (UNROLL >= 2u) {
    for (; i + (UNROLL - 1u) * G < rows; i += UNROLL * G) {
      let r0 = row_of(i, begin);
      let r1 = row_of(i + G, begin);
      let v0 = val_of(i, begin);
      let v1 = val_of(i + G, begin);
      if (UNROLL >= 4u) {
        let r2 = row_of(i + 2u * G, begin);
        let r3 = row_of(i + 3u * G, begin);
        let v2 = val_of(i + 2u * G, begin);
        let v3 = val_of(i + 3u * G, begin);
        if (UNROLL >= 8u) {
          let r4 = row_of(i + 4u * G, begin);
          let r5 = row_of(i + 5u * G, begin);
          let r6 = row_of(i + 6u * G, begin);
          let r7 = row_of(i + 7u * G, begin);
          let v4 = val_of(i + 4u * G, begin);
          let v5 = val_of(i + 5u * G, begin);
          let v6 = val_of(i + 6u * G, begin);
          let v7 = val_of(i + 7u * G, begin);
          let w0 = wchunk(r0 * nc + cc);
          let w1 = wchunk(r1 * nc + cc);
          let w2 = wchunk(r2 * nc + cc);
          let w3 = wchunk(r3 * nc + cc);
          let w4 = wchunk(r4 * nc + cc);
          let w5 = wchunk(r5 * nc + cc);
          let w6 = wchunk(r6 * nc + cc);
          let w7 = wchunk(r7 * nc + cc);
          a0.lo += w0.lo * v0 + w1.lo * v1 + w2.lo * v2 + w3.lo * v3;
          a1.lo += w4.lo * v4 + w5.lo * v5 + w6.lo * v6 + w7.lo * v7;
          if (CHUNK_COLS == 8u) {
            a0.hi += w0.hi * v0 + w1.hi * v1 + w2.hi * v2 + w3.hi * v3;
            a1.hi += w4.hi * v4 + w5.hi * v5 + w6.hi * v6 + w7.hi * v7;
          }
        } else {
          let w0 = wchunk(r0 * nc + cc);
          let w1 = wchunk(r1 * nc + cc);
          let w2 = wchunk(r2 * nc + cc);
          let w3 = wchunk(r3 * nc + cc);
          a0.lo += w0.lo * v0 + w1.lo * v1;
          a1.lo += w2.lo * v2 + w3.lo * v3;
          if (CHUNK_COLS == 8u) {
            a0.hi += w0.hi * v0 + w1.hi * v1;
            a1.hi += w2.hi * v2 + w3.hi * v3;
          }
        }
      } else {
        let w0 = wchunk(r0 * nc + cc);
        let w1 = wchunk(r1 * nc + cc);
        a0.lo += w0.lo * v0;
        a1.lo += w1.lo * v1;
        if (CHUNK_COLS == 8u) {
          a0.hi += w0.hi * v0;
          a1.hi += w1.hi * v1;
        }
      }
    }
  }
  for (; i < rows; i += G) {
    let w0 = wchunk(row_of(i, begin) * nc + cc);
    let v0 = val_of(i, begin);
    a0.lo += w0.lo * v0;
    if (CHUNK_COLS == 8u) { a0.hi += w0.hi * v0; }
  }
  let lo = reduce_rows(lid, a0.lo + a1.lo);
  var hi = vec4<f32>();
  if (CHUNK_COLS == 8u) { hi = reduce_rows(lid, a0.hi + a1.hi); }
  let writer = g == 0u && c < nc;

  // 3. Output: y directly, or this split's partials (and, for the last one of the tile, y).
  if (dims.splits == 1u && REDUCE == 1u) {
    if (writer) { write_y(c, lo, hi); }
    return;
  }
  if (writer) {
    for (var q = 0u; q < CHUNK_COLS; q++) {
      let v = select(hi[q % 4u], lo[q % 4u], q < 4u);
      atomicStore(&scratch[partial_at(split, c, q)], bitcast<u32>(v));
    }
  }
  if (REDUCE == 0u) { return; }
  storageBarrier();  // this workgroup's partials are stored before it counts itself in
  if (lid == 0u) {
    last_wg = u32(atomicAdd(&scratch[tile], 1u) == dims.splits - 1u);
  }
  if (workgroupUniformLoad(&last_wg) == 0u) { return; }
  storageBarrier();  // and the other workgroups' partials are read after their counts
  // Four splits per step, all their loads issued before any is added.
  var s_lo = vec4<f32>();
  var s_hi = vec4<f32>();
  for (var s = g; s < dims.splits; s += 4u * G) {
    var lo4: array<vec4<f32>, 4>;
    var hi4: array<vec4<f32>, 4>;
    for (var u = 0u; u < 4u; u++) {
      let su = min(s + u * G, dims.splits - 1u);
      for (var q = 0u; q < 4u; q++) {
        lo4[u][q] = bitcast<f32>(atomicLoad(&scratch[partial_at(su, cc, q)]));
        if (CHUNK_COLS == 8u) {
          hi4[u][q] = bitcast<f32>(atomicLoad(&scratch[partial_at(su, cc, q + 4u)]));
        }
      }
    }
    for (var u = 0u; u < 4u; u++) {
      if (s + u * G < dims.splits) {
        s_lo += lo4[u];
        if (CHUNK_COLS == 8u) { s_hi += hi4[u]; }
      }
    }
  }
  let t_lo = reduce_rows(lid, s_lo);
  var t_hi = vec4<f32>();
  if (CHUNK_COLS == 8u) { t_hi = reduce_rows(lid, s_hi); }
  if (writer) { write_y(c, t_lo, t_hi); }
  if (lid == 0u) { atomicStore(&scratch[tile], 0u); }
}
