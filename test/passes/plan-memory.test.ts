// plan-memory: temporaries whose lifetimes overlap never share bytes at any batch size, dead ones
// are reused, the arena covers every temporary for every N, and on the examples the arena stays
// within 1.2× of the most bytes ever live at once (batch 64). Programs run on the kernel
// interpreter, which fills the arena with NaN first, so a wrong plan shows as wrong numbers too.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { parseModule } from "../../ir/parser.js";
import { interpret } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { concretize } from "../../ir/types.js";
import { Rng } from "../../ir/initializers.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { bytesAt, liveBytes, planMemory, type MemoryPlan } from "../../passes/plan-memory.js";
import { interpretKProgram } from "../../ir/kernel/interpret.js";
import { compile } from "../../compiler/driver.js";
import { loadModelFile } from "../../compiler/frontend/load.js";
import { buildTrainingProgram } from "../../compiler/train/step.js";
import { LayersModel } from "../../compiler/api/models.js";
import { assertClose, repoRoot } from "../util.js";

/** Every pair of temporaries live in a common launch occupies disjoint bytes at these batch sizes, and fits the arena. */
function assertSound(plan: MemoryPlan, batches: readonly number[] = [1, 2, 7, 64, 1000]): void {
  for (const n of batches) {
    const arena = bytesAt(plan.arena, n);
    for (const a of plan.lifetimes) {
      const start = bytesAt(a.offset, n);
      assert.ok(start % 64 === 0, `${a.buffer.name} is 64-byte aligned at N = ${n}`);
      assert.ok(start + bytesAt(a.bytes, n) <= arena, `${a.buffer.name} ends inside the arena at N = ${n}`);
      for (const b of plan.lifetimes) {
        if (a === b || a.first > b.last || b.first > a.last) continue;
        const [s1, e1, s2, e2] = [start, start + bytesAt(a.bytes, n), bytesAt(b.offset, n), bytesAt(b.offset, n) + bytesAt(b.bytes, n)];
        assert.ok(e1 <= s2 || e2 <= s1, `${a.buffer.name} and ${b.buffer.name} overlap at N = ${n}`);
      }
    }
  }
}

test("a chain of kernels reuses the bytes of dead temporaries, and still computes the same", () => {
  const module = parseModule(
    `func @f(%x: f32[?,100]) -> (f32[?,100]) {
  %0 = exp %x : f32[?,100]
  %1 = sum %0 {axis=[1], keepdims=true} : f32[?,1]
  %2 = div %0, %1 : f32[?,100]
  %3 = tanh %2 : f32[?,100]
  %4 = mul %3, %x : f32[?,100]
  %5 = neg %4 : f32[?,100]
  return %5
}`,
    "chain.tfir",
  );
  const fn = module.functions[0]!;
  const program = lowerFunction(module, fn, { vectorWidth: 8 }); // no fuse pass: one kernel per op
  const plan = planMemory(program);
  assertSound(plan);
  // Five temporaries (the last op writes the output); at most two [?,100] ones are live at once.
  assert.equal(plan.lifetimes.length, 5);
  const peak = Math.max(...liveBytes(plan, 64));
  assert.equal(bytesAt(plan.arena, 64), peak, "the arena is exactly the largest live set");
  assert.ok(bytesAt(plan.arena, 64) < plan.lifetimes.reduce((s, l) => s + bytesAt(l.bytes, 64), 0), "dead temporaries are reused");
  for (const batch of [1, 5]) {
    const rng = new Rng(batch);
    const x = hostTensor("f32", concretize(fn.args[0]!.type.shape, batch), Array.from({ length: batch * 100 }, () => rng.next() * 2 - 1));
    const [expected] = interpret(module, fn, [x]);
    const [actual] = interpretKProgram(program, [x.data as Float32Array], new Map(), batch);
    assertClose(Array.from(actual!), Array.from(expected!.data), 1e-6, 1e-7, `batch ${batch}`);
  }
});

test("constant-size and batch-size temporaries share an arena soundly for every batch size", () => {
  // The matmul's packing scratch is constant-size; the activations grow with N.
  const module = parseModule(
    `func @f(%x: f32[?,64], %w: f32[64,48], %v: f32[48,40]) -> (f32[?,40]) {
  %0 = matmul %x, %w {transpose_a=false, transpose_b=false} : f32[?,48]
  %1 = relu %0 : f32[?,48]
  %2 = matmul %1, %v {transpose_a=false, transpose_b=false} : f32[?,40]
  %3 = sigmoid %2 : f32[?,40]
  return %3
}`,
    "mixed.tfir",
  );
  const program = lowerFunction(module, module.functions[0]!, { vectorWidth: 8 });
  const plan = planMemory(program);
  assert.ok(plan.lifetimes.some((l) => l.bytes.perBatch === 0 && l.bytes.constant > 0), "a constant-size scratch");
  assert.ok(plan.lifetimes.some((l) => l.bytes.perBatch > 0), "batch-size temporaries");
  assertSound(plan);
});

test("the examples' arenas stay within 1.2× of their largest live set at batch 64, inference and training", () => {
  const files = ["mnist-cnn", "mnist-mlp"].map((f) => path.join(repoRoot(), "examples", `${f}.ts`));
  for (const file of files) {
    const compiled = compile(file);
    const programs = [lowerFunction(compiled.module, compiled.module.functions[0]!, { vectorWidth: 8 })];
    const model = loadModelFile(file).exports["default"];
    if (model instanceof LayersModel && model.trainingConfig) {
      const training = buildTrainingProgram(model, model.trainingConfig);
      programs.push(lowerFunction(training.module, training.train, { vectorWidth: 8 }));
    }
    for (const program of programs) {
      const plan = planMemory(program);
      assertSound(plan, [1, 64]);
      const ratio = bytesAt(plan.arena, 64) / Math.max(...liveBytes(plan, 64));
      assert.ok(ratio <= 1.2, `${path.basename(file)} @${program.name}: arena ${ratio.toFixed(3)}× the largest live set`);
    }
  }
});
