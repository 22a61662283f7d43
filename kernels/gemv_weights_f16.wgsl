// f16 weights for gemv.wgsl: half the bytes; input, output and accumulation stay f32. Needs the
// `shader-f16` feature. The host puts this file in front of gemv.wgsl.

enable f16;

@group(0) @binding(0) var<storage, read> w: array<vec4<f16>>;

fn wload(i: u32) -> vec4<f32> { return vec4<f32>(w[i]); }
