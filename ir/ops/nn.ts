// Neural-network ops over NHWC images: conv2d, depthwise_conv2d, max_pool, avg_pool (reference
// kernels, later lowered from kernel templates), and batch_norm / dropout in their inference form
// (decomposed into elementwise ops, so fusion sees through them). Window geometry follows TF.js.

import { defineOp } from "../op-def.js";
import type { Value } from "../ir.js";
import { attr } from "../attrs.js";
import { TfcError } from "../errors.js";
import { BATCH, formatShape, formatType, type TensorType } from "../types.js";
import { hostTensor, type HostTensor } from "../tensor.js";
import { requireDType, requireRank } from "./common.js";
import {
  avgPoolGrad,
  maxPoolGradDyGrad,
  convFilterGrad,
  convInputGrad,
  depthwiseAsConvFilter,
  depthwiseFilterGrad,
  scalar,
  sumToShape,
  type WindowGeometry,
} from "./grad-helpers.js";

type Padding = "same" | "valid";

const windowAttrs = {
  strides: attr.ints([1, 1]),
  padding: attr.enum<Padding>(["same", "valid"], "valid"),
  dilations: attr.ints([1, 1]),
};

const poolAttrs = {
  ksize: attr.ints(),
  strides: attr.ints([1, 1]),
  padding: attr.enum<Padding>(["same", "valid"], "valid"),
};

/** Where a sliding window sits along one spatial dimension. */
interface WindowAxis {
  readonly out: number; // output size
  readonly padBefore: number; // implicit padding before the first input element
}

/**
 * Output size and leading padding along one spatial dimension, as TF.js computes them:
 * 'valid' keeps windows that fit, `ceil((in - effective + 1) / stride)`; 'same' gives
 * `ceil(in / stride)` outputs and pads `max(0, (out-1)*stride + effective - in)` in total,
 * `floor(total / 2)` of it before. `effective` is the dilated window, `(k-1)*dilation + 1`.
 */
export function windowAxis(op: string, what: string, inSize: number, k: number, stride: number, dilation: number, padding: Padding): WindowAxis {
  const effective = (k - 1) * dilation + 1;
  if (padding === "same") {
    const out = Math.ceil(inSize / stride);
    const total = Math.max(0, (out - 1) * stride + effective - inSize);
    return { out, padBefore: Math.floor(total / 2) };
  }
  if (effective > inSize) {
    throw new TfcError(
      "TFC2002",
      `${op} window of ${what} ${effective}${dilation > 1 ? ` (size ${k}, dilation ${dilation})` : ""} does not fit in input ${what} ${inSize} with padding 'valid'`,
    );
  }
  return { out: Math.ceil((inSize - effective + 1) / stride), padBefore: 0 };
}

function requirePair(op: string, name: string, v: readonly number[]): [number, number] {
  if (v.length !== 2 || v.some((d) => d < 1)) {
    throw new TfcError("TFC2008", `${op} ${name} must be two positive integers [height, width], got [${v.join(", ")}]`);
  }
  return [v[0]!, v[1]!];
}

/** An NHWC image: rank 4, f32, static height, width and channels (the batch may be `?`). */
function requireImage(op: string, x: TensorType): void {
  requireRank(op, x, 4, "NHWC input");
  requireDType(op, x, ["f32"], "input");
  if (x.shape.slice(1).includes(BATCH)) {
    throw new TfcError("TFC2001", `${op} input ${formatType(x)}: only the batch dimension may be '?'`);
  }
}

interface Geometry {
  readonly rows: WindowAxis;
  readonly cols: WindowAxis;
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly window: [number, number];
}

function geometry(
  op: string,
  x: TensorType,
  window: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padding: Padding,
): Geometry {
  const [kh, kw] = requirePair(op, "window size", window);
  const [sh, sw] = requirePair(op, "strides", strides);
  const [dh, dw] = requirePair(op, "dilations", dilations);
  return {
    rows: windowAxis(op, "height", x.shape[1]!, kh, sh, dh, padding),
    cols: windowAxis(op, "width", x.shape[2]!, kw, sw, dw, padding),
    stride: [sh, sw],
    dilation: [dh, dw],
    window: [kh, kw],
  };
}

/** Shared by conv2d and depthwise_conv2d: input [N,H,W,C], filter [fh,fw,C,k] with static sizes. */
function convGeometry(op: string, x: TensorType, filter: TensorType, strides: readonly number[], dilations: readonly number[], padding: Padding): Geometry {
  requireImage(op, x);
  requireRank(op, filter, 4, "filter [height, width, in, out]");
  requireDType(op, filter, ["f32"], "filter");
  if (filter.shape.includes(BATCH) || filter.shape.some((d) => d < 1)) {
    throw new TfcError("TFC2001", `${op} filter ${formatType(filter)} must have static, positive sizes`);
  }
  if (filter.shape[2] !== x.shape[3]) {
    throw new TfcError(
      "TFC2002",
      `${op} filter ${formatType(filter)} expects ${filter.shape[2]} input channels, but input ${formatType(x)} has ${x.shape[3]}`,
    );
  }
  return geometry(op, x, filter.shape.slice(0, 2), strides, dilations, padding);
}

/** The input row (or column) that tap `tap` of output `outIndex` reads; outside [0, size) it lies in the padding. */
function inputIndex(outIndex: number, tap: number, axis: WindowAxis, stride: number, dilation: number): number {
  return outIndex * stride - axis.padBefore + tap * dilation;
}

/**
 * 2-D convolution (cross-correlation, as in TF): input NHWC, filter HWIO [fh, fw, in, out].
 * Output [N, outH, outW, out]. Accumulates in float64 and rounds once to f32.
 */
export const conv2d = defineOp({
  name: "conv2d",
  summary: 'NHWC 2-D convolution with an HWIO filter: `%2 = conv2d %0, %1 {strides=[1, 1], padding="same", dilations=[1, 1]} : f32[?,28,28,32]`',
  operands: ["input", "filter"],
  attrs: windowAttrs,
  traits: ["pure"],
  type: ([x, f], { strides, padding, dilations }) => {
    const g = convGeometry("conv2d", x!, f!, strides, dilations, padding);
    return { dtype: "f32", shape: [x!.shape[0]!, g.rows.out, g.cols.out, f!.shape[3]!] };
  },
  interpret: ([x, f], { strides, padding, dilations }, out) => {
    const g = convGeometry("conv2d", x!, f!, strides, dilations, padding);
    const [batch, height, width, inC] = x!.shape as [number, number, number, number];
    const [fh, fw, , outC] = f!.shape as [number, number, number, number];
    const res = hostTensor("f32", out.shape);
    const xs = x!.data;
    const ws = f!.data;
    const acc = new Float64Array(outC);
    let o = 0;
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < g.rows.out; oy++) {
        for (let ox = 0; ox < g.cols.out; ox++) {
          acc.fill(0);
          for (let ky = 0; ky < fh; ky++) {
            const iy = inputIndex(oy, ky, g.rows, g.stride[0], g.dilation[0]);
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = inputIndex(ox, kx, g.cols, g.stride[1], g.dilation[1]);
              if (ix < 0 || ix >= width) continue;
              const xBase = ((n * height + iy) * width + ix) * inC;
              const wBase = (ky * fw + kx) * inC * outC;
              for (let c = 0; c < inC; c++) {
                const xv = xs[xBase + c]!;
                const wRow = wBase + c * outC;
                for (let k = 0; k < outC; k++) acc[k] += xv * ws[wRow + k]!;
              }
            }
          }
          for (let k = 0; k < outC; k++) res.data[o++] = acc[k]!;
        }
      }
    }
    return res;
  },
  vjp: (b, { inputs: [x, f], grad: g, attrs: { strides, padding, dilations } }): (Value | null)[] => {
    const w = windowOf(x!.type, convGeometry("conv2d", x!.type, f!.type, strides, dilations, padding));
    return [convInputGrad(b, g, f!, w), convFilterGrad(b, x!, g, f!.type, w)];
  },
});

/**
 * Depthwise 2-D convolution: each input channel c is convolved with its own `mult` filters
 * [fh, fw, in, mult]; output channel `c * mult + m`, as in TF.js depthwiseConv2d.
 */
export const depthwise_conv2d = defineOp({
  name: "depthwise_conv2d",
  summary:
    'Per-channel NHWC convolution, filter [fh,fw,in,mult]: `%2 = depthwise_conv2d %0, %1 {strides=[1, 1], padding="valid", dilations=[1, 1]} : f32[?,26,26,64]`',
  operands: ["input", "filter"],
  attrs: windowAttrs,
  traits: ["pure"],
  type: ([x, f], { strides, padding, dilations }) => {
    const g = convGeometry("depthwise_conv2d", x!, f!, strides, dilations, padding);
    return { dtype: "f32", shape: [x!.shape[0]!, g.rows.out, g.cols.out, f!.shape[2]! * f!.shape[3]!] };
  },
  interpret: ([x, f], { strides, padding, dilations }, out) => {
    const g = convGeometry("depthwise_conv2d", x!, f!, strides, dilations, padding);
    const [batch, height, width, inC] = x!.shape as [number, number, number, number];
    const [fh, fw, , mult] = f!.shape as [number, number, number, number];
    const outC = inC * mult;
    const res = hostTensor("f32", out.shape);
    const xs = x!.data;
    const ws = f!.data;
    const acc = new Float64Array(outC);
    let o = 0;
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < g.rows.out; oy++) {
        for (let ox = 0; ox < g.cols.out; ox++) {
          acc.fill(0);
          for (let ky = 0; ky < fh; ky++) {
            const iy = inputIndex(oy, ky, g.rows, g.stride[0], g.dilation[0]);
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = inputIndex(ox, kx, g.cols, g.stride[1], g.dilation[1]);
              if (ix < 0 || ix >= width) continue;
              const xBase = ((n * height + iy) * width + ix) * inC;
              const wBase = (ky * fw + kx) * outC; // filter [ky, kx, c, m] flattened: channel-major c*mult+m
              for (let k = 0; k < outC; k++) acc[k] += xs[xBase + Math.floor(k / mult)]! * ws[wBase + k]!;
            }
          }
          for (let k = 0; k < outC; k++) res.data[o++] = acc[k]!;
        }
      }
    }
    return res;
  },
  // Input: as for conv2d, with the filter expanded block-diagonally to [kh, kw, C, C·M]; filter: per-channel patch sums.
  vjp: (b, { inputs: [x, f], grad: g, attrs: { strides, padding, dilations } }): (Value | null)[] => {
    const w = windowOf(x!.type, convGeometry("depthwise_conv2d", x!.type, f!.type, strides, dilations, padding));
    return [convInputGrad(b, g, depthwiseAsConvFilter(b, f!), w), depthwiseFilterGrad(b, x!, g, f!.type, w)];
  },
});

/** The shared pooling loop: `combine` folds the window's valid elements, `finish` sees how many there were. */
function pool(
  x: HostTensor,
  g: Geometry,
  out: TensorType,
  init: number,
  combine: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number,
): HostTensor {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const res = hostTensor("f32", out.shape);
  const xs = x.data;
  let o = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < g.rows.out; oy++) {
      const yFirst = oy * g.stride[0] - g.rows.padBefore;
      const y0 = Math.max(0, yFirst);
      const y1 = Math.min(height, yFirst + g.window[0]);
      for (let ox = 0; ox < g.cols.out; ox++) {
        const xFirst = ox * g.stride[1] - g.cols.padBefore;
        const x0 = Math.max(0, xFirst);
        const x1 = Math.min(width, xFirst + g.window[1]);
        const count = (y1 - y0) * (x1 - x0);
        for (let c = 0; c < channels; c++) {
          let acc = init;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) acc = combine(acc, xs[((n * height + iy) * width + ix) * channels + c]!);
          }
          res.data[o++] = finish(acc, count);
        }
      }
    }
  }
  return res;
}

function poolType(op: string) {
  return ([x]: readonly TensorType[], { ksize, strides, padding }: { ksize: readonly number[]; strides: readonly number[]; padding: Padding }): TensorType => {
    requireImage(op, x!);
    const g = geometry(op, x!, ksize, strides, [1, 1], padding);
    return { dtype: "f32", shape: [x!.shape[0]!, g.rows.out, g.cols.out, x!.shape[3]!] };
  };
}

/**
 * Max over each window; padding ('same') never wins. NaN propagates, as in `max` and `maximum`
 * (TF.js's CPU pool kernel skips NaN instead; the two agree on all other inputs).
 */
export const max_pool = defineOp({
  name: "max_pool",
  summary: 'NHWC max pooling: `%1 = max_pool %0 {ksize=[2, 2], strides=[2, 2], padding="valid"} : f32[?,14,14,32]`',
  operands: ["x"],
  attrs: poolAttrs,
  traits: ["pure"],
  type: poolType("max_pool"),
  interpret: ([x], { ksize, strides, padding }, out) => {
    const g = geometry("max_pool", x!, ksize, strides, [1, 1], padding);
    return pool(x!, g, out, -Infinity, (acc, v) => (v > acc || v !== v ? v : acc), (acc) => acc);
  },
  vjp: (b, { inputs: [x], grad: g, attrs }): (Value | null)[] => [b.op("max_pool_grad", [x!, g], attrs)],
});

/**
 * max_pool's gradient in one pass: each window's dy goes to the window's first maximum (taps in
 * row-major order; padding never wins) — TF.js's rule for ties. A window holding a NaN passes no
 * gradient. (Was a decomposition into per-tap compare/select/scatter ops: ~6 elementwise passes
 * per tap over the whole input; this is one.)
 */
export const max_pool_grad = defineOp({
  name: "max_pool_grad",
  summary: 'Gradient of max_pool w.r.t. its input: `%2 = max_pool_grad %x, %dy {ksize=[2, 2], strides=[2, 2], padding="valid"} : f32[?,28,28,32]`',
  operands: ["x", "dy"],
  attrs: poolAttrs,
  traits: ["pure"],
  type: ([x, dy], attrs) => {
    const y = poolType("max_pool_grad")([x!], attrs);
    if (dy!.dtype !== "f32" || dy!.shape.length !== 4 || dy!.shape.some((d, i) => d !== y.shape[i])) {
      throw new TfcError("TFC2001", `max_pool_grad dy must be ${formatType(y)} (the pool's output), got ${formatType(dy!)}`);
    }
    return { dtype: "f32", shape: [...x!.shape] };
  },
  interpret: ([x, dy], { ksize, strides, padding }, out) => {
    const g = geometry("max_pool_grad", x!, ksize, strides, [1, 1], padding);
    const [batch, height, width, channels] = x!.shape as [number, number, number, number];
    const dx = hostTensor("f32", out.shape);
    let o = 0;
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < g.rows.out; oy++) {
        const yFirst = oy * g.stride[0] - g.rows.padBefore;
        for (let ox = 0; ox < g.cols.out; ox++) {
          const xFirst = ox * g.stride[1] - g.cols.padBefore;
          for (let c = 0; c < channels; c++, o++) {
            let best = -1;
            let nan = false;
            for (let iy = Math.max(0, yFirst); iy < Math.min(height, yFirst + g.window[0]); iy++) {
              for (let ix = Math.max(0, xFirst); ix < Math.min(width, xFirst + g.window[1]); ix++) {
                const at = ((n * height + iy) * width + ix) * channels + c;
                const v = x!.data[at]!;
                if (v !== v) nan = true;
                else if (best < 0 || v > x!.data[best]!) best = at;
              }
            }
            if (!nan && best >= 0) dx.data[best] += dy!.data[o]!;
          }
        }
      }
    }
    return dx;
  },
  // d/dx is zero almost everywhere (the selection is piecewise constant); d/d(dy) gathers.
  vjp: (b, { inputs: [x], grad: g, attrs }): (Value | null)[] => {
    const { ksize, strides, padding } = attrs;
    const y = b.op("max_pool", [x!], attrs);
    const zeros = b.op("mul", [x!, scalar(b, 0)]);
    return [zeros, maxPoolGradDyGrad(b, x!, y, g, windowOf(x!.type, geometry("max_pool", x!.type, ksize, strides, [1, 1], padding)))];
  },
});

/** Mean over each window; with 'same' padding only the elements inside the image count, as in TF. */
export const avg_pool = defineOp({
  name: "avg_pool",
  summary: 'NHWC average pooling (padding excluded from the mean): `%1 = avg_pool %0 {ksize=[2, 2], strides=[2, 2], padding="same"} : f32[?,14,14,32]`',
  operands: ["x"],
  attrs: poolAttrs,
  traits: ["pure"],
  type: poolType("avg_pool"),
  interpret: ([x], { ksize, strides, padding }, out) => {
    const g = geometry("avg_pool", x!, ksize, strides, [1, 1], padding);
    return pool(x!, g, out, 0, (acc, v) => acc + v, (acc, count) => acc / count);
  },
  vjp: (b, { inputs: [x], grad: g, attrs: { ksize, strides, padding } }): (Value | null)[] => [
    avgPoolGrad(b, g, windowOf(x!.type, geometry("avg_pool", x!.type, ksize, strides, [1, 1], padding))),
  ],
});

/** `p` broadcasts into `x` without changing x's shape (so the result of batch_norm has x's shape). */
function requireBroadcastsInto(op: string, what: string, p: TensorType, x: TensorType): void {
  requireDType(op, p, ["f32"], what);
  const shift = x.shape.length - p.shape.length;
  if (shift < 0 || p.shape.some((d, i) => d !== 1 && d !== x.shape[i + shift])) {
    throw new TfcError("TFC2002", `${op} ${what} [${formatShape(p.shape)}] does not broadcast to input ${formatType(x)}`);
  }
}

/**
 * Batch normalization in inference form, with running statistics as operands:
 * y = (x - mean) · rsqrt(variance + epsilon) · scale + offset. The per-channel factor
 * rsqrt(variance + epsilon) · scale is formed first, so only three ops touch x-sized data.
 */
export const batch_norm = defineOp({
  name: "batch_norm",
  summary: "Inference batch normalization: `%5 = batch_norm %0, %1, %2, %3, %4 {epsilon=0.001} : f32[?,28,28,32]`",
  operands: ["x", "mean", "variance", "offset", "scale"],
  attrs: { epsilon: attr.float(0.001) },
  traits: ["pure"],
  type: ([x, mean, variance, offset, scale], { epsilon }) => {
    requireDType("batch_norm", x!, ["f32"], "input");
    if (!(epsilon >= 0)) throw new TfcError("TFC2008", `batch_norm epsilon must be >= 0, got ${epsilon}`);
    requireBroadcastsInto("batch_norm", "mean", mean!, x!);
    requireBroadcastsInto("batch_norm", "variance", variance!, x!);
    requireBroadcastsInto("batch_norm", "offset", offset!, x!);
    requireBroadcastsInto("batch_norm", "scale", scale!, x!);
    return { dtype: "f32", shape: [...x!.shape] };
  },
  decompose: (b, [x, mean, variance, offset, scale], { epsilon }): Value => {
    const eps = b.constant(hostTensor("f32", [], [epsilon]));
    const factor = b.op("mul", [b.op("rsqrt", [b.op("add", [variance!, eps])]), scale!]); // scale / sqrt(var + eps)
    const centered = b.op("sub", [x!, mean!]);
    return b.op("add", [b.op("mul", [centered, factor]), offset!]);
  },
  vjp: (b, { inputs: [x, mean, variance, offset, scale], grad: g, attrs: { epsilon } }): (Value | null)[] => {
    const inv = b.op("rsqrt", [b.op("add", [variance!, scalar(b, epsilon)])]); // 1/sqrt(var + eps)
    const gFactor = b.op("mul", [g, b.op("mul", [inv, scale!])]);
    const gCentered = b.op("mul", [g, b.op("sub", [x!, mean!])]);
    // d/dvariance of (x - mean)·scale·(var + eps)^(-1/2) = -(1/2)·(x - mean)·scale·inv³
    const dInv = b.op("mul", [scalar(b, -0.5), b.op("mul", [scale!, b.op("mul", [inv, b.op("mul", [inv, inv])])])]);
    return [
      sumToShape(b, gFactor, x!.type),
      sumToShape(b, b.op("neg", [gFactor]), mean!.type),
      sumToShape(b, b.op("mul", [gCentered, dInv]), variance!.type),
      sumToShape(b, g, offset!.type),
      sumToShape(b, b.op("mul", [gCentered, inv]), scale!.type),
    ];
  },
});

/**
 * Dropout in inference form: the identity (TF.js / Keras dropout layers do nothing outside
 * training). Its decomposition returns the input itself, so lowering leaves no op behind.
 * `rate` is kept so that the training pipeline can turn it into a random mask scaled by 1/(1-rate).
 */
export const dropout = defineOp({
  name: "dropout",
  summary: "Dropout, the identity at inference: `%1 = dropout %0 {rate=0.5} : f32[?,128]`",
  operands: ["x"],
  attrs: { rate: attr.float() },
  traits: ["pure"],
  type: ([x], { rate }) => {
    requireDType("dropout", x!, ["f32"]);
    if (!(rate >= 0 && rate < 1)) throw new TfcError("TFC2008", `dropout rate must be in [0, 1), got ${rate}`);
    return { dtype: x!.dtype, shape: [...x!.shape] };
  },
  decompose: (_, [x]): Value => x!,
  vjp: (_b, { grad }): (Value | null)[] => [grad],
});

/** The plain numbers the gradient builders (grad-helpers.ts) need from a window op's geometry. */
function windowOf(x: TensorType, g: Geometry): WindowGeometry {
  return {
    inH: x.shape[1]!,
    inW: x.shape[2]!,
    outH: g.rows.out,
    outW: g.cols.out,
    padTop: g.rows.padBefore,
    padLeft: g.cols.padBefore,
    stride: g.stride,
    dilation: g.dilation,
    window: g.window,
  };
}
