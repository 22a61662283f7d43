import assert from "node:assert/strict";
import { parseRunRecord } from "./run_record.ts";

Deno.test("parseRunRecord() refuses what is not a run record in one line naming the file", () => {
  const cases: [string, RegExp][] = [
    ["null", /run\.json is not a run record: not a JSON object/],
    ["{oops", /run\.json is not valid JSON/],
    [`{"runId": "r", "suites": "oops"}`, /"suites" is not a list of suite records/],
    [`{"runId": ".", "suites": []}`, /Invalid run id "\."/],
    [`{"runId": "../x", "suites": []}`, /Invalid run id/],
    [`{"suites": []}`, /"runId" is not a string/],
    [`{"runId": "r", "suites": [], "commandLine": [1]}`, /"commandLine" is not a list of strings/],
  ];
  for (const [text, want] of cases) {
    assert.throws(() => parseRunRecord(text, "x/run.json"), (e: Error) => {
      assert.match(e.message, want);
      assert.match(e.message, /^x\/run\.json /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  const ok = parseRunRecord(`{"runId": "r1", "suites": [], "status": "finished"}`, "run.json");
  assert.equal(ok.status, "finished");
  assert.deepEqual(ok.commandLine, []);
});
