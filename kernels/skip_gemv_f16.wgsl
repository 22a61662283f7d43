// f16 weights for skip_gemv.wgsl: a unit is 16 bytes, 8 halves packed in a vec4<u32> (the layout
// of array<f16>), unpacked with unpack2x16float, so no shader-f16 feature is needed.

@group(0) @binding(0) var<storage, read> wt: array<vec4<u32>>;

const UNIT_COLS: u32 = 8u;

struct Unit { lo: vec4<f32>, hi: vec4<f32> }

fn wunit(i: u32) -> Unit {
  let w = wt[i];
  return Unit(
    vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)),
    vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w)),
  );
}
