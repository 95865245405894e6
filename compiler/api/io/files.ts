// TF.js Layers checkpoints on disk: dir/model.json (format "layers-model") and its weights binary.
// Saving is atomic: the weights go to a new content-named file, model.json is replaced by rename,
// so a crash or error at any step leaves the previous checkpoint loadable and unchanged.
// Loading reads what tfc or TF.js (`model.save('file://…')`, tensorflowjs_converter) wrote.

import * as fs from "node:fs/promises";
import * as path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { TfcError } from "../../../ir/errors.js";
import type { HostTensor } from "../../../ir/tensor.js";
import { currentUserLoc } from "../../frontend/location.js";
import type { LayersModel } from "../models.js";
import { Tensor } from "../tensor.js";
import { warn } from "../warnings.js";
import { TFC_VERSION, modelFromJSON, modelToJSON } from "./layers-format.js";
import { assignWeights, decodeWeights, encodeWeights, modelWeights, parseSpec, specBytes, type NamedHostTensor, type NamedTensor, type WeightSpec } from "./weights.js";
import { toSnakeCase, type ConfigDict } from "./keras-objects.js";

const MODEL_JSON = "model.json";

/** What `model.save` can add besides the model: TF.js's includeOptimizer part and user metadata. */
export interface SaveOptions {
  /** An optimizer (TF.js's interface): its weights go to the manifest's "optimizer" group, its config to trainingConfig. */
  optimizer?: {
    getClassName(): string;
    getConfig(): object;
    getWeights(): NamedTensor[] | Promise<NamedTensor[]>;
  };
  /** Loss and metrics for trainingConfig (written with an optimizer), in TF.js's names ('categoricalCrossentropy'). */
  loss?: string | string[] | Record<string, string>;
  metrics?: string[] | Record<string, string | string[]>;
  /** Any JSON object, stored as model.json's userDefinedMetadata. */
  userDefinedMetadata?: object;
  /** @internal File operations, replaced by tests to fail at a chosen step. */
  fileOps?: FileOps;
}

/** TF.js's SaveResult, plus where the files went. */
export interface SaveResult {
  modelArtifactsInfo: { dateSaved: Date; modelTopologyType: "JSON"; modelTopologyBytes: number; weightSpecsBytes: number; weightDataBytes: number };
  modelJsonPath: string;
  weightsPath: string;
}

/** The file operations a save performs, each durable when it returns. */
export interface FileOps {
  /** Create `file` (it must not exist), write `data`, fsync, close. */
  writeFile(file: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** fsync a directory, so renames in it survive a crash. */
  syncDir(dir: string): Promise<void>;
}

export const nodeFileOps: FileOps = {
  async writeFile(file, data) {
    const handle = await fs.open(file, "wx");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => fs.rename(from, to),
  unlink: (file) => fs.unlink(file),
  async syncDir(dir) {
    const handle = await fs.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/**
 * The weights file of a save, named by its content so that it never replaces a different
 * checkpoint's: 8 hex digits of its SHA-256, more in the unlikely case that a file with that name
 * and other content is there.
 */
async function weightsFileName(dir: string, data: Uint8Array): Promise<string> {
  const hash = createHash("sha256").update(data).digest("hex");
  for (const digits of [8, 16]) {
    const name = `weights-${hash.slice(0, digits)}.bin`;
    const existing = await fs.readFile(path.join(dir, name)).catch(() => undefined);
    if (!existing || Buffer.compare(existing, data) === 0) return name;
  }
  return `weights-${hash}.bin`;
}
/** Temporary files a save creates, and a crashed save may leave: `.model.json.<pid>-<hex>.tmp`, `.weights-….bin.<pid>-<hex>.tmp`. */
const TEMP_FILE = /^\.(model\.json|weights-[0-9a-f]{8,64}\.bin)\.(\d+)-[0-9a-f]{8}\.tmp$/;
const WEIGHTS_FILE = /^weights-[0-9a-f]{8,64}\.bin$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const stripScheme = (p: string): string => (p.startsWith("file://") ? p.slice("file://".length) : p);

function ioError(e: unknown, what: string): TfcError {
  if (e instanceof TfcError) return e;
  return new TfcError("TFC7031", `${what}: ${e instanceof Error ? e.message : String(e)}`, { loc: currentUserLoc() });
}

/** JSON text of `value`, or a TFC7030 naming `what` (cycles, BigInt, …). */
function jsonOf(value: unknown, what: string): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch (e) {
    throw new TfcError("TFC7030", `${what} cannot be written as JSON: ${e instanceof Error ? e.message : String(e)}`, { loc: currentUserLoc() });
  }
}

async function optimizerPart(options: SaveOptions): Promise<{ weights: NamedHostTensor[]; trainingConfig: ConfigDict } | undefined> {
  const opt = options.optimizer;
  if (!opt) return undefined;
  const named = await opt.getWeights();
  if (!Array.isArray(named)) throw new TfcError("TFC7030", `optimizer.getWeights() must return a list of {name, tensor}, got ${typeof named}`, { loc: currentUserLoc() });
  const weights = named.map((w, i): NamedHostTensor => {
    if (!w || typeof w.name !== "string" || !(w.tensor instanceof Tensor)) {
      throw new TfcError("TFC7030", `optimizer weight ${i} (${JSON.stringify(w?.name ?? null)}) is not a {name, tensor} pair with a tfc tensor`, { loc: currentUserLoc() });
    }
    return { name: w.name, value: w.tensor.concrete("save"), group: "optimizer" };
  });
  // tfjs-layers getTrainingConfig: loss and metric names in snake_case, the optimizer's config as it is.
  const snake = (v: unknown): unknown =>
    typeof v === "string" ? toSnakeCase(v) : Array.isArray(v) ? v.map(snake) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, snake(x)])) : v;
  const trainingConfig = {
    loss: (snake(options.loss) ?? null) as ConfigDict[string],
    metrics: (snake(options.metrics) ?? null) as ConfigDict[string],
    optimizer_config: { class_name: opt.getClassName(), config: opt.getConfig() as ConfigDict },
  };
  return { weights, trainingConfig };
}

/** Weights files an existing model.json names that lie in `dir` (the previous checkpoint's, to remove after the switch). */
async function previousWeightFiles(dir: string): Promise<string[]> {
  try {
    const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), "utf8")) as { weightsManifest?: { paths?: unknown[] }[] };
    const files = (json.weightsManifest ?? []).flatMap((g) => g.paths ?? []).filter((p): p is string => typeof p === "string");
    return files.map((p) => path.resolve(dir, p)).filter((p) => path.dirname(p) === path.resolve(dir) && path.basename(p) !== MODEL_JSON).map((p) => path.basename(p));
  } catch {
    return [];
  }
}

async function removeQuietly(ops: FileOps, files: string[]): Promise<void> {
  for (const f of files) await ops.unlink(f).catch(() => undefined);
}

/**
 * Save `model` to `dir` as a TF.js Layers checkpoint: dir/model.json and dir/weights-<hash>.bin.
 * Atomic: the weights are written to a temporary file, fsynced and renamed to their content-named
 * file; model.json is written to a temporary file, fsynced and renamed over dir/model.json (the
 * switch); the directory is fsynced; only then is the previous checkpoint's weights file removed.
 * An error at any step before the switch removes what this save wrote and leaves the previous
 * checkpoint as it was.
 */
export async function saveLayersModel(model: LayersModel, dir: string, options: SaveOptions = {}): Promise<SaveResult> {
  const ops = options.fileOps ?? nodeFileOps;
  dir = path.resolve(stripScheme(dir));
  // Everything that can fail on the model's side fails here, before the disk is touched.
  const modelTopology = modelToJSON(model);
  const named: NamedHostTensor[] = modelWeights(model).map((v) => ({ name: v.name, value: v.concrete("save") as HostTensor }));
  const optimizer = await optimizerPart(options);
  const { specs, data } = encodeWeights([...named, ...(optimizer?.weights ?? [])]);
  if (options.userDefinedMetadata !== undefined && (typeof options.userDefinedMetadata !== "object" || options.userDefinedMetadata === null || Array.isArray(options.userDefinedMetadata))) {
    throw new TfcError("TFC7030", "userDefinedMetadata must be a JSON object", { loc: currentUserLoc() });
  }
  const modelJsonText = (weightsName: string): Uint8Array => {
    const modelJSON = {
      modelTopology,
      format: "layers-model",
      generatedBy: `tfc ${TFC_VERSION}`,
      convertedBy: null,
      weightsManifest: [{ paths: [weightsName], weights: specs }],
      ...(options.userDefinedMetadata !== undefined ? { userDefinedMetadata: options.userDefinedMetadata } : {}),
      ...(optimizer ? { trainingConfig: optimizer.trainingConfig } : {}),
    };
    return new TextEncoder().encode(jsonOf(modelJSON, "model.json (userDefinedMetadata or the optimizer's config)") + "\n");
  };
  modelJsonText("weights.bin"); // metadata that is not JSON fails now

  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioError(e, `cannot create checkpoint directory ${dir}`);
  }
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  // Temporary files of an earlier save whose process is gone (it crashed): nothing refers to them.
  await removeQuietly(ops, entries.filter((f) => TEMP_FILE.test(f) && !processAlive(Number(TEMP_FILE.exec(f)![2]))).map((f) => path.join(dir, f)));
  const previous = await previousWeightFiles(dir);
  const weightsName = await weightsFileName(dir, data);
  const text = modelJsonText(weightsName);
  const weightsPath = path.join(dir, weightsName);
  const modelJsonPath = path.join(dir, MODEL_JSON);
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmpWeights = path.join(dir, `.${weightsName}.${tag}.tmp`);
  const tmpJson = path.join(dir, `.${MODEL_JSON}.${tag}.tmp`);
  const weightsExisted = entries.includes(weightsName);
  let weightsPlaced = false;
  let switched = false;
  try {
    await ops.writeFile(tmpWeights, data);
    await ops.rename(tmpWeights, weightsPath);
    weightsPlaced = true;
    await ops.syncDir(dir); // the weights file exists on disk before any model.json names it
    await ops.writeFile(tmpJson, text);
    await ops.rename(tmpJson, modelJsonPath);
    switched = true;
    await ops.syncDir(dir);
  } catch (e) {
    await removeQuietly(ops, [tmpWeights, tmpJson]);
    if (weightsPlaced && !switched && !weightsExisted) await removeQuietly(ops, [weightsPath]);
    // After the switch, a failed directory fsync may leave the old model.json after a crash, so
    // its weights file is kept.
    throw ioError(e, switched ? `saved ${modelJsonPath}, but could not make the switch durable` : `cannot save checkpoint to ${dir} (the previous checkpoint is unchanged)`);
  }
  // The new checkpoint is live: remove the previous one's weights and weights of saves that crashed after writing them.
  const stale = new Set([...previous, ...entries.filter((f) => WEIGHTS_FILE.test(f))]);
  stale.delete(weightsName);
  for (const f of stale) {
    await ops.unlink(path.join(dir, f)).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") warn("TFC7036", `saved ${modelJsonPath}, but could not remove the old weights file ${f}: ${(e as Error).message}`);
    });
  }
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: "JSON",
      modelTopologyBytes: JSON.stringify(modelTopology).length,
      weightSpecsBytes: JSON.stringify(specs).length,
      weightDataBytes: data.byteLength,
    },
    modelJsonPath,
    weightsPath,
  };
}

// ---- Loading ---------------------------------------------------------------------------------

/** Everything a checkpoint holds, read and checked. */
export interface Checkpoint {
  modelJsonPath: string;
  /** Keras model config, snake_case, as in the file. */
  modelTopology: unknown;
  /** Model weights (all groups but "optimizer"), in manifest order. */
  weights: NamedHostTensor[];
  /** The "optimizer" group, as TF.js's optimizer.setWeights takes it. */
  optimizerWeights: NamedTensor[];
  trainingConfig?: ConfigDict;
  userDefinedMetadata?: object;
  generatedBy?: string;
}

/** model.json's path for a directory, a model.json path or a file:// URL. */
async function modelJsonPathOf(pathOrDir: string): Promise<string> {
  const p = path.resolve(stripScheme(pathOrDir));
  const stat = await fs.stat(p).catch(() => undefined);
  if (!stat) throw new TfcError("TFC7020", `cannot load checkpoint: ${p} does not exist`, { loc: currentUserLoc() });
  if (!stat.isDirectory()) return p;
  const json = path.join(p, MODEL_JSON);
  if (!(await fs.stat(json).catch(() => undefined))) throw new TfcError("TFC7020", `cannot load checkpoint: ${p} has no ${MODEL_JSON}`, { loc: currentUserLoc() });
  return json;
}

/** Read model.json and its weights files; sizes, dtypes and the format are checked, the model is not built. */
export async function readCheckpoint(pathOrDir: string): Promise<Checkpoint> {
  const jsonPath = await modelJsonPathOf(pathOrDir);
  const base = path.basename(jsonPath);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, "utf8");
  } catch (e) {
    throw new TfcError("TFC7020", `cannot read ${jsonPath}: ${(e as Error).message}`, { loc: currentUserLoc() });
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TfcError("TFC7021", `${jsonPath} is not JSON (${(e as Error).message}); a TF.js Layers checkpoint's model.json is`, { loc: currentUserLoc() });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TfcError("TFC7022", `${jsonPath} is not a TF.js model.json (it holds ${Array.isArray(json) ? "a list" : String(json)})`, { loc: currentUserLoc() });
  }
  if (json.format !== undefined && json.format !== "layers-model") {
    throw new TfcError("TFC7022", `${jsonPath} is a ${JSON.stringify(json.format)} checkpoint; tfc loads "layers-model" checkpoints (tf.LayersModel.save)`, {
      loc: currentUserLoc(),
      notes: json.format === "graph-model" ? ["graph models (tf.loadGraphModel) hold a TensorFlow graph, not Keras layers"] : [],
    });
  }
  if (typeof json.modelTopology !== "object" || json.modelTopology === null) {
    throw new TfcError("TFC7022", `${jsonPath} has no modelTopology, so it is not a TF.js Layers model`, { loc: currentUserLoc() });
  }
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new TfcError("TFC7022", `${jsonPath}: weightsManifest is not a list of {paths, weights} groups`, { loc: currentUserLoc() });

  const dir = path.dirname(jsonPath);
  const all: NamedHostTensor[] = [];
  for (const group of manifest as { paths?: unknown; weights?: unknown }[]) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights) || !group.paths.every((p) => typeof p === "string")) {
      throw new TfcError("TFC7022", `${jsonPath}: weightsManifest group ${JSON.stringify(group)} has no paths and weights lists`, { loc: currentUserLoc() });
    }
    const specs: WeightSpec[] = group.weights.map((w) => parseSpec(w, jsonPath));
    const files = group.paths as string[];
    const parts: Uint8Array[] = [];
    for (const file of files) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
        throw new TfcError("TFC7025", `${base} names weights at ${file}; tfc reads weights files next to model.json`, { loc: currentUserLoc() });
      }
      try {
        parts.push(await fs.readFile(path.resolve(dir, file)));
      } catch (e) {
        const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
        throw new TfcError("TFC7025", `${base} names weights file ${file}, ${missing ? "which does not exist" : `which cannot be read (${(e as Error).message})`} in ${dir}`, {
          loc: currentUserLoc(),
        });
      }
    }
    const have = parts.reduce((n, p) => n + p.byteLength, 0);
    const need = specs.reduce((n, s) => n + specBytes(s), 0);
    if (have !== need) {
      const names = files.map((f) => path.basename(f));
      throw new TfcError(
        "TFC7026",
        `${names.join(" + ")} ${names.length === 1 ? "has" : "have"} ${have} bytes; the manifest needs ${need} (${have < need ? "the file is truncated" : "it does not match the manifest"}), in ${dir}`,
        { loc: currentUserLoc() },
      );
    }
    const data = new Uint8Array(have);
    let offset = 0;
    for (const p of parts) {
      data.set(p, offset);
      offset += p.byteLength;
    }
    all.push(...decodeWeights(specs, data));
  }
  const checkpoint: Checkpoint = {
    modelJsonPath: jsonPath,
    modelTopology: json.modelTopology,
    weights: all.filter((w) => w.group !== "optimizer"),
    optimizerWeights: all.filter((w) => w.group === "optimizer").map((w) => ({ name: w.name, tensor: Tensor.fromHost(w.value) })),
  };
  if (typeof json.trainingConfig === "object" && json.trainingConfig !== null) checkpoint.trainingConfig = json.trainingConfig as ConfigDict;
  if (typeof json.userDefinedMetadata === "object" && json.userDefinedMetadata !== null) checkpoint.userDefinedMetadata = json.userDefinedMetadata;
  if (typeof json.generatedBy === "string") checkpoint.generatedBy = json.generatedBy;
  return checkpoint;
}

/** What a checkpoint holds besides the model's weights. */
export interface CheckpointExtras {
  optimizerWeights?: NamedTensor[];
  trainingConfig?: ConfigDict;
  userDefinedMetadata?: object;
}

function extrasOf(c: Checkpoint): CheckpointExtras {
  return {
    ...(c.optimizerWeights.length > 0 ? { optimizerWeights: c.optimizerWeights } : {}),
    ...(c.trainingConfig ? { trainingConfig: c.trainingConfig } : {}),
    ...(c.userDefinedMetadata ? { userDefinedMetadata: c.userDefinedMetadata } : {}),
  };
}

/** Rebuild the model a checkpoint (a directory or its model.json) holds, with its weights. */
export async function loadLayersModel(pathOrDir: string): Promise<LayersModel> {
  return (await loadLayersModelWithExtras(pathOrDir)).model;
}

/** loadLayersModel, plus the optimizer weights, training config and metadata the checkpoint holds. */
export async function loadLayersModelWithExtras(pathOrDir: string): Promise<{ model: LayersModel } & CheckpointExtras> {
  const c = await readCheckpoint(pathOrDir);
  const model = modelFromJSON(c.modelTopology, c.modelJsonPath);
  assignWeights(model, c.weights, c.modelJsonPath);
  return { model, ...extrasOf(c) };
}

/**
 * Load a checkpoint's weights into an existing model. The checkpoint must fit: the same weight
 * names, shapes and dtypes (the error lists the first mismatches); no weight is set otherwise.
 */
export async function loadWeightsInto(model: LayersModel, pathOrDir: string): Promise<CheckpointExtras> {
  const c = await readCheckpoint(pathOrDir);
  assignWeights(model, c.weights, c.modelJsonPath);
  return extrasOf(c);
}
