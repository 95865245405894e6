// Where a training program runs: the reference interpreter, native code (the C runtime drives
// batches through <name>_run_batches) or WebAssembly (model.js, driven from here). Every backend
// holds the parameters itself between steps; `readParams`/`writeParams` move them in and out
// (checkpoints, syncing the train and eval builds, copying results into tf.Variables).

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { updatedParam, type Func, type Module } from "../../ir/ir.js";
import { TfcError, type SourceLoc } from "../../ir/errors.js";
import { evalOp, type ParamValues } from "../../ir/interpreter.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { BATCH, formatType, type TensorType } from "../../ir/types.js";
import { printFunc } from "../../ir/printer.js";
import { buildNative } from "../../targets/llvm/index.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { NativeModel, STATUS_NUMERICS } from "../../runtime/js/native.js";
import { compilerFingerprint } from "../cli/native.js";

export type TypedArray = Float32Array | Int32Array | Uint8Array;
export type Backend = "interp" | "llvm" | "wasm";
export type StepName = "train_step" | "eval_step" | "predict";

/** A step stopped by the numerics check: nothing was updated; `step` counts from the call's first. */
export class NumericsError extends TfcError {
  constructor(message: string, readonly step: number, loc?: SourceLoc) {
    super("TFC7090", message, loc ? { loc } : {});
  }
}

export interface StepRunner {
  readonly backend: Backend;
  /** Runs `steps` steps of `fn` of `batch` rows each, step s taking rows order[s·batch …] of `all`; returns each output, steps × its elements. */
  runBatches(fn: StepName, batch: number, steps: number, order: Int32Array, rows: number, all: readonly TypedArray[]): TypedArray[];
  readParams(): Map<string, TypedArray>;
  writeParams(values: ReadonlyMap<string, TypedArray>): void;
  setCheckNumerics(on: boolean): void;
  dispose(): void;
}

const ARRAY = { f32: Float32Array, i32: Int32Array, bool: Uint8Array } as const;
const perRow = (t: TensorType) => t.shape.filter((d) => d !== BATCH).reduce((a, b) => a * b, 1);
const outputElements = (t: TensorType, batch: number) => t.shape.reduce((a, d) => a * (d === BATCH ? batch : d), 1);

/** Copy rows order[first …first+batch) of `all` (row elements each) into one batch. */
function gather(all: TypedArray, row: number, order: Int32Array, first: number, batch: number): TypedArray {
  const out = new (all.constructor as new (n: number) => TypedArray)(row * batch);
  for (let e = 0; e < batch; e++) {
    const r = order[first + e]!;
    out.set(all.subarray(r * row, (r + 1) * row), e * row);
  }
  return out;
}

function checkRows(order: Int32Array, rows: number, count: number): void {
  for (let k = 0; k < count; k++) {
    if (!(order[k]! >= 0 && order[k]! < rows)) throw new TfcError("TFC7084", `internal: row ${order[k]} is not below ${rows}`);
  }
}

const ordinaryResults = (fn: Func) => fn.results.map((_, i) => i).filter((i) => updatedParam(fn.resultNames[i]) === undefined);

/** The reference interpreter: slow, exact, and the oracle the compiled backends are checked against. */
export class InterpRunner implements StepRunner {
  readonly backend = "interp";
  private check = false;

  constructor(
    private readonly module: Module,
    private readonly params: ParamValues,
  ) {}

  runBatches(fnName: StepName, batch: number, steps: number, order: Int32Array, rows: number, all: readonly TypedArray[]): TypedArray[] {
    const fn = this.module.getFunction(fnName)!;
    checkRows(order, rows, steps * batch);
    const outs = ordinaryResults(fn).map((i) => new ARRAY[fn.results[i]!.type.dtype](steps * outputElements(fn.results[i]!.type, batch)));
    for (let s = 0; s < steps; s++) {
      const inputs = fn.args.map((a, k) => {
        const shape = a.type.shape.map((d) => (d === BATCH ? batch : d));
        return hostTensor(a.type.dtype, shape, gather(all[k]!, perRow(a.type), order, s * batch, batch));
      });
      const results = this.call(fn, inputs, s);
      ordinaryResults(fn).forEach((r, j) => outs[j]!.set(results[r]!.data, s * results[r]!.data.length));
      fn.results.forEach((_, r) => {
        const p = updatedParam(fn.resultNames[r]);
        if (p !== undefined) this.params.set(p, results[r]!);
      });
    }
    return outs;
  }

  /** One call; with the numerics check on, the first op whose result holds a NaN or infinity stops it (nothing updated). */
  private call(fn: Func, inputs: HostTensor[], step: number): HostTensor[] {
    const env = new Map<number, HostTensor>();
    fn.args.forEach((a, i) => env.set(a.id, inputs[i]!));
    for (const op of fn.body) {
      const value = op.name === "param" ? this.params.get(op.attrs["name"] as string)! : evalOp(op.name, op.operands.map((o) => env.get(o.id)!), op.attrs);
      if (this.check && value.dtype === "f32" && !value.data.every((x) => Number.isFinite(x))) {
        throw new NumericsError(numericsMessage(op.name, formatType(op.result.type)), step, op.loc);
      }
      env.set(op.result.id, value);
    }
    return fn.results.map((r) => env.get(r.id)!);
  }

  readParams(): Map<string, TypedArray> {
    return new Map([...this.params].map(([k, v]) => [k, v.data.slice()]));
  }
  /** Set every parameter of `module` from `values` (declared types). */
  writeParamsFrom(module: Module, values: ReadonlyMap<string, TypedArray>): void {
    for (const p of module.params.values()) {
      const data = values.get(p.name);
      if (data) this.params.set(p.name, hostTensor(p.type.dtype, [...p.type.shape], data.slice()));
    }
  }
  writeParams(values: ReadonlyMap<string, TypedArray>): void {
    for (const [k, data] of values) {
      const old = this.params.get(k);
      if (old) this.params.set(k, hostTensor(old.dtype, old.shape, data.slice()));
    }
  }
  setCheckNumerics(on: boolean): void {
    this.check = on;
  }
  dispose(): void {}
}

export function numericsMessage(op: string, type: string): string {
  return `a NaN or infinity first appeared in the result of '${op}' (${type}); the step was not applied`;
}

/** Where a function's build is cached: the hash of its IR (not its weights), the target and the compiler's own code. */
function cacheDir(module: Module, fn: Func, target: string): string {
  const params = [...module.params.values()].map((p) => `${p.name}:${formatType(p.type)}`).join("\n");
  const hash = crypto.createHash("sha256").update(`${compilerFingerprint()}\n${target}\n${params}\n${printFunc(fn)}`).digest("hex").slice(0, 24);
  return path.join(os.tmpdir(), `tfc-cache-${process.getuid?.() ?? "user"}`, `train-${hash}`);
}

/** Build into the cache unless there already (staging dir, then rename: concurrent builds are safe). */
function cachedBuild(dir: string, marker: string, build: (staging: string) => void): void {
  if (fs.existsSync(path.join(dir, marker))) return;
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    build(staging);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Holds one compiled build per step function; the parameters live in whichever ran last, and are
 * copied to another before it runs (only the ones it reads).
 */
abstract class CompiledRunner<M> implements StepRunner {
  abstract readonly backend: Backend;
  private readonly built = new Map<StepName, M>();
  private owner: StepName | undefined;
  protected check = false;

  constructor(
    protected readonly module: Module,
    private readonly pending: Map<string, TypedArray>,
  ) {}

  protected abstract load(fn: Func): M;
  protected abstract paramNames(m: M): string[];
  protected abstract read(m: M, name: string): TypedArray;
  protected abstract write(m: M, name: string, data: TypedArray): void;
  protected abstract steps(m: M, fn: Func, batch: number, steps: number, order: Int32Array, rows: number, all: readonly TypedArray[], outs: TypedArray[]): void;
  protected abstract close(m: M): void;

  private get(name: StepName): M {
    let m = this.built.get(name);
    if (!m) {
      m = this.load(this.module.getFunction(name)!);
      this.built.set(name, m);
    }
    if (this.owner !== name) {
      // Everything moves out of the build that ran last, then in to this one.
      const from = this.owner ? this.built.get(this.owner) : undefined;
      if (from) for (const p of this.paramNames(from)) this.pending.set(p, this.read(from, p));
      for (const p of this.paramNames(m)) {
        const data = this.pending.get(p);
        if (data) this.write(m, p, data);
        this.pending.delete(p);
      }
      this.owner = name;
    }
    return m;
  }

  runBatches(fnName: StepName, batch: number, steps: number, order: Int32Array, rows: number, all: readonly TypedArray[]): TypedArray[] {
    const fn = this.module.getFunction(fnName)!;
    const m = this.get(fnName);
    checkRows(order, rows, steps * batch);
    const outs = ordinaryResults(fn).map((i) => new ARRAY[fn.results[i]!.type.dtype](steps * outputElements(fn.results[i]!.type, batch)));
    this.steps(m, fn, batch, steps, order, rows, all, outs);
    return outs;
  }

  readParams(): Map<string, TypedArray> {
    const out = new Map(this.pending);
    const m = this.owner ? this.built.get(this.owner) : undefined;
    if (m) for (const p of this.paramNames(m)) out.set(p, this.read(m, p));
    return out;
  }
  writeParams(values: ReadonlyMap<string, TypedArray>): void {
    const m = this.owner ? this.built.get(this.owner) : undefined;
    for (const [k, v] of values) {
      if (m && this.paramNames(m).includes(k)) this.write(m, k, v);
      else this.pending.set(k, v);
    }
  }
  setCheckNumerics(on: boolean): void {
    this.check = on;
  }
  dispose(): void {
    for (const m of this.built.values()) this.close(m);
    this.built.clear();
  }
}

/** Native code for this machine's CPU; the C runtime runs whole chunks of batches per call. */
export class NativeRunner extends CompiledRunner<NativeModel> {
  readonly backend = "llvm";
  protected load(fn: Func): NativeModel {
    const dir = cacheDir(this.module, fn, "llvm-native");
    cachedBuild(dir, `${fn.name}.json`, (staging) => buildNative(this.module, fn, { outDir: staging, cpu: "native", name: fn.name }));
    return NativeModel.load(dir, fn.name);
  }
  protected paramNames(m: NativeModel): string[] {
    return m.params.map((p) => p.name);
  }
  protected read(m: NativeModel, name: string): TypedArray {
    return m.readParam(name);
  }
  protected write(m: NativeModel, name: string, data: TypedArray): void {
    m.writeParam(name, data);
  }
  protected steps(m: NativeModel, _fn: Func, batch: number, steps: number, order: Int32Array, rows: number, all: readonly TypedArray[], outs: TypedArray[]): void {
    m.setCheckNumerics(this.check);
    const order64 = BigInt64Array.from(order.subarray(0, steps * batch), (x) => BigInt(x));
    try {
      m.runBatches(batch, steps, order64, rows, all, outs);
    } catch (e) {
      const err = e as { status?: number; completed?: number; message: string };
      if (err.status === STATUS_NUMERICS) throw new NumericsError(err.message, err.completed ?? 0);
      throw e;
    }
  }
  protected close(m: NativeModel): void {
    m.dispose();
  }
}

interface WasmModel {
  predictBatch(batch: number, ...inputs: TypedArray[]): TypedArray | TypedArray[];
  parameters: { name: string }[];
  readParameter(name: string): TypedArray;
  writeParameter(name: string, data: TypedArray): void;
  setCheckNumerics(on: boolean): void;
  dispose(): void;
}

/** WebAssembly through the generated model.js; this loop gathers batches and calls it per step. */
export class WasmRunner extends CompiledRunner<WasmModel> {
  readonly backend = "wasm";
  private constructor(module: Module, pending: Map<string, TypedArray>, private readonly loaded: Map<Func, WasmModel>) {
    super(module, pending);
  }

  /** model.js loads asynchronously, so every step function is built and loaded up front. */
  static async create(module: Module, params: Map<string, TypedArray>, fns: readonly StepName[]): Promise<WasmRunner> {
    const loaded = new Map<Func, WasmModel>();
    for (const name of fns) {
      const fn = module.getFunction(name)!;
      const dir = cacheDir(module, fn, "wasm");
      cachedBuild(dir, "model.js", (staging) => buildWasm(module, fn, { outDir: staging }));
      const generated = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as { load(): Promise<WasmModel> };
      loaded.set(fn, await generated.load());
    }
    return new WasmRunner(module, params, loaded);
  }
  protected load(fn: Func): WasmModel {
    const m = this.loaded.get(fn);
    if (!m) throw new TfcError("TFC7085", `internal: ${fn.name} was not built for wasm`);
    return m;
  }
  protected paramNames(m: WasmModel): string[] {
    return m.parameters.map((p) => p.name);
  }
  protected read(m: WasmModel, name: string): TypedArray {
    return m.readParameter(name);
  }
  protected write(m: WasmModel, name: string, data: TypedArray): void {
    m.writeParameter(name, data);
  }
  protected steps(m: WasmModel, fn: Func, batch: number, steps: number, order: Int32Array, _rows: number, all: readonly TypedArray[], outs: TypedArray[]): void {
    m.setCheckNumerics(this.check);
    for (let s = 0; s < steps; s++) {
      const inputs = fn.args.map((a, k) => gather(all[k]!, perRow(a.type), order, s * batch, batch));
      let result: TypedArray | TypedArray[];
      try {
        result = m.predictBatch(batch, ...inputs);
      } catch (e) {
        const err = e as { code?: string; message: string };
        if (err.code === "TFC_ERR_NUMERICS") throw new NumericsError(err.message, s);
        throw e;
      }
      const list = Array.isArray(result) ? result : [result];
      list.forEach((y, j) => outs[j]!.set(y, s * y.length));
    }
  }
  protected close(m: WasmModel): void {
    m.dispose();
  }
}

/** A runner for `backend` starting from `params` (values by parameter name). */
export async function createRunner(backend: Backend, module: Module, params: Map<string, TypedArray>, fns: readonly StepName[]): Promise<StepRunner> {
  if (backend === "llvm") return new NativeRunner(module, params);
  if (backend === "wasm") return WasmRunner.create(module, params, fns);
  const values: ParamValues = new Map();
  for (const p of module.params.values()) {
    const data = params.get(p.name);
    if (!data) throw new TfcError("TFC7086", `internal: no value for parameter '${p.name}'`);
    values.set(p.name, hostTensor(p.type.dtype, [...p.type.shape], data.slice()));
  }
  return new InterpRunner(module, values);
}
