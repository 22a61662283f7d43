// y = act(a) ⊙ b: joins a gated FFN's gate and up branches when the gate's activation cannot be
// fused into the kernel that ends the gate (R-Sparse's gate is a sparse GEMV plus a low-rank
// GEMV added into it, and the activation must follow the sum).

override WG: u32 = 256u;
override N: u32 = 1u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < N) { y[gid.x] = activate(a[gid.x]) * b[gid.x]; }
}
