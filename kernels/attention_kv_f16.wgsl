// f16 KV cache for attention.wgsl: a unit is 16 bytes, 8 halves packed in a vec4<u32> (the layout
// of array<f16>), unpacked with unpack2x16float, so no shader-f16 feature is needed.

@group(0) @binding(1) var<storage, read> kcache: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> vcache: array<vec4<u32>>;

const KV_UNIT: u32 = 8u;

// Elements e … e + 3 of a unit in lo, e + 4 … e + 7 in hi.
struct KvUnit { lo: vec4<f32>, hi: vec4<f32> }

fn unpack_unit(w: vec4<u32>) -> KvUnit {
  return KvUnit(
    vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)),
    vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w)),
  );
}

fn k_unit(i: u32) -> KvUnit { return unpack_unit(kcache[i]); }
fn v_unit(i: u32) -> KvUnit { return unpack_unit(vcache[i]); }
