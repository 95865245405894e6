// Reads prediction inputs for `tfc predict`: TensorFlow Serving's REST request bodies
// (`{"instances": [...]}` rows, `{"inputs": ...}` columns) or a bare nested array, checked
// against the function's signature with messages that say what is wrong and where.

import * as fs from "node:fs";
import type { Func } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { flattenNested, hostTensor, toNested, type HostTensor } from "../../ir/tensor.js";
import { BATCH, formatShape } from "../../ir/types.js";

export function readInputFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new TfcError("TFC1020", `cannot read input file '${file}': ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TfcError("TFC1021", `input file '${file}' is not valid JSON: ${(e as Error).message}`, {
      notes: ['expected {"instances": [...]} (one entry per example) or a nested array'],
    });
  }
}

/** Turn a request body into one host tensor per function argument. */
export function requestToInputs(body: unknown, fn: Func): HostTensor[] {
  if (fn.args.length === 0) return [];
  const obj = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (obj && !("instances" in obj) && !("inputs" in obj)) {
    throw new TfcError("TFC1022", `the request must have "instances" (rows) or "inputs" (columns), got keys ${Object.keys(obj).map((k) => JSON.stringify(k)).join(", ") || "(none)"}`);
  }
  if (obj && "inputs" in obj) return columnsToInputs(obj["inputs"], fn);
  const instances = obj ? obj["instances"] : body;
  if (!Array.isArray(instances)) throw new TfcError("TFC1022", `"instances" must be an array with one entry per example`);
  if (fn.args.length === 1) return [toArgTensor(instances, fn, 0, "instances")];
  // Several inputs: each instance is an object keyed by input name.
  return fn.args.map((a, i) => {
    const rows = instances.map((inst, r) => {
      if (!inst || typeof inst !== "object" || Array.isArray(inst) || !(a.name! in (inst as object))) {
        throw new TfcError("TFC1022", `instances[${r}] must be an object with a value for each input (${fn.args.map((x) => x.name).join(", ")})`);
      }
      return (inst as Record<string, unknown>)[a.name!];
    });
    return toArgTensor(rows, fn, i, `instances[*].${a.name}`);
  });
}

function columnsToInputs(inputs: unknown, fn: Func): HostTensor[] {
  if (fn.args.length === 1 && (Array.isArray(inputs) || typeof inputs === "number")) return [toArgTensor(inputs, fn, 0, "inputs")];
  if (!inputs || typeof inputs !== "object") throw new TfcError("TFC1022", `"inputs" must be a tensor or an object keyed by input name`);
  return fn.args.map((a, i) => {
    const v = (inputs as Record<string, unknown>)[a.name!];
    if (v === undefined) throw new TfcError("TFC1022", `"inputs" has no value for input '${a.name}'`);
    return toArgTensor(v, fn, i, `inputs.${a.name}`);
  });
}

function toArgTensor(value: unknown, fn: Func, index: number, what: string): HostTensor {
  const arg = fn.args[index]!;
  const want = arg.type;
  const { shape, values } = flattenNested(value, what);
  const matches = shape.length === want.shape.length && want.shape.every((d, k) => d === BATCH || d === shape[k]);
  if (!matches) {
    const example = want.shape[0] === BATCH ? ` (${shape[0] ?? 0} example(s) of shape [${formatShape(want.shape.slice(1))}])` : "";
    throw new TfcError("TFC1011", `input '${arg.name}' must have shape [${formatShape(want.shape)}]${example}, but ${what} has shape [${shape.join(",")}]`);
  }
  if (want.dtype === "f32") {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new TfcError("TFC1023", `${what} holds a non-finite number at flat index ${bad}`);
  }
  if (want.dtype === "i32" && values.some((v) => !Number.isInteger(v))) {
    throw new TfcError("TFC1023", `input '${arg.name}' is int32, but ${what} holds a non-integer`);
  }
  return hostTensor(want.dtype, shape, values);
}

/** Shortest decimal that reads back as the same float32. */
export function shortestF32(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  for (let p = 6; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return Number(x.toPrecision(9));
}

/** TF Serving's response: rows when every output has a batch dimension, else columns. */
export function outputsToResponse(outputs: readonly HostTensor[], fn: Func): { predictions: unknown } {
  const nested = outputs.map((t) => roundF32(toNested(t), t.dtype === "f32"));
  if (outputs.length === 1) return { predictions: nested[0] };
  const batched = fn.results.every((r) => r.type.shape[0] === BATCH);
  if (batched) {
    const n = outputs[0]!.shape[0]!;
    const rows = Array.from({ length: n }, (_, r) => Object.fromEntries(fn.resultNames.map((name, k) => [name, (nested[k] as unknown[])[r]])));
    return { predictions: rows };
  }
  return { predictions: Object.fromEntries(fn.resultNames.map((name, k) => [name, nested[k]])) };
}

function roundF32(v: unknown, f32: boolean): unknown {
  if (!f32) return v;
  if (Array.isArray(v)) return v.map((x) => roundF32(x, true));
  return typeof v === "number" ? shortestF32(v) : v;
}
