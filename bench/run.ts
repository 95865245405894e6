// `npm run bench`: tfc next to numpy, TensorFlow.js (cpu, wasm) and onnxruntime-node, in one run, on
// SGEMM (n = 256, 512, 1024) and on the MLP and MNIST CNN examples (batch 1 and 64), all with tfc's
// weights and inputs, and on training throughput (bench/training.ts). Checks every output against tfc's
// interpreter, prints a table, writes bench/results.json. `npm run bench -- --quick` runs every row with
// few repetitions (bench/options.ts picks the protocols once; they are passed down from here).

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AGREEMENT_TOLERANCE, measure, relativeError, type Measurement, type Protocol } from "./measure.js";
import { BenchUsageError, benchUsage, modeLabel, parseBenchArgs, protocolsFor, type BenchOptions, type BenchProtocols } from "./options.js";
import { formatTable, rowsOf, type Entry, type WorkloadResult } from "./report.js";
import { loadNumpy } from "./systems/numpy.js";
import { loadOnnxRuntime, type OnnxRuntime } from "./systems/onnxruntime.js";
import { tfcRunners, type TfcRunner } from "./systems/tfc.js";
import { tfjsBackends, tfjsMatMul, tfjsModel, type TfjsBackend, type TfjsModel } from "./systems/tfjs.js";
import { REPO_ROOT, prepareCompiled, prepareModel, seededUniform, writeSgemmModel } from "./workloads.js";
import { coldStart } from "./coldstart.js";
import { trainingNotes, trainingThroughput } from "./training.js";

const SGEMM_SIZES = [256, 512, 1024];
const MODELS = ["mlp", "mnist-cnn"];
const BATCHES = [1, 64];
const NOT_AVAILABLE = "not available here (see the notes above the tables)";
/** The runner whose output every other system is checked against. */
const REFERENCE = "tfc-interp";

interface Peers {
  readonly tfjs: readonly TfjsBackend[];
  readonly ort: OnnxRuntime | { missing: string };
  readonly ortWeb: OnnxRuntime | { missing: string };
  readonly numpy: ReturnType<typeof loadNumpy>;
}

/** Run one system per the protocol; an exception becomes a "skipped" entry instead of ending the benchmark. */
async function timeSystem(system: string, isTfc: boolean, reference: () => Float32Array | undefined, run: () => Promise<Measurement>): Promise<Entry> {
  try {
    const m = await run();
    const expected = reference();
    if (!expected) return { system, isTfc, skipped: `no ${REFERENCE} output to check against (see its row)` };
    return { system, isTfc, timesMs: m.timesMs, relError: relativeError(m.output, expected) };
  } catch (e) {
    return { system, isTfc, skipped: (e as Error).message.split("\n")[0]! };
  }
}

/** tfc's runners with the reference first, so that its output exists when the others are checked. */
function referenceFirst(runners: TfcRunner[]): TfcRunner[] {
  return [...runners.filter((r) => r.name === REFERENCE), ...runners.filter((r) => r.name !== REFERENCE)];
}

async function sgemm(n: number, peers: Peers, protocols: BenchProtocols): Promise<WorkloadResult> {
  const file = writeSgemmModel(n);
  const workload = prepareCompiled(file);
  const a = seededUniform(n * n, 100 + n, -1, 1);
  const b = seededUniform(n * n, 200 + n, -1, 1);
  const entries: Entry[] = [];
  let expected: Float32Array | undefined;
  const reference = () => expected;

  const sgemmRunners = referenceFirst(await tfcRunners(file, workload.compiled));
  for (const runner of sgemmRunners) {
    entries.push(
      await timeSystem(runner.name, true, reference, async () => {
        const m = await measure(() => runner.run([a, b], 1), protocols.sgemm);
        if (runner.name === REFERENCE) expected = m.output;
        return m;
      }),
    );
  }
  for (const runner of sgemmRunners) runner.dispose?.();
  if ("missing" in peers.numpy) entries.push({ system: "numpy", isTfc: false, skipped: NOT_AVAILABLE });
  else {
    const numpy = peers.numpy;
    entries.push(await timeSystem("numpy", false, reference, async () => numpy.sgemm(n, a, b, protocols.sgemm)));
  }
  for (const backend of peers.tfjs) {
    entries.push(
      await timeSystem(backend.system, false, reference, async () => {
        await backend.activate();
        const matmul = tfjsMatMul(n, a, b);
        try {
          return await measure(() => matmul.multiply(), protocols.sgemm);
        } finally {
          matmul.dispose();
        }
      }),
    );
  }
  for (const ort of [peers.ort, peers.ortWeb]) entries.push(await onnxEntry(ort, workload.onnx, [a, b], [[n, n], [n, n]], protocols.sgemm, reference));
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return { workload: `sgemm n=${n}`, kind: "sgemm", flops: 2 * n ** 3, entries };
}

async function onnxEntry(
  ort: Peers["ort"],
  model: Uint8Array | { error: string },
  inputs: Float32Array[],
  shapes: number[][],
  protocol: Protocol,
  reference: () => Float32Array | undefined,
): Promise<Entry> {
  if ("missing" in ort) return { system: ort.missing.split(" ")[0]!, isTfc: false, skipped: NOT_AVAILABLE };
  if (!(model instanceof Uint8Array)) return { system: ort.system, isTfc: false, skipped: `ONNX export failed: ${model.error}` };
  return timeSystem(ort.system, false, reference, async () => {
    const session = await ort.session(model);
    try {
      return await measure(() => session.run(inputs, shapes), protocol);
    } finally {
      await session.release();
    }
  });
}

async function models(peers: Peers, protocols: BenchProtocols): Promise<WorkloadResult[]> {
  const results: WorkloadResult[] = [];
  for (const name of MODELS) {
    const workload = prepareModel(name);
    const runners = referenceFirst(await tfcRunners(workload.file, workload.compiled));
    let tfjs: TfjsModel | { error: string };
    try {
      tfjs = tfjsModel(workload.file, workload.layerWeights, workload.sampleShape);
    } catch (e) {
      tfjs = { error: `TF.js could not load examples/${name}.ts: ${(e as Error).message.split("\n")[0]}` };
    }
    for (const batch of BATCHES) {
      const input = seededUniform(batch * workload.sampleShape.reduce((x, y) => x * y, 1), 300 + batch, 0, 1);
      const entries: Entry[] = [];
      let expected: Float32Array | undefined;
      const reference = () => expected;
      for (const runner of runners) {
        entries.push(
          await timeSystem(runner.name, true, reference, async () => {
            const m = await measure(() => runner.predict(input, batch), protocols.latency);
            if (runner.name === REFERENCE) expected = m.output;
            return m;
          }),
        );
      }
      for (const backend of peers.tfjs) {
        if ("error" in tfjs) {
          entries.push({ system: backend.system, isTfc: false, skipped: tfjs.error });
          continue;
        }
        const model = tfjs;
        entries.push(
          await timeSystem(backend.system, false, reference, async () => {
            await backend.activate();
            model.loadWeights();
            return measure(() => model.predict(input, batch), protocols.latency);
          }),
        );
      }
      for (const ort of [peers.ort, peers.ortWeb]) entries.push(await onnxEntry(ort, workload.onnx, [input], [[batch, ...workload.sampleShape]], protocols.latency, reference));
      results.push({ workload: `${name} batch=${batch}`, kind: "latency", entries });
    }
    for (const runner of runners) runner.dispose?.();
  }
  return results;
}

/** The protocol note above the tables (a quick run's protocols have no warm-up calls). */
function protocolNote(latency: Protocol, sgemm: Protocol): string {
  const warmup = latency.maxWarmups > 1 ? `and warm-up calls (≤ ${latency.warmupMs} ms)` : "(no warm-up calls)";
  const gc = (globalThis as { gc?: unknown }).gc ? "garbage collected before each system, " : "";
  return `protocol: ${gc}a checked first call ${warmup}, then timed calls for ≥ ${latency.budgetMs} ms and ≥ ${latency.minReps} calls (SGEMM ≥ ${sgemm.minReps}), fewer only past a ${sgemm.hardCapMs / 1000} s cap`;
}

/** The options of process.argv, or undefined (usage printed, exit code 2) when an argument is not one the benchmark takes. */
function argvOptions(): BenchOptions | undefined {
  try {
    return parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    console.error(`${e.message}\n${benchUsage()}`);
    process.exitCode = 2;
    return undefined;
  }
}

async function main(): Promise<void> {
  const options = argvOptions();
  if (!options) return;
  if (options.help) {
    console.log(benchUsage());
    return;
  }
  const protocols = protocolsFor(options);
  const started = performance.now();
  const cpu = os.cpus();
  console.log(`tfc benchmark${modeLabel(protocols.mode)}: ${new Date().toISOString()}, Node ${process.version}, ${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length} cores`);
  const [load] = os.loadavg();
  if (load! > cpu.length / 2) console.log(`  note: load average ${load!.toFixed(1)} on ${cpu.length} cores: other work is running, timings will be noisy`);

  const tfjs = await tfjsBackends();
  const peers: Peers = { tfjs: tfjs.backends, ort: await loadOnnxRuntime("onnxruntime-node"), ortWeb: await loadOnnxRuntime("onnxruntime-web"), numpy: loadNumpy() };
  const notes = [
    ...(protocols.mode === "quick"
      ? [
          `quick: every workload, system and output check of the full run, with fewer calls (protocols below); cold start runs each script ${protocols.coldStart.timedRuns} times; for checking that everything runs, not for quoting`,
        ]
      : []),
    "tfc-interp: tfc's reference interpreter on the inference-pipeline IR (the oracle; slow by design)",
    "missing" in peers.numpy ? `numpy: skipped, ${peers.numpy.missing}` : `numpy: ${peers.numpy.description}, in a python3 subprocess; BLAS picks its own thread count`,
    ...tfjs.notes,
    "missing" in peers.ort
      ? `onnxruntime-node: skipped, ${peers.ort.missing}`
      : `onnxruntime-node: ${peers.ort.version}, CPU execution provider, all graph optimizations, default intra-op threads (one per core); models written by bench/onnx-export.ts`,
    "missing" in peers.ortWeb ? `onnxruntime-web: skipped, ${peers.ortWeb.missing}` : `onnxruntime-web: ${peers.ortWeb.version}, its WebAssembly build run in Node, the same ONNX models`,
    `every output is checked once per workload against ${REFERENCE}: max|out − ref| ≤ ${AGREEMENT_TOLERANCE} × max|ref|`,
    protocolNote(protocols.latency, protocols.sgemm),
    ...trainingNotes(protocols.training),
  ];
  for (const note of notes) console.log(`  ${note}`);

  const results: WorkloadResult[] = [];
  for (const n of SGEMM_SIZES) {
    results.push(await sgemm(n, peers, protocols));
    process.stderr.write(`  sgemm n=${n} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  results.push(...(await models(peers, protocols)));
  const cold = await coldStart(protocols.coldStart);
  results.push(cold.result);
  console.log(`  cold start: a new Node process per run (spawn to exit); Node alone with an empty script takes ${cold.nodeAloneMs.toFixed(0)} ms (median); outputs are not checked there`);

  results.push(await trainingThroughput({ protocol: protocols.training, tfjs: peers.tfjs }));
  process.stderr.write(`  training done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);

  console.log(`\n${formatTable("sgemm", results)}\n\n${formatTable("latency", results)}\n\n${formatTable("training", results)}\n`);
  const outFile = path.join(REPO_ROOT, "bench", "results.json");
  fs.writeFileSync(outFile, `${JSON.stringify(results.flatMap(rowsOf), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), outFile)} in ${((performance.now() - started) / 1000).toFixed(0)} s in all${modeLabel(protocols.mode)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
