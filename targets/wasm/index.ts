// The WebAssembly target: lower a function with 4-lane vectors, emit it with binaryen (emit.ts),
// optimize, and write model.wasm, model.js (a dependency-free ES module loader for Node and
// browsers, loader.ts), model.d.ts (the typed signature, dts.ts), the weights (or embed them) and
// model.json with code and data sizes. `threads: true` makes the shared-memory build and model.worker.js.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Func, Module } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { initialParams, type ParamValues } from "../../ir/interpreter.js";
import { BATCH } from "../../ir/types.js";
import type { KProgram, KProgramBuffer } from "../../ir/kernel/kir.js";
import { expandForLowering, lowerFunction } from "../../passes/lower/index.js";
import { packedBytes } from "../../passes/plan-memory.js";
import { encodeWeights, type NamedTensor } from "../common/weights.js";
import { splitResults, weightName } from "../llvm/cwrapper.js";
import { emitWasm, optimizeAndEmit, type WasmLayoutPlan, type WasmThreadsInfo } from "./emit.js";
import { loaderSource, type WasmLayout } from "./loader.js";
import { dtsSource } from "./dts.js";
import { workerSource } from "./worker.js";

export interface WasmOptions {
  readonly outDir: string;
  /** File stem (default `model`). */
  readonly name?: string;
  /** Put the weights into model.wasm's data segment instead of model.weights. */
  readonly embedWeights?: boolean;
  readonly params?: ParamValues;
  /** The threads build: shared memory, parallel loops on workers (model.worker.js next to model.js). */
  readonly threads?: boolean;
}

export interface WasmArtifacts {
  readonly dir: string;
  readonly wasm: string;
  readonly loader: string;
  readonly types: string;
  readonly weights: string | undefined;
  /** model.worker.js of the threads build. */
  readonly worker: string | undefined;
  readonly manifest: string;
  /** Bytes of code (the module without its data segments) and of weights. */
  readonly codeBytes: number;
  readonly dataBytes: number;
  readonly program: KProgram;
}

const DTYPE = { f32: "float32", i32: "int32", bool: "bool" } as const;
/** wasm32 memory is at most 4 GiB; keep the largest batch well inside it. */
const MAX_MEMORY = 2 ** 31;

function weightData(module: Module, b: KProgramBuffer, params: ParamValues): NamedTensor {
  if (b.role === "param") {
    const p = module.params.get(String(b.ref))!;
    const value = params.get(p.name);
    if (!value) throw new TfcError("TFC6004", `no value for parameter '${p.name}'`);
    return { name: weightName(b), dtype: b.elem, shape: [...p.type.shape], data: value.data };
  }
  return { name: weightName(b), dtype: b.elem, shape: [b.size.constant], data: b.data! };
}

function layoutJson(name: string, fn: Func, program: KProgram, plan: WasmLayoutPlan, weights: NamedTensor[], embedded: boolean, threads: WasmThreadsInfo | undefined): WasmLayout {
  const spec = (type: Func["args"][number]["type"], tensorName: string) => ({
    name: tensorName,
    dtype: DTYPE[type.dtype],
    shape: type.shape.map((d) => (d === BATCH ? null : d)),
  });
  const split = splitResults(fn);
  const place = (role: "input" | "output") =>
    program.buffers
      .filter((b) => b.role === role && (role === "input" || split.outputs.includes(Number(b.ref))))
      .sort((a, b) => Number(a.ref) - Number(b.ref))
      .map((b) => ({ offset: plan.places.get(b)!.dynamic!, elements: b.size }));
  const weightBuffers = program.buffers.filter((b) => b.role === "param" || b.role === "const");
  const updates = split.updates.map((u) => {
    const out = program.buffers.find((b) => b.role === "output" && b.ref === u.result)!;
    const weight = weightBuffers.findIndex((b) => b.role === "param" && b.ref === u.param);
    if (weight < 0) throw new TfcError("TFC6043", `internal: @${fn.name} updates parameter @${u.param} but never reads it`);
    return { offset: plan.places.get(out)!.dynamic!, weight };
  });
  const hasBatch = [...fn.args, ...fn.results].some((v) => v.type.shape.includes(BATCH));
  const per = plan.dynamicBytes.perBatch;
  return {
    name,
    signature: { inputs: fn.args.map((a, i) => spec(a.type, a.name ?? `input${i}`)), outputs: split.outputs.map((i) => spec(fn.results[i]!.type, fn.resultNames[i] ?? `output${i}`)) },
    staticBytes: plan.staticBytes,
    dynamicBytes: plan.dynamicBytes,
    inputs: place("input"),
    outputs: place("output"),
    updates,
    weights: weightBuffers
      .map((b) => {
        const w = weights.find((t) => t.name === weightName(b))!;
        return { name: w.name, dtype: w.dtype, shape: w.shape, offset: plan.places.get(b)!.static! };
      }),
    embeddedWeights: embedded,
    hasBatch,
    maxBatch: hasBatch && per > 0 ? Math.max(1, Math.floor((MAX_MEMORY - plan.staticBytes - plan.dynamicBytes.constant) / per)) : 1,
    ...(threads ? { threads: { initialPages: threads.initialPages, maximumPages: threads.maximumPages, controlOffset: threads.controlOffset } } : {}),
  };
}

/** Build the wasm artifacts of one function of a module. */
export function buildWasm(module: Module, fn: Func, opts: WasmOptions): WasmArtifacts {
  const name = (opts.name ?? "model").replace(/[^A-Za-z0-9_]/g, "_");
  const dir = path.resolve(opts.outDir);
  fs.mkdirSync(dir, { recursive: true });
  expandForLowering(module, fn);
  const program = lowerFunction(module, fn, { vectorWidth: 4 });
  const params = opts.params ?? initialParams(module);
  const buffers = program.buffers.filter((b) => b.role === "param" || b.role === "const");
  const weights = buffers.map((b) => weightData(module, b, params));
  const bytesOf = (t: NamedTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const embed = opts.embedWeights ? { data: new Map(buffers.map((b, i) => [b, bytesOf(weights[i]!)])) } : undefined;
  let plan: WasmLayoutPlan;
  let threads: WasmThreadsInfo | undefined;
  let wasmBytes: Uint8Array;
  try {
    const emitted = emitWasm(program, { ...(embed ? { embed } : {}), ...(opts.threads ? { threads: true } : {}) });
    plan = emitted.layout;
    threads = emitted.threads;
    wasmBytes = optimizeAndEmit(emitted.module);
  } catch (e) {
    if (e instanceof TfcError) throw e;
    // binaryen reports its own failures by aborting with a string.
    throw new TfcError("TFC6042", `internal: binaryen failed while building ${name}.wasm (${String((e as Error)?.message ?? e).slice(0, 300)}); please report it`);
  }
  const dataBytes = weights.reduce((n, t) => n + t.data.byteLength, 0);
  const codeBytes = wasmBytes.byteLength - (embed ? dataBytes : 0);

  const wasm = path.join(dir, `${name}.wasm`);
  fs.writeFileSync(wasm, wasmBytes);
  let weightsFile: string | undefined;
  if (!embed) {
    weightsFile = path.join(dir, `${name}.weights`);
    fs.writeFileSync(weightsFile, encodeWeights(weights));
  }
  const layout = layoutJson(name, fn, program, plan, weights, Boolean(embed), threads);
  let worker: string | undefined;
  if (threads) {
    worker = path.join(dir, `${name}.worker.js`);
    fs.writeFileSync(worker, workerSource(name));
  }
  const loader = path.join(dir, `${name}.js`);
  fs.writeFileSync(loader, loaderSource(layout, { wasmFile: `${name}.wasm`, weightsFile: `${name}.weights`, ...(worker ? { workerFile: `${name}.worker.js` } : {}) }));
  const types = path.join(dir, `${name}.d.ts`);
  fs.writeFileSync(types, dtsSource(layout));
  const manifest = path.join(dir, `${name}.json`);
  fs.writeFileSync(
    manifest,
    JSON.stringify(
      {
        format: "tfc-model",
        tfcVersion: "0.1.0",
        name,
        function: fn.name,
        target: { kind: "wasm", simd: true, threads: Boolean(threads) },
        signature: layout.signature,
        parameters: [...module.params.values()].map((p) => ({ name: p.name, dtype: DTYPE[p.type.dtype], shape: [...p.type.shape], trainable: p.trainable })),
        memory: {
          staticBytes: plan.staticBytes,
          dynamicBytes: plan.dynamicBytes,
          formula: `${plan.staticBytes + plan.dynamicBytes.constant} + ${plan.dynamicBytes.perBatch}·batch bytes`,
          // The temporaries' arena (passes/plan-memory.ts), part of the dynamic bytes.
          arenaBytes: program.arenaBytes,
          arenaFormula: `${program.arenaBytes.constant} + ${program.arenaBytes.perBatch}·batch bytes`,
          // Weights packed into GEMM panels once (prepare launches), part of the static bytes.
          packedBytes: packedBytes(program),
          maxBatch: layout.maxBatch,
        },
        size: { wasmBytes: wasmBytes.byteLength, codeBytes, dataBytes, embeddedWeights: Boolean(embed), loaderBytes: fs.statSync(loader).size },
        kernels: program.kernels.length,
        files: { wasm: `${name}.wasm`, loader: `${name}.js`, types: `${name}.d.ts`, ...(weightsFile ? { weights: `${name}.weights` } : {}), ...(worker ? { worker: `${name}.worker.js` } : {}) },
      },
      null,
      2,
    ) + "\n",
  );
  return { dir, wasm, loader, types, weights: weightsFile, worker, manifest, codeBytes, dataBytes, program };
}
