// Gathered GEMV: computes only the selected rows (neurons) of W, y_c[i] = act(W[idx[i]] · x + b);
// for a gated FFN, act(Wg[idx[i]] · x) * (Wu[idx[i]] · x); with MUL_VALS, (W[idx[i]] · x) * vals[i]
// (CATS: the gate activations were computed densely and selected, only the up rows remain). The
// result is compact (one value per selected neuron), ready for sparse_gemv.wgsl with the same list.
//
// `main`: one workgroup per selected row (x-dimension of the grid, possibly folded into y), for
// GPUs. `main_row`: one thread per selected row and no barrier, for CPU adapters (llvmpipe runs a
// workgroup's threads as SIMD lanes and pays a context switch per barrier). Threads or workgroups
// past the count exit at once, so the grid can be sized for the worst case without a read-back.

override WG: u32 = 128u;
// ACT (0 none, 1 relu, 2 gelu, 3 silu) and activate() come from activation.wgsl (prepended).
override GATED: bool = false;
override MUL_VALS: bool = false;
override ACT_VALS: bool = false;   // MUL_VALS with act(vals[i]) (vals given before the activation)

struct Dims { rows: u32, cols: u32, has_bias: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> wg: array<vec4<f32>>;   // gate weights (GATED only)
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> idx: array<u32>;
@group(0) @binding(5) var<storage, read> vals: array<f32>;    // MUL_VALS only
@group(0) @binding(6) var<storage, read> count: array<u32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;
@group(0) @binding(8) var<uniform> dims: Dims;

var<workgroup> partial: array<vec2<f32>, 256>;

fn finish(i: u32, row: u32, acc: vec2<f32>) {
  var v = acc.x;
  if (dims.has_bias != 0u) { v += bias[row]; }
  if (GATED) {
    y[i] = activate(acc.y) * v;
  } else if (MUL_VALS) {
    var m = vals[i];
    if (ACT_VALS) { m = activate(m); }
    y[i] = v * m;
  } else {
    y[i] = activate(v);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nwg.x;
  if (i >= count[0]) { return; }
  let row = idx[i];
  let cols4 = dims.cols / 4u;
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = lid; c < cols4; c += WG) {
    let xv = x[c];
    acc.x += dot(w[row * cols4 + c], xv);
    if (GATED) { acc.y += dot(wg[row * cols4 + c], xv); }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { finish(i, row, partial[0]); }
}

@compute @workgroup_size(WG)
fn main_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= count[0]) { return; }
  let row = idx[i];
  let cols4 = dims.cols / 4u;
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = 0u; c < cols4; c++) {
    let xv = x[c];
    acc.x += dot(w[row * cols4 + c], xv);
    if (GATED) { acc.y += dot(wg[row * cols4 + c], xv); }
  }
  finish(i, row, acc);
}
