// Input-sparse GEMV without compaction (TEAL's kernel layout): y = Σ_k [keep(x_k)] · x_k · Wt[k, :]
// with keep(x_k) = |x_k · s_k| > t (MODE 0) or x_k > t (MODE 1). Wt [K, N] row-major, so a skipped
// input skips one contiguous row. Split-K over contiguous row ranges; every thread of a workgroup
// tests the same row, so the branch is uniform and a skipped row costs one read of x_k, not N
// weights. Partials go to reduce.wgsl.

override WG: u32 = 256u;
override MODE: u32 = 0u;
override SCALED: bool = false;

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
  let col = wid.x * lanes + lid % lanes;
  let rgroup = lid / lanes;
  let share = (dims.k + dims.splits - 1u) / dims.splits;
  let start = wid.y * share;
  let end = min(dims.k, start + share);
  var acc = vec4<f32>(0.0);
  if (col < n4) {
    for (var r = start + rgroup; r < end; r += groups) {
      let v = x[r];
      if (keep(v, r)) { acc += wt[r * n4 + col] * v; }
    }
  }
  acc_wg[lid] = acc;
  workgroupBarrier();
  if (rgroup == 0u && col < n4) {
    var sum = acc_wg[lid];
    for (var g = 1u; g < groups; g++) { sum += acc_wg[g * lanes + lid]; }
    partials[wid.y * n4 + col] = sum;
  }
}
