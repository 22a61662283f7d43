import assert from "node:assert/strict";
import { readBuffer, runOnce, storageBuffer } from "./host.ts";
import { createSeqNorm, seqNormCpu } from "./seq_norm.ts";
import { gpu, poison, random, relError } from "./_testing.ts";

Deno.test(
  {
    name: "seq norm matches the reference with and without the residual add and the token gather",
    ignore: !gpu,
  },
  async () => {
    const { device } = gpu!;
    const tokens = 37;
    const width = 130;
    const x = random(tokens * width, 1);
    const addend = random(tokens * width, 2);
    const weight = random(width, 3);
    const bias = random(width, 4);
    const kept = Uint32Array.from([0, 3, 4, 9, 20, 36]);
    for (const add of [false, true]) {
      for (const gather of [false, true]) {
        const rows = gather ? kept.length : tokens;
        const shape = { rows, width, eps: 1e-5 };
        const xOut = storageBuffer(device, "x out", rows * width * 4);
        const h = storageBuffer(device, "h", rows * width * 4);
        poison(xOut, rows * width * 4);
        poison(h, rows * width * 4);
        const dispatch = await createSeqNorm(device, {
          label: "norm",
          ...shape,
          weight,
          bias,
          xIn: storageBuffer(device, "x in", x),
          xOut,
          h,
          ...(add ? { addend: storageBuffer(device, "addend", addend) } : {}),
          ...(gather ? { keep: storageBuffer(device, "rows", kept) } : {}),
        });
        await runOnce(device, [dispatch]);
        const want = seqNormCpu(x, shape, {
          weight,
          bias,
          ...(add ? { addend } : {}),
          ...(gather ? { rows: kept } : {}),
        });
        const read = async (b: GPUBuffer) =>
          new Float32Array(await readBuffer(device, b, rows * width * 4));
        assert.ok(relError(await read(xOut), want.xOut) <= 1e-6, `add ${add} gather ${gather}`);
        assert.ok(relError(await read(h), want.h) <= 1e-5, `add ${add} gather ${gather}`);
      }
    }
  },
);
