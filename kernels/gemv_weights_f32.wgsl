// f32 weights for gemv.wgsl (the host puts this file in front of it).

@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>;

fn wload(i: u32) -> vec4<f32> { return w[i]; }
