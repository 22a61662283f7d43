// f16 rows for sparse_gemv_active.wgsl (the host puts this file in front of it): a 16-byte chunk
// of a transposed weight row is 8 output columns, loaded as four u32 words and unpacked, so the
// loads stay 16 bytes wide and no `shader-f16` feature is needed.

const CHUNK_COLS: u32 = 8u;

@group(0) @binding(0) var<storage, read> w: array<vec4<u32>>;

struct Chunk { lo: vec4<f32>, hi: vec4<f32> }

fn wchunk(i: u32) -> Chunk {
  let q = w[i];
  return Chunk(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)),
               vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}
