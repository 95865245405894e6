// Gradients in TF.js's spelling — tf.grad, tf.grads, tf.valueAndGrad(s), tf.variableGrads — the
// counterpart of TensorFlow's GradientTape. The function is traced into IR and `autodiff` builds
// its gradient function; eagerly the interpreter runs it, inside a traced tf.function its ops are
// inlined (so custom training steps compile). Variables read become parameters, named.

import { Module, type Func, type Value } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { interpret, type ParamValues } from "../../ir/interpreter.js";
import { gradFunction } from "../../passes/autodiff.js";
import { currentUserLoc } from "../frontend/location.js";
import { paramDeclarer } from "../frontend/trace.js";
import { TraceContext, withContext, executingEagerly, currentContext } from "./context.js";
import { Tensor, Variable } from "./tensor.js";
import { convert, type TensorOrLike } from "./ops.js";

interface Differentiated {
  readonly value: Tensor;
  readonly grads: Tensor[];
  readonly variableGrads: Map<Variable, Tensor>;
}

function differentiate(f: (...xs: Tensor[]) => Tensor, xs: readonly Tensor[], dy: Tensor | undefined, variables: "trainable" | readonly Variable[]): Differentiated {
  const outer = executingEagerly() ? undefined : (currentContext() as TraceContext);
  const module = new Module();
  const read = new Map<Variable, string>();
  const trace = new TraceContext(module, "f", paramDeclarer(module, read));
  const args = xs.map((x, i) => trace.arg(`x${i}`, x.irType));
  trace.captureForeign = outer !== undefined;
  const y = withContext(trace, () => f(...args));
  if (!(y instanceof Tensor)) throw new TfcError("TFC5013", "the function passed to tf.grad must return a tensor", { loc: currentUserLoc() });
  const fn = trace.builder.finish([trace.valueOf(y)]);
  module.functions.push(fn);
  const wanted = variables === "trainable" ? [...read.keys()].filter((v) => v.trainable) : variables.filter((v) => read.has(v));
  const g = gradFunction(module, fn, { args: xs.map((_, i) => i), params: wanted.map((v) => read.get(v)!), seedArgument: dy !== undefined });
  if (outer) return inline(outer, g, [...xs, ...trace.captures], xs.length, dy, read, wanted);
  const params: ParamValues = new Map([...read].map(([v, name]) => [name, v.host!]));
  const inputs = [...xs.map((x) => x.concrete("tf.grad")), ...(dy ? [dy.concrete("tf.grad")] : [])];
  const [value, ...rest] = interpret(module, g, inputs, params).map((h) => Tensor.fromHost(h));
  const variableGrads = new Map<Variable, Tensor>();
  wanted.forEach((v, i) => variableGrads.set(v, rest[xs.length + i]!));
  return { value: value!, grads: rest.slice(0, xs.length), variableGrads };
}

/**
 * Inside a traced tf.function (a custom training step), the gradient function's ops are copied
 * into the function being traced, so the gradients compile with it to every target.
 */
function inline(outer: TraceContext, g: Func, inputs: readonly Tensor[], differentiated: number, dy: Tensor | undefined, read: Map<Variable, string>, wanted: readonly Variable[]): Differentiated {
  const byName = new Map([...read].map(([v, name]) => [name, v]));
  const map = new Map<Value, Value>();
  // g's arguments: the differentiated inputs, the captured enclosing tensors, then dy.
  g.args.forEach((a, i) => map.set(a, outer.valueOf(i < inputs.length ? inputs[i]! : dy!)));
  for (const op of g.body) {
    if (op.name === "param") {
      map.set(op.result, outer.valueOf(byName.get(op.attrs["name"] as string)!));
      continue;
    }
    map.set(op.result, outer.builder.op(op.name as never, op.operands.map((o) => map.get(o)!), op.attrs, op.loc));
  }
  const [value, ...rest] = g.results.map((r) => Tensor.fromTrace(outer, map.get(r)!));
  const variableGrads = new Map<Variable, Tensor>();
  wanted.forEach((v, i) => variableGrads.set(v, rest[differentiated + i]!));
  return { value: value!, grads: rest.slice(0, differentiated), variableGrads };
}

const asTensor = (x: TensorOrLike): Tensor => convert(x, "f32");

/** tf.grad(f)(x, dy?): the gradient of f at x (f of one tensor). */
export function grad(f: (x: Tensor) => Tensor): (x: TensorOrLike, dy?: TensorOrLike) => Tensor {
  return (x, dy) => differentiate(f as (...xs: Tensor[]) => Tensor, [asTensor(x)], dy === undefined ? undefined : asTensor(dy), []).grads[0]!;
}

/** tf.grads(f)(xs, dy?): gradients with respect to each argument. */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: TensorOrLike[], dy?: TensorOrLike) => Tensor[] {
  return (xs, dy) => differentiate(f, xs.map(asTensor), dy === undefined ? undefined : asTensor(dy), []).grads;
}

/** tf.valueAndGrad(f)(x, dy?): { value: f(x), grad }. */
export function valueAndGrad(f: (x: Tensor) => Tensor): (x: TensorOrLike, dy?: TensorOrLike) => { value: Tensor; grad: Tensor } {
  return (x, dy) => {
    const r = differentiate(f as (...xs: Tensor[]) => Tensor, [asTensor(x)], dy === undefined ? undefined : asTensor(dy), []);
    return { value: r.value, grad: r.grads[0]! };
  };
}

/** tf.valueAndGrads(f)(xs, dy?): { value, grads }. */
export function valueAndGrads(f: (...xs: Tensor[]) => Tensor): (xs: TensorOrLike[], dy?: TensorOrLike) => { value: Tensor; grads: Tensor[] } {
  return (xs, dy) => {
    const r = differentiate(f, xs.map(asTensor), dy === undefined ? undefined : asTensor(dy), []);
    return { value: r.value, grads: r.grads };
  };
}

/** tf.variableGrads keyed by the variables themselves (what optimizers and the training step need). */
export function variableGradsMap(f: () => Tensor, varList?: readonly Variable[]): { value: Tensor; grads: Map<Variable, Tensor> } {
  const r = differentiate(f, [], undefined, varList ?? "trainable");
  return { value: r.value, grads: r.variableGrads };
}

/** tf.variableGrads(f, varList?): the value of f() and the gradient of every trainable variable it reads, by name. */
export function variableGrads(f: () => Tensor, varList?: Variable[]): { value: Tensor; grads: Record<string, Tensor> } {
  const r = differentiate(f, [], undefined, varList ?? "trainable");
  const out: Record<string, Tensor> = {};
  for (const [v, g] of r.variableGrads) out[v.name] = g;
  return { value: r.value, grads: out };
}
