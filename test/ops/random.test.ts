// random_uniform's counter-based generator (ir/ops/random.ts): the numbers are uniform enough for
// dropout masks, depend on seed and salt, and every backend computes the same bits (the native and
// wasm op tests run its registry cases; here also a large tensor through native code).

import { test } from "node:test";
import assert from "node:assert/strict";
import { hashUniform } from "../../ir/ops/random.js";
import { Module } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { interpret } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { BATCH } from "../../ir/types.js";
import { buildNative } from "../../targets/llvm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const N = 200_000;

test("hashUniform: values in [0, 1], mean 1/2 and variance 1/12 within 0.5%, 20 buckets within 3% of n/20", () => {
  const buckets = new Array<number>(20).fill(0);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < N; i++) {
    const u = hashUniform(i, 12345, 7);
    assert.ok(u >= 0 && u <= 1, `u(${i}) = ${u}`);
    sum += u;
    sq += u * u;
    buckets[Math.min(19, Math.floor(u * 20))]!++;
  }
  const mean = sum / N;
  assert.ok(Math.abs(mean - 0.5) < 0.0025, `mean ${mean}`);
  assert.ok(Math.abs(sq / N - mean * mean - 1 / 12) < 1 / 12 / 200, `variance ${sq / N - mean * mean}`);
  for (const b of buckets) assert.ok(Math.abs(b - N / 20) < 0.03 * (N / 20), `bucket ${b} of ${buckets}`);
});

test("hashUniform: neighbours are uncorrelated, and other seeds or salts give other numbers", () => {
  let cov = 0;
  for (let i = 0; i < N; i++) cov += (hashUniform(i, 1, 0) - 0.5) * (hashUniform(i + 1, 1, 0) - 0.5);
  assert.ok(Math.abs(cov / N) < 0.002, `lag-1 covariance ${cov / N}`);
  const same = (f: (i: number) => number, g: (i: number) => number) => Array.from({ length: 1000 }, (_, i) => f(i) === g(i)).filter(Boolean).length;
  assert.ok(same((i) => hashUniform(i, 1, 0), (i) => hashUniform(i, 2, 0)) < 5);
  assert.ok(same((i) => hashUniform(i, 1, 0), (i) => hashUniform(i, 1, 1)) < 5);
  assert.equal(same((i) => hashUniform(i, 9, 3), (i) => hashUniform(i, 9, 3)), 1000);
});

test("random_uniform compiled to native code gives the interpreter's bits for a large batch", () => {
  const module = new Module();
  const b = new FuncBuilder(module, "draw");
  const x = b.arg("x", { dtype: "f32", shape: [BATCH, 300] });
  const seed = b.arg("seed", { dtype: "i32", shape: [] });
  const fn = b.finish([b.op("random_uniform", [x, seed], { salt: 11 })], ["u"]);
  module.functions.push(fn);
  const inputs = [hostTensor("f32", [50, 300]), hostTensor("i32", [], [-77])];
  const expected = interpret(module, fn, inputs)[0]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-random-"));
  const model = NativeModel.load(buildNative(module, fn, { outDir: dir, name: "draw" }).dir, "draw");
  try {
    const [actual] = model.predict(inputs.map((t) => t.data), 50);
    assert.deepEqual(Array.from(actual!), Array.from(expected.data));
  } finally {
    model.dispose();
  }
});
