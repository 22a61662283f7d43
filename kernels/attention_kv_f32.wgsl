// f32 KV cache for attention.wgsl: a unit is one vec4 (4 elements of a key or value row).

@group(0) @binding(1) var<storage, read> kcache: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> vcache: array<vec4<f32>>;

const KV_UNIT: u32 = 4u;

// Elements e … e + 3 of a unit in lo (hi, the f16 unit's second half, is zero here).
struct KvUnit { lo: vec4<f32>, hi: vec4<f32> }

fn k_unit(i: u32) -> KvUnit { return KvUnit(kcache[i], vec4<f32>(0.0)); }
fn v_unit(i: u32) -> KvUnit { return KvUnit(vcache[i], vec4<f32>(0.0)); }
