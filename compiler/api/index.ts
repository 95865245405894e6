// The `tfc` module a model file imports (`import * as tf from 'tfc'`): TF.js's names for tensors,
// ops, layers and models. The same API runs eagerly in a script and is traced by `tfc compile`.

import { Tensor, Variable, type TensorLike } from "./tensor.js";
import { convert } from "./ops.js";
import { toIRDType, type DataType } from "./dtypes.js";
import { LayersModel, Sequential, input, type InputConfig } from "./models.js";
import type { Layer, SymbolicTensor } from "./layers/layer.js";
import * as core from "./layers/core.js";
import * as conv from "./layers/conv.js";
import { tfFunction } from "./function.js";

export * from "./ops.js";
export { Tensor, Variable, type TensorLike } from "./tensor.js";
export { type DataType } from "./dtypes.js";
export { LayersModel, Sequential, input, type InputConfig } from "./models.js";
export { Layer, SymbolicTensor } from "./layers/layer.js";
export { tensorSpec, type TensorSpec, type TfFunction } from "./function.js";
export { initializers } from "./initializers.js";
export { executingEagerly } from "./context.js";
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads } from "./grad.js";
export type { ActivationIdentifier } from "./activations.js";
export { losses, clipByValue, log1p } from "./losses.js";
export * as metrics from "./metrics.js";
export { train, Optimizer } from "./optimizers.js";
export { callbacks, Callback, EarlyStopping, type CustomCallbackArgs } from "../train/callbacks.js";
export { setBackend, getBackend } from "../train/backend.js";
export type { History } from "../train/session.js";
export * as data from "../data/index.js";
export * as io from "./io/index.js";
export { loadLayersModel } from "./io/files.js";
export type { ModelCompileArgs, ModelFitArgs } from "./models.js";

export const version = { tfc: "0.1.0" };

/** TF (Python) spelling of tf.tensor, as the TensorFlow tutorial uses it. */
export const constant = (value: TensorLike, dtype?: DataType, shape?: number[]): Tensor => {
  const t = convert(value, dtype ? toIRDType(dtype) : undefined, "value");
  return shape ? t.reshape(shape) : t;
};

/** tf.variable(initialValue, trainable?, name?, dtype?) as in TF.js. */
export function variable(initialValue: Tensor | TensorLike, trainable = true, name?: string, dtype?: DataType): Variable {
  const t = convert(initialValue, dtype ? toIRDType(dtype) : undefined, "initialValue");
  const host = t.concrete("variable");
  return new Variable({ dtype: host.dtype, shape: host.shape }, { kind: "data", tensor: host }, name, trainable);
}

export function sequential(config?: { layers?: Layer[]; name?: string }): Sequential {
  return new Sequential(config);
}

export function model(args: { inputs: SymbolicTensor | SymbolicTensor[]; outputs: SymbolicTensor | SymbolicTensor[]; name?: string }): LayersModel {
  return new LayersModel(args);
}

export { tfFunction as function };

type Args<C extends new (config: any) => unknown> = ConstructorParameters<C>[0];

export const layers = {
  dense: (config: Args<typeof core.Dense>) => new core.Dense(config),
  flatten: (config?: Args<typeof core.Flatten>) => new core.Flatten(config),
  reshape: (config: Args<typeof core.Reshape>) => new core.Reshape(config),
  dropout: (config: Args<typeof core.Dropout>) => new core.Dropout(config),
  activation: (config: Args<typeof core.ActivationLayer>) => new core.ActivationLayer(config),
  embedding: (config: Args<typeof core.Embedding>) => new core.Embedding(config),
  add: (config?: Args<typeof core.Add>) => new core.Add(config),
  concatenate: (config?: Args<typeof core.Concatenate>) => new core.Concatenate(config),
  conv2d: (config: Args<typeof conv.Conv2D>) => new conv.Conv2D(config),
  depthwiseConv2d: (config: Args<typeof conv.DepthwiseConv2D>) => new conv.DepthwiseConv2D(config),
  maxPooling2d: (config?: Args<typeof conv.MaxPooling2D>) => new conv.MaxPooling2D(config),
  maxPool2d: (config?: Args<typeof conv.MaxPooling2D>) => new conv.MaxPooling2D(config),
  averagePooling2d: (config?: Args<typeof conv.AveragePooling2D>) => new conv.AveragePooling2D(config),
  avgPool2d: (config?: Args<typeof conv.AveragePooling2D>) => new conv.AveragePooling2D(config),
  globalAveragePooling2d: (config?: Args<typeof conv.GlobalAveragePooling2D>) => new conv.GlobalAveragePooling2D(config),
  batchNormalization: (config?: Args<typeof conv.BatchNormalization>) => new conv.BatchNormalization(config),
  input: (config: InputConfig) => input(config),
};
