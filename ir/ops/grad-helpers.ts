// Helpers for the ops' VJPs (the `vjp` slot of defineOp). Every gradient is built from other ops
// through the FuncBuilder, so gradients are ordinary IR that every target compiles. This file
// only builds ops; it never computes on tensors itself (except small compile-time constants).

import type { FuncBuilder } from "../builder.js";
import type { Value } from "../ir.js";
import { hostTensor } from "../tensor.js";
import { BATCH, formatType, isStatic, sameShape, type Shape, type TensorType } from "../types.js";
import { TfcError } from "../errors.js";

/** An f32 scalar constant. */
export function scalar(b: FuncBuilder, v: number): Value {
  return b.constant(hostTensor("f32", [], [v]));
}

export const isF32 = (v: Value): boolean => v.type.dtype === "f32";

/** A reshape target for `shape`: a leading symbolic batch becomes -1 (reshape keeps it). */
export function reshapeAttr(shape: Shape): number[] {
  return shape.map((d) => (d === BATCH ? -1 : d));
}

/** Reshape `v` to `shape` (which may start with `?`), skipping the op when nothing changes. */
export function reshapeTo(b: FuncBuilder, v: Value, shape: Shape): Value {
  if (sameShape(v.type.shape, shape)) return v;
  return b.op("reshape", [v], { shape: reshapeAttr(shape) });
}

/**
 * Reduce a broadcast gradient back to an operand's type: sum over the leading dimensions the
 * operand lacks and over the dimensions where the operand has size 1 but the gradient does not
 * (including a symbolic batch `?` the operand does not have), then reshape to the operand's shape.
 */
export function sumToShape(b: FuncBuilder, grad: Value, target: TensorType): Value {
  const g = grad.type.shape;
  const t = target.shape;
  const extra = g.length - t.length;
  if (extra < 0) throw new TfcError("TFC4121", `internal: cannot sum a gradient ${formatType(grad.type)} to ${formatType(target)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.length; i++) {
    if (i < extra) axes.push(i);
    else {
      const td = t[i - extra]!;
      const gd = g[i]!;
      if (td === gd) continue;
      if (td === 1) axes.push(i);
      else throw new TfcError("TFC4121", `internal: cannot sum a gradient ${formatType(grad.type)} to ${formatType(target)}`);
    }
  }
  const summed = axes.length ? b.op("sum", [grad], { axis: axes, keepdims: false }) : grad;
  return reshapeTo(b, summed, t);
}

/**
 * Broadcast `v` (whose dims are 1 or equal to `like`'s) to `like`'s shape. broadcast_to cannot name
 * a symbolic batch that `v` does not carry, so that case goes through `select(c, v, v)` with a
 * bool condition shaped like `like`: both branches are `v`, so only its shape matters.
 */
export function broadcastLike(b: FuncBuilder, v: Value, like: Value): Value {
  const target = like.type.shape;
  if (sameShape(v.type.shape, target)) return v;
  const padded = [...new Array<number>(target.length - v.type.shape.length).fill(1), ...v.type.shape];
  const needsBatch = target.some((d, i) => d === BATCH && padded[i] !== BATCH);
  if (!needsBatch) return b.op("broadcast_to", [v], { shape: reshapeAttr(target) });
  const cond = b.op("equal", [like, like]);
  return b.op("select", [cond, v, v]);
}

/** The shape a reduction's result has with keepdims=true. */
export function keptShape(x: Shape, axes: readonly number[]): number[] {
  const set = new Set(axes);
  return x.map((d, i) => (set.has(i) ? 1 : d));
}

/** Normalized, sorted reduction axes (empty list: every axis). */
export function normAxes(axis: readonly number[], rank: number): number[] {
  if (axis.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return [...new Set(axis.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

/** The gradient of a reduction's result, reshaped to keepdims form and broadcast back to `x`. */
export function unreduce(b: FuncBuilder, grad: Value, x: Value, axes: readonly number[]): Value {
  return broadcastLike(b, reshapeTo(b, grad, keptShape(x.type.shape, axes)), x);
}

/** Element count of the reduced axes of `x`, as a keepdims-shaped value (a scalar constant when static). */
export function reducedCount(b: FuncBuilder, x: Value, axes: readonly number[]): Value {
  const dims = axes.map((a) => x.type.shape[a]!);
  if (isStatic(dims)) return scalar(b, dims.reduce((p, d) => p * d, 1));
  const ones = b.op("select", [b.op("equal", [x, x]), scalar(b, 1), scalar(b, 1)]);
  return b.op("sum", [ones], { axis: [...axes], keepdims: true });
}

// ---- windows over NHWC images (pooling and convolution gradients) ------------------------------

/**
 * The values tap (offY, offX) of a strided window reads, for every output position:
 * `xp[n, offY + oy*sy, offX + ox*sx, c]` for oy < oh, ox < ow, as [N, oh, ow, C]. `xp` must hold
 * at least offY + oh*sy rows and offX + ow*sx columns.
 */
export function extractTap(b: FuncBuilder, xp: Value, offY: number, offX: number, oh: number, ow: number, sy: number, sx: number): Value {
  const c = xp.type.shape[3]!;
  const box = b.op("slice", [xp], { begin: [0, offY, offX, 0], size: [-1, oh * sy, ow * sx, -1] });
  if (sy === 1 && sx === 1) return box;
  const split = b.op("reshape", [box], { shape: [-1, oh, sy, ow, sx, c] });
  const first = b.op("slice", [split], { begin: [0, 0, 0, 0, 0, 0], size: [-1, -1, 1, -1, 1, -1] });
  return b.op("reshape", [first], { shape: [-1, oh, ow, c] });
}

/**
 * The transpose of extractTap: places v [N, oh, ow, C] at rows offY + oy*sy and columns
 * offX + ox*sx of a zero image [N, H, W, C] (H >= offY + (oh-1)*sy + 1, likewise W).
 */
export function placeTap(b: FuncBuilder, v: Value, offY: number, offX: number, sy: number, sx: number, height: number, width: number): Value {
  const [, oh, ow, c] = v.type.shape as [number, number, number, number];
  let spread = v;
  if (sy !== 1 || sx !== 1) {
    const split = b.op("reshape", [v], { shape: [-1, oh, 1, ow, 1, c] });
    const padded = b.op("pad", [split], { paddings: [0, 0, 0, 0, 0, sy - 1, 0, 0, 0, sx - 1, 0, 0] });
    spread = b.op("reshape", [padded], { shape: [-1, oh * sy, ow * sx, c] });
  }
  // spread now covers rows [offY, offY + oh*sy); trim or pad it to the image.
  const rows = Math.min(oh * sy, height - offY);
  const cols = Math.min(ow * sx, width - offX);
  if (rows !== oh * sy || cols !== ow * sx) spread = b.op("slice", [spread], { begin: [0, 0, 0, 0], size: [-1, rows, cols, -1] });
  return b.op("pad", [spread], { paddings: [0, 0, offY, height - offY - rows, offX, width - offX - cols, 0, 0] });
}

/** Pad an NHWC image spatially (before/after per axis), with `value`; no op when nothing is added. */
export function padImage(b: FuncBuilder, x: Value, top: number, bottom: number, left: number, right: number, value = 0): Value {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return b.op("pad", [x], { paddings: [0, 0, top, bottom, left, right, 0, 0], constant_value: value });
}

/** Sum a list of same-typed values with add ops. */
export function addAll(b: FuncBuilder, values: readonly Value[]): Value {
  let acc = values[0]!;
  for (let i = 1; i < values.length; i++) acc = b.op("add", [acc, values[i]!]);
  return acc;
}

/** Reverse a static axis with a gather by constant indices [n-1, …, 0]. */
export function reverseAxis(b: FuncBuilder, x: Value, axis: number): Value {
  const n = x.type.shape[axis]!;
  if (n === 1) return x;
  const idx = b.constant(hostTensor("i32", [n], Array.from({ length: n }, (_, i) => n - 1 - i)));
  return b.op("gather", [x, idx], { axis });
}

/** Where a window op's taps sit (from nn.ts's geometry): sizes, leading padding, strides, dilations. */
export interface WindowGeometry {
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly window: readonly [number, number];
}

/** Pad x (with `value`) so that every tap's strided read fits: padTop/padLeft before, enough after. */
function padForTaps(b: FuncBuilder, x: Value, w: WindowGeometry, value = 0): { xp: Value; height: number; width: number } {
  const needH = (w.window[0] - 1) * w.dilation[0] + w.outH * w.stride[0];
  const needW = (w.window[1] - 1) * w.dilation[1] + w.outW * w.stride[1];
  const bottom = Math.max(0, needH - w.padTop - w.inH);
  const right = Math.max(0, needW - w.padLeft - w.inW);
  return {
    xp: padImage(b, x, w.padTop, bottom, w.padLeft, right, value),
    height: w.padTop + w.inH + bottom,
    width: w.padLeft + w.inW + right,
  };
}

/** Every tap (ky, kx) of the window in row-major order, with its offset into the padded image. */
function taps(w: WindowGeometry): { ky: number; kx: number; offY: number; offX: number }[] {
  const out = [];
  for (let ky = 0; ky < w.window[0]; ky++) {
    for (let kx = 0; kx < w.window[1]; kx++) out.push({ ky, kx, offY: ky * w.dilation[0], offX: kx * w.dilation[1] });
  }
  return out;
}

/**
 * The gradient with respect to a conv's input, as a stride-1 'valid' conv2d of the gradient —
 * dilated by the strides and padded by (effective window - 1 - padTop) before — with the filter
 * flipped in both spatial axes and in/out swapped, at the forward dilation. `filter` is HWIO
 * [kh, kw, in, out] for conv2d; for depthwise_conv2d pass its block-diagonal conv2d equivalent.
 */
export function convInputGrad(b: FuncBuilder, g: Value, filter: Value, w: WindowGeometry): Value {
  const [sy, sx] = w.stride;
  const lenH = (w.outH - 1) * sy + 1;
  const lenW = (w.outW - 1) * sx + 1;
  const spread = sy === 1 && sx === 1 ? g : placeTap(b, g, 0, 0, sy, sx, lenH, lenW);
  const top = (w.window[0] - 1) * w.dilation[0] - w.padTop;
  const left = (w.window[1] - 1) * w.dilation[1] - w.padLeft;
  const padded = padImage(b, spread, top, w.inH + w.padTop - lenH, left, w.inW + w.padLeft - lenW);
  const flipped = reverseAxis(b, reverseAxis(b, filter, 0), 1);
  const swapped = b.op("transpose", [flipped], { perm: [0, 1, 3, 2] });
  return b.op("conv2d", [padded, swapped], { strides: [1, 1], padding: "valid", dilations: [...w.dilation] });
}

/** The gradient with respect to conv2d's HWIO filter: im2col patches of the input times the gradient, summed over the batch. */
export function convFilterGrad(b: FuncBuilder, x: Value, g: Value, filterType: TensorType, w: WindowGeometry): Value {
  const c = x.type.shape[3]!;
  const k = g.type.shape[3]!;
  const p = w.outH * w.outW;
  const { xp } = padForTaps(b, x, w);
  const cols = taps(w).map((t) =>
    b.op("reshape", [extractTap(b, xp, t.offY, t.offX, w.outH, w.outW, w.stride[0], w.stride[1])], { shape: [-1, p, c] }),
  );
  const patches = cols.length === 1 ? cols[0]! : b.op("concat", cols, { axis: 2 }); // [N, P, taps·C]
  const gm = b.op("reshape", [g], { shape: [-1, p, k] });
  const perExample = b.op("matmul", [patches, gm], { transpose_a: true }); // [N, taps·C, K]
  return reshapeTo(b, b.op("sum", [perExample], { axis: [0] }), filterType.shape);
}

/** depthwise_conv2d's filter [kh, kw, C, M] as the equivalent block-diagonal conv2d filter [kh, kw, C, C·M]. */
export function depthwiseAsConvFilter(b: FuncBuilder, filter: Value): Value {
  const [kh, kw, c, m] = filter.type.shape as [number, number, number, number];
  const eye = hostTensor("f32", [c, c, 1]);
  for (let i = 0; i < c; i++) eye.data[i * c + i] = 1;
  const expanded = b.op("mul", [b.op("reshape", [filter], { shape: [kh, kw, 1, c, m] }), b.constant(eye)]);
  return b.op("reshape", [expanded], { shape: [kh, kw, c, c * m] });
}

/** The gradient with respect to depthwise_conv2d's filter [kh, kw, C, M]. */
export function depthwiseFilterGrad(b: FuncBuilder, x: Value, g: Value, filterType: TensorType, w: WindowGeometry): Value {
  const c = x.type.shape[3]!;
  const m = filterType.shape[3]!;
  const p = w.outH * w.outW;
  const { xp } = padForTaps(b, x, w);
  const cols = taps(w).map((t) =>
    b.op("reshape", [extractTap(b, xp, t.offY, t.offX, w.outH, w.outW, w.stride[0], w.stride[1])], { shape: [-1, p, 1, c] }),
  );
  const patches = cols.length === 1 ? cols[0]! : b.op("concat", cols, { axis: 2 }); // [N, P, taps, C]
  const n = cols.length;
  const prod = b.op("mul", [
    b.op("reshape", [patches], { shape: [-1, p, n, c, 1] }),
    b.op("reshape", [g], { shape: [-1, p, 1, c, m] }),
  ]);
  return reshapeTo(b, b.op("sum", [prod], { axis: [0, 1] }), filterType.shape);
}

/**
 * Sum per-tap gradients [N, outH, outW, C] back into the input image: each is placed where its
 * tap reads (the transpose of the strided read), summed, and the padding is cut away.
 */
function scatterTaps(b: FuncBuilder, parts: readonly Value[], offsets: readonly { offY: number; offX: number }[], w: WindowGeometry, height: number, width: number): Value {
  const placed = parts.map((v, i) => placeTap(b, v, offsets[i]!.offY, offsets[i]!.offX, w.stride[0], w.stride[1], height, width));
  const total = addAll(b, placed);
  if (height === w.inH && width === w.inW) return total;
  return b.op("slice", [total], { begin: [0, w.padTop, w.padLeft, 0], size: [-1, w.inH, w.inW, -1] });
}

/** Lowest finite f32: pads max_pool's input so padding never wins (a finite value keeps every backend's constants plain). */
const LOWEST_F32 = -3.4028234663852886e38;

/**
 * The VJP of max_pool_grad with respect to dy: each window takes `gx` (the gradient flowing into
 * max_pool_grad's result, shaped like x) at the window's first maximum — the same selection
 * max_pool_grad scatters with, so the pair is an exact adjoint. `y` is max_pool(x).
 */
export function maxPoolGradDyGrad(b: FuncBuilder, x: Value, y: Value, gx: Value, w: WindowGeometry): Value {
  const { xp } = padForTaps(b, x, w, LOWEST_F32);
  const { xp: gp } = padForTaps(b, gx, w);
  let taken: Value | undefined;
  const parts = taps(w).map((t) => {
    const hit = b.op("equal", [extractTap(b, xp, t.offY, t.offX, w.outH, w.outW, w.stride[0], w.stride[1]), y]);
    const first = taken ? b.op("logical_and", [hit, b.op("logical_not", [taken])]) : hit;
    taken = taken ? b.op("logical_or", [taken, hit]) : hit;
    return b.op("select", [first, extractTap(b, gp, t.offY, t.offX, w.outH, w.outW, w.stride[0], w.stride[1]), scalar(b, 0)]);
  });
  return addAll(b, parts);
}

/** avg_pool: each window's gradient spread evenly over its valid taps (padding excluded from the count). */
export function avgPoolGrad(b: FuncBuilder, g: Value, w: WindowGeometry): Value {
  const counts = (out: number, stride: number, pad: number, k: number, size: number) =>
    Array.from({ length: out }, (_, o) => {
      const first = o * stride - pad;
      return Math.min(size, first + k) - Math.max(0, first);
    });
  const rows = counts(w.outH, w.stride[0], w.padTop, w.window[0], w.inH);
  const cols = counts(w.outW, w.stride[1], w.padLeft, w.window[1], w.inW);
  const count = hostTensor("f32", [1, w.outH, w.outW, 1], rows.flatMap((r) => cols.map((c) => r * c)));
  const share = b.op("div", [g, b.constant(count)]);
  const all = taps(w);
  const height = Math.max(w.padTop + w.inH, (w.window[0] - 1) + w.outH * w.stride[0]);
  const width = Math.max(w.padLeft + w.inW, (w.window[1] - 1) + w.outW * w.stride[1]);
  return scatterTaps(b, all.map(() => share), all, w, height, width);
}
