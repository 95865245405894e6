// Convolution, pooling and normalization layers: Conv2D, DepthwiseConv2D, MaxPooling2D,
// AveragePooling2D, GlobalAveragePooling2D, BatchNormalization. Channels-last (NHWC), as TF.js's default.

import { TfcError } from "../../../ir/errors.js";
import type { Initializer } from "../../../ir/ir.js";
import { formatType, type TensorType } from "../../../ir/types.js";
import { currentUserLoc } from "../../frontend/location.js";
import { getActivation } from "../activations.js";
import { resolveInitializer } from "../initializers.js";
import * as ops from "../ops.js";
import { assignVariable, inTraining } from "../context.js";
import type { Tensor, Variable } from "../tensor.js";
import { Layer, isPositiveInt, normalizeArgs, requireArg, type BaseLayerArgs, type WithKerasAliases } from "./layer.js";
import type { Activation, InitializerSpec } from "./core.js";
import { initializerToConfig, type LayerConfig } from "../io/keras-objects.js";

type Size2 = number | [number, number];
const pair = (v: Size2): [number, number] => (typeof v === "number" ? [v, v] : v);
const isSize2 = (v: unknown): boolean => isPositiveInt(v) || (Array.isArray(v) && v.length === 2 && v.every(isPositiveInt));
type PaddingMode = "valid" | "same";

function checkDataFormat(className: string, f: unknown): void {
  if (f !== undefined && f !== "channelsLast") {
    throw new TfcError("TFC3006", `${className} supports dataFormat 'channelsLast' (NHWC), got ${JSON.stringify(f)}`, { loc: currentUserLoc() });
  }
}
function checkPadding(className: string, p: unknown): PaddingMode {
  if (p === undefined) return "valid";
  if (p === "valid" || p === "same") return p;
  throw new TfcError("TFC3005", `${className} padding must be 'valid' or 'same', got ${JSON.stringify(p)}`, { loc: currentUserLoc() });
}
function requireImage(className: string, x: TensorType): void {
  if (x.shape.length !== 4) {
    throw new TfcError("TFC2001", `${className} expects rank-4 input [batch, height, width, channels], got ${formatType(x)}`, { loc: currentUserLoc() });
  }
}

/** Options Conv2D and DepthwiseConv2D share. */
interface ConvArgs extends BaseLayerArgs {
  kernelSize: Size2;
  strides?: Size2;
  padding?: PaddingMode;
  dataFormat?: "channelsLast";
  dilationRate?: Size2;
  activation?: Activation;
  useBias?: boolean;
  biasInitializer?: InitializerSpec;
}
const CONV_KEYS = ["kernelSize", "strides", "padding", "dataFormat", "dilationRate", "activation", "useBias", "biasInitializer"];

/** The shared half of convolution layers: options, kernel + bias weights, bias and activation after the op. */
abstract class Conv extends Layer {
  protected readonly strides: [number, number];
  protected readonly dilations: [number, number];
  protected readonly padding: PaddingMode;
  protected readonly kernelSize: [number, number];
  private readonly useBias: boolean;
  private readonly activation: (x: Tensor) => Tensor;
  private readonly activationName: string;
  protected readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  protected kernel!: Variable;
  private bias: Variable | undefined;

  constructor(className: string, args: ConvArgs, kernelInitializer: InitializerSpec | undefined) {
    super(className, args);
    requireArg(className, args as unknown as Record<string, unknown>, "kernelSize", isSize2, "a positive integer or [height, width]");
    checkDataFormat(className, args.dataFormat);
    this.padding = checkPadding(className, args.padding);
    this.kernelSize = pair(args.kernelSize);
    this.strides = pair(args.strides ?? 1);
    this.dilations = pair(args.dilationRate ?? 1);
    this.useBias = args.useBias ?? true;
    this.activation = getActivation(args.activation);
    this.activationName = args.activation ?? "linear";
    this.kernelInit = resolveInitializer(kernelInitializer, "glorotUniform");
    this.biasInit = resolveInitializer(args.biasInitializer, "zeros");
  }

  /** The options both convolutions write (TF.js's BaseConv config); subclasses add their kernel's. */
  protected convConfig(): LayerConfig {
    return {
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dataFormat: "channelsLast",
      dilationRate: [...this.dilations],
      activation: this.activationName,
      useBias: this.useBias,
      biasInitializer: initializerToConfig(this.biasInit, `layer '${this.name}' biasInitializer`),
      biasRegularizer: null, activityRegularizer: null, biasConstraint: null,
      ...super.getConfig(),
    };
  }

  /** Kernel weight name and shape, and the number of output channels, for `inChannels` inputs. */
  protected abstract kernelSpec(inChannels: number): { name: string; shape: number[]; outChannels: number };
  /** The convolution itself. */
  protected abstract convolve(x: Tensor): Tensor;

  protected override build([x]: readonly TensorType[]): void {
    requireImage(this.className, x!);
    const spec = this.kernelSpec(x!.shape[3]!);
    this.kernel = this.addWeight(spec.name, spec.shape, this.kernelInit);
    if (this.useBias) this.bias = this.addWeight("bias", [spec.outChannels], this.biasInit);
  }

  protected call([x]: Tensor[]): Tensor {
    let y = this.convolve(x!);
    if (this.bias) y = ops.add(y, this.bias);
    return this.activation(y);
  }
}

export interface Conv2DLayerArgs extends ConvArgs {
  filters: number;
  kernelInitializer?: InitializerSpec;
}

export class Conv2D extends Conv {
  private readonly filters: number;
  constructor(config: WithKerasAliases<Conv2DLayerArgs>) {
    const args = normalizeArgs("Conv2D", config, [...CONV_KEYS, "filters", "kernelInitializer"]);
    super("Conv2D", args, args.kernelInitializer);
    this.filters = requireArg("Conv2D", args as unknown as Record<string, unknown>, "filters", isPositiveInt, "a positive integer");
  }
  override getConfig(): LayerConfig {
    return {
      filters: this.filters,
      kernelInitializer: initializerToConfig(this.kernelInit, `layer '${this.name}' kernelInitializer`),
      kernelRegularizer: null, kernelConstraint: null,
      ...this.convConfig(),
    };
  }
  protected kernelSpec(inChannels: number) {
    return { name: "kernel", shape: [...this.kernelSize, inChannels, this.filters], outChannels: this.filters };
  }
  protected convolve(x: Tensor): Tensor {
    return ops.conv2d(x, this.kernel, this.strides, this.padding, "NHWC", this.dilations);
  }
}

export interface DepthwiseConv2DLayerArgs extends ConvArgs {
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerSpec;
}

export class DepthwiseConv2D extends Conv {
  private readonly depthMultiplier: number;
  constructor(config: WithKerasAliases<DepthwiseConv2DLayerArgs>) {
    const args = normalizeArgs("DepthwiseConv2D", config, [...CONV_KEYS, "depthMultiplier", "depthwiseInitializer"]);
    super("DepthwiseConv2D", args, args.depthwiseInitializer);
    this.depthMultiplier = args.depthMultiplier ?? 1;
  }
  override getConfig(): LayerConfig {
    return {
      ...this.convConfig(),
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: initializerToConfig(this.kernelInit, `layer '${this.name}' depthwiseInitializer`),
      depthwiseRegularizer: null, depthwiseConstraint: null,
    };
  }
  protected kernelSpec(inChannels: number) {
    return { name: "depthwise_kernel", shape: [...this.kernelSize, inChannels, this.depthMultiplier], outChannels: inChannels * this.depthMultiplier };
  }
  protected convolve(x: Tensor): Tensor {
    return ops.depthwiseConv2d(x, this.kernel, this.strides, this.padding, "NHWC", this.dilations);
  }
}

export interface Pooling2DLayerArgs extends BaseLayerArgs {
  poolSize?: Size2;
  strides?: Size2;
  padding?: PaddingMode;
  dataFormat?: "channelsLast";
}

abstract class Pooling2D extends Layer {
  protected readonly poolSize: [number, number];
  protected readonly strides: [number, number];
  protected readonly padding: PaddingMode;
  constructor(className: string, config: WithKerasAliases<Pooling2DLayerArgs> | undefined) {
    const args = normalizeArgs(className, config, ["poolSize", "strides", "padding", "dataFormat"]);
    super(className, args);
    checkDataFormat(className, args.dataFormat);
    this.poolSize = pair(args.poolSize ?? 2);
    this.strides = pair(args.strides ?? this.poolSize);
    this.padding = checkPadding(className, args.padding);
  }
  protected override build([x]: readonly TensorType[]): void {
    requireImage(this.className, x!);
  }
  override getConfig(): LayerConfig {
    return { poolSize: [...this.poolSize], padding: this.padding, strides: [...this.strides], dataFormat: "channelsLast", ...super.getConfig() };
  }
}

export class MaxPooling2D extends Pooling2D {
  constructor(config?: WithKerasAliases<Pooling2DLayerArgs>) {
    super("MaxPooling2D", config);
  }
  protected call([x]: Tensor[]): Tensor {
    return ops.maxPool(x!, this.poolSize, this.strides, this.padding);
  }
}

export class AveragePooling2D extends Pooling2D {
  constructor(config?: WithKerasAliases<Pooling2DLayerArgs>) {
    super("AveragePooling2D", config);
  }
  protected call([x]: Tensor[]): Tensor {
    return ops.avgPool(x!, this.poolSize, this.strides, this.padding);
  }
}

export class GlobalAveragePooling2D extends Layer {
  constructor(config: WithKerasAliases<BaseLayerArgs & { dataFormat?: "channelsLast" }> = {}) {
    const args = normalizeArgs("GlobalAveragePooling2D", config, ["dataFormat"]);
    super("GlobalAveragePooling2D", args);
    checkDataFormat("GlobalAveragePooling2D", (args as { dataFormat?: unknown }).dataFormat);
  }
  protected override build([x]: readonly TensorType[]): void {
    requireImage("GlobalAveragePooling2D", x!);
  }
  protected call([x]: Tensor[]): Tensor {
    return ops.mean(x!, [1, 2]);
  }
  override getConfig(): LayerConfig {
    return { dataFormat: "channelsLast", ...super.getConfig() };
  }
}

export interface BatchNormalizationLayerArgs extends BaseLayerArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerSpec;
  gammaInitializer?: InitializerSpec;
  movingMeanInitializer?: InitializerSpec;
  movingVarianceInitializer?: InitializerSpec;
}

/** Inference form: normalizes with the moving mean and variance. Weights in TF.js order: gamma, beta, moving mean, moving variance. */
export class BatchNormalization extends Layer {
  private readonly args: BatchNormalizationLayerArgs;
  private gamma: Variable | undefined;
  private beta: Variable | undefined;
  private movingMean!: Variable;
  private movingVariance!: Variable;
  constructor(config: WithKerasAliases<BatchNormalizationLayerArgs> = {}) {
    const args = normalizeArgs("BatchNormalization", config, [
      "axis", "momentum", "epsilon", "center", "scale", "betaInitializer", "gammaInitializer", "movingMeanInitializer", "movingVarianceInitializer",
    ]);
    super("BatchNormalization", args);
    this.args = args;
    this.inits = [
      resolveInitializer(args.gammaInitializer, "ones"),
      resolveInitializer(args.betaInitializer, "zeros"),
      resolveInitializer(args.movingMeanInitializer, "zeros"),
      resolveInitializer(args.movingVarianceInitializer, "ones"),
    ];
  }
  private readonly inits: [Initializer, Initializer, Initializer, Initializer];
  protected override build([x]: readonly TensorType[]): void {
    const rank = x!.shape.length;
    const axis = this.args.axis ?? -1;
    if (axis !== -1 && axis !== rank - 1) {
      throw new TfcError("TFC3006", `BatchNormalization supports the last axis (channels last), got axis ${axis} for ${formatType(x!)}`, { loc: currentUserLoc() });
    }
    const c = x!.shape[rank - 1]!;
    if (this.args.scale ?? true) this.gamma = this.addWeight("gamma", [c], this.inits[0]);
    if (this.args.center ?? true) this.beta = this.addWeight("beta", [c], this.inits[1]);
    this.movingMean = this.addWeight("moving_mean", [c], this.inits[2], false);
    this.movingVariance = this.addWeight("moving_variance", [c], this.inits[3], false);
  }
  override getConfig(): LayerConfig {
    const init = (i: number, what: string) => initializerToConfig(this.inits[i]!, `layer '${this.name}' ${what}`);
    return {
      axis: this.args.axis ?? -1,
      momentum: this.args.momentum ?? 0.99,
      epsilon: this.args.epsilon ?? 0.001,
      center: this.args.center ?? true,
      scale: this.args.scale ?? true,
      betaInitializer: init(1, "betaInitializer"),
      gammaInitializer: init(0, "gammaInitializer"),
      movingMeanInitializer: init(2, "movingMeanInitializer"),
      movingVarianceInitializer: init(3, "movingVarianceInitializer"),
      betaRegularizer: null, gammaRegularizer: null, betaConstraint: null, gammaConstraint: null,
      ...super.getConfig(),
    };
  }
  /**
   * Inference: the moving statistics. In a training step, as TF.js: the batch's mean and (biased)
   * variance over every axis but the channels normalize x, and the moving statistics move towards
   * them by 1 − momentum — variable writes, so the compiled step updates them in place.
   */
  protected call([x]: Tensor[]): Tensor {
    const epsilon = this.args.epsilon ?? 0.001;
    if (!inTraining()) return ops.batchNorm(x!, this.movingMean, this.movingVariance, this.beta, this.gamma, epsilon);
    const axes = Array.from({ length: x!.rank - 1 }, (_, i) => i);
    const mean = ops.mean(x!, axes);
    const variance = ops.mean(ops.square(ops.sub(x!, mean)), axes);
    const normed = ops.batchNorm(x!, mean, variance, this.beta, this.gamma, epsilon);
    const decay = 1 - (this.args.momentum ?? 0.99);
    for (const [v, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
      assignVariable(v, ops.sub(v, ops.mul(ops.sub(v, value), decay)));
    }
    return normed;
  }
}
