// f16 KV cache for prefill_attention.wgsl: element i is half i % 2 of word i / 2 (the layout of
// array<f16>, unpacked with unpack2x16float, so no shader-f16 feature is needed).

@group(0) @binding(1) var<storage, read> kcache: array<u32>;
@group(0) @binding(2) var<storage, read> vcache: array<u32>;

fn k_at(i: u32) -> f32 { return unpack2x16float(kcache[i / 2u])[i % 2u]; }
fn v_at(i: u32) -> f32 { return unpack2x16float(vcache[i / 2u])[i % 2u]; }
