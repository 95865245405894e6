// Test harness of the WebAssembly target: writes a model folder (model.wasm, model.js, model.d.ts,
// model.weights), serves a folder over HTTP and runs a prediction in headless Chromium. Also builds
// the hand-written fixture models (test/wasm/fixtures/*.wat) used by loader.test.ts and browser.test.ts.

import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import binaryen from "binaryen";
import { loaderSource, type WasmLayout } from "../../targets/wasm/loader.js";
import { dtsSource } from "../../targets/wasm/dts.js";
import { encodeWeights, type NamedTensor } from "../../targets/common/weights.js";
import { repoRoot } from "../util.js";

/** Chromium used by the browser tests; TFC_CHROMIUM overrides it. */
export const CHROMIUM = process.env.TFC_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** The page serveDir adds at this path: it imports ./model.js (or ?model=other.js) and exposes tfcPredict. */
export const HARNESS_PAGE = "__tfc_harness.html";

// ---- Model folders -----------------------------------------------------------------------------

export interface ModelFiles {
  layout: WasmLayout;
  wasm: Uint8Array;
  /** TFCW bytes; omitted: no weights file is written. */
  weights?: Uint8Array;
}

/** Writes model.wasm, model.js, model.d.ts and (if given) model.weights into dir. */
export function writeModel(dir: string, model: ModelFiles): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "model.wasm"), model.wasm);
  fs.writeFileSync(path.join(dir, "model.js"), loaderSource(model.layout, { wasmFile: "model.wasm", weightsFile: "model.weights" }));
  fs.writeFileSync(path.join(dir, "model.d.ts"), dtsSource(model.layout));
  if (model.weights) fs.writeFileSync(path.join(dir, "model.weights"), model.weights);
}

/** A wasm binary from WebAssembly text, validated by binaryen. */
export function compileWat(text: string): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    if (!module.validate()) throw new Error("binaryen rejected the test module (see the validation messages above)");
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** The text of test/wasm/fixtures/<name>.wat. */
export function fixtureWat(name: "affine" | "gather" | "dump"): string {
  return fs.readFileSync(path.join(repoRoot(), "test", "wasm", "fixtures", `${name}.wat`), "utf8");
}

const batched = (perBatch: number, constant = 0) => ({ constant, perBatch });

/** affine.wat: y f32[?,4] = x f32[?,4] * 2 + w[i % 4]. w: the weight's four values. */
export function affineModel(w: number[] = [0.5, -1, 10, 0.25], maxBatch = 100_000): ModelFiles & { weightTensors: NamedTensor[] } {
  const layout: WasmLayout = {
    updates: [],
    name: "affine",
    signature: { inputs: [{ name: "x", dtype: "float32", shape: [null, 4] }], outputs: [{ name: "y", dtype: "float32", shape: [null, 4] }] },
    staticBytes: 64,
    dynamicBytes: batched(32),
    inputs: [{ offset: batched(0), elements: batched(4) }],
    outputs: [{ offset: batched(16), elements: batched(4) }],
    weights: [{ name: "w", dtype: "f32", shape: [4], offset: 0 }],
    embeddedWeights: false,
    hasBatch: true,
    maxBatch,
  };
  const weightTensors: NamedTensor[] = [{ name: "w", dtype: "f32", shape: [4], data: new Float32Array(w) }];
  return { layout, wasm: compileWat(fixtureWat("affine")), weights: encodeWeights(weightTensors), weightTensors };
}

/** What affine.wat computes, in float32. */
export function affineExpected(x: ArrayLike<number>, w: ArrayLike<number>): Float32Array {
  return Float32Array.from({ length: x.length }, (_, i) => Math.fround(Math.fround(Math.fround(x[i]!) * 2) + Math.fround(w[i % 4]!)));
}

/** gather.wat: rows f32[?,3], count i32[?], any bool[?] from ids i32[?] and mask bool[?,2]. */
export function gatherModel(table: Float32Array, scale: number): ModelFiles {
  const layout: WasmLayout = {
    updates: [],
    name: "gather",
    signature: {
      inputs: [
        { name: "ids", dtype: "int32", shape: [null] },
        { name: "mask", dtype: "bool", shape: [null, 2] },
      ],
      outputs: [
        { name: "rows", dtype: "float32", shape: [null, 3] },
        { name: "count", dtype: "int32", shape: [null] },
        { name: "any", dtype: "bool", shape: [null] },
      ],
    },
    staticBytes: 128,
    dynamicBytes: batched(25),
    inputs: [
      { offset: batched(0), elements: batched(1) },
      { offset: batched(4), elements: batched(2) },
    ],
    outputs: [
      { offset: batched(8), elements: batched(3) },
      { offset: batched(20), elements: batched(1) },
      { offset: batched(24), elements: batched(1) },
    ],
    weights: [
      { name: "table", dtype: "f32", shape: [5, 3], offset: 0 },
      { name: "scale", dtype: "f32", shape: [], offset: 64 },
    ],
    embeddedWeights: false,
    hasBatch: true,
    maxBatch: 1000,
  };
  const weights = encodeWeights([
    { name: "scale", dtype: "f32", shape: [], data: new Float32Array([scale]) },
    { name: "table", dtype: "f32", shape: [5, 3], data: table },
  ]);
  return { layout, wasm: compileWat(fixtureWat("gather")), weights };
}

/** What gather.wat computes: [rows, count, any]. Throws RangeError where the model sets status 6. */
export function gatherExpected(table: Float32Array, scale: number, ids: ArrayLike<number>, mask: ArrayLike<number>): [Float32Array, Int32Array, Uint8Array] {
  const batch = ids.length;
  const rows = new Float32Array(batch * 3);
  for (let b = 0; b < batch; b++) {
    const id = ids[b]!;
    if (id < 0 || id >= 5) throw new RangeError(`id ${id} out of range`);
    for (let j = 0; j < 3; j++) {
      const t = table[id * 3 + j]!;
      rows[b * 3 + j] = Math.tanh(Math.fround(t * Math.fround(scale))) + Math.pow(t, 2) + Math.exp(Math.log(Math.abs(t) + 1));
    }
  }
  const count = Int32Array.from({ length: batch }, (_, b) => mask[2 * b]! + mask[2 * b + 1]!);
  const any = Uint8Array.from({ length: batch }, (_, b) => mask[2 * b]! | mask[2 * b + 1]!);
  return [rows, count, any];
}

/** dump.wat: no inputs, no batch; its output i32[8192] is the static area [0, 32768) as loaded. */
export function dumpLayout(weights: WasmLayout["weights"]): WasmLayout {
  return {
    updates: [],
    name: "dump",
    signature: { inputs: [], outputs: [{ name: "memory", dtype: "int32", shape: [8192] }] },
    staticBytes: 32768,
    dynamicBytes: { constant: 32768, perBatch: 0 },
    inputs: [],
    outputs: [{ offset: { constant: 0, perBatch: 0 }, elements: { constant: 8192, perBatch: 0 } }],
    weights,
    embeddedWeights: false,
    hasBatch: false,
    maxBatch: 1,
  };
}

// ---- Serving and the browser -------------------------------------------------------------------

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
};

const HARNESS_HTML = `<!doctype html>
<meta charset="utf-8">
<title>tfc wasm harness</title>
<script type="module">
  // Loads the model named by ?model= (default ./model.js), with load({ threads }) given ?threads=, and offers tfcPredict(inputs, batch).
  const query = new URLSearchParams(location.search);
  const modelUrl = new URL(query.get("model") ?? "./model.js", location.href).href;
  const loadOptions = query.has("threads") ? { threads: Number(query.get("threads")) } : {};
  const loaded = import(modelUrl).then(async (module) => ({ module, model: await module.load(loadOptions) }));
  const fromArray = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };
  window.tfcPredict = async (inputs, batch) => {
    try {
      const { module, model } = await loaded;
      const typed = inputs.map((values, i) => fromArray[module.signature.inputs[i].dtype].from(values));
      const result = model.predictBatch(batch, ...typed);
      return { outputs: (Array.isArray(result) ? result : [result]).map((y) => Array.from(y)) };
    } catch (e) {
      return { error: { name: e?.name, code: e?.code, message: String(e?.message ?? e), isTfc: e instanceof (await import(modelUrl)).TfcModelError } };
    }
  };
  window.tfcReady = true;
</script>
`;

/**
 * Serves dir on 127.0.0.1 (a free port) plus HARNESS_PAGE; url ends with "/". crossOriginIsolated:
 * every response carries COOP same-origin and COEP require-corp, so pages may use SharedArrayBuffer.
 */
export async function serveDir(dir: string, options: { crossOriginIsolated?: boolean } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const root = path.resolve(dir);
  const isolation = options.crossOriginIsolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
  const server = http.createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    const send = (status: number, type: string, body: string | Buffer): void => {
      response.writeHead(status, { "content-type": type, "cache-control": "no-store", ...isolation });
      response.end(body);
    };
    if (pathname === `/${HARNESS_PAGE}`) return send(200, MIME[".html"]!, HARNESS_HTML);
    const file = path.resolve(root, `.${pathname}`);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(404, "text/plain", "not found");
    send(200, MIME[path.extname(file)] ?? "application/octet-stream", fs.readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An error from the page: code is the TfcModelError code when the model threw one. */
export class BrowserPredictError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly isTfcModelError: boolean,
  ) {
    super(message);
    this.name = "BrowserPredictError";
  }
}

/**
 * Opens url + HARNESS_PAGE (url: a serveDir address) in headless Chromium, loads the model there
 * (with load({ threads }) when options.threads is given) and runs predictBatch(batch, ...inputs) with
 * each input converted to its signature's typed array.
 * Returns every output as numbers. Rejects with BrowserPredictError when the model throws.
 */
export async function predictInBrowser(url: string, inputs: number[][], batch: number, options: { model?: string; threads?: number; timeoutMs?: number } = {}): Promise<number[][]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: timeoutMs });
  const pageErrors: string[] = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeoutMs);
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
    const pageUrl = new URL(HARNESS_PAGE, url);
    if (options.model) pageUrl.searchParams.set("model", options.model);
    if (options.threads !== undefined) pageUrl.searchParams.set("threads", String(options.threads));
    await page.goto(pageUrl.href);
    await page.waitForFunction(() => (globalThis as { tfcReady?: boolean }).tfcReady === true);
    type Result = { outputs?: number[][]; error?: { name?: string; code?: string; message: string; isTfc: boolean } };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the prediction in the browser took over ${timeoutMs} ms`)), timeoutMs);
    });
    const run = page.evaluate(([values, n]) => (globalThis as unknown as { tfcPredict: (v: number[][], n: number) => Promise<Result> }).tfcPredict(values, n), [inputs, batch] as const);
    const result = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
    if (result.error) throw new BrowserPredictError(result.error.message, result.error.code, result.error.isTfc);
    return result.outputs!;
  } catch (e) {
    if (pageErrors.length > 0 && e instanceof Error && !(e instanceof BrowserPredictError)) e.message += `\npage errors:\n${pageErrors.join("\n")}`;
    throw e;
  } finally {
    await browser.close();
  }
}
