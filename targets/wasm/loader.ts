// The JavaScript half of the WebAssembly target: loaderSource(layout) writes model.js, the
// dependency-free ES module users import (Node 20 and browsers). It loads model.wasm and the TFCW
// weights, checks every input, grows memory per batch, runs the model and turns failures into errors.
// With layout.threads it writes the threads build's model.js: shared memory and a pool of workers.

import { CONTROL_LENGTH, CONTROL_WORDS } from "./worker.js";

/** One input or output of the model as users see it; null dimensions are the batch. */
export interface TensorSpec {
  name: string;
  dtype: "float32" | "int32" | "bool";
  shape: (number | null)[];
}

/** A size that depends on the batch n: constant + perBatch·n. */
export interface BatchLinear {
  constant: number;
  perBatch: number;
}

/** Where the generated module keeps everything; emit.ts writes it and both model.js and model.d.ts read it. */
export interface WasmLayout {
  /** Model name (C-identifier-like). */
  name: string;
  signature: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  /** Bytes [0, staticBytes) hold params and constants (64-aligned); dynamic buffers start at staticBytes. */
  staticBytes: number;
  /** Bytes after staticBytes a batch of n needs. */
  dynamicBytes: BatchLinear;
  /** Per input: byte offset relative to staticBytes, and element count. */
  inputs: { offset: BatchLinear; elements: BatchLinear }[];
  outputs: { offset: BatchLinear; elements: BatchLinear }[];
  /**
   * Parameters each run updates (a training step): the update output's place (like outputs', not
   * part of the signature) and the index in `weights` it is copied to after a successful run.
   */
  updates: { offset: BatchLinear; weight: number }[];
  /** Absolute byte offset in memory of each param and constant the weights file fills. */
  weights: { name: string; dtype: "f32" | "i32" | "bool"; shape: number[]; offset: number }[];
  /** True: the data is in the module's data segments and load() reads no weights file by default. */
  embeddedWeights: boolean;
  /** False: the signature has no null dimensions and the batch must be 1. */
  hasBatch: boolean;
  /** Largest batch accepted. */
  maxBatch: number;
  /** The threads build (absent: single-threaded): the shared memory's pages and the control block's byte offset. */
  threads?: { initialPages: number; maximumPages: number; controlOffset: number };
}

/**
 * The text of model.js for `layout`; wasmFile, weightsFile (and workerFile, required by the threads
 * build) are resolved relative to model.js.
 */
export function loaderSource(layout: WasmLayout, opts: { wasmFile: string; weightsFile: string; workerFile?: string }): string {
  checkLayout(layout);
  const oneLine = (text: string): string => text.replace(/[\r\n\u2028\u2029]/g, " ");
  const header = [
    `// ${oneLine(layout.name)}: a model compiled by tfc for WebAssembly (generated; do not edit). No dependencies:`,
    `//   import { load } from "./model.js"; const model = await load(); const y = model.predict(x);`,
    `// Node 20+ reads ${oneLine(opts.wasmFile)} and ${oneLine(opts.weightsFile)} next to this file; browsers fetch them.`,
  ];
  if (!layout.threads) {
    return [...header, `const layout = ${JSON.stringify(layout)};`, `const files = ${JSON.stringify({ wasm: opts.wasmFile, weights: opts.weightsFile })};`, RUNTIME.trim(), ""].join("\n");
  }
  if (!opts.workerFile) throw new Error(`wasm layout of '${layout.name}': the threads build needs a worker file`);
  return [
    ...header,
    `// Threads build: parallel loops run on load({ threads }) threads (default: all cores), the workers running`,
    `// ${oneLine(opts.workerFile)} (next to this file) on one shared WebAssembly.Memory; call model.dispose() to end them.`,
    `// Browsers allow SharedArrayBuffer only on cross-origin isolated pages: serve the page with the headers`,
    `//   Cross-Origin-Opener-Policy: same-origin  and  Cross-Origin-Embedder-Policy: require-corp`,
    `// (load() throws TFC_ERR_ARGUMENT otherwise). The main thread spins while workers finish a loop in browsers.`,
    `const layout = ${JSON.stringify(layout)};`,
    `const files = ${JSON.stringify({ wasm: opts.wasmFile, weights: opts.weightsFile, worker: opts.workerFile })};`,
    `const CONTROL = ${JSON.stringify(CONTROL_WORDS)};`,
    `const CONTROL_LENGTH = ${CONTROL_LENGTH};`,
    threadedRuntime().trim(),
    THREADS_RUNTIME.trim(),
    "",
  ].join("\n");
}

/** RUNTIME with the threads build's changes at a few places, each of which must match exactly once. */
function threadedRuntime(): string {
  let text = RUNTIME;
  const patch = (anchor: string, replacement: string): void => {
    const at = text.indexOf(anchor);
    if (at < 0 || text.indexOf(anchor, at + 1) >= 0) throw new Error(`loader.ts: the threads patch anchor does not occur exactly once: ${anchor.slice(0, 60)}`);
    text = text.slice(0, at) + replacement + text.slice(at + anchor.length);
  };
  patch(
    "export async function load(options = {}) {\n",
    "export async function load(options = {}) {\n  const threadCount = await threadsOption(options.threads);\n",
  );
  patch(
    `  let instance;
  try {
    const env = { exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow };
    ({ instance } = await WebAssembly.instantiate(wasmBytes, { env }));
  } catch (e) {
    fail("ARGUMENT", "cannot instantiate the WebAssembly module: " + (e && e.message));
  }
`,
    `  let instance, compiled;
  const pool = { workers: [], control: null, participants: 1 };
  try {
    compiled = await WebAssembly.compile(wasmBytes);
    const memory = new WebAssembly.Memory({ initial: layout.threads.initialPages, maximum: layout.threads.maximumPages, shared: true });
    const parallel_for = (fn, context, begin, end) => parallelFor(pool, instance.exports, fn, context, begin, end);
    const env = { memory, exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow, parallel_for };
    instance = await WebAssembly.instantiate(compiled, { env });
  } catch (e) {
    fail("ARGUMENT", "cannot instantiate the WebAssembly module: " + (e && e.message));
  }
  if (["run_chunk", "init_weights"].some((f) => typeof instance.exports[f] !== "function")) {
    fail("ARGUMENT", "the WebAssembly module is not this model's threads build: it lacks the exports run_chunk and init_weights");
  }
  if (layout.embeddedWeights) guard(() => instance.exports.init_weights());
`,
  );
  patch("  const inputs = layout.signature.inputs;\n", "  await startWorkers(pool, compiled, wasm.memory, threadCount);\n  const inputs = layout.signature.inputs;\n");
  // Outputs are copied into ordinary (not shared) ArrayBuffers.
  patch(
    "return new Typed(memory.buffer.slice(start, start + linear(layout.outputs[i].elements, batch) * Typed.BYTES_PER_ELEMENT));",
    "return new Typed(memory.buffer, start, linear(layout.outputs[i].elements, batch)).slice();",
  );
  patch("    maxBatch: layout.hasBatch ? layout.maxBatch : 1,\n", "    maxBatch: layout.hasBatch ? layout.maxBatch : 1,\n    threads: pool.participants,\n");
  patch("      wasm = null;\n", "      wasm = null;\n      stopWorkers(pool);\n");
  return text;
}

/** Catches generator mistakes here rather than in a user's browser. */
function checkLayout(layout: WasmLayout): void {
  const fail = (why: string): never => {
    throw new Error(`wasm layout of '${layout.name}': ${why}`);
  };
  const { inputs, outputs } = layout.signature;
  if (layout.inputs.length !== inputs.length) fail(`${layout.inputs.length} input buffers for ${inputs.length} inputs`);
  if (layout.outputs.length !== outputs.length || outputs.length === 0) fail(`${layout.outputs.length} output buffers for ${outputs.length} outputs`);
  if (layout.staticBytes % 64 !== 0) fail(`staticBytes ${layout.staticBytes} is not a multiple of 64`);
  if (!Number.isSafeInteger(layout.maxBatch) || layout.maxBatch < 1) fail(`maxBatch ${layout.maxBatch} is not a positive integer`);
  if (!layout.hasBatch && [...inputs, ...outputs].some((t) => t.shape.includes(null))) fail("hasBatch is false but the signature has a batch dimension");
  const bytes = { float32: 4, int32: 4, bool: 1 };
  [...layout.inputs, ...layout.outputs].forEach((buffer, i) => {
    const spec = i < inputs.length ? inputs[i]! : outputs[i - inputs.length]!;
    const align = bytes[spec.dtype];
    if ([buffer.offset.constant, buffer.offset.perBatch].some((b) => b % align !== 0)) fail(`buffer of '${spec.name}' is not ${align}-byte aligned`);
  });
  if (layout.threads) {
    const { initialPages, maximumPages, controlOffset } = layout.threads;
    if (!(initialPages >= 1 && initialPages <= maximumPages && maximumPages <= 65536)) fail(`shared memory pages ${initialPages}..${maximumPages} are not 1 ≤ initial ≤ maximum ≤ 65536`);
    if (controlOffset % 64 !== 0 || controlOffset + CONTROL_LENGTH * 4 > 1024) fail(`control block at ${controlOffset} is not 64-aligned inside the low 1024 bytes`);
  }
  for (const w of layout.weights) {
    const size = w.shape.reduce((n, d) => n * d, 1) * (w.dtype === "bool" ? 1 : 4);
    if (!Number.isSafeInteger(w.offset) || w.offset < 0 || w.offset + size > layout.staticBytes) {
      fail(`weight '${w.name}' (${size} bytes at ${w.offset}) lies outside the static area of ${layout.staticBytes} bytes`);
    }
  }
}

// The runtime part of model.js, shipped as is. It must not contain backquotes or dollar-brace
// (it lives in String.raw); it reads `layout` and `files`, declared above it in model.js.
const RUNTIME = String.raw`
const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };
const SHORT = { float32: "f32", int32: "i32", bool: "bool" };
const STATUS = ["OK", "ARGUMENT", "SHAPE", "WEIGHTS", "IO", "MEMORY", "INDEX", "INTERNAL", "NUMERICS"];
const LONG = { f32: "float32", i32: "int32", bool: "bool" };
const elementsOf = (w) => w.shape.reduce((n, d) => n * d, 1);
const allFinite = (values) => {
  for (let k = 0; k < values.length; k++) if (!(values[k] - values[k] === 0)) return false;
  return true;
};
const inNode = typeof process === "object" && !!(process.versions && process.versions.node);

/** Every error of this model: .code is "TFC_ERR_SHAPE", "TFC_ERR_WEIGHTS", ... */
export class TfcModelError extends Error {
  constructor(code, message, cause) {
    super(layout.name + ": " + message, cause === undefined ? undefined : { cause });
    this.name = "TfcModelError";
    this.code = code;
  }
}

export const signature = layout.signature;

const fail = (code, message) => {
  throw new TfcModelError("TFC_ERR_" + code, message);
};
const typeName = (dtype, shape) => dtype + "[" + shape.map((d) => (d === null ? "?" : d)).join(",") + "]";
const linear = (size, batch) => size.constant + size.perBatch * batch;
const mib = (bytes) => (bytes < 1048576 ? Math.ceil(bytes / 1024) + " KiB" : (bytes / 1048576).toFixed(1) + " MiB");
const hex = (n, digits) => n.toString(16).padStart(digits, "0");

// Wraps anything that is not ours (a trap in the WebAssembly code, a bug here) as TFC_ERR_INTERNAL.
function guard(body) {
  try {
    return body();
  } catch (e) {
    if (e instanceof TfcModelError) throw e;
    const what = e instanceof WebAssembly.RuntimeError ? "the WebAssembly code trapped: " : "unexpected error: ";
    throw new TfcModelError("TFC_ERR_INTERNAL", what + (e && e.message) + " (a bug in tfc; please report it)", e);
  }
}

// Bytes given directly, or read: file paths and file: URLs with node:fs in Node, anything else with fetch.
async function readBytes(source, what) {
  if (typeof source !== "string" && !(source instanceof URL)) {
    return ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  }
  try {
    const isUrl = source instanceof URL || /^[a-z][a-z\d+.-]+:/i.test(source);
    if (inNode && (!isUrl || String(source).startsWith("file:"))) {
      const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:fs/promises");
      return await fs.readFile(isUrl ? new URL(source) : source);
    }
    const response = await fetch(source);
    if (!response.ok) throw new Error("HTTP status " + response.status);
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    fail("IO", "cannot read the " + what + " " + source + ": " + (e && e.message));
  }
}

let crcTable;
function crc32(bytes) {
  crcTable = crcTable || Int32Array.from({ length: 256 }, (_, c) => {
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

// Checks a TFCW weights file as the C and TypeScript readers do (same messages) and returns its
// tensors by name: { dtype, shape, at: byte position of the data in bytes, size: its byte count }.
function decodeWeights(bytes, file) {
  const size = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const u32 = (at) => view.getUint32(at, true);
  const bad = (why) => fail("WEIGHTS", "weights file '" + file + "'" + why);
  const damaged = (why) => bad(" is damaged: " + why);
  const truncated = (expected) => bad(" is truncated: expected " + expected + " bytes, got " + size);
  const hasMagic = (at, text) => [...text].every((ch, k) => bytes[at + k] === ch.charCodeAt(0));
  if (size >= 4 && !hasMagic(0, "TFCW")) {
    bad(" is not a tfc weights file: it starts with " + [...bytes.subarray(0, 4)].map((b) => hex(b, 2)).join(" ") + ' instead of "TFCW"');
  }
  if (size < 24) truncated("at least 24");
  const version = u32(4), count = u32(8), headerBytes = u32(12);
  if (version !== 1) bad(" has format version " + version + "; this runtime reads version 1");
  if (headerBytes < 16) damaged("its header size " + headerBytes + " is smaller than the 16-byte header");
  const dataStart = Math.ceil(headerBytes / 64) * 64;

  // The entries in bytes [16, headerBytes); dataSize (a BigInt) is undefined while the file's size is in doubt.
  const parseEntries = (dataSize) => {
    if (count > Math.floor((headerBytes - 16) / 24)) damaged("the header lists " + count + " tensors, more than its " + headerBytes + " bytes can hold");
    const pastEnd = () => damaged("the entries run past the end of the " + headerBytes + "-byte header");
    const entries = [];
    let pos = 16, end = 0n;
    for (let i = 0; i < count; i++) {
      if (headerBytes - pos < 4) pastEnd();
      const nameLength = u32(pos);
      pos += 4;
      if (nameLength === 0) damaged("entry " + i + " has an empty name");
      if (headerBytes - pos < nameLength + 4) pastEnd();
      let name;
      try {
        const raw = bytes.subarray(pos, pos + nameLength);
        if (raw.includes(0)) throw new Error("NUL");
        name = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
      } catch {
        damaged("the name of entry " + i + " is not valid UTF-8 or holds a NUL byte");
      }
      pos += nameLength;
      const dtype = ["f32", "i32", "bool"][bytes[pos]], rank = bytes[pos + 1], reserved = view.getUint16(pos + 2, true);
      const tensor = "tensor '" + name + "' ";
      if (!dtype) damaged(tensor + "has unknown dtype code " + bytes[pos] + " (0 f32, 1 i32, 2 bool)");
      if (rank > 16) damaged(tensor + "has rank " + rank + "; the most is 16");
      if (reserved) damaged(tensor + "has nonzero reserved bits " + reserved);
      pos += 4;
      if (headerBytes - pos < rank * 8 + 16) pastEnd();
      const shape = [];
      let elements = 1n, tooLarge = false;
      for (let k = 0; k < rank; k++, pos += 8) {
        const d = view.getBigInt64(pos, true);
        if (d < 0n) damaged(tensor + "has negative dimension " + d + " at axis " + k);
        shape.push(d);
        if (d > 9007199254740991n || (d && elements > (1n << 62n) / d)) tooLarge = true;
        else elements *= d;
      }
      const offset = view.getBigUint64(pos, true), stored = view.getBigUint64(pos + 8, true);
      pos += 16;
      const type = typeName(dtype, shape), expected = elements * (dtype === "bool" ? 1n : 4n);
      if (tooLarge) damaged(tensor + "is too large (" + type + ")");
      if (stored !== expected) damaged(tensor + "is " + type + " = " + expected + " bytes, but the file stores " + stored);
      if (offset % 64n) damaged(tensor + "starts at offset " + offset + ", not a multiple of 64");
      if (dataSize !== undefined && (offset > dataSize || stored > dataSize - offset)) {
        damaged(tensor + "(" + stored + " bytes at offset " + offset + ") lies outside the " + dataSize + "-byte data section");
      }
      if (offset + stored > 0xffffffffffffffffn) pastEnd();
      if (offset + stored > end) end = offset + stored;
      entries.push({ name, dtype, shape: shape.map(Number), at: dataStart + Number(offset), size: Number(stored) });
    }
    if (pos !== headerBytes) damaged("the header says it is " + headerBytes + " bytes but its entries end at byte " + pos);
    return { entries, end };
  };

  if (size < dataStart + 8 || !hasMagic(size - 4, "TFCE")) {
    if (size < dataStart + 8) truncated("at least " + (dataStart + 8));
    let expected;
    try {
      expected = BigInt(dataStart + 8) + parseEntries(undefined).end;
    } catch {}
    if (expected > BigInt(size)) truncated(expected);
    damaged('it does not end with the "TFCE" trailer');
  }
  const stored = u32(size - 8), computed = crc32(bytes.subarray(0, size - 8));
  if (stored !== computed) bad(": checksum mismatch: the file is corrupt (stored 0x" + hex(stored, 8) + ", computed 0x" + hex(computed, 8) + ")");
  const { entries } = parseEntries(BigInt(size - 8 - dataStart));
  for (const e of entries) {
    const k = e.dtype === "bool" ? bytes.subarray(e.at, e.at + e.size).findIndex((b) => b > 1) : -1;
    if (k >= 0) damaged("bool tensor '" + e.name + "' holds byte " + bytes[e.at + k] + " at element " + k + " (expected 0 or 1)");
  }
  const byName = new Map();
  for (const e of entries) {
    if (byName.has(e.name)) damaged("tensor name '" + e.name + "' appears twice");
    byName.set(e.name, e);
  }
  return byName;
}

// Grows memory to at least the given bytes (it never shrinks); who: "a batch of 8 needs", "the weights need".
function ensureMemory(memory, bytes, who) {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;
  try {
    memory.grow(Math.ceil((bytes - have) / 65536));
  } catch {
    fail("MEMORY", who + " " + mib(bytes) + " of memory; the limit is " + mib(have) + " here (the WebAssembly memory could not grow)");
  }
}

/** Loads the model: options.wasm / options.weights are bytes, a URL or a path (default: next to model.js). */
export async function load(options = {}) {
  const here = (file) => new URL(file, import.meta.url);
  const readWeights = options.weights !== undefined || !layout.embeddedWeights;
  const weightsSource = options.weights === undefined ? here(files.weights) : options.weights;
  const [wasmBytes, weightBytes] = await Promise.all([
    readBytes(options.wasm === undefined ? here(files.wasm) : options.wasm, "WebAssembly module"),
    readWeights ? readBytes(weightsSource, "weights file") : null,
  ]);
  let instance;
  try {
    const env = { exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow };
    ({ instance } = await WebAssembly.instantiate(wasmBytes, { env }));
  } catch (e) {
    fail("ARGUMENT", "cannot instantiate the WebAssembly module: " + (e && e.message));
  }
  let wasm = instance.exports;
  if (!(wasm.memory instanceof WebAssembly.Memory) || ["run", "prepare", "status", "reset"].some((f) => typeof wasm[f] !== "function")) {
    fail("ARGUMENT", "the WebAssembly module is not this model's: it lacks the exports memory, run, prepare, status and reset");
  }
  guard(() => {
    ensureMemory(wasm.memory, layout.staticBytes, "the weights need");
    if (!weightBytes) return;
    if (layout.weights.length === 0 && layout.embeddedWeights) fail("ARGUMENT", "its weights are built in; it takes no weights file");
    const file = typeof weightsSource === "string" || weightsSource instanceof URL ? String(weightsSource) : "<weights>";
    const tensors = decodeWeights(weightBytes, file);
    for (const w of layout.weights) {
      const t = tensors.get(w.name);
      if (!t) fail("WEIGHTS", "weights file '" + file + "' has no tensor '" + w.name + "'");
      const have = typeName(t.dtype, t.shape), need = typeName(w.dtype, w.shape);
      if (have !== need) fail("WEIGHTS", "weights file '" + file + "' has '" + w.name + "' as " + have + ", the model needs " + need);
      new Uint8Array(wasm.memory.buffer, w.offset, t.size).set(weightBytes.subarray(t.at, t.at + t.size));
    }
  });

  const inputs = layout.signature.inputs;
  const checkTypes = (values) => {
    if (!wasm) fail("ARGUMENT", "the model has been disposed");
    if (values.length !== inputs.length) fail("ARGUMENT", "it takes " + inputs.length + " input(s), got " + values.length);
    values.forEach((x, i) => {
      const want = ARRAYS[inputs[i].dtype];
      if (!(x instanceof want)) fail("ARGUMENT", "input '" + inputs[i].name + "' must be " + (/^[AEIO]/.test(want.name) ? "an " : "a ") + want.name + ", got " + (x == null ? x : x.constructor.name));
    });
  };

  // Runs a batch of examples; one typed array per input, in signature order.
  const predictBatch = (batch, ...values) =>
    guard(() => {
      checkTypes(values);
      if (!Number.isInteger(batch) || batch < 1) fail("ARGUMENT", "the batch must be a whole number of at least 1, got " + batch);
      if (!layout.hasBatch && batch !== 1) fail("ARGUMENT", "it has no batch dimension, so the batch must be 1, got " + batch);
      const need = layout.staticBytes + linear(layout.dynamicBytes, batch);
      if (batch > layout.maxBatch) fail("MEMORY", "a batch of " + batch + " needs " + mib(need) + " of memory; the limit is a batch of " + layout.maxBatch);
      values.forEach((x, i) => {
        const spec = inputs[i], want = linear(layout.inputs[i].elements, batch);
        if (x.length !== want) fail("SHAPE", "input '" + spec.name + "' has " + x.length + " elements; " + typeName(SHORT[spec.dtype], spec.shape) + " at batch " + batch + " needs " + want);
        const k = spec.dtype === "bool" ? x.findIndex((v) => v > 1) : -1;
        if (k >= 0) fail("ARGUMENT", "bool input '" + spec.name + "' holds " + x[k] + " at element " + k + " (expected 0 or 1)");
      });
      const { memory, run, prepare, status, reset } = wasm;
      ensureMemory(memory, need, "a batch of " + batch + " needs");
      if (stale) {
        // Weights packed for the microkernels: before the first run and after writeParameter.
        reset();
        prepare();
        if (status() !== 0) fail(STATUS[status()] || "INTERNAL", "packing the weights stopped with status " + status());
        stale = false;
      }
      const address = (buffer) => layout.staticBytes + linear(buffer.offset, batch);
      values.forEach((x, i) => new Uint8Array(memory.buffer, address(layout.inputs[i]), x.byteLength).set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)));
      reset();
      run(batch);
      const code = status();
      if (code === 6) fail("INDEX", "an index was out of range (gather or one_hot input)");
      if (code !== 0) fail(STATUS[code] || "INTERNAL", "the model stopped with status " + code);
      if (checkNumerics) {
        layout.signature.outputs.forEach((spec, i) => {
          if (spec.dtype === "float32" && !allFinite(new Float32Array(memory.buffer, address(layout.outputs[i]), linear(layout.outputs[i].elements, batch)))) {
            fail("NUMERICS", "output '" + spec.name + "' holds a NaN or infinity");
          }
        });
        for (const u of layout.updates) {
          const w = layout.weights[u.weight];
          if (w.dtype === "f32" && !allFinite(new Float32Array(memory.buffer, address(u), elementsOf(w)))) fail("NUMERICS", "the new value of parameter '" + w.name + "' holds a NaN or infinity");
        }
      }
      for (const u of layout.updates) {
        const w = layout.weights[u.weight], start = address(u);
        new Uint8Array(memory.buffer).copyWithin(w.offset, start, start + elementsOf(w) * (w.dtype === "bool" ? 1 : 4));
      }
      const outputs = layout.signature.outputs.map((spec, i) => {
        const Typed = ARRAYS[spec.dtype], start = address(layout.outputs[i]);
        return new Typed(memory.buffer.slice(start, start + linear(layout.outputs[i].elements, batch) * Typed.BYTES_PER_ELEMENT));
      });
      return outputs.length === 1 ? outputs[0] : outputs;
    });

  // Runs the model with the batch taken from the inputs' lengths.
  const predict = (...values) =>
    guard(() => {
      checkTypes(values);
      let batch = 1, from;
      values.forEach((x, i) => {
        const spec = inputs[i], size = layout.inputs[i].elements;
        if (!size.perBatch) return;
        const n = (x.length - size.constant) / size.perBatch;
        const type = typeName(SHORT[spec.dtype], spec.shape);
        if (!Number.isInteger(n) || n < 0) fail("SHAPE", "input '" + spec.name + "' has " + x.length + " elements, which is not a whole batch of " + type + " (" + size.perBatch + " elements per example)");
        if (from === undefined) [batch, from] = [n, spec.name];
        else if (n !== batch) fail("SHAPE", "input '" + spec.name + "' holds a batch of " + n + " but input '" + from + "' holds a batch of " + batch);
      });
      return predictBatch(batch, ...values);
    });

  let checkNumerics = false;
  let stale = true;
  const weightNamed = (name) => {
    if (!wasm) fail("ARGUMENT", "the model has been disposed");
    const w = layout.weights.find((x) => x.name === name);
    if (!w || name.startsWith("__const/")) fail("ARGUMENT", "it has no parameter '" + name + "'");
    return w;
  };

  return Object.freeze({
    name: layout.name,
    signature,
    maxBatch: layout.hasBatch ? layout.maxBatch : 1,
    predict,
    predictBatch,
    // Parameters (weights; a training step's optimizer state): names, and copies in and out.
    parameters: layout.weights.filter((w) => !w.name.startsWith("__const/")).map((w) => ({ name: w.name, dtype: w.dtype, shape: w.shape.slice() })),
    readParameter(name) {
      const w = weightNamed(name), Typed = ARRAYS[LONG[w.dtype]];
      return new Typed(wasm.memory.buffer, w.offset, elementsOf(w)).slice();
    },
    writeParameter(name, data) {
      const w = weightNamed(name), Typed = ARRAYS[LONG[w.dtype]];
      if (!(data instanceof Typed) || data.length !== elementsOf(w)) fail("SHAPE", "parameter '" + name + "' takes a " + Typed.name + " of " + elementsOf(w) + " elements");
      new Typed(wasm.memory.buffer, w.offset, elementsOf(w)).set(data);
      stale = true;
    },
    // true: a run whose outputs or parameter updates hold a NaN or infinity fails with TFC_ERR_NUMERICS and updates nothing.
    setCheckNumerics(on) {
      checkNumerics = Boolean(on);
    },
    dispose() {
      wasm = null;
    },
  });
}
`;

// The threads build's additions to model.js (after RUNTIME; same rules). The pool: workers, the
// control block (an Int32Array on the shared memory) and participants (workers + the main thread).
const THREADS_RUNTIME = String.raw`
// load({ threads }): how many threads run parallel loops (the main thread included); checked before anything is read.
async function threadsOption(threads) {
  if (typeof SharedArrayBuffer !== "function") {
    fail("ARGUMENT", "this threads build needs SharedArrayBuffer, which is unavailable here" + (inNode ? "" : " (the page must be cross-origin isolated)"));
  }
  if (!inNode && globalThis.crossOriginIsolated !== true) {
    fail("ARGUMENT", "this threads build needs a cross-origin isolated page: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp");
  }
  if (threads === undefined) {
    if (!inNode) return Math.max(1, (globalThis.navigator && navigator.hardwareConcurrency) || 1);
    const os = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:os");
    return Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  }
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) fail("ARGUMENT", "options.threads must be a whole number from 1 to 256, got " + threads);
  return threads;
}

// The chunk [lo, hi) of [begin, end) that thread index of participants runs (model.worker.js has the same).
function chunkOf(begin, end, index, participants) {
  const span = end - begin;
  return [begin + Math.floor((span * index) / participants), begin + Math.floor((span * (index + 1)) / participants)];
}

// Starts threads - 1 workers on the shared memory; resolves when every one is waiting for jobs.
async function startWorkers(pool, compiled, memory, threads) {
  const control = new Int32Array(memory.buffer, layout.threads.controlOffset, CONTROL_LENGTH);
  pool.control = control;
  pool.participants = threads;
  Atomics.store(control, CONTROL.participants, threads);
  if (threads === 1) return;
  const url = new URL(files.worker, import.meta.url);
  const WorkerThread = inNode ? (await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:worker_threads")).Worker : null;
  const starting = [];
  for (let index = 1; index < threads; index++) {
    const data = { module: compiled, memory, index, controlOffset: layout.threads.controlOffset, sequence: Atomics.load(control, CONTROL.sequence) };
    let worker;
    const ready = new Promise((resolve, reject) => {
      const answer = (message) => (message && message.ready ? resolve() : reject(new Error(message && message.error)));
      if (inNode) {
        worker = new WorkerThread(url, { workerData: data, name: layout.name + " thread " + index });
        worker.once("message", answer);
        worker.on("error", (e) => reject(e));
        worker.once("exit", (code) => reject(new Error("the worker exited with code " + code)));
      } else {
        worker = new Worker(url, { type: "module", name: layout.name + " thread " + index });
        worker.onmessage = (event) => answer(event.data);
        worker.onerror = (event) => reject(new Error((event && event.message) || "the worker script " + url + " failed to load"));
        worker.postMessage(data);
      }
    });
    pool.workers.push(worker);
    starting.push(ready);
  }
  try {
    await Promise.all(starting);
  } catch (e) {
    stopWorkers(pool);
    fail("ARGUMENT", "cannot start the worker threads (" + files.worker + "): " + (e && e.message));
  }
}

// env.parallel_for: hands iterations [begin, end) of outlined loop fn to every thread, runs chunk 0 and waits for the rest.
function parallelFor(pool, exports, fn, context, begin, end) {
  const workers = pool.workers.length, control = pool.control;
  if (workers === 0 || end - begin < 2) return exports.run_chunk(fn, context, begin, end);
  control[CONTROL.fn] = fn;
  control[CONTROL.context] = context;
  control[CONTROL.begin] = begin;
  control[CONTROL.end] = end;
  Atomics.store(control, CONTROL.pending, workers);
  Atomics.add(control, CONTROL.sequence, 1);
  Atomics.notify(control, CONTROL.sequence);
  try {
    const [lo, hi] = chunkOf(begin, end, 0, workers + 1);
    if (lo < hi) exports.run_chunk(fn, context, lo, hi);
  } finally {
    // Browsers forbid Atomics.wait on the main thread: spin there.
    const canBlock = inNode || typeof window === "undefined";
    for (let left; (left = Atomics.load(control, CONTROL.pending)) !== 0; ) if (canBlock) Atomics.wait(control, CONTROL.pending, left);
  }
  if (Atomics.exchange(control, CONTROL.failed, 0) !== 0) fail("INTERNAL", "a worker thread trapped while running the model (a bug in tfc; please report it)");
}

// Wakes every worker with the stop flag and terminates it.
function stopWorkers(pool) {
  if (pool.workers.length === 0) return;
  Atomics.store(pool.control, CONTROL.stop, 1);
  Atomics.add(pool.control, CONTROL.sequence, 1);
  Atomics.notify(pool.control, CONTROL.sequence);
  for (const worker of pool.workers) worker.terminate();
  pool.workers = [];
}
`;
