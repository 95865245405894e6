// The benchmark's training section, shrunk to a few steps of batch 8: tfc-native, tfc-wasm and
// tfjs-cpu train the MLP from the same weights, agree with tfc's interpreter and report a positive,
// finite samples/s; a wrong reference loss is flagged. No timing assertions: benchmarks are not tests.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import { formatTable, rowsOf } from "../../bench/report.js";
import { TRAINING_TOLERANCE, referenceLosses, trainingThroughput, type TrainingProtocol } from "../../bench/training.js";
import type { TfjsBackend } from "../../bench/systems/tfjs.js";

tfjs.enableProdMode(); // as the benchmark runs it (and without the tfjs-node banner)

const TINY: TrainingProtocol = { batch: 8, rows: 32, checkSteps: 2, warmupMs: 0, budgetMs: 0, minSteps: 2, hardCapMs: 10_000, tfcChunkSteps: 2 };
const TFJS_CPU: TfjsBackend = {
  system: "tfjs-cpu",
  activate: async () => {
    if (!(await tfjs.setBackend("cpu"))) throw new Error("TF.js cpu backend failed to initialize");
  },
};

test("tfc-native, tfc-wasm and tfjs-cpu train, agree with tfc-interp and report samples/s", async () => {
  const result = await trainingThroughput({ protocol: TINY, tfjs: [TFJS_CPU], tfc: ["tfc-native", "tfc-wasm"] });
  assert.deepEqual(
    result.entries.map((e) => e.system),
    ["tfc-native", "tfc-wasm", "tfjs-cpu"],
  );
  for (const e of result.entries) {
    assert.ok("relError" in e, `${e.system} was skipped: ${"skipped" in e ? e.skipped : ""}`);
    assert.ok(e.relError <= TRAINING_TOLERANCE, `${e.system}: first losses differ from tfc-interp by ${e.relError}`);
    assert.ok(e.timesMs.length >= TINY.minSteps, `${e.system}: ${e.timesMs.length} timed steps`);
  }
  const rows = rowsOf(result);
  assert.equal(rows.length, 3, "one row per system, no warnings");
  for (const row of rows) {
    assert.equal(row.metric, "training_throughput");
    assert.equal(row.unit, "samples/s");
    assert.ok(Number.isFinite(row.value) && row.value > 0, `${row.system}: ${row.value} samples/s`);
  }
  for (const row of rows.filter((r) => r.system.startsWith("tfc"))) {
    const ratio = row.ratio_to_peers?.["tfjs-cpu"];
    assert.ok(ratio !== undefined && Number.isFinite(ratio) && ratio > 0, `${row.system}: ratio to tfjs-cpu ${ratio}`);
    assert.equal(row.ratio_to_best_peer, ratio);
  }
  const table = formatTable("training", [result]);
  assert.match(table, /samples\/s/);
  assert.match(table, /tfc÷tfjs-cpu/);
  assert.doesNotMatch(table, /MISMATCH/);
});

test("a system whose first losses are off by 1% is flagged and not counted as a peer", async () => {
  const wrong = (await referenceLosses(TINY)).map((x) => x * 1.01);
  const result = await trainingThroughput({ protocol: TINY, tfjs: [TFJS_CPU], tfc: ["tfc-native"], reference: wrong });
  for (const e of result.entries) {
    assert.ok("relError" in e, `${e.system} was skipped: ${"skipped" in e ? e.skipped : ""}`);
    assert.ok(e.relError > TRAINING_TOLERANCE, `${e.system}: relative error ${e.relError} passed the check`);
  }
  const rows = rowsOf(result);
  assert.deepEqual(
    rows.filter((r) => r.metric === "WARNING_output_mismatch").map((r) => r.system),
    ["tfc-native", "tfjs-cpu"],
  );
  const native = rows.find((r) => r.system === "tfc-native" && r.metric === "training_throughput")!;
  assert.equal(native.ratio_to_best_peer, null);
  assert.deepEqual(native.ratio_to_peers, {});
  const table = formatTable("training", [result]);
  assert.match(table, /!!! LOSS MISMATCH vs tfc-interp/);
  assert.match(table, /!!! WARNING mlp train batch=8 \/ tfjs-cpu: the first steps' losses differ/);
});
