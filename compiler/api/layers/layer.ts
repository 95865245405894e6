// The Layer base class, symbolic tensors of the functional API, and layer-config handling shared
// by every layer: unique names, Keras snake_case options accepted with a hint, unknown options
// rejected with "did you mean". A layer's `call` is written once with tf ops; shapes of symbolic
// applications come from tracing that same `call`, so each layer states its math once.

import { Module, type Initializer } from "../../../ir/ir.js";
import { TfcError, closest, type SourceLoc } from "../../../ir/errors.js";
import { BATCH, formatType, type DType, type TensorType } from "../../../ir/types.js";
import { currentUserLoc, withFallbackLoc } from "../../frontend/location.js";
import { TraceContext, withContext } from "../context.js";
import { Tensor, Variable } from "../tensor.js";
import { toIRDType, fromIRDType, type DataType } from "../dtypes.js";
import { warn } from "../warnings.js";
import type { LayerConfig } from "../io/keras-objects.js";

/** Turns camelCase keys into their Keras snake_case aliases, as optional keys of the same type. */
type CamelToSnake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${CamelToSnake<T>}` : S;
export type WithKerasAliases<T> = T & { [K in keyof T as CamelToSnake<K & string>]?: T[K] };

export interface BaseLayerArgs {
  name?: string;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  batchSize?: number;
  dtype?: DataType;
  trainable?: boolean;
  /** Initial weights, in the order `getWeights()` returns them. */
  weights?: Tensor[];
  inputDType?: DataType;
}
const BASE_KEYS = ["name", "inputShape", "batchInputShape", "batchSize", "dtype", "trainable", "weights", "inputDType"];

const nameCounts = new Map<string, number>();
/** Reset layer-name counters; the loader calls this before running each model file. */
export function resetLayerNames(): void {
  nameCounts.clear();
}
function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}
const snake = (s: string): string => s.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Check a layer config: Keras snake_case keys are renamed to TF.js camelCase (with a warning);
 * unknown keys are an error with a "did you mean" hint.
 */
export function normalizeArgs<T extends object>(className: string, args: T | undefined, keys: readonly string[]): T {
  const known = new Set([...BASE_KEYS, ...keys]);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args ?? {})) {
    if (value === undefined) continue;
    if (known.has(key)) {
      out[key] = value;
      continue;
    }
    const renamed = camel(key);
    if (renamed !== key && known.has(renamed)) {
      warn("TFC3101", `${className} option '${key}' is the Keras spelling; tfc uses TF.js's '${renamed}'`);
      out[renamed] = value;
      continue;
    }
    const hint = closest(key, known);
    throw new TfcError("TFC3002", `unknown ${className} option '${key}'`, {
      loc: currentUserLoc(),
      notes: hint ? [`did you mean '${hint}'?`] : [`${className} options are: ${[...known].join(", ")}`],
    });
  }
  return out as T;
}

export function requireArg<T>(className: string, args: Record<string, unknown>, key: string, check: (v: unknown) => boolean, want: string): T {
  const v = args[key];
  if (v === undefined) throw new TfcError("TFC3007", `${className} needs option '${key}' (${want})`, { loc: currentUserLoc() });
  if (!check(v)) throw new TfcError("TFC3008", `${className} option '${key}' must be ${want}, got ${JSON.stringify(v)}`, { loc: currentUserLoc() });
  return v as T;
}

export const isPositiveInt = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v > 0;

/** A tensor of the functional API: a shape and the layer application that produces it. */
export class SymbolicTensor {
  constructor(
    readonly irType: TensorType,
    /** The layer that produced it (undefined for model inputs). */
    readonly sourceLayer: Layer | undefined,
    readonly inputs: readonly SymbolicTensor[],
    readonly name: string,
  ) {}
  /** TF.js spelling: `null` for the batch dimension. */
  get shape(): (number | null)[] {
    return this.irType.shape.map((d) => (d === BATCH ? null : d));
  }
  get dtype(): DataType {
    return fromIRDType(this.irType.dtype);
  }
  get rank(): number {
    return this.irType.shape.length;
  }
}

export type LayerInput = Tensor | SymbolicTensor;

export abstract class Layer {
  readonly name: string;
  readonly trainable: boolean;
  /** Where the user created this layer. */
  readonly createdAt: SourceLoc | undefined;
  /** `[?, ...inputShape]` when the config gave one (first layers of Sequential models). */
  readonly batchInputShape: number[] | undefined;
  readonly inputDType: DType;
  protected built = false;
  private readonly weightList: Variable[] = [];
  private readonly pendingWeights: Tensor[] | undefined;
  /** Output type of the most recent symbolic application (for summaries). */
  outputType: TensorType | undefined;

  constructor(
    readonly className: string,
    args: BaseLayerArgs,
  ) {
    this.createdAt = currentUserLoc();
    this.name = args.name ?? uniqueName(snake(className));
    this.trainable = args.trainable ?? true;
    this.inputDType = toIRDType(args.inputDType ?? args.dtype ?? "float32");
    const shape = args.batchInputShape ?? (args.inputShape ? [args.batchSize ?? null, ...args.inputShape] : undefined);
    if (shape) {
      for (const d of shape.slice(1)) {
        if (!isPositiveInt(d)) {
          throw new TfcError("TFC3008", `${className} inputShape must hold positive integers, got [${shape.slice(1).join(", ")}]`, { loc: this.createdAt });
        }
      }
      this.batchInputShape = shape.map((d) => (d === null || d === undefined ? BATCH : d));
    }
    this.pendingWeights = args.weights;
  }

  /** The layer's math on tensors; called with one tensor per input. */
  protected abstract call(inputs: Tensor[]): Tensor;

  /** Create weights once the input types are known. */
  protected build(_inputs: readonly TensorType[]): void {}

  protected addWeight(name: string, shape: number[], init: Initializer, trainable = true, dtype: DType = "f32"): Variable {
    const v = new Variable({ dtype, shape }, init, `${this.name}/${name}`, trainable && this.trainable);
    this.weightList.push(v);
    return v;
  }

  get weights(): Variable[] {
    return [...this.weightList];
  }
  get trainableWeights(): Variable[] {
    return this.weightList.filter((w) => w.trainable);
  }
  get nonTrainableWeights(): Variable[] {
    return this.weightList.filter((w) => !w.trainable);
  }
  countParams(): number {
    return this.weightList.reduce((n, w) => n + w.size, 0);
  }
  getWeights(): Tensor[] {
    return this.weightList.map((w) => Tensor.fromHost(w.host!));
  }
  setWeights(weights: Tensor[]): void {
    if (weights.length !== this.weightList.length) {
      throw new TfcError("TFC2013", `layer '${this.name}' has ${this.weightList.length} weights, ${weights.length} were given`, { loc: currentUserLoc() });
    }
    weights.forEach((w, i) => this.weightList[i]!.write(w));
  }

  /**
   * The layer's Keras config in TF.js's camelCase keys, as TF.js's `getConfig()` returns it; the
   * checkpoint writer (io/layers-format.ts) turns it into model.json's snake_case. Each layer
   * class adds its options to these base ones.
   */
  getConfig(): LayerConfig {
    const config: LayerConfig = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) {
      config.batchInputShape = this.batchInputShape.map((d) => (d === BATCH ? null : d));
      config.dtype = fromIRDType(this.inputDType);
    }
    return config;
  }

  /** Apply to concrete or traced tensors (computes now) or to symbolic tensors (records a graph node). */
  apply(inputs: LayerInput | LayerInput[]): any {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length > 0 && list.every((x) => x instanceof SymbolicTensor)) return this.applySymbolic(list as SymbolicTensor[]);
    if (list.some((x) => x instanceof SymbolicTensor)) {
      throw new TfcError("TFC5012", `layer '${this.name}' was applied to a mix of symbolic and concrete tensors`, { loc: currentUserLoc() });
    }
    return this.invoke(list as Tensor[]);
  }

  /** @internal Build if needed, then run `call`, attributing errors to this layer. */
  invoke(inputs: Tensor[]): Tensor {
    try {
      if (!this.built) {
        this.build(inputs.map((t) => t.irType));
        this.built = true;
        if (this.pendingWeights) this.setWeights(this.pendingWeights);
      }
      return withFallbackLoc(this.createdAt, () => this.call(inputs));
    } catch (e) {
      if (e instanceof TfcError && !e.message.startsWith(`layer '`)) {
        (e as { message: string }).message = `layer '${this.name}' (${this.className}): ${e.message}`;
      }
      throw e;
    }
  }

  private applySymbolic(inputs: SymbolicTensor[]): SymbolicTensor {
    const module = new Module();
    const trace = new TraceContext(module, this.name, (v) => {
      if (!module.params.has(v.name)) module.addParam({ name: v.name, type: v.irType, init: v.init, trainable: v.trainable });
      return v.name;
    });
    const out = withContext(trace, () => this.invoke(inputs.map((s, i) => trace.arg(`in${i}`, s.irType))));
    this.outputType = out.irType;
    return new SymbolicTensor(out.irType, this, inputs, `${this.name}/output`);
  }

  /** Keras-style one-line description of the output shape. */
  describeOutput(): string {
    return this.outputType ? formatType(this.outputType) : "(not built)";
  }
}
