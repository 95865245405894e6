// A training session: one model's compiled training program on one backend, and the loops that
// drive it — fit (epochs of shuffled batches, validation, callbacks, progress, History), evaluate
// and predict over whole arrays. Data stays in flat typed arrays (row-major, batch first); the
// backends gather each step's rows themselves (natively: in C, many steps per call).

import { Rng } from "../../ir/initializers.js";
import { TfcError } from "../../ir/errors.js";
import { BATCH, type TensorType } from "../../ir/types.js";
import type { LayersModel } from "../api/models.js";
import { Tensor, type Variable } from "../api/tensor.js";
import { hostTensor } from "../../ir/tensor.js";
import { buildTrainingProgram, type TrainingConfig, type TrainingProgram } from "./step.js";
import { createRunner, InterpRunner, NumericsError, type Backend, type StepName, type StepRunner, type TypedArray } from "./runner.js";
import { CallbackList, type CallbackArg, type Logs } from "./callbacks.js";
import { Progress, type ProgressSink } from "./progress.js";

export interface ArrayData {
  /** One flat array per model input, then one per label: row-major, n rows each. */
  readonly xs: readonly TypedArray[];
  readonly ys: readonly TypedArray[];
  readonly n: number;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Seed of the per-epoch shuffles (tfc): the same seed gives the same batches, resumed or not. */
  seed?: number;
  validationSplit?: number;
  validationData?: ArrayData;
  callbacks?: CallbackArg | CallbackArg[];
  /** 0: silent; 1: progress bar on a terminal, a line per epoch elsewhere. */
  verbose?: number;
  initialEpoch?: number;
  checkNumerics?: boolean;
  /** Where progress goes (default: stdout). */
  out?: ProgressSink;
  /** Called after each epoch with the parameters (for checkpoints). */
  onEpochSaved?: (epoch: number, logs: Logs) => void | Promise<void>;
}

/** TF.js's History: the epochs run and each log's value per epoch. */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
  params: { epochs: number; initialEpoch: number; samples: number; steps: number; batchSize: number; doValidation: boolean; metrics: string[] };
}

/** Element count of one row of a batched type. */
export const rowElements = (t: TensorType): number => t.shape.filter((d) => d !== BATCH).reduce((a, b) => a * b, 1);

/** A permutation of [0, n) for one epoch: Fisher–Yates from a seed mixed with the epoch number. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  const rng = new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export class TrainingSession {
  private constructor(
    readonly model: LayersModel & { stopTraining: boolean },
    readonly program: TrainingProgram,
    readonly runner: StepRunner,
  ) {}

  static async create(model: LayersModel & { stopTraining: boolean }, config: TrainingConfig, backend: Backend, fns: readonly StepName[] = ["train_step", "eval_step", "predict"]): Promise<TrainingSession> {
    const program = buildTrainingProgram(model, config);
    const runner = await createRunner(backend, program.module, currentValues(program.variables), fns);
    return new TrainingSession(model, program, runner);
  }

  get logNames(): readonly string[] {
    return this.program.logNames;
  }

  /** The parameters by name, as the backend holds them now. */
  readParams(): Map<string, TypedArray> {
    return this.runner.readParams();
  }

  writeParams(values: ReadonlyMap<string, TypedArray>): void {
    this.runner.writeParams(values);
  }

  /** Copy the backend's parameters into the tf.Variables (model weights and optimizer state). */
  syncToVariables(): void {
    for (const [name, data] of this.runner.readParams()) {
      const v = this.program.variables.get(name);
      if (v) v.write(Tensor.fromHost(hostTensor(v.irType.dtype, [...v.irType.shape], data)));
    }
  }

  /** Check that data fits the program's inputs and labels: counts, row sizes, dtypes. */
  private checkData(data: ArrayData, what: string, labels = true): void {
    const types = [...this.program.inputTypes, ...(labels ? this.program.labelTypes : [])];
    const arrays = [...data.xs, ...(labels ? data.ys : [])];
    if (arrays.length !== types.length) {
      throw new TfcError("TFC7091", `${what}: the model takes ${this.program.inputTypes.length} input(s)${labels ? ` and ${this.program.labelTypes.length} label array(s)` : ""}, got ${arrays.length}`);
    }
    arrays.forEach((a, i) => {
      const row = rowElements(types[i]!);
      const label = i >= this.program.inputTypes.length;
      const name = label ? `labels${types.length - this.program.inputTypes.length > 1 ? ` ${i - this.program.inputTypes.length}` : ""}` : `input ${i}`;
      if (a.length !== data.n * row) {
        const shape = `[${types[i]!.shape.map((d) => (d === BATCH ? data.n : d)).join(",")}]`;
        throw new TfcError("TFC7092", `${what}: ${name} has ${a.length} values; ${data.n} examples of ${shape} need ${data.n * row}${label && this.program.labelTypes[0]!.shape.length === 1 ? " (this loss takes one class index per example)" : ""}`);
      }
    });
  }

  private all(data: ArrayData, labels = true): TypedArray[] {
    const types = [...this.program.inputTypes, ...(labels ? this.program.labelTypes : [])];
    return [...data.xs, ...(labels ? data.ys : [])].map((a, i) => (types[i]!.dtype === "i32" ? Int32Array.from(a) : a instanceof Float32Array ? a : Float32Array.from(a)));
  }

  /** Batches of `order` in runBatches calls: full batches `chunkSteps` at a time, then the smaller last one. */
  private static plan(rows: number, batchSize: number, chunkSteps: number): { batch: number; first: number; steps: number }[] {
    const full = Math.floor(rows / batchSize);
    const plan: { batch: number; first: number; steps: number }[] = [];
    for (let s = 0; s < full; s += Math.min(chunkSteps, full - s)) plan.push({ batch: batchSize, first: s, steps: Math.min(chunkSteps, full - s) });
    if (rows % batchSize) plan.push({ batch: rows % batchSize, first: full, steps: 1 });
    return plan;
  }

  /** Steps `fn` over rows `order` in batches; returns the sum over batches of (each output's per-batch value × batch size). */
  private sweep(fn: StepName, data: TypedArray[], n: number, order: Int32Array, batchSize: number): number[] {
    const sums = new Array<number>(this.logNames.length).fill(0);
    for (const p of TrainingSession.plan(order.length, batchSize, Infinity)) {
      const outs = this.runStep(fn, p.batch, p.steps, order.subarray(p.first * batchSize), n, data);
      for (let s = 0; s < p.steps; s++) outs.forEach((o, k) => (sums[k]! += o[s]! * p.batch));
    }
    return sums;
  }

  /** One runBatches call; a numerics failure is located on the interpreter (op and source line). */
  private runStep(fn: StepName, batch: number, steps: number, order: Int32Array, n: number, data: TypedArray[]): TypedArray[] {
    try {
      return this.runner.runBatches(fn, batch, steps, order, n, data);
    } catch (e) {
      if (!(e instanceof NumericsError) || this.runner.backend === "interp") throw e;
      // The failing step updated nothing: replay it on the interpreter, which names the op.
      const interp = new InterpRunner(this.program.module, new Map());
      const params = this.runner.readParams();
      interp.writeParamsFrom(this.program.module, params);
      interp.setCheckNumerics(true);
      interp.runBatches(fn, batch, 1, order.subarray(e.step * batch), n, data);
      throw e;
    }
  }

  async fit(train: ArrayData, opts: FitOptions = {}): Promise<History> {
    const epochs = opts.epochs ?? 1;
    const batchSize = opts.batchSize ?? 32;
    const initialEpoch = opts.initialEpoch ?? 0;
    if (!Number.isInteger(epochs) || epochs < 1) throw new TfcError("TFC7093", `epochs must be a positive whole number, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TfcError("TFC7093", `batchSize must be a positive whole number, got ${batchSize}`);
    this.checkData(train, "fit");
    let trainData = train;
    let valData = opts.validationData;
    // As TF.js: validationData wins over validationSplit; a split of 0 means none.
    if (opts.validationSplit !== undefined && opts.validationSplit !== 0 && !opts.validationData) {
      if (!(opts.validationSplit > 0 && opts.validationSplit < 1)) throw new TfcError("TFC7093", `validationSplit must be between 0 and 1, got ${opts.validationSplit}`);
      // As TF.js: the last fraction of the examples, before any shuffling.
      const at = Math.floor(train.n * (1 - opts.validationSplit));
      const cut = (arrays: readonly TypedArray[], lo: number, hi: number, types: readonly TensorType[]) => arrays.map((a, i) => a.subarray(lo * rowElements(types[i]!), hi * rowElements(types[i]!)));
      trainData = { xs: cut(train.xs, 0, at, this.program.inputTypes), ys: cut(train.ys, 0, at, this.program.labelTypes), n: at };
      valData = { xs: cut(train.xs, at, train.n, this.program.inputTypes), ys: cut(train.ys, at, train.n, this.program.labelTypes), n: train.n - at };
    }
    if (trainData.n < 1) throw new TfcError("TFC7094", "fit: there are no training examples left (the data is empty or validationSplit takes them all)");
    if (valData) this.checkData(valData, "validationData");
    const data = this.all(trainData);
    const steps = Math.ceil(trainData.n / batchSize);
    const history: History = {
      epoch: [],
      history: {},
      params: { epochs, initialEpoch, samples: trainData.n, steps, batchSize, doValidation: Boolean(valData), metrics: [...this.logNames, ...(valData ? this.logNames.map((n) => `val_${n}`) : [])] },
    };
    const cbs = new CallbackList(opts.callbacks, this.model);
    const progress = opts.verbose ? new Progress(opts.out ?? process.stdout, epochs, steps) : undefined;
    this.runner.setCheckNumerics(Boolean(opts.checkNumerics));
    this.model.stopTraining = false;
    await cbs.trainBegin();
    const seed = opts.seed ?? 0;
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      await cbs.epochBegin(epoch);
      progress?.epochBegin(epoch);
      const order = epochOrder(trainData.n, seed, epoch, opts.shuffle ?? true);
      const sums = new Array<number>(this.logNames.length).fill(0);
      let seen = 0;
      // Batch hooks run between steps (one step per call then), see the weights of that step and may stop training.
      const perStep = cbs.wantsBatches;
      for (const p of TrainingSession.plan(trainData.n, batchSize, perStep ? 1 : progress ? 16 : Infinity)) {
        if (perStep) await cbs.batchBegin(p.first, p.batch);
        const outs = this.runStep("train_step", p.batch, p.steps, order.subarray(p.first * batchSize), trainData.n, data);
        for (let s = 0; s < p.steps; s++) outs.forEach((o, k) => (sums[k]! += o[s]! * p.batch));
        seen += p.steps * p.batch;
        progress?.update(Math.min(steps, p.first + p.steps), Object.fromEntries(this.logNames.map((name, k) => [name, sums[k]! / seen])));
        if (perStep) {
          this.syncToVariables();
          await cbs.batchEnd(p.first, { batch: p.first, size: p.batch, ...Object.fromEntries(this.logNames.map((name, k) => [name, outs[k]![0]!])) });
          if (this.model.stopTraining) break;
        }
      }
      const logs: Logs = Object.fromEntries(this.logNames.map((name, k) => [name, sums[k]! / seen]));
      // As TF.js: an epoch cut short by a batch hook is not validated.
      if (valData && !this.model.stopTraining) {
        const val = this.evaluate(valData, batchSize);
        this.logNames.forEach((name, k) => (logs[`val_${name}`] = val[k]!));
      }
      this.syncToVariables();
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      progress?.epochEnd(epoch, logs);
      await cbs.epochEnd(epoch, logs);
      await opts.onEpochSaved?.(epoch, logs);
      if (this.model.stopTraining) break;
    }
    await cbs.trainEnd();
    return history;
  }

  /**
   * fitDataset: each epoch trains on the batches `batches(epoch)` yields (one step per batch, as
   * TF.js does), with the same callbacks, validation and History as fit.
   */
  async fitBatches(batches: (epoch: number) => AsyncIterable<ArrayData>, opts: FitOptions & { validationBatches?: () => AsyncIterable<ArrayData> }): Promise<History> {
    const epochs = opts.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 1) throw new TfcError("TFC7093", `epochs must be a positive whole number, got ${epochs}`);
    const initialEpoch = opts.initialEpoch ?? 0;
    const doValidation = Boolean(opts.validationData || opts.validationBatches);
    const history: History = {
      epoch: [],
      history: {},
      params: { epochs, initialEpoch, samples: 0, steps: 0, batchSize: 0, doValidation, metrics: [...this.logNames, ...(doValidation ? this.logNames.map((n) => `val_${n}`) : [])] },
    };
    const cbs = new CallbackList(opts.callbacks, this.model);
    const progress = opts.verbose ? new Progress(opts.out ?? process.stdout, epochs, 0) : undefined;
    this.runner.setCheckNumerics(Boolean(opts.checkNumerics));
    this.model.stopTraining = false;
    await cbs.trainBegin();
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      await cbs.epochBegin(epoch);
      progress?.epochBegin(epoch);
      const sums = new Array<number>(this.logNames.length).fill(0);
      let seen = 0;
      let index = 0;
      for await (const batch of batches(epoch)) {
        this.checkData(batch, "fitDataset");
        await cbs.batchBegin(index, batch.n);
        const values = this.sweep("train_step", this.all(batch), batch.n, epochOrder(batch.n, 0, 0, false), batch.n);
        values.forEach((v, k) => (sums[k]! += v));
        seen += batch.n;
        if (cbs.wantsBatches) this.syncToVariables();
        await cbs.batchEnd(index, { batch: index, size: batch.n, ...Object.fromEntries(this.logNames.map((name, k) => [name, values[k]! / batch.n])) });
        index++;
        if (this.model.stopTraining) break;
      }
      this.syncToVariables();
      if (seen === 0) throw new TfcError("TFC7094", `fitDataset: the dataset yielded no batches in epoch ${epoch + 1}`);
      const logs: Logs = Object.fromEntries(this.logNames.map((name, k) => [name, sums[k]! / seen]));
      if (this.model.stopTraining) {
        // Cut short by a batch hook: not validated, as in fit.
      } else if (opts.validationData) {
        const val = this.evaluate(opts.validationData, opts.batchSize ?? 32);
        this.logNames.forEach((name, k) => (logs[`val_${name}`] = val[k]!));
      } else if (opts.validationBatches) {
        const vs = new Array<number>(this.logNames.length).fill(0);
        let vn = 0;
        for await (const batch of opts.validationBatches()) {
          this.checkData(batch, "fitDataset (validationData)");
          this.sweep("eval_step", this.all(batch), batch.n, epochOrder(batch.n, 0, 0, false), batch.n).forEach((v, k) => (vs[k]! += v));
          vn += batch.n;
        }
        if (vn > 0) this.logNames.forEach((name, k) => (logs[`val_${name}`] = vs[k]! / vn));
      }
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      progress?.epochEnd(epoch, logs);
      await cbs.epochEnd(epoch, logs);
      if (this.model.stopTraining) break;
    }
    await cbs.trainEnd();
    return history;
  }

  /** The loss and metrics over all of `data`, weighted by batch size as TF.js does. */
  evaluate(data: ArrayData, batchSize = 32): number[] {
    this.checkData(data, "evaluate");
    if (data.n < 1) throw new TfcError("TFC7094", "evaluate: there are no examples");
    const sums = this.sweep("eval_step", this.all(data), data.n, epochOrder(data.n, 0, 0, false), batchSize);
    return sums.map((s) => s / data.n);
  }

  /** The model's outputs for every row of `xs`, in batches. */
  predict(xs: readonly TypedArray[], n: number, batchSize = 32): TypedArray[] {
    this.checkData({ xs, ys: [], n }, "predict", false);
    const all = this.all({ xs, ys: [], n }, false);
    const order = epochOrder(n, 0, 0, false);
    const parts: TypedArray[][] = [];
    for (let first = 0; first < n; first += batchSize) {
      const batch = Math.min(batchSize, n - first);
      parts.push(this.runner.runBatches("predict", batch, 1, order.subarray(first), n, all));
    }
    return parts[0]!.map((_, k) => {
      const out = new Float32Array(parts.reduce((a, p) => a + p[k]!.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p[k]!, at);
        at += p[k]!.length;
      }
      return out;
    });
  }

  dispose(): void {
    this.runner.dispose();
  }
}

/** Current values of the program's variables, by parameter name. */
function currentValues(variables: ReadonlyMap<string, Variable>): Map<string, TypedArray> {
  return new Map([...variables].map(([name, v]) => [name, v.host!.data]));
}
