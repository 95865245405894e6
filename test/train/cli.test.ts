// `tfc train` and `tfc evaluate` end to end, as a user runs them: --json figures, checkpoints that
// resume bit-exactly, evaluate on a checkpoint, --check-numerics on every target, CSV data, and
// bad input (too little data, checkpoints that do not fit or are damaged — left untouched).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { readCheckpoint } from "../../compiler/api/io/files.js";
import { repoRoot } from "../util.js";

const root = repoRoot();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-train-cli-"));
const TINY = "test/train/fixtures/tiny-mnist.ts";

function tfc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

/** The JSON object `--json` prints as the last line. */
function lastJson(stdout: string): Record<string, number> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
}

/** Every file of a directory with its content hash. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex")]));
}

const common = ["--data", "mnist", "--limit", "512", "--batch-size", "64", "--seed", "7"];

test("tfc train --json prints the final loss, acc, val_loss and val_acc as its last line", () => {
  const r = tfc("train", TINY, ...common, "--epochs", "2", "--json");
  assert.equal(r.status, 0, r.stderr);
  const out = lastJson(r.stdout);
  for (const key of ["loss", "acc", "val_loss", "val_acc"]) assert.ok(Number.isFinite(out[key]), `${key} in ${r.stdout}`);
  assert.equal(out["epochs"], 2);
  // 512 examples, 2 epochs of a 784-32-10 MLP: far better than chance (0.1), far from perfect.
  assert.ok(out["acc"]! > 0.5 && out["val_acc"]! > 0.5, r.stdout);
  // Per-epoch lines go to stderr with --json, so stdout is just the JSON.
  assert.equal(r.stdout.trim().split("\n").length, 1);
  assert.match(r.stderr, /Epoch 1\/2 .* - loss: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ - val_acc: [\d.]+/);
});

test("a run resumed from its checkpoint ends bit-exactly where an uninterrupted run does", () => {
  const straight = path.join(tmp, "straight");
  const resumed = path.join(tmp, "resumed");
  const a = tfc("train", TINY, ...common, "--epochs", "3", "--save", straight, "--json");
  assert.equal(a.status, 0, a.stderr);
  const b1 = tfc("train", TINY, ...common, "--epochs", "1", "--save", resumed, "--json");
  assert.equal(b1.status, 0, b1.stderr);
  // The seed comes from the checkpoint: a different --seed on resume must not matter.
  const b2 = tfc("train", TINY, "--data", "mnist", "--limit", "512", "--batch-size", "64", "--seed", "99", "--epochs", "3", "--resume", resumed, "--save", resumed, "--json");
  assert.equal(b2.status, 0, b2.stderr);
  assert.equal(lastJson(b2.stdout)["epochs"], 3);
  assert.deepEqual(lastJson(b2.stdout)["loss"], lastJson(a.stdout)["loss"]);
  return Promise.all([readCheckpoint(straight), readCheckpoint(resumed)]).then(([x, y]) => {
    assert.deepEqual(x.weights.map((w) => w.name), y.weights.map((w) => w.name));
    x.weights.forEach((w, i) => assert.deepEqual(Buffer.from(w.value.data.buffer), Buffer.from(y.weights[i]!.value.data.buffer), `weight ${w.name}`));
    assert.ok(x.optimizerWeights.length >= 5, "Adam's state is saved");
    x.optimizerWeights.forEach((w, i) => assert.deepEqual(Array.from(w.tensor.dataSync()), Array.from(y.optimizerWeights[i]!.tensor.dataSync()), `optimizer state ${w.name}`));
    // 3 epochs of 512 / 64 = 8 steps: the dropout seed advanced 24 times, in either run.
    assert.deepEqual((y.userDefinedMetadata as { tfc: unknown }).tfc, { epoch: 2, seed: 7, stepSeed: 24 });
    assert.deepEqual((x.userDefinedMetadata as { tfc: unknown }).tfc, { epoch: 2, seed: 7, stepSeed: 24 });
  });
});

test("tfc evaluate --weights reports the checkpoint's loss and metrics on the test split", () => {
  const dir = path.join(tmp, "evaluate");
  const t = tfc("train", TINY, ...common, "--epochs", "1", "--save", dir, "--json");
  assert.equal(t.status, 0, t.stderr);
  const e = tfc("evaluate", TINY, "--data", "mnist", "--limit", "512", "--weights", dir, "--json");
  assert.equal(e.status, 0, e.stderr);
  const trained = lastJson(t.stdout);
  const evaluated = lastJson(e.stdout);
  // The same weights on the same 512 test examples as the run's validation: the same figures.
  assert.ok(Math.abs(evaluated["loss"]! - trained["val_loss"]!) < 1e-5, `${evaluated["loss"]} vs ${trained["val_loss"]}`);
  assert.ok(Math.abs(evaluated["acc"]! - trained["val_acc"]!) < 1e-6);
  const plain = tfc("evaluate", TINY, "--data", "mnist", "--limit", "512", "--weights", dir);
  assert.match(plain.stdout, /^mnist test \(512 examples\): loss: [\d.]+ - acc: [\d.]+$/m);
});

for (const target of ["llvm", "wasm", "interp"]) {
  test(`--check-numerics on ${target} stops at the first NaN or infinity with the op and its source line`, () => {
    const r = tfc("train", "test/train/fixtures/exploding.ts", "--data", "mnist", "--limit", "640", "--batch-size", "64", "--check-numerics", "--target", target);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /exploding\.ts:\d+:\d+ - error TFC7090: a NaN or infinity first appeared in the result of '\w+'/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });
}

test("without --check-numerics the diverging model trains on and reports NaN", () => {
  const r = tfc("train", "test/train/fixtures/exploding.ts", "--data", "mnist", "--limit", "640", "--batch-size", "64", "--json");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lastJson(r.stdout.replace(/NaN/g, "null"))["loss"], null);
});

test("tfc train --data FILE.csv trains on a CSV file (label: the last column) with a validation split", () => {
  const r = tfc("train", "test/train/fixtures/blobs.ts", "--data", "test/train/fixtures/blobs.csv", "--epochs", "5", "--batch-size", "16", "--validation-split", "0.25", "--json");
  assert.equal(r.status, 0, r.stderr);
  const out = lastJson(r.stdout);
  assert.ok(out["val_acc"]! > 0.9, r.stdout);
});

test("a dataset shorter than one batch is an error, not a silent no-op", () => {
  const r = tfc("train", TINY, "--data", "mnist", "--limit", "10", "--batch-size", "64");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error TFC7094: the mnist data has 10 examples, fewer than one batch of 64/);
});

test("a model file without model.compile(...) is an error that says what to add", () => {
  const r = tfc("train", "examples/mlp.ts", "--data", "mnist", "--limit", "64");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error TFC7097: the model in examples\/mlp\.ts is not compiled: call model\.compile\(/);
});

test("resuming from a checkpoint of another architecture fails and leaves the checkpoint untouched", () => {
  const dir = path.join(tmp, "other");
  assert.equal(tfc("train", "test/train/fixtures/tiny-mnist-other.ts", ...common, "--epochs", "1", "--save", dir).status, 0);
  const before = snapshot(dir);
  const r = tfc("train", TINY, ...common, "--epochs", "2", "--resume", dir, "--save", dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /TFC7028.*\[784,24\].*\[784,32\]|TFC7028.*\[784,32\].*\[784,24\]/s);
  assert.deepEqual(snapshot(dir), before);
});

test("a truncated weights file is reported with its size and the checkpoint stays as it was", () => {
  const dir = path.join(tmp, "truncated");
  assert.equal(tfc("train", TINY, ...common, "--epochs", "1", "--save", dir).status, 0);
  const weights = fs.readdirSync(dir).find((f) => f.endsWith(".bin"))!;
  const file = path.join(dir, weights);
  fs.truncateSync(file, fs.statSync(file).size - 100);
  const before = snapshot(dir);
  const r = tfc("train", TINY, ...common, "--epochs", "2", "--resume", dir, "--save", dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`TFC7026.*${weights.replace(".", "\\.")}`));
  assert.deepEqual(snapshot(dir), before);
});

test("a bad --epochs value is a clear error", () => {
  const r = tfc("train", TINY, "--data", "mnist", "--epochs", "zero");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error TFC7093: --epochs must be a whole number of at least 1, got 'zero'/);
});
