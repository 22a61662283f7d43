import assert from "node:assert/strict";
import { repoPath } from "../lib/repo_root.ts";
import { parseApRounds } from "./ap.ts";

Deno.test("parseApRounds() accepts the committed rounds and refuses damaged ones in one line", async () => {
  const text = await Deno.readTextFile(repoPath("models/ap_rounds.json"));
  const good = parseApRounds(text);
  assert.ok(good.imp.length > 1 && good.ap.length === good.imp.length);
  const edit = (f: (o: Record<string, unknown>) => void) => {
    const o = JSON.parse(text);
    f(o);
    return JSON.stringify(o);
  };
  const cases: [string, RegExp][] = [
    ["{not json", /is not valid JSON .*python3 models\/train_ap\.py/],
    ["null", /not a JSON object/],
    [
      edit((o) => ((o.imp as { accuracy: number }[])[1]!.accuracy = 1.5)),
      /imp\[1\]\.accuracy is 1\.5/,
    ],
    [edit((o) => (o.ap = [])), /"ap" is not a list of rounds/],
    [
      edit((o) => ((o.imp as { round: number }[])[2]!.round = 7)),
      /imp\[2\]\.round is 7, expected 2/,
    ],
    [edit((o) => delete o.eval_samples), /"eval_samples" is not a positive integer/],
  ];
  for (const [t, want] of cases) {
    assert.throws(() => parseApRounds(t), (e: Error) => {
      assert.match(e.message, want);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  }
});
