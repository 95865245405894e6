// Reductions: sum, mean, max, min, prod over a list of axes (reference kernels accumulate in
// float64 and round once), arg_max along one axis, and softmax / log_softmax, which decompose
// into max, sub, exp, sum, div and log so that fusion and lowering see only primitives.

import { defineOp, type VjpArgs } from "../op-def.js";
import type { Value } from "../ir.js";
import { attr } from "../attrs.js";
import { TfcError } from "../errors.js";
import { formatType, normalizeAxis, numElements, stridesOf, type DType, type TensorType } from "../types.js";
import { hostTensor, type HostTensor } from "../tensor.js";
import { reductionAxes, requireDType } from "./common.js";
import { forEachIndex } from "./core.js";
import type { FuncBuilder } from "../builder.js";
import { broadcastLike, isF32, keptShape, normAxes, reducedCount, reshapeTo, scalar } from "./grad-helpers.js";

const reduceAttrs = { axis: attr.ints([]), keepdims: attr.bool(false) };

/** Result type of a reduction: reduced axes dropped, or kept as 1 with keepdims. */
function reducedType(op: string, x: TensorType, axis: readonly number[], keepdims: boolean, allowed: readonly DType[]): TensorType {
  requireDType(op, x, allowed);
  const axes = new Set(reductionAxes(op, axis, x.shape.length));
  const shape = keepdims ? x.shape.map((d, i) => (axes.has(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.has(i));
  return { dtype: x.dtype, shape };
}

/** How a reduction folds values: the start value, one step, and the final value from the count. */
interface Fold {
  readonly init: number;
  step(acc: number, v: number): number;
  finish?(acc: number, count: number): number;
}

/**
 * The generic reduction kernel: every input element is folded into the accumulator of the
 * output element it reduces to (its index with the reduced axes dropped). Accumulators are
 * float64 and the result is rounded once when stored (i32 results wrap to 32 bits).
 */
function reduceKernel(op: string, x: HostTensor, axis: readonly number[], out: TensorType, fold: Fold): HostTensor {
  const axes = new Set(reductionAxes(op, axis, x.shape.length));
  const keptShape = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const outStrides = stridesOf(keptShape).map((s, i) => (axes.has(i) ? 0 : s));
  const acc = new Float64Array(numElements(out.shape)).fill(fold.init);
  const xs = x.data;
  forEachIndex(x.shape, (flat, idx) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d]! * outStrides[d]!;
    acc[o] = fold.step(acc[o]!, xs[flat]!);
  });
  const count = numElements(x.shape.filter((_, i) => axes.has(i)));
  const res = hostTensor(out.dtype, out.shape);
  for (let i = 0; i < acc.length; i++) res.data[i] = fold.finish ? fold.finish(acc[i]!, count) : acc[i]!;
  return res;
}

/** max/min step that lets NaN win, as TF.js's Max/Min kernels do. */
const nanOr = (better: (v: number, acc: number) => boolean) => (acc: number, v: number) => (v !== v || better(v, acc) ? v : acc);

/** dL/dx of a reduction from x, its result y and y's gradient g, both in keepdims form, and the reduced axes. */
type ReduceVjp = (b: FuncBuilder, x: Value, y: Value, g: Value, axes: readonly number[]) => Value;

function reduction(name: string, summary: string, allowed: readonly DType[], fold: (dtype: DType) => Fold, vjp?: ReduceVjp) {
  return defineOp({
    name,
    summary: `${summary}: \`%1 = ${name} %0 {axis=[1], keepdims=false} : f32[?]\``,
    operands: ["x"],
    attrs: reduceAttrs,
    traits: ["pure", "reduction"],
    type: ([x], { axis, keepdims }) => reducedType(name, x!, axis, keepdims, allowed),
    interpret: ([x], { axis }, out) => reduceKernel(name, x!, axis, out, fold(x!.dtype)),
    ...(vjp
      ? {
          vjp: (b: FuncBuilder, { inputs: [x], output, grad, attrs }: VjpArgs<{ readonly axis: readonly number[] }>): (Value | null)[] => {
            if (!isF32(x!)) return [null];
            const axes = normAxes(attrs.axis, x!.type.shape.length);
            const kept = keptShape(x!.type.shape, axes);
            return [vjp(b, x!, reshapeTo(b, output, kept), reshapeTo(b, grad, kept), axes)];
          },
        }
      : {}),
  });
}

/** sum: every element gets its group's gradient. */
const sumVjp: ReduceVjp = (b, x, _y, g) => broadcastLike(b, g, x);

/** mean: the group's gradient divided by the group's size (counted at run time over a reduced `?`). */
const meanVjp: ReduceVjp = (b, x, _y, g, axes) => broadcastLike(b, b.op("div", [g, reducedCount(b, x, axes)]), x);

/** max/min: the gradient goes to the elements equal to the result (every tie gets it, as in TF.js's Max/Min gradient). */
const extremumVjp: ReduceVjp = (b, x, y, g) => {
  const hit = b.op("equal", [x, broadcastLike(b, y, x)]);
  return b.op("select", [hit, broadcastLike(b, g, x), scalar(b, 0)]);
};

/**
 * prod: the product of the other elements of the group, exact with zeros: with no zero in the
 * group it is y/x; with exactly one zero, the zero gets the product of the nonzero elements and
 * the rest get 0; with two or more zeros, everything gets 0.
 */
const prodVjp: ReduceVjp = (b, x, _y, g, axes) => {
  const zero = scalar(b, 0);
  const one = scalar(b, 1);
  const isZero = b.op("equal", [x, zero]);
  const nonzero = b.op("select", [isZero, one, x]);
  const keep = { axis: [...axes], keepdims: true };
  const prodNonzero = broadcastLike(b, b.op("prod", [nonzero], keep), x);
  const zeros = broadcastLike(b, b.op("sum", [b.op("cast", [isZero], { dtype: "f32" })], keep), x);
  const atZero = b.op("select", [b.op("equal", [zeros, one]), prodNonzero, zero]);
  const atOther = b.op("select", [b.op("equal", [zeros, zero]), b.op("div", [prodNonzero, nonzero]), zero]);
  return b.op("mul", [broadcastLike(b, g, x), b.op("select", [isZero, atZero, atOther])]);
};

export const sum = reduction("sum", "Sum over axes (empty axis list: all)", ["f32", "i32"], () => ({ init: 0, step: (a, v) => a + v }), sumVjp);
export const mean = reduction("mean", "Arithmetic mean over axes (empty axis list: all)", ["f32"], () => ({
  init: 0,
  step: (a, v) => a + v,
  finish: (a, n) => a / n,
}), meanVjp);
export const max = reduction("max", "Maximum over axes, NaN-propagating (empty axis list: all)", ["f32", "i32"], () => ({
  init: -Infinity,
  step: nanOr((v, a) => v > a),
}), extremumVjp);
export const min = reduction("min", "Minimum over axes, NaN-propagating (empty axis list: all)", ["f32", "i32"], () => ({
  init: Infinity,
  step: nanOr((v, a) => v < a),
}), extremumVjp);
/** i32 products wrap like 32-bit multiplication at every step (Math.imul), as a compiled kernel does. */
export const prod = reduction("prod", "Product over axes (empty axis list: all)", ["f32", "i32"], (dtype) => ({
  init: 1,
  step: dtype === "i32" ? (a, v) => Math.imul(a, v) : (a, v) => a * v,
}), prodVjp);

/**
 * Index of the largest element along `axis` (i32). Ties and NaN behave as in TF.js: the first
 * maximal index wins, and a NaN is never larger than anything (it wins only at index 0).
 */
export const arg_max = defineOp({
  name: "arg_max",
  summary: "Index of the maximum along an axis: `%1 = arg_max %0 {axis=1} : i32[?]`",
  operands: ["x"],
  attrs: { axis: attr.int(0) },
  traits: ["pure", "reduction"],
  type: ([x], { axis }) => {
    requireDType("arg_max", x!, ["f32", "i32"]);
    if (x!.shape.length === 0) throw new TfcError("TFC2001", `arg_max expects an input of rank 1 or more, got ${formatType(x!)}`);
    const a = normalizeAxis(axis, x!.shape.length, "arg_max axis");
    return { dtype: "i32", shape: x!.shape.filter((_, i) => i !== a) };
  },
  interpret: ([x], { axis }, out) => {
    const a = normalizeAxis(axis, x!.shape.length, "arg_max axis");
    const outer = numElements(x!.shape.slice(0, a));
    const n = x!.shape[a]!;
    const inner = numElements(x!.shape.slice(a + 1));
    const res = hostTensor("i32", out.shape);
    const xs = x!.data;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let best = xs[base]!;
        let bestIndex = 0;
        for (let j = 1; j < n; j++) {
          const v = xs[base + j * inner]!;
          if (v > best) {
            best = v;
            bestIndex = j;
          }
        }
        res.data[o * inner + i] = bestIndex;
      }
    }
    return res;
  },
  vjp: (): (Value | null)[] => [null],
});

function softmaxType(op: string) {
  return ([x]: readonly TensorType[], { axis }: { axis: number }): TensorType => {
    requireDType(op, x!, ["f32"]);
    normalizeAxis(axis, x!.shape.length, `${op} axis`);
    return { dtype: "f32", shape: [...x!.shape] };
  };
}

/** softmax(x) = exp(x - max(x)) / sum(exp(x - max(x))) along `axis`; subtracting the max avoids overflow. */
export const softmax = defineOp({
  name: "softmax",
  summary: "Normalized exponentials along an axis: `%1 = softmax %0 {axis=-1} : f32[?,10]`",
  operands: ["logits"],
  attrs: { axis: attr.int(-1) },
  traits: ["pure"],
  type: softmaxType("softmax"),
  decompose: (b, [x], { axis }): Value => {
    const reduceOver = { axis: [axis], keepdims: true };
    const shifted = b.op("sub", [x!, b.op("max", [x!], reduceOver)]);
    const e = b.op("exp", [shifted]);
    return b.op("div", [e, b.op("sum", [e], reduceOver)]);
  },
  // dx = (g - sum(g·y)) · y along the axis (autodiff may also go through the decomposition).
  vjp: (b, { output: y, grad: g, attrs: { axis } }): (Value | null)[] => {
    const dot = b.op("sum", [b.op("mul", [g, y])], { axis: [axis], keepdims: true });
    return [b.op("mul", [b.op("sub", [g, dot]), y])];
  },
});

/** log_softmax(x) = (x - max) - log(sum(exp(x - max))) along `axis`, stable for large logits. */
export const log_softmax = defineOp({
  name: "log_softmax",
  summary: "Log of softmax along an axis: `%1 = log_softmax %0 {axis=-1} : f32[?,10]`",
  operands: ["logits"],
  attrs: { axis: attr.int(-1) },
  traits: ["pure"],
  type: softmaxType("log_softmax"),
  decompose: (b, [x], { axis }): Value => {
    const reduceOver = { axis: [axis], keepdims: true };
    const shifted = b.op("sub", [x!, b.op("max", [x!], reduceOver)]);
    const logSum = b.op("log", [b.op("sum", [b.op("exp", [shifted])], reduceOver)]);
    return b.op("sub", [shifted, logSum]);
  },
  // dx = g - softmax(x) · sum(g) along the axis, with softmax(x) = exp(y).
  vjp: (b, { output: y, grad: g, attrs: { axis } }): (Value | null)[] => {
    const total = b.op("sum", [g], { axis: [axis], keepdims: true });
    return [b.op("sub", [g, b.op("mul", [b.op("exp", [y]), total])])];
  },
});
