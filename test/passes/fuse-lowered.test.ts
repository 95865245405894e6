// Fusion groups lowered: each case's kernel count before and after `fuse`, and the fused kernels'
// outputs against the tensor interpreter on the kernel interpreter (widths 4 and 8; batches 1, 3,
// 5, 10 and 17 leave every remainder of rows after whole micro-tiles), and on native code and wasm
// for the GEMM epilogues (K over one block, N with partial panels and single columns, row and
// column operands). Tolerance: 1e-5 relative and 1e-6 absolute (sums run in another order than
// the reference), 2e-5 absolute where 300-term sums cancel.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parseModule } from "../../ir/parser.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { concretize } from "../../ir/types.js";
import type { Module } from "../../ir/ir.js";
import { runPipeline } from "../../passes/manager.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { verifyKProgram } from "../../ir/kernel/verify.js";
import { printKProgram } from "../../ir/kernel/print.js";
import { parseKProgram } from "../../ir/kernel/parse.js";
import { interpretKProgram } from "../../ir/kernel/interpret.js";
import { buildNative } from "../../targets/llvm/index.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { assertClose } from "../util.js";

interface Case {
  readonly name: string;
  readonly ir: string;
  /** Kernel launches without and with fusion. */
  readonly kernels: readonly [number, number];
  /** Absolute tolerance (default 1e-6). */
  readonly atol?: number;
}

const CASES: Case[] = [
  {
    name: "elementwise chain with broadcast operands",
    ir: `func @f(%x: f32[?,5,7], %y: f32[7], %z: f32[?,1,7]) -> (f32[?,5,7]) {
  %0 = sub %x, %y : f32[?,5,7]
  %1 = exp %0 : f32[?,5,7]
  %2 = mul %1, %z : f32[?,5,7]
  %3 = greater %2, %x : bool[?,5,7]
  %4 = select %3, %2, %x : f32[?,5,7]
  return %4
}`,
    kernels: [5, 1],
  },
  {
    name: "a mean of squared differences and a row sum read through their prologues",
    ir: `func @f(%p: f32[?,13], %y: f32[?,13], %w: f32[]) -> (f32[], f32[?,1]) {
  %0 = sub %p, %y : f32[?,13]
  %1 = square %0 : f32[?,13]
  %2 = mul %1, %w : f32[?,13]
  %3 = mean %2 {axis=[0, 1], keepdims=false} : f32[]
  %4 = mul %p, %y : f32[?,13]
  %5 = exp %4 : f32[?,13]
  %6 = sum %5 {axis=[-1], keepdims=true} : f32[?,1]
  return %3, %6
}`,
    kernels: [7, 2],
  },
  {
    name: "a kernel with three outputs (Adam's update of a weight and its two moments)",
    ir: `func @f(%g: f32[40,9], %m: f32[40,9], %v: f32[40,9], %w: f32[40,9], %lr: f32[]) -> (f32[40,9], f32[40,9], f32[40,9]) {
  %0 = constant {value=dense<f32[] [0.9]>} : f32[]
  %1 = constant {value=dense<f32[] [0.1]>} : f32[]
  %2 = mul %m, %0 : f32[40,9]
  %3 = mul %g, %1 : f32[40,9]
  %4 = add %2, %3 : f32[40,9]
  %5 = square %g : f32[40,9]
  %6 = mul %v, %0 : f32[40,9]
  %7 = add %6, %5 : f32[40,9]
  %8 = sqrt %7 : f32[40,9]
  %9 = div %4, %8 : f32[40,9]
  %10 = mul %9, %lr : f32[40,9]
  %11 = sub %w, %10 : f32[40,9]
  return %4, %7, %11
}`,
    kernels: [10, 1],
  },
  {
    name: "matmul over two K blocks with bias, relu and a residual; N = 37 has partial panels and single columns",
    ir: `func @f(%x: f32[?,300], %w: f32[300,37], %b: f32[37], %r: f32[?,37]) -> (f32[?,37]) {
  %0 = matmul %x, %w {transpose_a=false, transpose_b=false} : f32[?,37]
  %1 = add %0, %b : f32[?,37]
  %2 = relu %1 : f32[?,37]
  %3 = add %2, %r : f32[?,37]
  return %3
}`,
    kernels: [4, 1],
    atol: 2e-5,
  },
  {
    name: "matmul with N = 150 (at batch 1 a matrix-vector product: wide blocks, a panel, a partial panel) and a bias + tanh epilogue",
    ir: `func @f(%x: f32[?,70], %w: f32[70,150], %b: f32[150]) -> (f32[?,150]) {
  %0 = matmul %x, %w {transpose_a=false, transpose_b=false} : f32[?,150]
  %1 = add %0, %b : f32[?,150]
  %2 = tanh %1 : f32[?,150]
  return %2
}`,
    kernels: [3, 1],
  },
  {
    name: "matmul with transpose_b (Bᵀ packed as it is read, at every batch size), N = 37 with a partial panel, relu epilogue",
    ir: `func @f(%x: f32[?,40], %w: f32[37,40]) -> (f32[?,37]) {
  %0 = matmul %x, %w {transpose_a=false, transpose_b=true} : f32[?,37]
  %1 = relu %0 : f32[?,37]
  return %1
}`,
    kernels: [2, 1],
  },
  {
    name: "narrow matmul with transpose_b (N = 10: dot products along K read Bᵀ in place, K = 37 leaves a scalar tail) with bias and relu",
    ir: `func @f(%x: f32[?,37], %w: f32[10,37], %b: f32[10]) -> (f32[?,10]) {
  %0 = matmul %x, %w {transpose_a=false, transpose_b=true} : f32[?,10]
  %1 = add %0, %b : f32[?,10]
  %2 = relu %1 : f32[?,10]
  return %2
}`,
    kernels: [3, 1],
  },
  {
    name: "narrow matmul of a weight parameter (N = 3: Bᵀ packed once by a prepare launch), bias parameter and a per-element operand",
    ir: `param @w : f32[50,3] = glorot_uniform {seed=3}
param @b : f32[3] = constant {value=0.25}
func @f(%x: f32[?,50], %r: f32[?,3]) -> (f32[?,3]) {
  %w = param {dtype=f32, name="w", shape=[50, 3]} : f32[50,3]
  %b = param {dtype=f32, name="b", shape=[3]} : f32[3]
  %0 = matmul %x, %w {transpose_a=false, transpose_b=false} : f32[?,3]
  %1 = add %0, %b : f32[?,3]
  %2 = mul %1, %r : f32[?,3]
  return %2
}`,
    kernels: [3, 1],
  },
  {
    name: "matmul with a per-row operand (column stride 0) and a scalar",
    ir: `func @f(%x: f32[?,16], %w: f32[16,48], %s: f32[?,1], %c: f32[]) -> (f32[?,48]) {
  %0 = matmul %x, %w {transpose_a=false, transpose_b=false} : f32[?,48]
  %1 = mul %0, %s : f32[?,48]
  %2 = sub %1, %c : f32[?,48]
  %3 = tanh %2 : f32[?,48]
  return %3
}`,
    kernels: [4, 1],
  },
  {
    name: "conv2d (implicit GEMM, then pointwise) with bias and relu",
    ir: `func @f(%x: f32[?,6,6,3], %f: f32[3,3,3,8], %b: f32[8], %p: f32[1,1,8,5], %c: f32[5]) -> (f32[?,4,4,5]) {
  %0 = conv2d %x, %f {dilations=[1, 1], padding="valid", strides=[1, 1]} : f32[?,4,4,8]
  %1 = add %0, %b : f32[?,4,4,8]
  %2 = relu %1 : f32[?,4,4,8]
  %3 = conv2d %2, %p {dilations=[1, 1], padding="valid", strides=[1, 1]} : f32[?,4,4,5]
  %4 = add %3, %c : f32[?,4,4,5]
  %5 = sigmoid %4 : f32[?,4,4,5]
  return %5
}`,
    kernels: [6, 2],
  },
  {
    name: "conv2d with 'same' padding (im2col) and strides, bias and relu",
    ir: `func @f(%x: f32[?,7,7,2], %f: f32[3,3,2,9], %b: f32[9]) -> (f32[?,4,4,9]) {
  %0 = conv2d %x, %f {dilations=[1, 1], padding="same", strides=[2, 2]} : f32[?,4,4,9]
  %1 = add %0, %b : f32[?,4,4,9]
  %2 = relu %1 : f32[?,4,4,9]
  return %2
}`,
    kernels: [4, 2],
  },
  {
    name: "conv2d with strides and dilations, unpadded (implicit GEMM over 2 input channels)",
    ir: `func @f(%x: f32[?,9,9,2], %f: f32[2,3,2,17], %b: f32[17]) -> (f32[?,4,3,17]) {
  %0 = conv2d %x, %f {dilations=[2, 1], padding="valid", strides=[2, 3]} : f32[?,4,3,17]
  %1 = add %0, %b : f32[?,4,3,17]
  return %1
}`,
    kernels: [2, 1],
  },
  {
    name: "conv2d, bias, relu and a 2×2 max_pool in one kernel (odd conv output: the last row and column are never pooled)",
    ir: `func @f(%x: f32[?,8,9,2], %f: f32[2,2,2,19], %b: f32[19]) -> (f32[?,3,4,19]) {
  %0 = conv2d %x, %f {dilations=[1, 1], padding="valid", strides=[1, 1]} : f32[?,7,8,19]
  %1 = add %0, %b : f32[?,7,8,19]
  %2 = relu %1 : f32[?,7,8,19]
  %3 = max_pool %2 {ksize=[2, 2], padding="valid", strides=[2, 2]} : f32[?,3,4,19]
  return %3
}`,
    kernels: [4, 1],
  },
  {
    name: "a pointwise conv2d followed by a 1×2 max_pool, no epilogue",
    ir: `func @f(%x: f32[?,3,4,5], %f: f32[1,1,5,24]) -> (f32[?,3,2,24]) {
  %0 = conv2d %x, %f {dilations=[1, 1], padding="valid", strides=[1, 1]} : f32[?,3,4,24]
  %1 = max_pool %0 {ksize=[1, 2], padding="valid", strides=[1, 2]} : f32[?,3,2,24]
  return %1
}`,
    kernels: [2, 1],
  },
];

function inputsFor(module: Module, batch: number, seed: number): HostTensor[] {
  const rng = new Rng(seed);
  return module.functions[0]!.args.map((a) => {
    const t = hostTensor(a.type.dtype, concretize(a.type.shape, batch));
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.next() * 2 - 1;
    return t;
  });
}

function lowered(c: Case, fused: boolean, width: number) {
  const module = parseModule(c.ir, "case.tfir");
  runPipeline(module, fused ? ["decompose", "fuse"] : ["decompose"], { verify: true });
  const fn = module.functions[0]!;
  return { module, fn, program: lowerFunction(module, fn, { vectorWidth: width }) };
}

for (const c of CASES) {
  test(`fused kernels: ${c.name}`, () => {
    assert.equal(lowered(c, false, 8).program.launches.length, c.kernels[0], "kernels without fusion");
    for (const width of [4, 8]) {
      const { module, fn, program } = lowered(c, true, width);
      assert.equal(program.launches.length, c.kernels[1], "kernels with fusion");
      if (c.name.startsWith("narrow")) assert.ok(program.launches.some((l) => l.kernel.buffers().some((p) => p.name === "bt")), "a narrow product runs as dot products over Bᵀ");
      verifyKProgram(program);
      const text = printKProgram(program);
      assert.equal(printKProgram(parseKProgram(text, "fused.kir")), text, "print/parse round trip");
      for (const batch of [1, 3, 5, 10, 17]) { // remainders of 1 to 5 rows after whole micro-tiles, direct and packed
        const inputs = inputsFor(module, batch, 7 * batch + width);
        const expected = interpret(module, fn, inputs);
        const params = new Map([...initialParams(module)].map(([name, t]) => [name, t.data]));
        const actual = interpretKProgram(program, inputs.map((t) => t.data as Float32Array), params, batch);
        expected.forEach((e, i) => assertClose(Array.from(actual[i]!), Array.from(e.data), 1e-5, c.atol ?? 1e-6, `output ${i}, width ${width}, batch ${batch}`));
      }
    }
  });
}

test("fused GEMM and conv epilogues on native code and wasm match the interpreter", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-fuse-"));
  try {
    for (const [k, c] of CASES.filter((c) => c.name.includes("matmul") || c.name.includes("conv2d")).entries()) {
      const module = parseModule(c.ir, "case.tfir");
      runPipeline(module, ["decompose", "fuse"], { verify: true });
      const fn = module.functions[0]!;
      const native = buildNative(module, fn, { outDir: path.join(tmp, `native${k}`) });
      const model = NativeModel.load(native.dir);
      buildWasm(module, fn, { outDir: path.join(tmp, `wasm${k}`) });
      const generated = (await import(pathToFileURL(path.join(tmp, `wasm${k}`, "model.js")).href)) as { load(): Promise<{ predictBatch(b: number, ...x: unknown[]): unknown; dispose(): void }> };
      const wm = await generated.load();
      // Batch 1: a matrix-vector product; 67: over a parallel tile of rows, not a multiple of the micro-tile.
      for (const batch of [1, 67]) {
        const inputs = inputsFor(module, batch, 11 + k);
        const [expected] = interpret(module, fn, inputs);
        const [nativeOut] = model.predict(inputs.map((t) => t.data), batch);
        assertClose(Array.from(nativeOut!), Array.from(expected!.data), 1e-5, c.atol ?? 1e-6, `native, batch ${batch}: ${c.name}`);
        const wasmOut = wm.predictBatch(batch, ...inputs.map((t) => t.data)) as Float32Array | Float32Array[];
        assertClose(Array.from(Array.isArray(wasmOut) ? wasmOut[0]! : wasmOut), Array.from(expected!.data), 1e-5, c.atol ?? 1e-6, `wasm, batch ${batch}: ${c.name}`);
      }
      model.dispose();
      wm.dispose();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
