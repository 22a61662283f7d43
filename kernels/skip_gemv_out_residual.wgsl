// skip_gemv.wgsl's output added into the residual stream: every workgroup of a column tile counts
// itself in on the tile's arrival counter once its partials are stored, and the last to arrive
// sums the tile's partials over the splits, adds the bias and adds the result into the stream,
// then resets the counter for the next token. Partials go through atomics so that the last
// workgroup reads what the others stored, not a stale cache line (as attention.wgsl's
// chunk_fused); each thread of the last workgroup loads a few of them, so the chain is short.
// It also leaves the tile's Σ x² of the updated stream, from which the next GEMV's fused RMSNorm
// finds 1/rms with a few loads instead of reading the whole stream.

@group(0) @binding(4) var<storage, read_write> partials: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> stream: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> rbias: array<vec4<f32>>;
// Arrivals per column tile, back to 0 once the tile is summed.
@group(0) @binding(11) var<storage, read_write> arrivals: array<atomic<u32>>;
// Σ x² of each column tile of the updated stream, for the next GEMV's fused RMSNorm.
@group(0) @binding(12) var<storage, read_write> sumsq_out: array<f32>;

var<workgroup> last_wg: u32;

fn put(i: u32, v: vec4<f32>) {
  atomicStore(&partials[4u * i], bitcast<u32>(v.x));
  atomicStore(&partials[4u * i + 1u], bitcast<u32>(v.y));
  atomicStore(&partials[4u * i + 2u], bitcast<u32>(v.z));
  atomicStore(&partials[4u * i + 3u], bitcast<u32>(v.w));
}

fn get_part(i: u32) -> vec4<f32> {
  return vec4<f32>(
    bitcast<f32>(atomicLoad(&partials[4u * i])),
    bitcast<f32>(atomicLoad(&partials[4u * i + 1u])),
    bitcast<f32>(atomicLoad(&partials[4u * i + 2u])),
    bitcast<f32>(atomicLoad(&partials[4u * i + 3u])),
  );
}

fn finish(wid: vec3<u32>, lid: u32) {
  storageBarrier();  // this workgroup's partials are stored before it counts itself in
  if (lid == 0u) { last_wg = u32(atomicAdd(&arrivals[wid.x], 1u) == dims.splits - 1u); }
  if (workgroupUniformLoad(&last_wg) == 0u) { return; }
  storageBarrier();  // and the others' partials are read after their arrivals
  // The tile's vec4s (tv of them) times the splits, spread over the threads: thread lid sums
  // vec4 lid % tv over the splits g, g + groups, … (g = lid / tv); the host keeps tv ≤ WG.
  let per = UNIT_COLS / 4u;
  let tv = dims.lanes * per;
  let groups = WG / tv;
  let v = lid % tv;
  let g = lid / tv;
  let row = dims.units * per;
  let at = wid.x * tv + v;
  var sum = vec4<f32>(0.0);
  if (g < groups && at < row) {
    for (var s = g; s < dims.splits; s += groups) { sum += get_part(s * row + at); }
  }
  acc_lo[lid] = sum;
  workgroupBarrier();
  var sq = 0.0;
  if (g == 0u && at < row) {
    var total = acc_lo[lid];
    for (var h = 1u; h < groups; h++) { total += acc_lo[h * tv + lid]; }
    let nv = stream[at] + total + rbias[at];
    stream[at] = nv;
    sq = dot(nv, nv);
  }
  workgroupBarrier();  // acc_lo is read above before it is reused below
  acc_lo[lid] = vec4<f32>(sq, 0.0, 0.0, 0.0);
  workgroupBarrier();
  for (var s = 1u; s < tv; s <<= 1u) {
    if (lid % (2u * s) == 0u && lid + s < tv) { acc_lo[lid].x += acc_lo[lid + s].x; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sumsq_out[wid.x] = acc_lo[0].x;
    atomicStore(&arrivals[wid.x], 0u);
  }
}
