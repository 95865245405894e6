// Runs a natively compiled model from Node: loads lib<name>.so with koffi (no build step), reads
// the signature from <name>.json, and calls the generated C API with typed arrays. Errors from
// the C side (bad lengths, corrupt weights, out-of-range indices) become TfcErrors with codes.

import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { TfcError } from "../../ir/errors.js";

type TypedArray = Float32Array | Int32Array | Uint8Array;

interface TensorSpec {
  readonly name: string;
  readonly dtype: "float32" | "int32" | "bool";
  readonly shape: (number | null)[];
}

export interface NativeManifest {
  readonly name: string;
  readonly signature: { readonly inputs: TensorSpec[]; readonly outputs: TensorSpec[] };
  readonly files: { readonly shared: string; readonly weights: string };
  /** Parameters each call updates (a training step), absent for inference models. */
  readonly updates?: string[];
}

/** A parameter of a compiled model as the C API lists it. */
export interface NativeParam {
  readonly index: number;
  readonly name: string;
  readonly dtype: "float32" | "int32" | "bool";
  readonly elements: number;
}

/** A failed call of a compiled model: `status` is the C status code (8: numerics). */
export class NativeCallError extends TfcError {
  constructor(code: string, message: string, readonly status: number) {
    super(code, message);
  }
}

const C_TYPE = { float32: "float", int32: "int32_t", bool: "uint8_t" } as const;
const ARRAY = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;
const STATUS = ["OK", "ERR_ARGUMENT", "ERR_SHAPE", "ERR_WEIGHTS", "ERR_IO", "ERR_MEMORY", "ERR_INDEX", "ERR_INTERNAL", "ERR_NUMERICS"];
/** Status 8: a checked step produced a NaN or infinity (nothing was updated). */
export const STATUS_NUMERICS = 8;

let koffiModule: any;
function koffi(): any {
  if (!koffiModule) {
    try {
      koffiModule = createRequire(import.meta.url)("koffi");
    } catch {
      throw new TfcError("TFC6030", "running native models from Node needs the koffi package (npm install koffi)");
    }
  }
  return koffiModule;
}

export class NativeModel {
  private handle: unknown;
  private readonly predictFn: (...args: unknown[]) => number;
  private readonly lastError: (m: unknown) => string;
  private readonly destroyFn: (m: unknown) => void;
  private readonly elements: ((batch: number) => number)[];
  private runBatchesFn: (...args: unknown[]) => number;
  private readonly checkNumericsFn: (m: unknown, on: number) => void;
  private readonly readParamFn: (m: unknown, i: number, dst: unknown, len: number) => number;
  private readonly writeParamFn: (m: unknown, i: number, src: unknown, len: number) => number;
  /** The model's parameters (weights and, for training steps, optimizer state). */
  readonly params: readonly NativeParam[];

  private constructor(
    readonly manifest: NativeManifest,
    lib: any,
    handle: unknown,
  ) {
    const k = koffi();
    const n = manifest.name;
    const sig = manifest.signature;
    const params = [
      "void* m",
      "int64_t batch",
      ...sig.inputs.map((t, i) => `const ${C_TYPE[t.dtype]}* in${i}, int64_t in${i}_len`),
      ...sig.outputs.map((t, i) => `_Inout_ ${C_TYPE[t.dtype]}* out${i}, int64_t out${i}_len`),
    ];
    this.predictFn = lib.func(`int ${n}_predict(${params.join(", ")})`);
    this.lastError = lib.func(`const char* ${n}_last_error(void* m)`);
    this.destroyFn = lib.func(`void ${n}_destroy(void* m)`);
    this.elements = [
      ...sig.inputs.map((_, i) => lib.func(`int64_t ${n}_input${i}_elements(int64_t batch)`)),
      ...sig.outputs.map((_, i) => lib.func(`int64_t ${n}_output${i}_elements(int64_t batch)`)),
    ].map((f: (b: number) => number | bigint) => (b: number) => Number(f(b)));
    this.handle = handle;
    // Bound on first use: koffi binds at most 64 parameters, which a wide model's run_batches can pass.
    this.runBatchesFn = (...args: unknown[]) => {
      const fn = lib.func(
        `int ${n}_run_batches(${[
          "void* m", "int64_t batch", "int64_t steps", "const int64_t* order", "int64_t rows",
          ...sig.inputs.map((t, i) => `const ${C_TYPE[t.dtype]}* all${i}`),
          ...sig.outputs.map((t, i) => `_Inout_ ${C_TYPE[t.dtype]}* out${i}, int64_t out${i}_len`),
          "_Out_ int64_t* done",
        ].join(", ")})`,
      );
      return (this.runBatchesFn = fn)(...args);
    };
    this.checkNumericsFn = lib.func(`void ${n}_set_check_numerics(void* m, int on)`);
    this.readParamFn = lib.func(`int ${n}_read_param(void* m, int i, _Inout_ void* dst, int64_t len)`);
    this.writeParamFn = lib.func(`int ${n}_write_param(void* m, int i, const void* src, int64_t len)`);
    const count = lib.func(`int ${n}_param_count(void)`)() as number;
    const pname = lib.func(`const char* ${n}_param_name(int i)`);
    const pdtype = lib.func(`int ${n}_param_dtype(int i)`);
    const pelems = lib.func(`int64_t ${n}_param_elements(int i)`);
    this.params = Array.from({ length: count }, (_, i) => ({
      index: i,
      name: pname(i) as string,
      dtype: (["float32", "int32", "bool"] as const)[pdtype(i) as number]!,
      elements: Number(pelems(i)),
    }));
    void k;
  }

  /** Load `<dir>/<name>.json`, its library and its weights. */
  static load(dir: string, name = "model", options: { threads?: number; weights?: string } = {}): NativeModel {
    const manifestPath = path.join(dir, `${name}.json`);
    if (!fs.existsSync(manifestPath)) throw new TfcError("TFC6031", `no compiled model at ${manifestPath} (run tfc compile --target llvm -o ${dir})`);
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as NativeManifest;
    const k = koffi();
    const lib = k.load(path.resolve(dir, manifest.files.shared));
    const create = lib.func(`int ${manifest.name}_create(const char* path, int threads, _Out_ void** out)`);
    const out: unknown[] = [null];
    const status = create(options.weights ?? path.resolve(dir, manifest.files.weights), options.threads ?? 0, out);
    const model = new NativeModel(manifest, lib, out[0]);
    if (status !== 0) {
      const message = out[0] ? model.lastError(out[0]) : "out of memory";
      model.dispose();
      throw new TfcError(status === 3 || status === 4 ? "TFC6002" : "TFC6032", `cannot load ${manifest.name}: ${message} (${STATUS[status] ?? status})`);
    }
    return model;
  }

  /** Elements input/output `index` (inputs first) holds for a batch. */
  size(index: number, batch: number): number {
    return this.elements[index]!(batch);
  }

  predict(inputs: readonly TypedArray[], batch: number): TypedArray[] {
    if (!this.handle) throw new TfcError("TFC6033", "this native model has been disposed");
    const sig = this.manifest.signature;
    if (inputs.length !== sig.inputs.length) {
      throw new TfcError("TFC1010", `${this.manifest.name} takes ${sig.inputs.length} input(s), got ${inputs.length}`);
    }
    const outputs = sig.outputs.map((t, i) => {
      const size = batch >= 1 ? this.size(sig.inputs.length + i, batch) : 0;
      return new ARRAY[t.dtype](Math.max(0, size));
    });
    const args: unknown[] = [this.handle, batch];
    inputs.forEach((x, i) => {
      const want = ARRAY[sig.inputs[i]!.dtype];
      if (!(x instanceof want)) throw new TfcError("TFC1011", `input '${sig.inputs[i]!.name}' must be a ${want.name}, got ${x.constructor.name}`);
      args.push(x, x.length);
    });
    outputs.forEach((y) => args.push(y, y.length));
    const status = this.predictFn(...args);
    if (status !== 0) {
      throw new TfcError(status === 2 ? "TFC1011" : status === 1 ? "TFC1013" : "TFC6034", `${this.manifest.name}: ${this.lastError(this.handle)} (${STATUS[status] ?? status})`);
    }
    return outputs;
  }

  private check(status: number): void {
    if (status === 0) return;
    const code = status === 2 ? "TFC1011" : status === 1 ? "TFC1013" : status === STATUS_NUMERICS ? "TFC7090" : "TFC6034";
    throw new NativeCallError(code, `${this.manifest.name}: ${this.lastError(this.handle)} (${STATUS[status] ?? status})`, status);
  }

  private live(): void {
    if (!this.handle) throw new TfcError("TFC6033", "this native model has been disposed");
  }

  private param(name: string): NativeParam {
    const p = this.params.find((q) => q.name === name);
    if (!p) throw new TfcError("TFC6035", `${this.manifest.name} has no parameter '${name}'`);
    return p;
  }

  readParam(name: string): TypedArray {
    this.live();
    const p = this.param(name);
    const out = new ARRAY[p.dtype](p.elements);
    this.check(this.readParamFn(this.handle, p.index, out, p.elements));
    return out;
  }

  writeParam(name: string, data: TypedArray): void {
    this.live();
    const p = this.param(name);
    if (!(data instanceof ARRAY[p.dtype])) throw new TfcError("TFC1011", `parameter '${name}' takes a ${ARRAY[p.dtype].name}, got ${data.constructor.name}`);
    this.check(this.writeParamFn(this.handle, p.index, data, data.length));
  }

  /** A checked call fails with status 8 (and updates nothing) when an output or update holds a NaN or infinity. */
  setCheckNumerics(on: boolean): void {
    this.live();
    this.checkNumericsFn(this.handle, on ? 1 : 0);
  }

  /**
   * Runs `steps` batches in C: step s takes the rows order[s·batch …] of each input's whole array
   * (`rows` examples) and writes its outputs at s·(elements per step) of each output array.
   * Returns the steps completed; throws (after updating through the last good step) on failure.
   */
  runBatches(batch: number, steps: number, order: BigInt64Array, rows: number, all: readonly TypedArray[], outputs: readonly TypedArray[]): number {
    this.live();
    const done: unknown[] = [0];
    const args: unknown[] = [this.handle, batch, steps, order, rows, ...all];
    outputs.forEach((y) => args.push(y, y.length));
    args.push(done);
    const status = this.runBatchesFn(...args);
    const completed = Number(done[0]);
    if (status !== 0) {
      const err = (() => {
        try {
          this.check(status);
        } catch (e) {
          return e as NativeCallError;
        }
      })()!;
      (err as NativeCallError & { completed?: number }).completed = completed;
      throw err;
    }
    return completed;
  }

  dispose(): void {
    if (this.handle) this.destroyFn(this.handle);
    this.handle = undefined;
  }
}
