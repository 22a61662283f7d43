// Selection of active channels/neurons for one vector per workgroup (one token), producing the
// compacted index list and values the sparse kernels consume, in index order.
//
// MODE 0, magnitude threshold: keep |x_j · s_j| > t (TEAL; WINA when SCALED with s = column norms).
// MODE 1, value threshold: keep x_j > t (t = 0: ReLU's nonzeros).
// MODE 2, statistical top-k (Spark): θ = mean(x) + std(x) · z (population std), keep x_j > θ;
//         SOFT writes x_j − θ (Spark's soft threshold) instead of x_j.
// MODE 3, exact top-k: keys are |x_j · s_j|, or x_j itself when SIGNED (Lazy Neuron's largest
//         activations); the k-th largest key is found by a bitwise search over order-preserving
//         u32 images of the floats, and ties go to lower indices.
//
// Each thread owns a contiguous segment, so an exclusive scan of per-thread counts gives every
// kept element its output slot in index order.

override WG: u32 = 256u;
override MODE: u32 = 0u;
override SCALED: bool = false;
override SOFT: bool = false;
override SIGNED: bool = false;

struct Params { n: u32, k: u32, t: f32, z: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> vals: array<f32>;
@group(0) @binding(4) var<storage, read_write> count: array<u32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;
var<workgroup> scan: array<u32, 256>;
var<workgroup> shared_u: u32;

fn key(j: u32, base: u32) -> f32 {
  var v = abs(x[base + j]);
  if (SCALED) { v *= scale[j]; }
  return v;
}

// An order-preserving u32 image of the top-k key: larger key, larger image.
fn key_bits(j: u32, base: u32) -> u32 {
  if (!SIGNED) { return bitcast<u32>(key(j, base)); }
  let b = bitcast<u32>(x[base + j]);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

// Exclusive prefix sum of one u32 per thread (Hillis–Steele); returns this thread's offset and
// leaves the total in shared_u.
fn exclusive_scan(lid: u32, v: u32) -> u32 {
  scan[lid] = v;
  workgroupBarrier();
  for (var off = 1u; off < WG; off *= 2u) {
    var add = 0u;
    if (lid >= off) { add = scan[lid - off]; }
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  let inclusive = scan[lid];
  if (lid == WG - 1u) { shared_u = inclusive; }
  workgroupBarrier();
  return inclusive - v;
}

fn count_at_least(lid: u32, base: u32, lo: u32, hi: u32, bits: u32) -> u32 {
  var c = 0u;
  for (var j = lo; j < hi; j++) { if (key_bits(j, base) >= bits) { c++; } }
  scan[lid] = c;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) { scan[lid] += scan[lid + s]; }
    workgroupBarrier();
  }
  let total = scan[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let token = wid.x;
  let base = token * p.n;
  let out_base = token * p.n;
  let seg = (p.n + WG - 1u) / WG;
  let lo = min(p.n, lid * seg);
  let hi = min(p.n, lo + seg);

  var theta = p.t;
  if (MODE == 2u) {
    var s = 0.0;
    var s2 = 0.0;
    for (var j = lo; j < hi; j++) { let v = x[base + j]; s += v; s2 += v * v; }
    red[lid] = s;
    red2[lid] = s2;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st /= 2u) {
      if (lid < st) { red[lid] += red[lid + st]; red2[lid] += red2[lid + st]; }
      workgroupBarrier();
    }
    let mean = red[0] / f32(p.n);
    let variance = max(red2[0] / f32(p.n) - mean * mean, 0.0);
    theta = mean + sqrt(variance) * p.z;
    workgroupBarrier();
  }

  var tau = 0u;        // MODE 3: keys with bits > tau are kept, plus `need` ties at tau
  var need = 0u;
  if (MODE == 3u) {
    // Largest tau with count(bits >= tau) >= k, found bit by bit from the top.
    for (var b = 31; b >= 0; b--) {
      let candidate = tau | (1u << u32(b));
      if (count_at_least(lid, base, lo, hi, candidate) >= p.k) { tau = candidate; }
    }
    let above = count_at_least(lid, base, lo, hi, tau + 1u);
    need = p.k - min(p.k, above);
  }

  // Pass 1: count kept elements (and, for MODE 3, ties) in this thread's segment.
  var kept = 0u;
  var ties = 0u;
  for (var j = lo; j < hi; j++) {
    switch (MODE) {
      case 0u: { if (key(j, base) > theta) { kept++; } }
      case 1u, 2u: { if (x[base + j] > theta) { kept++; } }
      default: {
        let bits = key_bits(j, base);
        if (bits > tau) { kept++; } else if (bits == tau) { ties++; }
      }
    }
  }
  var tie_offset = 0u;
  var ties_taken = 0u;
  if (MODE == 3u) {
    tie_offset = exclusive_scan(lid, ties);
    ties_taken = min(ties, need - min(need, tie_offset));
  }
  let offset = exclusive_scan(lid, kept + ties_taken);
  let total = shared_u;

  // Pass 2: write indices and values in index order.
  var o = out_base + offset;
  var ties_left = ties_taken;
  for (var j = lo; j < hi; j++) {
    var keep = false;
    switch (MODE) {
      case 0u: { keep = key(j, base) > theta; }
      case 1u, 2u: { keep = x[base + j] > theta; }
      default: {
        let bits = key_bits(j, base);
        keep = bits > tau;
        if (!keep && bits == tau && ties_left > 0u) { keep = true; ties_left--; }
      }
    }
    if (keep) {
      idx[o] = j;
      var v = x[base + j];
      if (SOFT) { v -= theta; }
      vals[o] = v;
      o++;
    }
  }
  if (lid == 0u) { count[token] = total; }
}
