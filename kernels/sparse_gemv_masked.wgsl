// Input-sparse GEMV without compaction (TEAL's kernel layout): y = Σ_k [keep(x_k)] · x_k · Wt[k, :]
// with keep(x_k) = |x_k · s_k| > t (MODE 0) or x_k > t (MODE 1). Wt [K, N] row-major, so a skipped
// input skips one contiguous row. Split-K over contiguous row ranges; every thread of a workgroup
// tests the same row, so the branch is uniform and a skipped row costs one read of x_k, not N
// weights. UNROLL rows are tested per iteration and their loads issued before any is used, so
// several weight loads are in flight per thread (a branch around each load alone, the adds after
// all of them). With CPT > 1 a thread covers CPT vec4 columns (lanes apart, so loads stay
// coalesced) and one test of x_k feeds CPT loads: CPU adapters run one thread per SIMD lane, and
// there the test and the x load cost as much as a weight load. Partials go to reduce.wgsl.

override WG: u32 = 256u;
override MODE: u32 = 0u;
override SCALED: bool = false;
override UNROLL: u32 = 4u;   // rows per iteration: 1, 2 or 4 (with CPT = 1)
override CPT: u32 = 1u;      // vec4 columns per thread: 1, 2 or 4

struct Dims { k: u32, n: u32, splits: u32, lanes: u32, t: f32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<storage, read> wt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> dims: Dims;

var<workgroup> acc_wg: array<vec4<f32>, 256>;

fn keep(v: f32, k: u32) -> bool {
  if (MODE == 1u) { return v > dims.t; }
  var m = abs(v);
  if (SCALED) { m *= scale[k]; }
  return m > dims.t;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n4 = dims.n / 4u;
  let lanes = dims.lanes;
  let groups = WG / lanes;
  let col = wid.x * lanes * CPT + lid % lanes;
  let rgroup = lid / lanes;
  let share = (dims.k + dims.splits - 1u) / dims.splits;
  let start = wid.y * share;
  let end = min(dims.k, start + share);
  // Column j of the thread is col + j * lanes; out-of-range columns read the last one (clamped,
  // no branch) and are not written.
  let last = n4 - 1u;
  let c1 = min(col + lanes, last);
  let c2 = min(col + 2u * lanes, last);
  let c3 = min(col + 3u * lanes, last);
  var acc = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  if (CPT > 1u) {
    for (var r = start + rgroup; r < end; r += groups) {
      let v = x[r];
      if (keep(v, r)) {
        let base = r * n4;
        acc += wt[base + min(col, last)] * v;
        acc1 += wt[base + c1] * v;
        if (CPT >= 4u) {
          acc2 += wt[base + c2] * v;
          acc3 += wt[base + c3] * v;
        }
      }
    }
  } else if (col < n4) {
    var r = start + rgroup;
    if (UNROLL >= 2u) {
      for (; r + (UNROLL - 1u) * groups < end; r += UNROLL * groups) {
        let r1 = r + groups;
        let v0 = x[r];
        let v1 = x[r1];
        var w0 = vec4<f32>(0.0);
        var w1 = vec4<f32>(0.0);
        if (keep(v0, r)) { w0 = wt[r * n4 + col]; }
        if (keep(v1, r1)) { w1 = wt[r1 * n4 + col]; }
        if (UNROLL >= 4u) {
          let r2 = r1 + groups;
          let r3 = r2 + groups;
          let v2 = x[r2];
          let v3 = x[r3];
          var w2 = vec4<f32>(0.0);
          var w3 = vec4<f32>(0.0);
          if (keep(v2, r2)) { w2 = wt[r2 * n4 + col]; }
          if (keep(v3, r3)) { w3 = wt[r3 * n4 + col]; }
          acc1 += w2 * v2 + w3 * v3;
        }
        acc += w0 * v0 + w1 * v1;
      }
    }
    for (; r < end; r += groups) {
      let v = x[r];
      if (keep(v, r)) { acc += wt[r * n4 + col] * v; }
    }
    acc += acc1;
  }
  write_column(0u, col, acc, lid, lanes, groups, rgroup, n4, wid.y);
  if (CPT > 1u) { write_column(1u, col + lanes, acc1, lid, lanes, groups, rgroup, n4, wid.y); }
  if (CPT >= 4u) {
    write_column(2u, col + 2u * lanes, acc2, lid, lanes, groups, rgroup, n4, wid.y);
    write_column(3u, col + 3u * lanes, acc3, lid, lanes, groups, rgroup, n4, wid.y);
  }
}

// Sums one column's accumulators over the thread rows of the workgroup and writes the partial.
fn write_column(j: u32, c: u32, a: vec4<f32>, lid: u32, lanes: u32, groups: u32, rgroup: u32,
                n4: u32, split: u32) {
  if (j > 0u) { workgroupBarrier(); }  // the previous column's readers are done with acc_wg
  acc_wg[lid] = a;
  workgroupBarrier();
  if (rgroup == 0u && c < n4) {
    var sum = acc_wg[lid];
    for (var g = 1u; g < groups; g++) { sum += acc_wg[g * lanes + lid]; }
    partials[split * n4 + c] = sum;
  }
}
