import assert from "node:assert/strict";
import { runOnce } from "./host.ts";
import { chainCpu, createChain, createGated, gatedCpu } from "./ffn.ts";
import { gpu, random, relError } from "./_testing.ts";

Deno.test({
  name: "FFN chains and gated FFNs match their CPU references for every selection rule",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const d = 36;
  const h = 132;
  const up = random(h * d, 21);
  const down = random(d * h, 22);
  const bUp = random(h, 23);
  const bDown = random(d, 24);
  const x = random(d, 25);
  const cases = [
    { name: "dense", up: undefined, down: undefined },
    { name: "relu zeros", up: undefined, down: { rule: { kind: "value" as const, threshold: 0 } } },
    {
      name: "teal both",
      up: { rule: { kind: "magnitude" as const, threshold: 0.5 } },
      down: { rule: { kind: "magnitude" as const, threshold: 0.3 } },
    },
    {
      name: "stat-topk soft",
      up: undefined,
      down: { rule: { kind: "stat-topk" as const, z: 0.4, soft: true }, preActivation: true },
    },
    { name: "topk", up: undefined, down: { rule: { kind: "topk" as const, k: 20, signed: true } } },
  ];
  for (const c of cases) {
    for (const act of ["relu", "gelu"] as const) {
      const layers = [
        {
          name: "up",
          rows: h,
          cols: d,
          weight: up,
          bias: bUp,
          act,
          ...(c.up ? { input: c.up } : {}),
        },
        {
          name: "down",
          rows: d,
          cols: h,
          weight: down,
          bias: bDown,
          act: "none" as const,
          ...(c.down ? { input: c.down } : {}),
        },
      ];
      const p = await createChain(device, `chain ${c.name}`, layers);
      p.writeInput(x);
      await runOnce(device, p.dispatches);
      const err = relError(await p.read(), chainCpu(layers, x));
      assert.ok(err <= 1e-5, `${c.name} ${act}: ${err}`);
    }
  }
  const gate = random(h * d, 26);
  for (
    const select of [undefined, {
      rule: { kind: "magnitude" as const, threshold: 0.2 },
      on: "activation" as const,
    }, { rule: { kind: "stat-topk" as const, z: 0.3 }, on: "pre-activation" as const }]
  ) {
    const f = { d, h, gate, up, down, act: "silu" as const, ...(select ? { select } : {}) };
    const p = await createGated(device, "gated", f);
    p.writeInput(x);
    await runOnce(device, p.dispatches);
    const err = relError(await p.read(), gatedCpu(f, x));
    assert.ok(err <= 1e-5, `gated ${select?.on ?? "dense"}: ${err}`);
  }
  // TEAL and WINA on a gated FFN: every projection skips input channels.
  const dense = gatedCpu({ d, h, gate, up, down, act: "silu" }, x);
  const norms = random(d, 27).map(Math.abs);
  for (
    const inputs of [
      {
        gate: { kind: "magnitude" as const, threshold: 0.4 },
        up: { kind: "magnitude" as const, threshold: 0.4 },
        down: { kind: "magnitude" as const, threshold: 0.05 },
      },
      {
        gate: { kind: "topk" as const, k: 11, scale: norms },
        up: { kind: "topk" as const, k: 13, scale: norms },
      },
      { down: { kind: "topk" as const, k: 40 } },
    ]
  ) {
    const f = { d, h, gate, up, down, act: "silu" as const, inputs };
    const ref = gatedCpu(f, x);
    assert.ok(relError(ref, dense) > 1e-3, `${Object.keys(inputs)}: the rule skipped nothing`);
    const p = await createGated(device, "gated inputs", f);
    p.writeInput(x);
    await runOnce(device, p.dispatches);
    const err = relError(await p.read(), ref);
    assert.ok(err <= 1e-5, `gated inputs ${Object.keys(inputs)}: ${err}`);
  }
});
