// Training throughput: samples/s of the MLP 784-512-512-10 (relu, relu, softmax) trained with Adam(1e-3)
// and sparse categorical cross-entropy on MNIST, batch 64. tfc trains through its compiled sessions
// (session.runner.runBatches, as fit does per chunk), TF.js through trainOnBatch on its cpu and wasm
// backends; every system starts from tfc's initial weights and sees the same batches, and the losses of
// its first steps are checked against tfc's interpreter before it is timed.

import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../compiler/api/index.js";
import { loadMnist } from "../compiler/data/mnist.js";
import type { Backend } from "../compiler/train/runner.js";
import { relativeError } from "./measure.js";
import type { Entry, WorkloadResult } from "./report.js";
import type { TfjsBackend } from "./systems/tfjs.js";

/** How much to train and time; TRAINING_PROTOCOL is the benchmark's, tests shrink it. */
export interface TrainingProtocol {
  readonly batch: number;
  /** MNIST training examples used, cycled through in order; a multiple of `batch`. */
  readonly rows: number;
  /** The first steps (from the initial weights) whose losses are checked; untimed. */
  readonly checkSteps: number;
  /** Untimed steps after the checked ones go on until this much time (at least one call). */
  readonly warmupMs: number;
  /** Timed calls go on until at least budgetMs and minSteps steps… */
  readonly budgetMs: number;
  readonly minSteps: number;
  /** …but stop before minSteps when one more call would take the timed total past this (at least one call is timed). */
  readonly hardCapMs: number;
  /** Steps per tfc call (fit with a progress bar runs chunks of 16); TF.js runs one trainOnBatch per call. */
  readonly tfcChunkSteps: number;
}

export const TRAINING_PROTOCOL: TrainingProtocol = { batch: 64, rows: 4096, checkSteps: 3, warmupMs: 500, budgetMs: 2000, minSteps: 10, hardCapMs: 6000, tfcChunkSteps: 16 };
/**
 * `npm run bench -- --quick` (bench/options.ts): the same data, batch and checked steps (so the same
 * workload and the same loss check), then one warm-up call and a few timed steps: a smoke run, not numbers to quote.
 */
export const QUICK_TRAINING_PROTOCOL: TrainingProtocol = { ...TRAINING_PROTOCOL, warmupMs: 0, budgetMs: 0, minSteps: 3, hardCapMs: 1000 };

/** Losses agree when max|loss − ref| ≤ this × max|ref| over the checked steps (float32 sums differ in order). */
export const TRAINING_TOLERANCE = 1e-3;

const INPUT_SIZE = 784;
const LEARNING_RATE = 1e-3;
const LOSS = "sparseCategoricalCrossentropy";
const DENSE_LAYERS: readonly { units: number; activation: "relu" | "softmax"; inputShape?: number[] }[] = [
  { units: 512, activation: "relu", inputShape: [INPUT_SIZE] },
  { units: 512, activation: "relu" },
  { units: 10, activation: "softmax" },
];

/**
 * tfc's systems; `threads` sets TFC_NUM_THREADS while the native build loads (its thread pool reads
 * it then): one thread is TF.js's footing here, and on a busy machine the default pool's spinning
 * workers contend with other processes.
 */
const TFC_SYSTEMS: readonly { readonly system: string; readonly backend: Backend; readonly threads?: number }[] = [
  { system: "tfc-native", backend: "llvm" },
  { system: "tfc-native(1 thread)", backend: "llvm", threads: 1 },
  { system: "tfc-wasm", backend: "wasm" },
];

/** The notes printed above the tables. */
export function trainingNotes(p: TrainingProtocol = TRAINING_PROTOCOL): string[] {
  return [
    `training: MLP ${INPUT_SIZE}-512-512-10 (relu, relu, softmax), Adam(${LEARNING_RATE}), ${LOSS}, batch ${p.batch}, the first ${p.rows} MNIST training images in order; all systems start from tfc's initial weights`,
    `training: tfc-native / tfc-wasm run model.trainingSession("llvm" / "wasm") through session.runner.runBatches, ${p.tfcChunkSteps} steps a call (as fit does per chunk); tfc-native(1 thread) is tfc-native with TFC_NUM_THREADS=1; tfjs-* run model.trainOnBatch per step (tensors made from the same rows)`,
    `training: the losses of the first ${p.checkSteps} steps are checked against tfc-interp's: max|loss − ref| ≤ ${TRAINING_TOLERANCE} × max|ref|; then warm-up steps (≥ ${p.warmupMs} ms), then timed steps for ≥ ${p.budgetMs} ms and ≥ ${p.minSteps} steps, fewer only past a ${p.hardCapMs / 1000} s cap`,
  ];
}

/** The training data every system sees: flat rows, labels as float class indices. */
export interface TrainingData {
  readonly images: Float32Array;
  readonly labels: Float32Array;
  readonly rows: number;
}

export function trainingData(p: TrainingProtocol): TrainingData {
  if (p.rows % p.batch !== 0) throw new Error(`training: rows (${p.rows}) must be a multiple of the batch (${p.batch})`);
  const mnist = loadMnist("train", { limit: p.rows });
  if (mnist.n !== p.rows) throw new Error(`training: MNIST has ${mnist.n} training images, ${p.rows} were asked for`);
  return { images: mnist.images, labels: Float32Array.from(mnist.labels), rows: p.rows };
}

/** Runs `steps` training steps from step number `first` (rows first·batch… of the data, cycled); returns each step's loss. */
type Stepper = (first: number, steps: number) => Promise<Float32Array>;

function tfcModel(): tfc.LayersModel {
  const model = tfc.sequential({ layers: DENSE_LAYERS.map((c) => tfc.layers.dense({ ...c })) });
  compileTfc(model);
  return model;
}

/** (Re)compile: a new optimizer, and the model's training session (if any) released, so the next one starts afresh. */
function compileTfc(model: tfc.LayersModel): void {
  model.compile({ optimizer: tfc.train.adam(LEARNING_RATE), loss: LOSS, metrics: [] });
}

/** The same model in TF.js on its active backend, holding `weights`. */
function tfjsModel(weights: readonly tfc.Tensor[]): tfjs.LayersModel {
  const model = tfjs.sequential({ layers: DENSE_LAYERS.map((c) => tfjs.layers.dense({ ...c })) });
  const tensors = weights.map((w) => tfjs.tensor(w.dataSync() as Float32Array, w.shape));
  model.setWeights(tensors);
  tfjs.dispose(tensors);
  model.compile({ optimizer: tfjs.train.adam(LEARNING_RATE), loss: LOSS });
  return model;
}

/** Steps of a tfc training session on the data, many per runBatches call. */
function sessionStepper(session: Awaited<ReturnType<tfc.LayersModel["trainingSession"]>>, data: TrainingData, batch: number): Stepper {
  return async (first, steps) => {
    const order = new Int32Array(steps * batch);
    for (let k = 0; k < order.length; k++) order[k] = (first * batch + k) % data.rows;
    const [losses] = session.runner.runBatches("train_step", batch, steps, order, data.rows, [data.images, data.labels]);
    return losses as Float32Array;
  };
}

/** Steps of a TF.js model, one trainOnBatch each (rows are contiguous: rows is a multiple of batch). */
function trainOnBatchStepper(model: tfjs.LayersModel, data: TrainingData, batch: number): Stepper {
  return async (first, steps) => {
    const losses = new Float32Array(steps);
    for (let s = 0; s < steps; s++) {
      const row = ((first + s) * batch) % data.rows;
      const x = tfjs.tensor2d(data.images.subarray(row * INPUT_SIZE, (row + batch) * INPUT_SIZE), [batch, INPUT_SIZE]);
      const y = tfjs.tensor1d(data.labels.subarray(row, row + batch));
      losses[s] = (await model.trainOnBatch(x, y)) as number;
      tfjs.dispose([x, y]);
    }
    return losses;
  };
}

/** The losses of the first checkSteps steps on tfc's reference interpreter: what every system is checked against. */
export async function referenceLosses(p: TrainingProtocol = TRAINING_PROTOCOL, data: TrainingData = trainingData(p), model: tfc.LayersModel = tfcModel()): Promise<Float32Array> {
  const session = await model.trainingSession("interp");
  return sessionStepper(session, data, p.batch)(0, p.checkSteps);
}

/** Run `fn` with TFC_NUM_THREADS set to `threads` (unchanged when undefined), restoring it after. */
async function withThreads<T>(threads: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (threads === undefined) return fn();
  const saved = process.env["TFC_NUM_THREADS"];
  process.env["TFC_NUM_THREADS"] = String(threads);
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env["TFC_NUM_THREADS"];
    else process.env["TFC_NUM_THREADS"] = saved;
  }
}

/** Check the first steps, warm up, then time per the protocol; an exception becomes a "skipped" entry. */
async function timeTraining(system: string, isTfc: boolean, chunkSteps: number, start: () => Promise<Stepper>, reference: Float32Array, p: TrainingProtocol): Promise<Entry> {
  try {
    const step = await start();
    const relError = relativeError(await step(0, p.checkSteps), reference);
    let next = p.checkSteps;
    const warmupStart = performance.now();
    do {
      await step(next, chunkSteps);
      next += chunkSteps;
    } while (performance.now() - warmupStart < p.warmupMs);

    // Per step: a call of several steps counts its mean step time once per step.
    const timesMs: number[] = [];
    let totalMs = 0;
    for (;;) {
      const t0 = performance.now();
      await step(next, chunkSteps);
      const ms = performance.now() - t0;
      next += chunkSteps;
      for (let s = 0; s < chunkSteps; s++) timesMs.push(ms / chunkSteps);
      totalMs += ms;
      if (timesMs.length >= p.minSteps && totalMs >= p.budgetMs) break;
      if (totalMs + ms > p.hardCapMs) break;
    }
    return { system, isTfc, timesMs, relError };
  } catch (e) {
    return { system, isTfc, skipped: (e as Error).message.split("\n")[0]! };
  }
}

export interface TrainingRun {
  readonly protocol?: TrainingProtocol;
  /** The TF.js backends to time (tfjsBackends() in the benchmark). */
  readonly tfjs: readonly TfjsBackend[];
  /** The tfc systems to time (default: all of TFC_SYSTEMS). */
  readonly tfc?: readonly string[];
  /** The losses to check against instead of tfc-interp's (tests feed a wrong one to see the check fire). */
  readonly reference?: Float32Array;
}

/** The training workload: every system's checked, timed training steps. */
export async function trainingThroughput(run: TrainingRun): Promise<WorkloadResult> {
  const p = run.protocol ?? TRAINING_PROTOCOL;
  const data = trainingData(p);
  const model = tfcModel();
  const initialWeights = model.getWeights();
  const reference = run.reference ?? (await referenceLosses(p, data, model));
  const entries: Entry[] = [];

  for (const { system, backend, threads } of TFC_SYSTEMS.filter((s) => !run.tfc || run.tfc.includes(s.system))) {
    // Each session starts from the model's variables, which no session writes back: the initial weights.
    const start = async () => {
      compileTfc(model);
      return sessionStepper(await model.trainingSession(backend), data, p.batch);
    };
    entries.push(await withThreads(threads, () => timeTraining(system, true, p.tfcChunkSteps, start, reference, p)));
  }
  compileTfc(model); // releases the last session's native or wasm build

  for (const backend of run.tfjs) {
    let theirs: tfjs.LayersModel | undefined;
    entries.push(
      await timeTraining(
        backend.system,
        false,
        1,
        async () => {
          await backend.activate();
          theirs = tfjsModel(initialWeights);
          return trainOnBatchStepper(theirs, data, p.batch);
        },
        reference,
        p,
      ),
    );
    (theirs?.optimizer as tfjs.Optimizer | undefined)?.dispose();
    theirs?.dispose();
  }
  return { workload: `mlp train batch=${p.batch}`, kind: "training", samplesPerStep: p.batch, tolerance: TRAINING_TOLERANCE, entries };
}
