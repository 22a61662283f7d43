// GEMM for prefill / batched tokens: Y[m, :] = act(X[row(m), :] · Wᵀ + b), W row-major [N, K].
// With GATHER, row(m) = rows[m] for m < count (token pruning: only the kept tokens are computed,
// and Y is compact); otherwise row(m) = m. The `ACT` override (activation.wgsl, put in front by
// the host) applies an activation to the biased output, so an FFN's up projection needs no pass
// of its own. W and its loader `wload` (element i of W as f32) come from gemm_weights_f32.wgsl or
// gemm_weights_f16.wgsl (packed halves), which the host puts in front.
//
// Each invocation computes a 4×4 block of Y in registers (8×8 invocations: a 32×32 tile), reading
// X and W straight from memory: no workgroup memory and no barriers. A 16×16 tiled form with
// barriers ran a ViT's 197×384×128 GEMM at 229 ms on llvmpipe, where a barrier costs a context
// switch of every invocation; the small matrices of an encoder stay in cache either way.

override GATHER: bool = false;
const TM: u32 = 4u;
const TN: u32 = 4u;

struct Dims { m: u32, n: u32, k: u32, has_bias: u32 }

@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> count: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> dims: Dims;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var m_total = dims.m;
  if (GATHER) { m_total = min(dims.m, count[0]); }
  let m0 = g.y * TM;
  let n0 = g.x * TN;
  if (m0 >= m_total || n0 >= dims.n) { return; }
  let k = dims.k;
  // Rows and columns past the edge read a valid one (the first / the last) and are not written.
  var xo: array<u32, 4>;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    var src = 0u;
    if (m < m_total) {
      src = m;
      if (GATHER) { src = rows[m]; }
    }
    xo[i] = src * k;
  }
  let w0 = min(n0, dims.n - 1u) * k;
  let w1 = min(n0 + 1u, dims.n - 1u) * k;
  let w2 = min(n0 + 2u, dims.n - 1u) * k;
  let w3 = min(n0 + 3u, dims.n - 1u) * k;
  var acc: array<vec4<f32>, 4>;
  for (var c = 0u; c < k; c++) {
    let wv = vec4<f32>(wload(w0 + c), wload(w1 + c), wload(w2 + c), wload(w3 + c));
    acc[0] += xs[xo[0] + c] * wv;
    acc[1] += xs[xo[1] + c] * wv;
    acc[2] += xs[xo[2] + c] * wv;
    acc[3] += xs[xo[3] + c] * wv;
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= m_total) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j;
      if (n >= dims.n) { break; }
      var v = acc[i][j];
      if (dims.has_bias != 0u) { v += bias[n]; }
      y[m * dims.n + n] = activate(v);
    }
  }
}
