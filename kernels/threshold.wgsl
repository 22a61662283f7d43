// A per-token threshold computed on the GPU, written to thresholds[slot] for the input-sparse GEMV
// that reads this vector next (one workgroup, one vector):
// MODE 0, exact fraction: t = the `drop`-th smallest key |x_j| (· s_j when SCALED), so that the
//   rule |x_j| · s_j > t drops exactly `drop` inputs (ties aside). A radix select over the keys'
//   bit patterns (non-negative floats order like their u32 images), 8 bits per round, with the
//   histogram in workgroup memory: four passes over the vector, no sort.
//   The histogram has COPIES partitions (thread lid adds to copy lid % COPIES): the top byte
//   (sign and exponent) puts nearly every key in one or two bins, and one shared histogram
//   serialised every thread's atomic on them.
// MODE 1, statistical (Spark): t = mean(x) + z · std(x) (population std), for the rule x_j > t.

override WG: u32 = 256u;
override MODE: u32 = 0u;
override SCALED: bool = false;
override COPIES: u32 = 8u;

struct P { n: u32, drop: u32, z: f32, slot: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> thresholds: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

var<workgroup> hist: array<atomic<u32>, 256u * COPIES>;
var<workgroup> binsum: array<u32, 256>;
var<workgroup> prefix_wg: u32;
var<workgroup> rank_wg: u32;
var<workgroup> red: array<f32, WG>;
var<workgroup> red2: array<f32, WG>;

fn key_bits(j: u32) -> u32 {
  var k = abs(x[j]);
  if (SCALED) { k *= scale[j]; }
  return bitcast<u32>(k);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (MODE == 1u) {
    var s = 0.0;
    var s2 = 0.0;
    for (var j = lid; j < p.n; j += WG) {
      let v = x[j];
      s += v;
      s2 += v * v;
    }
    red[lid] = s;
    red2[lid] = s2;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st /= 2u) {
      if (lid < st) {
        red[lid] += red[lid + st];
        red2[lid] += red2[lid + st];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      let mean = red[0] / f32(p.n);
      thresholds[p.slot] = mean + sqrt(max(red2[0] / f32(p.n) - mean * mean, 0.0)) * p.z;
    }
    return;
  }
  if (p.drop == 0u) {
    if (lid == 0u) { thresholds[p.slot] = -1.0; }
    return;
  }
  if (lid == 0u) {
    prefix_wg = 0u;
    rank_wg = p.drop;
  }
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    var high = 0u;
    if (round > 0u) { high = 0xffffffffu << (32u - 8u * round); }
    for (var b = lid; b < 256u * COPIES; b += WG) { atomicStore(&hist[b], 0u); }
    let copy = (lid % COPIES) * 256u;
    let prefix = workgroupUniformLoad(&prefix_wg);
    for (var j = lid; j < p.n; j += WG) {
      let b = key_bits(j);
      if ((b & high) == prefix) { atomicAdd(&hist[copy + ((b >> shift) & 255u)], 1u); }
    }
    workgroupBarrier();
    for (var bin = lid; bin < 256u; bin += WG) {
      var c = 0u;
      for (var k = 0u; k < COPIES; k++) { c += atomicLoad(&hist[k * 256u + bin]); }
      binsum[bin] = c;
    }
    workgroupBarrier();
    if (lid == 0u) {
      var cum = 0u;
      let rank = rank_wg;
      for (var bin = 0u; bin < 256u; bin++) {
        let c = binsum[bin];
        if (cum + c >= rank) {
          prefix_wg = prefix | (bin << shift);
          rank_wg = rank - cum;
          break;
        }
        cum += c;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { thresholds[p.slot] = bitcast<f32>(prefix_wg); }
}
