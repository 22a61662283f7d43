// f32 rows for sparse_gemv_active.wgsl (the host puts this file in front of it): a 16-byte chunk
// of a transposed weight row is 4 output columns.

const CHUNK_COLS: u32 = 4u;

@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>;

struct Chunk { lo: vec4<f32>, hi: vec4<f32> }

fn wchunk(i: u32) -> Chunk { return Chunk(w[i], vec4<f32>()); }
