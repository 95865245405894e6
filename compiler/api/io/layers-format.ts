// The model half of a TF.js Layers checkpoint: `modelTopology` as tfjs-layers 4.x writes it (a
// Keras "Sequential" or functional "Model" config, snake_case) from a tfc model, and a tfc model
// rebuilt from one. Weights are io/weights.ts's business, files and atomic saving io/files.ts's.

import { isDeepStrictEqual } from "node:util";
import { TfcError } from "../../../ir/errors.js";
import { currentUserLoc } from "../../frontend/location.js";
import { LayersModel, Sequential, input } from "../models.js";
import { Layer, SymbolicTensor } from "../layers/layer.js";
import * as core from "../layers/core.js";
import * as conv from "../layers/conv.js";
import type { DataType } from "../dtypes.js";
import { warn } from "../warnings.js";
import { fromPythonic, initializerFromConfig, toPythonic, toSnakeCase, type ConfigDict, type ConfigValue } from "./keras-objects.js";

/** tfc's version, as model.json's `generatedBy` and the topology's `keras_version` name it. */
export const TFC_VERSION = "0.1.0";

/** How a Keras class name maps to a tfc layer. */
interface LayerClass {
  /** Build the layer from camelCase constructor options. */
  create(args: Record<string, unknown>): Layer;
  /** Options the tfc constructor takes, besides the base ones (name, trainable, batchInputShape, dtype). */
  options: readonly string[];
  /** Keras options tfc does not implement, with the value that means "off"; any other value is ignored with a warning. */
  inert?: ConfigDict;
}

const BASE_OPTIONS = ["name", "trainable", "batchInputShape", "batchSize", "dtype"];
/** Regularizers and constraints act only while training in Keras; tfc has none of them. */
const unused = (...keys: string[]): ConfigDict => Object.fromEntries(keys.map((k) => [k, null]));
const CONV_OPTIONS = ["kernelSize", "strides", "padding", "dataFormat", "dilationRate", "activation", "useBias", "biasInitializer"];

/** Every layer class tfc reads and writes, by Keras class name. */
const LAYER_CLASSES = {
  Dense: {
    create: (a) => new core.Dense(a as never),
    options: ["units", "activation", "useBias", "kernelInitializer", "biasInitializer"],
    inert: unused("kernelRegularizer", "biasRegularizer", "activityRegularizer", "kernelConstraint", "biasConstraint"),
  },
  Flatten: {
    create: (a) => {
      requireChannelsLast("Flatten", a.dataFormat);
      return new core.Flatten(a as never);
    },
    options: ["dataFormat"],
  },
  Reshape: { create: (a) => new core.Reshape(a as never), options: ["targetShape"] },
  Dropout: { create: (a) => new core.Dropout(a as never), options: ["rate", "noiseShape", "seed"] },
  Activation: { create: (a) => new core.ActivationLayer(a as never), options: ["activation"] },
  Embedding: {
    create: (a) => new core.Embedding(a as never),
    options: ["inputDim", "outputDim", "embeddingsInitializer", "inputLength", "maskZero"],
    inert: unused("embeddingsRegularizer", "activityRegularizer", "embeddingsConstraint"),
  },
  Add: { create: (a) => new core.Add(a as never), options: [] },
  Concatenate: { create: (a) => new core.Concatenate(a as never), options: ["axis"] },
  Conv2D: {
    create: (a) => new conv.Conv2D(a as never),
    options: [...CONV_OPTIONS, "filters", "kernelInitializer"],
    inert: { ...unused("kernelRegularizer", "biasRegularizer", "activityRegularizer", "kernelConstraint", "biasConstraint"), groups: 1 },
  },
  DepthwiseConv2D: {
    create: (a) => new conv.DepthwiseConv2D(a as never),
    options: [...CONV_OPTIONS, "depthMultiplier", "depthwiseInitializer"],
    inert: unused("depthwiseRegularizer", "biasRegularizer", "activityRegularizer", "depthwiseConstraint", "biasConstraint"),
  },
  MaxPooling2D: { create: (a) => new conv.MaxPooling2D(a as never), options: ["poolSize", "strides", "padding", "dataFormat"] },
  AveragePooling2D: { create: (a) => new conv.AveragePooling2D(a as never), options: ["poolSize", "strides", "padding", "dataFormat"] },
  GlobalAveragePooling2D: { create: (a) => new conv.GlobalAveragePooling2D(a as never), options: ["dataFormat"], inert: { keepdims: false } },
  BatchNormalization: {
    create: (a) => new conv.BatchNormalization(a as never),
    options: ["axis", "momentum", "epsilon", "center", "scale", "betaInitializer", "gammaInitializer", "movingMeanInitializer", "movingVarianceInitializer"],
    inert: unused("betaRegularizer", "gammaRegularizer", "betaConstraint", "gammaConstraint"),
  },
} satisfies Record<string, LayerClass>;

/** Keras class names tfc reads (InputLayer included), for error messages. */
export const SUPPORTED_LAYER_CLASSES: readonly string[] = ["InputLayer", ...Object.keys(LAYER_CLASSES)];

function requireChannelsLast(className: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== "channelsLast") {
    throw new TfcError("TFC7024", `${className} supports data_format 'channels_last', got ${JSON.stringify(toPythonic(dataFormat as string))}`, { loc: currentUserLoc() });
  }
}

const unsupportedClass = (what: string, className: string): TfcError =>
  new TfcError("TFC7023", `${what}: unknown layer class '${className}'; tfc reads and writes ${SUPPORTED_LAYER_CLASSES.join(", ")}`, { loc: currentUserLoc() });

// ---- tfc model → modelTopology ----------------------------------------------------------------

/** `[?, 28, 28, 1]` in TF.js's spelling: null for the batch dimension. */
const batchShape = (s: SymbolicTensor): (number | null)[] => s.shape;

function layerEntry(layer: Layer): ConfigDict {
  if (!(layer.className in LAYER_CLASSES)) throw unsupportedClass(`cannot save layer '${layer.name}'`, layer.className);
  return { className: layer.className, config: layer.getConfig() };
}

function checkUniqueNames(names: string[], model: LayersModel): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      throw new TfcError("TFC7030", `cannot save model '${model.name}': two of its layers or inputs are named '${n}'; Keras checkpoints need unique layer names`, {
        loc: currentUserLoc(),
      });
    }
    seen.add(n);
  }
}

/**
 * The layers of a model in the order the topology lists them (model inputs excluded): a Sequential
 * model's stack, or a functional model's layers in topological order of their first application.
 */
export function topologyLayers(model: LayersModel): Layer[] {
  return model instanceof Sequential ? model.layers : functionalGraph(model).layers;
}

interface FunctionalGraph {
  layers: Layer[];
  /** Each layer application's output → which layer made it and its node index there. */
  nodes: Map<SymbolicTensor, { layer: string; index: number }>;
  /** Each layer's applications, by node index. */
  applications: Map<Layer, SymbolicTensor[]>;
}

function functionalGraph(model: LayersModel): FunctionalGraph {
  const graph: FunctionalGraph = { layers: [], nodes: new Map(), applications: new Map() };
  for (const s of model.inputs) graph.nodes.set(s, { layer: s.name, index: 0 });
  const visit = (s: SymbolicTensor): void => {
    if (graph.nodes.has(s)) return;
    s.inputs.forEach(visit);
    const layer = s.sourceLayer!;
    let apps = graph.applications.get(layer);
    if (!apps) {
      apps = [];
      graph.applications.set(layer, apps);
      graph.layers.push(layer);
    }
    graph.nodes.set(s, { layer: layer.name, index: apps.length });
    apps.push(s);
  };
  model.outputs.forEach(visit);
  return graph;
}

function sequentialConfig(model: Sequential): ConfigDict {
  if (model.inputs.length === 0) {
    throw new TfcError("TFC7030", `cannot save sequential model '${model.name}': its input shape is unknown; give its first layer an inputShape`, {
      loc: currentUserLoc(),
    });
  }
  checkUniqueNames(model.layers.map((l) => l.name), model);
  return { name: model.name, layers: model.layers.map(layerEntry) };
}

function functionalConfig(model: LayersModel): ConfigDict {
  const graph = functionalGraph(model);
  checkUniqueNames([...model.inputs.map((s) => s.name), ...graph.layers.map((l) => l.name)], model);
  const ref = (s: SymbolicTensor): ConfigValue => {
    const node = graph.nodes.get(s)!;
    return [node.layer, node.index, 0];
  };
  const inputLayers: ConfigDict[] = model.inputs.map((s) => ({
    name: s.name,
    className: "InputLayer",
    config: { batchInputShape: batchShape(s), dtype: s.dtype, sparse: false, name: s.name },
    inboundNodes: [],
  }));
  const layers: ConfigDict[] = graph.layers.map((layer) => ({
    name: layer.name,
    ...layerEntry(layer),
    inboundNodes: graph.applications.get(layer)!.map((s) => s.inputs.map((x) => [...(ref(x) as ConfigValue[]), {}])),
  }));
  return { name: model.name, layers: [...inputLayers, ...layers], inputLayers: model.inputs.map(ref), outputLayers: model.outputs.map(ref) };
}

/**
 * The `modelTopology` TF.js writes for a model: `{class_name: "Sequential" | "Model", config,
 * keras_version, backend}`, in Keras's snake_case (tfjs-layers' convertTsToPythonic).
 */
export function modelToJSON(model: LayersModel): ConfigDict {
  const sequential = model instanceof Sequential;
  const topology: ConfigDict = {
    className: sequential ? "Sequential" : "Model",
    config: sequential ? sequentialConfig(model) : functionalConfig(model),
    kerasVersion: `tfc ${TFC_VERSION}`,
    backend: "TensorFlow.js",
  };
  return toPythonic(topology) as ConfigDict;
}

// ---- modelTopology → tfc model ----------------------------------------------------------------

const isDict = (v: unknown): v is ConfigDict => typeof v === "object" && v !== null && !Array.isArray(v);

function malformed(source: string, what: string): TfcError {
  return new TfcError("TFC7024", `${source}: ${what}`, { loc: currentUserLoc() });
}

/** Run `fn`, turning a layer's own complaint (bad option, shape mismatch) into one that names the file and layer. */
function inLayer<T>(source: string, name: string, className: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TfcError && !e.code.startsWith("TFC70")) {
      throw new TfcError("TFC7024", `${source}: layer '${name}' (${className}): ${e.message.replace(/^layer '[^']*' \([^)]*\): /, "")}`, {
        loc: currentUserLoc(),
        notes: e.notes,
      });
    }
    throw e;
  }
}

/** Constructor options for a layer from its camelCase Keras config; options tfc lacks are dropped with a warning. */
function layerArgs(className: keyof typeof LAYER_CLASSES, config: ConfigDict, where: string): Record<string, unknown> {
  const entry: LayerClass = LAYER_CLASSES[className];
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === null) continue; // Keras writes null for "not set"
    if (BASE_OPTIONS.includes(key) || entry.options.includes(key)) {
      if (key.endsWith("Initializer")) {
        const init = initializerFromConfig(value, `${where} ${toSnakeCase(key)}`);
        if (init !== undefined) args[key] = init;
      } else if (key === "dtype" && typeof value !== "string") {
        warn("TFC7035", `${where}: dtype ${JSON.stringify(value)} is not a dtype name; using float32`);
      } else {
        // TF.js's camelCase conversion turns 'gelu_new' into 'geluNew'; tfc's name keeps the underscore.
        args[key] = key === "activation" && value === "geluNew" ? "gelu_new" : value;
      }
    } else if (entry.inert && key in entry.inert) {
      if (!isDeepStrictEqual(value, entry.inert[key])) {
        warn("TFC7035", `${where}: '${toSnakeCase(key)}' ${JSON.stringify(value)} is ignored; tfc does not implement it`);
      }
    } else {
      warn("TFC7035", `${where}: option '${toSnakeCase(key)}' is not known to tfc and is ignored`);
    }
  }
  return args;
}

function createLayer(entry: ConfigDict, source: string, extra: Record<string, unknown> = {}): Layer {
  const className = entry.className;
  const config = isDict(entry.config) ? entry.config : {};
  const name = typeof config.name === "string" ? config.name : typeof entry.name === "string" ? entry.name : "?";
  if (typeof className !== "string") throw malformed(source, `layer '${name}' has no class_name`);
  if (!(className in LAYER_CLASSES)) throw unsupportedClass(`${source}: layer '${name}'`, className);
  const known = className as keyof typeof LAYER_CLASSES;
  return inLayer(source, name, className, () => LAYER_CLASSES[known].create({ ...layerArgs(known, config, `${source}: layer '${name}'`), ...extra }));
}

/** An InputLayer's shape and dtype, checked. */
function inputLayerSpec(entry: ConfigDict, source: string): { name: string; batchShape: (number | null)[]; dtype: DataType } {
  const config = isDict(entry.config) ? entry.config : {};
  const name = typeof config.name === "string" ? config.name : String(entry.name);
  const shape = config.batchInputShape;
  if (!Array.isArray(shape) || !shape.every((d) => d === null || typeof d === "number")) {
    throw malformed(source, `InputLayer '${name}' has no batch_input_shape`);
  }
  const dtype = typeof config.dtype === "string" ? (config.dtype as DataType) : "float32";
  return { name, batchShape: shape as (number | null)[], dtype };
}

function sequentialFromConfig(config: ConfigValue | undefined, source: string): Sequential {
  // Keras 1 wrote a Sequential config as the bare list of layers.
  const layersConfig = Array.isArray(config) ? config : isDict(config) ? config.layers : undefined;
  if (!Array.isArray(layersConfig) || !layersConfig.every(isDict)) throw malformed(source, "the Sequential config has no list of layers");
  const entries = layersConfig as ConfigDict[];
  let firstInput: Record<string, unknown> = {};
  const layers: Layer[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.className === "InputLayer") {
      if (i !== 0) throw malformed(source, "an InputLayer can only come first in a Sequential model");
      const spec = inputLayerSpec(entry, source);
      firstInput = { batchInputShape: spec.batchShape, dtype: spec.dtype };
      continue;
    }
    const hasShape = isDict(entry.config) && Array.isArray(entry.config.batchInputShape);
    layers.push(createLayer(entry, source, layers.length === 0 && !hasShape ? firstInput : {}));
  }
  if (layers.length === 0) throw malformed(source, "the Sequential model has no layers");
  if (!layers[0]!.batchInputShape) throw malformed(source, `the first layer ('${layers[0]!.name}') has no batch_input_shape, so the model's input shape is unknown`);
  const name = isDict(config) && typeof config.name === "string" ? config.name : undefined;
  return inLayer(source, layers[0]!.name, layers[0]!.className, () => new Sequential({ layers, ...(name ? { name } : {}) }));
}

/** A `[layer_name, node_index, tensor_index]` reference. */
function parseRef(v: ConfigValue, source: string, what: string): { layer: string; node: number; tensor: number } {
  if (!Array.isArray(v) || typeof v[0] !== "string" || typeof v[1] !== "number" || typeof v[2] !== "number") {
    throw malformed(source, `${what} ${JSON.stringify(v)} is not a [layer_name, node_index, tensor_index] reference`);
  }
  return { layer: v[0], node: v[1], tensor: v[2] };
}

function functionalFromConfig(config: ConfigValue | undefined, source: string): LayersModel {
  if (!isDict(config) || !Array.isArray(config.layers) || !config.layers.every(isDict)) throw malformed(source, "the Model config has no list of layers");
  const entries = config.layers as ConfigDict[];
  /** Each layer's outputs, by node index (an InputLayer has one). */
  const outputs = new Map<string, SymbolicTensor[]>();
  const pending: { name: string; layer: Layer; nodes: ConfigValue[] }[] = [];
  for (const entry of entries) {
    const name = typeof entry.name === "string" ? entry.name : isDict(entry.config) && typeof entry.config.name === "string" ? entry.config.name : undefined;
    if (name === undefined) throw malformed(source, "a layer of the Model config has no name");
    if (outputs.has(name)) throw malformed(source, `two layers are named '${name}'`);
    if (entry.className === "InputLayer") {
      const spec = inputLayerSpec(entry, source);
      outputs.set(name, [inLayer(source, name, "InputLayer", () => input({ batchShape: spec.batchShape, dtype: spec.dtype, name }))]);
      continue;
    }
    const layer = createLayer(entry, source);
    outputs.set(name, []);
    if (!Array.isArray(entry.inboundNodes)) throw malformed(source, `layer '${name}' has no inbound_nodes list`);
    pending.push({ name, layer, nodes: [...entry.inboundNodes] });
  }
  const resolve = (v: ConfigValue, what: string): SymbolicTensor | undefined => {
    const ref = parseRef(v, source, what);
    if (!outputs.has(ref.layer)) throw malformed(source, `${what} refers to layer '${ref.layer}', which the model does not have`);
    if (ref.tensor !== 0) throw malformed(source, `${what} refers to output ${ref.tensor} of layer '${ref.layer}'; tfc layers have one output`);
    return outputs.get(ref.layer)![ref.node];
  };
  // Apply each layer's nodes in order once their inputs exist (Keras's deserialization order).
  for (let progress = true; progress; ) {
    progress = false;
    for (const p of pending) {
      while (p.nodes.length > 0) {
        const node = p.nodes[0]!;
        if (!Array.isArray(node)) throw malformed(source, `layer '${p.name}' has an inbound node ${JSON.stringify(node)} that is not a list of references`);
        const inputs = node.map((ref) => resolve(Array.isArray(ref) ? ref.slice(0, 3) : ref, `an inbound node of layer '${p.name}'`));
        if (inputs.some((x) => x === undefined)) break;
        outputs.get(p.name)!.push(inLayer(source, p.name, p.layer.className, () => p.layer.apply(inputs as SymbolicTensor[]) as SymbolicTensor));
        p.nodes.shift();
        progress = true;
      }
    }
  }
  const stuck = pending.find((p) => p.nodes.length > 0);
  if (stuck) throw malformed(source, `the inbound nodes of layer '${stuck.name}' refer to nodes no layer makes (a cycle or a missing node)`);
  const ends = (key: string): SymbolicTensor[] => {
    const list = config[key];
    if (!Array.isArray(list) || list.length === 0) throw malformed(source, `the Model config has no ${toSnakeCase(key)}`);
    return list.map((v) => {
      const s = resolve(v, toSnakeCase(key));
      if (!s) throw malformed(source, `${toSnakeCase(key)} entry ${JSON.stringify(v)} refers to a node that does not exist`);
      return s;
    });
  };
  const name = typeof config.name === "string" ? config.name : undefined;
  return new LayersModel({ inputs: ends("inputLayers"), outputs: ends("outputLayers"), ...(name ? { name } : {}) });
}

/**
 * A tfc model from a `modelTopology` (snake_case, as in model.json); `source` names the file in
 * errors. Layers are built, weights have their initial values; io/weights.ts loads the checkpoint's.
 */
export function modelFromJSON(topology: unknown, source: string): LayersModel {
  if (!isDict(topology)) throw new TfcError("TFC7022", `${source}: modelTopology is not a Keras model config object`, { loc: currentUserLoc() });
  // Models converted from Keras .h5 files wrap the config in `model_config`.
  const top = isDict(topology.model_config) ? topology.model_config : topology;
  const ts = fromPythonic(top);
  if (!isDict(ts)) throw new TfcError("TFC7022", `${source}: modelTopology is not a Keras model config object`, { loc: currentUserLoc() });
  switch (ts.className) {
    case "Sequential":
      return sequentialFromConfig(ts.config ?? undefined, source);
    case "Model":
    case "Functional":
      return functionalFromConfig(ts.config ?? undefined, source);
    default:
      throw new TfcError("TFC7022", `${source}: modelTopology has class_name ${JSON.stringify(ts.className ?? null)}; tfc loads 'Sequential' and functional 'Model' topologies`, {
        loc: currentUserLoc(),
      });
  }
}
