// Core layers: Dense, Flatten, Reshape, Dropout, Activation, Embedding and the merge layers
// Add and Concatenate. Options and defaults are TF.js's.

import { TfcError } from "../../../ir/errors.js";
import type { Initializer } from "../../../ir/ir.js";
import { formatType, numElements, type TensorType } from "../../../ir/types.js";
import { currentUserLoc } from "../../frontend/location.js";
import { getActivation, type ActivationIdentifier } from "../activations.js";
import { resolveInitializer, type InitializerIdentifier, type InitializerObject } from "../initializers.js";
import * as ops from "../ops.js";
import { apply, trainingSeed } from "../context.js";
import type { Tensor, Variable } from "../tensor.js";
import { initializerToConfig, type LayerConfig } from "../io/keras-objects.js";
import { Layer, isPositiveInt, normalizeArgs, requireArg, type BaseLayerArgs, type WithKerasAliases } from "./layer.js";

export type Activation = ActivationIdentifier | (string & {});
export type InitializerSpec = InitializerIdentifier | InitializerObject | (string & {});

export interface DenseLayerArgs extends BaseLayerArgs {
  units: number;
  activation?: Activation;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  inputDim?: number;
}

export class Dense extends Layer {
  readonly units: number;
  private readonly activation: (x: Tensor) => Tensor;
  private readonly activationName: string;
  private readonly useBias: boolean;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private kernel!: Variable;
  private bias: Variable | undefined;

  constructor(config: WithKerasAliases<DenseLayerArgs>) {
    const args = normalizeArgs("Dense", config, ["units", "activation", "useBias", "kernelInitializer", "biasInitializer", "inputDim"]);
    if (args.inputDim !== undefined && !args.inputShape && !args.batchInputShape) args.inputShape = [args.inputDim];
    super("Dense", args);
    this.units = requireArg("Dense", args as unknown as Record<string, unknown>, "units", isPositiveInt, "a positive integer");
    this.activation = getActivation(args.activation);
    this.activationName = args.activation ?? "linear";
    this.useBias = args.useBias ?? true;
    this.kernelInit = resolveInitializer(args.kernelInitializer, "glorotUniform");
    this.biasInit = resolveInitializer(args.biasInitializer, "zeros");
  }

  override getConfig(): LayerConfig {
    return {
      units: this.units,
      activation: this.activationName,
      useBias: this.useBias,
      kernelInitializer: initializerToConfig(this.kernelInit, `layer '${this.name}' kernelInitializer`),
      biasInitializer: initializerToConfig(this.biasInit, `layer '${this.name}' biasInitializer`),
      kernelRegularizer: null, biasRegularizer: null, activityRegularizer: null, kernelConstraint: null, biasConstraint: null,
      ...super.getConfig(),
    };
  }

  protected override build([x]: readonly TensorType[]): void {
    if (x!.shape.length < 2) {
      throw new TfcError("TFC2001", `Dense expects input of rank 2 or more, got ${formatType(x!)}`, { loc: currentUserLoc() });
    }
    const inDim = x!.shape[x!.shape.length - 1]!;
    this.kernel = this.addWeight("kernel", [inDim, this.units], this.kernelInit);
    if (this.useBias) this.bias = this.addWeight("bias", [this.units], this.biasInit);
  }

  protected call([x]: Tensor[]): Tensor {
    let y = ops.matMul(x!, this.kernel);
    if (this.bias) y = ops.add(y, this.bias);
    return this.activation(y);
  }
}

export class Flatten extends Layer {
  private readonly dataFormat: string | undefined;
  constructor(config: WithKerasAliases<BaseLayerArgs & { dataFormat?: "channelsLast" }> = {}) {
    const args = normalizeArgs("Flatten", config, ["dataFormat"]);
    super("Flatten", args);
    this.dataFormat = args.dataFormat;
  }
  override getConfig(): LayerConfig {
    return { ...(this.dataFormat !== undefined ? { dataFormat: this.dataFormat } : {}), ...super.getConfig() };
  }
  protected call([x]: Tensor[]): Tensor {
    if (x!.rank < 2) throw new TfcError("TFC2001", `Flatten expects input of rank 2 or more, got ${formatType(x!.irType)}`, { loc: currentUserLoc() });
    return ops.reshape(x!, [-1, numElements(x!.irType.shape.slice(1))]);
  }
}

export interface ReshapeLayerArgs extends BaseLayerArgs {
  targetShape: number[];
}
export class Reshape extends Layer {
  private readonly targetShape: number[];
  constructor(config: WithKerasAliases<ReshapeLayerArgs>) {
    const args = normalizeArgs("Reshape", config, ["targetShape"]);
    super("Reshape", args);
    this.targetShape = requireArg("Reshape", args as unknown as Record<string, unknown>, "targetShape", Array.isArray, "an array of sizes");
  }
  override getConfig(): LayerConfig {
    return { targetShape: [...this.targetShape], ...super.getConfig() };
  }
  protected call([x]: Tensor[]): Tensor {
    return ops.reshape(x!, [-1, ...this.targetShape]);
  }
}

export interface DropoutLayerArgs extends BaseLayerArgs {
  rate: number;
  noiseShape?: number[];
  seed?: number;
}
export class Dropout extends Layer {
  readonly rate: number;
  private readonly noiseShape: number[] | undefined;
  private readonly seed: number | undefined;
  constructor(config: WithKerasAliases<DropoutLayerArgs>) {
    const args = normalizeArgs("Dropout", config, ["rate", "noiseShape", "seed"]);
    super("Dropout", args);
    this.rate = requireArg("Dropout", args as unknown as Record<string, unknown>, "rate", (v) => typeof v === "number" && v >= 0 && v < 1, "a number in [0, 1)");
    this.noiseShape = args.noiseShape;
    this.seed = args.seed;
  }
  override getConfig(): LayerConfig {
    return { rate: this.rate, noiseShape: this.noiseShape ? [...this.noiseShape] : null, seed: this.seed ?? null, ...super.getConfig() };
  }
  /**
   * Outside training the identity (the IR's dropout op, stripped for inference). In a training
   * step: x · (u ≥ rate) / (1 − rate), u from random_uniform with the step's seed, salted by the
   * layer's `seed` option or its name, so every layer and step draws its own mask.
   */
  protected call([x]: Tensor[]): Tensor {
    const seed = trainingSeed();
    if (!seed || this.rate === 0) return ops.dropout(x!, this.rate);
    if (this.noiseShape) {
      throw new TfcError("TFC3010", `tfc does not support Dropout's noiseShape in training (yet); layer '${this.name}'`, { loc: this.createdAt });
    }
    const u = apply("random_uniform", [x!, seed], { salt: this.seed ?? stringHash(this.name) });
    return ops.mul(x!, ops.mul(ops.cast(ops.greaterEqual(u, this.rate), "float32"), 1 / (1 - this.rate)));
  }
}

/** A 31-bit FNV-1a hash of a string: a layer's default dropout salt. */
function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x7fffffff;
}

export interface ActivationLayerArgs extends BaseLayerArgs {
  activation: Activation;
}
export class ActivationLayer extends Layer {
  private readonly fn: (x: Tensor) => Tensor;
  private readonly activationName: string;
  constructor(config: WithKerasAliases<ActivationLayerArgs>) {
    const args = normalizeArgs("Activation", config, ["activation"]);
    super("Activation", args);
    this.activationName = requireArg("Activation", args as unknown as Record<string, unknown>, "activation", (v) => typeof v === "string", "an activation name");
    this.fn = getActivation(this.activationName);
  }
  override getConfig(): LayerConfig {
    return { activation: this.activationName, ...super.getConfig() };
  }
  protected call([x]: Tensor[]): Tensor {
    return this.fn(x!);
  }
}

export interface EmbeddingLayerArgs extends BaseLayerArgs {
  inputDim: number;
  outputDim: number;
  embeddingsInitializer?: InitializerSpec;
  inputLength?: number;
  maskZero?: boolean;
}
export class Embedding extends Layer {
  private readonly args: EmbeddingLayerArgs;
  private readonly embeddingsInit: Initializer;
  private embeddings!: Variable;
  constructor(config: WithKerasAliases<EmbeddingLayerArgs>) {
    const args = normalizeArgs("Embedding", config, ["inputDim", "outputDim", "embeddingsInitializer", "inputLength", "maskZero"]);
    if (args.inputLength !== undefined && !args.inputShape && !args.batchInputShape) args.inputShape = [args.inputLength];
    super("Embedding", args);
    const rec = args as unknown as Record<string, unknown>;
    requireArg("Embedding", rec, "inputDim", isPositiveInt, "a positive integer");
    requireArg("Embedding", rec, "outputDim", isPositiveInt, "a positive integer");
    this.args = args;
    this.embeddingsInit = resolveInitializer(args.embeddingsInitializer, "randomUniform");
  }
  protected override build(): void {
    this.embeddings = this.addWeight("embeddings", [this.args.inputDim, this.args.outputDim], this.embeddingsInit);
  }
  override getConfig(): LayerConfig {
    return {
      inputDim: this.args.inputDim,
      outputDim: this.args.outputDim,
      embeddingsInitializer: initializerToConfig(this.embeddingsInit, `layer '${this.name}' embeddingsInitializer`),
      embeddingsRegularizer: null, activityRegularizer: null, embeddingsConstraint: null,
      maskZero: this.args.maskZero ?? null,
      inputLength: this.args.inputLength ?? null,
      ...super.getConfig(),
    };
  }
  protected call([x]: Tensor[]): Tensor {
    return ops.gather(this.embeddings, ops.cast(x!, "int32"), 0);
  }
}

export class Add extends Layer {
  constructor(config: WithKerasAliases<BaseLayerArgs> = {}) {
    super("Add", normalizeArgs("Add", config, []));
  }
  protected call(inputs: Tensor[]): Tensor {
    if (inputs.length < 2) throw new TfcError("TFC2014", `Add needs at least 2 inputs, got ${inputs.length}`, { loc: currentUserLoc() });
    return inputs.slice(1).reduce((acc, x) => ops.add(acc, x), inputs[0]!);
  }
}

export interface ConcatenateLayerArgs extends BaseLayerArgs {
  axis?: number;
}
export class Concatenate extends Layer {
  private readonly axis: number;
  constructor(config: WithKerasAliases<ConcatenateLayerArgs> = {}) {
    const args = normalizeArgs("Concatenate", config, ["axis"]);
    super("Concatenate", args);
    this.axis = args.axis ?? -1;
  }
  override getConfig(): LayerConfig {
    return { axis: this.axis, ...super.getConfig() };
  }
  protected call(inputs: Tensor[]): Tensor {
    if (inputs.length < 2) throw new TfcError("TFC2014", `Concatenate needs at least 2 inputs, got ${inputs.length}`, { loc: currentUserLoc() });
    return ops.concat(inputs, this.axis);
  }
}
