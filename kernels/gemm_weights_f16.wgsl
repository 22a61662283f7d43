// f16 weights for gemm.wgsl (the host puts this file in front of it): W [N, K] row-major as
// packed halves, two per u32 word (the layout of array<f16> and of a Float16Array, any K),
// unpacked with unpack2x16float, so no shader-f16 feature is needed. Products and sums stay f32.

@group(0) @binding(1) var<storage, read> w: array<u32>;

fn wload(i: u32) -> f32 { return unpack2x16float(w[i >> 1u])[i & 1u]; }
