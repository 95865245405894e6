// Data-movement ops to kernel IR: transpose, slice, concat, pad, gather and one_hot. Most are one
// strided copy — a loop nest over an iteration shape reading and writing through per-dimension
// strides — vectorized when both sides are contiguous along the innermost dimension.

import { KBuilder } from "../../ir/kernel/builder.js";
import { kType, type KFunc, type KValue } from "../../ir/kernel/kir.js";
import { BATCH, stridesOf, type TensorType } from "../../ir/types.js";
import { TfcError } from "../../ir/errors.js";
import { dimValue, estimatedElements, PARALLEL_WORK, type TemplateContext } from "./context.js";
import { emitElementwiseKernel } from "./elementwise.js";

/** Static strides of a shape whose leading dimension may be the batch. */
function rowMajor(shape: readonly number[]): number[] {
  return stridesOf(shape.map((d) => (d === BATCH ? 1 : d)));
}

/**
 * Copy over `iter` (the iteration shape, leading dim may be `?`): out[outOffset + Σ i_d·outStrides_d]
 * = in[inOffset + Σ i_d·inStrides_d]. Offsets are static.
 */
export function emitStridedCopy(
  name: string,
  elem: "f32" | "i32" | "bool",
  iter: readonly number[],
  inStrides: readonly number[],
  inOffset: number,
  outStrides: readonly number[],
  outOffset: number,
  width: number,
  /** When set, the kernel first fills the whole output (size `fillSize` elements per batch row or in total) with this value. */
  fill?: { value: number; total: readonly number[] },
): KFunc {
  const b = new KBuilder(name);
  const src = b.buffer("in", elem);
  const dst = b.buffer("out", elem, true);
  const n = b.scalarParam("n");
  const type = kType(elem);
  if (fill) {
    const total = fill.total.reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
    const value = b.const(fill.value, type);
    b.for(0, total, { name: "f" }, (i) => b.store(dst, i, value));
  }
  const rank = iter.length;
  const parallel = estimatedElements(iter) >= PARALLEL_WORK;
  const nest = (d: number, inOff: KValue, outOff: KValue): void => {
    const size = dimValue(b, iter[d]!, n);
    if (d < rank - 1) {
      b.for(0, size, { parallel: parallel && d === 0, name: `i${d}` }, (iv) => nest(d + 1, b.add(inOff, b.ix(iv, "*", inStrides[d]!)), b.add(outOff, b.ix(iv, "*", outStrides[d]!))));
      return;
    }
    const contiguous = inStrides[d] === 1 && outStrides[d] === 1 && width > 1 && elem !== "bool" && iter[d] !== BATCH && iter[d]! >= width;
    let tail: KValue = b.index(0);
    if (contiguous) {
      const vectors = Math.floor(iter[d]! / width);
      b.for(0, vectors, { name: "v" }, (v) => {
        const i = b.ix(v, "*", width);
        b.store(dst, b.add(outOff, i), b.load(src, b.add(inOff, i), width));
      });
      tail = b.index(vectors * width);
    }
    b.for(tail, size, { parallel: parallel && rank === 1 && !contiguous, name: "t" }, (iv) => {
      b.store(dst, b.add(outOff, b.ix(iv, "*", outStrides[d]!)), b.load(src, b.add(inOff, b.ix(iv, "*", inStrides[d]!))));
    });
  };
  if (rank === 0) b.store(dst, b.index(outOffset), b.load(src, b.index(inOffset)));
  else nest(0, b.index(inOffset), b.index(outOffset));
  return b.finish();
}

export function emitTransposeKernel(name: string, inType: TensorType, perm: readonly number[]): KFunc {
  if (inType.shape.length === 2 && inType.shape[0] === BATCH && perm[0] === 1) return emitBatchTranspose(name, inType);
  const inStrides = rowMajor(inType.shape);
  const outShape = perm.map((p) => inType.shape[p]!);
  return emitStridedCopy(name, inType.dtype, outShape, perm.map((p) => inStrides[p]!), 0, rowMajor(outShape), 0, 1);
}

/**
 * [?, c] → [c, ?]: the batch moves to the inner dimension, so output rows are n long (matmul
 * operands with transpose_a over a batch: weight gradients). Row-major strides would be wrong here.
 */
function emitBatchTranspose(name: string, inType: TensorType): KFunc {
  const c = inType.shape[1]!;
  const b = new KBuilder(name);
  const src = b.buffer("in", inType.dtype);
  const dst = b.buffer("out", inType.dtype, true);
  const n = b.scalarParam("n");
  b.for(0, n, { name: "i" }, (i) =>
    b.for(0, c, { name: "j" }, (j) => b.store(dst, b.add(b.mul(j, n), i), b.load(src, b.add(b.ix(i, "*", c), j)))),
  );
  return b.finish();
}

export function lowerTranspose(ctx: TemplateContext): void {
  ctx.launch(emitTransposeKernel(ctx.kernelName(), ctx.inTypes[0]!, ctx.attrs["perm"] as number[]), [ctx.inputs[0]!, ctx.out]);
}

export function lowerSlice(ctx: TemplateContext): void {
  const x = ctx.inTypes[0]!;
  const begin = ctx.attrs["begin"] as number[];
  const inStrides = rowMajor(x.shape);
  const offset = begin.reduce((acc, bgn, d) => acc + bgn * inStrides[d]!, 0);
  const out = ctx.outType.shape;
  ctx.launch(emitStridedCopy(ctx.kernelName(), x.dtype, out, inStrides, offset, rowMajor(out), 0, ctx.width), [ctx.inputs[0]!, ctx.out]);
}

export function lowerPad(ctx: TemplateContext): void {
  const x = ctx.inTypes[0]!;
  const paddings = ctx.attrs["paddings"] as number[];
  const out = ctx.outType.shape;
  const outStrides = rowMajor(out);
  const offset = x.shape.reduce((acc, _, d) => acc + paddings[2 * d]! * outStrides[d]!, 0);
  const kernel = emitStridedCopy(ctx.kernelName(), x.dtype, x.shape, rowMajor(x.shape), 0, outStrides, offset, ctx.width, {
    value: ctx.attrs["constant_value"] as number,
    total: out,
  });
  ctx.launch(kernel, [ctx.inputs[0]!, ctx.out]);
}

export function lowerConcat(ctx: TemplateContext): void {
  const out = ctx.outType.shape;
  const rank = out.length;
  const axis = ((ctx.attrs["axis"] as number) + rank) % rank;
  const outStrides = rowMajor(out);
  let start = 0;
  ctx.inTypes.forEach((t, i) => {
    const kernel = emitStridedCopy(ctx.kernelName(`part${i}`), t.dtype, t.shape, rowMajor(t.shape), 0, outStrides, start * outStrides[axis]!, ctx.width);
    ctx.launch(kernel, [ctx.inputs[i]!, ctx.out]);
    start += t.shape[axis]!;
  });
}

/** gather: out[outer, idx, inner] = params[outer, indices[idx], inner]; an index out of range fails the run (and reads row 0). */
export function lowerGather(ctx: TemplateContext): void {
  const [p, indices] = ctx.inTypes as [TensorType, TensorType];
  const axis = ((ctx.attrs["axis"] as number) + p.shape.length) % p.shape.length;
  const b = new KBuilder(ctx.kernelName());
  const params = b.buffer("params", p.dtype);
  const idx = b.buffer("indices", "i32");
  const dst = b.buffer("out", ctx.outType.dtype, true);
  const n = b.scalarParam("n");
  const outer = p.shape.slice(0, axis).reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
  const count = indices.shape.reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
  const axisSize = p.shape[axis]!;
  if (axisSize === BATCH) throw new TfcError("TFC6010", "gather along the symbolic batch dimension is not compiled", ctx.op.loc ? { loc: ctx.op.loc } : {});
  const inner = p.shape.slice(axis + 1).reduce((acc, d) => acc * d, 1);
  b.for(0, outer, { name: "o" }, (o) =>
    b.for(0, count, { name: "j" }, (j) => {
      const raw = b.cast(b.load(idx, j), kType("index"));
      const bad = b.prim("or", [b.lt(raw, b.index(0)), b.prim("ge", [raw, b.index(axisSize)])]);
      b.if(bad, () => b.call("tfc_fail", [b.const(6, kType("i32"))]));
      const row = b.select(bad, b.index(0), raw);
      const srcBase = b.ix(b.add(b.ix(o, "*", axisSize), row), "*", inner);
      const dstBase = b.ix(b.add(b.mul(o, count), j), "*", inner);
      b.for(0, inner, { name: "c" }, (c) => b.store(dst, b.add(dstBase, c), b.load(params, b.add(srcBase, c))));
    }),
  );
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.inputs[1]!, ctx.out]);
}

export function lowerOneHot(ctx: TemplateContext): void {
  const depth = ctx.attrs["depth"] as number;
  const on = ctx.attrs["on_value"] as number;
  const off = ctx.attrs["off_value"] as number;
  const b = new KBuilder(ctx.kernelName());
  const idx = b.buffer("indices", "i32");
  const dst = b.buffer("out", "f32", true);
  const n = b.scalarParam("n");
  const count = ctx.inTypes[0]!.shape.reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
  const onV = b.f32(on);
  const offV = b.f32(off);
  b.for(0, count, { name: "i" }, (i) => {
    const hot = b.load(idx, i);
    b.for(0, depth, { name: "d" }, (d) => {
      b.store(dst, b.add(b.ix(i, "*", depth), d), b.select(b.prim("eq", [b.cast(d, kType("i32")), hot]), onV, offV));
    });
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.out]);
}

export { emitElementwiseKernel };
