// Seeded pseudo-random fill, on the GPU: weights of speed-only models (13.5 GB of f16 for a
// 7B-parameter shape cannot pass through a JavaScript array). Element (r, c) of a logical
// [rows, cols] matrix gets offset + scale · u with u uniform in [-1, 1) from a hash of its logical
// index r·cols + c and the seed, so the same matrix comes out whether it is stored row-major or
// transposed ([cols, rows], TRANSPOSED). F16 packs two halves per u32 word (pack2x16float), the
// layout of `array<f16>` and of a Float16Array; no shader-f16 feature is needed.

override WG: u32 = 256u;
override F16: bool = false;
override TRANSPOSED: bool = false;

struct P { words: u32, seed: u32, rows: u32, cols: u32, scale: f32, offset: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: P;

// A 32-bit integer hash (Chris Wellons' lowbias32).
fn hash(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

// The value of stored element i.
fn value(i: u32) -> f32 {
  var logical = i;
  if (TRANSPOSED) { logical = (i % p.rows) * p.cols + i / p.rows; }
  let h = hash(logical ^ hash(p.seed));
  return p.offset + p.scale * (f32(h >> 8u) * (2.0 / 16777216.0) - 1.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = (wid.x + wid.y * nwg.x) * WG + lid;
  if (w >= p.words) { return; }
  if (F16) {
    out[w] = pack2x16float(vec2<f32>(value(2u * w), value(2u * w + 1u)));
  } else {
    out[w] = bitcast<u32>(value(w));
  }
}
