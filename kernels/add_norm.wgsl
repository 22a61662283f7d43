// Residual add then normalisation, one vector per dispatch (batch-1 decoding), one workgroup:
//   x ← x + Σ_s addend[s][:] + abias        (ADD; the sum over s finishes a split-K GEMV)
//   h ← (x − mean) / sqrt(var + eps) · w + b (LAYER: LayerNorm), or x / sqrt(mean(x²) + eps) · w
// Folding the split-K sum and the bias of the previous projection into this pass saves the
// separate reduce dispatch a sparse GEMV would otherwise need. LayerNorm takes two passes (mean,
// then the centred sum of squares) so its variance matches ONNX Runtime's to f32 rounding.

override WG: u32 = 256u;
override LAYER: bool = false;
override ADD: bool = true;
// SEQ: a workgroup per row of a token sequence (prefill): row r = workgroup_id.y reads and writes
// x[r], h[r] and its own [splits, n] addend block; off, the kernel is the one-vector form.
override SEQ: bool = false;

struct P { n: u32, splits: u32, eps: f32, _a: u32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> addend: array<f32>;
@group(0) @binding(2) var<storage, read> abias: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> h: array<f32>;
@group(0) @binding(6) var<uniform> p: P;

var<workgroup> red: array<f32, WG>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// The split-K partials' sum, eight loads in flight (a plain loop over a runtime count issues
// them one after another, and the sum of 16 splits then costs 16 memory latencies; with four in
// flight the H200 still spent ~9 µs on a 4096-wide stream of 16 splits).
fn split_sum(i: u32, stride: u32) -> f32 {
  var a = vec4<f32>(0.0);
  var c = vec4<f32>(0.0);
  var s = 0u;
  for (; s + 8u <= p.splits; s += 8u) {
    a += vec4<f32>(addend[s * stride + i], addend[(s + 1u) * stride + i], addend[(s + 2u) * stride + i],
                   addend[(s + 3u) * stride + i]);
    c += vec4<f32>(addend[(s + 4u) * stride + i], addend[(s + 5u) * stride + i],
                   addend[(s + 6u) * stride + i], addend[(s + 7u) * stride + i]);
  }
  for (; s + 4u <= p.splits; s += 4u) {
    a += vec4<f32>(addend[s * stride + i], addend[(s + 1u) * stride + i], addend[(s + 2u) * stride + i],
                   addend[(s + 3u) * stride + i]);
  }
  for (; s < p.splits; s++) { a.x += addend[s * stride + i]; }
  let t = a + c;
  return (t.x + t.y) + (t.z + t.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = p.n;
  let row = select(0u, wid.y, SEQ);
  let xb = row * n;
  let ab = row * p.splits * n;
  var s1 = 0.0;
  // RMSNorm needs only Σ x², gathered in the same loop as the add (one pass and one barrier
  // fewer); LayerNorm keeps its second, centred pass.
  var s2 = 0.0;
  for (var j = lid; j < n; j += WG) {
    var v = x[xb + j];
    if (ADD) {
      v += abias[j] + split_sum(ab + j, n);
      x[xb + j] = v;
    }
    s1 += v;
    s2 += v * v;
  }
  var mean = 0.0;
  if (LAYER) {
    mean = workgroup_sum(lid, s1) / f32(n);
    s2 = 0.0;
    for (var j = lid; j < n; j += WG) {
      let d = x[xb + j] - mean;
      s2 += d * d;
    }
  }
  let rstd = inverseSqrt(workgroup_sum(lid, s2) / f32(n) + p.eps);
  for (var j = lid; j < n; j += WG) {
    var o = (x[xb + j] - mean) * rstd * w[j];
    if (LAYER) { o += b[j]; }
    h[xb + j] = o;
  }
}
