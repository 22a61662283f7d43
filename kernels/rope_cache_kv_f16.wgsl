// f16 KV cache for rope_cache.wgsl: elements 2w and 2w + 1 packed in word w (the layout of
// array<f16>, written with pack2x16float, so no shader-f16 feature is needed). A thread finishes
// two adjacent rotation pairs (i, i + 1), so it writes whole words (a, a + 1) and (b, b + 1):
// two threads never share a word, and no write races another.

@group(0) @binding(4) var<storage, read_write> kcache: array<u32>;
@group(0) @binding(5) var<storage, read_write> vcache: array<u32>;

const PAIRS: u32 = 2u;

// Stores elements e (even) and e + 1 of a cache.
fn put_k(e: u32, v: vec2<f32>) { kcache[e / 2u] = pack2x16float(v); }
fn put_v(e: u32, v: vec2<f32>) { vcache[e / 2u] = pack2x16float(v); }
