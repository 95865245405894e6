// Builds the compiled functions that training runs: from a model and its compile() settings, one
// module holding `train_step` (forward, loss, gradients by autodiff, the optimizer's update of
// every weight and of its own state, returned as `@param` results), `eval_step` (loss and metrics)
// and `predict`. Model weights and optimizer state are the module's parameters, named after their
// variables, so every target runs the same step and checkpoints read them by name.

import { Module, type Func } from "../../ir/ir.js";
import { TfcError, type SourceLoc } from "../../ir/errors.js";
import { withFallbackLoc } from "../frontend/location.js";
import { BATCH, type TensorType } from "../../ir/types.js";
import { runPipeline } from "../../passes/manager.js";
import { TraceContext, withContext, withTraining, assignVariable } from "../api/context.js";
import { variableGradsMap } from "../api/grad.js";
import type { LayersModel } from "../api/models.js";
import { Tensor, Variable } from "../api/tensor.js";
import * as ops from "../api/ops.js";
import { paramDeclarer } from "../frontend/trace.js";
import type { Optimizer } from "../api/optimizers.js";

export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** What model.compile() settled: resolved functions plus the names History uses. */
export interface TrainingConfig {
  readonly optimizer: Optimizer;
  /** One loss per model output. */
  readonly losses: readonly LossFn[];
  /** True when labels are class indices ([batch]) rather than the output's shape. */
  readonly sparseLabels: boolean;
  /** Metrics of the first output, with their History names ('acc', 'mse', …). */
  readonly metrics: readonly { readonly name: string; readonly fn: MetricFn }[];
  /** Where model.compile was called: the source location of the loss and optimizer ops. */
  readonly compiledAt?: SourceLoc | undefined;
}

export interface TrainingProgram {
  readonly module: Module;
  readonly train: Func;
  readonly eval: Func;
  readonly predict: Func;
  readonly inputTypes: readonly TensorType[];
  readonly labelTypes: readonly TensorType[];
  /** 'loss' then the metric names: what train_step and eval_step return, in order. */
  readonly logNames: readonly string[];
  /** Every parameter (weights and optimizer state) and the variable it lives in between runs. */
  readonly variables: ReadonlyMap<string, Variable>;
}

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, "_");

/** The parameter holding a training run's random seed (advanced by one per step). */
export const SEED_PARAM = "tfc/step_seed";

/** Label type of each output: its own shape, or [batch] of class indices for sparse losses. */
export function labelTypes(model: LayersModel, sparse: boolean): TensorType[] {
  return model.outputs.map((o) => (sparse ? { dtype: "f32" as const, shape: [BATCH] } : { dtype: "f32" as const, shape: [...o.irType.shape] }));
}

export function buildTrainingProgram(model: LayersModel, config: TrainingConfig): TrainingProgram {
  if (model.inputs.length === 0) {
    throw new TfcError("TFC7080", `model '${model.name}' has no known input shape, so it cannot be trained: give its first layer an inputShape`);
  }
  if (config.losses.length !== model.outputs.length) {
    throw new TfcError("TFC7081", `model '${model.name}' has ${model.outputs.length} outputs but compile() gave ${config.losses.length} losses`);
  }
  const module = new Module();
  const names = new Map<Variable, string>();
  const declare = paramDeclarer(module, names);
  const inputTypes = model.inputs.map((s) => s.irType);
  const labels = labelTypes(model, config.sparseLabels);
  const trainable = model.layers.flatMap((l) => l.trainableWeights);
  if (trainable.length === 0) throw new TfcError("TFC7082", `model '${model.name}' has no trainable weights`);

  const trace = (fnName: string, body: (xs: Tensor[], ys: Tensor[]) => Tensor[], withLabels = true): Func => {
    const t = new TraceContext(module, fnName, declare);
    const xs = model.inputs.map((s) => t.arg(sanitize(s.name), s.irType));
    const ys = withLabels ? labels.map((type, i) => t.arg(labels.length === 1 ? "labels" : `labels_${i}`, type)) : [];
    const outs = withFallbackLoc(config.compiledAt, () => withContext(t, () => body(xs, ys)));
    const updates = t.updateResults();
    const names = withLabels ? ["loss", ...config.metrics.map((m) => sanitize(m.name))] : model.outputs.map((o, i) => (o.sourceLayer ? sanitize(o.sourceLayer.name) : `output_${i}`));
    const fn = t.builder.finish([...outs.map((o) => t.valueOf(o)), ...updates.values], [...names, ...updates.names]);
    module.functions.push(fn);
    return fn;
  };
  const totalLoss = (ys: Tensor[], preds: Tensor[]): Tensor => preds.map((p, i) => config.losses[i]!(ys[i]!, p)).reduce((a, b) => ops.add(a, b));
  const metricValues = (ys: Tensor[], preds: Tensor[]): Tensor[] => config.metrics.map((m) => ops.mean(m.fn(ys[0]!, preds[0]!)));

  // The step's random seed (dropout): a parameter the step advances, made when a layer first asks.
  let seedVar: Variable | undefined;
  const seed = (): Tensor => (seedVar ??= new Variable({ dtype: "i32", shape: [] }, { kind: "zeros" }, SEED_PARAM, false));
  const train = trace("train_step", (xs, ys) =>
    withTraining(seed, () => {
      // Metrics see the predictions before the update, as in TF.js; cse merges this forward pass
      // with the one inside the gradient (same ops, same seed: the same dropout masks).
      const metrics = metricValues(ys, model.run(xs));
      const { value, grads } = variableGradsMap(() => totalLoss(ys, model.run(xs)), trainable);
      for (const v of trainable) {
        if (!grads.has(v)) throw new TfcError("TFC7083", `the loss does not depend on weight '${v.name}', so it cannot be trained; mark its layer trainable: false`);
      }
      config.optimizer.applyGradients(grads);
      if (seedVar) assignVariable(seedVar, ops.add(seedVar, ops.scalar(1, "int32")));
      return [value, ...metrics];
    }),
  );
  const evalFn = trace("eval_step", (xs, ys) => {
    const preds = model.run(xs);
    return [totalLoss(ys, preds), ...metricValues(ys, preds)];
  });
  const predict = trace("predict", (xs) => model.run(xs), false);
  runPipeline(module, "training");
  const variables = new Map([...names].map(([v, name]) => [name, v]));
  return { module, train, eval: evalFn, predict, inputTypes, labelTypes: labels, logNames: ["loss", ...config.metrics.map((m) => m.name)], variables };
}
