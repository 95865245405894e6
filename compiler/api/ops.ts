// TF.js op functions (`tf.add`, `tf.matMul`, `tf.conv2d`, …): argument handling in TF.js's
// spelling (numbers and nested arrays as tensors, dtype upcasting, negative axes), each ending in
// one IR op through the current context. No arithmetic happens here.

import type { OpName } from "../../ir/ops/index.js";
import type { Attrs } from "../../ir/builder.js";
import { hostTensor, flattenNested } from "../../ir/tensor.js";
import { TfcError } from "../../ir/errors.js";
import type { DType } from "../../ir/types.js";
import { apply } from "./context.js";
import { Tensor, type TensorLike } from "./tensor.js";
import { toIRDType, upcast, type DataType } from "./dtypes.js";
import { currentUserLoc } from "../frontend/location.js";
import type { Initializer } from "../../ir/ir.js";
import { materialize } from "../../ir/initializers.js";

export type TensorOrLike = Tensor | TensorLike;

/** A tensor from a number, boolean, nested array or typed array; `dtype` picks the element type. */
export function convert(x: TensorOrLike, dtype?: DType, what = "x"): Tensor {
  if (x instanceof Tensor) return dtype && x.irType.dtype !== dtype ? apply("cast", [x], { dtype }) : x;
  let flat: { shape: number[]; values: number[] };
  try {
    flat = flattenNested(x, what);
  } catch (e) {
    if (e instanceof TfcError) e.at(currentUserLoc());
    throw e;
  }
  const inferred: DType = typeof firstLeaf(x) === "boolean" ? "bool" : x instanceof Int32Array ? "i32" : "f32";
  return Tensor.fromHost(hostTensor(dtype ?? inferred, flat.shape, flat.values));
}

function firstLeaf(x: unknown): unknown {
  while (Array.isArray(x)) x = x[0];
  return x;
}

/** Binary op with TF.js's dtype rule: JS numbers are float32, then both sides upcast (bool < int32 < float32). */
function binary(op: OpName, a: TensorOrLike, b: TensorOrLike): Tensor {
  const ta = convert(a, undefined, "a");
  const tb = convert(b, undefined, "b");
  let dtype = upcast(ta.irType.dtype, tb.irType.dtype);
  // Arithmetic on two bool tensors counts in int32.
  if (dtype === "bool" && op !== "equal" && op !== "not_equal" && !op.startsWith("logical")) dtype = "i32";
  return apply(op, [convert(ta, dtype), convert(tb, dtype)]);
}

function unary(op: OpName, x: TensorOrLike, attrs?: Attrs, dtype?: DType): Tensor {
  return apply(op, [convert(x, dtype)], attrs);
}

/** Float ops (exp, sigmoid, …) take int tensors by casting them first, as TF.js does. */
function unaryFloat(op: OpName, x: TensorOrLike, attrs?: Attrs): Tensor {
  return unary(op, x, attrs, "f32");
}

function axes(axis: number | number[] | undefined): number[] {
  return axis === undefined ? [] : Array.isArray(axis) ? axis : [axis];
}

// Creation
export function tensor(values: TensorLike, shape?: number[], dtype?: DataType): Tensor {
  const t = convert(values, dtype ? toIRDType(dtype) : undefined, "values");
  return shape ? reshapeConcrete(t, shape) : t;
}
function reshapeConcrete(t: Tensor, shape: number[]): Tensor {
  const h = t.host!;
  try {
    return Tensor.fromHost(hostTensor(h.dtype, shape, h.data));
  } catch (e) {
    if (e instanceof TfcError) e.at(currentUserLoc());
    throw e;
  }
}
export const scalar = (value: number | boolean, dtype?: DataType): Tensor => tensor(value, [], dtype);
export const tensor1d = (values: TensorLike, dtype?: DataType): Tensor => tensor(values, undefined, dtype);
export const tensor2d = (values: TensorLike, shape?: [number, number], dtype?: DataType): Tensor => tensor(values, shape, dtype);
export const tensor3d = (values: TensorLike, shape?: [number, number, number], dtype?: DataType): Tensor => tensor(values, shape, dtype);
export const tensor4d = (values: TensorLike, shape?: [number, number, number, number], dtype?: DataType): Tensor => tensor(values, shape, dtype);
export function fill(shape: number[], value: number, dtype: DataType = "float32"): Tensor {
  const h = hostTensor(toIRDType(dtype), shape);
  h.data.fill(value);
  return Tensor.fromHost(h);
}
export const zeros = (shape: number[], dtype: DataType = "float32"): Tensor => fill(shape, 0, dtype);
export const ones = (shape: number[], dtype: DataType = "float32"): Tensor => fill(shape, 1, dtype);
export const zerosLike = (x: Tensor): Tensor => mul(x, 0);
export const onesLike = (x: Tensor): Tensor => add(mul(x, 0), 1);

// Arithmetic
export const add = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("add", a, b);
export const sub = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("sub", a, b);
export const mul = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("mul", a, b);
export const div = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("div", a, b);
export const pow = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("pow", a, b);
export const maximum = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("maximum", a, b);
export const minimum = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("minimum", a, b);
export const squaredDifference = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("squared_difference", a, b);
export const neg = (x: TensorOrLike): Tensor => unary("neg", x);
export const abs = (x: TensorOrLike): Tensor => unary("abs", x);
export const square = (x: TensorOrLike): Tensor => unary("square", x);
export const sqrt = (x: TensorOrLike): Tensor => unaryFloat("sqrt", x);
export const rsqrt = (x: TensorOrLike): Tensor => unaryFloat("rsqrt", x);
export const exp = (x: TensorOrLike): Tensor => unaryFloat("exp", x);
export const log = (x: TensorOrLike): Tensor => unaryFloat("log", x);
export const floor = (x: TensorOrLike): Tensor => unaryFloat("floor", x);

// Activations
export const tanh = (x: TensorOrLike): Tensor => unaryFloat("tanh", x);
export const sigmoid = (x: TensorOrLike): Tensor => unaryFloat("sigmoid", x);
export const relu = (x: TensorOrLike): Tensor => unaryFloat("relu", x);
export const relu6 = (x: TensorOrLike): Tensor => unaryFloat("relu6", x);
export const elu = (x: TensorOrLike): Tensor => unaryFloat("elu", x);
export const selu = (x: TensorOrLike): Tensor => unaryFloat("selu", x);
export const leakyRelu = (x: TensorOrLike, alpha = 0.2): Tensor => unaryFloat("leaky_relu", x, { alpha });
export const gelu = (x: TensorOrLike, approximate = false): Tensor => unaryFloat("gelu", x, { approximate });
export const softplus = (x: TensorOrLike): Tensor => unaryFloat("softplus", x);
export const softsign = (x: TensorOrLike): Tensor => unaryFloat("softsign", x);
export const softmax = (logits: TensorOrLike, dim = -1): Tensor => unaryFloat("softmax", logits, { axis: dim });
export const logSoftmax = (logits: TensorOrLike, axis = -1): Tensor => unaryFloat("log_softmax", logits, { axis });

// Comparison and selection
export const equal = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("equal", a, b);
export const notEqual = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("not_equal", a, b);
export const less = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("less", a, b);
export const lessEqual = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("less_equal", a, b);
export const greater = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("greater", a, b);
export const greaterEqual = (a: TensorOrLike, b: TensorOrLike): Tensor => binary("greater_equal", a, b);
export const logicalAnd = (a: TensorOrLike, b: TensorOrLike): Tensor => apply("logical_and", [convert(a, "bool"), convert(b, "bool")]);
export const logicalOr = (a: TensorOrLike, b: TensorOrLike): Tensor => apply("logical_or", [convert(a, "bool"), convert(b, "bool")]);
export const logicalNot = (x: TensorOrLike): Tensor => apply("logical_not", [convert(x, "bool")]);
export function where(condition: TensorOrLike, a: TensorOrLike, b: TensorOrLike): Tensor {
  const ta = convert(a);
  const tb = convert(b);
  const dtype = upcast(ta.irType.dtype, tb.irType.dtype);
  return apply("select", [convert(condition, "bool"), convert(ta, dtype), convert(tb, dtype)]);
}
export const cast = (x: TensorOrLike, dtype: DataType): Tensor => apply("cast", [convert(x)], { dtype: toIRDType(dtype) });

// Linear algebra, convolution, pooling
export function matMul(a: TensorOrLike, b: TensorOrLike, transposeA = false, transposeB = false): Tensor {
  const ta = convert(a);
  const tb = convert(b);
  const dtype = upcast(ta.irType.dtype, tb.irType.dtype);
  return apply("matmul", [convert(ta, dtype), convert(tb, dtype)], { transpose_a: transposeA, transpose_b: transposeB });
}
export function dot(a: TensorOrLike, b: TensorOrLike): Tensor {
  const ta = convert(a);
  const tb = convert(b);
  if (ta.rank === 1 && tb.rank === 1) return sum(mul(ta, tb));
  if (ta.rank === 1) return reshape(matMul(reshape(ta, [1, -1]), tb), [-1]);
  if (tb.rank === 1) return reshape(matMul(ta, reshape(tb, [-1, 1])), [-1]);
  return matMul(ta, tb);
}

type Pair = number | [number, number];
const pair = (p: Pair): number[] => (typeof p === "number" ? [p, p] : [...p]);
type Padding = "same" | "valid";

function checkPadding(p: unknown): Padding {
  if (p === "same" || p === "valid") return p;
  throw new TfcError("TFC3005", `padding must be 'same' or 'valid', got ${JSON.stringify(p)}`, { loc: currentUserLoc() });
}

export function conv2d(x: TensorOrLike, filter: TensorOrLike, strides: Pair, pad: Padding, dataFormat: "NHWC" = "NHWC", dilations: Pair = 1): Tensor {
  if (dataFormat !== "NHWC") throw new TfcError("TFC3006", `conv2d supports dataFormat 'NHWC' (channels last), got '${dataFormat}'`, { loc: currentUserLoc() });
  return apply("conv2d", [convert(x, "f32"), convert(filter, "f32")], { strides: pair(strides), padding: checkPadding(pad), dilations: pair(dilations) });
}
export function depthwiseConv2d(x: TensorOrLike, filter: TensorOrLike, strides: Pair, pad: Padding, dataFormat: "NHWC" = "NHWC", dilations: Pair = 1): Tensor {
  if (dataFormat !== "NHWC") throw new TfcError("TFC3006", `depthwiseConv2d supports dataFormat 'NHWC' (channels last), got '${dataFormat}'`, { loc: currentUserLoc() });
  return apply("depthwise_conv2d", [convert(x, "f32"), convert(filter, "f32")], { strides: pair(strides), padding: checkPadding(pad), dilations: pair(dilations) });
}
export function maxPool(x: TensorOrLike, filterSize: Pair, strides: Pair, pad: Padding): Tensor {
  return apply("max_pool", [convert(x, "f32")], { ksize: pair(filterSize), strides: pair(strides), padding: checkPadding(pad) });
}
export function avgPool(x: TensorOrLike, filterSize: Pair, strides: Pair, pad: Padding): Tensor {
  return apply("avg_pool", [convert(x, "f32")], { ksize: pair(filterSize), strides: pair(strides), padding: checkPadding(pad) });
}

// Reductions
export const sum = (x: TensorOrLike, axis?: number | number[], keepDims = false): Tensor => unary("sum", x, { axis: axes(axis), keepdims: keepDims });
export const mean = (x: TensorOrLike, axis?: number | number[], keepDims = false): Tensor => unaryFloat("mean", x, { axis: axes(axis), keepdims: keepDims });
export const max = (x: TensorOrLike, axis?: number | number[], keepDims = false): Tensor => unary("max", x, { axis: axes(axis), keepdims: keepDims });
export const min = (x: TensorOrLike, axis?: number | number[], keepDims = false): Tensor => unary("min", x, { axis: axes(axis), keepdims: keepDims });
export const prod = (x: TensorOrLike, axis?: number | number[], keepDims = false): Tensor => unary("prod", x, { axis: axes(axis), keepdims: keepDims });
export const argMax = (x: TensorOrLike, axis = 0): Tensor => unary("arg_max", x, { axis });

// Shapes
export const reshape = (x: TensorOrLike, shape: number[]): Tensor => unary("reshape", x, { shape });
export function transpose(x: TensorOrLike, perm?: number[]): Tensor {
  const t = convert(x);
  return apply("transpose", [t], { perm: perm ?? Array.from({ length: t.rank }, (_, i) => t.rank - 1 - i) });
}
export const broadcastTo = (x: TensorOrLike, shape: number[]): Tensor => unary("broadcast_to", x, { shape });
export function expandDims(x: TensorOrLike, axis = 0): Tensor {
  const t = convert(x);
  const shape = t.shape;
  const a = axis < 0 ? axis + t.rank + 1 : axis;
  shape.splice(a, 0, 1);
  return reshape(t, shape);
}
export function squeeze(x: TensorOrLike, axis?: number[]): Tensor {
  const t = convert(x);
  const drop = new Set((axis ?? t.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => (a < 0 ? a + t.rank : a)));
  return reshape(t, t.shape.filter((_, i) => !drop.has(i)));
}
export function concat(tensors: TensorOrLike[], axis = 0): Tensor {
  const ts = tensors.map((t) => convert(t));
  const dtype = ts.map((t) => t.irType.dtype).reduce(upcast);
  return apply("concat", ts.map((t) => convert(t, dtype)), { axis });
}
export function slice(x: TensorOrLike, begin: number | number[], size?: number | number[]): Tensor {
  const t = convert(x);
  const b = typeof begin === "number" ? [begin, ...new Array<number>(t.rank - 1).fill(0)] : [...begin, ...new Array<number>(t.rank - begin.length).fill(0)];
  const s = size === undefined ? new Array<number>(t.rank).fill(-1) : typeof size === "number" ? [size, ...new Array<number>(t.rank - 1).fill(-1)] : [...size, ...new Array<number>(t.rank - size.length).fill(-1)];
  return apply("slice", [t], { begin: b, size: s });
}
export function pad(x: TensorOrLike, paddings: [number, number][], constantValue = 0): Tensor {
  return unary("pad", x, { paddings: paddings.flat(), constant_value: constantValue });
}
export function gather(x: TensorOrLike, indices: TensorOrLike, axis = 0): Tensor {
  return apply("gather", [convert(x), convert(indices, "i32")], { axis });
}
/** TF.js's oneHot: int32 unless another dtype is asked for. */
export function oneHot(indices: TensorOrLike, depth: number, onValue = 1, offValue = 0, dtype: DataType = "int32"): Tensor {
  const t = apply("one_hot", [convert(indices, "i32")], { depth, on_value: onValue, off_value: offValue });
  return dtype === "float32" ? t : cast(t, dtype);
}
/** Inference form: dropout is the identity outside training. */
export const dropout = (x: TensorOrLike, rate: number): Tensor => unaryFloat("dropout", x, { rate });
export function batchNorm(x: TensorOrLike, mean: TensorOrLike, variance: TensorOrLike, offset?: TensorOrLike, scale?: TensorOrLike, varianceEpsilon = 0.001): Tensor {
  const tx = convert(x, "f32");
  const channels = tx.shape[tx.rank - 1]!;
  return apply("batch_norm", [tx, convert(mean, "f32"), convert(variance, "f32"), convert(offset ?? fill([channels], 0), "f32"), convert(scale ?? fill([channels], 1), "f32")], {
    epsilon: varianceEpsilon,
  });
}

// Random tensors (concrete, from a seeded generator: a model file always builds the same values).
let randomSeed = 1000;
/** The loader resets this before each model file, so unseeded draws repeat from run to run. */
export function resetRandomSeed(): void {
  randomSeed = 1000;
}
function randomTensor(shape: number[], dtype: DataType, seed: number | undefined, kind: Initializer["kind"], a: number, b: number): Tensor {
  const init = { kind, seed: seed ?? randomSeed++, a, b } as Initializer;
  return Tensor.fromHost(materialize(init, { dtype: toIRDType(dtype), shape }));
}
export const randomNormal = (shape: number[], mean = 0, stdDev = 1, dtype: "float32" = "float32", seed?: number): Tensor =>
  randomTensor(shape, dtype, seed, "random_normal", mean, stdDev);
export const truncatedNormal = (shape: number[], mean = 0, stdDev = 1, dtype: "float32" = "float32", seed?: number): Tensor =>
  randomTensor(shape, dtype, seed, "truncated_normal", mean, stdDev);
export const randomUniform = (shape: number[], minval = 0, maxval = 1, dtype: "float32" = "float32", seed?: number): Tensor =>
  randomTensor(shape, dtype, seed, "random_uniform", minval, maxval);
