// Training callbacks in TF.js's shape: plain objects with onEpochEnd/onBatchEnd/… (CustomCallbackArgs),
// Callback subclasses, and tf.callbacks.earlyStopping. fit awaits each hook in order.

import { TfcError } from "../../ir/errors.js";
import { currentUserLoc } from "../frontend/location.js";
import { warn } from "../api/warnings.js";

export type Logs = Record<string, number>;

/** What a callback may touch of the model being trained. */
export interface TrainingModel {
  stopTraining: boolean;
}

export interface CustomCallbackArgs {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

export abstract class Callback {
  model: TrainingModel | undefined;
  setModel(model: TrainingModel): void {
    this.model = model;
  }
}

export interface EarlyStoppingArgs {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  verbose?: number;
  mode?: "auto" | "min" | "max";
  baseline?: number;
  restoreBestWeights?: boolean;
}

/** Stops training when `monitor` has not improved by more than minDelta for `patience` epochs (TF.js semantics). */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  private readonly minDelta: number;
  private readonly patience: number;
  private readonly baseline: number | undefined;
  private readonly better: (a: number, b: number) => boolean;
  private wait = 0;
  private best = 0;
  /** Epoch at which training was stopped, 0 if it was not. */
  stoppedEpoch = 0;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    if (args.restoreBestWeights) {
      throw new TfcError("TFC7087", "restoreBestWeights is not supported by earlyStopping (TF.js does not support it either)", { loc: currentUserLoc() });
    }
    this.monitor = args.monitor ?? "val_loss";
    this.patience = args.patience ?? 0;
    this.baseline = args.baseline;
    const mode = args.mode ?? "auto";
    if (!["auto", "min", "max"].includes(mode)) throw new TfcError("TFC7087", `earlyStopping mode must be 'auto', 'min' or 'max', got '${mode}'`, { loc: currentUserLoc() });
    const max = mode === "max" || (mode === "auto" && /acc/.test(this.monitor));
    this.better = max ? (a, b) => a > b : (a, b) => a < b;
    // As TF.js: in min mode the delta counts against the current value.
    this.minDelta = Math.abs(args.minDelta ?? 0) * (max ? 1 : -1);
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.baseline ?? (this.better(0, 1) ? Infinity : -Infinity);
  }

  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const current = logs[this.monitor];
    if (current === undefined) {
      warn("TFC7088", `earlyStopping monitors '${this.monitor}', which is not among the logs (${Object.keys(logs).join(", ")})`);
      return;
    }
    if (this.better(current - this.minDelta, this.best)) {
      this.best = current;
      this.wait = 0;
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = epoch;
      if (this.model) this.model.stopTraining = true;
    }
  }
}

export const callbacks = { earlyStopping: (args?: EarlyStoppingArgs) => new EarlyStopping(args) };

export type CallbackArg = CustomCallbackArgs | Callback;

const HOOKS = ["onTrainBegin", "onTrainEnd", "onEpochBegin", "onEpochEnd", "onBatchBegin", "onBatchEnd"] as const;

/** fit's callbacks, called in order; a hook that throws stops training with its error. */
export class CallbackList {
  private readonly list: CustomCallbackArgs[];
  constructor(given: CallbackArg | CallbackArg[] | undefined, model: TrainingModel) {
    this.list = (given === undefined ? [] : Array.isArray(given) ? given : [given]) as CustomCallbackArgs[];
    for (const c of this.list) {
      if (c === null || typeof c !== "object") throw new TfcError("TFC7087", "callbacks must be objects with onEpochEnd, onBatchEnd, … or tf.callbacks.earlyStopping()", { loc: currentUserLoc() });
      const unknown = Object.keys(c).filter((k) => k.startsWith("on") && !(HOOKS as readonly string[]).includes(k));
      if (unknown.length) throw new TfcError("TFC7087", `unknown callback hook '${unknown[0]}'; hooks are ${HOOKS.join(", ")}`, { loc: currentUserLoc() });
      if (c instanceof Callback) c.setModel(model);
    }
  }
  get wantsBatches(): boolean {
    return this.list.some((c) => c.onBatchBegin || c.onBatchEnd);
  }
  async trainBegin(logs: Logs = {}): Promise<void> {
    for (const c of this.list) await c.onTrainBegin?.(logs);
  }
  async trainEnd(logs: Logs = {}): Promise<void> {
    for (const c of this.list) await c.onTrainEnd?.(logs);
  }
  async epochBegin(epoch: number): Promise<void> {
    for (const c of this.list) await c.onEpochBegin?.(epoch, {});
  }
  async epochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const c of this.list) await c.onEpochEnd?.(epoch, { ...logs });
  }
  async batchBegin(batch: number, size: number): Promise<void> {
    for (const c of this.list) await c.onBatchBegin?.(batch, { batch, size });
  }
  /** logs: TF.js's {batch, size, loss, …}. */
  async batchEnd(batch: number, logs: Logs): Promise<void> {
    for (const c of this.list) await c.onBatchEnd?.(batch, { ...logs });
  }
}
