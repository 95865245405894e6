// Reductions to kernel IR. Dimensions are grouped into runs of kept and reduced axes; the common
// shapes — reduce the last run (softmax's row sums) or a middle run (global average pooling) —
// get vectorized loops, anything else a general scalar nest. arg_max walks one axis.

import { KBuilder } from "../../ir/kernel/builder.js";
import { kType, type KPrim, type KValue } from "../../ir/kernel/kir.js";
import { reductionAxes } from "../../ir/ops/common.js";
import { formatType, isSingleElement, normalizeAxis, sameShape, BATCH, type TensorType } from "../../ir/types.js";
import { TfcError } from "../../ir/errors.js";
import { emitSExpr } from "./elementwise.js";
import { dimValue, estimatedElements, PARALLEL_WORK, type TemplateContext } from "./context.js";

type ReduceKind = "sum" | "mean" | "max" | "min" | "prod";

const INIT: Record<ReduceKind, number> = { sum: 0, mean: 0, max: -Infinity, min: Infinity, prod: 1 };
/** i32 has no infinities: max starts from the smallest int, min from the largest. */
const INIT_I32: Record<ReduceKind, number> = { sum: 0, mean: 0, max: -2147483648, min: 2147483647, prod: 1 };
const STEP: Record<ReduceKind, KPrim> = { sum: "add", mean: "add", max: "max", min: "min", prod: "mul" };

/** Runs of consecutive axes that are all kept or all reduced: sizes as (fixed, has batch). */
interface Group {
  readonly reduced: boolean;
  readonly fixed: number;
  readonly batch: boolean;
}

function groups(shape: readonly number[], axes: ReadonlySet<number>): Group[] {
  const out: Group[] = [];
  shape.forEach((d, i) => {
    const reduced = axes.has(i);
    const last = out[out.length - 1];
    const fixed = d === BATCH ? 1 : d;
    if (last && last.reduced === reduced) out[out.length - 1] = { reduced, fixed: last.fixed * fixed, batch: last.batch || d === BATCH };
    else out.push({ reduced, fixed, batch: d === BATCH });
  });
  return out.filter((g) => g.fixed !== 1 || g.batch);
}

export function lowerReduce(ctx: TemplateContext, kind: ReduceKind): void {
  const x = ctx.inTypes[0]!;
  const axes = new Set(reductionAxes(kind, ctx.attrs["axis"] as number[], x.shape.length));
  const elem = x.dtype === "i32" ? "i32" : "f32";
  const t = kType(elem);
  const b = new KBuilder(ctx.kernelName());
  const prologue = ctx.prologue;
  // x itself, or the operands of the elementwise producers fused before the reduction.
  const sources = prologue ? prologue.operands.map((o, k) => ({ buffer: b.buffer(`x${k}`, o.buffer.elem), single: isSingleElement(o.type.shape) })) : [{ buffer: b.buffer("x", elem), single: false }];
  for (const o of prologue?.operands ?? []) {
    if (!isSingleElement(o.type.shape) && !sameShape(o.type.shape, x.shape)) throw new TfcError("TFC6011", `internal: a reduction's prologue reads ${formatType(o.type)}, not the reduced operand's shape ${formatType(x)} or one element`);
  }
  const dst = b.buffer("out", elem, true);
  const n = b.scalarParam("n");
  /** x's element at `index` (`lanes` of them). */
  const read = (index: KValue, lanes = 1): KValue => {
    const loaded = sources.map((s) => {
      if (!s.single) return b.load(s.buffer, index, lanes);
      const one = b.load(s.buffer, b.index(0));
      return lanes > 1 ? b.broadcast(one, lanes) : one;
    });
    return prologue ? emitSExpr(b, prologue.expr, loaded, lanes) : loaded[0]!;
  };
  const size = (g: Group): KValue => (g.batch ? (g.fixed === 1 ? n : b.ix(n, "*", g.fixed)) : b.index(g.fixed));
  const count = x.shape.filter((_, i) => axes.has(i)).reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
  const gs = groups(x.shape, axes);
  const parallel = estimatedElements(x.shape) >= PARALLEL_WORK;
  const init = elem === "i32" ? INIT_I32 : INIT;
  const splat = (v: number, lanes: number) => (lanes > 1 ? b.broadcast(b.const(v, t), lanes) : b.const(v, t));
  const finish = (acc: KValue): KValue => {
    if (kind !== "mean") return acc;
    const c = b.cast(count, kType("f32"));
    return b.div(acc, acc.type.width > 1 ? b.broadcast(c, acc.type.width) : c);
  };

  const reducedFirst = gs[0]?.reduced ?? false;
  const outer = reducedFirst ? undefined : gs[0];
  const middle = gs[reducedFirst ? 0 : 1];
  const inner = gs[reducedFirst ? 1 : 2];
  const simple = gs.length <= 3 && (!middle || middle.reduced) && (!inner || !inner.reduced) && gs.length === (outer ? 1 : 0) + (middle ? 1 : 0) + (inner ? 1 : 0);

  if (!middle) {
    // Nothing is reduced (all axes of size 1): a copy.
    const total = x.shape.reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
    b.for(0, total, { name: "i" }, (i) => b.store(dst, i, finish(read(i))));
  } else if (simple) {
    const O = outer ? size(outer) : b.index(1);
    const R = size(middle);
    const I = inner ? size(inner) : undefined;
    const w = ctx.width;
    b.for(0, O, { parallel, name: "o" }, (o) => {
      if (!I) {
        // Reduce a contiguous run: vector accumulator, then lanes folded, then a scalar tail.
        const base = b.mul(o, R);
        const acc = b.var(splat(init[kind], 1), "acc");
        if (w > 1 && kind !== "prod" && !middle.batch && middle.fixed >= 2 * w) {
          const vacc = b.var(splat(init[kind], w), "vacc");
          const vectors = Math.floor(middle.fixed / w);
          b.for(0, vectors, { name: "v" }, (v) => b.set(vacc, b.prim(STEP[kind], [b.get(vacc), read(b.add(base, b.ix(v, "*", w)), w)])));
          b.set(acc, b.reduce(STEP[kind] as "add" | "max" | "min", b.get(vacc)));
          b.for(vectors * w, R, { name: "r" }, (r) => b.set(acc, b.prim(STEP[kind], [b.get(acc), read(b.add(base, r))])));
        } else {
          b.for(0, R, { name: "r" }, (r) => b.set(acc, b.prim(STEP[kind], [b.get(acc), read(b.add(base, r))])));
        }
        b.store(dst, o, finish(b.get(acc)));
        return;
      }
      // Reduce a middle run: vectors along the contiguous kept run.
      const innerFixed = inner!.fixed;
      const lanesFor = (fixed: number) => (w > 1 && fixed >= w && kind !== "prod" ? w : 1);
      const lanes = lanesFor(innerFixed);
      const vectors = lanes > 1 ? Math.floor(innerFixed / lanes) : 0;
      const column = (i: KValue, l: number) => {
        const acc = b.var(splat(init[kind], l), "acc");
        b.for(0, R, { name: "r" }, (r) => b.set(acc, b.prim(STEP[kind], [b.get(acc), read(b.add(b.mul(b.add(b.mul(o, R), r), I), i), l)])));
        b.store(dst, b.add(b.mul(o, I), i), finish(b.get(acc)));
      };
      if (vectors > 0) b.for(0, vectors, { name: "iv" }, (v) => column(b.ix(v, "*", lanes), lanes));
      b.for(vectors * lanes, I, { name: "i" }, (i) => column(i, 1));
    });
  } else {
    // General: every output element walks all reduced indices (scalar).
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.has(i));
    const reduced = x.shape.map((_, i) => i).filter((i) => axes.has(i));
    const strides: number[] = [];
    let s = 1;
    for (let d = x.shape.length - 1; d >= 0; d--) {
      strides[d] = s;
      s *= x.shape[d] === BATCH ? 1 : x.shape[d]!;
    }
    const outCount = kept.reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, x.shape[d]!, n)), b.index(1));
    b.for(0, outCount, { parallel, name: "o" }, (o) => {
      let rem = o;
      let base: KValue = b.index(0);
      for (let k = kept.length - 1; k >= 0; k--) {
        const d = kept[k]!;
        const dim = dimValue(b, x.shape[d]!, n);
        base = b.add(base, b.ix(b.rem(rem, dim), "*", strides[d]!));
        rem = b.div(rem, dim);
      }
      const acc = b.var(splat(init[kind], 1), "acc");
      b.for(0, count, { name: "r" }, (r) => {
        let rr = r;
        let off = base;
        for (let k = reduced.length - 1; k >= 0; k--) {
          const d = reduced[k]!;
          const dim = dimValue(b, x.shape[d]!, n);
          off = b.add(off, b.ix(b.rem(rr, dim), "*", strides[d]!));
          rr = b.div(rr, dim);
        }
        b.set(acc, b.prim(STEP[kind], [b.get(acc), read(off)]));
      });
      b.store(dst, o, finish(b.get(acc)));
    });
  }
  ctx.launch(b.finish(), [...(prologue ? prologue.operands.map((o) => o.buffer) : [ctx.inputs[0]!]), ctx.out]);
}

export function lowerArgMax(ctx: TemplateContext): void {
  const x: TensorType = ctx.inTypes[0]!;
  const axis = normalizeAxis(ctx.attrs["axis"] as number, x.shape.length);
  const elem = x.dtype === "i32" ? "i32" : "f32";
  const b = new KBuilder(ctx.kernelName());
  const src = b.buffer("x", elem);
  const dst = b.buffer("out", "i32", true);
  const n = b.scalarParam("n");
  const prod = (dims: readonly number[]) => dims.reduce<KValue>((acc, d) => b.mul(acc, dimValue(b, d, n)), b.index(1));
  const O = prod(x.shape.slice(0, axis));
  const R = dimValue(b, x.shape[axis]!, n);
  const I = prod(x.shape.slice(axis + 1));
  b.for(0, O, { name: "o" }, (o) =>
    b.for(0, I, { name: "i" }, (i) => {
      const base = b.add(b.mul(b.mul(o, R), I), i);
      const best = b.var(b.load(src, base), "best");
      const bestIndex = b.var(b.index(0), "arg");
      b.for(1, R, { name: "r" }, (r) => {
        const v = b.load(src, b.add(base, b.mul(r, I)));
        b.if(b.prim("gt", [v, b.get(best)]), () => {
          b.set(best, v);
          b.set(bestIndex, r);
        });
      });
      b.store(dst, b.add(b.mul(o, I), i), b.cast(b.get(bestIndex), kType("i32")));
    }),
  );
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.out]);
}

/**
 * softmax / log_softmax along the last axis, a row at a time (rows in parallel): the row's maximum,
 * then the sum of exp(x - max) — softmax stores the exponentials as it goes — then the outputs,
 * `e / sum` or `(x - max) - log(sum)`, the same arithmetic as the decomposition. x is read from
 * memory once and the output written once; the later sweeps find the row in L1.
 */
export function lowerSoftmax(ctx: TemplateContext, log: boolean): void {
  const shape = ctx.inTypes[0]!.shape;
  const last = shape[shape.length - 1]!;
  const b = new KBuilder(ctx.kernelName());
  const x = b.buffer("x", "f32");
  const out = b.buffer("out", "f32", true);
  const n = b.scalarParam("n");
  const rows = shape.slice(0, -1).reduce<KValue>((p, d) => b.mul(p, dimValue(b, d, n)), b.index(1));
  const C = dimValue(b, last, n);
  const w = ctx.width;
  const vectorized = w > 1 && (last === BATCH || last >= w);
  b.for(0, rows, { parallel: estimatedElements(shape) >= PARALLEL_WORK, name: "row" }, (row) => {
    const base = b.mul(row, C);
    const vectors = vectorized ? b.ix(C, "/", w) : b.index(0);
    const tail = b.ix(vectors, "*", w);
    /** Visit the row as whole vectors, then single elements. */
    const sweep = (visit: (at: KValue, lanes: number) => void): void => {
      if (vectorized) b.for(0, vectors, { name: "v" }, (v) => visit(b.add(base, b.ix(v, "*", w)), w));
      b.for(tail, C, { name: "c" }, (c) => visit(b.add(base, c), 1));
    };
    /** Fold the row with `op`: vector accumulators, reduced across lanes, then the tail. */
    const fold = (op: "max" | "add", init: number, value: (at: KValue, lanes: number) => KValue): KValue => {
      let start = b.f32(init);
      if (vectorized) {
        const acc = b.var(b.broadcast(b.f32(init), w), `${op}v`);
        b.for(0, vectors, { name: "v" }, (v) => b.set(acc, b.prim(op, [b.get(acc), value(b.add(base, b.ix(v, "*", w)), w)])));
        start = b.reduce(op, b.get(acc));
      }
      const acc = b.var(start, op);
      b.for(tail, C, { name: "c" }, (c) => b.set(acc, b.prim(op, [b.get(acc), value(b.add(base, c), 1)])));
      return b.get(acc);
    };
    const splat = (s: KValue, lanes: number): KValue => (lanes > 1 ? b.broadcast(s, lanes) : s);
    const max = fold("max", -Infinity, (at, lanes) => b.load(x, at, lanes));
    const sum = fold("add", 0, (at, lanes) => {
      const e = b.prim("exp", [b.sub(b.load(x, at, lanes), splat(max, lanes))]);
      if (!log) b.store(out, at, e);
      return e;
    });
    if (log) {
      const logSum = b.prim("log", [sum]);
      sweep((at, lanes) => b.store(out, at, b.sub(b.sub(b.load(x, at, lanes), splat(max, lanes)), splat(logSum, lanes))));
    } else {
      sweep((at, lanes) => b.store(out, at, b.div(b.load(out, at, lanes), splat(sum, lanes))));
    }
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.out]);
}
