// Ops that select, join or lay out elements with TF.js semantics: concat, slice, pad, gather and
// one_hot. They compute no arithmetic (one_hot only writes two constants); type rules keep a
// leading `?` where the batch passes through unchanged and reject ops that would resize it.

import { defineOp } from "../op-def.js";
import { attr } from "../attrs.js";
import { TfcError } from "../errors.js";
import { BATCH, formatShape, formatType, normalizeAxis, numElements, stridesOf, type TensorType } from "../types.js";
import { allocData, hostTensor } from "../tensor.js";
import { requireDType, sameDType } from "./common.js";
import { forEachIndex } from "./core.js";
import type { Value } from "../ir.js";
import { isF32, reshapeAttr, reshapeTo } from "./grad-helpers.js";

/** Join tensors along an existing axis; every other dimension must match. */
export const concat = defineOp({
  name: "concat",
  summary: "Join along an axis: `%2 = concat %0, %1 {axis=1} : f32[?,7]`",
  operands: ["inputs..."],
  attrs: { axis: attr.int(0) },
  traits: ["pure", "layout"],
  type: (inputs, { axis }) => {
    const dtype = sameDType("concat", inputs);
    const first = inputs[0]!;
    const rank = first.shape.length;
    if (rank === 0) throw new TfcError("TFC2001", `concat cannot join scalars (${formatType(first)}); reshape them to rank 1 first`);
    const a = normalizeAxis(axis, rank, "concat axis");
    const shape = [...first.shape];
    shape[a] = 0;
    for (const t of inputs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        throw new TfcError(
          "TFC2002",
          `concat along axis ${a} needs equal sizes in every other dimension, got ${inputs.map(formatType).join(", ")}`,
        );
      }
      if (t.shape[a] === BATCH) {
        if (inputs.length === 1) return { dtype, shape: [...first.shape] };
        throw new TfcError(
          "TFC2002",
          `concat cannot join along the symbolic batch dimension (${inputs.map(formatType).join(", ")}): the result's size would not be the batch`,
        );
      }
      shape[a] += t.shape[a]!;
    }
    return { dtype, shape };
  },
  interpret: (inputs, { axis }, out) => {
    const a = normalizeAxis(axis, out.shape.length, "concat axis");
    const outer = numElements(out.shape.slice(0, a));
    const inner = numElements(out.shape.slice(a + 1));
    const res = allocData(out.dtype, numElements(out.shape));
    let o = 0;
    for (let i = 0; i < outer; i++) {
      for (const t of inputs) {
        const chunk = t.shape[a]! * inner;
        res.set(t.data.subarray(i * chunk, (i + 1) * chunk), o);
        o += chunk;
      }
    }
    return { dtype: out.dtype, shape: [...out.shape], data: res };
  },
  // Each operand's gradient is its slice of the result's gradient.
  vjp: (b, { inputs, grad, attrs: { axis } }): (Value | null)[] => {
    if (!isF32(inputs[0]!)) return inputs.map(() => null);
    if (inputs.length === 1) return [grad];
    const rank = grad.type.shape.length;
    const a = normalizeAxis(axis, rank, "concat axis");
    let offset = 0;
    return inputs.map((x) => {
      const begin = new Array<number>(rank).fill(0);
      const size = new Array<number>(rank).fill(-1);
      begin[a] = offset;
      size[a] = x.type.shape[a]!;
      offset += x.type.shape[a]!;
      return b.op("slice", [grad], { begin, size });
    });
  },
});

/** begin and size padded to the rank as TF.js does: missing begins are 0, missing sizes -1 (to the end). */
function sliceBounds(x: TensorType, begin: readonly number[], size: readonly number[]): { begin: number[]; shape: number[] } {
  const rank = x.shape.length;
  if (begin.length > rank || size.length > rank) {
    throw new TfcError("TFC2008", `slice of ${formatType(x)}: begin [${begin.join(", ")}] and size [${size.join(", ")}] may have at most ${rank} entries`);
  }
  const starts: number[] = [];
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dim = x.shape[d]!;
    const b = begin[d] ?? 0;
    const s = size[d] ?? -1;
    if (b < 0 || s < -1) {
      throw new TfcError("TFC2008", `slice of ${formatType(x)}: begin must be >= 0 and size >= -1, got begin ${b} and size ${s} in dimension ${d}`);
    }
    if (dim === BATCH) {
      if (b !== 0 || s !== -1) {
        throw new TfcError(
          "TFC2002",
          `slice of ${formatType(x)} must keep the whole symbolic batch (begin 0, size -1) in dimension ${d}, got begin ${b} and size ${s}`,
        );
      }
      starts.push(0);
      shape.push(BATCH);
      continue;
    }
    const end = s === -1 ? dim : b + s;
    if (b > dim || end > dim) {
      throw new TfcError("TFC2002", `slice of ${formatType(x)}: [${b}, ${end}) runs past size ${dim} of dimension ${d}`);
    }
    starts.push(b);
    shape.push(end - b);
  }
  return { begin: starts, shape };
}

/** A box of the input: `size[d]` elements from `begin[d]` in each dimension, -1 meaning "to the end". */
export const slice = defineOp({
  name: "slice",
  summary: "A contiguous box (size -1: to the end): `%1 = slice %0 {begin=[0, 2], size=[-1, 3]} : f32[?,3]`",
  operands: ["x"],
  attrs: { begin: attr.ints(), size: attr.ints([]) },
  traits: ["pure", "layout"],
  type: ([x], { begin, size }) => ({ dtype: x!.dtype, shape: sliceBounds(x!, begin, size).shape }),
  interpret: ([x], { begin, size }, out) => {
    const starts = sliceBounds(x!, begin, size).begin;
    const inStrides = stridesOf(x!.shape);
    let base = 0;
    for (let d = 0; d < starts.length; d++) base += starts[d]! * inStrides[d]!;
    const res = allocData(x!.dtype, numElements(out.shape));
    forEachIndex(out.shape, (flat, idx) => {
      let src = base;
      for (let d = 0; d < idx.length; d++) src += idx[d]! * inStrides[d]!;
      res[flat] = x!.data[src]!;
    });
    return { dtype: x!.dtype, shape: [...out.shape], data: res };
  },
  // The gradient padded back with zeros around the box.
  vjp: (b, { inputs: [x], grad, attrs: { begin, size } }): (Value | null)[] => {
    if (!isF32(x!)) return [null];
    const starts = sliceBounds(x!.type, begin, size).begin;
    const paddings = x!.type.shape.flatMap((d, i) => {
      if (d === BATCH) return [0, 0];
      return [starts[i]!, d - starts[i]! - grad.type.shape[i]!];
    });
    return [b.op("pad", [grad], { paddings })];
  },
});

/** Constant padding; `paddings` is flattened pairs [before0, after0, before1, after1, …]. */
export const pad = defineOp({
  name: "pad",
  summary: "Pad with a constant: `%1 = pad %0 {paddings=[0, 0, 1, 1], constant_value=0} : f32[?,30]`",
  operands: ["x"],
  attrs: { paddings: attr.ints(), constant_value: attr.float(0) },
  traits: ["pure", "layout"],
  type: ([x], { paddings, constant_value }) => {
    const rank = x!.shape.length;
    if (paddings.length !== 2 * rank || paddings.some((p) => p < 0)) {
      throw new TfcError(
        "TFC2008",
        `pad of ${formatType(x!)} needs ${2 * rank} non-negative paddings [before, after] per dimension, got [${paddings.join(", ")}]`,
      );
    }
    if (x!.dtype === "i32" && !Number.isInteger(constant_value)) {
      throw new TfcError("TFC2005", `pad of ${formatType(x!)} needs an integer constant_value, got ${constant_value}`);
    }
    if (x!.dtype === "bool" && constant_value !== 0 && constant_value !== 1) {
      throw new TfcError("TFC2005", `pad of ${formatType(x!)} needs constant_value 0 or 1, got ${constant_value}`);
    }
    const shape = x!.shape.map((d, i) => {
      const extra = paddings[2 * i]! + paddings[2 * i + 1]!;
      if (d === BATCH && extra !== 0) {
        throw new TfcError("TFC2002", `pad cannot pad the symbolic batch dimension of ${formatType(x!)} (paddings [${paddings.join(", ")}])`);
      }
      return d === BATCH ? BATCH : d + extra;
    });
    return { dtype: x!.dtype, shape };
  },
  interpret: ([x], { paddings, constant_value }, out) => {
    const res = hostTensor(x!.dtype, out.shape);
    res.data.fill(constant_value);
    const outStrides = stridesOf(out.shape);
    let base = 0;
    for (let d = 0; d < outStrides.length; d++) base += paddings[2 * d]! * outStrides[d]!;
    forEachIndex(x!.shape, (flat, idx) => {
      let dst = base;
      for (let d = 0; d < idx.length; d++) dst += idx[d]! * outStrides[d]!;
      res.data[dst] = x!.data[flat]!;
    });
    return res;
  },
  // The gradient's box where the operand sits.
  vjp: (b, { inputs: [x], grad, attrs: { paddings } }): (Value | null)[] => {
    if (!isF32(x!)) return [null];
    return [b.op("slice", [grad], { begin: x!.type.shape.map((_, i) => paddings[2 * i]!), size: reshapeAttr(x!.type.shape) })];
  },
});

/**
 * TF.js gather (batch_dims = 0): result shape params[:axis] + indices.shape + params[axis+1:].
 * An index outside [0, params.shape[axis]) is an error at run time, as on TF.js's CPU backend.
 */
export const gather = defineOp({
  name: "gather",
  summary: "Pick slices by index along an axis: `%2 = gather %0, %1 {axis=0} : f32[?,64]`",
  operands: ["params", "indices"],
  attrs: { axis: attr.int(0) },
  traits: ["pure"],
  type: ([params, indices], { axis }) => {
    requireDType("gather", indices!, ["i32"], "indices");
    if (params!.shape.length === 0) throw new TfcError("TFC2001", `gather expects params of rank 1 or more, got ${formatType(params!)}`);
    const a = normalizeAxis(axis, params!.shape.length, "gather axis");
    const shape = [...params!.shape.slice(0, a), ...indices!.shape, ...params!.shape.slice(a + 1)];
    if (shape.slice(1).includes(BATCH)) {
      throw new TfcError(
        "TFC2002",
        `gather of ${formatType(params!)} by ${formatType(indices!)} along axis ${a} would put the symbolic batch away from the front: [${formatShape(shape)}]`,
      );
    }
    return { dtype: params!.dtype, shape };
  },
  interpret: ([params, indices], { axis }, out) => {
    const a = normalizeAxis(axis, params!.shape.length, "gather axis");
    const outer = numElements(params!.shape.slice(0, a));
    const n = params!.shape[a]!;
    const inner = numElements(params!.shape.slice(a + 1));
    const idx = indices!.data;
    const res = allocData(out.dtype, numElements(out.shape));
    for (let i = 0; i < idx.length; i++) {
      if (idx[i]! < 0 || idx[i]! >= n) {
        throw new TfcError("TFC2013", `gather index ${idx[i]} is out of range [0, ${n}) for axis ${a} of ${formatType(params!)}`);
      }
    }
    let o = 0;
    for (let p = 0; p < outer; p++) {
      for (let i = 0; i < idx.length; i++) {
        const src = (p * n + idx[i]!) * inner;
        res.set(params!.data.subarray(src, src + inner), o);
        o += inner;
      }
    }
    return { dtype: out.dtype, shape: [...out.shape], data: res };
  },
  /**
   * Scatter-add as a product with one-hot rows: with the gradient as [outer…, |indices|, inner] and
   * onehot(indices) as [|indices|, n], params' gradient is onehotᵀ · g (exact sums in f32, no new
   * op needed), reshaped to params' shape. Indices get null.
   */
  vjp: (b, { inputs: [params, indices], grad, attrs: { axis } }): (Value | null)[] => {
    if (!isF32(params!)) return [null, null];
    const p = params!.type.shape;
    const a = normalizeAxis(axis, p.length, "gather axis");
    const n = p[a]!;
    const idxShape = indices!.type.shape;
    const hot = b.op("one_hot", [indices!], { depth: n });
    const inner = numElements(p.slice(a + 1));
    if (idxShape[0] === BATCH) {
      // Symbolic indices (then axis is 0 and nothing precedes them): [?, r, n]ᵀ·[?, r, inner], summed over ?.
      const r = numElements(idxShape.slice(1));
      const perBatch = b.op("matmul", [reshapeTo(b, hot, [BATCH, r, n]), reshapeTo(b, grad, [BATCH, r, inner])], { transpose_a: true });
      return [reshapeTo(b, b.op("sum", [perBatch], { axis: [0] }), p), null];
    }
    const count = numElements(idxShape);
    const g = reshapeTo(b, grad, [...p.slice(0, a), count, inner]);
    const scattered = b.op("matmul", [reshapeTo(b, hot, [count, n]), g], { transpose_a: true });
    return [reshapeTo(b, scattered, p), null];
  },
});

/** f32 one-hot rows: on_value at each index, off_value elsewhere; an index outside [0, depth) gives a row of off_value (TF). */
export const one_hot = defineOp({
  name: "one_hot",
  summary: "One-hot encode i32 indices: `%1 = one_hot %0 {depth=10, on_value=1, off_value=0} : f32[?,10]`",
  operands: ["indices"],
  attrs: { depth: attr.int(), on_value: attr.float(1), off_value: attr.float(0) },
  traits: ["pure"],
  type: ([indices], { depth }) => {
    requireDType("one_hot", indices!, ["i32"], "indices");
    if (depth < 1) throw new TfcError("TFC2008", `one_hot depth must be at least 1, got ${depth}`);
    return { dtype: "f32", shape: [...indices!.shape, depth] };
  },
  interpret: ([indices], { depth, on_value, off_value }, out) => {
    const res = hostTensor("f32", out.shape);
    res.data.fill(off_value);
    const idx = indices!.data;
    for (let i = 0; i < idx.length; i++) {
      const k = idx[i]!;
      if (k >= 0 && k < depth) res.data[i * depth + k] = on_value;
    }
    return res;
  },
  vjp: (): (Value | null)[] => [null],
});
