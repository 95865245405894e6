// random_uniform to kernel IR: one parallel loop over the output's flat index, computing the same
// i32 hash as ir/ops/random.ts hashUniform (wrapping multiplies, then a float in [0, 1]).

import { KBuilder } from "../../ir/kernel/builder.js";
import { F32, I32, type KValue } from "../../ir/kernel/kir.js";
import { HASH } from "../../ir/ops/random.js";
import { dimsProduct, type TemplateContext } from "./context.js";

export function lowerRandomUniform(ctx: TemplateContext): void {
  const salt = ctx.attrs["salt"] as number;
  const b = new KBuilder(ctx.kernelName());
  b.buffer("x", "f32");
  const seedBuf = b.buffer("seed", "i32");
  const dst = b.buffer("out", "f32", true);
  const n = b.scalarParam("n");
  const i32 = (v: number): KValue => b.const(v, I32);
  const seed = b.load(seedBuf, b.index(0));
  const base = b.add(b.add(b.mul(seed, i32(HASH.seed)), i32(Math.imul(salt, HASH.salt))), i32(HASH.offset));
  const square = (x: KValue): KValue => b.mul(x, b.add(b.mul(x, i32(2)), i32(1)));
  b.for(0, dimsProduct(b, ctx.outType.shape, n), { parallel: true, name: "i" }, (i) => {
    let x = b.add(b.mul(b.cast(i, I32), i32(HASH.index)), base);
    x = square(x);
    x = b.add(b.mul(x, i32(HASH.mix1)), i32(HASH.add1));
    x = square(x);
    x = b.mul(x, i32(HASH.mix2));
    b.store(dst, i, b.add(b.mul(b.cast(x, F32), b.const(2 ** -32, F32)), b.const(0.5, F32)));
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.inputs[1]!, ctx.out]);
}
