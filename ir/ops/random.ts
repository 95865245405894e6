// Random numbers for training-time ops (dropout): counter-based, so a value depends only on the
// seed, the salt and the element's flat index — every backend computes the same numbers, in any
// order, in parallel, and a resumed training run draws exactly what an uninterrupted one would.

import { defineOp } from "../op-def.js";
import type { Value } from "../ir.js";
import { attr } from "../attrs.js";
import { TfcError } from "../errors.js";
import { formatType, numElements } from "../types.js";
import { hostTensor } from "../tensor.js";

/** The hash's odd multipliers and offsets (i32, wrapping): golden-ratio and murmur-style constants. */
export const HASH = { index: -1640531535, seed: -2048144777, salt: -1028477379, offset: 0x3c6ef372, mix1: 0x27d4eb2f, add1: 0x165667b1, mix2: -1640531535 } as const;

/**
 * The uniform number of element `index`: a Weyl sequence over (index, seed, salt), then twice the
 * permutation x ↦ x·(2x+1) (mod 2³²) interleaved with odd multiplies, so high bits depend on every
 * input bit; the top bits become a float in [0, 1]. i32 arithmetic wraps, as in every backend.
 */
export function hashUniform(index: number, seed: number, salt: number): number {
  let x = (Math.imul(index, HASH.index) + Math.imul(seed, HASH.seed) + Math.imul(salt, HASH.salt) + HASH.offset) | 0;
  x = Math.imul(x, (2 * x + 1) | 0);
  x = (Math.imul(x, HASH.mix1) + HASH.add1) | 0;
  x = Math.imul(x, (2 * x + 1) | 0);
  x = Math.imul(x, HASH.mix2);
  return Math.fround(Math.fround(Math.fround(x) * 2 ** -32) + 0.5);
}

export const random_uniform = defineOp({
  name: "random_uniform",
  summary: "Counter-based uniform numbers in [0, 1] shaped like x (x's values are not read): `%2 = random_uniform %x, %seed {salt=3} : f32[?,128]`",
  operands: ["x", "seed"],
  attrs: { salt: attr.int(0) },
  traits: ["pure"],
  type: ([x, seed]) => {
    if (seed!.dtype !== "i32" || seed!.shape.length !== 0) throw new TfcError("TFC2001", `random_uniform seed must be an i32 scalar, got ${formatType(seed!)}`);
    return { dtype: "f32", shape: [...x!.shape] };
  },
  interpret: ([x, seed], { salt }, out) => {
    const res = hostTensor("f32", out.shape);
    const s = seed!.data[0]!;
    for (let i = 0; i < numElements(x!.shape); i++) res.data[i] = hashUniform(i, s, salt);
    return res;
  },
  // Not a function of x's values: zero gradient; the seed is an integer.
  vjp: (b, { inputs: [x] }): (Value | null)[] => [b.op("mul", [x!, b.constant(hostTensor("f32", [], [0]))]), null],
});
