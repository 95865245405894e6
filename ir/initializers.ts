// Materializes parameter initializers into concrete tensors. Random kinds use a small seeded PRNG
// (splitmix32 + Box–Muller), so the same model file always compiles to the same initial weights.
// Fan-in/fan-out follow TF.js / Keras: dense kernels [in, out], conv kernels [h, w, in, out].

import type { Initializer } from "./ir.js";
import type { TensorType } from "./types.js";
import { numElements } from "./types.js";
import { hostTensor, type HostTensor } from "./tensor.js";
import { TfcError } from "./errors.js";

export function materialize(init: Initializer, type: TensorType): HostTensor {
  const n = numElements(type.shape);
  const t = hostTensor(type.dtype, type.shape);
  switch (init.kind) {
    case "zeros":
      return t;
    case "ones":
      t.data.fill(1);
      return t;
    case "constant":
      t.data.fill(init.value);
      return t;
    case "data":
      if (init.tensor.data.length !== n) {
        throw new TfcError("TFC2011", `initial value has ${init.tensor.data.length} elements, parameter needs ${n}`);
      }
      return { ...t, data: init.tensor.data.slice() };
    default: {
      const rng = new Rng(init.seed);
      const { fanIn, fanOut } = fans(type.shape);
      const sample = sampler(init.kind, fanIn, fanOut, init.a, init.b, rng);
      for (let i = 0; i < n; i++) t.data[i] = sample();
      return t;
    }
  }
}

function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = numElements(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

function sampler(kind: string, fanIn: number, fanOut: number, a: number | undefined, b: number | undefined, rng: Rng): () => number {
  const uniform = (limit: number) => () => (rng.next() * 2 - 1) * limit;
  const truncated = (mean: number, std: number) => () => {
    for (;;) {
      const z = rng.normal();
      if (Math.abs(z) <= 2) return mean + z * std;
    }
  };
  switch (kind) {
    case "glorot_uniform":
      return uniform(Math.sqrt(6 / (fanIn + fanOut)));
    case "glorot_normal":
      return truncated(0, Math.sqrt(2 / (fanIn + fanOut)));
    case "he_uniform":
      return uniform(Math.sqrt(6 / fanIn));
    case "he_normal":
      return truncated(0, Math.sqrt(2 / fanIn));
    case "lecun_uniform":
      return uniform(Math.sqrt(3 / fanIn));
    case "lecun_normal":
      return truncated(0, Math.sqrt(1 / fanIn));
    case "random_uniform": {
      const lo = a ?? -0.05;
      const hi = b ?? 0.05;
      return () => lo + rng.next() * (hi - lo);
    }
    case "random_normal": {
      const mean = a ?? 0;
      const std = b ?? 0.05;
      return () => mean + rng.normal() * std;
    }
    case "truncated_normal":
      return truncated(a ?? 0, b ?? 0.05);
    default:
      throw new TfcError("TFC3003", `unknown initializer '${kind}'`);
  }
}

/** splitmix32: tiny, fast, good enough for initial weights and shuffles. */
export class Rng {
  private state: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  }
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
