// Shared by the fit tests (fit.test.ts, fit-evaluate.test.ts): seeded datasets, the same model
// built with tfc and with TF.js, and comparisons of weights and History. Tolerances: see fit.test.ts.

import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { Rng } from "../../ir/initializers.js";
import { assertClose } from "../util.js";

export type Api = typeof tfc | typeof tfjs;
export type Logs = Record<string, number>;

export const RTOL = 1e-4;
export const ATOL = 1e-5;

// ---------------------------------------------------------------------------------------------
// Data, models and the two sides of a scenario
// ---------------------------------------------------------------------------------------------

/** n examples of 4 features; labels one-hot over 3 classes, class indices, or 2 regression targets. */
export interface Dataset {
  n: number;
  xs: number[];
  ys: number[];
  yShape: number[];
}

export function dataset(n: number, kind: "onehot" | "sparse" | "regression", seed = 7): Dataset {
  const rng = new Rng(seed);
  const xs = Array.from({ length: n * 4 }, () => rng.next() * 2 - 1);
  if (kind === "regression") return { n, xs, ys: Array.from({ length: n * 2 }, () => rng.next() * 2 - 1), yShape: [n, 2] };
  const classes = Array.from({ length: n }, () => Math.floor(rng.next() * 3));
  if (kind === "sparse") return { n, xs, ys: classes, yShape: [n] };
  return { n, xs, ys: classes.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))), yShape: [n, 3] };
}

export interface ModelSpec {
  optimizer: (tf: Api) => unknown;
  loss?: string;
  metrics?: string[];
  /** Output units and activation (default: 3, softmax). */
  units?: number;
  activation?: string;
  hidden?: boolean;
}

export const CLASSIFIER: ModelSpec = { optimizer: (tf) => tf.train.sgd(0.5), loss: "categoricalCrossentropy", metrics: ["accuracy"] };

export function build(tf: Api, spec: ModelSpec): any {
  const t = tf as any;
  const out = { units: spec.units ?? 3, activation: spec.activation ?? "softmax" };
  const layers =
    spec.hidden === false
      ? [t.layers.dense({ ...out, inputShape: [4] })]
      : [t.layers.dense({ units: 6, inputShape: [4], activation: "tanh" }), t.layers.dense(out)];
  const model = t.sequential({ layers });
  model.compile({ optimizer: spec.optimizer(tf), loss: spec.loss ?? "categoricalCrossentropy", metrics: spec.metrics ?? [] });
  return model;
}

/** The same model twice: tfc's (mine) and TF.js's (theirs), from the same weights drawn from `seed`. */
export function pair(spec: ModelSpec = CLASSIFIER, seed = 1): { mine: any; theirs: any } {
  const mine = build(tfc, spec);
  const theirs = build(tfjs, spec);
  const rng = new Rng(seed);
  mine.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfc.tensor(Array.from({ length: w.size }, () => rng.next() * 1.6 - 0.8), w.shape)));
  theirs.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfjs.tensor(w.dataSync() as Float32Array, w.shape)));
  return { mine, theirs };
}

export const xOf = (tf: Api, d: Dataset): any => (tf as any).tensor(d.xs, [d.n, 4]);
export const yOf = (tf: Api, d: Dataset): any => (tf as any).tensor(d.ys, d.yShape);

export function weightsOf(model: any): Float32Array[] {
  return model.getWeights().map((w: { dataSync(): Float32Array }) => Float32Array.from(w.dataSync()));
}

export function assertSameWeights(mine: any, theirs: any, what: string, rtol = RTOL, atol = ATOL): void {
  const a = weightsOf(mine);
  const b = weightsOf(theirs);
  assert.equal(a.length, b.length, `${what}: weight count`);
  a.forEach((w, i) => assertClose(w, b[i]!, rtol, atol, `${what}: weight ${i}`));
}

export interface HistoryLike {
  epoch: number[];
  history: Record<string, number[]>;
  params?: Record<string, unknown>;
}

export function assertSameHistory(mine: HistoryLike, theirs: HistoryLike, what: string, rtol = RTOL, atol = ATOL): void {
  assert.deepEqual(mine.epoch, theirs.epoch, `${what}: History.epoch`);
  assert.deepEqual(Object.keys(mine.history).sort(), Object.keys(theirs.history).sort(), `${what}: History keys`);
  for (const key of Object.keys(theirs.history)) assertClose(mine.history[key]!, theirs.history[key]!, rtol, atol, `${what}: History ${key}`);
}

/** fit the same data with the same arguments on both sides (callbacks built per side). */
export async function fitBoth(
  models: { mine: any; theirs: any },
  d: Dataset,
  args: Record<string, unknown>,
  callbacks?: (tf: Api, model: any) => unknown,
): Promise<[HistoryLike, HistoryLike]> {
  const common = { verbose: 0, ...args };
  const h1 = await models.mine.fit(xOf(tfc, d), yOf(tfc, d), { ...common, ...(callbacks ? { callbacks: callbacks(tfc, models.mine) } : {}) });
  const h2 = await models.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { ...common, ...(callbacks ? { callbacks: callbacks(tfjs, models.theirs) } : {}) });
  return [h1, h2];
}

export async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  await tfc.setBackend(backend);
  try {
    return await fn();
  } finally {
    await tfc.setBackend("interp");
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Event {
  hook: string;
  index?: number;
  logs: Logs;
}

/** A callback recording every hook with its epoch/batch and a copy of its logs at call time. */
export function recorder(events: Event[], tag = ""): Record<string, (...a: any[]) => void> {
  const push = (hook: string, index: number | undefined, logs: Logs | undefined) =>
    events.push({ hook: tag + hook, ...(index === undefined ? {} : { index }), logs: { ...(logs ?? {}) } });
  return {
    onTrainBegin: (logs?: Logs) => push("trainBegin", undefined, logs),
    onEpochBegin: (epoch: number, logs?: Logs) => push("epochBegin", epoch, logs),
    onBatchBegin: (batch: number, logs?: Logs) => push("batchBegin", batch, logs),
    onBatchEnd: (batch: number, logs?: Logs) => push("batchEnd", batch, logs),
    onEpochEnd: (epoch: number, logs?: Logs) => push("epochEnd", epoch, logs),
    onTrainEnd: (logs?: Logs) => push("trainEnd", undefined, logs),
  };
}

export const sequence = (events: Event[]) => events.map((e) => (e.index === undefined ? e.hook : `${e.hook} ${e.index}`));
