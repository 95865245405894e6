// Traces a model file's export into a tensor-IR module: a LayersModel becomes `@predict` over its
// layer graph, a tf.function becomes a function over its inputSignature. Layer weights and
// variables the code reads become module parameters; captured concrete tensors become constants.

import { Module } from "../../ir/ir.js";
import { TfcError, type SourceLoc } from "../../ir/errors.js";
import { BATCH, type TensorType } from "../../ir/types.js";
import { TraceContext, withContext } from "../api/context.js";
import { LayersModel } from "../api/models.js";
import { isTfFunction, type FunctionInfo } from "../api/function.js";
import { Tensor, type Variable } from "../api/tensor.js";
import { toIRDType } from "../api/dtypes.js";
import { collectWarnings, type Warning } from "../api/warnings.js";
import { asLocatedError } from "./load.js";

export interface TracedExport {
  readonly module: Module;
  readonly kind: "model" | "function";
  /** The traced model, when the export is one (for summaries). */
  readonly model?: LayersModel;
}

/** Turn an export into IR. `fnName` names the function (`predict` for the default export). */
export function traceExport(value: unknown, exportName: string, fnName: string, warnings: Warning[] = [], exportLoc?: SourceLoc): TracedExport {
  try {
    return collectWarnings(warnings, () => {
      if (value instanceof LayersModel) return { module: traceModel(value, fnName), kind: "model" as const, model: value };
      if (isTfFunction(value)) return { module: traceFunction(value.__tfcFunction, fnName), kind: "function" as const };
      throw new TfcError(
        "TFC5002",
        `export '${exportName}' is ${describe(value)}; tfc compiles a model (tf.sequential, tf.model) or a tf.function`,
      );
    });
  } catch (e) {
    const err = asLocatedError(e, "TFC5006", `tracing '${exportName}' failed`);
    if (err instanceof TfcError) err.at(exportLoc);
    throw err;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "function") return "a plain function (wrap it in tf.function to compile it)";
  if (typeof v === "object") return `an object (${(v as object).constructor?.name ?? "Object"})`;
  return `a ${typeof v}`;
}

/**
 * Collects variables into module parameters, one per variable, with unique names; `names` (if
 * given) receives which variable became which parameter.
 */
export function paramDeclarer(module: Module, names = new Map<Variable, string>()): (v: Variable) => string {
  return (v) => {
    const known = names.get(v);
    if (known) return known;
    let name = v.name;
    for (let i = 1; module.params.has(name); i++) name = `${v.name}_${i}`;
    module.addParam({ name, type: v.irType, init: v.init, trainable: v.trainable });
    names.set(v, name);
    return name;
  };
}

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, "_");

export function traceModel(model: LayersModel, fnName: string): Module {
  if (model.inputs.length === 0) {
    throw new TfcError("TFC5003", `model '${model.name}' has no known input shape: give its first layer an inputShape, e.g. tf.layers.dense({units: 10, inputShape: [784]})`, {
      ...(model.createdAt ? { loc: model.createdAt } : {}),
    });
  }
  const module = new Module();
  const trace = new TraceContext(module, fnName, paramDeclarer(module));
  const args = model.inputs.map((s) => trace.arg(sanitize(s.name), s.irType));
  const outs = withContext(trace, () => model.run(args));
  const names = model.outputs.map((o, i) => (o.sourceLayer ? o.sourceLayer.name : `output_${i}`));
  module.functions.push(trace.builder.finish(outs.map((t) => trace.valueOf(t)), uniqueNames(names)));
  return module;
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
}

export function traceFunction(info: FunctionInfo, fnName: string): Module {
  const sig = info.inputSignature ?? [];
  if (info.fn.length > sig.length) {
    throw new TfcError(
      "TFC5004",
      `tf.function takes ${info.fn.length} argument(s) but its inputSignature describes ${sig.length}: give one tf.tensorSpec per argument, e.g. { inputSignature: [tf.tensorSpec([null, 784])] }`,
      locOpt(info.createdAt),
    );
  }
  const module = new Module();
  const trace = new TraceContext(module, fnName, paramDeclarer(module));
  const args = sig.map((spec, i) => {
    const type: TensorType = { dtype: toIRDType(spec.dtype ?? "float32"), shape: spec.shape.map((d) => (d === null ? BATCH : d)) };
    if (type.shape.slice(1).some((d) => d === BATCH)) {
      throw new TfcError("TFC5004", `inputSignature[${i}]: only the leading (batch) dimension may be null`, locOpt(info.createdAt));
    }
    return trace.arg(sanitize(spec.name ?? `x${sig.length > 1 ? i : ""}`), type);
  });
  const result = withContext(trace, () => info.fn(...args));
  const { tensors, names } = flattenResult(result, info.createdAt, trace.assigned.size > 0);
  const updates = trace.updateResults();
  module.functions.push(trace.builder.finish([...tensors.map((t) => trace.valueOf(t)), ...updates.values], [...names, ...updates.names]));
  return module;
}

function locOpt(loc: SourceLoc | undefined): { loc?: SourceLoc } {
  return loc ? { loc } : {};
}

function flattenResult(result: unknown, loc: SourceLoc | undefined, updates = false): { tensors: Tensor[]; names: string[] } {
  // A training step may return nothing: its effect is the variables it assigns.
  if (result === undefined && updates) return { tensors: [], names: [] };
  if (result instanceof Promise) {
    throw new TfcError("TFC5004", "a tf.function must return tensors synchronously (it returned a Promise)", locOpt(loc));
  }
  if (result instanceof Tensor) return { tensors: [result], names: ["output_0"] };
  if (Array.isArray(result) && result.every((t) => t instanceof Tensor)) {
    return { tensors: result, names: result.map((_, i) => `output_${i}`) };
  }
  if (result && typeof result === "object" && Object.values(result).every((t) => t instanceof Tensor)) {
    const entries = Object.entries(result as Record<string, Tensor>);
    return { tensors: entries.map(([, t]) => t), names: entries.map(([k]) => sanitize(k)) };
  }
  throw new TfcError("TFC5004", `a tf.function must return a tensor, an array of tensors or an object of tensors, got ${describe(result)}`, locOpt(loc));
}
