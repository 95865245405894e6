// tf.function: marks a TypeScript function for ahead-of-time compilation. Called directly it runs
// eagerly; exported from a model file it is traced with symbolic inputs from its inputSignature.

import type { SourceLoc } from "../../ir/errors.js";
import { currentUserLoc } from "../frontend/location.js";
import type { DataType } from "./dtypes.js";

export interface TensorSpec {
  readonly shape: (number | null)[];
  readonly dtype?: DataType;
  readonly name?: string;
}

/** Describes one argument of a tf.function: `tf.tensorSpec([null, 784])` (null = any batch size). */
export function tensorSpec(shape: (number | null)[], dtype: DataType = "float32", name?: string): TensorSpec {
  return name === undefined ? { shape, dtype } : { shape, dtype, name };
}

export interface FunctionInfo {
  readonly fn: (...args: any[]) => unknown;
  readonly inputSignature: readonly TensorSpec[] | undefined;
  readonly name: string | undefined;
  readonly createdAt: SourceLoc | undefined;
}

export type TfFunction<F> = F & { readonly __tfcFunction: FunctionInfo };

export function tfFunction<F extends (...args: any[]) => unknown>(fn: F, options: { inputSignature?: TensorSpec[]; name?: string } = {}): TfFunction<F> {
  const info: FunctionInfo = { fn, inputSignature: options.inputSignature, name: options.name, createdAt: currentUserLoc() };
  const wrapper = ((...args: unknown[]) => fn(...args)) as unknown as TfFunction<F>;
  Object.defineProperty(wrapper, "__tfcFunction", { value: info });
  return wrapper;
}

export function isTfFunction(x: unknown): x is TfFunction<(...args: any[]) => unknown> {
  return typeof x === "function" && "__tfcFunction" in x;
}
