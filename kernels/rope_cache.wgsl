// After the fused q/k/v projection of one token: finishes its split-K sum (+ bias), rotates q and
// k by RoPE (ROPE; HF LLaMA's rotate-half pairing, (i, i + d/2), angle pos · base^(−2i/d)),
// writes q for the attention and appends k and v to the layer's KV cache at position `pos`
// (read from the decoder's state buffer, so a batch of tokens needs no host round trip).
// qkv is [q (heads·hd) | k (kv_heads·hd) | v (kv_heads·hd)]. One thread per PAIRS rotation pairs
// (adjacent i): the KV-cache prelude prepended to this source (rope_cache_kv_f32.wgsl or
// rope_cache_kv_f16.wgsl) declares the caches, PAIRS and the stores put_k / put_v.

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
  if (t >= n / 2u / PAIRS) { return; }
  // Pairs PAIRS·t … PAIRS·t + PAIRS − 1: head-major, elements i of the first half of their head
  // and i + half (half is a multiple of PAIRS, so they share a head).
  let pair = t * PAIRS;
  let head = pair / half;
  let i0 = pair % half;
  let a = head * p.hd + i0;
  let b = a + half;
  let row = select(0u, gid.y, SEQ);
  let qkvb = row * p.splits * n;
  let pos = state.pos + row;
  var va = vec2<f32>(0.0);
  var vb = vec2<f32>(0.0);
  for (var j = 0u; j < PAIRS; j++) {
    var x = value(a + j, n, qkvb);
    var y = value(b + j, n, qkvb);
    if (ROPE && a < qd + kvd) {
      let angle = f32(pos) * pow(p.base, -2.0 * f32(i0 + j) / f32(p.hd));
      let c = cos(angle);
      let s = sin(angle);
      let rx = x * c - y * s;
      let ry = y * c + x * s;
      x = rx;
      y = ry;
    }
    va[j] = x;
    vb[j] = y;
  }
  if (a < qd) {
    for (var j = 0u; j < PAIRS; j++) {
      q[row * qd + a + j] = va[j];
      q[row * qd + b + j] = vb[j];
    }
  } else if (a < qd + kvd) {
    put_k(pos * kvd + a - qd, va);
    put_k(pos * kvd + b - qd, vb);
  } else {
    put_v(pos * kvd + a - qd - kvd, va);
    put_v(pos * kvd + b - qd - kvd, vb);
  }
}
