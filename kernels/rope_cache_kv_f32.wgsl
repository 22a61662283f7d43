// f32 KV cache for rope_cache.wgsl: one word per element, and a thread finishes one rotation pair
// (elements a and a + hd/2, which sit in different words anyway).

@group(0) @binding(4) var<storage, read_write> kcache: array<f32>;
@group(0) @binding(5) var<storage, read_write> vcache: array<f32>;

const PAIRS: u32 = 1u;

// Stores element e of a cache (v.y is unused: one pair per thread).
fn put_k(e: u32, v: vec2<f32>) { kcache[e] = v.x; }
fn put_v(e: u32, v: vec2<f32>) { vcache[e] = v.x; }
