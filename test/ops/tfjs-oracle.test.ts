// TF.js is the oracle for what each op means: every op in the registry runs on the reference
// interpreter and through @tensorflow/tfjs (CPU backend) on the same seeded random inputs — the
// cases of test/ops/cases.ts, then random shapes from fast-check — and the results must agree.

import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { allOps, getOp, type OpName } from "../../ir/ops/index.js";
import { resolveAttrs, inferOpType, type Attrs } from "../../ir/builder.js";
import { evalOp } from "../../ir/interpreter.js";
import { Rng } from "../../ir/initializers.js";
import { hostTensor, typeOfHost, type HostTensor } from "../../ir/tensor.js";
import { formatType, type DType, type TensorType } from "../../ir/types.js";
import { OP_CASES, describeCase, ints, sampleInputs, uniform, type Sampler } from "./cases.js";

// ---- tolerances, per op family ------------------------------------------------------------------
// A value passes when |actual - expected| <= atol + rtol * |expected| (NaN matches NaN, ±Inf itself).

interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}
/** Data movement, comparisons, selections, integer results: the same bits. */
const EXACT: Tolerance = { rtol: 0, atol: 0 };
/** One or two roundings of + - * / sqrt: 1e-5 relative leaves room for a different operation order. */
const ARITH: Tolerance = { rtol: 1e-5, atol: 1e-6 };
/** exp, log, tanh, pow, erf: JS Math and TF.js's kernels may differ in the last bits of f32. */
const TRANSCENDENTAL: Tolerance = { rtol: 1e-5, atol: 1e-6 };
/**
 * Sums of many terms (matmul, conv, average pools, reductions, batch_norm, softmax): tfc accumulates
 * in float64 and rounds once, TF.js's CPU kernels round every partial sum to f32.
 */
const ACCUMULATE: Tolerance = { rtol: 1e-4, atol: 1e-5 };

// ---- the oracle table ---------------------------------------------------------------------------

type Run = (xs: tf.Tensor[], attrs: Attrs, out: TensorType) => tf.Tensor;
interface Oracle {
  readonly tol: Tolerance;
  readonly run: Run;
}

/** Ops TF.js cannot say anything about, each with the reason. */
const EXEMPT = {
  // A constant's result is its attribute; there is no computation to compare.
  constant: "its value is its attribute",
  // param reads the session's parameter values; the interpreter does not run it on its own.
  param: "reads session state",
  // tfc's counter-based numbers are its own (TF.js's generator differs); test/ops/random.test.ts checks them.
  random_uniform: "tfc's own counter-based generator",
} as const;
type Exempt = keyof typeof EXEMPT;

const TF_DTYPE = { f32: "float32", i32: "int32", bool: "bool" } as const satisfies Record<DType, tf.DataType>;

const num = (v: Attrs[string] | undefined): number => v as number;
const nums = (v: Attrs[string] | undefined): number[] => [...(v as readonly number[])];
const pair = (v: Attrs[string] | undefined): [number, number] => nums(v) as [number, number];
const padding = (v: Attrs[string] | undefined): "same" | "valid" => v as "same" | "valid";
/** tfc's empty axis list means "all axes"; TF.js says that with `undefined` (its [] reduces nothing). */
const axes = (v: Attrs[string] | undefined): number[] | undefined => (nums(v).length === 0 ? undefined : nums(v));

const oracle = (tol: Tolerance, run: Run): Oracle => ({ tol, run });
const unary = (tol: Tolerance, f: (x: tf.Tensor) => tf.Tensor): Oracle => oracle(tol, ([x]) => f(x!));
const binary = (tol: Tolerance, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Oracle => oracle(tol, ([a, b]) => f(a!, b!));

/** Apply `f` along `axis` by swapping it with the last axis (TF.js softmax only works on the last). */
function alongLastAxis(x: tf.Tensor, axis: number, f: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a === x.rank - 1) return f(x);
  const perm = Array.from({ length: x.rank }, (_, i) => (i === a ? x.rank - 1 : i === x.rank - 1 ? a : i));
  return tf.transpose(f(tf.transpose(x, perm)), perm);
}

/**
 * Broadcast a matmul operand's batch dimensions to the result's. TF.js's CPU BatchMatMul pairs
 * flattened batches modulo their counts, which is wrong unless one side's batch is 1 or both are
 * equal (f32[2,1,3,4] × f32[3,4,2] gives 18 values for a [2,3,3,2] result), so the oracle
 * broadcasts first and multiplies equal batches.
 */
function broadcastBatch(x: tf.Tensor, out: TensorType): tf.Tensor {
  const batch = out.shape.slice(0, -2);
  return tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
}

/** GELU; tfjs-core has no gelu op, so its exact and tanh forms are written with TF.js ops. */
function gelu(x: tf.Tensor, approximate: boolean): tf.Tensor {
  if (approximate) {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  }
  return tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
}

const ORACLES: { readonly [P in Exclude<OpName, Exempt>]: Oracle } = {
  // products and layout
  matmul: oracle(ACCUMULATE, ([a, b], at, out) =>
    tf.matMul(broadcastBatch(a!, out), broadcastBatch(b!, out), at["transpose_a"] as boolean, at["transpose_b"] as boolean),
  ),
  reshape: oracle(EXACT, ([x], at) => tf.reshape(x!, nums(at["shape"]))),
  transpose: oracle(EXACT, ([x], at) => tf.transpose(x!, nums(at["perm"]))),
  broadcast_to: oracle(EXACT, ([x], _, out) => tf.broadcastTo(x!, [...out.shape])),
  // elementwise
  add: binary(ARITH, tf.add),
  sub: binary(ARITH, tf.sub),
  mul: binary(ARITH, tf.mul),
  div: binary(ARITH, tf.div),
  pow: binary(TRANSCENDENTAL, tf.pow),
  maximum: binary(EXACT, tf.maximum),
  minimum: binary(EXACT, tf.minimum),
  squared_difference: binary(ARITH, tf.squaredDifference),
  neg: unary(EXACT, tf.neg),
  abs: unary(EXACT, tf.abs),
  square: unary(ARITH, tf.square),
  sqrt: unary(ARITH, tf.sqrt),
  rsqrt: unary(ARITH, tf.rsqrt),
  exp: unary(TRANSCENDENTAL, tf.exp),
  log: unary(TRANSCENDENTAL, tf.log),
  floor: unary(EXACT, tf.floor),
  tanh: unary(TRANSCENDENTAL, tf.tanh),
  sigmoid: unary(TRANSCENDENTAL, tf.sigmoid),
  relu: unary(EXACT, tf.relu),
  relu6: unary(EXACT, tf.relu6),
  elu: unary(TRANSCENDENTAL, tf.elu),
  selu: unary(TRANSCENDENTAL, tf.selu),
  leaky_relu: oracle(ARITH, ([x], at) => tf.leakyRelu(x!, num(at["alpha"]))),
  gelu: oracle(TRANSCENDENTAL, ([x], at) => gelu(x!, at["approximate"] as boolean)),
  softplus: unary(TRANSCENDENTAL, tf.softplus),
  // tfjs-core has no softsign op (tfjs-layers computes it the same way)
  softsign: unary(ARITH, (x) => tf.div(x, tf.add(1, tf.abs(x)))),
  equal: binary(EXACT, tf.equal),
  not_equal: binary(EXACT, tf.notEqual),
  less: binary(EXACT, tf.less),
  less_equal: binary(EXACT, tf.lessEqual),
  greater: binary(EXACT, tf.greater),
  greater_equal: binary(EXACT, tf.greaterEqual),
  logical_and: binary(EXACT, tf.logicalAnd),
  logical_or: binary(EXACT, tf.logicalOr),
  logical_not: unary(EXACT, tf.logicalNot),
  select: oracle(EXACT, ([c, a, b]) => tf.where(c!, a!, b!)),
  cast: oracle(EXACT, ([x], at) => tf.cast(x!, TF_DTYPE[at["dtype"] as DType])),
  // selection and layout
  concat: oracle(EXACT, (xs, at) => tf.concat(xs, num(at["axis"]))),
  slice: oracle(EXACT, ([x], at) => tf.slice(x!, nums(at["begin"]), nums(at["size"]).length ? nums(at["size"]) : undefined)),
  pad: oracle(EXACT, ([x], at) => {
    const flat = nums(at["paddings"]);
    const pairs = Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as [number, number]);
    return tf.pad(x!, pairs, num(at["constant_value"]));
  }),
  gather: oracle(EXACT, ([params, indices], at) => tf.gather(params!, indices!, num(at["axis"]))),
  one_hot: oracle(EXACT, ([indices], at) =>
    tf.oneHot(indices! as tf.Tensor1D, num(at["depth"]), num(at["on_value"]), num(at["off_value"]), "float32"),
  ),
  // reductions
  sum: oracle(ACCUMULATE, ([x], at) => tf.sum(x!, axes(at["axis"]), at["keepdims"] as boolean)),
  mean: oracle(ACCUMULATE, ([x], at) => tf.mean(x!, axes(at["axis"]), at["keepdims"] as boolean)),
  max: oracle(EXACT, ([x], at) => tf.max(x!, axes(at["axis"]), at["keepdims"] as boolean)),
  min: oracle(EXACT, ([x], at) => tf.min(x!, axes(at["axis"]), at["keepdims"] as boolean)),
  prod: oracle(ACCUMULATE, ([x], at) => tf.prod(x!, axes(at["axis"]), at["keepdims"] as boolean)),
  arg_max: oracle(EXACT, ([x], at) => tf.argMax(x!, num(at["axis"]))),
  softmax: oracle(ACCUMULATE, ([x], at) => alongLastAxis(x!, num(at["axis"]), (t) => tf.softmax(t))),
  log_softmax: oracle(ACCUMULATE, ([x], at) => alongLastAxis(x!, num(at["axis"]), (t) => tf.logSoftmax(t))),
  // neural-network layers
  conv2d: oracle(ACCUMULATE, ([x, f], at) =>
    tf.conv2d(x! as tf.Tensor4D, f! as tf.Tensor4D, pair(at["strides"]), padding(at["padding"]), "NHWC", pair(at["dilations"])),
  ),
  depthwise_conv2d: oracle(ACCUMULATE, ([x, f], at) =>
    tf.depthwiseConv2d(x! as tf.Tensor4D, f! as tf.Tensor4D, pair(at["strides"]), padding(at["padding"]), "NHWC", pair(at["dilations"])),
  ),
  max_pool: oracle(EXACT, ([x], at) => tf.maxPool(x! as tf.Tensor4D, pair(at["ksize"]), pair(at["strides"]), padding(at["padding"]))),
  // TF.js's gradient of maxPool, pulled back with dy.
  max_pool_grad: oracle(ACCUMULATE, ([x, dy], at) =>
    tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, pair(at["ksize"]), pair(at["strides"]), padding(at["padding"])), dy!)))(x!),
  ),
  avg_pool: oracle(ACCUMULATE, ([x], at) => tf.avgPool(x! as tf.Tensor4D, pair(at["ksize"]), pair(at["strides"]), padding(at["padding"]))),
  batch_norm: oracle(ACCUMULATE, ([x, mean, variance, offset, scale], at) => tf.batchNorm(x!, mean!, variance!, offset!, scale!, num(at["epsilon"]))),
  // the Keras layer in inference mode (training: false) is the identity
  dropout: oracle(EXACT, ([x], at) => tf.layers.dropout({ rate: num(at["rate"]) }).apply(x!, { training: false }) as tf.Tensor),
};

// ---- running both sides -------------------------------------------------------------------------

function toTf(t: HostTensor): tf.Tensor {
  return tf.tensor(t.data, [...t.shape], TF_DTYPE[t.dtype]);
}

function close(a: number, e: number, tol: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
}

/** Largest |actual - expected| / (atol + rtol·|expected|) over all elements: at most 1 passes. */
interface Comparison {
  readonly worst: number;
}

/** Run `name` on the interpreter and on TF.js and assert that they agree; returns the worst error ratio. */
function checkAgainstTfjs(name: string, inputs: readonly HostTensor[], given: Attrs = {}): Comparison {
  const def = getOp(name);
  const oracleEntry = (ORACLES as Record<string, Oracle | undefined>)[name];
  assert.ok(oracleEntry, `no TF.js oracle for '${name}'`);
  const attrs = resolveAttrs(def, given);
  const out = inferOpType(def, inputs.map(typeOfHost), attrs);
  const actual = evalOp(name, inputs, given);
  const expectedTensor = tf.tidy(() => oracleEntry.run(inputs.map(toTf), attrs, out));
  const expected = { dtype: expectedTensor.dtype, shape: [...expectedTensor.shape], data: expectedTensor.dataSync() };
  expectedTensor.dispose();
  const what = `${name} ${describeCase({ operands: inputs.map(typeOfHost), attrs: given })}`;
  assert.equal(TF_DTYPE[actual.dtype], expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const { tol } = oracleEntry;
  const bad: string[] = [];
  let worst = 0;
  for (let i = 0; i < actual.data.length; i++) {
    const a = actual.data[i]!;
    const e = Number(expected.data[i]);
    if (!close(a, e, tol)) {
      if (bad.length < 5) bad.push(`[${i}] tfc ${a} vs tfjs ${e}`);
    } else if (Number.isFinite(e) && tol.atol + tol.rtol > 0) {
      worst = Math.max(worst, Math.abs(a - e) / (tol.atol + tol.rtol * Math.abs(e)));
    }
  }
  assert.deepEqual(bad, [], `${what} → ${formatType(actual)} differs from TF.js (rtol ${tol.rtol}, atol ${tol.atol}):\n  ${bad.join("\n  ")}`);
  return { worst };
}

before(async () => {
  await tf.setBackend("cpu");
});

describe("TF.js oracle coverage", () => {
  it("maps every registry op to a TF.js oracle or lists it as exempt", () => {
    const missing = allOps()
      .map((d) => d.name)
      .filter((n) => !(n in ORACLES) && !(n in EXEMPT));
    assert.deepEqual(missing, [], `ops with neither a TF.js oracle nor an exemption: ${missing.join(", ")}`);
    const both = Object.keys(EXEMPT).filter((n) => n in ORACLES);
    assert.deepEqual(both, [], `ops both exempt and mapped: ${both.join(", ")}`);
  });
});

// ---- every case of the table, on three seeds ----------------------------------------------------

const SEEDS = [1, 2, 3];

describe("interpreter vs TF.js on the op cases", () => {
  for (const def of allOps()) {
    if (def.name in EXEMPT) continue;
    const opCases = (OP_CASES as Record<string, (typeof OP_CASES)[OpName] | undefined>)[def.name];
    describe(def.name, () => {
      it("has cases", () => assert.ok(opCases && opCases.valid.length > 0, `no cases for '${def.name}' in test/ops/cases.ts`));
      (opCases?.valid ?? []).forEach((c, i) => {
        it(`#${i} ${describeCase({ operands: c.operands, ...(c.attrs ? { attrs: c.attrs } : {}) })}`, (t) => {
          let worst = 0;
          for (const seed of SEEDS) worst = Math.max(worst, checkAgainstTfjs(def.name, sampleInputs(c, new Rng(seed * 7919 + i)), c.attrs).worst);
          t.diagnostic(`worst error / tolerance: ${worst.toFixed(3)}`);
        });
      });
    });
  }
});

// ---- random shapes and attributes (fast-check) --------------------------------------------------

const FC = { seed: 20240611, numRuns: 60 };

function randomTensor(dtype: DType, shape: readonly number[], seed: number, sample: Sampler = uniform(-3, 3)): HostTensor {
  const rng = new Rng(seed);
  const t = hostTensor(dtype, shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = sample(rng);
  return t;
}

const shapeArb = (maxRank = 4, maxDim = 5) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank });
const seedArb = fc.integer({ min: 0, max: 1 << 30 });
const paddingArb = fc.constantFrom<"same" | "valid">("same", "valid");

/** One spatial axis of a window op: input size, window, stride, dilation (TF.js wants stride 1 or dilation 1). */
const windowArb = (allowDilation: boolean) =>
  fc.record({
    size: fc.integer({ min: 1, max: 9 }),
    k: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: allowDilation ? fc.integer({ min: 1, max: 3 }) : fc.constant(1),
  });

function windowFits(w: { size: number; k: number; dilation: number }, pad: "same" | "valid"): boolean {
  return pad === "same" || (w.k - 1) * w.dilation + 1 <= w.size;
}

describe("interpreter vs TF.js on random shapes", () => {
  for (const op of ["conv2d", "depthwise_conv2d"] as const) {
    it(`${op}: random sizes, strides, dilations and padding`, () => {
      const arb = fc.record({
        batch: fc.integer({ min: 1, max: 2 }),
        rows: windowArb(true),
        cols: windowArb(true),
        channels: fc.integer({ min: 1, max: 4 }),
        outChannels: fc.integer({ min: 1, max: 3 }),
        padding: paddingArb,
        seed: seedArb,
      });
      fc.assert(
        fc.property(arb, (p) => {
          fc.pre(windowFits(p.rows, p.padding) && windowFits(p.cols, p.padding));
          const dilated = p.rows.dilation > 1 || p.cols.dilation > 1;
          const strides = dilated ? [1, 1] : [p.rows.stride, p.cols.stride];
          const x = randomTensor("f32", [p.batch, p.rows.size, p.cols.size, p.channels], p.seed);
          const f = randomTensor("f32", [p.rows.k, p.cols.k, p.channels, p.outChannels], p.seed + 1);
          checkAgainstTfjs(op, [x, f], { strides, padding: p.padding, dilations: [p.rows.dilation, p.cols.dilation] });
        }),
        FC,
      );
    });
  }

  for (const op of ["max_pool", "avg_pool"] as const) {
    it(`${op}: random sizes, windows, strides and padding`, () => {
      const arb = fc.record({ rows: windowArb(false), cols: windowArb(false), channels: fc.integer({ min: 1, max: 3 }), padding: paddingArb, seed: seedArb });
      fc.assert(
        fc.property(arb, (p) => {
          fc.pre(windowFits(p.rows, p.padding) && windowFits(p.cols, p.padding));
          const x = randomTensor("f32", [2, p.rows.size, p.cols.size, p.channels], p.seed);
          checkAgainstTfjs(op, [x], { ksize: [p.rows.k, p.cols.k], strides: [p.rows.stride, p.cols.stride], padding: p.padding });
        }),
        FC,
      );
    });
  }

  for (const op of ["sum", "mean", "max", "min", "prod"] as const) {
    it(`${op}: random shapes, axis subsets (some negative) and keepdims`, () => {
      const arb = shapeArb().chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          axes: fc.subarray(shape.map((_, i) => i)),
          negate: fc.boolean(),
          keepdims: fc.boolean(),
          seed: seedArb,
        }),
      );
      fc.assert(
        fc.property(arb, (p) => {
          const x = randomTensor("f32", p.shape, p.seed, op === "prod" ? uniform(0.5, 1.5) : ints(-4, 4));
          const axis = p.axes.map((a) => (p.negate ? a - p.shape.length : a));
          checkAgainstTfjs(op, [x], { axis, keepdims: p.keepdims });
        }),
        FC,
      );
    });
  }

  it("arg_max: random shapes and axes, with ties", () => {
    const arb = shapeArb().chain((shape) => fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: -shape.length, max: shape.length - 1 }), seed: seedArb }));
    fc.assert(fc.property(arb, (p) => void checkAgainstTfjs("arg_max", [randomTensor("f32", p.shape, p.seed, ints(-2, 2))], { axis: p.axis })), FC);
  });

  for (const op of ["softmax", "log_softmax"] as const) {
    it(`${op}: random shapes and axes`, () => {
      const arb = shapeArb(3, 6).chain((shape) => fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: -shape.length, max: shape.length - 1 }), seed: seedArb }));
      fc.assert(fc.property(arb, (p) => void checkAgainstTfjs(op, [randomTensor("f32", p.shape, p.seed, uniform(-10, 10))], { axis: p.axis })), FC);
    });
  }

  it("slice: random boxes, with -1 sizes", () => {
    const arb = shapeArb().chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        box: fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: -1, max: d - b }))))),
        seed: seedArb,
      }),
    );
    fc.assert(
      fc.property(arb, (p) => {
        const x = randomTensor("f32", p.shape, p.seed);
        checkAgainstTfjs("slice", [x], { begin: p.box.map(([b]) => b), size: p.box.map(([, s]) => s) });
      }),
      FC,
    );
  });

  it("pad: random paddings and constants", () => {
    const arb = shapeArb(3).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        paddings: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2 * shape.length, maxLength: 2 * shape.length }),
        value: fc.integer({ min: -5, max: 5 }),
        seed: seedArb,
      }),
    );
    fc.assert(fc.property(arb, (p) => void checkAgainstTfjs("pad", [randomTensor("f32", p.shape, p.seed)], { paddings: p.paddings, constant_value: p.value })), FC);
  });

  it("gather: random params, indices shapes and axes", () => {
    const arb = shapeArb(3).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        axis: fc.integer({ min: 0, max: shape.length - 1 }),
        indexShape: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }),
        seed: seedArb,
      }),
    );
    fc.assert(
      fc.property(arb, (p) => {
        const params = randomTensor("f32", p.shape, p.seed);
        const indices = randomTensor("i32", p.indexShape, p.seed + 1, ints(0, p.shape[p.axis]! - 1));
        checkAgainstTfjs("gather", [params, indices], { axis: p.axis });
      }),
      FC,
    );
  });

  it("concat: random pieces along a random axis", () => {
    const arb = shapeArb(3).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        axis: fc.integer({ min: 0, max: shape.length - 1 }),
        sizes: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
        seed: seedArb,
      }),
    );
    fc.assert(
      fc.property(arb, (p) => {
        const pieces = p.sizes.map((n, k) => randomTensor("f32", p.shape.map((d, i) => (i === p.axis ? n : d)), p.seed + k));
        checkAgainstTfjs("concat", pieces, { axis: p.axis });
      }),
      FC,
    );
  });

  /** Broadcast-compatible operand shapes: drop leading dims of the result and set some dims to 1. */
  const broadcastArb = shapeArb(4, 4).chain((out) => {
    const operand = fc.record({ drop: fc.integer({ min: 0, max: out.length }), ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }) }).map(({ drop, ones }) =>
      out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
    );
    return fc.record({ lhs: operand, rhs: operand, seed: seedArb });
  });
  const binaryOps: readonly [OpName, Sampler, Sampler][] = [
    ["add", uniform(-3, 3), uniform(-3, 3)],
    ["sub", uniform(-3, 3), uniform(-3, 3)],
    ["mul", uniform(-3, 3), uniform(-3, 3)],
    ["div", uniform(-3, 3), uniform(0.25, 3)],
    ["pow", uniform(0.1, 3), uniform(-2, 2)],
    ["maximum", ints(-2, 2), ints(-2, 2)],
    ["minimum", ints(-2, 2), ints(-2, 2)],
    ["squared_difference", uniform(-3, 3), uniform(-3, 3)],
    ["less", ints(-2, 2), ints(-2, 2)],
    ["greater_equal", ints(-2, 2), ints(-2, 2)],
    ["equal", ints(-2, 2), ints(-2, 2)],
  ];
  for (const [op, lhs, rhs] of binaryOps) {
    it(`${op}: random broadcast-compatible shapes`, () => {
      fc.assert(
        fc.property(broadcastArb, (p) => void checkAgainstTfjs(op, [randomTensor("f32", p.lhs, p.seed, lhs), randomTensor("f32", p.rhs, p.seed + 1, rhs)])),
        { ...FC, numRuns: 25 },
      );
    });
  }
});
