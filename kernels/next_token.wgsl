// The end of a decoding step, on the GPU so tokens chain without a read-back: greedy argmax of
// the logits (lowest index on ties) becomes the token at the next position unless the prompt
// already holds one there (prefill), and the state's position advances (wrapping from wrap_end
// back to wrap_start, so a timed batch of any length keeps its context length bounded). With NLL,
// −log softmax(logits)[next id] and the argmax are written at this position (bits per character
// and agreement with another decoder, teacher-forced).

override WG: u32 = 256u;
override NLL: bool = false;

struct State { pos: u32, wrap_start: u32, wrap_end: u32, prompt: u32 }
struct P { vocab: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> state: State;
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@group(0) @binding(5) var<storage, read_write> preds: array<u32>;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  for (var j = lid; j < p.vocab; j += WG) {
    let v = logits[j];
    if (v > bv) { bv = v; bi = j; }
  }
  best_v[lid] = bv;
  best_i[lid] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      let ov = best_v[lid + s];
      let oi = best_i[lid + s];
      if (ov > best_v[lid] || (ov == best_v[lid] && oi < best_i[lid])) {
        best_v[lid] = ov;
        best_i[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  let pos = state.pos;
  if (NLL) {
    let m = best_v[0];
    var e = 0.0;
    for (var j = lid; j < p.vocab; j += WG) { e += exp(logits[j] - m); }
    red[lid] = e;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s /= 2u) {
      if (lid < s) { red[lid] += red[lid + s]; }
      workgroupBarrier();
    }
    if (lid == 0u && pos + 1u < state.prompt) {
      nll[pos] = m + log(red[0]) - logits[ids[pos + 1u]];
      preds[pos] = best_i[0];
    }
  }
  if (lid == 0u) {
    var next = pos + 1u;
    if (next >= state.wrap_end) { next = state.wrap_start; }
    if (next >= state.prompt) { ids[next] = best_i[0]; }
    state.pos = next;
  }
}
