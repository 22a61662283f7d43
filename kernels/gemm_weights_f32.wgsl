// f32 weights for gemm.wgsl (the host puts this file in front of it): W [N, K] row-major, read
// one element at a time.

@group(0) @binding(1) var<storage, read> w: array<f32>;

fn wload(i: u32) -> f32 { return w[i]; }
