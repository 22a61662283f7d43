// Overlap of SDRs with dendritic segments (Ahmad & Hawkins 2016): how many of a segment's synapses
// fall on active cells. One thread per (SDR, segment) pair; with PAIRED, thread i takes SDR i and
// segment i (independent Monte-Carlo trials), otherwise every SDR meets every segment.
//
// SPARSE false (dense form): SDRs and segments are n-bit sets in u32 words, overlap =
//   Σ_w countOneBits(sdr[w] & seg[w]), n/32 word operations per overlap.
// SPARSE true (index-list form): an SDR is its a active indices, a segment is a bit set, overlap =
//   Σ_i bit(seg, sdr[i]), a lookups per overlap.
// A pair whose overlap reaches θ counts as a match (atomic per segment); WRITE_OVERLAPS also
// stores every overlap (for validation).

override SPARSE: bool = false;
override PAIRED: bool = false;
override WRITE_OVERLAPS: bool = false;
override WG: u32 = 64u;

struct Dims { num_sdr: u32, num_seg: u32, words: u32, a: u32, theta: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<storage, read> sdrs: array<u32>;      // dense: num_sdr × words; sparse: num_sdr × a
@group(0) @binding(1) var<storage, read> segs: array<u32>;      // num_seg × words
@group(0) @binding(2) var<storage, read_write> matches: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> overlaps: array<u32>;
@group(0) @binding(4) var<uniform> dims: Dims;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  var sdr: u32;
  var seg: u32;
  if (PAIRED) {
    if (t >= dims.num_sdr) { return; }
    sdr = t;
    seg = t;
  } else {
    if (t >= dims.num_sdr * dims.num_seg) { return; }
    sdr = t / dims.num_seg;
    seg = t % dims.num_seg;
  }
  var overlap = 0u;
  let seg_base = seg * dims.words;
  if (SPARSE) {
    let base = sdr * dims.a;
    for (var i = 0u; i < dims.a; i++) {
      let cell = sdrs[base + i];
      overlap += (segs[seg_base + (cell >> 5u)] >> (cell & 31u)) & 1u;
    }
  } else {
    let base = sdr * dims.words;
    for (var w = 0u; w < dims.words; w++) {
      overlap += countOneBits(sdrs[base + w] & segs[seg_base + w]);
    }
  }
  if (WRITE_OVERLAPS) { overlaps[t] = overlap; }
  if (overlap >= dims.theta) { atomicAdd(&matches[seg], 1u); }
}
