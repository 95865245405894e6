// The threads build in a real browser: the MNIST CNN compiled with threads: true is served with
// COOP/COEP (cross-origin isolated) and run by headless Chromium on 2 and 4 threads (module workers
// on a shared memory); it matches the interpreter. Without the headers load() refuses clearly.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compile } from "../../compiler/driver.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { concretize } from "../../ir/types.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { BrowserPredictError, CHROMIUM, predictInBrowser, serveDir } from "./harness.js";
import { assertClose, repoRoot } from "../util.js";

const file = "examples/mnist-cnn.ts";

test(`Chromium runs the threaded ${file} on 2 and 4 threads and matches the interpreter; without isolation load() fails`, { timeout: 180_000 }, async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (setup.sh installs Debian's chromium)`);
  const result = compile(path.join(repoRoot(), file));
  const fn = result.module.functions[0]!;
  const params = initialParams(result.module);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-browser-threads-"));
  buildWasm(result.module, fn, { outDir: dir, params, threads: true });
  const batch = 5;
  const rng = new Rng(23);
  const inputs = fn.args.map((a) => {
    const t = hostTensor(a.type.dtype, concretize(a.type.shape, batch));
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.next() * 2 - 1;
    return t;
  });
  const expected = interpret(result.module, fn, inputs, params);
  const values = inputs.map((t) => Array.from(t.data));
  const isolated = await serveDir(dir, { crossOriginIsolated: true });
  const plain = await serveDir(dir);
  try {
    for (const threads of [2, 4]) {
      const outputs = await predictInBrowser(isolated.url, values, batch, { threads, timeoutMs: 60_000 });
      assert.equal(outputs.length, expected.length);
      outputs.forEach((o, i) => assertClose(o, Array.from(expected[i]!.data), 1e-4, 1e-6, `${file} output ${i} in Chromium on ${threads} threads`));
    }
    await assert.rejects(predictInBrowser(plain.url, values, batch, { threads: 2 }), (e: unknown) => {
      assert.ok(e instanceof BrowserPredictError, String(e));
      assert.equal(e.code, "TFC_ERR_ARGUMENT");
      assert.ok(e.isTfcModelError);
      assert.match(e.message, /cross-origin isolated|SharedArrayBuffer/);
      return true;
    });
  } finally {
    await isolated.close();
    await plain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
