// autodiff builds gradient functions in IR, so gradients compile like any other function: the
// gradient of the MLP's (summed) output with respect to every parameter, compiled to native code
// and to wasm, equals the interpreter's (1e-4 relative, 1e-6 absolute: GEMM sums in another order),
// and the interpreter's gradient equals central finite differences (h = 1e-3; 2e-2 relative, 2e-3 absolute).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../../compiler/driver.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { verifyFunc } from "../../ir/verifier.js";
import { gradFunction } from "../../passes/autodiff.js";
import { buildNative } from "../../targets/llvm/index.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { assertClose, repoRoot } from "../util.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-autodiff-"));

test("the MLP's parameter gradients compile to native code and wasm and equal the interpreter", async () => {
  const result = compile(path.join(repoRoot(), "examples/neural-network.ts"));
  const module = result.module;
  const fn = module.functions[0]!;
  const names = [...module.params.keys()];
  const grad = gradFunction(module, fn, { params: names });
  verifyFunc(grad, module);
  assert.deepEqual(grad.resultNames, ["dense_2", ...names.map((n) => `grad_${n}`)]);
  const params = initialParams(module);
  const batch = 5;
  const rng = new Rng(3);
  const x = hostTensor("f32", [batch, 4], Array.from({ length: batch * 4 }, () => rng.next() * 2 - 1));
  const expected = interpret(module, grad, [x], params);
  grad.results.forEach((r, i) => assert.deepEqual(expected[i]!.shape, r.type.shape.map((d) => (d < 0 ? batch : d))));

  const native = buildNative(module, grad, { outDir: path.join(tmp, "native"), params });
  const nm = NativeModel.load(native.dir);
  const nativeOut = nm.predict([x.data], batch);
  nm.dispose();
  buildWasm(module, grad, { outDir: path.join(tmp, "wasm"), params });
  const generated = (await import(pathToFileURL(path.join(tmp, "wasm", "model.js")).href)) as { load(): Promise<{ predictBatch(b: number, ...x: unknown[]): unknown; dispose(): void }> };
  const wm = await generated.load();
  const wasmOut = wm.predictBatch(batch, x.data) as Float32Array[];
  wm.dispose();
  expected.forEach((e, i) => {
    assertClose(Array.from(nativeOut[i]!), Array.from(e.data), 1e-4, 1e-6, `native ${grad.resultNames[i]}`);
    assertClose(Array.from(wasmOut[i]!), Array.from(e.data), 1e-4, 1e-6, `wasm ${grad.resultNames[i]}`);
  });

  // Finite differences of sum(output) on a few entries of each parameter.
  const total = (p: typeof params) => Array.from(interpret(module, fn, [x], p)[0]!.data).reduce((a, b) => a + b, 0);
  names.forEach((name, k) => {
    const value = params.get(name)!;
    for (let i = 0; i < value.data.length; i += Math.max(1, Math.floor(value.data.length / 5))) {
      const h = 1e-3; // small: a larger step can cross a ReLU kink
      const shifted = (delta: number) => {
        const data = (value.data as Float32Array).slice();
        data[i]! += delta;
        return total(new Map(params).set(name, { ...value, data }));
      };
      const numeric = (shifted(h) - shifted(-h)) / (2 * h);
      assertClose([expected[k + 1]!.data[i]!], [numeric], 2e-2, 2e-3, `${name}[${i}]`);
    }
  });
});
