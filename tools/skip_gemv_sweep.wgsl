// The candidate of tools/skip_gemv_sweep.ts: an input-sparse GEMV over transposed weights without
// compaction. Each warp's threads share a row (LANES >= 32), so the keep test is uniform across
// the warp and a skipped row issues no weight load. The host puts the weight loader in front
// (kernels/skip_gemv_{f32,f16}.wgsl).
override WG: u32 = 256u;
override LANES: u32 = 64u;
override U8: bool = false;   // 8 rows in flight per thread instead of 4
override TILED: bool = false; // weight layout [tiles][k][LANES units] instead of [k][units]
override G: u32 = WG / LANES;

struct Dims { k: u32, units: u32, splits: u32, rps: u32, t: f32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> acc_lo: array<vec4<f32>, WG>;
var<workgroup> acc_hi: array<vec4<f32>, WG>;

fn widx(tile: u32, lane: u32, unit: u32, r: u32) -> u32 {
  if (TILED) { return (tile * dims.k + r) * LANES + lane; }
  return r * dims.units + unit;
}

// Four rows r, r+G, r+2G, r+3G: loads issued before any is used.
fn quad(tile: u32, lane: u32, unit: u32, r: u32, t: f32) -> Unit {
  let v0 = x[r];
  let v1 = x[r + G];
  let v2 = x[r + 2u * G];
  let v3 = x[r + 3u * G];
  let z = Unit(vec4<f32>(0.0), vec4<f32>(0.0));
  var u0 = z;
  var u1 = z;
  var u2 = z;
  var u3 = z;
  if (abs(v0) > t) { u0 = wunit(widx(tile, lane, unit, r)); }
  if (abs(v1) > t) { u1 = wunit(widx(tile, lane, unit, r + G)); }
  if (abs(v2) > t) { u2 = wunit(widx(tile, lane, unit, r + 2u * G)); }
  if (abs(v3) > t) { u3 = wunit(widx(tile, lane, unit, r + 3u * G)); }
  return Unit(u0.lo * v0 + u1.lo * v1 + u2.lo * v2 + u3.lo * v3,
              u0.hi * v0 + u1.hi * v1 + u2.hi * v2 + u3.hi * v3);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x;
  let lane = lid % LANES;
  let g = lid / LANES;
  let unit = min(tile * LANES + lane, dims.units - 1u);
  let start = wid.y * dims.rps;
  let end = min(dims.k, start + dims.rps);
  let t = dims.t;
  var lo = vec4<f32>(0.0);
  var hi = vec4<f32>(0.0);
  var lo1 = vec4<f32>(0.0);
  var hi1 = vec4<f32>(0.0);
  var r = start + g;
  let step = select(4u, 8u, U8) * G;
  for (; r + step - G < end; r += step) {
    let a = quad(tile, lane, unit, r, t);
    lo += a.lo;
    hi += a.hi;
    if (U8) {
      let b = quad(tile, lane, unit, r + 4u * G, t);
      lo1 += b.lo;
      hi1 += b.hi;
    }
  }
  for (; r < end; r += G) {
    let v = x[r];
    if (abs(v) > t) {
      let u = wunit(widx(tile, lane, unit, r));
      lo += u.lo * v;
      hi += u.hi * v;
    }
  }
  acc_lo[lid] = lo + lo1;
  acc_hi[lid] = hi + hi1;
  workgroupBarrier();
  let col = tile * LANES + lane;
  if (g == 0u && col < dims.units) {
    var slo = acc_lo[lid];
    var shi = acc_hi[lid];
    for (var q = 1u; q < G; q++) {
      slo += acc_lo[q * LANES + lid];
      shi += acc_hi[q * LANES + lid];
    }
    let per = UNIT_COLS / 4u;
    let o = (wid.y * dims.units + col) * per;
    partials[o] = slo;
    if (per == 2u) { partials[o + 1u] = shi; }
  }
}
