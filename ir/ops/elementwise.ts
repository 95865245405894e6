// Elementwise ops: each has a scalar body (the single definition of its arithmetic) and
// broadcasts its operands as TF.js does. The interpreter, fusion and every backend use the body.

import { defineOp, type VjpArgs } from "../op-def.js";
import type { FuncBuilder } from "../builder.js";
import type { Value } from "../ir.js";
import { isF32, scalar, sumToShape } from "./grad-helpers.js";
import { attr } from "../attrs.js";
import type { ScalarBuilder, SExpr } from "../scalar.js";
import { broadcastType, requireDType } from "./common.js";
import type { TensorType, DType } from "../types.js";

const FLOAT: readonly DType[] = ["f32"];
const NUMERIC: readonly DType[] = ["f32", "i32"];

function unaryType(op: string, allowed: readonly DType[]) {
  return ([x]: readonly TensorType[]): TensorType => {
    requireDType(op, x!, allowed);
    return { dtype: x!.dtype, shape: [...x!.shape] };
  };
}

function binaryType(op: string, allowed: readonly DType[], resultDType?: DType) {
  return (inputs: readonly TensorType[]): TensorType => {
    const t = broadcastType(op, inputs, resultDType);
    requireDType(op, inputs[0]!, allowed);
    return t;
  };
}

// ---- gradients ---------------------------------------------------------------------------------
// VJPs build their gradients from other ops. Semantics follow TF.js's gradients: relu'(0) = 0,
// abs'(0) = 0, maximum sends a tie's gradient to `lhs` (lhs >= rhs), minimum likewise (lhs <= rhs),
// floor's gradient is zero (mul by 0), and integer or bool operands get null (not differentiable).

/** dL/dx of a unary op from x, its result y and the result's gradient g (all of x's type). */
type UnaryVjp = (b: FuncBuilder, x: Value, y: Value, g: Value, attrs: never) => Value;
/** dL/dlhs and dL/drhs at the result's (broadcast) shape; the wrapper sums them back to each operand. */
type BinaryVjp = (b: FuncBuilder, x: Value, y: Value, out: Value, g: Value) => [Value, Value];

function unaryVjp(f: UnaryVjp) {
  return (b: FuncBuilder, { inputs, output, grad, attrs }: VjpArgs<unknown>): (Value | null)[] =>
    isF32(inputs[0]!) ? [f(b, inputs[0]!, output, grad, attrs as never)] : [null];
}

function binaryVjp(f: BinaryVjp) {
  return (b: FuncBuilder, { inputs, output, grad }: VjpArgs<unknown>): (Value | null)[] => {
    const [x, y] = inputs as [Value, Value];
    if (!isF32(x) || !isF32(y)) return [null, null];
    const [gx, gy] = f(b, x, y, output, grad);
    return [sumToShape(b, gx, x.type), sumToShape(b, gy, y.type)];
  };
}

/** Comparisons: bool results, nothing to differentiate. */
const noGradient = (_: FuncBuilder, { inputs }: VjpArgs<unknown>): (Value | null)[] => inputs.map(() => null);

const k = (b: FuncBuilder, v: number): Value => scalar(b, v);
const op1 = (b: FuncBuilder, name: "neg" | "abs" | "exp" | "tanh" | "sigmoid" | "log", x: Value): Value => b.op(name, [x]);
/** g where cond holds, 0 elsewhere. */
const gateGrad = (b: FuncBuilder, cond: Value, g: Value): Value => b.op("select", [cond, g, k(b, 0)]);
const positive = (b: FuncBuilder, x: Value): Value => b.op("greater", [x, k(b, 0)]);

/** Define a unary float op from its body: `%1 = name %0 : f32[4]`. */
function unaryFloat(name: string, summary: string, body: (s: ScalarBuilder, x: SExpr) => SExpr, vjp?: UnaryVjp) {
  return defineOp({
    name,
    summary: `${summary}: \`%1 = ${name} %0 : f32[4]\``,
    operands: ["x"],
    traits: ["pure", "elementwise"],
    type: unaryType(name, FLOAT),
    scalar: (s, [x]) => body(s, x!),
    ...(vjp ? { vjp: unaryVjp(vjp) } : {}),
  });
}

function binary(
  name: string,
  summary: string,
  allowed: readonly DType[],
  body: (s: ScalarBuilder, x: SExpr, y: SExpr) => SExpr,
  commutative = false,
  vjp?: BinaryVjp,
) {
  return defineOp({
    name,
    summary: `${summary} with broadcasting: \`%2 = ${name} %0, %1 : f32[4]\``,
    operands: ["lhs", "rhs"],
    traits: commutative ? ["pure", "elementwise", "commutative"] : ["pure", "elementwise"],
    type: binaryType(name, allowed),
    scalar: (s, [x, y]) => body(s, x!, y!),
    ...(vjp ? { vjp: binaryVjp(vjp) } : {}),
  });
}

function comparison(name: string, summary: string, body: (s: ScalarBuilder, x: SExpr, y: SExpr) => SExpr) {
  return defineOp({
    name,
    summary: `${summary}, a bool tensor: \`%2 = ${name} %0, %1 : bool[4]\``,
    operands: ["lhs", "rhs"],
    traits: ["pure", "elementwise"],
    type: binaryType(name, ["f32", "i32", "bool"], "bool"),
    scalar: (s, [x, y]) => body(s, x!, y!),
    vjp: noGradient,
  });
}

// Abramowitz & Stegun 7.1.26 (max error 1.5e-7), the same formula as TF.js's erf kernel.
function erf(s: ScalarBuilder, x: SExpr): SExpr {
  const c = (v: number) => s.const(v);
  const ax = s.abs(x);
  const t = s.div(c(1), s.add(c(1), s.mul(c(0.3275911), ax)));
  let poly = c(1.061405429);
  for (const k of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) poly = s.add(s.mul(poly, t), c(k));
  poly = s.mul(poly, t);
  const y = s.sub(c(1), s.mul(poly, s.exp(s.neg(s.mul(ax, ax)))));
  return s.select(s.lt(x, c(0)), s.neg(y), y);
}

function sigmoid(s: ScalarBuilder, x: SExpr): SExpr {
  return s.div(s.const(1), s.add(s.const(1), s.exp(s.neg(x))));
}

const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_ALPHA = 1.6732632423543772848170429916717;

export const add = binary("add", "Elementwise sum", NUMERIC, (s, x, y) => s.add(x, y), true, (_b, _x, _y, _o, g): [Value, Value] => [g, g]);
export const sub = binary("sub", "Elementwise difference", NUMERIC, (s, x, y) => s.sub(x, y), false, (b, _x, _y, _o, g): [Value, Value] => [g, op1(b, "neg", g)]);
export const mul = binary("mul", "Elementwise product", NUMERIC, (s, x, y) => s.mul(x, y), true, (b, x, y, _o, g): [Value, Value] => [
  b.op("mul", [g, y]),
  b.op("mul", [g, x]),
]);
/** f32 division; i32 division floors, as TF.js `div` does on int32 tensors. */
export const div = binary("div", "Elementwise quotient", NUMERIC, (s, x, y) => s.div(x, y), false, (b, _x, y, out, g): [Value, Value] => [
  b.op("div", [g, y]),
  b.op("neg", [b.op("div", [b.op("mul", [g, out]), y])]), // -g·x/y² = -g·out/y
]);
export const pow = binary("pow", "Elementwise power x^y", NUMERIC, (s, x, y) => s.pow(x, y), false, (b, x, y, out, g): [Value, Value] => [
  // d/dx = y·x^(y-1); d/dy = x^y·log x, taken as 0 where x <= 0 (as TF.js does).
  b.op("mul", [g, b.op("mul", [y, b.op("pow", [x, b.op("sub", [y, k(b, 1)])])])]),
  b.op("mul", [b.op("mul", [g, out]), b.op("select", [positive(b, x), op1(b, "log", x), k(b, 0)])]),
]);
export const maximum = binary("maximum", "Elementwise maximum (NaN-propagating)", NUMERIC, (s, x, y) => s.max(x, y), true, (b, x, y, _o, g): [Value, Value] => {
  const toLhs = b.op("greater_equal", [x, y]); // ties go to lhs, as in TF.js
  return [gateGrad(b, toLhs, g), b.op("select", [toLhs, k(b, 0), g])];
});
export const minimum = binary("minimum", "Elementwise minimum (NaN-propagating)", NUMERIC, (s, x, y) => s.min(x, y), true, (b, x, y, _o, g): [Value, Value] => {
  const toLhs = b.op("less_equal", [x, y]); // ties go to lhs, as in TF.js
  return [gateGrad(b, toLhs, g), b.op("select", [toLhs, k(b, 0), g])];
});
export const squared_difference = binary("squared_difference", "Elementwise (x - y)^2", NUMERIC, (s, x, y) => {
  const d = s.sub(x, y);
  return s.mul(d, d);
}, true, (b, x, y, _o, g): [Value, Value] => {
  const d = b.op("mul", [g, b.op("mul", [k(b, 2), b.op("sub", [x, y])])]);
  return [d, op1(b, "neg", d)];
});

export const neg = defineOp({
  name: "neg",
  summary: "Elementwise negation: `%1 = neg %0 : f32[4]`",
  operands: ["x"],
  traits: ["pure", "elementwise"],
  type: unaryType("neg", NUMERIC),
  scalar: (s, [x]) => s.neg(x!),
  vjp: unaryVjp((b, _x, _y, g): Value => op1(b, "neg", g)),
});
export const abs = defineOp({
  name: "abs",
  summary: "Elementwise absolute value: `%1 = abs %0 : f32[4]`",
  operands: ["x"],
  traits: ["pure", "elementwise"],
  type: unaryType("abs", NUMERIC),
  scalar: (s, [x]) => s.abs(x!),
  // g·step(x, -1): g where x > 0, else -g — abs'(0) = -1, as TF.js's abs gradient has it.
  vjp: unaryVjp((b, x, _y, g): Value => b.op("select", [positive(b, x), g, op1(b, "neg", g)])),
});
export const square = defineOp({
  name: "square",
  summary: "Elementwise x*x: `%1 = square %0 : f32[4]`",
  operands: ["x"],
  traits: ["pure", "elementwise"],
  type: unaryType("square", NUMERIC),
  scalar: (s, [x]) => s.mul(x!, x!),
  vjp: unaryVjp((b, x, _y, g): Value => b.op("mul", [g, b.op("mul", [x, k(b, 2)])])),
});

export const sqrt = unaryFloat("sqrt", "Elementwise square root", (s, x) => s.sqrt(x), (b, _x, y, g): Value => b.op("div", [g, b.op("mul", [y, k(b, 2)])]));
export const rsqrt = unaryFloat("rsqrt", "Elementwise 1/sqrt(x)", (s, x) => s.div(s.const(1), s.sqrt(x)), (b, x, y, g): Value => b.op("mul", [g, b.op("mul", [k(b, -0.5), b.op("div", [y, x])])]));
export const exp = unaryFloat("exp", "Elementwise e^x", (s, x) => s.exp(x), (b, _x, y, g): Value => b.op("mul", [g, y]));
export const log = unaryFloat("log", "Elementwise natural logarithm", (s, x) => s.log(x), (b, x, _y, g): Value => b.op("div", [g, x]));
export const floor = unaryFloat("floor", "Elementwise floor", (s, x) => s.floor(x), (b, _x, _y, g): Value => b.op("mul", [g, k(b, 0)]));
export const tanh = unaryFloat("tanh", "Elementwise hyperbolic tangent", (s, x) => s.tanh(x), (b, _x, y, g): Value => b.op("mul", [g, b.op("sub", [k(b, 1), b.op("mul", [y, y])])]));
export const sigmoid_ = unaryFloat("sigmoid", "Elementwise logistic 1/(1+e^-x)", sigmoid, (b, _x, y, g): Value => b.op("mul", [g, b.op("mul", [y, b.op("sub", [k(b, 1), y])])]));
// relu's gate reads its output (y > 0 exactly when x > 0), so the input need not outlive the forward
// pass: a matmul + bias + relu stays one fused kernel in a training step.
export const relu = unaryFloat("relu", "Elementwise max(x, 0)", (s, x) => s.max(x, s.const(0)), (b, _x, y, g): Value => gateGrad(b, positive(b, y), g));
export const relu6 = unaryFloat("relu6", "Elementwise min(max(x, 0), 6)", (s, x) => s.min(s.max(x, s.const(0)), s.const(6)), (b, x, _y, g): Value => gateGrad(b, b.op("logical_and", [positive(b, x), b.op("less_equal", [x, k(b, 6)])]), g));
export const elu = unaryFloat("elu", "Elementwise x > 0 ? x : e^x - 1", (s, x) =>
  s.select(s.gt(x, s.const(0)), x, s.sub(s.exp(x), s.const(1))), (b, x, y, g): Value => b.op("select", [positive(b, x), g, b.op("mul", [g, b.op("add", [y, k(b, 1)])])]),
);
export const selu = unaryFloat("selu", "Elementwise scaled ELU (Klambauer et al.)", (s, x) =>
  s.select(
    s.gt(x, s.const(0)),
    s.mul(s.const(SELU_SCALE), x),
    s.mul(s.const(SELU_SCALE * SELU_ALPHA), s.sub(s.exp(x), s.const(1))),
  ), (b, x, _y, g): Value =>
    b.op("select", [positive(b, x), b.op("mul", [g, k(b, SELU_SCALE)]), b.op("mul", [g, b.op("mul", [k(b, SELU_SCALE * SELU_ALPHA), op1(b, "exp", x)])])]),
);
export const softsign = unaryFloat("softsign", "Elementwise x / (1 + |x|)", (s, x) => s.div(x, s.add(s.const(1), s.abs(x))), (b, x, _y, g): Value => {
    const d = b.op("add", [k(b, 1), op1(b, "abs", x)]);
    return b.op("div", [g, b.op("mul", [d, d])]);
  });
/** log(1 + e^x), switching to e^x or x at the ends of the range exactly as TF.js's kernel does. */
export const softplus = unaryFloat("softplus", "Elementwise log(1 + e^x), overflow-safe", (s, x) => {
  const threshold = Math.log(1.1920928955078125e-7) + 2.0;
  const ex = s.exp(x);
  return s.select(s.lt(x, s.const(threshold)), ex, s.select(s.gt(x, s.const(-threshold)), x, s.log(s.add(s.const(1), ex))));
}, (b, x, _y, g): Value => b.op("mul", [g, op1(b, "sigmoid", x)]),
);

export const leaky_relu = defineOp({
  name: "leaky_relu",
  summary: "Elementwise x > 0 ? x : alpha*x: `%1 = leaky_relu %0 {alpha=0.2} : f32[4]`",
  operands: ["x"],
  attrs: { alpha: attr.float(0.2) },
  traits: ["pure", "elementwise"],
  type: unaryType("leaky_relu", FLOAT),
  scalar: (s, [x], { alpha }) => s.select(s.gt(x!, s.const(0)), x!, s.mul(s.const(alpha), x!)),
  vjp: (b, { inputs: [x], grad: g, attrs: { alpha } }): (Value | null)[] => [b.op("select", [positive(b, x!), g, b.op("mul", [g, k(b, alpha)])])],
});

/** GELU; exact form x·Φ(x) with Φ through erf (TF.js 'gelu'), or the tanh approximation ('gelu_new'). */
export const gelu = defineOp({
  name: "gelu",
  summary: "Elementwise Gaussian error linear unit: `%1 = gelu %0 {approximate=false} : f32[4]`",
  operands: ["x"],
  attrs: { approximate: attr.bool(false) },
  traits: ["pure", "elementwise"],
  type: unaryType("gelu", FLOAT),
  scalar: (s, [x], { approximate }) => {
    const c = (v: number) => s.const(v);
    if (approximate) {
      const inner = s.mul(c(Math.sqrt(2 / Math.PI)), s.add(x!, s.mul(c(0.044715), s.mul(x!, s.mul(x!, x!)))));
      return s.mul(s.mul(c(0.5), x!), s.add(c(1), s.tanh(inner)));
    }
    return s.mul(x!, s.mul(c(0.5), s.add(c(1), erf(s, s.div(x!, c(Math.SQRT2))))));
  },
  vjp: (b, { inputs: [x], output: y, grad: g, attrs: { approximate } }): (Value | null)[] => {
    const mul = (p: Value, q: Value) => b.op("mul", [p, q]);
    const add = (p: Value, q: Value) => b.op("add", [p, q]);
    const x2 = mul(x!, x!);
    if (approximate) {
      // y = 0.5·x·(1 + t), t = tanh(u), u = c·(x + 0.044715·x³):
      // y' = 0.5·(1 + t) + 0.5·x·(1 - t²)·c·(1 + 3·0.044715·x²).
      const c = Math.sqrt(2 / Math.PI);
      const t = op1(b, "tanh", mul(k(b, c), add(x!, mul(k(b, 0.044715), mul(x!, x2)))));
      const du = mul(k(b, c), add(k(b, 1), mul(k(b, 3 * 0.044715), x2)));
      const dt = mul(b.op("sub", [k(b, 1), mul(t, t)]), du);
      return [mul(g, mul(k(b, 0.5), add(add(k(b, 1), t), mul(x!, dt))))];
    }
    // y = x·Φ(x), y' = Φ(x) + x·φ(x) with φ(x) = exp(-x²/2)/sqrt(2π). Φ is recovered as y/x
    // (y is x·Φ rounded once), with Φ(0) = 1/2; no erf op is needed.
    const zero = b.op("equal", [x!, k(b, 0)]);
    const phiCdf = b.op("select", [zero, k(b, 0.5), b.op("div", [y, b.op("select", [zero, k(b, 1), x!])])]);
    const pdf = mul(k(b, 1 / Math.sqrt(2 * Math.PI)), op1(b, "exp", mul(k(b, -0.5), x2)));
    return [mul(g, add(phiCdf, mul(x!, pdf)))];
  },
});

export const equal = comparison("equal", "Elementwise x == y", (s, x, y) => s.eq(x, y));
export const not_equal = comparison("not_equal", "Elementwise x != y", (s, x, y) => s.ne(x, y));
export const less = comparison("less", "Elementwise x < y", (s, x, y) => s.lt(x, y));
export const less_equal = comparison("less_equal", "Elementwise x <= y", (s, x, y) => s.le(x, y));
export const greater = comparison("greater", "Elementwise x > y", (s, x, y) => s.gt(x, y));
export const greater_equal = comparison("greater_equal", "Elementwise x >= y", (s, x, y) => s.ge(x, y));

export const logical_and = binary("logical_and", "Elementwise boolean and", ["bool"], (s, x, y) => s.and(x, y), true);
export const logical_or = binary("logical_or", "Elementwise boolean or", ["bool"], (s, x, y) => s.or(x, y), true);
export const logical_not = defineOp({
  name: "logical_not",
  summary: "Elementwise boolean not: `%1 = logical_not %0 : bool[4]`",
  operands: ["x"],
  traits: ["pure", "elementwise"],
  type: unaryType("logical_not", ["bool"]),
  scalar: (s, [x]) => s.not(x!),
});

/** TF.js `where(cond, a, b)`: picks from a where cond is true, all three broadcast together. */
export const select = defineOp({
  name: "select",
  summary: "Elementwise cond ? a : b with broadcasting: `%3 = select %0, %1, %2 : f32[4]`",
  operands: ["cond", "lhs", "rhs"],
  traits: ["pure", "elementwise"],
  type: ([c, a, b]) => {
    requireDType("select", c!, ["bool"], "condition");
    const t = broadcastType("select", [a!, b!]);
    return broadcastType("select", [{ dtype: t.dtype, shape: c!.shape }, t]);
  },
  scalar: (s, [c, a, b]) => s.select(c!, a!, b!),
  // The condition routes the gradient: to lhs where it holds, to rhs elsewhere.
  vjp: (b, { inputs: [c, x, y], grad: g }): (Value | null)[] => {
    if (!isF32(x!)) return [null, null, null];
    return [null, sumToShape(b, gateGrad(b, c!, g), x!.type), sumToShape(b, b.op("select", [c!, k(b, 0), g]), y!.type)];
  },
});

export const cast = defineOp({
  name: "cast",
  summary: "Elementwise dtype conversion (f32→i32 truncates, x≠0 → true): `%1 = cast %0 {dtype=i32} : i32[4]`",
  operands: ["x"],
  attrs: { dtype: attr.dtype() },
  traits: ["pure", "elementwise"],
  type: ([x], { dtype }) => ({ dtype, shape: [...x!.shape] }),
  scalar: (s, [x], { dtype }) => s.cast(x!, dtype),
  // Only an f32 → f32 cast carries a gradient (the identity); casts to or from i32/bool do not.
  vjp: (_b, { inputs: [x], grad, attrs: { dtype } }): (Value | null)[] => [isF32(x!) && dtype === "f32" ? grad : null],
});
