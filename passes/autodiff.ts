/**
 * autodiff — reverse-mode differentiation of a function. Requires verified SSA. Builds a new
 * function that recomputes the forward ops and returns [output, ∂output/∂wrt…], where `wrt` are
 * arguments and parameters. Decompositions are expanded first, so every op met has a VJP
 * (ir/ops, the `vjp` slot); gradients flowing into the same value are summed. The output's
 * seed gradient is `dy` (an extra argument) or ones. Used by tf.grad & co. and, next, train_step.
 */

import { FuncBuilder } from "../ir/builder.js";
import { TfcError } from "../ir/errors.js";
import type { Func, Module, Op, Value } from "../ir/ir.js";
import { getOp } from "../ir/ops/index.js";
import { hostTensor } from "../ir/tensor.js";
import { formatType, sameType, isStatic, type TensorType } from "../ir/types.js";
import { expandDecompositions } from "./lower/expand.js";

export interface GradientRequest {
  /** Indices of the arguments to differentiate with respect to. */
  readonly args?: readonly number[];
  /** Names of the parameters to differentiate with respect to. */
  readonly params?: readonly string[];
  /** Take the output's gradient as an extra last argument `dy` (TF.js's dy); else ones. */
  readonly seedArgument?: boolean;
  /** Which result to differentiate (default 0). */
  readonly output?: number;
}

const isFloat = (t: TensorType) => t.dtype === "f32";

/** Build `<fn>_grad(args…[, dy]) -> (output, grads…)` in `module` and return it. */
export function gradFunction(module: Module, fn: Func, request: GradientRequest, name = `${fn.name}_grad`): Func {
  const forward = cloneFunc(module, fn);
  expandDecompositions(module, forward);
  const b = new FuncBuilder(module, name);
  const map = new Map<Value, Value>();
  forward.args.forEach((a) => map.set(a, b.arg(a.name ?? `x${a.id}`, a.type)));
  for (const op of forward.body) {
    b.loc = op.loc;
    map.set(op.result, b.op(op.name as never, op.operands.map((o) => map.get(o)!), op.attrs, op.loc));
  }
  const output = forward.results[request.output ?? 0]!;
  const out = map.get(output)!;
  if (!isFloat(out.type)) throw new TfcError("TFC2020", `cannot differentiate a ${formatType(out.type)} result: gradients need float32 values`);

  // Seed: dy, or ones shaped like the output.
  let seed: Value;
  if (request.seedArgument) seed = b.arg("dy", out.type);
  else if (isStatic(out.type.shape)) seed = b.constant(fill(out.type, 1));
  else seed = b.op("add", [b.op("mul", [out, b.constant(hostTensor("f32", [], [0]))]), b.constant(hostTensor("f32", [], [1]))]);

  const grads = new Map<Value, Value>(); // forward value (new) → accumulated gradient
  grads.set(out, seed);
  const accumulate = (v: Value, g: Value) => {
    if (!sameType(v.type, g.type)) {
      throw new TfcError("TFC4120", `internal: a VJP produced ${formatType(g.type)} for an operand of type ${formatType(v.type)}`);
    }
    const known = grads.get(v);
    grads.set(v, known ? b.op("add", [known, g]) : g);
  };

  const ops: Op[] = [...b.body];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    const g = grads.get(op.result);
    if (!g || op.operands.length === 0) continue;
    const def = getOp(op.name);
    if (!op.operands.some((o) => isFloat(o.type))) continue;
    if (!def.vjp) {
      throw new TfcError("TFC3011", `tfc cannot differentiate '${op.name}' yet (it has no gradient rule)`, op.loc ? { loc: op.loc } : {});
    }
    b.loc = op.loc;
    const operandGrads = def.vjp(b, { inputs: op.operands, output: op.result, grad: g, attrs: op.attrs as never });
    op.operands.forEach((o, k) => {
      const og = operandGrads[k];
      if (og && isFloat(o.type)) accumulate(o, og);
    });
  }

  const zerosLike = (v: Value): Value =>
    isStatic(v.type.shape) ? b.constant(fill(v.type, 0)) : b.op("mul", [v, b.constant(hostTensor("f32", [], [0]))]);
  const results: Value[] = [out];
  const names: string[] = [fn.resultNames[request.output ?? 0] ?? "output"];
  for (const i of request.args ?? []) {
    const a = b.args[i]!;
    if (!isFloat(a.type)) throw new TfcError("TFC2020", `cannot differentiate with respect to argument '${a.name}' of type ${formatType(a.type)}: it must be float32`);
    results.push(grads.get(a) ?? zerosLike(a));
    names.push(`grad_${a.name ?? i}`);
  }
  for (const p of request.params ?? []) {
    const reads = b.body.filter((op) => op.name === "param" && op.attrs["name"] === p);
    let total: Value | undefined;
    for (const r of reads) {
      const g = grads.get(r.result);
      if (g) total = total ? b.op("add", [total, g]) : g;
    }
    const param = module.params.get(p);
    if (!param) throw new TfcError("TFC4010", `no parameter named '${p}'`);
    results.push(total ?? b.constant(fill(param.type, 0)));
    names.push(`grad_${p}`);
  }
  const grad = b.finish(results, names);
  module.functions.push(grad);
  return grad;
}

function fill(t: TensorType, value: number) {
  const h = hostTensor(t.dtype, t.shape);
  h.data.fill(value);
  return h;
}

/** A copy of a function's ops (same values are re-created), so expanding it leaves `fn` untouched. */
function cloneFunc(module: Module, fn: Func): Func {
  const b = new FuncBuilder(module, fn.name);
  const map = new Map<Value, Value>();
  fn.args.forEach((a) => map.set(a, b.arg(a.name ?? `x${a.id}`, a.type)));
  for (const op of fn.body) map.set(op.result, b.op(op.name as never, op.operands.map((o) => map.get(o)!), op.attrs, op.loc));
  return b.finish(fn.results.map((r) => map.get(r)!), fn.resultNames);
}
