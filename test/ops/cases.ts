// Sample operands and attributes for every op in the registry, shared by the registry test (type
// rule vs interpreter) and the TF.js oracle test. The table is keyed by OpName with a mapped type,
// so an op added to the registry without cases is a compile error here and a failing test.

import type { Attrs } from "../../ir/builder.js";
import { Rng } from "../../ir/initializers.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { BATCH, concretize, formatType, type DType, type Shape, type TensorType } from "../../ir/types.js";
import type { OpName } from "../../ir/ops/index.js";

/** Draws one element value. */
export type Sampler = (rng: Rng) => number;

export const uniform = (lo: number, hi: number): Sampler => (rng) => lo + rng.next() * (hi - lo);
/** Integers in [lo, hi], both ends included. */
export const ints = (lo: number, hi: number): Sampler => (rng) => lo + Math.floor(rng.next() * (hi - lo + 1));
/** Integers in [lo, hi] other than 0 (divisors). */
export const nonzeroInts = (lo: number, hi: number): Sampler => (rng) => {
  for (;;) {
    const v = ints(lo, hi)(rng);
    if (v !== 0) return v;
  }
};
/** Magnitudes in [lo, hi] with a random sign (float divisors away from 0). */
export const signed = (lo: number, hi: number): Sampler => (rng) => (rng.next() < 0.5 ? -1 : 1) * uniform(lo, hi)(rng);
export const coin: Sampler = (rng) => (rng.next() < 0.5 ? 0 : 1);

export interface OperandSpec {
  readonly dtype: DType;
  /** May start with BATCH (`?`), which becomes the case's batch size when the case runs. */
  readonly shape: Shape;
  readonly sample: Sampler;
}

export interface OpCase {
  readonly operands: readonly OperandSpec[];
  readonly attrs?: Attrs;
  /** The value of `?` when the case runs (default 3). */
  readonly batch?: number;
  /** false for ops the interpreter cannot run on their own (param reads the session's values). */
  readonly runAlone?: boolean;
}

/** A type-rule failure whose code and message are pinned. */
export interface InvalidCase {
  readonly operands: readonly TensorType[];
  readonly attrs?: Attrs;
  readonly code: string;
  readonly message: RegExp;
}

export interface OpCases {
  readonly valid: readonly OpCase[];
  readonly invalid?: readonly InvalidCase[];
}

export const DEFAULT_BATCH = 3;

/** `"?,7,5"` → [BATCH, 7, 5]; `""` → [] (a scalar). */
export function parseShape(text: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((d) => (d.trim() === "?" ? BATCH : Number(d)));
}

const f32 = (shape: string, sample: Sampler = uniform(-3, 3)): OperandSpec => ({ dtype: "f32", shape: parseShape(shape), sample });
const i32 = (shape: string, sample: Sampler = ints(-9, 9)): OperandSpec => ({ dtype: "i32", shape: parseShape(shape), sample });
const bool = (shape: string): OperandSpec => ({ dtype: "bool", shape: parseShape(shape), sample: coin });
const type = (dtype: DType, shape: string): TensorType => ({ dtype, shape: parseShape(shape) });

/** Concrete random inputs for a case, `?` replaced by its batch size. */
export function sampleInputs(c: OpCase, rng: Rng): HostTensor[] {
  const batch = c.batch ?? DEFAULT_BATCH;
  return c.operands.map((o) => {
    const shape = concretize(o.shape, batch);
    const t = hostTensor(o.dtype, shape);
    for (let i = 0; i < t.data.length; i++) t.data[i] = o.sample(rng);
    return t;
  });
}

/** A readable one-line name for a case: `f32[?,7,5] f32[5] {axis=[1]}`. */
export function describeCase(c: { operands: readonly TensorType[]; attrs?: Attrs }): string {
  const attrs = Object.entries(c.attrs ?? {})
    .map(([k, v]) => `${k}=${typeof v === "object" && v !== null && "data" in v ? formatType(v) : JSON.stringify(v)}`)
    .join(", ");
  return `${c.operands.map(formatType).join(" ") || "()"}${attrs ? ` {${attrs}}` : ""}`;
}

// ---- case builders for families of ops -------------------------------------------------------

const cases = (...operandLists: OperandSpec[][]): OpCase[] => operandLists.map((operands) => ({ operands }));

/** Same-shape, odd sizes, 3x1 vs 1x4, a batch against a vector, a scalar against a matrix. */
function broadcastPairs(make: (shape: string) => OperandSpec, makeRhs: (shape: string) => OperandSpec = make): OperandSpec[][] {
  return [
    [make("7,5"), makeRhs("7,5")],
    [make("3,1"), makeRhs("1,4")],
    [make("?,5"), makeRhs("5")],
    [make(""), makeRhs("2,3")],
    [make("2,1,3"), makeRhs("4,1")],
  ];
}

function numericBinary(lhs: Sampler = uniform(-3, 3), rhs: Sampler = lhs, intLhs: Sampler = ints(-9, 9), intRhs: Sampler = intLhs): OpCases {
  return {
    valid: [
      ...cases(...broadcastPairs((s) => f32(s, lhs), (s) => f32(s, rhs))),
      ...cases([i32("7,5", intLhs), i32("7,5", intRhs)], [i32("3,1", intLhs), i32("1,4", intRhs)]),
    ],
    invalid: [
      { operands: [type("f32", "3"), type("f32", "4")], code: "TFC2002", message: /cannot be broadcast together: \[3\] and \[4\]/ },
      { operands: [type("f32", "3"), type("i32", "3")], code: "TFC2004", message: /must have the same dtype, got f32 and i32/ },
    ],
  };
}

function floatUnary(sample: Sampler = uniform(-3, 3)): OpCases {
  return {
    valid: cases([f32("7,5", sample)], [f32("?,4", sample)], [f32("", sample)]),
    invalid: [{ operands: [type("i32", "3")], code: "TFC2005", message: /must be f32, got i32\[3\]/ }],
  };
}

function numericUnary(sample: Sampler = uniform(-3, 3)): OpCases {
  return { valid: cases([f32("7,5", sample)], [f32("?,4", sample)], [i32("3,4")]) };
}

/** Small integers (also as f32) so that equal values, and thus both outcomes, occur often. */
function comparison(): OpCases {
  const small = ints(-2, 2);
  return {
    valid: [
      ...cases(...broadcastPairs((s) => f32(s, small))),
      ...cases([i32("7,5", small), i32("1,5", small)], [bool("3,1"), bool("1,4")]),
    ],
  };
}

function logicalBinary(): OpCases {
  return {
    valid: cases(...broadcastPairs(bool)),
    invalid: [{ operands: [type("f32", "3"), type("f32", "3")], code: "TFC2005", message: /must be bool, got f32\[3\]/ }],
  };
}

function reduction(dtypes: readonly DType[], sample: Sampler = uniform(-3, 3)): OpCases {
  const valid: OpCase[] = [
    { operands: [f32("7,5", sample)], attrs: { axis: [1] } },
    { operands: [f32("7,5", sample)], attrs: { axis: [0] } },
    { operands: [f32("?,4,5", sample)], attrs: { axis: [0, 2], keepdims: true } },
    { operands: [f32("?,4,5", sample)], attrs: { axis: [-1] } },
    { operands: [f32("3,4,5", sample)], attrs: { axis: [2, 0] } },
    { operands: [f32("6,5", sample)], attrs: {} },
    { operands: [f32("2,3,4", sample)], attrs: { axis: [], keepdims: true } },
  ];
  if (dtypes.includes("i32")) valid.push({ operands: [i32("4,3", ints(-3, 3))], attrs: { axis: [1] } }, { operands: [i32("4,3", ints(-3, 3))], attrs: {} });
  const invalid: InvalidCase[] = [{ operands: [type("f32", "3,4")], attrs: { axis: [2] }, code: "TFC2003", message: /axis 2 is out of range for a tensor of rank 2/ }];
  if (!dtypes.includes("i32")) invalid.push({ operands: [type("i32", "3,4")], attrs: { axis: [1] }, code: "TFC2005", message: /must be f32, got i32\[3,4\]/ });
  return { valid, invalid };
}

function softmaxCases(): OpCases {
  const logits = uniform(-10, 10);
  return {
    valid: [
      { operands: [f32("?,10", logits)] },
      { operands: [f32("7,5", logits)], attrs: { axis: 0 } },
      { operands: [f32("3,4,5", logits)], attrs: { axis: 1 } },
      { operands: [f32("6", uniform(-80, 80))], attrs: { axis: -1 } },
    ],
    invalid: [{ operands: [type("f32", "3,4")], attrs: { axis: 2 }, code: "TFC2003", message: /axis 2 is out of range/ }],
  };
}

function poolCases(): OpCases {
  return {
    valid: [
      { operands: [f32("?,7,5,3")], attrs: { ksize: [2, 2], strides: [2, 2], padding: "valid" }, batch: 2 },
      { operands: [f32("?,7,5,3")], attrs: { ksize: [2, 2], strides: [2, 2], padding: "same" }, batch: 2 },
      { operands: [f32("1,8,7,2")], attrs: { ksize: [3, 3], strides: [2, 2], padding: "same" } },
      { operands: [f32("2,6,9,1")], attrs: { ksize: [3, 2], strides: [1, 1], padding: "same" } },
      { operands: [f32("1,9,8,4")], attrs: { ksize: [4, 3], strides: [3, 2], padding: "valid" } },
      { operands: [f32("1,5,5,2")], attrs: { ksize: [5, 5], strides: [1, 1], padding: "same" } },
    ],
    invalid: [
      { operands: [type("f32", "5,5")], attrs: { ksize: [2, 2] }, code: "TFC2001", message: /expects rank-4 NHWC input, got f32\[5,5\]/ },
      { operands: [type("f32", "1,2,2,1")], attrs: { ksize: [3, 3] }, code: "TFC2002", message: /window of height 3 does not fit in input height 2/ },
      { operands: [type("f32", "1,4,4,1")], attrs: { ksize: [2, 2], strides: [0, 1] }, code: "TFC2008", message: /strides must be two positive integers/ },
    ],
  };
}

/** max_pool_grad: x and the dy of the pool's output shape (overlapping windows and 'same' padding included). */
function poolGradCases(): OpCases {
  return {
    valid: [
      { operands: [f32("?,7,5,3"), f32("?,3,2,3")], attrs: { ksize: [2, 2], strides: [2, 2], padding: "valid" }, batch: 2 },
      { operands: [f32("?,7,5,3"), f32("?,4,3,3")], attrs: { ksize: [2, 2], strides: [2, 2], padding: "same" }, batch: 2 },
      { operands: [f32("1,8,7,2"), f32("1,4,4,2")], attrs: { ksize: [3, 3], strides: [2, 2], padding: "same" } },
      { operands: [f32("2,6,9,1"), f32("2,6,9,1")], attrs: { ksize: [3, 2], strides: [1, 1], padding: "same" } },
      { operands: [f32("1,9,8,4"), f32("1,2,3,4")], attrs: { ksize: [4, 3], strides: [3, 2], padding: "valid" } },
    ],
    invalid: [
      { operands: [type("f32", "1,4,4,1"), type("f32", "1,3,3,1")], attrs: { ksize: [2, 2], strides: [2, 2] }, code: "TFC2001", message: /max_pool_grad dy must be f32\[1,2,2,1\] \(the pool's output\), got f32\[1,3,3,1\]/ },
    ],
  };
}

// ---- the table ---------------------------------------------------------------------------------

export const OP_CASES: { readonly [P in OpName]: OpCases } = {
  // sources, products, layout
  constant: {
    valid: [
      { operands: [], attrs: { value: hostTensor("f32", [2, 3], [1, -2, 3.5, 0, 5, 6]) } },
      { operands: [], attrs: { value: hostTensor("i32", [], [7]) } },
    ],
  },
  param: { valid: [{ operands: [], attrs: { name: "dense/kernel", dtype: "f32", shape: [4, 3] }, runAlone: false }] },
  matmul: {
    valid: [
      ...cases([f32("7,5"), f32("5,3")], [f32("?,6"), f32("6,4")], [f32("2,3,4"), f32("4,5")], [f32("2,1,3,4"), f32("3,4,2")]),
      { operands: [f32("5,7"), f32("3,5")], attrs: { transpose_a: true, transpose_b: true } },
      // Bᵀ with full panels: the GEMM packs it as it reads it (N = 40: two 16-column panels and 8 single columns).
      { operands: [f32("?,6"), f32("40,6")], attrs: { transpose_b: true } },
      // Aᵀ read in place over a batch-long contraction (a weight gradient Xᵀ·dY).
      { operands: [f32("?,6"), f32("?,40")], attrs: { transpose_a: true } },
      { operands: [f32("5,7"), f32("5,3")], attrs: { transpose_a: true } },
      { operands: [i32("4,3", ints(-5, 5)), i32("3,2", ints(-5, 5))] },
    ],
    invalid: [{ operands: [type("f32", "2,3"), type("f32", "4,5")], code: "TFC2002", message: /inner dimensions differ/ }],
  },
  reshape: {
    valid: [
      { operands: [f32("?,4,7")], attrs: { shape: [-1, 28] } },
      { operands: [f32("6,5")], attrs: { shape: [3, -1, 2] } },
      { operands: [i32("2,3")], attrs: { shape: [3, 2] } },
    ],
  },
  transpose: {
    valid: [
      { operands: [f32("3,4,5")], attrs: { perm: [2, 0, 1] } },
      { operands: [f32("7,5")], attrs: { perm: [1, 0] } },
      { operands: [f32("?,4,5")], attrs: { perm: [0, 2, 1] } },
      { operands: [bool("2,3")], attrs: { perm: [1, 0] } },
    ],
  },
  broadcast_to: {
    valid: [
      { operands: [f32("3,1")], attrs: { shape: [2, 3, 4] } },
      { operands: [i32("5")], attrs: { shape: [7, 5] } },
    ],
  },
  // elementwise
  add: numericBinary(),
  sub: numericBinary(),
  mul: numericBinary(),
  div: numericBinary(uniform(-3, 3), signed(0.25, 3), ints(-20, 20), nonzeroInts(-5, 5)),
  pow: numericBinary(uniform(0.1, 3), uniform(-2, 2), ints(-3, 3), ints(0, 3)),
  maximum: numericBinary(),
  minimum: numericBinary(),
  squared_difference: numericBinary(),
  neg: numericUnary(),
  abs: numericUnary(),
  square: numericUnary(),
  sqrt: floatUnary(uniform(0, 5)),
  rsqrt: floatUnary(uniform(0.05, 5)),
  exp: floatUnary(uniform(-5, 5)),
  log: floatUnary(uniform(0.01, 5)),
  floor: floatUnary(uniform(-5, 5)),
  tanh: floatUnary(uniform(-6, 6)),
  sigmoid: floatUnary(uniform(-8, 8)),
  relu: floatUnary(),
  relu6: floatUnary(uniform(-3, 9)),
  elu: floatUnary(),
  selu: floatUnary(),
  leaky_relu: { valid: [...cases([f32("7,5")], [f32("?,4")]), { operands: [f32("3,4")], attrs: { alpha: 0.1 } }] },
  gelu: { valid: [...cases([f32("7,5")], [f32("?,4")]), { operands: [f32("3,4", uniform(-5, 5))], attrs: { approximate: true } }] },
  softplus: floatUnary(uniform(-20, 20)),
  softsign: floatUnary(),
  equal: comparison(),
  not_equal: comparison(),
  less: comparison(),
  less_equal: comparison(),
  greater: comparison(),
  greater_equal: comparison(),
  logical_and: logicalBinary(),
  logical_or: logicalBinary(),
  logical_not: { valid: cases([bool("7,5")], [bool("?,4")]) },
  select: {
    valid: cases([bool("7,5"), f32("7,5"), f32("7,5")], [bool("3,1"), f32("1,4"), f32("")], [bool("?,1"), f32("?,5"), f32("5")], [bool("4"), i32("3,4"), i32("3,1")]),
    invalid: [{ operands: [type("f32", "3"), type("f32", "3"), type("f32", "3")], code: "TFC2005", message: /select condition must be bool/ }],
  },
  cast: {
    valid: [
      { operands: [f32("7,5", uniform(-5, 5))], attrs: { dtype: "i32" } },
      { operands: [f32("7,5", ints(-1, 1))], attrs: { dtype: "bool" } },
      { operands: [i32("?,4")], attrs: { dtype: "f32" } },
      { operands: [i32("3,4", ints(-1, 1))], attrs: { dtype: "bool" } },
      { operands: [bool("3,4")], attrs: { dtype: "f32" } },
      { operands: [bool("3,4")], attrs: { dtype: "i32" } },
    ],
  },
  // selection and layout
  concat: {
    valid: [
      { operands: [f32("?,3"), f32("?,4")], attrs: { axis: 1 } },
      { operands: [f32("2,5"), f32("3,5"), f32("1,5")], attrs: { axis: 0 } },
      { operands: [i32("2,3,4"), i32("2,1,4")], attrs: { axis: -2 } },
      { operands: [f32("?,5")], attrs: { axis: 0 } },
      { operands: [bool("2,2"), bool("2,3")], attrs: { axis: 1 } },
    ],
    invalid: [
      { operands: [type("f32", "?,3"), type("f32", "?,3")], attrs: { axis: 0 }, code: "TFC2002", message: /cannot join along the symbolic batch dimension/ },
      { operands: [type("f32", "2,3"), type("f32", "2,4")], attrs: { axis: 0 }, code: "TFC2002", message: /needs equal sizes in every other dimension/ },
      { operands: [type("f32", "2,3"), type("i32", "2,3")], attrs: { axis: 0 }, code: "TFC2004", message: /same dtype/ },
    ],
  },
  slice: {
    valid: [
      { operands: [f32("?,7")], attrs: { begin: [0, 2], size: [-1, 3] } },
      { operands: [f32("5,6,7")], attrs: { begin: [1, 0, 3], size: [2, -1, 4] } },
      { operands: [f32("5,4")], attrs: { begin: [1] } },
      { operands: [i32("4,4")], attrs: { begin: [3, 3], size: [1, 1] } },
      { operands: [f32("4,5")], attrs: { begin: [2, 5], size: [2, 0] } },
    ],
    invalid: [
      { operands: [type("f32", "?,4")], attrs: { begin: [1, 0], size: [-1, -1] }, code: "TFC2002", message: /must keep the whole symbolic batch/ },
      { operands: [type("f32", "4,5")], attrs: { begin: [1, 3], size: [2, 3] }, code: "TFC2002", message: /\[3, 6\) runs past size 5 of dimension 1/ },
    ],
  },
  pad: {
    valid: [
      { operands: [f32("?,5")], attrs: { paddings: [0, 0, 1, 2] } },
      { operands: [f32("3,4,2")], attrs: { paddings: [1, 0, 2, 2, 0, 1], constant_value: 1.5 } },
      { operands: [i32("3,3")], attrs: { paddings: [1, 1, 1, 1], constant_value: 7 } },
      { operands: [f32("7")], attrs: { paddings: [0, 0] } },
    ],
    invalid: [
      { operands: [type("f32", "3,4")], attrs: { paddings: [1, 1] }, code: "TFC2008", message: /needs 4 non-negative paddings/ },
      { operands: [type("f32", "?,4")], attrs: { paddings: [1, 0, 0, 0] }, code: "TFC2002", message: /cannot pad the symbolic batch dimension/ },
    ],
  },
  gather: {
    valid: [
      { operands: [f32("7,5"), i32("4", ints(0, 6))] },
      { operands: [f32("?,6,4"), i32("3,2", ints(0, 5))], attrs: { axis: 1 } },
      { operands: [f32("10,3"), i32("?", ints(0, 9))], attrs: { axis: 0 } },
      { operands: [i32("4,5"), i32("2,2", ints(0, 4))], attrs: { axis: -1 } },
      { operands: [f32("6"), i32("", ints(0, 5))] },
    ],
    invalid: [
      { operands: [type("f32", "4,5"), type("f32", "3")], code: "TFC2005", message: /gather indices must be i32, got f32\[3\]/ },
      { operands: [type("f32", "4,5"), type("i32", "?")], attrs: { axis: 1 }, code: "TFC2002", message: /symbolic batch away from the front/ },
    ],
  },
  one_hot: {
    valid: [
      { operands: [i32("?", ints(-1, 10))], attrs: { depth: 10 } },
      { operands: [i32("3,4", ints(0, 4))], attrs: { depth: 5, on_value: 2, off_value: -1 } },
    ],
    invalid: [{ operands: [type("f32", "3")], attrs: { depth: 4 }, code: "TFC2005", message: /one_hot indices must be i32/ }],
  },
  // reductions
  sum: reduction(["f32", "i32"]),
  mean: reduction(["f32"]),
  max: reduction(["f32", "i32"], ints(-4, 4)),
  min: reduction(["f32", "i32"], ints(-4, 4)),
  prod: reduction(["f32", "i32"], uniform(0.5, 1.5)),
  arg_max: {
    valid: [
      { operands: [f32("7,5", ints(-2, 2))], attrs: { axis: 1 } },
      { operands: [f32("?,6")], attrs: { axis: -1 } },
      { operands: [f32("?,6")], attrs: { axis: 0 } },
      { operands: [i32("3,4,5", ints(-2, 2))], attrs: { axis: 1 } },
      { operands: [f32("9")] },
    ],
    invalid: [{ operands: [type("f32", "")], code: "TFC2001", message: /arg_max expects an input of rank 1 or more, got f32\[\]/ }],
  },
  softmax: softmaxCases(),
  log_softmax: softmaxCases(),
  // neural-network layers
  conv2d: {
    valid: [
      { operands: [f32("?,7,5,3"), f32("3,3,3,4")], attrs: { padding: "same" }, batch: 2 },
      { operands: [f32("2,9,8,2"), f32("3,2,2,3")], attrs: { strides: [2, 3], padding: "valid" } },
      { operands: [f32("1,8,7,3"), f32("2,3,3,2")], attrs: { strides: [2, 2], padding: "same" } },
      { operands: [f32("1,9,9,2"), f32("3,3,2,2")], attrs: { dilations: [2, 2], padding: "valid" } },
      { operands: [f32("1,6,7,2"), f32("2,3,2,3")], attrs: { dilations: [2, 1], padding: "same" } },
      { operands: [f32("2,4,4,5"), f32("1,1,5,3")] },
    ],
    invalid: [
      { operands: [type("f32", "1,5,5,3"), type("f32", "3,3,2,4")], code: "TFC2002", message: /expects 2 input channels, but input f32\[1,5,5,3\] has 3/ },
      { operands: [type("f32", "1,2,2,1"), type("f32", "3,3,1,1")], code: "TFC2002", message: /window of height 3 does not fit in input height 2/ },
      { operands: [type("f32", "5,5,3"), type("f32", "3,3,3,4")], code: "TFC2001", message: /conv2d expects rank-4 NHWC input/ },
      { operands: [type("f32", "1,5,5,3"), type("f32", "3,3,3,4")], attrs: { padding: "full" }, code: "TFC4004", message: /attribute 'padding' must be one of "same", "valid", got "full"/ },
    ],
  },
  depthwise_conv2d: {
    valid: [
      { operands: [f32("?,7,5,3"), f32("3,3,3,2")], attrs: { padding: "same" }, batch: 2 },
      { operands: [f32("2,9,8,2"), f32("3,2,2,1")], attrs: { strides: [2, 3], padding: "valid" } },
      { operands: [f32("1,8,7,3"), f32("2,3,3,3")], attrs: { strides: [2, 2], padding: "same" } },
      { operands: [f32("1,9,9,2"), f32("3,3,2,2")], attrs: { dilations: [2, 2], padding: "valid" } },
      { operands: [f32("1,6,7,2"), f32("2,3,2,1")], attrs: { dilations: [1, 2], padding: "same" } },
    ],
    invalid: [{ operands: [type("f32", "1,5,5,3"), type("f32", "3,3,4,1")], code: "TFC2002", message: /expects 4 input channels/ }],
  },
  max_pool: poolCases(),
  max_pool_grad: poolGradCases(),
  random_uniform: {
    valid: [
      { operands: [f32("?,5,3"), i32("", ints(-1000, 1000))], attrs: { salt: 3 }, batch: 4 },
      { operands: [f32("7"), i32("", ints(0, 5))], attrs: {} },
    ],
    invalid: [{ operands: [type("f32", "2"), type("f32", "")], code: "TFC2001", message: /random_uniform seed must be an i32 scalar, got f32\[\]/ }],
  },
  avg_pool: poolCases(),
  batch_norm: {
    valid: [
      { operands: [f32("?,4,5,3"), f32("3"), f32("3", uniform(0.1, 2)), f32("3"), f32("3")], batch: 2 },
      { operands: [f32("7,5"), f32("5"), f32("5", uniform(0.1, 2)), f32("5"), f32("5")], attrs: { epsilon: 0.1 } },
      { operands: [f32("7,5"), f32("1,5"), f32("1,5", uniform(0.1, 2)), f32("1,5"), f32("1,5")], attrs: { epsilon: 1e-5 } },
    ],
    invalid: [
      { operands: [type("f32", "2,3"), type("f32", "4"), type("f32", "3"), type("f32", "3"), type("f32", "3")], code: "TFC2002", message: /mean \[4\] does not broadcast to input f32\[2,3\]/ },
    ],
  },
  dropout: {
    valid: [
      { operands: [f32("?,7")], attrs: { rate: 0.5 } },
      { operands: [f32("3,4")], attrs: { rate: 0 } },
    ],
    invalid: [{ operands: [type("f32", "3")], attrs: { rate: 1 }, code: "TFC2008", message: /dropout rate must be in \[0, 1\), got 1/ }],
  },
};
