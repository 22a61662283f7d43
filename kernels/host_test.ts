import assert from "node:assert/strict";
import { storageBuffer } from "./host.ts";
import { gpu } from "./_testing.ts";

Deno.test({
  name: "storageBuffer() refuses a buffer past the binding limit with a one-line error",
  ignore: !gpu,
}, () => {
  const limit = gpu!.device.limits.maxStorageBufferBindingSize;
  assert.throws(
    () => storageBuffer(gpu!.device, "too big", limit + 16),
    (e: Error) =>
      /too big: \d+ bytes exceed .*maxStorageBufferBindingSize/.test(e.message) &&
      !e.message.includes("\n"),
  );
});
