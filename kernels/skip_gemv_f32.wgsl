// f32 weights for skip_gemv.wgsl: a unit is one vec4 (4 columns).

@group(0) @binding(0) var<storage, read> wt: array<vec4<f32>>;

const UNIT_COLS: u32 = 4u;

struct Unit { lo: vec4<f32>, hi: vec4<f32> }

fn wunit(i: u32) -> Unit { return Unit(wt[i], vec4<f32>(0.0)); }
