// Input-sparse GEMV over a transposed weight: y = Σ_{i < count} vals[i] · Wt[idx[i], :], with
// Wt [K, N] row-major, so each skipped input channel skips one contiguous row of N floats (TEAL's
// and Deja Vu's layout). The active list comes from select.wgsl (or gather_gemv.wgsl's output).
//
// Split-K: workgroup (tile, split) sums its share of the active rows for one tile of columns and
// writes partials[split][col]; reduce.wgsl adds the splits (WGSL has no float atomics). A tile is
// LANES vec4 columns; when N/4 < WG the remaining threads take further rows in parallel and meet
// in workgroup memory. The split count is a uniform; each split's share is derived from the count
// on the GPU, so no read-back is needed.

override WG: u32 = 256u;
// ACT, applied to vals[i] (input given before its activation), and activate() come from
// activation.wgsl, which the host prepends.

struct Dims { k: u32, n: u32, splits: u32, lanes: u32 }

@group(0) @binding(0) var<storage, read> wt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> vals: array<f32>;
@group(0) @binding(3) var<storage, read> count: array<u32>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> dims: Dims;

var<workgroup> acc_wg: array<vec4<f32>, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n4 = dims.n / 4u;
  let lanes = dims.lanes;             // vec4 columns per tile (<= WG, divides WG)
  let groups = WG / lanes;            // rows processed side by side
  let tile = wid.x;
  let split = wid.y;
  let col = tile * lanes + lid % lanes;
  let rgroup = lid / lanes;
  let total = count[0];
  let share = (total + dims.splits - 1u) / dims.splits;
  let start = split * share;
  let end = min(total, start + share);
  var acc = vec4<f32>(0.0);
  if (col < n4) {
    var i = start + rgroup;
    // Two rows per iteration keep two independent loads in flight.
    for (; i + groups < end; i += 2u * groups) {
      let r0 = idx[i];
      let r1 = idx[i + groups];
      acc += wt[r0 * n4 + col] * activate(vals[i]) + wt[r1 * n4 + col] * activate(vals[i + groups]);
    }
    if (i < end) { acc += wt[idx[i] * n4 + col] * activate(vals[i]); }
  }
  acc_wg[lid] = acc;
  workgroupBarrier();
  if (rgroup == 0u && col < n4) {
    var sum = acc_wg[lid];
    for (var g = 1u; g < groups; g++) { sum += acc_wg[g * lanes + lid]; }
    partials[split * n4 + col] = sum;
  }
}
