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
// NORM_IN reads the raw residual stream x and W with the norm's weight folded into its columns
// (scale_columns.wgsl), sums x² in the same loop (the x loads are there anyway) and scales each
// dot by rstd = 1 / sqrt(mean(x²) + eps): norm(x) · W = rstd · (x · (g ⊙ W)), so the loop gains
// one FMA and no load, and no workgroup waits on another. RESID adds the result into y (the
// residual stream) instead of writing it: the add of the residual connection, without a pass.
override NORM_IN: bool = false;
override RESID: bool = false;
// ACT (the fused activation) and activate() come from activation.wgsl, which the host prepends.

struct Dims { rows: u32, cols: u32, has_bias: u32, eps: f32 }

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

var<workgroup> partial: array<vec4<f32>, 512>;
var<workgroup> partial_ss: array<f32, 512>;

// One vec4 step at column c (in vec4 units) for the thread's rows, whose starts are in b.
// With NORM_IN, `sums` says whether this thread accumulates x² into ss: every thread row reads
// all of x, so one row of threads suffices (the f16 GEMV is issue-bound enough on the H200 that
// an extra dot in every thread's step cost it ~20 %).
fn step(c: u32, b: vec4<u32>, ss: ptr<function, f32>, sums: bool) -> vec4<f32> {
  let xv = x[c];
  if (NORM_IN && sums) { *ss += dot(xv, xv); }
  var r = vec4<f32>(dot(wload(b.x + c), xv), 0.0, 0.0, 0.0);
  if (RPT >= 2u) { r.y = dot(wload(b.y + c), xv); }
  if (RPT >= 4u) {
    r.z = dot(wload(b.z + c), xv);
    r.w = dot(wload(b.w + c), xv);
  }
  return r;
}

// Writes (or with RESID adds) one output row; rstd scales the dot (1 without NORM_IN).
fn write_row(row: u32, v: f32, rstd: f32) {
  if (row >= dims.rows) { return; }
  var o = v * rstd;
  if (dims.has_bias != 0u) { o += bias[row]; }
  if (RESID) {
    y[row] += o;
  } else {
    y[row] = activate(o);
  }
}

fn write_rows(row0: u32, v: vec4<f32>, ss: f32) {
  var rstd = 1.0;
  if (NORM_IN) { rstd = inverseSqrt(ss / f32(dims.cols) + dims.eps); }
  write_row(row0, v.x, rstd);
  if (RPT >= 2u) { write_row(row0 + 1u, v.y, rstd); }
  if (RPT >= 4u) {
    write_row(row0 + 2u, v.z, rstd);
    write_row(row0 + 3u, v.w, rstd);
  }
}

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) l: vec3<u32>) {
  let group = wid.x + wid.y * nwg.x;
  let row0 = (group * TY + l.y) * RPT;
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
  var ss = 0.0;
  // One thread per row sums its own x²; otherwise the first thread row sums for the workgroup.
  let sums = TX == 1u || l.y == 0u;
  // i runs over [0, cols4); the column read is i + shift, wrapped.
  var i = l.x;
  if (UNROLL >= 4u) {
    for (; i + 3u * TX < cols4; i += 4u * TX) {
      a0 += step(wrap(i, shift, cols4), b, &ss, sums);
      a1 += step(wrap(i + TX, shift, cols4), b, &ss, sums);
      a2 += step(wrap(i + 2u * TX, shift, cols4), b, &ss, sums);
      a3 += step(wrap(i + 3u * TX, shift, cols4), b, &ss, sums);
    }
  }
  for (; i + TX < cols4; i += 2u * TX) {
    a0 += step(wrap(i, shift, cols4), b, &ss, sums);
    a1 += step(wrap(i + TX, shift, cols4), b, &ss, sums);
  }
  if (i < cols4) { a0 += step(wrap(i, shift, cols4), b, &ss, sums); }
  let sum = (a0 + a1) + (a2 + a3);
  if (TX == 1u) {
    // One thread per row (best on CPU adapters such as llvmpipe): no workgroup reduction.
    write_rows(row0, sum, ss);
    return;
  }
  let slot = l.y * TX + l.x;
  partial[slot] = sum;
  if (NORM_IN) { partial_ss[slot] = ss; }
  workgroupBarrier();
  for (var stride = TX / 2u; stride > 0u; stride /= 2u) {
    if (l.x < stride) {
      partial[slot] += partial[slot + stride];
      if (NORM_IN && sums) { partial_ss[slot] += partial_ss[slot + stride]; }
    }
    workgroupBarrier();
  }
  // partial_ss[0]: the first thread row's total, Σ x² over all of x.
  if (l.x == 0u) { write_rows(row0, partial[slot], partial_ss[0]); }
}

fn wrap(i: u32, shift: u32, cols4: u32) -> u32 {
  let c = i + shift;
  return select(c, c - cols4, c >= cols4);
}
