// The reference interpreter: runs tensor IR op by op on concrete host tensors. It is the oracle
// every compiled target is checked against, and the engine behind eager mode. Elementwise ops
// run their scalar body (compiled once per op, attributes and dtypes); decomposed ops run their
// decomposition; the rest run their own reference kernel.

import type { Func, Module } from "./ir.js";
import type { Attrs } from "./builder.js";
import { FuncBuilder, inferOpType, resolveAttrs } from "./builder.js";
import { Module as IRModule } from "./ir.js";
import { getOp } from "./ops/index.js";
import type { OpDef } from "./op-def.js";
import { ScalarBuilder, compileScalar } from "./scalar.js";
import { allocData, typeOfHost, type HostTensor } from "./tensor.js";
import { BATCH, formatShape, formatType, numElements, stridesOf, type TensorType } from "./types.js";
import { TfcError } from "./errors.js";
import { materialize } from "./initializers.js";
import { printAttrDict } from "./printer.js";

export type ParamValues = Map<string, HostTensor>;

/** Initial values of every parameter of a module. */
export function initialParams(module: Module): ParamValues {
  const values: ParamValues = new Map();
  for (const p of module.params.values()) values.set(p.name, materialize(p.init, p.type));
  return values;
}

/** Run a function on concrete inputs. Inputs are checked against the argument types first. */
export function interpret(module: Module, fn: Func, inputs: readonly HostTensor[], params: ParamValues = initialParams(module)): HostTensor[] {
  checkInputs(fn, inputs);
  const env = new Map<number, HostTensor>();
  fn.args.forEach((a, i) => env.set(a.id, inputs[i]!));
  for (const op of fn.body) {
    try {
      let value: HostTensor;
      if (op.name === "param") {
        const name = op.attrs["name"] as string;
        const v = params.get(name);
        if (!v) throw new TfcError("TFC4010", `no value for parameter '${name}'`);
        value = v;
      } else {
        value = evalOp(
          op.name,
          op.operands.map((o) => env.get(o.id)!),
          op.attrs,
        );
      }
      env.set(op.result.id, value);
    } catch (e) {
      if (e instanceof TfcError) e.at(op.loc);
      throw e;
    }
  }
  return fn.results.map((r) => env.get(r.id)!);
}

/** The input checks every entry point shares: count, dtype, rank, fixed dims, one batch size. */
export function checkInputs(fn: Func, inputs: readonly HostTensor[]): number | undefined {
  if (inputs.length !== fn.args.length) {
    throw new TfcError("TFC1010", `${fn.name} takes ${fn.args.length} input${fn.args.length === 1 ? "" : "s"}, got ${inputs.length}`);
  }
  let batch: number | undefined;
  fn.args.forEach((a, i) => {
    const t = inputs[i]!;
    const want = a.type;
    const name = a.name ?? `#${i}`;
    const bad = () =>
      new TfcError("TFC1011", `input '${name}' must have shape [${formatShape(want.shape)}] (${want.dtype}), got [${formatShape(t.shape)}] (${t.dtype})`);
    if (t.dtype !== want.dtype || t.shape.length !== want.shape.length) throw bad();
    want.shape.forEach((d, k) => {
      if (d === BATCH) {
        if (batch !== undefined && t.shape[k] !== batch) {
          throw new TfcError("TFC1012", `input '${name}' has batch size ${t.shape[k]}, but an earlier input has ${batch}`);
        }
        batch = t.shape[k];
      } else if (t.shape[k] !== d) throw bad();
    });
  });
  return batch;
}

/** Evaluate one op on concrete operands (eager mode and the interpreter both come here). */
export function evalOp(name: string, inputs: readonly HostTensor[], given: Attrs): HostTensor {
  const def = getOp(name);
  const attrs = resolveAttrs(def, given); // eager callers may leave attributes at their defaults
  const out = inferOpType(def, inputs.map(typeOfHost), attrs);
  switch (def.semantics) {
    case "scalar":
      return evalElementwise(def, inputs, attrs, out);
    case "decompose":
      return evalDecomposed(def, inputs, attrs);
    case "interpret":
      return def.interpret!(inputs, attrs as never, out);
  }
}

const scalarCache = new Map<string, (...xs: number[]) => number>();

function evalElementwise(def: OpDef, inputs: readonly HostTensor[], attrs: Attrs, out: TensorType): HostTensor {
  // printAttrDict is exact (NaN, ±Infinity, -0 stay distinct), so it keys the compiled body.
  const key = `${def.name}|${inputs.map((t) => t.dtype).join(",")}|${printAttrDict(attrs)}`;
  let fn = scalarCache.get(key);
  if (!fn) {
    const s = new ScalarBuilder();
    const expr = def.scalar!(s, inputs.map((t, i) => s.input(i, t.dtype)), attrs as never);
    fn = compileScalar(expr, inputs.length);
    scalarCache.set(key, fn);
  }
  const n = numElements(out.shape);
  const data = allocData(out.dtype, n);
  const rank = out.shape.length;
  // Fast paths: unary, and operands that all match the result's shape.
  if (inputs.every((t) => t.data.length === n)) {
    if (inputs.length === 1) {
      const x = inputs[0]!.data;
      for (let i = 0; i < n; i++) data[i] = fn(x[i]!);
    } else if (inputs.length === 2) {
      const x = inputs[0]!.data;
      const y = inputs[1]!.data;
      for (let i = 0; i < n; i++) data[i] = fn(x[i]!, y[i]!);
    } else {
      const arrs = inputs.map((t) => t.data);
      const args = new Array<number>(arrs.length);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < arrs.length; k++) args[k] = arrs[k]![i]!;
        data[i] = fn(...args);
      }
    }
    return { dtype: out.dtype, shape: [...out.shape], data };
  }
  // General broadcasting: per operand, strides with 0 along broadcast dimensions.
  const strides = inputs.map((t) => {
    const shape = [...new Array<number>(rank - t.shape.length).fill(1), ...t.shape];
    return stridesOf(shape).map((s, d) => (shape[d] === 1 ? 0 : s));
  });
  const offsets = new Array<number>(inputs.length).fill(0);
  const idx = new Array<number>(rank).fill(0);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k]!.data[offsets[k]!]!;
    data[i] = fn(...args);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < inputs.length; k++) offsets[k]! += strides[k]![d]!;
      if (idx[d]! < out.shape[d]!) break;
      for (let k = 0; k < inputs.length; k++) offsets[k]! -= strides[k]![d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return { dtype: out.dtype, shape: [...out.shape], data };
}

function evalDecomposed(def: OpDef, inputs: readonly HostTensor[], attrs: Attrs): HostTensor {
  const module = new IRModule();
  const b = new FuncBuilder(module, def.name);
  const args = inputs.map((t, i) => b.arg(`x${i}`, typeOfHost(t)));
  const result = def.decompose!(b, args, attrs as never);
  const fn = b.finish([result]);
  return interpret(module, fn, inputs, new Map())[0]!;
}

/** A readable one-line description of a host tensor's type, for error messages. */
export function describeHost(t: HostTensor): string {
  return formatType(typeOfHost(t));
}
