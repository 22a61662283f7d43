// Element-wise product y = a ⊙ b: joins the gate and up branches of a gated FFN when both are
// computed by input-sparse GEMVs (TEAL, WINA), which leave full-length outputs.

override WG: u32 = 256u;
override N: u32 = 1u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < N) { y[gid.x] = a[gid.x] * b[gid.x]; }
}
