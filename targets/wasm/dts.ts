// The TypeScript declarations shipped next to model.js (see loader.ts): dtsSource(layout) writes
// model.d.ts with the model's typed signature, so `model.predict(x)` is checked against the inputs'
// typed-array types and its doc comments show each tensor's name and shape.

import type { TensorSpec, WasmLayout } from "./loader.js";

const ARRAY_TYPE = { float32: "Float32Array", int32: "Int32Array", bool: "Uint8Array" } as const;
const SHORT_DTYPE = { float32: "f32", int32: "i32", bool: "bool" } as const;

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false finally for function if " +
    "import in instanceof new null return super switch this throw true try typeof var void while with yield let static " +
    "implements interface package private protected public await arguments eval").split(" "),
);

/** The text of model.d.ts for `layout` (the same layout loaderSource was given). */
export function dtsSource(layout: WasmLayout): string {
  const { inputs, outputs } = layout.signature;
  const params = parameterNames(inputs);
  const paramList = inputs.map((t, i) => `${params[i]}: ${ARRAY_TYPE[t.dtype]}`).join(", ");
  const result = outputs.length === 1 ? ARRAY_TYPE[outputs[0]!.dtype] : `[${outputs.map((t) => ARRAY_TYPE[t.dtype]).join(", ")}]`;
  const describe = (t: TensorSpec, elements: { constant: number; perBatch: number }): string =>
    `${SHORT_DTYPE[t.dtype]}[${t.shape.map((d) => d ?? "?").join(",")}], ${article(ARRAY_TYPE[t.dtype])} of ${count(elements)}`;
  const inputDocs = inputs.map((t, i) => {
    const renamed = params[i] === t.name ? "" : `'${comment(t.name)}' `;
    return `   * @param ${params[i]} ${renamed}${describe(t, layout.inputs[i]!.elements)}`;
  });
  const outputDocs = outputs.map((t, i) => `   *   - ${comment(t.name)}: ${describe(t, layout.outputs[i]!.elements)}`);
  const returns = [`   * @returns ${outputs.length === 1 ? "the output" : "the outputs, in this order"}:`, ...outputDocs];
  const batchNote = layout.hasBatch
    ? `The batch is taken from the inputs' lengths (at most ${layout.maxBatch}).`
    : "The model has no batch dimension: each call runs one example.";

  return `// Types of ${comment(layout.name)}, compiled by tfc for WebAssembly (generated; do not edit).
// model.js is a dependency-free ES module for Node 20+ and browsers; ${layout.embeddedWeights ? "its weights are built into the wasm module" : "it reads its weights from the weights file"}.${
    layout.threads ? "\n// Threads build: parallel loops run on workers sharing the memory (browsers: cross-origin isolated pages only)." : ""
  }

/** Codes of TfcModelError: what went wrong, as the native runtime names it. */
export type TfcErrorCode =
  | "TFC_ERR_ARGUMENT"
  | "TFC_ERR_SHAPE"
  | "TFC_ERR_WEIGHTS"
  | "TFC_ERR_IO"
  | "TFC_ERR_MEMORY"
  | "TFC_ERR_INDEX"
  | "TFC_ERR_INTERNAL"
  | "TFC_ERR_NUMERICS";

/** Every error load() and the model throw; the message says what is wrong. */
export declare class TfcModelError extends Error {
  readonly name: "TfcModelError";
  readonly code: TfcErrorCode;
  constructor(code: TfcErrorCode, message: string, cause?: unknown);
}

/** Where load() gets a file: its bytes, a URL, or a path (Node) / URL relative to the page (browsers). */
export type ModelSource = ArrayBuffer | ArrayBufferView | URL | string;

export interface LoadOptions {
  /** The WebAssembly module; default: the wasm file next to model.js. */
  wasm?: ModelSource;
  /** The weights file (tfc TFCW format); default: ${layout.embeddedWeights ? "none, the weights are built in" : "the weights file next to model.js"}. */
  weights?: ModelSource;${
    layout.threads
      ? `
  /** Threads running parallel loops, the calling thread included (default: all cores); each other one is a worker. */
  threads?: number;`
      : ""
  }
}

/** The model's inputs and outputs (null: the batch dimension). */
export declare const signature: ${constType(layout.signature, "")};

export interface Model {
  readonly name: ${JSON.stringify(layout.name)};
  readonly signature: typeof signature;
  /** The largest batch one call accepts. */
  readonly maxBatch: number;${
    layout.threads
      ? `
  /** Threads that run parallel loops (the calling thread and threads − 1 workers). */
  readonly threads: number;`
      : ""
  }
  /**
   * Runs the model. ${batchNote}
${inputDocs.join("\n")}
${returns.join("\n")}
   * @throws TfcModelError (TFC_ERR_ARGUMENT, TFC_ERR_SHAPE, TFC_ERR_MEMORY, TFC_ERR_INDEX, ...)
   */
  predict(${paramList}): ${result};
  /** Like predict, with the batch given rather than taken from the inputs' lengths. */
  predictBatch(batch: number, ${paramList}): ${result};
  /** The model's parameters (weights${layout.updates.length ? "; this training step also updates its optimizer state" : ""}). */
  readonly parameters: readonly { name: string; dtype: "f32" | "i32" | "bool"; shape: number[] }[];
  /** A copy of a parameter's current value. */
  readParameter(name: string): Float32Array | Int32Array | Uint8Array;
  /** Overwrites a parameter (a typed array of its dtype and element count). */
  writeParameter(name: string, data: Float32Array | Int32Array | Uint8Array): void;
  /** true: a run whose outputs or parameter updates hold a NaN or infinity throws TFC_ERR_NUMERICS and updates nothing. */
  setCheckNumerics(on: boolean): void;
  /** Drops the WebAssembly instance${layout.threads ? " and terminates the workers" : ""}; later calls throw TFC_ERR_ARGUMENT. */
  dispose(): void;
}

/** Loads ${comment(layout.name)}: compiles the WebAssembly module and reads the weights. */
export declare function load(options?: LoadOptions): Promise<Model>;
`;
}

/** "4 × batch elements", "6 elements", "3 + 2 × batch elements". */
function count(size: { constant: number; perBatch: number }): string {
  if (size.perBatch === 0) return `${size.constant} element${size.constant === 1 ? "" : "s"}`;
  const perBatch = size.perBatch === 1 ? "batch" : `${size.perBatch} × batch`;
  return `${size.constant === 0 ? "" : `${size.constant} + `}${perBatch} elements`;
}

/** "an Int32Array", "a Float32Array". */
function article(word: string): string {
  return `${/^[AEIO]/.test(word) ? "an" : "a"} ${word}`;
}

/** Text safe inside a /* *\/ comment. */
function comment(text: string): string {
  return text.replace(/\*\//g, "*\\/");
}

/** Distinct valid parameter names for the inputs ("dense/x" → "dense_x"). */
function parameterNames(inputs: TensorSpec[]): string[] {
  const used = new Set<string>(["batch"]);
  return inputs.map((t) => {
    let base = t.name.replace(/[^A-Za-z0-9_$]/g, "_");
    if (base === "" || /^[0-9]/.test(base) || RESERVED.has(base)) base = `_${base}`;
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}${k}`;
    used.add(name);
    return name;
  });
}

/** The type `value as const` would have: readonly tuples and literal members. */
function constType(value: unknown, indent: string): string {
  if (value === null || typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => constType(v, `${indent}  `));
    const oneLine = `readonly [${items.join(", ")}]`;
    if (!oneLine.includes("\n") && oneLine.length <= 100) return oneLine;
    return `readonly [\n${items.map((s) => `${indent}  ${s},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `readonly ${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${constType(v, `${indent}  `)}`);
  const oneLine = `{ ${entries.join("; ")} }`;
  if (!oneLine.includes("\n") && oneLine.length <= 100) return oneLine;
  return `{\n${entries.map((s) => `${indent}  ${s};`).join("\n")}\n${indent}}`;
}
