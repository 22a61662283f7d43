// GEMM for prefill / batched tokens: Y[m, :] = X[row(m), :] · Wᵀ + b, W row-major [N, K].
// With GATHER, row(m) = rows[m] for m < count (token pruning: only the kept tokens are computed,
// and Y is compact); otherwise row(m) = m. 16×16 output tiles, K consumed in 16-wide slabs staged
// in workgroup memory. The `ACT` override (activation.wgsl, put in front by the host) applies an
// activation to the biased output, so an FFN's up projection needs no pass of its own.

override GATHER: bool = false;
const T: u32 = 16u;

struct Dims { m: u32, n: u32, k: u32, has_bias: u32 }

@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> count: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> dims: Dims;

var<workgroup> xt: array<array<f32, 16>, 16>;
var<workgroup> wtile: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  var m_total = dims.m;
  if (GATHER) { m_total = min(dims.m, count[0]); }
  let m = wid.y * T + l.y;
  let n = wid.x * T + l.x;
  if (wid.y * T >= m_total) { return; }
  var src = m;
  if (GATHER && m < m_total) { src = rows[m]; }
  var acc = 0.0;
  for (var k0 = 0u; k0 < dims.k; k0 += T) {
    let kx = k0 + l.x;
    var xv = 0.0;
    if (m < m_total && kx < dims.k) { xv = xs[src * dims.k + kx]; }
    xt[l.y][l.x] = xv;
    let wn = wid.x * T + l.y;
    var wv = 0.0;
    if (wn < dims.n && kx < dims.k) { wv = w[wn * dims.k + kx]; }
    wtile[l.y][l.x] = wv;
    workgroupBarrier();
    for (var kk = 0u; kk < T; kk++) { acc += xt[l.y][kk] * wtile[l.x][kk]; }
    workgroupBarrier();
  }
  if (m < m_total && n < dims.n) {
    if (dims.has_bias != 0u) { acc += bias[n]; }
    y[m * dims.n + n] = activate(acc);
  }
}
