// TF.js Layers checkpoints (model.json + weights binary): the topology and weight specs tfc writes
// against what TF.js 4.22 writes for the same model; tfc → tfc, tfc → TF.js and TF.js → tfc round
// trips; optimizer weights and metadata; atomic saving under failures; every bad-checkpoint error.
// Predictions: bit-exact tfc → tfc, 1e-5 relative (1e-6 absolute) against TF.js.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import * as io from "../../compiler/api/io/index.js";
import { Layer } from "../../compiler/api/layers/layer.js";
import type { Tensor } from "../../compiler/api/tensor.js";
import { collectWarnings, type Warning } from "../../compiler/api/warnings.js";
import { TfcError } from "../../ir/errors.js";
import { assertClose } from "../util.js";

let tmpRoot: string;
before(async () => {
  await tfjs.setBackend("cpu");
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-io-"));
});
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let dirCount = 0;
const freshDir = (): string => path.join(tmpRoot, `ckpt-${dirCount++}`);

// ---- Models, written once for both APIs --------------------------------------------------------

type AnyModel = any;
interface Case {
  build(tf: any): AnyModel;
  /** Input shapes without the batch dimension. */
  inputs: number[][];
  /** Inputs are integer ids below this (embeddings). */
  ids?: number;
}

const seeded = (tf: any, seed: number) => tf.initializers.glorotUniform({ seed });

const CASES: Record<string, Case> = {
  "sequential MLP": {
    inputs: [[5]],
    build: (tf) =>
      tf.sequential({
        name: "mlp",
        layers: [
          tf.layers.dense({ units: 8, inputShape: [5], activation: "relu", kernelInitializer: seeded(tf, 1), name: "hidden" }),
          tf.layers.dropout({ rate: 0.25, name: "drop" }),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(tf, 2), name: "out" }),
        ],
      }),
  },
  "CNN (conv2d, batchNormalization, maxPooling2d, depthwiseConv2d, averagePooling2d, flatten, dropout, dense)": {
    inputs: [[8, 8, 2]],
    build: (tf) =>
      tf.sequential({
        name: "cnn",
        layers: [
          tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 2], kernelInitializer: seeded(tf, 3), name: "conv" }),
          tf.layers.batchNormalization({ name: "bn" }),
          tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }),
          tf.layers.depthwiseConv2d({ kernelSize: [2, 2], depthMultiplier: 2, depthwiseInitializer: seeded(tf, 4), name: "dw" }),
          tf.layers.averagePooling2d({ poolSize: [1, 1], strides: 1, padding: "same", name: "avg" }),
          tf.layers.flatten({ name: "flat" }),
          tf.layers.dropout({ rate: 0.5, name: "drop" }),
          tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.heNormal({ seed: 5 }), name: "logits" }),
        ],
      }),
  },
  "sequential reshape, activation, globalAveragePooling2d": {
    inputs: [[36]],
    build: (tf) =>
      tf.sequential({
        name: "misc",
        layers: [
          tf.layers.reshape({ targetShape: [6, 6, 1], inputShape: [36], name: "to_image" }),
          tf.layers.conv2d({ filters: 3, kernelSize: [3, 2], strides: [2, 1], useBias: false, kernelInitializer: tf.initializers.randomNormal({ seed: 6, stddev: 0.3 }), name: "conv" }),
          tf.layers.activation({ activation: "tanh", name: "act" }),
          tf.layers.globalAveragePooling2d({ name: "gap" }),
          tf.layers.dense({ units: 2, activation: "sigmoid", kernelInitializer: tf.initializers.leCunUniform({ seed: 7 }), biasInitializer: "ones", name: "out" }),
        ],
      }),
  },
  "embedding": {
    inputs: [[4]],
    ids: 10,
    build: (tf) =>
      tf.sequential({
        name: "embed",
        layers: [
          tf.layers.embedding({ inputDim: 10, outputDim: 3, inputShape: [4], embeddingsInitializer: tf.initializers.randomUniform({ seed: 8, minval: -1, maxval: 1 }), name: "emb" }),
          tf.layers.flatten({ name: "flat" }),
          tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.truncatedNormal({ seed: 9 }), name: "out" }),
        ],
      }),
  },
  "functional model with two inputs, concatenate, add and a shared layer": {
    inputs: [[4], [4]],
    build: (tf) => {
      const a = tf.input({ shape: [4], name: "a" });
      const b = tf.input({ shape: [4], name: "b" });
      const shared = tf.layers.dense({ units: 6, activation: "relu", kernelInitializer: seeded(tf, 10), name: "shared" });
      const sa = shared.apply(a);
      const sb = shared.apply(b);
      const sum = tf.layers.add({ name: "sum" }).apply([sa, sb]);
      const cat = tf.layers.concatenate({ name: "cat" }).apply([a, b]);
      const both = tf.layers.concatenate({ axis: -1, name: "both" }).apply([sum, cat]);
      const out = tf.layers.dense({ units: 3, kernelInitializer: seeded(tf, 11), name: "head" }).apply(both);
      return tf.model({ inputs: [a, b], outputs: out, name: "two_inputs" });
    },
  },
};

/** Deterministic values in [-1, 1) (positive where a weight must be, e.g. moving variance). */
function values(n: number, salt: number, positive = false): number[] {
  return Array.from({ length: n }, (_, i) => {
    const v = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
    const u = 2 * (v - Math.floor(v)) - 1;
    return positive ? 0.5 + Math.abs(u) : u;
  });
}

/** Give every weight non-trivial values (biases and batch-norm statistics start at 0 and 1). */
function randomizeTfc(model: tfc.LayersModel, salt = 1): void {
  for (const [k, w] of model.weights.entries()) w.assign(tfc.tensor(values(w.size, salt + k, w.name.includes("variance")), w.shape));
}
function randomizeTfjs(model: tfjs.LayersModel, salt = 1): void {
  model.setWeights(model.weights.map((w, k) => tfjs.tensor(values(w.shape.reduce((a: number, b) => a * b!, 1), salt + k, w.name.includes("variance")), w.shape as number[])));
}

function inputData(c: Case, batch = 3): { shape: number[]; data: number[] }[] {
  return c.inputs.map((shape, k) => {
    const full = [batch, ...shape];
    const n = full.reduce((a, b) => a * b, 1);
    const data = c.ids ? values(n, 100 + k).map((v) => Math.floor((v + 1) / 2 * c.ids!)) : values(n, 100 + k);
    return { shape: full, data };
  });
}

function predictTfc(model: tfc.LayersModel, c: Case): Float32Array {
  const xs = inputData(c).map((x) => tfc.tensor(x.data, x.shape));
  const y = model.predict(xs.length === 1 ? xs[0]! : xs) as Tensor;
  return y.dataSync() as Float32Array;
}
function predictTfjs(model: tfjs.LayersModel, c: Case): Float32Array {
  const xs = inputData(c).map((x) => tfjs.tensor(x.data, x.shape));
  const y = model.predict(xs.length === 1 ? xs[0]! : xs) as tfjs.Tensor;
  return y.dataSync() as Float32Array;
}

// ---- TF.js's side: artifacts, its file:// layout, loading from files ----------------------------

async function tfjsArtifacts(model: tfjs.LayersModel, config?: tfjs.io.SaveConfig): Promise<tfjs.io.ModelArtifacts> {
  let saved: tfjs.io.ModelArtifacts | undefined;
  await model.save(
    tfjs.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
    config,
  );
  return saved!;
}

/** Write artifacts as tfjs-node's file:// handler does: model.json and weights.bin. */
function writeAsTfjsNode(dir: string, a: tfjs.io.ModelArtifacts): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "weights.bin"), Buffer.from(tfjs.io.CompositeArrayBuffer.join(a.weightData!)));
  const json = {
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    ...(a.trainingConfig ? { trainingConfig: a.trainingConfig } : {}),
    ...(a.userDefinedMetadata ? { userDefinedMetadata: a.userDefinedMetadata } : {}),
  };
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
}

/** TF.js loading a checkpoint directory: model.json parsed by TF.js, weights files read as its manifest says. */
async function tfjsLoad(dir: string): Promise<tfjs.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")) as tfjs.io.ModelJSON;
  return tfjs.loadLayersModel({
    load: () =>
      tfjs.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers = manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
        return [manifest.flatMap((g) => g.weights), new Uint8Array(Buffer.concat(buffers)).buffer];
      }),
  });
}

const readJSON = (dir: string): any => JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
const listDir = (dir: string): string[] => fs.readdirSync(dir).sort();

/** The topology with the parts that differ by design removed: the writer's version; functional layers by name. */
function comparable(topology: any): any {
  const t = structuredClone(topology);
  delete t.keras_version;
  if (t.class_name === "Model") t.config.layers.sort((x: any, y: any) => x.name.localeCompare(y.name));
  return t;
}

// ---- Format against TF.js, and round trips ------------------------------------------------------

for (const [name, c] of Object.entries(CASES)) {
  test(`format: ${name}: modelTopology and weight specs are what TF.js 4.22 writes`, async () => {
    const ours = c.build(tfc) as tfc.LayersModel;
    const theirs = await tfjsArtifacts(c.build(tfjs));
    const topology = io.modelToJSON(ours);
    assert.equal(topology.keras_version, "tfc 0.1.0");
    assert.equal((theirs.modelTopology as any).keras_version, "tfjs-layers 4.22.0");
    assert.deepEqual(comparable(topology), comparable(theirs.modelTopology));
    const dir = freshDir();
    await io.saveLayersModel(ours, dir);
    const specs = readJSON(dir).weightsManifest[0].weights;
    if (topology.class_name === "Sequential") assert.deepEqual(specs, theirs.weightSpecs);
    else assert.deepEqual(new Set(specs.map((s: any) => JSON.stringify(s))), new Set(theirs.weightSpecs!.map((s) => JSON.stringify(s))));
  });

  test(`tfc → tfc: ${name} reloads with the same topology and predicts bit for bit the same`, async () => {
    const model = c.build(tfc) as tfc.LayersModel;
    randomizeTfc(model);
    const dir = freshDir();
    const result = await io.saveLayersModel(model, dir);
    const json = readJSON(dir);
    assert.equal(json.format, "layers-model");
    assert.equal(json.generatedBy, "tfc 0.1.0");
    assert.equal(json.convertedBy, null);
    assert.match(json.weightsManifest[0].paths[0], /^weights-[0-9a-f]{8}\.bin$/);
    assert.equal(result.weightsPath, path.join(dir, json.weightsManifest[0].paths[0]));
    assert.deepEqual(listDir(dir), ["model.json", json.weightsManifest[0].paths[0]].sort());
    const loaded = await io.loadLayersModel(dir);
    assert.equal(loaded.constructor, model.constructor);
    assert.equal(loaded.name, model.name);
    assert.deepEqual(io.modelToJSON(loaded), io.modelToJSON(model));
    assert.deepEqual(predictTfc(loaded, c), predictTfc(model, c));
  });

  test(`tfc → TF.js: ${name} saved by tfc loads in TF.js and predicts the same`, async () => {
    const model = c.build(tfc) as tfc.LayersModel;
    randomizeTfc(model, 7);
    const dir = freshDir();
    await io.saveLayersModel(model, dir);
    const theirs = await tfjsLoad(dir);
    assertClose(predictTfjs(theirs, c), predictTfc(model, c), 1e-5, 1e-6, `${name} predictions`);
  });

  test(`TF.js → tfc: ${name} saved by TF.js loads in tfc and predicts the same`, async () => {
    const theirs = c.build(tfjs) as tfjs.LayersModel;
    randomizeTfjs(theirs, 3);
    const dir = freshDir();
    writeAsTfjsNode(dir, await tfjsArtifacts(theirs));
    const ours = await io.loadLayersModel(path.join(dir, "model.json"));
    assertClose(predictTfc(ours, c), predictTfjs(theirs, c), 1e-5, 1e-6, `${name} predictions`);
  });
}

test("TF.js → tfc: a model TF.js names by default (dense_Dense1, input1, model1) loads", async () => {
  const a = tfjs.input({ shape: [3] });
  const b = tfjs.input({ shape: [3] });
  const out = tfjs.layers.dense({ units: 2 }).apply(tfjs.layers.concatenate().apply([a, b]) as tfjs.SymbolicTensor) as tfjs.SymbolicTensor;
  const theirs = tfjs.model({ inputs: [a, b], outputs: out });
  randomizeTfjs(theirs);
  const dir = freshDir();
  writeAsTfjsNode(dir, await tfjsArtifacts(theirs));
  const ours = await io.loadLayersModel(`file://${dir}`);
  assert.deepEqual(ours.inputs.map((s) => s.name), theirs.inputs.map((s) => s.name));
  const c: Case = { inputs: [[3], [3]], build: () => undefined };
  assertClose(predictTfc(ours, c), predictTfjs(theirs, c), 1e-5, 1e-6);
});

test("loadWeightsInto: a checkpoint loads into a freshly built model of the same architecture", async () => {
  const c = CASES["CNN (conv2d, batchNormalization, maxPooling2d, depthwiseConv2d, averagePooling2d, flatten, dropout, dense)"]!;
  const saved = c.build(tfc) as tfc.LayersModel;
  randomizeTfc(saved, 11);
  const dir = freshDir();
  await io.saveLayersModel(saved, dir, { userDefinedMetadata: { epoch: 3, note: "cnn" } });
  const fresh = c.build(tfc) as tfc.LayersModel;
  assert.notDeepEqual(predictTfc(fresh, c), predictTfc(saved, c));
  const extras = await io.loadWeightsInto(fresh, dir);
  assert.deepEqual(predictTfc(fresh, c), predictTfc(saved, c));
  assert.deepEqual(extras, { userDefinedMetadata: { epoch: 3, note: "cnn" } });
});

// ---- Optimizer weights and training config ------------------------------------------------------

test("TF.js → tfc: optimizer weights, trainingConfig and metadata come back from loadWeightsInto", async () => {
  const c = CASES["sequential MLP"]!;
  const theirs = c.build(tfjs) as tfjs.LayersModel;
  theirs.compile({ optimizer: tfjs.train.adam(0.01), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  await theirs.fit(tfjs.tensor(values(20, 1), [4, 5]), tfjs.oneHot(tfjs.tensor1d([0, 1, 2, 1], "int32"), 3), { epochs: 2, verbose: 0 });
  theirs.setUserDefinedMetadata({ trainedOn: "noise" });
  const dir = freshDir();
  writeAsTfjsNode(dir, await tfjsArtifacts(theirs, { includeOptimizer: true }));
  const ours = c.build(tfc) as tfc.LayersModel;
  const extras = await io.loadWeightsInto(ours, dir);
  assertClose(predictTfc(ours, c), predictTfjs(theirs, c), 1e-5, 1e-6);
  const expected = await theirs.optimizer.getWeights();
  assert.deepEqual(extras.optimizerWeights!.map((w) => w.name), expected.map((w) => w.name));
  assert.equal(extras.optimizerWeights![0]!.name, "iter");
  assert.equal(extras.optimizerWeights![0]!.tensor.dtype, "int32");
  extras.optimizerWeights!.forEach((w, i) => assertClose(w.tensor.dataSync(), expected[i]!.tensor.dataSync(), 0, 0, w.name));
  assert.deepEqual(extras.trainingConfig, {
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
    optimizer_config: { class_name: "Adam", config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } },
  });
  assert.deepEqual(extras.userDefinedMetadata, { trainedOn: "noise" });
});

test("tfc → TF.js: an optimizer given to saveLayersModel restores into TF.js's Adam", async () => {
  const c = CASES["sequential MLP"]!;
  const model = c.build(tfc) as tfc.LayersModel;
  randomizeTfc(model, 5);
  const slots = (suffix: string, salt: number) => model.weights.map((w, k) => ({ name: `${w.name}/${suffix}`, tensor: tfc.tensor(values(w.size, salt + k), w.shape) }));
  const optimizerWeights = [{ name: "iter", tensor: tfc.scalar(7, "int32") }, ...slots("m", 20), ...slots("v", 40).map((w) => ({ ...w, tensor: w.tensor.abs() }))];
  const optimizer = { getClassName: () => "Adam", getConfig: () => ({ learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }), getWeights: async () => optimizerWeights };
  const dir = freshDir();
  await io.saveLayersModel(model, dir, { optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const json = readJSON(dir);
  assert.deepEqual(json.trainingConfig, {
    loss: "categorical_crossentropy",
    metrics: ["accuracy"],
    optimizer_config: { class_name: "Adam", config: { learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 } },
  });
  const specs = json.weightsManifest[0].weights;
  assert.deepEqual(specs.slice(4).map((s: any) => [s.name, s.group]), optimizerWeights.map((w) => [w.name, "optimizer"]));
  assert.deepEqual(specs[4], { name: "iter", shape: [], dtype: "int32", group: "optimizer" });

  const theirs = await tfjsLoad(dir);
  assertClose(predictTfjs(theirs, c), predictTfc(model, c), 1e-5, 1e-6);
  const restored = await theirs.optimizer.getWeights();
  assert.deepEqual(restored.map((w) => w.name), optimizerWeights.map((w) => w.name));
  restored.forEach((w, i) => assertClose(w.tensor.dataSync(), optimizerWeights[i]!.tensor.dataSync(), 0, 0, w.name));
  assert.equal((theirs.optimizer as any).learningRate, 0.02);

  const back = await io.loadLayersModelWithExtras(dir);
  assert.deepEqual(back.optimizerWeights!.map((w) => [w.name, Array.from(w.tensor.dataSync())]), optimizerWeights.map((w) => [w.name, Array.from(w.tensor.dataSync())]));
});

// ---- Atomic saving ---------------------------------------------------------------------------

/** A saved checkpoint of the MLP and what a second, different save would write. */
async function twoVersions(): Promise<{ dir: string; c: Case; v1: tfc.LayersModel; v2: tfc.LayersModel; before: Map<string, Buffer> }> {
  const c = CASES["sequential MLP"]!;
  const v1 = c.build(tfc) as tfc.LayersModel;
  randomizeTfc(v1, 1);
  const v2 = c.build(tfc) as tfc.LayersModel;
  randomizeTfc(v2, 2);
  const dir = freshDir();
  await io.saveLayersModel(v1, dir);
  const before = new Map(listDir(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  return { dir, c, v1, v2, before };
}

async function assertUnchanged(dir: string, before: Map<string, Buffer>, c: Case, v1: tfc.LayersModel): Promise<void> {
  assert.deepEqual(listDir(dir), [...before.keys()].sort(), "no files added or removed");
  for (const [f, bytes] of before) assert.ok(fs.readFileSync(path.join(dir, f)).equals(bytes), `${f} unchanged`);
  assert.deepEqual(predictTfc(await io.loadLayersModel(dir), c), predictTfc(v1, c));
}

/** File operations that fail at operation number `failAt` (0-based), optionally as a crash: nothing after it runs. */
function failingOps(failAt: number, crash = false): { ops: io.FileOps; log: string[] } {
  const log: string[] = [];
  let n = 0;
  let crashed = false;
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (crashed) throw new Error("process is gone");
    log.push(what);
    if (n++ === failAt) {
      crashed = crash;
      throw Object.assign(new Error(`injected failure at ${what}`), { code: "EIO" });
    }
    return run();
  };
  const real = io.nodeFileOps;
  return {
    log,
    ops: {
      writeFile: (f, d) => step(`writeFile ${path.basename(f)}`, () => real.writeFile(f, d)),
      rename: (a, b) => step(`rename ${path.basename(a)} ${path.basename(b)}`, () => real.rename(a, b)),
      unlink: (f) => step(`unlink ${path.basename(f)}`, () => real.unlink(f)),
      syncDir: (d) => step("syncDir", () => real.syncDir(d)),
    },
  };
}

test("atomic save: the steps are write weights, rename, fsync dir, write model.json, rename over it, fsync dir, remove old weights", async () => {
  const { dir, v2, before } = await twoVersions();
  const { ops, log } = failingOps(-1);
  await io.saveLayersModel(v2, dir, { fileOps: ops });
  const newWeights = readJSON(dir).weightsManifest[0].paths[0];
  const oldWeights = [...before.keys()].find((f) => f !== "model.json")!;
  assert.notEqual(newWeights, oldWeights);
  assert.deepEqual(
    log.map((s) => s.replace(/\.\d+-[0-9a-f]{8}\.tmp/, ".TMP")),
    [`writeFile .${newWeights}.TMP`, `rename .${newWeights}.TMP ${newWeights}`, "syncDir", "writeFile .model.json.TMP", "rename .model.json.TMP model.json", "syncDir", `unlink ${oldWeights}`],
  );
  assert.deepEqual(listDir(dir), ["model.json", newWeights].sort());
});

for (const crash of [false, true]) {
  test(`atomic save: ${crash ? "a crash" : "an error"} at any step before the switch leaves the previous checkpoint unchanged${crash ? "; the next save clears what it left" : " and no files behind"}`, async () => {
    for (let failAt = 0; failAt < 5; failAt++) {
      const { dir, c, v1, v2, before } = await twoVersions();
      const { ops } = failingOps(failAt, crash);
      await assert.rejects(io.saveLayersModel(v2, dir, { fileOps: ops }), (e: unknown) => {
        assert.ok(e instanceof TfcError, String(e));
        assert.equal(e.code, "TFC7031");
        assert.match(e.message, /injected failure/);
        assert.match(e.message, /the previous checkpoint is unchanged/);
        return true;
      });
      if (!crash) {
        await assertUnchanged(dir, before, c, v1);
        continue;
      }
      // A crash leaves temporary files named after a process; make that process a gone one, as after a real crash.
      for (const f of listDir(dir)) {
        if (f.endsWith(".tmp")) fs.renameSync(path.join(dir, f), path.join(dir, f.replace(/\.\d+-/, ".999999999-")));
      }
      assert.deepEqual(predictTfc(await io.loadLayersModel(dir), c), predictTfc(v1, c), `step ${failAt}: the old checkpoint still loads`);
      // Saving v1 again rewrites the same two files and clears the crashed save's temporary and weights files.
      await io.saveLayersModel(v1, dir);
      await assertUnchanged(dir, before, c, v1);
    }
  });
}

test("atomic save: when the fsync after the switch fails, the new checkpoint is live and the old weights are kept", async () => {
  const { dir, c, v2, before } = await twoVersions();
  await assert.rejects(io.saveLayersModel(v2, dir, { fileOps: failingOps(5).ops }), /TFC7031|could not make the switch durable/);
  const files = listDir(dir);
  assert.equal(files.filter((f) => f.endsWith(".tmp")).length, 0);
  for (const f of before.keys()) assert.ok(files.includes(f), `${f} kept`);
  assert.deepEqual(predictTfc(await io.loadLayersModel(dir), c), predictTfc(v2, c));
});

test("atomic save: a real failure (the weights file's name is taken by a directory) leaves the previous checkpoint", async () => {
  const { dir, c, v1, v2, before } = await twoVersions();
  // Where v2's weights would go, found by saving it elsewhere first.
  const probe = freshDir();
  await io.saveLayersModel(v2, probe);
  const target = readJSON(probe).weightsManifest[0].paths[0];
  fs.mkdirSync(path.join(dir, target));
  before.set(target, Buffer.alloc(0));
  await assert.rejects(io.saveLayersModel(v2, dir), (e: unknown) => e instanceof TfcError && e.code === "TFC7031" && /the previous checkpoint is unchanged/.test(e.message));
  before.delete(target);
  assert.deepEqual(listDir(dir), [...before.keys(), target].sort());
  for (const [f, bytes] of before) assert.ok(fs.readFileSync(path.join(dir, f)).equals(bytes));
  assert.deepEqual(predictTfc(await io.loadLayersModel(dir), c), predictTfc(v1, c));
});

test("atomic save: a live weights file with the new file's name but other content (a hash collision) is not overwritten", async () => {
  const { dir, c, v2 } = await twoVersions();
  const probe = freshDir();
  await io.saveLayersModel(v2, probe);
  const taken = readJSON(probe).weightsManifest[0].paths[0];
  // Make v1's live weights file carry the name v2's would get.
  const json = readJSON(dir);
  fs.renameSync(path.join(dir, json.weightsManifest[0].paths[0]), path.join(dir, taken));
  json.weightsManifest[0].paths = [taken];
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  const renamed = fs.readFileSync(path.join(dir, taken));
  assert.ok(!renamed.equals(fs.readFileSync(path.join(probe, taken))));
  const { ops, log } = failingOps(3);
  await assert.rejects(io.saveLayersModel(v2, dir, { fileOps: ops }));
  assert.ok(fs.readFileSync(path.join(dir, taken)).equals(renamed), "the live weights file was not touched");
  assert.match(log[1]!, new RegExp(`^rename \\S+ ${taken.replace(".bin", "")}[0-9a-f]{8}\\.bin$`));
  await io.saveLayersModel(v2, dir);
  const longer = readJSON(dir).weightsManifest[0].paths[0];
  assert.match(longer, new RegExp(`^${taken.replace(".bin", "")}[0-9a-f]{8}\\.bin$`), "16 hex digits instead of 8");
  assert.deepEqual(listDir(dir), ["model.json", longer].sort(), "the old checkpoint's weights file is removed after the switch");
  assert.deepEqual(predictTfc(await io.loadLayersModel(dir), c), predictTfc(v2, c));
});

test("atomic save: an unserializable optimizer weight or metadata fails before anything is written", async () => {
  const { dir, c, v1, v2, before } = await twoVersions();
  const optimizer = { getClassName: () => "Adam", getConfig: () => ({}), getWeights: () => [{ name: "iter", tensor: [1, 2, 3] as unknown as Tensor }] };
  await assert.rejects(io.saveLayersModel(v2, dir, { optimizer }), (e: unknown) => e instanceof TfcError && e.code === "TFC7030" && /optimizer weight 0 \("iter"\)/.test(e.message));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(io.saveLayersModel(v2, dir, { userDefinedMetadata: cyclic }), (e: unknown) => e instanceof TfcError && e.code === "TFC7030");
  await assertUnchanged(dir, before, c, v1);
});

test("atomic save: saving the same weights again keeps one weights file; a TF.js checkpoint's weights.bin is replaced", async () => {
  const c = CASES["sequential MLP"]!;
  const theirs = c.build(tfjs) as tfjs.LayersModel;
  const dir = freshDir();
  writeAsTfjsNode(dir, await tfjsArtifacts(theirs));
  const model = await io.loadLayersModel(dir);
  await io.saveLayersModel(model, dir);
  const first = listDir(dir);
  assert.equal(first.length, 2);
  assert.ok(!first.includes("weights.bin"));
  await io.saveLayersModel(model, dir);
  assert.deepEqual(listDir(dir), first);
  assertClose(predictTfc(await io.loadLayersModel(dir), c), predictTfjs(theirs, c), 1e-5, 1e-6);
});

// ---- Fitting a checkpoint to a model --------------------------------------------------------------

test("loadWeightsInto: a checkpoint that does not fit names the first mismatches and sets nothing", async () => {
  const dense = (units: number, extra = false) =>
    tfc.sequential({
      layers: [
        tfc.layers.dense({ units, inputShape: [5], name: "hidden" }),
        tfc.layers.dense({ units: 3, name: "out" }),
        ...(extra ? [tfc.layers.dense({ units: 2, name: "more" })] : []),
      ],
    });
  const dir = freshDir();
  await io.saveLayersModel(dense(8), dir);
  const other = dense(6);
  const before = other.getWeights().map((w) => Array.from(w.dataSync()));
  await assert.rejects(io.loadWeightsInto(other, dir), (e: unknown) => {
    assert.ok(e instanceof TfcError);
    assert.equal(e.code, "TFC7028");
    assert.ok(e.message.startsWith(`${path.join(dir, "model.json")} does not fit model`), e.message);
    assert.match(e.message, /checkpoint has hidden\/kernel \[5,8\] but the model's hidden\/kernel is \[5,6\]/);
    assert.match(e.message, /checkpoint has hidden\/bias \[8\] but the model's hidden\/bias is \[6\]/);
    assert.match(e.message, /checkpoint has out\/kernel \[8,3\] but the model's out\/kernel is \[6,3\]/);
    return true;
  });
  assert.deepEqual(other.getWeights().map((w) => Array.from(w.dataSync())), before, "no weight was set");
  await assert.rejects(io.loadWeightsInto(dense(8, true), dir), (e: unknown) => {
    assert.ok(e instanceof TfcError);
    assert.equal(e.code, "TFC7027");
    assert.match(e.message, /the checkpoint has 4 weights, the model 6/);
    assert.match(e.message, /the model's more\/kernel \[3,2\] is not in the checkpoint/);
    return true;
  });
});

test("loadWeightsInto: a dtype mismatch names both dtypes", async () => {
  const dir = freshDir();
  const model = tfc.sequential({ layers: [tfc.layers.dense({ units: 2, inputShape: [2], name: "d" })] });
  await io.saveLayersModel(model, dir);
  const json = readJSON(dir);
  json.weightsManifest[0].weights[1].dtype = "int32";
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  await assert.rejects(io.loadWeightsInto(model, dir), /checkpoint has d\/bias int32 \[2\] but the model's d\/bias is float32 \[2\]/);
});

test("Keras 3 weight names (layer/0, layer/1) match weights by position, as in TF.js", async () => {
  const c = CASES["sequential MLP"]!;
  const model = c.build(tfc) as tfc.LayersModel;
  randomizeTfc(model, 9);
  const dir = freshDir();
  await io.saveLayersModel(model, dir);
  const json = readJSON(dir);
  for (const w of json.weightsManifest[0].weights) w.name = w.name.replace("/kernel", "/0").replace("/bias", "/1");
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  assert.deepEqual(predictTfc(await io.loadLayersModel(dir), c), predictTfc(model, c));
});

// ---- Other writers' checkpoints ------------------------------------------------------------------

test("a Keras 2 topology (model_config wrapper, InputLayer first, GlorotUniform, dtype on every layer) loads without warnings", async () => {
  const dense = (name: string, units: number, activation: string) => ({
    class_name: "Dense",
    config: {
      name, trainable: true, dtype: "float32", units, activation, use_bias: true,
      kernel_initializer: { class_name: "GlorotUniform", config: { seed: null } },
      bias_initializer: { class_name: "Zeros", config: {} },
      kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
    },
  });
  const topology = {
    keras_version: "2.15.0",
    backend: "tensorflow",
    model_config: {
      class_name: "Sequential",
      config: {
        name: "keras_mlp",
        layers: [
          { class_name: "InputLayer", config: { batch_input_shape: [null, 3], dtype: "float32", sparse: false, ragged: false, name: "input_1" } },
          dense("dense", 4, "relu"),
          dense("dense_1", 2, "hard_sigmoid"),
        ],
      },
    },
  };
  const warnings: Warning[] = [];
  const model = collectWarnings(warnings, () => io.modelFromJSON(topology, "keras.json"));
  assert.deepEqual(warnings, []);
  assert.deepEqual(model.inputs[0]!.shape, [null, 3]);
  assert.deepEqual(model.weights.map((w) => [w.name, w.shape]), [["dense/kernel", [3, 4]], ["dense/bias", [4]], ["dense_1/kernel", [4, 2]], ["dense_1/bias", [2]]]);
  // The same model in TF.js, with the same weights, predicts the same.
  const theirs = await tfjs.models.modelFromJSON(topology as any);
  randomizeTfjs(theirs, 4);
  const dir = freshDir();
  writeAsTfjsNode(dir, await tfjsArtifacts(theirs));
  const c: Case = { inputs: [[3]], build: () => undefined };
  assertClose(predictTfc(await io.loadLayersModel(dir), c), predictTfjs(theirs, c), 1e-5, 1e-6);
});

test("options tfc does not implement are ignored with a warning (regularizers, unknown keys)", () => {
  const topology = io.modelToJSON(tfc.sequential({ layers: [tfc.layers.dense({ units: 2, inputShape: [2], name: "d" })] })) as any;
  topology.config.layers[0].config.kernel_regularizer = { class_name: "L1L2", config: { l1: 0, l2: 0.01 } };
  topology.config.layers[0].config.new_option = 3;
  const warnings: Warning[] = [];
  collectWarnings(warnings, () => io.modelFromJSON(topology, "m.json"));
  assert.deepEqual(warnings.map((w) => [w.code, w.message]), [
    ["TFC7035", `m.json: layer 'd': 'kernel_regularizer' {"className":"L1L2","config":{"l1":0,"l2":0.01}} is ignored; tfc does not implement it`],
    ["TFC7035", "m.json: layer 'd': option 'new_option' is not known to tfc and is ignored"],
  ]);
});

test("quantized weights (uint8, uint16, float16) decode as tfjs-core's decodeWeights does", () => {
  const specs: io.WeightSpec[] = [
    { name: "a", shape: [3], dtype: "float32", quantization: { dtype: "uint8", min: -1, scale: 0.5 } },
    { name: "b", shape: [2], dtype: "int32", quantization: { dtype: "uint16", min: 10, scale: 0.3 } },
    { name: "c", shape: [4], dtype: "float32", quantization: { dtype: "float16" } },
    { name: "d", shape: [2], dtype: "bool" },
  ];
  const bytes = new Uint8Array([0, 3, 255, 7, 0, 1, 1, 0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c, 0x55, 0x35, 1, 0]);
  const ours = io.decodeWeights(specs, bytes);
  const theirs = tfjs.io.decodeWeights(bytes.buffer, specs as tfjs.io.WeightsManifestEntry[]);
  for (const w of ours) assertClose(w.value.data, theirs[w.name]!.dataSync() as Float32Array, 0, 0, w.name);
  assert.deepEqual(Array.from(ours[2]!.value.data), [1, -2, Infinity, 0.333251953125]);
});

// ---- Bad checkpoints -----------------------------------------------------------------------

/** A saved MLP checkpoint to break. */
async function savedMlp(): Promise<{ dir: string; json: any; weightsFile: string }> {
  const dir = freshDir();
  await io.saveLayersModel(CASES["sequential MLP"]!.build(tfc), dir);
  const json = readJSON(dir);
  return { dir, json, weightsFile: json.weightsManifest[0].paths[0] };
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp | string): Promise<TfcError> {
  let error: TfcError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    error = e;
    return true;
  });
  return error!;
}

test("bad checkpoint: no model.json, or no such path (TFC7020)", async () => {
  const dir = freshDir();
  fs.mkdirSync(dir);
  await rejectsWith(io.loadLayersModel(dir), "TFC7020", `cannot load checkpoint: ${dir} has no model.json`);
  await rejectsWith(io.loadLayersModel(path.join(dir, "nope")), "TFC7020", `cannot load checkpoint: ${path.join(dir, "nope")} does not exist`);
});

test("bad checkpoint: model.json is not JSON (TFC7021)", async () => {
  const { dir } = await savedMlp();
  fs.writeFileSync(path.join(dir, "model.json"), "{ not json");
  await rejectsWith(io.loadLayersModel(dir), "TFC7021", new RegExp(`^${path.join(dir, "model.json").replace(/[.]/g, "\\.")} is not JSON \\(`));
});

test("bad checkpoint: a graph model, or JSON without a topology, is not a layers-model (TFC7022)", async () => {
  const { dir, json } = await savedMlp();
  const file = path.join(dir, "model.json");
  fs.writeFileSync(file, JSON.stringify({ ...json, format: "graph-model" }));
  const e = await rejectsWith(io.loadLayersModel(dir), "TFC7022", `${file} is a "graph-model" checkpoint; tfc loads "layers-model" checkpoints (tf.LayersModel.save)`);
  assert.match(e.notes.join("\n"), /graph models/);
  fs.writeFileSync(file, JSON.stringify({ format: "layers-model", weightsManifest: [] }));
  await rejectsWith(io.loadLayersModel(dir), "TFC7022", `${file} has no modelTopology, so it is not a TF.js Layers model`);
  fs.writeFileSync(file, JSON.stringify({ ...json, modelTopology: { class_name: "Bogus", config: {} } }));
  await rejectsWith(io.loadLayersModel(dir), "TFC7022", /class_name "Bogus"; tfc loads 'Sequential' and functional 'Model' topologies/);
  fs.writeFileSync(file, JSON.stringify({ ...json, weightsManifest: [{ paths: [json.weightsManifest[0].paths[0]] }] }));
  await rejectsWith(io.loadLayersModel(dir), "TFC7022", /has no paths and weights lists/);
});

test("bad checkpoint: an unknown layer class names the supported ones (TFC7023)", async () => {
  const { dir, json } = await savedMlp();
  json.modelTopology.config.layers[1].class_name = "LSTM";
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  await rejectsWith(
    io.loadLayersModel(dir),
    "TFC7023",
    `${path.join(dir, "model.json")}: layer 'drop': unknown layer class 'LSTM'; tfc reads and writes InputLayer, Dense, Flatten, Reshape, Dropout, Activation, ` +
      "Embedding, Add, Concatenate, Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, BatchNormalization",
  );
});

test("bad checkpoint: a layer config tfc rejects, or a broken graph, names the file and layer (TFC7024)", async () => {
  const conv = io.modelToJSON(tfc.sequential({ layers: [tfc.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1], name: "c" })] })) as any;
  conv.config.layers[0].config.data_format = "channels_first";
  assert.throws(() => io.modelFromJSON(conv, "conv.json"), (e: unknown) => e instanceof TfcError && e.code === "TFC7024" && /^conv\.json: layer 'c' \(Conv2D\): Conv2D supports dataFormat 'channelsLast'/.test(e.message));
  const graph = io.modelToJSON(CASES["functional model with two inputs, concatenate, add and a shared layer"]!.build(tfc)) as any;
  graph.config.layers.find((l: any) => l.name === "head").inbound_nodes = [[["nowhere", 0, 0, {}]]];
  assert.throws(
    () => io.modelFromJSON(graph, "g.json"),
    (e: unknown) => e instanceof TfcError && e.code === "TFC7024" && e.message === "g.json: an inbound node of layer 'head' refers to layer 'nowhere', which the model does not have",
  );
  const shapes = io.modelToJSON(CASES["sequential MLP"]!.build(tfc)) as any;
  delete shapes.config.layers[0].config.batch_input_shape;
  assert.throws(() => io.modelFromJSON(shapes, "s.json"), /s\.json: the first layer \('hidden'\) has no batch_input_shape/);
});

test("bad checkpoint: a missing weights file (TFC7025)", async () => {
  const { dir, weightsFile } = await savedMlp();
  fs.rmSync(path.join(dir, weightsFile));
  await rejectsWith(io.loadLayersModel(dir), "TFC7025", `model.json names weights file ${weightsFile}, which does not exist in ${dir}`);
});

test("bad checkpoint: a truncated or oversized weights file (TFC7026)", async () => {
  const { dir, weightsFile } = await savedMlp();
  const file = path.join(dir, weightsFile);
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.length, 4 * (5 * 8 + 8 + 8 * 3 + 3));
  fs.writeFileSync(file, bytes.subarray(0, 100));
  await rejectsWith(io.loadLayersModel(dir), "TFC7026", `${weightsFile} has 100 bytes; the manifest needs 300 (the file is truncated), in ${dir}`);
  fs.writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(4)]));
  await rejectsWith(io.loadLayersModel(dir), "TFC7026", `${weightsFile} has 304 bytes; the manifest needs 300 (it does not match the manifest), in ${dir}`);
});

test("bad checkpoint: a weight count or name mismatch with its own topology (TFC7027)", async () => {
  const { dir, json } = await savedMlp();
  json.weightsManifest[0].weights.pop();
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  fs.truncateSync(path.join(dir, json.weightsManifest[0].paths[0]), 4 * (5 * 8 + 8 + 8 * 3));
  await rejectsWith(io.loadLayersModel(dir), "TFC7027", /the checkpoint has 3 weights, the model 4:\n {2}the model's out\/bias \[3\] is not in the checkpoint$/);
});

test("bad checkpoint: a weight dtype tfc cannot hold (TFC7029)", async () => {
  const { dir, json } = await savedMlp();
  json.weightsManifest[0].weights[0].dtype = "complex64";
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  await rejectsWith(io.loadLayersModel(dir), "TFC7029", /weight 'hidden\/kernel' has dtype 'complex64'; tfc reads float32, int32 and bool weights/);
});

test("save errors: a sequential model without an input shape, a layer class tfc cannot write, duplicate names (TFC7030, TFC7023)", async () => {
  const noShape = tfc.sequential({ layers: [tfc.layers.dense({ units: 2 })] });
  await rejectsWith(io.saveLayersModel(noShape, freshDir()), "TFC7030", /its input shape is unknown; give its first layer an inputShape/);
  class Custom extends Layer {
    constructor() {
      super("Custom", { name: "custom" });
    }
    protected call([x]: Tensor[]): Tensor {
      return x!;
    }
  }
  const custom = tfc.sequential({ layers: [tfc.layers.dense({ units: 2, inputShape: [2] }), new Custom()] });
  await rejectsWith(io.saveLayersModel(custom, freshDir()), "TFC7023", /^cannot save layer 'custom': unknown layer class 'Custom'; tfc reads and writes InputLayer, Dense, /);
  const twins = tfc.sequential({ layers: [tfc.layers.dense({ units: 2, inputShape: [2], name: "twin" }), tfc.layers.dense({ units: 2, name: "twin" })] });
  await rejectsWith(io.saveLayersModel(twins, freshDir()), "TFC7030", /two of its layers or inputs are named 'twin'/);
});
