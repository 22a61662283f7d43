import assert from "node:assert/strict";
import { repoPath } from "../lib/repo_root.ts";
import type { DecodeReport } from "./decode.ts";

async function decode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", repoPath("cli/decode.ts"), ...args],
    cwd: repoPath(""),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const gpu = typeof navigator !== "undefined" && "gpu" in navigator &&
  (await navigator.gpu.requestAdapter()) !== null;

Deno.test({
  name: "decode --json generates the asked tokens with their timing and the first token's logits",
  ignore: !gpu,
}, async () => {
  const r = await decode([
    "--model",
    "models/lm-char.onnx",
    "--ids",
    "40,72,69,0",
    "--tokens",
    "3",
    "--logits",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as DecodeReport;
  assert.equal(report.generated.length, 3);
  assert.equal(report.logits!.length, 96);
  // The first generated id is the argmax of the logits at the last prompt position.
  assert.equal(report.generated[0], report.logits!.indexOf(Math.max(...report.logits!)));
  assert.ok(report.ms_per_token > 0 && report.dispatches_per_token > 0);
  // A dense f32 model prefills the prompt but its last id with GEMMs.
  assert.equal(report.prefill?.positions, 3);
  assert.ok(report.prefill!.ms! > 0);
});

Deno.test("decode refuses bad input with one line naming the fix", async () => {
  const r = await decode(["--model", "models/lm-char.onnx", "--ids", "999"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /^decode: --ids: 999 is outside the vocabulary \(96\)/);
  const missing = await decode(["--model", "models/no-such-model.onnx", "--ids", "1"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
  assert.match(missing.stderr, /no such file; give the path of an ONNX model/);
});

Deno.test({
  name: "decode runs a Spark-trained model with its own predicted FFN and refuses a method on it",
  ignore: !gpu,
}, async () => {
  const file = "models/lm-char-spark-k8.onnx";
  const r = await decode(["--model", file, "--ids", "40,72,69,0", "--tokens", "2", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as DecodeReport;
  assert.equal(report.method, "spark");
  assert.equal(report.generated.length, 2);
  const bad = await decode([
    "--model",
    file,
    "--ids",
    "40",
    "--method",
    "teal",
    "--sparsity",
    "0.5",
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /computes its own FFN sparsity .*run it without --method/);
});

Deno.test({
  name: "decode --profile accounts for every dispatch of the token by kind, in sequence",
  ignore: !gpu,
}, async () => {
  const r = await decode([
    "--model",
    "models/lm-char.onnx",
    "--ids",
    "40,72",
    "--tokens",
    "2",
    "--profile",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as DecodeReport;
  const stages = report.stages!;
  // Each kind appears once, and the kinds together hold the whole token's dispatches.
  assert.equal(new Set(stages.map((s) => s.kind)).size, stages.length);
  assert.equal(stages.reduce((a, s) => a + s.dispatches, 0), report.dispatches_per_token);
  for (const k of ["qkv", "o", "up", "down", "head", "next"]) {
    assert.ok(stages.some((s) => s.kind === k), `no stage ${k}: ${stages.map((s) => s.kind)}`);
  }
  assert.ok(stages.every((s) => Number.isFinite(s.ms)));
  assert.equal(report.launch, "default");
});
