// The wasm target in a real browser: the MNIST CNN and the two-input, two-output functional model
// are compiled with `tfc compile --target wasm`, served on 127.0.0.1 and run by headless Chromium
// (Debian's, installed by setup.sh); predictions equal the interpreter's within 1e-4 relative.

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
import { CHROMIUM, predictInBrowser, serveDir } from "./harness.js";
import { assertClose, repoRoot } from "../util.js";

for (const file of ["examples/mnist-cnn.ts", "test/frontend/fixtures/layers/functional.ts"]) {
  test(`Chromium runs the compiled ${file} and matches the interpreter`, { timeout: 120_000 }, async () => {
    assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (setup.sh installs Debian's chromium)`);
    const result = compile(path.join(repoRoot(), file));
    const fn = result.module.functions[0]!;
    const params = initialParams(result.module);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-browser-model-"));
    buildWasm(result.module, fn, { outDir: dir, params });
    const batch = 3;
    const rng = new Rng(17);
    const inputs = fn.args.map((a) => {
      const t = hostTensor(a.type.dtype, concretize(a.type.shape, batch));
      for (let i = 0; i < t.data.length; i++) t.data[i] = rng.next() * 2 - 1;
      return t;
    });
    const expected = interpret(result.module, fn, inputs, params);
    const server = await serveDir(dir);
    try {
      const outputs = await predictInBrowser(server.url, inputs.map((t) => Array.from(t.data)), batch);
      assert.equal(outputs.length, expected.length);
      outputs.forEach((o, i) => assertClose(o, Array.from(expected[i]!.data), 1e-4, 1e-6, `${file} output ${i} in Chromium`));
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
