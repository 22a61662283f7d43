// y[c] = sum over S partial rows (vec4 columns).
struct RDims { n4: u32, splits: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> rd: RDims;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= rd.n4) { return; }
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < rd.splits; i++) { s += partials[i * rd.n4 + c]; }
  y[c] = s;
}
