// Keras objects inside a TF.js Layers checkpoint: the snake_case ↔ camelCase conversion TF.js
// applies to a whole model topology, and initializers as `{className, config}` objects. Layer
// configs (compiler/api/layers) use these; io/layers-format.ts applies the conversion.

import { TfcError } from "../../../ir/errors.js";
import type { Initializer, RandomInitKind } from "../../../ir/ir.js";
import { currentUserLoc } from "../../frontend/location.js";
import { initializers, type InitializerObject } from "../initializers.js";
import { warn } from "../warnings.js";

/** A JSON value as it appears in model.json. */
export type ConfigValue = number | string | boolean | null | ConfigValue[] | ConfigDict;
export interface ConfigDict {
  [key: string]: ConfigValue;
}
/** A layer's config in TF.js's camelCase keys, as `layer.getConfig()` returns it in TF.js. */
export type LayerConfig = ConfigDict;

// ---- TF.js's pythonic conversion (tfjs-layers serialization_utils), rule for rule ----------------

/** tfjs-layers toSnakeCase: `kernelInitializer` → `kernel_initializer`, `channelsLast` → `channels_last`. */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2");
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return insecure[0] !== "_" ? insecure : "private" + insecure;
}

/** tfjs-layers toCamelCase: `kernel_initializer` → `kernelInitializer`. */
export function toCamelCase(identifier: string): string {
  if (identifier.length <= 1 || !identifier.includes("_")) return identifier;
  return identifier.replace(/[_]+(\w|$)/g, (_, c: string) => c.toUpperCase());
}

/** Layer names at index 0 of inbound-node and input/output entries keep their spelling. */
const isLayerNameItem = (key: string | undefined, index: number, value: unknown): boolean =>
  (key === "inboundNodes" || key === "outputLayers" || key === "inputLayers") && index === 0 && typeof value === "string";

/** TF.js convertTsToPythonic: keys and string values to snake_case, except names. */
export function toPythonic(value: ConfigValue | undefined, key?: string): ConfigValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return toSnakeCase(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((item, i) => (isLayerNameItem(key, i, item) ? item : toPythonic(item, key)));
  const out: ConfigDict = {};
  for (const [k, v] of Object.entries(value)) {
    out[toSnakeCase(k)] = (k === "name" || k === "className") && typeof v === "string" ? v : toPythonic(v, k);
  }
  return out;
}

/** TF.js convertPythonicToTs: keys and string values to camelCase, except `name` values. */
export function fromPythonic(value: ConfigValue | undefined, key?: string): ConfigValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return toCamelCase(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((item, i) => (isLayerNameItem(key, i, item) ? item : fromPythonic(item, key)));
  const out: ConfigDict = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "name" && typeof v === "string") out[k] = v;
    else out[toCamelCase(k)] = fromPythonic(v, toCamelCase(k));
  }
  return out;
}

// ---- Initializers ----------------------------------------------------------------------------

/** Variance-scaling kinds as TF.js writes them: scale, fan mode and distribution ('normal' is truncated). */
const VARIANCE_SCALING: Partial<Record<RandomInitKind, { scale: number; mode: string; distribution: string }>> = {
  glorot_uniform: { scale: 1, mode: "fanAvg", distribution: "uniform" },
  glorot_normal: { scale: 1, mode: "fanAvg", distribution: "normal" },
  he_uniform: { scale: 2, mode: "fanIn", distribution: "uniform" },
  he_normal: { scale: 2, mode: "fanIn", distribution: "normal" },
  lecun_uniform: { scale: 1, mode: "fanIn", distribution: "uniform" },
  lecun_normal: { scale: 1, mode: "fanIn", distribution: "normal" },
};

/**
 * The `{className, config}` TF.js serializes an initializer as. tfc gives every random initializer
 * a seed (the user's, or one from the per-file counter), so the seed written is the one that made
 * the initial weights.
 */
export function initializerToConfig(init: Initializer, what: string): ConfigDict {
  switch (init.kind) {
    case "zeros":
      return { className: "Zeros", config: {} };
    case "ones":
      return { className: "Ones", config: {} };
    case "constant":
      return { className: "Constant", config: { value: init.value } };
    case "random_uniform":
      return { className: "RandomUniform", config: { minval: init.a ?? -0.05, maxval: init.b ?? 0.05, seed: init.seed } };
    case "random_normal":
      return { className: "RandomNormal", config: { mean: init.a ?? 0, stddev: init.b ?? 0.05, seed: init.seed } };
    case "truncated_normal":
      return { className: "TruncatedNormal", config: { mean: init.a ?? 0, stddev: init.b ?? 0.05, seed: init.seed } };
    case "data":
      throw new TfcError("TFC7030", `${what}: an initializer holding data cannot be written as a Keras config`, { loc: currentUserLoc() });
    default: {
      const vs = VARIANCE_SCALING[init.kind]!;
      return { className: "VarianceScaling", config: { ...vs, seed: init.seed } };
    }
  }
}

type SeededFactory = (args: { seed?: number }) => InitializerObject;
/** Keras 2 and TF.js class names of the variance-scaling family. */
const NAMED_VARIANCE_SCALING: Record<string, SeededFactory> = {
  GlorotUniform: initializers.glorotUniform, GlorotNormal: initializers.glorotNormal,
  HeUniform: initializers.heUniform, HeNormal: initializers.heNormal,
  LeCunUniform: initializers.leCunUniform, LeCunNormal: initializers.leCunNormal,
  LecunUniform: initializers.leCunUniform, LecunNormal: initializers.leCunNormal,
};

const VARIANCE_SCALING_FACTORY: Partial<Record<RandomInitKind, SeededFactory>> = {
  glorot_uniform: initializers.glorotUniform, glorot_normal: initializers.glorotNormal,
  he_uniform: initializers.heUniform, he_normal: initializers.heNormal,
  lecun_uniform: initializers.leCunUniform, lecun_normal: initializers.leCunNormal,
};

const num = (v: ConfigValue | undefined): number | undefined => (typeof v === "number" ? v : undefined);

/**
 * A tfc initializer for a camelCase `{className, config}` (or a plain identifier string). Kinds tfc
 * lacks fall back to the layer's default with a warning: a loaded checkpoint overwrites the initial
 * values anyway, so only re-initialization would differ.
 */
export function initializerFromConfig(value: ConfigValue | undefined, what: string): string | InitializerObject | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value !== "object" || Array.isArray(value) || typeof value.className !== "string") {
    warn("TFC7035", `${what}: initializer ${JSON.stringify(value)} is not a {class_name, config} object; using the default`);
    return undefined;
  }
  const cfg = (value.config && typeof value.config === "object" && !Array.isArray(value.config) ? value.config : {}) as ConfigDict;
  const seed = num(cfg.seed) !== undefined ? { seed: num(cfg.seed)! } : {};
  switch (value.className) {
    case "Zeros":
      return initializers.zeros();
    case "Ones":
      return initializers.ones();
    case "Constant":
      return initializers.constant({ value: num(cfg.value) ?? 0 });
    case "RandomUniform":
      return initializers.randomUniform({ ...seed, minval: num(cfg.minval) ?? -0.05, maxval: num(cfg.maxval) ?? 0.05 });
    case "RandomNormal":
      return initializers.randomNormal({ ...seed, mean: num(cfg.mean) ?? 0, stddev: num(cfg.stddev) ?? 0.05 });
    case "TruncatedNormal":
      return initializers.truncatedNormal({ ...seed, mean: num(cfg.mean) ?? 0, stddev: num(cfg.stddev) ?? 0.05 });
    case "VarianceScaling": {
      // Keras spells the truncated normal 'truncated_normal'; TF.js calls it 'normal'.
      const distribution = cfg.distribution === "truncatedNormal" ? "normal" : cfg.distribution;
      const kind = (Object.keys(VARIANCE_SCALING) as RandomInitKind[]).find((k) => {
        const vs = VARIANCE_SCALING[k]!;
        return vs.scale === (num(cfg.scale) ?? 1) && vs.mode === (cfg.mode ?? "fanIn") && vs.distribution === (distribution ?? "normal");
      });
      if (kind) return VARIANCE_SCALING_FACTORY[kind]!(seed);
      break;
    }
    default: {
      const factory = NAMED_VARIANCE_SCALING[value.className];
      if (factory) return factory(seed);
    }
  }
  warn("TFC7035", `${what}: tfc has no initializer ${JSON.stringify(value)}; the layer uses its default (the checkpoint's weights are loaded over it)`);
  return undefined;
}
