// Causal attention of a prompt's queries over the KV cache (prefill): query row r sits at position
// p = pos + r and attends positions 0 … p of its KV head (grouped-query: head h reads KV head
// h / (heads / kv_heads)). q is [rows, heads · hd], out the same; the caches are [positions,
// kv_heads · hd], written for positions pos … pos + rows − 1 by rope_cache just before.
//
// One invocation per (query row, head, group of 8 output dimensions) with an online softmax, as
// seq_attention.wgsl does for encoders: no workgroup memory and no barriers, so it is the same
// kernel on CPU adapters and GPUs. Prompts are short next to the decode that follows; a tiled
// form would pay off only for long prompts. The caches are read through k_at / v_at, which the
// KV-cache prelude prepended to this source defines (prefill_attention_kv_f32.wgsl or
// prefill_attention_kv_f16.wgsl, which also declares the cache bindings 1 and 2).

struct P { rows: u32, heads: u32, kv_heads: u32, hd: u32, scale: f32, _a: u32, _b: u32, _c: u32 }
struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> state: State;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: P;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let groups = (p.hd + 7u) / 8u;
  let r = g.x / groups;
  let grp = g.x % groups;
  let h = g.y;
  if (r >= p.rows) { return; }
  let qd = p.heads * p.hd;
  let kvd = p.kv_heads * p.hd;
  let kvh = h / (p.heads / p.kv_heads);
  let qo = r * qd + h * p.hd;
  let last = state.pos + r;
  // This group's 8 dimensions; past head_dim they read the last one and are not written.
  let c0 = grp * 8u;
  var cs: array<u32, 8>;
  for (var c = 0u; c < 8u; c++) { cs[c] = min(c0 + c, p.hd - 1u); }
  var mx = -3.0e38;
  var sum = 0.0;
  var lo = vec4<f32>(0.0);
  var hi = vec4<f32>(0.0);
  for (var j = 0u; j <= last; j++) {
    let ko = j * kvd + kvh * p.hd;
    var dot = 0.0;
    for (var c = 0u; c < p.hd; c++) { dot += q[qo + c] * k_at(ko + c); }
    let s = dot * p.scale;
    let m = max(mx, s);
    let corr = exp(mx - m);
    let e = exp(s - m);
    mx = m;
    sum = sum * corr + e;
    lo = lo * corr + e * vec4<f32>(v_at(ko + cs[0]), v_at(ko + cs[1]), v_at(ko + cs[2]), v_at(ko + cs[3]));
    hi = hi * corr + e * vec4<f32>(v_at(ko + cs[4]), v_at(ko + cs[5]), v_at(ko + cs[6]), v_at(ko + cs[7]));
  }
  let inv = 1.0 / sum;
  for (var c = 0u; c < 8u; c++) {
    if (c0 + c >= p.hd) { break; }
    var v = 0.0;
    if (c < 4u) { v = lo[c]; } else { v = hi[c - 4u]; }
    out[qo + c0 + c] = v * inv;
  }
}
