// Cold start: a fresh Node process that loads the MLP and predicts once, timed from spawn to exit
// (Node's own boot included; an empty script is printed for reference). tfc-wasm imports only the
// generated model.js; TF.js builds the same model in its cpu backend; onnxruntime-node loads the
// ONNX export of workloads.ts (from primitive-op IR, as in the latency rows). Each system runs untimed
// (warming the OS file cache), then timed, per ColdStartProtocol.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { buildWasm } from "../targets/wasm/index.js";
import { median } from "./measure.js";
import type { Entry, WorkloadResult } from "./report.js";
import { REPO_ROOT, prepareCompiled, type CompiledWorkload } from "./workloads.js";

/** How often each cold-start script runs: first untimed (warming the OS file cache), then timed. */
export interface ColdStartProtocol {
  readonly untimedRuns: number;
  readonly timedRuns: number;
}

export const COLD_START_PROTOCOL: ColdStartProtocol = { untimedRuns: 1, timedRuns: 9 };
/** `npm run bench -- --quick`: every script still runs (and must exit cleanly), just fewer times. */
export const QUICK_COLD_START_PROTOCOL: ColdStartProtocol = { untimedRuns: 0, timedRuns: 2 };

function timeProcess(script: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cold-start script failed: ${(r.stderr || r.stdout).split("\n")[0]}`);
  return ms;
}

function timeRuns(script: string, p: ColdStartProtocol): number[] {
  for (let i = 0; i < p.untimedRuns; i++) timeProcess(script);
  return Array.from({ length: p.timedRuns }, () => timeProcess(script));
}

/** The onnxruntime-node script, with the ONNX model written to `onnxFile`; or why there is none. */
function onnxruntimeScript(model: CompiledWorkload["onnx"], onnxFile: string, url: (id: string) => string): { script: string } | { missing: string } {
  if (!(model instanceof Uint8Array)) return { missing: `ONNX export failed: ${model.error.split("\n")[0]}` };
  fs.writeFileSync(onnxFile, model);
  try {
    const script = [
      `import ort from ${JSON.stringify(url("onnxruntime-node"))};`,
      `const session = await ort.InferenceSession.create(${JSON.stringify(onnxFile)});`,
      `await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", new Float32Array(784), [1, 784]) });`,
    ].join("\n");
    return { script };
  } catch (e) {
    return { missing: (e as Error).message.split("\n")[0]! };
  }
}

/** The cold-start workload, and the median boot time of an empty Node script (for the notes). */
export async function coldStart(p: ColdStartProtocol = COLD_START_PROTOCOL): Promise<{ result: WorkloadResult; nodeAloneMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-coldstart-"));
  const workload = prepareCompiled(path.join(REPO_ROOT, "examples", "mlp.ts"));
  const module = workload.compiled.module;
  buildWasm(module, module.functions[0]!, { outDir: path.join(dir, "wasm"), params: workload.params });
  const requireFromRepo = createRequire(path.join(REPO_ROOT, "package.json"));
  const url = (id: string) => pathToFileURL(requireFromRepo.resolve(id)).href;

  const scripts: Record<string, string> = {
    empty: "",
    "tfc-wasm": `import { load } from "./wasm/model.js";\nconst m = await load();\nm.predict(new Float32Array(784));\n`,
    "tfjs-cpu": [
      `import * as tf from ${JSON.stringify(url("@tensorflow/tfjs"))};`,
      `const model = tf.sequential();`,
      `model.add(tf.layers.dense({ units: 512, activation: "relu", inputShape: [784] }));`,
      `model.add(tf.layers.dense({ units: 512, activation: "relu" }));`,
      `model.add(tf.layers.dense({ units: 10, activation: "softmax" }));`,
      `model.predict(tf.zeros([1, 784])).dataSync();`,
    ].join("\n"),
  };
  const ort = onnxruntimeScript(workload.onnx, path.join(dir, "mlp.onnx"), url);
  if ("script" in ort) scripts["onnxruntime-node"] = ort.script;
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(scripts)) {
    files[name] = path.join(dir, `${name}.mjs`);
    fs.writeFileSync(files[name]!, text);
  }
  const entries: Entry[] = [];
  for (const system of ["tfc-wasm", "tfjs-cpu", "onnxruntime-node"]) {
    if (!files[system]) {
      entries.push({ system, isTfc: false, skipped: "missing" in ort ? ort.missing : "not available" });
      continue;
    }
    try {
      entries.push({ system, isTfc: system.startsWith("tfc"), timesMs: timeRuns(files[system]!, p), relError: 0 });
    } catch (e) {
      entries.push({ system, isTfc: system.startsWith("tfc"), skipped: (e as Error).message });
    }
  }
  const nodeAloneMs = median(timeRuns(files["empty"]!, p));
  fs.rmSync(dir, { recursive: true, force: true });
  return { result: { workload: "mlp cold start (new process: load + 1 predict)", kind: "latency", entries }, nodeAloneMs };
}
