// Shared by the loss and metric tests: seeded test data (with values at and near 0 and 1 for the
// cross-entropies), TF.js's own evaluation of a named loss or metric, tracing a function with a
// symbolic batch through the inference pipeline to run it on the interpreter, and error checks.

import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { traceFunction } from "../../compiler/frontend/trace.js";
import { runPipeline } from "../../passes/manager.js";
import { interpret } from "../../ir/interpreter.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import type { DataType } from "../../compiler/api/dtypes.js";
import { TfcError } from "../../ir/errors.js";

export type Matrix = number[][];

/** mulberry32: a small seeded generator, so every run sees the same data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BATCH = 4;
export const CLASSES = 5;

export function matrix(r: () => number, f: (u: number) => number, rows = BATCH, cols = CLASSES): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => f(r())));
}

/** Values at and next to the clipping bounds of the cross-entropies (ε = 1e-7). */
export const EDGES = [0, 1, 1e-8, 1 - 1e-8, 1e-7, 0.9999999, 1e-4, 0.9999, 1e-3, 0.5];

/** Probabilities in (0, 1) with the edge values spread over the matrix. */
export function probabilities(r: () => number): Matrix {
  const m = matrix(r, (u) => 0.02 + 0.96 * u);
  EDGES.forEach((v, i) => (m[i % BATCH]![(i * 3) % CLASSES] = v));
  return m;
}

export function oneHotRows(r: () => number, rows = BATCH, cols = CLASSES): { labels: number[]; oneHot: Matrix } {
  const labels = Array.from({ length: rows }, () => Math.floor(r() * cols));
  return { labels, oneHot: labels.map((k) => Array.from({ length: cols }, (_, j) => (j === k ? 1 : 0))) };
}

/** Rows of positive values normalized to sum to 1, some entries tiny. */
export function distributions(r: () => number): Matrix {
  return matrix(r, (u) => (u < 0.15 ? 1e-9 : u)).map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
}

/** TF.js's own value of a loss (or ['loss', metric]) by name: model.evaluate of an identity model. */
export function tfjsEvaluate(loss: string, yTrue: tfjs.Tensor, yPred: Matrix, metrics?: string[]): number[] {
  const k = yPred[0]!.length;
  const model = tfjs.sequential({ layers: [tfjs.layers.activation({ activation: "linear", inputShape: [k] })] });
  model.compile({ optimizer: "sgd", loss, ...(metrics ? { metrics } : {}) });
  const out = model.evaluate(tfjs.tensor2d(yPred), yTrue, { batchSize: yPred.length });
  return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync()[0]!);
}

export interface Input {
  readonly values: number[] | Matrix;
  readonly dtype?: DataType;
}

function host(input: Input): HostTensor {
  const v = input.values;
  const shape = Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length];
  return hostTensor(input.dtype === "int32" ? "i32" : "f32", shape, (v as (number | number[])[]).flat());
}

/**
 * Trace `fn` as a tf.function whose arguments have a symbolic batch (their other dims from the
 * inputs), run the inference pipeline with the verifier on, and interpret it on the inputs.
 */
export function traceAndRun(fn: (...xs: tfc.Tensor[]) => tfc.Tensor | tfc.Tensor[], inputs: Input[]): HostTensor[] {
  const specs = inputs.map((input) => {
    const h = host(input);
    return tfc.tensorSpec([null, ...h.shape.slice(1)], input.dtype ?? "float32");
  });
  const traced = tfc.function(fn, { inputSignature: specs });
  const module = traceFunction(traced.__tfcFunction, "f");
  runPipeline(module, "inference", { verify: true });
  return interpret(module, module.functions[0]!, inputs.map(host));
}

export const data = (t: tfc.Tensor | tfjs.Tensor): number[] => Array.from(t.dataSync());

/** `fn` throws a TfcError with this code and message (and a note matching `note`, if given). */
export function throwsTfc(fn: () => unknown, code: string, message: RegExp, note?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    if (note) assert.ok(e.notes.some((n) => note.test(n)), `notes ${JSON.stringify(e.notes)} lack ${note}`);
    return true;
  });
}
