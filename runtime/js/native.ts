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
}

const C_TYPE = { float32: "float", int32: "int32_t", bool: "uint8_t" } as const;
const ARRAY = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;
const STATUS = ["OK", "ERR_ARGUMENT", "ERR_SHAPE", "ERR_WEIGHTS", "ERR_IO", "ERR_MEMORY", "ERR_INDEX", "ERR_INTERNAL"];

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

  dispose(): void {
    if (this.handle) this.destroyFn(this.handle);
    this.handle = undefined;
  }
}
