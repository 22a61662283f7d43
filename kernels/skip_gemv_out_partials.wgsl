// skip_gemv.wgsl's output left as split-K partials[split][n] for the kernel that reads it next.

@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;

fn put(i: u32, v: vec4<f32>) { partials[i] = v; }

fn finish(wid: vec3<u32>, lid: u32) {}
