import assert from "node:assert/strict";
import { decodeNpy, encodeNpy } from "./npy.ts";

Deno.test("decodeNpy() reads back what encodeNpy() wrote, for float32, int32, int64 and uint8", () => {
  const f = decodeNpy(encodeNpy(new Float32Array([1.5, -2, 3, 4, 5, 6]), [2, 3]));
  assert.deepEqual(f.shape, [2, 3]);
  assert.deepEqual([...f.data], [1.5, -2, 3, 4, 5, 6]);
  assert.deepEqual([...decodeNpy(encodeNpy(new Int32Array([7, -8]), [2])).data], [7, -8]);
  assert.deepEqual([...decodeNpy(encodeNpy(new BigInt64Array([9n]), [1])).data], [9n]);
  assert.deepEqual([...decodeNpy(encodeNpy(new Uint8Array([255, 0]), [2])).data], [255, 0]);
});

Deno.test("decodeNpy() names the file and the fix for a non-npy, Fortran-order or unsupported array", () => {
  assert.throws(() => decodeNpy(new Uint8Array(20), "x.npy"), /x\.npy: not a \.npy file/);
  const bytes = encodeNpy(new Float32Array([1, 2]), [2]);
  const text = new TextDecoder("latin1").decode(bytes);
  const fortran = new Uint8Array(bytes);
  fortran.set(new TextEncoder().encode("True "), text.indexOf("False"));
  assert.throws(
    () => decodeNpy(fortran, "f.npy"),
    /f\.npy: Fortran-order array; save numpy\.ascontiguousarray/,
  );
  const complex = new Uint8Array(bytes);
  complex.set(new TextEncoder().encode("<c8"), text.indexOf("<f4"));
  assert.throws(() => decodeNpy(complex, "c.npy"), /c\.npy: dtype <c8 is not supported/);
});
