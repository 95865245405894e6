// Source ops (constant, param), matmul and the layout ops that move data without arithmetic.

import { defineOp } from "../op-def.js";
import { attr } from "../attrs.js";
import { TfcError } from "../errors.js";
import { BATCH, broadcastShapes, formatShape, formatType, numElements, stridesOf, type TensorType } from "../types.js";
import { allocData, hostTensor, type HostTensor } from "../tensor.js";
import { requireDType, sameDType } from "./common.js";
import type { Value } from "../ir.js";
import { isF32, reshapeAttr, sumToShape } from "./grad-helpers.js";

export const constant = defineOp({
  name: "constant",
  summary: "A dense constant: `%0 = constant {value=dense<f32[2] [1, 2]>} : f32[2]`",
  operands: [],
  attrs: { value: attr.tensor() },
  traits: ["pure", "source"],
  type: (_, { value }) => ({ dtype: value.dtype, shape: [...value.shape] }),
  interpret: (_, { value }) => value,
  vjp: (): (Value | null)[] => [],
});

/** Reads a module parameter (a variable). Its value lives in the session, not in the IR. */
export const param = defineOp({
  name: "param",
  summary: 'Reads a parameter: `%0 = param {name="dense/kernel", dtype=f32, shape=[784, 10]} : f32[784,10]`',
  operands: [],
  attrs: { name: attr.string(), dtype: attr.dtype(), shape: attr.ints() },
  traits: ["pure", "source"],
  type: (_, { dtype, shape }) => ({ dtype, shape: [...shape] }),
  interpret: () => {
    throw new TfcError("TFC4011", "param is read by the interpreter's session, not interpreted on its own");
  },
  vjp: (): (Value | null)[] => [],
});

/** Batched matrix product; leading (batch) dimensions broadcast, as in TF.js matMul. */
export const matmul = defineOp({
  name: "matmul",
  summary: "Matrix product over the last two dims: `%2 = matmul %0, %1 {transpose_a=false, transpose_b=false} : f32[?,10]`",
  operands: ["a", "b"],
  attrs: { transpose_a: attr.bool(false), transpose_b: attr.bool(false) },
  traits: ["pure"],
  type: ([a, b], { transpose_a, transpose_b }) => {
    const dtype = sameDType("matmul", [a!, b!]);
    requireDType("matmul", a!, ["f32", "i32"]);
    if (a!.shape.length < 2 || b!.shape.length < 2) {
      throw new TfcError("TFC2001", `matmul expects operands of rank 2 or more, got ${formatType(a!)} and ${formatType(b!)}`);
    }
    const [m, ka] = lastTwo(a!, transpose_a);
    const [kb, n] = lastTwo(b!, transpose_b);
    if (ka !== kb && ka !== BATCH && kb !== BATCH) {
      throw new TfcError(
        "TFC2002",
        `matmul inner dimensions differ: ${formatType(a!)}${transpose_a ? "ᵀ" : ""} has ${ka} columns but ${formatType(b!)}${transpose_b ? "ᵀ" : ""} has ${kb} rows`,
      );
    }
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2), "matmul batch dimensions");
    return { dtype, shape: [...batch, m, n] };
  },
  interpret: ([a, b], { transpose_a, transpose_b }, out) => {
    const res = hostTensor(out.dtype, out.shape);
    const [m, k] = lastTwo(a!, transpose_a);
    const n = out.shape[out.shape.length - 1]!;
    const batchShape = out.shape.slice(0, -2);
    const batches = numElements(batchShape);
    const aBatch = a!.shape.slice(0, -2);
    const bBatch = b!.shape.slice(0, -2);
    const sa = transpose_a ? [1, m] : [k, 1]; // strides of (row i, col p) in a
    const sb = transpose_b ? [1, k] : [n, 1]; // strides of (row p, col j) in b
    const f32 = out.dtype === "f32";
    const acc = new Float64Array(n);
    for (let bi = 0; bi < batches; bi++) {
      const aOff = broadcastOffset(bi, batchShape, aBatch) * m * k;
      const bOff = broadcastOffset(bi, batchShape, bBatch) * k * n;
      const oOff = bi * m * n;
      for (let i = 0; i < m; i++) {
        acc.fill(0);
        for (let p = 0; p < k; p++) {
          const av = a!.data[aOff + i * sa[0]! + p * sa[1]!]!;
          if (av === 0) continue;
          const bRow = bOff + p * sb[0]!;
          for (let j = 0; j < n; j++) acc[j] += av * b!.data[bRow + j * sb[1]!]!;
        }
        for (let j = 0; j < n; j++) res.data[oOff + i * n + j] = f32 ? acc[j]! : acc[j]! | 0;
      }
    }
    return res;
  },
  // With C = op(A)·op(B): each product below has the operand's own (transposed) layout; batch
  // dimensions an operand was broadcast along are summed by sumToShape.
  vjp: (b, { inputs: [a, m], grad: g, attrs: { transpose_a: ta, transpose_b: tb } }): (Value | null)[] => {
    if (!isF32(a!)) return [null, null];
    const mm = (x: Value, y: Value, transpose_a: boolean, transpose_b: boolean) => b.op("matmul", [x, y], { transpose_a, transpose_b });
    const da = ta ? (tb ? mm(m!, g, true, true) : mm(m!, g, false, true)) : tb ? mm(g, m!, false, false) : mm(g, m!, false, true);
    const db = tb ? (ta ? mm(g, a!, true, true) : mm(g, a!, true, false)) : ta ? mm(a!, g, false, false) : mm(a!, g, true, false);
    return [sumToShape(b, da, a!.type), sumToShape(b, db, m!.type)];
  },
});

function lastTwo(t: TensorType, transpose: boolean): [number, number] {
  const r = t.shape.length;
  const rows = t.shape[r - 2]!;
  const cols = t.shape[r - 1]!;
  return transpose ? [cols, rows] : [rows, cols];
}

/** Flat index into a broadcast operand's batch, given the flat index into the result's batch. */
export function broadcastOffset(flat: number, outShape: readonly number[], inShape: readonly number[]): number {
  let off = 0;
  let inStride = 1;
  let rem = flat;
  const outStrides = stridesOf(outShape);
  const shift = outShape.length - inShape.length;
  const idx = outShape.map((_, d) => {
    const v = Math.floor(rem / outStrides[d]!);
    rem -= v * outStrides[d]!;
    return v;
  });
  for (let d = inShape.length - 1; d >= 0; d--) {
    const dim = inShape[d]!;
    off += (dim === 1 ? 0 : idx[d + shift]!) * inStride;
    inStride *= dim;
  }
  return off;
}

/** Reshape; the target may contain one -1 (inferred) and a leading `?` (kept from the batch). */
export const reshape = defineOp({
  name: "reshape",
  summary: "Same elements, new shape (`?` carries the batch): `%1 = reshape %0 {shape=[-1, 784]} : f32[?,784]`",
  operands: ["x"],
  attrs: { shape: attr.ints() },
  traits: ["pure", "layout"],
  type: ([x], { shape }) => ({ dtype: x!.dtype, shape: reshapeTarget(x!, shape) }),
  interpret: ([x], _, out) => ({ dtype: x!.dtype, shape: [...out.shape], data: x!.data }),
  vjp: (b, { inputs: [x], grad }): (Value | null)[] => [isF32(x!) ? b.op("reshape", [grad], { shape: reshapeAttr(x!.type.shape) }) : null],
});

/**
 * Resolve a reshape target. A -1 entry is inferred from the element count. When the input has a
 * symbolic batch, the -1 entry must be the leading one and stands for the batch times whatever
 * the other dimensions leave; the result then keeps a leading `?`.
 */
export function reshapeTarget(x: TensorType, target: readonly number[]): number[] {
  const inferred = target.filter((d) => d === -1).length;
  if (inferred > 1 || target.some((d) => d < -1 || !Number.isInteger(d))) {
    throw new TfcError("TFC2006", `reshape target [${target.join(",")}] may hold at most one -1 and otherwise positive sizes`);
  }
  const known = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const symbolic = x.shape.includes(BATCH);
  if (symbolic) {
    const perBatch = numElements(x.shape.filter((d) => d !== BATCH));
    if (target[0] !== -1 || known === 0 || (perBatch % known !== 0 && known % perBatch !== 0)) {
      throw new TfcError(
        "TFC2006",
        `cannot reshape ${formatType(x)} to [${target.join(",")}]: with a symbolic batch the target must start with -1 (the batch) and keep ${perBatch} elements per example`,
      );
    }
    if (perBatch !== known) {
      throw new TfcError("TFC2006", `cannot reshape ${formatType(x)} to [${target.join(",")}]: ${perBatch} elements per example vs ${known}`);
    }
    return target.map((d) => (d === -1 ? BATCH : d));
  }
  const total = numElements(x.shape);
  if (inferred === 1) {
    if (known === 0 || total % known !== 0) {
      throw new TfcError("TFC2006", `cannot reshape ${formatType(x)} (${total} elements) to [${target.join(",")}]`);
    }
    return target.map((d) => (d === -1 ? total / known : d));
  }
  if (known !== total) {
    throw new TfcError("TFC2006", `cannot reshape ${formatType(x)} (${total} elements) to [${formatShape(target)}] (${known} elements)`);
  }
  return [...target];
}

export const transpose = defineOp({
  name: "transpose",
  summary: "Permute dimensions: `%1 = transpose %0 {perm=[1, 0]} : f32[3,2]`",
  operands: ["x"],
  attrs: { perm: attr.ints() },
  traits: ["pure", "layout"],
  type: ([x], { perm }) => {
    const r = x!.shape.length;
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== r || sorted.some((p, i) => p !== i)) {
      throw new TfcError("TFC2007", `transpose perm [${perm.join(",")}] is not a permutation of ${r} dimensions of ${formatType(x!)}`);
    }
    if (x!.shape.includes(BATCH) && perm[0] !== 0) {
      throw new TfcError("TFC2007", `transpose perm [${perm.join(",")}] would move the symbolic batch dimension of ${formatType(x!)} away from the front`);
    }
    return { dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]!) };
  },
  interpret: ([x], { perm }, out) => {
    const res = allocData(x!.dtype, x!.data.length);
    const inStrides = stridesOf(x!.shape);
    const permStrides = perm.map((p) => inStrides[p]!);
    forEachIndex(out.shape, (flat, idx) => {
      let src = 0;
      for (let d = 0; d < idx.length; d++) src += idx[d]! * permStrides[d]!;
      res[flat] = x!.data[src]!;
    });
    return { dtype: x!.dtype, shape: [...out.shape], data: res };
  },
  vjp: (b, { inputs: [x], grad, attrs: { perm } }): (Value | null)[] => {
    if (!isF32(x!)) return [null];
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [b.op("transpose", [grad], { perm: inverse })];
  },
});

export const broadcast_to = defineOp({
  name: "broadcast_to",
  summary: "Repeat along dimensions of size 1: `%1 = broadcast_to %0 {shape=[4, 3]} : f32[4,3]`",
  operands: ["x"],
  attrs: { shape: attr.ints() },
  traits: ["pure", "layout"],
  type: ([x], { shape }) => {
    // -1 keeps the operand's own size there (the batch, when it is symbolic).
    const s = shape.map((d, i) => (d === -1 ? (x!.shape[i - (shape.length - x!.shape.length)] ?? BATCH) : d));
    const b = broadcastShapes(x!.shape, s, `broadcast_to ${formatType(x!)} to [${formatShape(s)}]`);
    if (b.length !== s.length || b.some((d, i) => d !== s[i])) {
      throw new TfcError("TFC2002", `cannot broadcast ${formatType(x!)} to [${formatShape(s)}]`);
    }
    return { dtype: x!.dtype, shape: s };
  },
  interpret: ([x], _, out) => {
    const res = allocData(x!.dtype, numElements(out.shape));
    const rank = out.shape.length;
    const inShape = [...new Array<number>(rank - x!.shape.length).fill(1), ...x!.shape];
    const inStrides = stridesOf(inShape).map((s, d) => (inShape[d] === 1 ? 0 : s));
    forEachIndex(out.shape, (flat, idx) => {
      let src = 0;
      for (let d = 0; d < rank; d++) src += idx[d]! * inStrides[d]!;
      res[flat] = x!.data[src]!;
    });
    return { dtype: x!.dtype, shape: [...out.shape], data: res };
  },
  vjp: (b, { inputs: [x], grad }): (Value | null)[] => [isF32(x!) ? sumToShape(b, grad, x!.type) : null],
});

/** Visit every index of a concrete shape in row-major order. `idx` is reused between calls. */
export function forEachIndex(shape: readonly number[], fn: (flat: number, idx: number[]) => void): void {
  const n = numElements(shape);
  if (n === 0) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(flat, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

export type { HostTensor };
