// Dense GEMV, y = act(W x + b), W row-major [rows, cols] with cols contiguous. The weight binding
// and its loader `wload` come from gemv_weights_f32.wgsl or gemv_weights_f16.wgsl, which the host
// puts in front of this file (an `enable f16;` must open a module).
//
// Layout (see shared/reference/deno-webgpu.md section 5): a workgroup is TX × TY threads; each
// thread row (TY of them) computes RPT adjacent output rows, its TX threads striding along the
// rows in vec4 steps (16-byte loads, coalesced across the threads), UNROLL steps in flight per
// iteration. Several rows per thread reuse each x load and put more independent loads in flight.
// STAGGER starts each workgroup at a different column, so that the thousands of rows read at the
// same moment do not all sit at the same offset of their rows (DRAM channel conflicts). Partial
// sums meet in workgroup memory. cols must be a multiple of 4 (the host pads). Accumulators are
// vectors, not arrays: private arrays indexed in loops spill on some compilers (llvmpipe among
// them).

override TX: u32 = 64u;        // threads per row (a power of two)
override TY: u32 = 4u;         // thread rows per workgroup; TX * TY <= 512
override RPT: u32 = 1u;        // output rows per thread: 1, 2 or 4
override UNROLL: u32 = 2u;     // vec4 steps in flight per iteration: 2 or 4
override STAGGER: bool = false;
// RMSNorm fused around the GEMV (decoding, where each saved dispatch is a launch and a barrier):
// NORM_IN reads x as x · g · rstd, rstd the scalar the producer of x left in nin[0]; RESID adds
// the result into y (the residual stream) instead of writing it, and leaves rstd of the new y in
// nout[0] for the next GEMV: each workgroup stores Σ y² of its rows, and the last to arrive sums
// them in workgroup order (deterministic) and resets the arrival counter.
override NORM_IN: bool = false;
override RESID: bool = false;
// ACT (the fused activation) and activate() come from activation.wgsl, which the host prepends.

struct Dims { rows: u32, cols: u32, has_bias: u32, eps: f32 }

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;
@group(0) @binding(5) var<storage, read> g: array<vec4<f32>>;
// [0] rstd (f32 bits), [1] arrivals, [2 + workgroup] Σ y² of its rows.
@group(0) @binding(6) var<storage, read_write> nin: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> nout: array<atomic<u32>>;

var<workgroup> partial: array<vec4<f32>, 512>;
var<workgroup> rstd_in: f32;
var<workgroup> last_wg: u32;

// One vec4 step at column c (in vec4 units) for the thread's rows, whose starts are in b.
fn step(c: u32, b: vec4<u32>) -> vec4<f32> {
  var xv = x[c];
  if (NORM_IN) { xv *= g[c] * rstd_in; }
  var r = vec4<f32>(dot(wload(b.x + c), xv), 0.0, 0.0, 0.0);
  if (RPT >= 2u) { r.y = dot(wload(b.y + c), xv); }
  if (RPT >= 4u) {
    r.z = dot(wload(b.z + c), xv);
    r.w = dot(wload(b.w + c), xv);
  }
  return r;
}

// Writes (or with RESID adds) one output row; returns its square for RESID's statistics.
fn write_row(row: u32, v: f32) -> f32 {
  if (row >= dims.rows) { return 0.0; }
  var o = v;
  if (dims.has_bias != 0u) { o += bias[row]; }
  if (RESID) {
    let r = y[row] + o;
    y[row] = r;
    return r * r;
  }
  y[row] = activate(o);
  return 0.0;
}

// Sums v over the first `threads` threads of the workgroup (a tree, so a fixed order); every
// thread must call it, and thread 0 gets the total.
fn workgroup_sum(lid: u32, threads: u32, v: f32) -> f32 {
  partial[lid] = vec4<f32>(v, 0.0, 0.0, 0.0);
  workgroupBarrier();
  var stride = 1u;
  while (stride < threads) { stride *= 2u; }
  for (stride /= 2u; stride > 0u; stride /= 2u) {
    if (lid < stride && lid + stride < threads) { partial[lid].x += partial[lid + stride].x; }
    workgroupBarrier();
  }
  return partial[0].x;
}

// RESID's statistics: this workgroup's Σ y² goes out, and the last workgroup turns all of them
// into rstd. Every thread calls it with the squares of the rows it wrote.
fn residual_stats(group: u32, groups: u32, lid: u32, threads: u32, sq: f32) {
  let t = workgroup_sum(lid, threads, sq);
  if (lid == 0u) { atomicStore(&nout[2u + group], bitcast<u32>(t)); }
  storageBarrier();  // this workgroup's sum is stored before it counts itself in
  if (lid == 0u) { last_wg = u32(atomicAdd(&nout[1], 1u) == groups - 1u); }
  if (workgroupUniformLoad(&last_wg) == 0u) { return; }
  storageBarrier();  // and the others' sums are read after their arrivals
  // Each thread sums a contiguous run of workgroups, then the runs meet in a tree.
  let per = (groups + threads - 1u) / threads;
  var s = 0.0;
  for (var i = lid * per; i < min(groups, (lid + 1u) * per); i++) {
    s += bitcast<f32>(atomicLoad(&nout[2u + i]));
  }
  let total = workgroup_sum(lid, threads, s);
  if (lid == 0u) {
    atomicStore(&nout[0], bitcast<u32>(inverseSqrt(total / f32(dims.rows) + dims.eps)));
    atomicStore(&nout[1], 0u);
  }
}

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) l: vec3<u32>) {
  let group = wid.x + wid.y * nwg.x;
  let row0 = (group * TY + l.y) * RPT;
  if (NORM_IN) {
    if (l.x == 0u && l.y == 0u) { rstd_in = bitcast<f32>(atomicLoad(&nin[0])); }
    workgroupBarrier();
  }
  let cols4 = dims.cols / 4u;
  let last = dims.rows - 1u;
  let b = vec4<u32>(min(row0, last), min(row0 + 1u, last), min(row0 + 2u, last),
                    min(row0 + 3u, last)) * cols4;
  // The column rotation, a multiple of 8 vec4 (128 bytes) so a warp's loads stay aligned.
  var shift = 0u;
  if (STAGGER && cols4 >= 64u) { shift = ((group * 37u) % (cols4 / 8u)) * 8u; }
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  // i runs over [0, cols4); the column read is i + shift, wrapped.
  var i = l.x;
  if (UNROLL >= 4u) {
    for (; i + 3u * TX < cols4; i += 4u * TX) {
      a0 += step(wrap(i, shift, cols4), b);
      a1 += step(wrap(i + TX, shift, cols4), b);
      a2 += step(wrap(i + 2u * TX, shift, cols4), b);
      a3 += step(wrap(i + 3u * TX, shift, cols4), b);
    }
  }
  for (; i + TX < cols4; i += 2u * TX) {
    a0 += step(wrap(i, shift, cols4), b);
    a1 += step(wrap(i + TX, shift, cols4), b);
  }
  if (i < cols4) { a0 += step(wrap(i, shift, cols4), b); }
  let sum = (a0 + a1) + (a2 + a3);
  let slot = l.y * TX + l.x;
  var sq = 0.0;
  if (TX == 1u) {
    // One thread per row (best on CPU adapters such as llvmpipe): no workgroup reduction.
    sq = write_rows(row0, sum);
  } else {
    partial[slot] = sum;
    workgroupBarrier();
    for (var stride = TX / 2u; stride > 0u; stride /= 2u) {
      if (l.x < stride) { partial[slot] += partial[slot + stride]; }
      workgroupBarrier();
    }
    if (l.x == 0u) { sq = write_rows(row0, partial[slot]); }
  }
  if (RESID) {
    workgroupBarrier();  // partial is reused
    residual_stats(group, nwg.x * nwg.y, slot, TX * TY, sq);
  }
}

fn write_rows(row0: u32, v: vec4<f32>) -> f32 {
  var sq = write_row(row0, v.x);
  if (RPT >= 2u) { sq += write_row(row0 + 1u, v.y); }
  if (RPT >= 4u) {
    sq += write_row(row0 + 2u, v.z);
    sq += write_row(row0 + 3u, v.w);
  }
  return sq;
}

fn wrap(i: u32, shift: u32, cols4: u32) -> u32 {
  let c = i + shift;
  return select(c, c - cols4, c >= cols4);
}
