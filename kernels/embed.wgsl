// Token embedding of the current position: x = E[ids[pos]] (+ P[pos], learned positions), the
// id read on the GPU from the sequence buffer that the previous step's argmax wrote.

override WG: u32 = 256u;
override POSITIONS: bool = false;
// SEQ: row r = global_invocation_id.y embeds position pos + r into x[r] (prefill).
override SEQ: bool = false;

struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }
struct P { d: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> state: State;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;
@group(0) @binding(5) var<uniform> p: P;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.d) { return; }
  let row = select(0u, gid.y, SEQ);
  let pos = state.pos + row;
  var v = table[ids[pos] * p.d + j];
  if (POSITIONS) { v += positions[pos * p.d + j]; }
  x[row * p.d + j] = v;
}
