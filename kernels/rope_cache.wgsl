// After the fused q/k/v projection of one token: finishes its split-K sum (+ bias), rotates q and
// k by RoPE (ROPE; HF LLaMA's rotate-half pairing, (i, i + d/2), angle pos · base^(−2i/d)),
// writes q for the attention and appends k and v to the layer's KV cache at position `pos`
// (read from the decoder's state buffer, so a batch of tokens needs no host round trip).
// qkv is [q (heads·hd) | k (kv_heads·hd) | v (kv_heads·hd)]. One thread per pair of elements.

override WG: u32 = 64u;
override ROPE: bool = true;
// SEQ: row r = global_invocation_id.y is position pos + r of a token sequence (prefill), reading
// its own [splits, n] block of qkv and writing q[r].
override SEQ: bool = false;

struct P { heads: u32, kv_heads: u32, hd: u32, splits: u32, base: f32, _a: u32, _b: u32, _c: u32 }
struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> state: State;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> kcache: array<f32>;
@group(0) @binding(5) var<storage, read_write> vcache: array<f32>;
@group(0) @binding(6) var<uniform> p: P;

// The split-K partials' sum, four loads in flight (a plain loop over a runtime count issues
// them one after another, and the sum of 16 splits then costs 16 memory latencies).
fn split_sum(i: u32, stride: u32) -> f32 {
  var a = vec4<f32>(0.0);
  var s = 0u;
  for (; s + 4u <= p.splits; s += 4u) {
    a += vec4<f32>(qkv[s * stride + i], qkv[(s + 1u) * stride + i], qkv[(s + 2u) * stride + i],
                   qkv[(s + 3u) * stride + i]);
  }
  for (; s < p.splits; s++) { a.x += qkv[s * stride + i]; }
  return (a.x + a.y) + (a.z + a.w);
}

fn value(i: u32, n: u32, base: u32) -> f32 { return bias[i] + split_sum(base + i, n); }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.hd / 2u;
  let qd = p.heads * p.hd;
  let kvd = p.kv_heads * p.hd;
  let n = qd + 2u * kvd;
  let t = gid.x;
  if (t >= n / 2u) { return; }
  // Pair t: head-major, element i of the first half of its head and i + half.
  let head = t / half;
  let i = t % half;
  let a = head * p.hd + i;
  let b = a + half;
  let row = select(0u, gid.y, SEQ);
  let qkvb = row * p.splits * n;
  var va = value(a, n, qkvb);
  var vb = value(b, n, qkvb);
  let pos = state.pos + row;
  if (ROPE && a < qd + kvd) {
    let angle = f32(pos) * pow(p.base, -2.0 * f32(i) / f32(p.hd));
    let c = cos(angle);
    let s = sin(angle);
    let ra = va * c - vb * s;
    let rb = vb * c + va * s;
    va = ra;
    vb = rb;
  }
  if (a < qd) {
    q[row * qd + a] = va;
    q[row * qd + b] = vb;
  } else if (a < qd + kvd) {
    kcache[pos * kvd + a - qd] = va;
    kcache[pos * kvd + b - qd] = vb;
  } else {
    vcache[pos * kvd + a - qd - kvd] = va;
    vcache[pos * kvd + b - qd - kvd] = vb;
  }
}
