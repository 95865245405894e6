// Elementwise ops (and broadcast_to / copies) to kernel IR: a loop nest over the result with
// broadcast operands read through zero strides, adjacent dimensions coalesced, the innermost
// loop vectorized with a scalar tail, and the outermost loop parallel when there is enough work.
// The arithmetic is the op's scalar body (SExpr), translated lane-wise — defined once, in ir/ops.

import { KBuilder } from "../../ir/kernel/builder.js";
import { kType, type KBufferParam, type KValue, type KElem } from "../../ir/kernel/kir.js";
import type { SExpr } from "../../ir/scalar.js";
import { BATCH, stridesOf, type DType, type TensorType } from "../../ir/types.js";
import { estimatedElements, PARALLEL_WORK, type TemplateContext } from "./context.js";

const elemOf = (d: DType): "f32" | "i32" | "bool" => d;

/** A dimension of the coalesced iteration space: size = fixed · (batch ? n : 1). */
interface Dim {
  fixed: number;
  batch: boolean;
}

/**
 * Merge adjacent dimensions that every operand walks contiguously (or not at all), so that
 * `[?,26,26,32] + [32]` becomes a 2-D loop `[?·676, 32]` and same-shape ops a flat loop.
 */
export function coalesce(outShape: readonly number[], strides: number[][]): { dims: Dim[]; strides: number[][] } {
  let dims: Dim[] = outShape.map((d) => ({ fixed: d === BATCH ? 1 : d, batch: d === BATCH }));
  let st = strides.map((s) => [...s]);
  for (let d = dims.length - 2; d >= 0; d--) {
    const inner = dims[d + 1]!;
    if (inner.batch) continue;
    const ok = st.every((s) => (s[d] === 0 && s[d + 1] === 0) || s[d] === s[d + 1]! * inner.fixed);
    if (!ok) continue;
    dims[d] = { fixed: dims[d]!.fixed * inner.fixed, batch: dims[d]!.batch };
    st = st.map((s) => {
      const merged = [...s];
      merged[d] = s[d + 1]!;
      merged.splice(d + 1, 1);
      return merged;
    });
    dims = [...dims.slice(0, d + 1), ...dims.slice(d + 2)];
  }
  return { dims, strides: st };
}

/** Strides of an operand read at the result's indices (0 along broadcast dimensions). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const aligned = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  const fixed = aligned.map((d) => (d === BATCH ? 1 : d));
  return stridesOf(fixed).map((s, i) => (aligned[i] === 1 && outShape[i] !== 1 ? 0 : s));
}

/** Translate a scalar body lane-wise; shared subtrees are emitted once (across calls that share `memo`). */
export function emitSExpr(b: KBuilder, e: SExpr, inputs: readonly KValue[], width: number, memo = new Map<SExpr, KValue>()): KValue {
  const go = (x: SExpr): KValue => {
    const known = memo.get(x);
    if (known) return known;
    let v: KValue;
    if (x.kind === "input") v = inputs[x.index]!;
    else if (x.kind === "const") {
      const c = b.const(x.value, kType(x.dtype as KElem));
      v = width > 1 ? b.broadcast(c, width) : c;
    } else if (x.prim === "cast") v = b.cast(go(x.args[0]!), kType(x.dtype as KElem, width));
    else v = b.prim(x.prim, x.args.map(go));
    memo.set(x, v);
    return v;
  };
  return go(e);
}

/**
 * Emit the loop nest computing `out[i] = body(in_0[i'], in_1[i''], …)` over the result shape.
 * `body` gets the loaded operand values (scalars or vectors of `width` lanes).
 */
export function emitElementwiseKernel(
  name: string,
  inTypes: readonly TensorType[],
  outType: TensorType,
  width: number,
  body: (b: KBuilder, inputs: KValue[], lanes: number) => KValue,
) {
  return emitMultiOutputKernel(name, inTypes, [outType], width, (b, inputs, lanes) => [body(b, inputs, lanes)]);
}

/**
 * The same loop nest storing several results of one shape (a fusion group whose intermediate values
 * are also needed elsewhere, as Adam's new moments are): `body` returns one value per output type.
 */
export function emitMultiOutputKernel(
  name: string,
  inTypes: readonly TensorType[],
  outTypes: readonly TensorType[],
  width: number,
  body: (b: KBuilder, inputs: KValue[], lanes: number) => KValue[],
) {
  const outType = outTypes[0]!;
  const b = new KBuilder(name);
  const ins: KBufferParam[] = inTypes.map((t, i) => b.buffer(`in${i}`, elemOf(t.dtype)));
  const outs = outTypes.map((t, k) => b.buffer(outTypes.length === 1 ? "out" : `out${k}`, elemOf(t.dtype), true));
  const storeAll = (at: KValue, values: KValue[]): void => values.forEach((v, k) => b.store(outs[k]!, at, v));
  const n = b.scalarParam("n");
  const { dims, strides } = coalesce(
    outType.shape,
    inTypes.map((t) => broadcastStrides(t.shape, outType.shape)),
  );
  const rank = dims.length;
  const size = (d: Dim): KValue => (d.batch ? (d.fixed === 1 ? n : b.ix(n, "*", d.fixed)) : b.index(d.fixed));
  const parallel = estimatedElements(outType.shape) >= PARALLEL_WORK;

  // Scalar case (rank 0): one element.
  if (rank === 0) {
    const zero = b.index(0);
    storeAll(zero, body(b, ins.map((p) => b.load(p, zero)), 1));
    return b.finish();
  }

  const outStrides = stridesOf(dims.map((d) => d.fixed)); // batch dims are leading, so strides are static
  /** Recursive nest: `offsets` are each operand's and the output's offsets for the enclosing indices. */
  const nest = (d: number, inOffsets: KValue[], outOffset: KValue): void => {
    const dim = dims[d]!;
    if (d < rank - 1) {
      b.for(0, size(dim), { parallel: parallel && d === 0, name: `i${d}` }, (iv) => {
        nest(
          d + 1,
          inOffsets.map((o, k) => (strides[k]![d] === 0 ? o : b.add(o, b.ix(iv, "*", strides[k]![d]!)))),
          b.add(outOffset, b.ix(iv, "*", outStrides[d]!)),
        );
      });
      return;
    }
    // Innermost: vector body over whole vectors, then a scalar tail.
    const total = size(dim);
    const innerParallel = parallel && rank === 1;
    const at = (iv: KValue, k: number): KValue => (strides[k]![d] === 0 ? inOffsets[k]! : b.add(inOffsets[k]!, strides[k]![d] === 1 ? iv : b.ix(iv, "*", strides[k]![d]!)));
    const vectorizable = width > 1 && strides.every((s) => s[d] === 0 || s[d] === 1) && (dim.batch || dim.fixed >= width);
    let tailStart: KValue = b.index(0);
    if (vectorizable) {
      const vectors = b.ix(total, "/", width);
      b.for(0, vectors, { parallel: innerParallel, name: "v" }, (vi) => {
        const iv = b.ix(vi, "*", width);
        const loaded = ins.map((p, k) => (strides[k]![d] === 0 ? b.broadcast(b.load(p, inOffsets[k]!), width) : b.load(p, at(iv, k), width)));
        storeAll(b.add(outOffset, iv), body(b, loaded, width));
      });
      tailStart = b.ix(vectors, "*", width);
    }
    b.for(tailStart, total, { parallel: innerParallel && !vectorizable, name: "t" }, (iv) => {
      const loaded = ins.map((p, k) => b.load(p, at(iv, k)));
      storeAll(b.add(outOffset, iv), body(b, loaded, 1));
    });
  };
  const zero = b.index(0);
  nest(0, ins.map(() => zero), zero);
  return b.finish();
}

/** Lower an elementwise op through its scalar body. */
export function lowerElementwise(ctx: TemplateContext, scalar: (inputs: readonly SExpr[]) => SExpr, inDTypes: readonly DType[]): void {
  const expr = scalar(inDTypes.map((d, i) => ({ kind: "input", index: i, dtype: d }) as SExpr));
  const kernel = emitElementwiseKernel(ctx.kernelName(), ctx.inTypes, ctx.outType, ctx.width, (b, inputs, lanes) => emitSExpr(b, expr, inputs, lanes));
  ctx.launch(kernel, [...ctx.inputs, ctx.out]);
}

/** Copy with broadcasting (broadcast_to, and outputs that alias other buffers). */
export function lowerCopy(ctx: TemplateContext): void {
  const kernel = emitElementwiseKernel(ctx.kernelName(), ctx.inTypes.slice(0, 1), ctx.outType, ctx.width, (_, [x]) => x!);
  ctx.launch(kernel, [ctx.inputs[0]!, ctx.out]);
}
