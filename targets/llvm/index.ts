// The native CPU target: lower a function to kernel IR (once per CPU variant), emit LLVM IR,
// verify it (llvm-bindings when installed, else `opt -verify`), optimize with `opt -O3`, compile
// with `llc`, and link with the C runtime and the generated wrapper into libmodel.so / .a, next to
// model.h, the weights file and the model.json manifest.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Func, Module } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { initialParams, type ParamValues } from "../../ir/interpreter.js";
import { BATCH } from "../../ir/types.js";
import type { KProgram, KProgramBuffer } from "../../ir/kernel/kir.js";
import { expandForLowering, lowerFunction } from "../../passes/lower/index.js";
import { packedBytes } from "../../passes/plan-memory.js";
import { encodeWeights, type NamedTensor } from "../common/weights.js";
import { emitProgram } from "./emit.js";
import { findToolchain, hostCpu, run, type Toolchain } from "./toolchain.js";
import { hasLLVMBindings, VERIFY_SCRIPT } from "./verify-ir.js";
import { cName, modelHeader, modelSource, splitResults, weightName, type Variant } from "./cwrapper.js";

export interface NativeOptions {
  readonly outDir: string;
  /** C symbol prefix and file stem (default `model`). */
  readonly name?: string;
  /** `portable` (default): x86-64 baseline plus an AVX2+FMA build chosen at run time; `native`: this CPU only; or an llc CPU name. */
  readonly cpu?: string;
  /** Cross target triple (e.g. `aarch64-linux-gnu`); default: the host. */
  readonly triple?: string;
  /** Weights to write (default: the parameters' initial values). */
  readonly params?: ParamValues;
}

export interface NativeArtifacts {
  readonly dir: string;
  readonly name: string;
  readonly header: string;
  readonly sharedLibrary: string;
  readonly staticLibrary: string;
  readonly weights: string;
  readonly manifest: string;
  readonly program: KProgram;
}

interface BuildVariant extends Variant {
  readonly width: number;
  readonly llcArgs: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** runtime/c of this installation (dist/targets/llvm → ../../../runtime/c). */
export const RUNTIME_DIR = path.resolve(here, "../../../runtime/c");

function variantsFor(opts: NativeOptions, tc: Toolchain): BuildVariant[] {
  const cpu = opts.cpu ?? "portable";
  const arch = (opts.triple ?? os.arch()).startsWith("aarch64") || os.arch() === "arm64" ? "arm64" : opts.triple ? opts.triple.split("-")[0]! : os.arch();
  const triple = opts.triple ? [`-mtriple=${opts.triple}`] : [];
  if (arch !== "x64" && arch !== "x86_64") {
    return [{ suffix: "base", width: 4, llcArgs: [...triple, ...(cpu === "portable" ? [] : [`-mcpu=${cpu === "native" ? hostCpu(tc) : cpu}`])] }];
  }
  if (cpu === "portable") {
    return [
      { suffix: "avx2", width: 8, llcArgs: [...triple, "-mcpu=haswell"], when: "tfc_cpu_has_avx2_fma()" },
      { suffix: "base", width: 4, llcArgs: [...triple, "-mcpu=x86-64"] },
    ];
  }
  const name = cpu === "native" ? hostCpu(tc) : cpu;
  const wide = /haswell|broadwell|skylake|znver|icelake|cascade|cooper|alder|raptor|sapphire|tiger|rocket|x86-64-v[34]/.test(name);
  return [{ suffix: "native", width: wide ? 8 : 4, llcArgs: [...triple, `-mcpu=${name}`] }];
}

/**
 * Parse and verify LLVM IR with llvm-bindings when it is installed (in a child process: see
 * verify-ir.ts), else with `opt -verify`; a failure is TFC6003 with opt's explanation.
 */
function verifyIR(file: string, tc: Toolchain): void {
  if (hasLLVMBindings()) {
    const r = spawnSync(process.execPath, [VERIFY_SCRIPT, file], { encoding: "utf8" });
    if (r.status === 0) return;
  }
  try {
    run(tc.opt, ["-verify", "-disable-output", file], "verifying the generated LLVM IR");
  } catch (e) {
    if (e instanceof TfcError) throw new TfcError("TFC6003", `internal: tfc generated invalid LLVM IR (${file}); please report it.\n${e.message}`);
    throw e;
  }
  throw new TfcError("TFC6003", `internal: llvm-bindings rejected the generated LLVM IR (${file}) but opt accepts it; please report it`);
}

/** Param and const buffers with their shapes and data, as the weights file stores them. */
function weightTensors(module: Module, program: KProgram, params: ParamValues): { tensors: NamedTensor[]; shapeOf: (b: KProgramBuffer) => number[] } {
  const shapes = new Map<KProgramBuffer, number[]>();
  const tensors: NamedTensor[] = [];
  for (const b of program.buffers) {
    if (b.role === "param") {
      const p = module.params.get(String(b.ref))!;
      const value = params.get(p.name);
      if (!value) throw new TfcError("TFC6004", `no value for parameter '${p.name}'`);
      shapes.set(b, [...p.type.shape]);
      tensors.push({ name: weightName(b), dtype: b.elem, shape: [...p.type.shape], data: value.data });
    } else if (b.role === "const") {
      shapes.set(b, [b.size.constant]);
      tensors.push({ name: weightName(b), dtype: b.elem, shape: [b.size.constant], data: b.data! });
    }
  }
  return { tensors, shapeOf: (b) => shapes.get(b)! };
}

/** Build the native artifacts of one function of a module. */
export function buildNative(module: Module, fn: Func, opts: NativeOptions): NativeArtifacts {
  const crossCC = opts.triple && !opts.triple.startsWith(os.arch() === "x64" ? "x86_64" : os.arch()) ? `${opts.triple}-gcc` : undefined;
  const tc = findToolchain(crossCC);
  const name = cName(opts.name ?? "model");
  const dir = path.resolve(opts.outDir);
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-llvm-"));
  try {
    expandForLowering(module, fn);
    const variants = variantsFor(opts, tc);
    const objects: string[] = [];
    let layout: KProgram | undefined;
    for (const v of variants) {
      const program = lowerFunction(module, fn, { vectorWidth: v.width });
      // The C wrapper binds one layout for every variant: names, roles, sizes and arena offsets must agree.
      const layoutOf = (p: KProgram) => JSON.stringify([p.arenaBytes, p.buffers.map((b) => [b.name, b.role, b.size, b.offset ?? null])]);
      if (layout && layoutOf(layout) !== layoutOf(program)) {
        throw new TfcError("TFC6005", "internal: CPU variants lowered to different buffer layouts");
      }
      layout ??= program;
      const ll = path.join(work, `${name}_${v.suffix}.ll`);
      fs.writeFileSync(ll, emitProgram(program, { prefix: `${name}_${v.suffix}`, ...(opts.triple ? { triple: opts.triple } : {}) }));
      verifyIR(ll, tc);
      const bc = path.join(work, `${name}_${v.suffix}.bc`);
      run(tc.opt, ["-O3", ...v.llcArgs.filter((a) => a.startsWith("-mcpu") || a.startsWith("-mtriple")), ll, "-o", bc], "optimizing with opt");
      const obj = path.join(work, `${name}_${v.suffix}.o`);
      run(tc.llc, ["-O3", "-filetype=obj", "-relocation-model=pic", ...v.llcArgs, bc, "-o", obj], "compiling with llc");
      objects.push(obj);
      if (process.env["TFC_KEEP_LL"]) fs.copyFileSync(ll, path.join(dir, path.basename(ll)));
    }
    const program = layout!;
    const { tensors, shapeOf } = weightTensors(module, program, opts.params ?? initialParams(module));
    const weights = path.join(dir, `${name}.weights`);
    fs.writeFileSync(weights, encodeWeights(tensors));
    const header = path.join(dir, `${name}.h`);
    fs.writeFileSync(header, modelHeader(name, fn));
    const source = path.join(work, `${name}.c`);
    fs.writeFileSync(source, modelSource(name, fn, program, variants, shapeOf));
    fs.copyFileSync(path.join(RUNTIME_DIR, "tfc_runtime.h"), path.join(dir, "tfc_runtime.h"));
    const cflags = ["-std=c11", "-O2", "-fPIC", "-pthread", "-I", dir, "-I", RUNTIME_DIR];
    const wrapperObj = path.join(work, `${name}_wrapper.o`);
    run(tc.cc, [...cflags, "-c", source, "-o", wrapperObj], "compiling the C wrapper");
    const runtimeObj = path.join(work, "tfc_runtime.o");
    run(tc.cc, [...cflags, "-c", path.join(RUNTIME_DIR, "tfc_runtime.c"), "-o", runtimeObj], "compiling the C runtime");
    const all = [wrapperObj, runtimeObj, ...objects];
    const sharedLibrary = path.join(dir, `lib${name}.so`);
    run(tc.cc, ["-shared", "-o", sharedLibrary, ...all, "-lm", "-pthread"], "linking the shared library");
    const staticLibrary = path.join(dir, `lib${name}.a`);
    fs.rmSync(staticLibrary, { force: true });
    run(tc.ar, ["rcs", staticLibrary, ...all], "archiving the static library");
    const manifest = path.join(dir, `${name}.json`);
    fs.writeFileSync(manifest, JSON.stringify(manifestOf(name, module, fn, program, variants, opts, tensors), null, 2) + "\n");
    return { dir, name, header, sharedLibrary, staticLibrary, weights, manifest, program };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const dtypeName = { f32: "float32", i32: "int32", bool: "bool" } as const;

function manifestOf(name: string, module: Module, fn: Func, program: KProgram, variants: readonly BuildVariant[], opts: NativeOptions, tensors: NamedTensor[]) {
  const shape = (s: readonly number[]) => s.map((d) => (d === BATCH ? null : d));
  const weightBytes = tensors.reduce((n, t) => n + t.data.byteLength, 0);
  return {
    format: "tfc-model",
    tfcVersion: "0.1.0",
    name,
    function: fn.name,
    target: { kind: "llvm", triple: opts.triple ?? `${os.arch() === "x64" ? "x86_64" : os.arch()}-linux-gnu`, cpu: opts.cpu ?? "portable", variants: variants.map((v) => v.suffix) },
    signature: {
      inputs: fn.args.map((a) => ({ name: a.name, dtype: dtypeName[a.type.dtype], shape: shape(a.type.shape) })),
      outputs: splitResults(fn).outputs.map((i) => ({ name: fn.resultNames[i], dtype: dtypeName[fn.results[i]!.type.dtype], shape: shape(fn.results[i]!.type.shape) })),
    },
    updates: splitResults(fn).updates.map((u) => u.param),
    parameters: [...module.params.values()].map((p) => ({ name: p.name, dtype: dtypeName[p.type.dtype], shape: [...p.type.shape], trainable: p.trainable })),
    memory: {
      arenaBytes: program.arenaBytes,
      arenaFormula: `${program.arenaBytes.constant} + ${program.arenaBytes.perBatch}·batch bytes`,
      weightBytes,
      // Weights packed into GEMM panels once (prepare launches), held next to the weights.
      packedBytes: packedBytes(program),
    },
    kernels: program.kernels.length,
    files: { header: `${name}.h`, shared: `lib${name}.so`, static: `lib${name}.a`, weights: `${name}.weights`, runtimeHeader: "tfc_runtime.h" },
  };
}
