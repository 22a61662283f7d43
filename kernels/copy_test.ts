import assert from "node:assert/strict";
import { measureCopyCeiling } from "./copy.ts";
import { gpu } from "./_testing.ts";

Deno.test({ name: "the copy ceiling reports a positive bandwidth", ignore: !gpu }, async () => {
  const c = await measureCopyCeiling(gpu!.device, 4 << 20);
  assert.ok(c.gbPerS > 0 && Number.isFinite(c.gbPerS));
});
