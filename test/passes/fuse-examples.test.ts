// Golden kernel counts of the examples: how many kernels each function lowers to with fusion
// groups and with them stripped. A change in fusion (or in lowering) that changes a count fails
// here, so the new count is a decision someone made. Training steps come from model.compile()
// (Adam or SGD, losses and metrics as the example sets them).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { compile } from "../../compiler/driver.js";
import { loadModelFile } from "../../compiler/frontend/load.js";
import { buildTrainingProgram } from "../../compiler/train/step.js";
import { LayersModel } from "../../compiler/api/models.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { GROUP_ATTR } from "../../ir/attrs.js";
import type { Func, Module } from "../../ir/ir.js";
import { repoRoot } from "../util.js";

/** [kernels without fusion, kernels with fusion] per function. */
type Counts = Record<string, readonly [number, number]>;

const GOLDEN: Record<string, Counts> = {
  mlp: { predict: [9, 4] },
  "mnist-cnn": { predict: [7, 3], train_step: [159, 68], eval_step: [26, 12] },
  "mnist-mlp": { predict: [9, 4], train_step: [173, 51], eval_step: [28, 13] },
  "neural-network": { predict: [8, 3], train_step: [183, 30], eval_step: [38, 8] },
  "logistic-regression": { predict: [3, 1], train_step: [103, 16], eval_step: [33, 6] },
  "linear-regression": { predict: [2, 1], train_step: [19, 12], eval_step: [6, 3] },
  "custom-training": { predict: [6, 2] },
  constants: { predict: [1, 1] },
  "tensors-and-variables": { predict: [2, 1] },
};

/** Kernels of fn as fused, then with its groups stripped (restored afterwards). */
function kernelCounts(module: Module, fn: Func): [number, number] {
  const fused = lowerFunction(module, fn, { vectorWidth: 8 }).launches.length;
  const groups = fn.body.map((op) => op.attrs[GROUP_ATTR]);
  for (const op of fn.body) delete op.attrs[GROUP_ATTR];
  const unfused = lowerFunction(module, fn, { vectorWidth: 8 }).launches.length;
  fn.body.forEach((op, i) => {
    if (groups[i] !== undefined) op.attrs[GROUP_ATTR] = groups[i]!;
  });
  return [unfused, fused];
}

for (const [example, golden] of Object.entries(GOLDEN)) {
  test(`kernel counts of examples/${example}.ts`, () => {
    const file = path.join(repoRoot(), "examples", `${example}.ts`);
    const compiled = compile(file);
    const actual: Record<string, [number, number]> = { predict: kernelCounts(compiled.module, compiled.module.functions[0]!) };
    const model = loadModelFile(file).exports["default"];
    if (model instanceof LayersModel && model.trainingConfig) {
      const program = buildTrainingProgram(model, model.trainingConfig);
      actual["train_step"] = kernelCounts(program.module, program.train);
      actual["eval_step"] = kernelCounts(program.module, program.eval);
    }
    assert.deepEqual(actual, golden);
  });
}
