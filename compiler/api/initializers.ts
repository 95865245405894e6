// Weight initializers by TF.js identifier or object (`tf.initializers.glorotUniform({seed})`),
// turned into IR initializers. Unseeded random initializers get seeds from a counter that the
// loader resets per model file, so a model compiles to the same weights every time.

import type { Initializer, RandomInitKind } from "../../ir/ir.js";
import { TfcError, closest } from "../../ir/errors.js";
import { currentUserLoc } from "../frontend/location.js";
import { warn } from "./warnings.js";

export interface InitializerObject {
  readonly __tfcInitializer: true;
  readonly make: (seed: number) => Initializer;
  readonly className: string;
}

export type InitializerIdentifier =
  | "zeros" | "ones" | "glorotUniform" | "glorotNormal" | "heUniform" | "heNormal"
  | "leCunUniform" | "leCunNormal" | "randomUniform" | "randomNormal" | "truncatedNormal";

interface SeedArgs { seed?: number }

const random = (kind: RandomInitKind, className: string, args: SeedArgs & { a?: number; b?: number } = {}): InitializerObject => ({
  __tfcInitializer: true,
  className,
  make: (seed) => ({ kind, seed: args.seed ?? seed, ...(args.a !== undefined ? { a: args.a } : {}), ...(args.b !== undefined ? { b: args.b } : {}) }),
});

export const initializers = {
  zeros: (): InitializerObject => ({ __tfcInitializer: true, className: "Zeros", make: () => ({ kind: "zeros" }) }),
  ones: (): InitializerObject => ({ __tfcInitializer: true, className: "Ones", make: () => ({ kind: "ones" }) }),
  constant: (args: { value: number }): InitializerObject => ({ __tfcInitializer: true, className: "Constant", make: () => ({ kind: "constant", value: args.value }) }),
  glorotUniform: (args: SeedArgs = {}) => random("glorot_uniform", "GlorotUniform", args),
  glorotNormal: (args: SeedArgs = {}) => random("glorot_normal", "GlorotNormal", args),
  heUniform: (args: SeedArgs = {}) => random("he_uniform", "HeUniform", args),
  heNormal: (args: SeedArgs = {}) => random("he_normal", "HeNormal", args),
  leCunUniform: (args: SeedArgs = {}) => random("lecun_uniform", "LeCunUniform", args),
  leCunNormal: (args: SeedArgs = {}) => random("lecun_normal", "LeCunNormal", args),
  randomUniform: (args: SeedArgs & { minval?: number; maxval?: number } = {}) =>
    random("random_uniform", "RandomUniform", { ...args, a: args.minval ?? -0.05, b: args.maxval ?? 0.05 }),
  randomNormal: (args: SeedArgs & { mean?: number; stddev?: number } = {}) =>
    random("random_normal", "RandomNormal", { ...args, a: args.mean ?? 0, b: args.stddev ?? 0.05 }),
  truncatedNormal: (args: SeedArgs & { mean?: number; stddev?: number } = {}) =>
    random("truncated_normal", "TruncatedNormal", { ...args, a: args.mean ?? 0, b: args.stddev ?? 0.05 }),
};

const BY_NAME: Record<InitializerIdentifier, () => InitializerObject> = {
  zeros: initializers.zeros,
  ones: initializers.ones,
  glorotUniform: initializers.glorotUniform,
  glorotNormal: initializers.glorotNormal,
  heUniform: initializers.heUniform,
  heNormal: initializers.heNormal,
  leCunUniform: initializers.leCunUniform,
  leCunNormal: initializers.leCunNormal,
  randomUniform: initializers.randomUniform,
  randomNormal: initializers.randomNormal,
  truncatedNormal: initializers.truncatedNormal,
};

const KERAS: Record<string, InitializerIdentifier> = {
  glorot_uniform: "glorotUniform", glorot_normal: "glorotNormal", he_uniform: "heUniform", he_normal: "heNormal",
  lecun_uniform: "leCunUniform", lecun_normal: "leCunNormal", random_uniform: "randomUniform",
  random_normal: "randomNormal", truncated_normal: "truncatedNormal", Zeros: "zeros", Ones: "ones",
};

let seedCounter = 1;
export function resetSeeds(): void {
  seedCounter = 1;
}

export function resolveInitializer(spec: string | InitializerObject | undefined, fallback: InitializerIdentifier): Initializer {
  const seed = seedCounter++;
  if (spec === undefined) return BY_NAME[fallback]().make(seed);
  if (typeof spec === "object" && spec.__tfcInitializer) return spec.make(seed);
  const name = String(spec);
  if (name in BY_NAME) return BY_NAME[name as InitializerIdentifier]().make(seed);
  if (name in KERAS) {
    warn("TFC3101", `initializer '${name}' is the Keras spelling; tfc uses TF.js's '${KERAS[name]}'`);
    return BY_NAME[KERAS[name]!]().make(seed);
  }
  const hint = closest(name, [...Object.keys(BY_NAME), ...Object.keys(KERAS)]);
  throw new TfcError("TFC3003", `unknown initializer '${name}'`, {
    loc: currentUserLoc(),
    notes: hint ? [`did you mean '${KERAS[hint] ?? hint}'?`] : [`initializers are: ${Object.keys(BY_NAME).join(", ")}`],
  });
}
