import assert from "node:assert/strict";
import { runOnce } from "./host.ts";
import { createSdrOverlap, overlapCpu, randomCells } from "./sdr_overlap.ts";
import { createRng } from "../lib/prng.ts";
import { gpu } from "./_testing.ts";

Deno.test({
  name: "SDR overlaps (dense bit sets and sparse index lists) match the CPU reference",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const rng = createRng(17);
  for (
    const [n, a, s] of [[1000, 25, 30], [2048, 40, 24], [97, 9, 12]] as [number, number, number][]
  ) {
    const sdrs = Array.from({ length: 33 }, () => randomCells(n, a, rng));
    const segs = Array.from({ length: 7 }, () => randomCells(n, s, rng));
    const theta = 2;
    for (const sparse of [false, true]) {
      const k = await createSdrOverlap(device, {
        n,
        a,
        numSdr: sdrs.length,
        numSeg: segs.length,
        theta,
        sparse,
        paired: false,
        writeOverlaps: true,
      });
      k.upload(sdrs, segs);
      await runOnce(device, [k.dispatch]);
      const got = await k.readOverlaps();
      const want = sdrs.flatMap((x) => segs.map((g) => overlapCpu(x, g)));
      assert.deepEqual([...got], want, `n=${n} ${sparse ? "sparse" : "dense"}`);
      const matches = await k.readMatches();
      assert.deepEqual(
        [...matches],
        segs.map((_, j) => sdrs.filter((x) => overlapCpu(x, segs[j]!) >= theta).length),
      );
    }
  }
});
