// Grid-stride vec4 copy: the practical memory-bandwidth ceiling a WGSL kernel can reach on this
// device, measured in the same run as the kernels so percentages compare like with like.

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  let n = arrayLength(&src);
  for (var i = gid.x; i < n; i += stride) { dst[i] = src[i]; }
}
