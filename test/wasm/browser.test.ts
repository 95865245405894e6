// Runs generated model.js files in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core): the fixture models are served over HTTP from a temp folder, loaded by a page
// that imports model.js, and their predictions compared with the numbers Node expects.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { affineExpected, affineModel, BrowserPredictError, CHROMIUM, gatherExpected, gatherModel, HARNESS_PAGE, predictInBrowser, serveDir, writeModel } from "./harness.js";
import { assertClose } from "../util.js";

const W = [0.5, -1, 10, 0.25];
const TABLE = Float32Array.from({ length: 15 }, (_, i) => Math.cos(i) * 3);

describe("model.js in Chromium", { timeout: 180_000 }, () => {
  test("Chromium is installed (setup.sh installs Debian's chromium; TFC_CHROMIUM overrides the path)", () => {
    assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}`);
  });
  let dir: string;
  let server: { url: string; close: () => Promise<void> };
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-wasm-browser-"));
    writeModel(dir, affineModel(W));
    const gather = gatherModel(TABLE, 0.75);
    writeModel(path.join(dir, "gather"), gather);
    server = await serveDir(dir);
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the server serves the folder, the harness page and nothing outside", async () => {
    const wasm = await fetch(new URL("model.wasm", server.url));
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    assert.deepEqual(new Uint8Array(await wasm.arrayBuffer()), new Uint8Array(fs.readFileSync(path.join(dir, "model.wasm"))));
    assert.match(await (await fetch(new URL(HARNESS_PAGE, server.url))).text(), /import\(modelUrl\)/);
    assert.equal((await fetch(new URL("missing.js", server.url))).status, 404);
    assert.equal((await fetch(`${server.url}..%2f..%2fetc%2fpasswd`)).status, 404);
  });

  test("predicts a batch with a single-input model", async () => {
    const x = Array.from({ length: 4 * 5 }, (_, i) => (i - 9) / 3);
    const [y, ...rest] = await predictInBrowser(server.url, [x], 5);
    assert.equal(rest.length, 0);
    assert.deepEqual(y, Array.from(affineExpected(x, W)));
  });

  test("predicts a model with several inputs and outputs of every dtype", async () => {
    const ids = [3, 0, 4, 4, 1, 2];
    const mask = [1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0];
    const outputs = await predictInBrowser(server.url, [ids, mask], 6, { model: "./gather/model.js" });
    const [rows, count, any] = gatherExpected(TABLE, 0.75, ids, mask);
    assert.equal(outputs.length, 3);
    assertClose(outputs[0]!, rows, 1e-6, 1e-6, "rows"); // the page's Math.tanh/exp/log/pow against Node's
    assert.deepEqual(outputs[1], Array.from(count));
    assert.deepEqual(outputs[2], Array.from(any));
  });

  test("errors reach the page as TfcModelError with their code", async () => {
    await assert.rejects(predictInBrowser(server.url, [[0, 9], [0, 0, 0, 0]], 2, { model: "./gather/model.js" }), (e: unknown) => {
      assert.ok(e instanceof BrowserPredictError);
      assert.equal(e.code, "TFC_ERR_INDEX");
      assert.ok(e.isTfcModelError);
      assert.equal(e.message, "gather: an index was out of range (gather or one_hot input)");
      return true;
    });
    await assert.rejects(predictInBrowser(server.url, [[1, 2, 3]], 1), (e: unknown) => {
      assert.ok(e instanceof BrowserPredictError);
      assert.equal(e.code, "TFC_ERR_SHAPE");
      assert.equal(e.message, "affine: input 'x' has 3 elements; f32[?,4] at batch 1 needs 4");
      return true;
    });
  });
});
