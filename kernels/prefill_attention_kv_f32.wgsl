// f32 KV cache for prefill_attention.wgsl: element i of a cache is word i.

@group(0) @binding(1) var<storage, read> kcache: array<f32>;
@group(0) @binding(2) var<storage, read> vcache: array<f32>;

fn k_at(i: u32) -> f32 { return kcache[i]; }
fn v_at(i: u32) -> f32 { return vcache[i]; }
