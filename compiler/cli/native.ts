// `tfc predict --target llvm|wasm`: build the model (cached by the hash of its optimized IR, the
// CPU choice and the compiler's own code, so repeated predictions skip the compile) and run it:
// native code through koffi, WebAssembly through the generated model.js.

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Func, Module } from "../../ir/ir.js";
import { printModule } from "../../ir/printer.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { BATCH } from "../../ir/types.js";
import { buildNative } from "../../targets/llvm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { TfcError } from "../../ir/errors.js";
import { pathToFileURL } from "node:url";

const VERSION = "0.1.0";
const here = path.dirname(fileURLToPath(import.meta.url));

let fingerprint: string | undefined;
/** A hash of the code that turns IR into a library (lowering, kernel IR, LLVM target, C runtime). */
export function compilerFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = crypto.createHash("sha256").update(VERSION);
  for (const dir of ["../../passes/lower", "../../ir/kernel", "../../targets/llvm", "../../../runtime/c"].map((d) => path.resolve(here, d))) {
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
      if (f.endsWith(".js") || f.endsWith(".c") || f.endsWith(".h")) h.update(f).update(fs.readFileSync(path.join(dir, f)));
    }
  }
  return (fingerprint = h.digest("hex"));
}

export function nativeCacheDir(module: Module, cpu: string): string {
  const hash = crypto.createHash("sha256").update(`${compilerFingerprint()}\n${cpu}\n${printModule(module)}`).digest("hex").slice(0, 24);
  return path.join(os.tmpdir(), `tfc-cache-${process.getuid?.() ?? "user"}`, hash);
}

/** `tfc predict --target wasm`: build (cached) and run the generated model.js in this Node process. */
export async function predictWasm(module: Module, fn: Func, inputs: readonly HostTensor[]): Promise<HostTensor[]> {
  const dir = nativeCacheDir(module, "wasm");
  if (!fs.existsSync(path.join(dir, "model.js"))) {
    const staging = `${dir}.tmp-${process.pid}`;
    buildWasm(module, fn, { outDir: staging });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  }
  const batch = batchOf(fn, inputs);
  const generated = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as {
    load(): Promise<{ predictBatch(batch: number, ...inputs: unknown[]): unknown; dispose(): void }>;
  };
  let model;
  try {
    model = await generated.load();
    const out = model.predictBatch(batch, ...inputs.map((t) => t.data));
    const outs = (Array.isArray(out) ? out : [out]) as HostTensor["data"][];
    return outs.map((data, i) => hostTensor(fn.results[i]!.type.dtype, fn.results[i]!.type.shape.map((d) => (d === BATCH ? batch : d)), data));
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code && String(err.code).startsWith("TFC_ERR")) throw new TfcError("TFC6050", `${err.code}: ${err.message}`);
    throw e;
  } finally {
    model?.dispose();
  }
}

export function predictNative(module: Module, fn: Func, inputs: readonly HostTensor[], cpu: string): HostTensor[] {
  const dir = nativeCacheDir(module, cpu);
  if (!fs.existsSync(path.join(dir, "model.json"))) {
    const staging = `${dir}.tmp-${process.pid}`;
    buildNative(module, fn, { outDir: staging, cpu });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  }
  const batch = batchOf(fn, inputs);
  const model = NativeModel.load(dir, "model");
  try {
    const outs = model.predict(inputs.map((t) => t.data), batch);
    return outs.map((data, i) => hostTensor(fn.results[i]!.type.dtype, fn.results[i]!.type.shape.map((d) => (d === BATCH ? batch : d)), data));
  } finally {
    model.dispose();
  }
}

function batchOf(fn: Func, inputs: readonly HostTensor[]): number {
  for (let i = 0; i < fn.args.length; i++) {
    const k = fn.args[i]!.type.shape.indexOf(BATCH);
    if (k >= 0) return inputs[i]!.shape[k]!;
  }
  return 1;
}
