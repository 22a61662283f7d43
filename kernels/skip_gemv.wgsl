// Input-sparse GEMV for decoding, TEAL's layout: the weight is stored transposed, [k, n] with n
// contiguous, so an input that fails the rule skips one contiguous row. The rule's threshold is
// read from thresholds[slot] (a calibrated constant, or a per-token value the threshold kernel
// wrote just before), so thresholds can change every token without a host round trip.
//   MODE 0: keep |x_j| (· s_j when SCALED) > t   MODE 1: keep x_j > t
// Each workgroup owns `lanes` 16-byte column units and one split of the rows; a chunk of WG rows
// at a time, every thread tests one row and the kept ones take a slot in workgroup memory, then
// the threads sweep only the kept rows, two loads in flight. Without COMPACT each thread tests its
// rows as it goes, four rows at a time with their loads issued before any is used: with lanes ≥ 32
// the threads of a warp share a row, so the test is uniform across the warp and a skipped row
// issues no weight load at all. That form has no atomics and no barrier in the loop, which is
// why it holds the dense GEMV's bandwidth with every row kept (the compacting form serialises 256
// threads on one workgroup counter there; the H200 measured 134 µs against the dense 43 µs for
// 4096x11008 f32); compaction pays only at high sparsity, where the test loop's latency is the
// floor. STAGE copies the split's inputs into workgroup memory first, so that loop reads them
// at workgroup-memory latency. Partial sums per split go to
// partials[split][n]; the kernel that reads the output next finishes the sum (add_norm,
// rope_cache, glu), so the reduction costs no dispatch of its own. The weight loader `wunit`
// (f32: 4 columns per unit; f16: 8, unpacked from u32 pairs) comes from a prelude the host adds,
// and so does the output (`put`, `finish`): partials left for the next kernel
// (skip_gemv_out_partials.wgsl), or summed by the last workgroup of each column tile into the
// residual stream (skip_gemv_out_residual.wgsl), which spares the norm that used to do it.
// NORM_IN reads the raw residual stream and applies RMSNorm on the fly: the input is x_j·g_j,
// the rule compares it against t / rstd (|x_j·g_j·rstd| > t ⇔ |x_j·g_j| > t / rstd), and the sums
// are scaled by rstd once at the end; the norm then costs no dispatch either. Σx² comes from the
// per-tile sums the residual GEMV that wrote the stream left (SUMSQ_TILES of them, a few loads),
// or else every workgroup sums x² over all k itself: on the H200 that prologue, 16 loads per
// thread and a tree of barriers before the first weight load, cost 7 µs of a 21 µs q/k/v GEMV.
// SCAN lists the split's kept rows once, before any weight load: each thread tests a run of
// adjacent rows, an inclusive prefix sum over the threads' counts (no atomics, so the list and
// the summation order are the same every run) gives each thread its place, and the threads then
// sweep the list eight rows at a time. The form without compaction waits on an input load and a
// test before each step's weight loads, and at sparsity s keeps only 4(1 − s) of them in flight;
// the list keeps eight in flight at any sparsity and has no test left in the loop.

override WG: u32 = 256u;
override MODE: u32 = 0u;
override SCALED: bool = false;
override COMPACT: bool = true;
override STAGE: bool = false;   // without COMPACT: the split's inputs in workgroup memory first
override STAGE_MAX: u32 = 2048u; // inputs a staged split may hold (the host checks)
override NORM_IN: bool = false;
override DEEP: bool = false;
override SUMSQ_TILES: u32 = 0u; // NORM_IN: per-tile Σx² to read (0: sum x² here)
override SCAN: bool = false;    // the split's kept rows listed once by a prefix sum, then swept
override SCAN_MAX: u32 = 4u;    // SCAN: rows a split holds (the host sizes it to the split)

struct Dims { k: u32, units: u32, splits: u32, lanes: u32, slot: u32, eps: f32, _b: u32, _c: u32 }

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> thresholds: array<f32>;
@group(0) @binding(5) var<uniform> dims: Dims;
// Kept inputs, counted by the first column tile's workgroups: counts[slot] += kept rows (the
// realised sparsity of a run, measured, not assumed).
@group(0) @binding(6) var<storage, read_write> counts: array<atomic<u32>>;
// NORM_IN: the norm's weight g (a one-element dummy otherwise).
@group(0) @binding(7) var<storage, read> gain: array<f32>;
// NORM_IN with SUMSQ_TILES: Σx² per column tile of the stream's writer (a dummy otherwise).
@group(0) @binding(8) var<storage, read> sumsq_in: array<f32>;

var<workgroup> acc_lo: array<vec4<f32>, WG>;
var<workgroup> acc_hi: array<vec4<f32>, WG>;
var<workgroup> kept_row: array<u32, WG>;
var<workgroup> kept_val: array<f32, WG>;
var<workgroup> kept_slots: atomic<u32>;
var<workgroup> kept_count: u32;
var<workgroup> x_stage: array<f32, STAGE_MAX>;
var<workgroup> scan_row: array<u32, SCAN_MAX>;
var<workgroup> scan_val: array<f32, SCAN_MAX>;
var<workgroup> scan_sum: array<u32, WG>;

fn keep(v: f32, j: u32, t: f32) -> bool {
  if (MODE == 1u) { return v > t; }
  var m = abs(v);
  if (SCALED) { m *= scale[j]; }
  return m > t;
}

fn raw_input(r: u32) -> f32 {
  if (NORM_IN) { return x[r] * gain[r]; }
  return x[r];
}

fn input_at(r: u32, start: u32) -> f32 {
  if (STAGE) { return x_stage[r - start]; }
  return raw_input(r);
}

// 1 / sqrt(mean(x²) + eps) over all k inputs, the same in every thread (all threads call it).
fn rms_scale(lid: u32) -> f32 {
  var ss = 0.0;
  var terms = WG;
  if (SUMSQ_TILES > 0u) {
    for (var i = lid; i < SUMSQ_TILES; i += WG) { ss += sumsq_in[i]; }
    terms = min(WG, SUMSQ_TILES);
  } else {
    // Four loads issued before any is used: the loop is latency-bound, not bandwidth-bound.
    var i = lid;
    for (; i + 3u * WG < dims.k; i += 4u * WG) {
      let a = x[i];
      let b = x[i + WG];
      let c = x[i + 2u * WG];
      let d = x[i + 3u * WG];
      ss += a * a + b * b + c * c + d * d;
    }
    for (; i < dims.k; i += WG) {
      let v = x[i];
      ss += v * v;
    }
  }
  acc_lo[lid] = vec4<f32>(ss, 0.0, 0.0, 0.0);
  workgroupBarrier();
  for (var s = 1u; s < terms; s <<= 1u) {
    if (lid % (2u * s) == 0u && lid + s < WG) { acc_lo[lid].x += acc_lo[lid + s].x; }
    workgroupBarrier();
  }
  let total = acc_lo[0].x;
  workgroupBarrier();  // acc_lo is reused for the sums
  return inverseSqrt(total / f32(dims.k) + dims.eps);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let units = dims.units;
  let lanes = dims.lanes;
  let groups = WG / lanes;
  let col = wid.x * lanes + lid % lanes;
  let rgroup = lid / lanes;
  let share = (dims.k + dims.splits - 1u) / dims.splits;
  let start = wid.y * share;
  let end = min(dims.k, start + share);
  let c = min(col, units - 1u);
  var rstd = 1.0;
  if (NORM_IN) { rstd = rms_scale(lid); }
  let t = thresholds[dims.slot] / rstd;
  var lo = vec4<f32>(0.0);
  var hi = vec4<f32>(0.0);
  var lo1 = vec4<f32>(0.0);
  var hi1 = vec4<f32>(0.0);
  if (!COMPACT && !SCAN) {
    if (STAGE) {
      for (var r = start + lid; r < end; r += WG) { x_stage[r - start] = raw_input(r); }
      workgroupBarrier();
    }
    var kept = 0u;
    var r = start + rgroup;
    // DEEP: eight rows per step, so that at sparsity s about 8(1 − s) loads are in flight per
    // thread (four rows keep only two in flight at s = 0.5, half the dense GEMV's).
    for (; DEEP && r + 7u * groups < end; r += 8u * groups) {
      let z = Unit(vec4<f32>(0.0), vec4<f32>(0.0));
      let v0 = input_at(r, start);
      let v1 = input_at(r + groups, start);
      let v2 = input_at(r + 2u * groups, start);
      let v3 = input_at(r + 3u * groups, start);
      let v4 = input_at(r + 4u * groups, start);
      let v5 = input_at(r + 5u * groups, start);
      let v6 = input_at(r + 6u * groups, start);
      let v7 = input_at(r + 7u * groups, start);
      let k0 = keep(v0, r, t);
      let k1 = keep(v1, r + groups, t);
      let k2 = keep(v2, r + 2u * groups, t);
      let k3 = keep(v3, r + 3u * groups, t);
      let k4 = keep(v4, r + 4u * groups, t);
      let k5 = keep(v5, r + 5u * groups, t);
      let k6 = keep(v6, r + 6u * groups, t);
      let k7 = keep(v7, r + 7u * groups, t);
      var u0 = z;
      var u1 = z;
      var u2 = z;
      var u3 = z;
      var u4 = z;
      var u5 = z;
      var u6 = z;
      var u7 = z;
      if (k0) { u0 = wunit(r * units + c); }
      if (k1) { u1 = wunit((r + groups) * units + c); }
      if (k2) { u2 = wunit((r + 2u * groups) * units + c); }
      if (k3) { u3 = wunit((r + 3u * groups) * units + c); }
      if (k4) { u4 = wunit((r + 4u * groups) * units + c); }
      if (k5) { u5 = wunit((r + 5u * groups) * units + c); }
      if (k6) { u6 = wunit((r + 6u * groups) * units + c); }
      if (k7) { u7 = wunit((r + 7u * groups) * units + c); }
      lo += u0.lo * v0 + u1.lo * v1 + u2.lo * v2 + u3.lo * v3;
      hi += u0.hi * v0 + u1.hi * v1 + u2.hi * v2 + u3.hi * v3;
      lo1 += u4.lo * v4 + u5.lo * v5 + u6.lo * v6 + u7.lo * v7;
      hi1 += u4.hi * v4 + u5.hi * v5 + u6.hi * v6 + u7.hi * v7;
      kept += u32(k0) + u32(k1) + u32(k2) + u32(k3) + u32(k4) + u32(k5) + u32(k6) + u32(k7);
    }
    for (; r + 3u * groups < end; r += 4u * groups) {
      let v0 = input_at(r, start);
      let v1 = input_at(r + groups, start);
      let v2 = input_at(r + 2u * groups, start);
      let v3 = input_at(r + 3u * groups, start);
      let z = Unit(vec4<f32>(0.0), vec4<f32>(0.0));
      var u0 = z;
      var u1 = z;
      var u2 = z;
      var u3 = z;
      let k0 = keep(v0, r, t);
      let k1 = keep(v1, r + groups, t);
      let k2 = keep(v2, r + 2u * groups, t);
      let k3 = keep(v3, r + 3u * groups, t);
      if (k0) { u0 = wunit(r * units + c); }
      if (k1) { u1 = wunit((r + groups) * units + c); }
      if (k2) { u2 = wunit((r + 2u * groups) * units + c); }
      if (k3) { u3 = wunit((r + 3u * groups) * units + c); }
      lo += u0.lo * v0 + u1.lo * v1;
      hi += u0.hi * v0 + u1.hi * v1;
      lo1 += u2.lo * v2 + u3.lo * v3;
      hi1 += u2.hi * v2 + u3.hi * v3;
      kept += u32(k0) + u32(k1) + u32(k2) + u32(k3);
    }
    for (; r < end; r += groups) {
      let v = input_at(r, start);
      if (keep(v, r, t)) {
        let u = wunit(r * units + c);
        lo += u.lo * v;
        hi += u.hi * v;
        kept++;
      }
    }
    if (wid.x == 0u && lid % lanes == 0u && kept > 0u) { atomicAdd(&counts[dims.slot], kept); }
  }
  if (SCAN) {
    let rows = select(0u, end - start, end > start);
    let per = (rows + WG - 1u) / WG;  // ≤ 32, the mask's bits (the host checks)
    let first = start + lid * per;
    let last = min(end, first + per);
    var mask = 0u;
    var mine = 0u;
    var r = first;
    // Four inputs loaded before any is tested (their loads are independent).
    for (; r + 3u < last; r += 4u) {
      let k0 = keep(raw_input(r), r, t);
      let k1 = keep(raw_input(r + 1u), r + 1u, t);
      let k2 = keep(raw_input(r + 2u), r + 2u, t);
      let k3 = keep(raw_input(r + 3u), r + 3u, t);
      mask |= (u32(k0) | (u32(k1) << 1u) | (u32(k2) << 2u) | (u32(k3) << 3u)) << (r - first);
      mine += u32(k0) + u32(k1) + u32(k2) + u32(k3);
    }
    for (; r < last; r++) {
      let kr = keep(raw_input(r), r, t);
      mask |= u32(kr) << (r - first);
      mine += u32(kr);
    }
    scan_sum[lid] = mine;
    workgroupBarrier();
    for (var s = 1u; s < WG; s <<= 1u) {
      var v = scan_sum[lid];
      if (lid >= s) { v += scan_sum[lid - s]; }
      workgroupBarrier();
      scan_sum[lid] = v;
      workgroupBarrier();
    }
    var at = scan_sum[lid] - mine;
    for (var m = mask; m != 0u; m &= m - 1u) {
      let row = first + firstTrailingBit(m);
      scan_row[at] = row;
      scan_val[at] = raw_input(row);
      at++;
    }
    workgroupBarrier();
    let count = scan_sum[WG - 1u];
    if (wid.x == 0u && lid == 0u && count > 0u) { atomicAdd(&counts[dims.slot], count); }
    var j = rgroup;
    for (; j + 7u * groups < count; j += 8u * groups) {
      let u0 = wunit(scan_row[j] * units + c);
      let u1 = wunit(scan_row[j + groups] * units + c);
      let u2 = wunit(scan_row[j + 2u * groups] * units + c);
      let u3 = wunit(scan_row[j + 3u * groups] * units + c);
      let u4 = wunit(scan_row[j + 4u * groups] * units + c);
      let u5 = wunit(scan_row[j + 5u * groups] * units + c);
      let u6 = wunit(scan_row[j + 6u * groups] * units + c);
      let u7 = wunit(scan_row[j + 7u * groups] * units + c);
      let v0 = scan_val[j];
      let v1 = scan_val[j + groups];
      let v2 = scan_val[j + 2u * groups];
      let v3 = scan_val[j + 3u * groups];
      let v4 = scan_val[j + 4u * groups];
      let v5 = scan_val[j + 5u * groups];
      let v6 = scan_val[j + 6u * groups];
      let v7 = scan_val[j + 7u * groups];
      lo += u0.lo * v0 + u1.lo * v1 + u2.lo * v2 + u3.lo * v3;
      hi += u0.hi * v0 + u1.hi * v1 + u2.hi * v2 + u3.hi * v3;
      lo1 += u4.lo * v4 + u5.lo * v5 + u6.lo * v6 + u7.lo * v7;
      hi1 += u4.hi * v4 + u5.hi * v5 + u6.hi * v6 + u7.hi * v7;
    }
    for (; j < count; j += groups) {
      let u = wunit(scan_row[j] * units + c);
      let v = scan_val[j];
      lo += u.lo * v;
      hi += u.hi * v;
    }
  }
  for (var base = start; COMPACT && base < end; base += WG) {
    if (lid == 0u) { atomicStore(&kept_slots, 0u); }
    workgroupBarrier();
    let r = base + lid;
    if (r < end) {
      let v = raw_input(r);
      if (keep(v, r, t)) {
        let slot = atomicAdd(&kept_slots, 1u);
        kept_row[slot] = r;
        kept_val[slot] = v;
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      kept_count = atomicLoad(&kept_slots);
      if (wid.x == 0u) { atomicAdd(&counts[dims.slot], kept_count); }
    }
    let count = workgroupUniformLoad(&kept_count);
    var j = rgroup;
    {
      for (; j + groups < count; j += 2u * groups) {
        let u0 = wunit(kept_row[j] * units + c);
        let u1 = wunit(kept_row[j + groups] * units + c);
        let v0 = kept_val[j];
        let v1 = kept_val[j + groups];
        lo += u0.lo * v0;
        hi += u0.hi * v0;
        lo1 += u1.lo * v1;
        hi1 += u1.hi * v1;
      }
    }
    for (; j < count; j += groups) {
      let u = wunit(kept_row[j] * units + c);
      lo += u.lo * kept_val[j];
      hi += u.hi * kept_val[j];
    }
    workgroupBarrier();
  }
  acc_lo[lid] = lo + lo1;
  acc_hi[lid] = hi + hi1;
  workgroupBarrier();
  if (rgroup == 0u && col < units) {
    var slo = acc_lo[lid];
    var shi = acc_hi[lid];
    for (var g = 1u; g < groups; g++) {
      slo += acc_lo[g * lanes + lid];
      shi += acc_hi[g * lanes + lid];
    }
    let per = UNIT_COLS / 4u;
    let o = (wid.y * units + col) * per;
    put(o, slo * rstd);
    if (per == 2u) { put(o + 1u, shi * rstd); }
  }
  finish(wid, lid);
}
