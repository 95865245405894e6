// The benchmark's command line (bench/options.ts): `--quick` selects the quick protocols, no argument the
// full ones (pinned, so the full run stays as it was), anything else is an error that lists the accepted
// arguments. Pure functions only: nothing here times or runs the benchmark.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BENCH_ARGUMENTS, BENCH_PROTOCOLS, BenchUsageError, benchUsage, modeLabel, parseBenchArgs, protocolsFor } from "../../bench/options.js";
import { COLD_START_PROTOCOL } from "../../bench/coldstart.js";
import { LATENCY_PROTOCOL, SGEMM_PROTOCOL, type Protocol } from "../../bench/measure.js";
import { TRAINING_PROTOCOL } from "../../bench/training.js";

test("no argument is the full run, --quick the quick one, --help asks for the usage", () => {
  assert.deepEqual(parseBenchArgs([]), { mode: "full", help: false });
  assert.deepEqual(parseBenchArgs(["--quick"]), { mode: "quick", help: false });
  assert.deepEqual(parseBenchArgs(["--quick", "--quick"]), { mode: "quick", help: false });
  assert.deepEqual(parseBenchArgs(["--help"]), { mode: "full", help: true });
  assert.deepEqual(parseBenchArgs(["--quick", "--help"]), { mode: "quick", help: true });
});

test("an unknown argument is an error naming it and listing the accepted ones", () => {
  for (const args of [["--fast"], ["quick"], ["--quick", "extra"], ["--quick=true"], ["-q"]]) {
    const bad = args.find((a) => !(a in BENCH_ARGUMENTS))!;
    assert.throws(
      () => parseBenchArgs(args),
      (e: unknown) => e instanceof BenchUsageError && e.message === `npm run bench: unknown argument ${JSON.stringify(bad)}; accepted: --quick, --help`,
      `arguments ${JSON.stringify(args)}`,
    );
  }
  const usage = benchUsage();
  for (const arg of Object.keys(BENCH_ARGUMENTS)) assert.match(usage, new RegExp(`^  ${arg} `, "m"));
});

test("the full run keeps today's protocols", () => {
  const full = protocolsFor(parseBenchArgs([]));
  assert.equal(full, BENCH_PROTOCOLS.full);
  assert.equal(full.mode, "full");
  assert.equal(full.latency, LATENCY_PROTOCOL);
  assert.equal(full.sgemm, SGEMM_PROTOCOL);
  assert.equal(full.coldStart, COLD_START_PROTOCOL);
  assert.equal(full.training, TRAINING_PROTOCOL);
  // Pinned: a change here changes what the published numbers mean.
  assert.deepEqual(LATENCY_PROTOCOL, { warmupMs: 300, maxWarmups: 20, budgetMs: 1000, minReps: 10, maxReps: 2000, hardCapMs: 3000 });
  assert.deepEqual(SGEMM_PROTOCOL, { warmupMs: 300, maxWarmups: 5, budgetMs: 1000, minReps: 3, maxReps: 500, hardCapMs: 3000 });
  assert.deepEqual(COLD_START_PROTOCOL, { untimedRuns: 1, timedRuns: 9 });
  assert.deepEqual(TRAINING_PROTOCOL, { batch: 64, rows: 4096, checkSteps: 3, warmupMs: 500, budgetMs: 2000, minSteps: 10, hardCapMs: 6000, tfcChunkSteps: 16 });
  assert.equal(modeLabel("full"), "");
});

test("--quick selects protocols that do less, yet run and check every row as the full run does", () => {
  const quick = protocolsFor(parseBenchArgs(["--quick"]));
  const full = BENCH_PROTOCOLS.full;
  assert.equal(quick, BENCH_PROTOCOLS.quick);
  assert.equal(quick.mode, "quick");
  assert.match(modeLabel("quick"), /QUICK.*not for quoting/);

  const fewer = (name: string, q: Protocol, f: Protocol) => {
    for (const key of Object.keys(f) as (keyof Protocol)[]) assert.ok(q[key] <= f[key], `${name}.${key}: quick ${q[key]} > full ${f[key]}`);
    assert.ok(q.minReps >= 1 && q.maxReps >= q.minReps, `${name}: at least one timed call`);
    // What the protocol itself may spend on top of the calls it cannot avoid (first, one warm-up, one over the cap).
    assert.ok(q.warmupMs + q.hardCapMs <= 250, `${name}: ${q.warmupMs + q.hardCapMs} ms a system`);
  };
  fewer("latency", quick.latency, full.latency);
  fewer("sgemm", quick.sgemm, full.sgemm);

  assert.ok(quick.coldStart.timedRuns >= 1 && quick.coldStart.timedRuns < full.coldStart.timedRuns);
  assert.ok(quick.coldStart.untimedRuns <= full.coldStart.untimedRuns);

  // Same batch (the workload's name), data, checked steps and chunking, so the same loss check; less timing.
  const t = quick.training;
  const same = { batch: t.batch, rows: t.rows, checkSteps: t.checkSteps, tfcChunkSteps: t.tfcChunkSteps };
  assert.deepEqual(same, { batch: full.training.batch, rows: full.training.rows, checkSteps: full.training.checkSteps, tfcChunkSteps: full.training.tfcChunkSteps });
  for (const key of ["warmupMs", "budgetMs", "minSteps", "hardCapMs"] as const) assert.ok(t[key] < full.training[key], `training.${key}: quick ${t[key]} ≥ full ${full.training[key]}`);
  assert.ok(t.minSteps >= 1);
});
