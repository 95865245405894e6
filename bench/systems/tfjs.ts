// TensorFlow.js in this Node process, on its pure-JS "cpu" backend and its WebAssembly backend
// (@tensorflow/tfjs-backend-wasm, whose .wasm binaries ship in the npm package; SIMD when the engine
// validates it; threads are probed in a child process because a failed threaded start crashes the process).

import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tfjs from "@tensorflow/tfjs";
import * as tfjsWasm from "@tensorflow/tfjs-backend-wasm";
import { loadModelFile } from "../../compiler/frontend/load.js";
import type { HostTensor } from "../../ir/tensor.js";

export interface TfjsBackend {
  /** The system's name in the results: "tfjs-cpu" or "tfjs-wasm" (details go to the notes). */
  readonly system: string;
  /** Make this the backend TF.js runs on. */
  activate(): Promise<void>;
}

export interface TfjsBackends {
  readonly backends: TfjsBackend[];
  /** What was found out on the way (SIMD, threads, failures). */
  readonly notes: string[];
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../.."); // dist/bench/systems → repo

/** The TF.js backends that start on this machine. */
export async function tfjsBackends(): Promise<TfjsBackends> {
  tfjs.enableProdMode(); // as TF.js advises for deployment: skips debug-time checks (and the tfjs-node banner)
  const notes: string[] = [`tfjs-cpu: @tensorflow/tfjs ${tfjs.version.tfjs} in prod mode, the pure-JS cpu backend (one thread)`];
  const backends: TfjsBackend[] = [{ system: "tfjs-cpu", activate: () => setBackend("cpu") }];

  const threads = probeWasmThreads();
  if (threads.ok) {
    tfjs.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    tfjsWasm.setThreadsCount(os.cpus().length);
  }
  try {
    await setBackend("wasm");
    const simd = (await tfjs.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
    const threadCount = tfjsWasm.getThreadsCount();
    backends.push({ system: "tfjs-wasm", activate: () => setBackend("wasm") });
    notes.push(`tfjs-wasm: @tensorflow/tfjs-backend-wasm ${tfjsWasm.version_wasm}, SIMD ${simd ? "on" : "off"}, ${threadCount} thread${threadCount === 1 ? "" : "s"}${threads.ok ? "" : ` (threads unavailable: ${threads.why})`}`);
  } catch (e) {
    notes.push(`tfjs-backend-wasm did not start, skipped: ${(e as Error).message}`);
  }
  await setBackend("cpu");
  return { backends, notes };
}

async function setBackend(name: string): Promise<void> {
  if (!(await tfjs.setBackend(name))) throw new Error(`TF.js backend '${name}' failed to initialize`);
  await tfjs.ready();
}

/**
 * Whether the wasm backend's threaded build starts in Node: tfjs 4.x turns it off in Node
 * (WASM_HAS_MULTITHREAD_SUPPORT is false there); forcing it on is tried in a child process.
 */
function probeWasmThreads(): { ok: true } | { ok: false; why: string } {
  const script = `
    import * as tf from "@tensorflow/tfjs";
    import "@tensorflow/tfjs-backend-wasm";
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    const ok = await tf.setBackend("wasm");
    process.exit(ok ? 0 : 3);`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
  if (run.status === 0) return { ok: true };
  const errorLine = `${run.stderr}`.split("\n").find((l) => /Error/.test(l))?.trim();
  const error = errorLine?.match(/^\w*Error \[\w+\]/)?.[0] ?? errorLine?.slice(0, 100) ?? `exit ${run.status ?? run.signal}`;
  const blobWorkers = /blob:/.test(run.stderr) ? "; its threaded build starts workers from blob: URLs, which Node's Worker refuses" : "";
  return { ok: false, why: `tfjs turns them off in Node, and forcing WASM_HAS_MULTITHREAD_SUPPORT on fails with ${error}${blobWorkers}` };
}

/** The model file run by TF.js itself (`tfc` bound to @tensorflow/tfjs), holding tfc's weights. */
export interface TfjsModel {
  /** Load the weights onto the active backend; call after each activate(). */
  loadWeights(): void;
  predict(input: Float32Array, batch: number): Float32Array;
}

/** `weights` in the order of the model's layer weights (result.traced.model.weights). */
export function tfjsModel(file: string, weights: readonly HostTensor[], inputShape: readonly number[]): TfjsModel {
  const model = loadModelFile(file, { tfcModule: tfjs }).exports["default"] as tfjs.LayersModel;
  return {
    loadWeights() {
      const tensors = weights.map((w) => tfjs.tensor(w.data as Float32Array, [...w.shape]));
      model.setWeights(tensors);
      tfjs.dispose(tensors);
    },
    predict(input, batch) {
      const output = tfjs.tidy(() => model.predict(tfjs.tensor(input, [batch, ...inputShape]), { batchSize: batch }) as tfjs.Tensor);
      const data = output.dataSync() as Float32Array;
      output.dispose();
      return data;
    },
  };
}

/** a @ b on the active backend, the inputs already resident there; includes reading the result back. */
export function tfjsMatMul(n: number, a: Float32Array, b: Float32Array): { multiply(): Float32Array; dispose(): void } {
  const ta = tfjs.tensor2d(a, [n, n]);
  const tb = tfjs.tensor2d(b, [n, n]);
  return {
    multiply() {
      const c = tfjs.matMul(ta, tb);
      const data = c.dataSync() as Float32Array;
      c.dispose();
      return data;
    },
    dispose: () => tfjs.dispose([ta, tb]),
  };
}
