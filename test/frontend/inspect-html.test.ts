// `tfc inspect --html`: the page for examples/mnist-cnn.ts and examples/mnist-mlp.ts (inference and
// training step) checked against kernel programs lowered and planned independently here — kernel
// names, the conv+bias+relu cluster, the arena formula, one rectangle per temporary, source lines —
// plus the CLI end to end (text arena line, the page written, an unwritable path as TFC1030).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/driver.js";
import { buildTrainingProgram } from "../../compiler/train/step.js";
import { inspectFunctions, inspectText } from "../../compiler/cli/inspect.js";
import { inspectHtml } from "../../compiler/cli/inspect-html.js";
import type { Func, Module } from "../../ir/ir.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { planMemory } from "../../passes/plan-memory.js";
import { repoRoot } from "../util.js";

const root = repoRoot();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-inspect-"));
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The page and, lowered and planned here on a separate compile, what each function should show. */
function pageAndReference(example: string) {
  const file = path.join(root, example);
  const result = compile(file);
  const html = inspectHtml(result, inspectFunctions(result));
  const reference = compile(file);
  const lowered = (module: Module, fn: Func) => {
    const program = lowerFunction(module, fn, { vectorWidth: 8 });
    return { name: fn.name, program, plan: planMemory(program) };
  };
  const functions = [lowered(reference.module, reference.module.functions[0]!)];
  const model = reference.traced.model;
  if (model?.trainingConfig) {
    const training = buildTrainingProgram(model, model.trainingConfig);
    functions.push(lowered(training.module, training.train));
  }
  return { file, html, functions };
}

/** The `<section>` of one function. */
function section(html: string, fn: string): string {
  const start = html.indexOf(`<section id="${fn}">`);
  assert.ok(start >= 0, `no section for ${fn}`);
  return html.slice(start, html.indexOf("</section>", start));
}

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];

function assertSelfContained(html: string): void {
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /\bsrc\s*=/i, "nothing is loaded from elsewhere");
  for (const m of html.matchAll(/\bhref\s*=\s*"([^"]*)"/gi)) assert.ok(m[1]!.startsWith("#"), `href to ${m[1]} leaves the page`);
  assert.doesNotMatch(html, /<link\b|@import|url\(|https?:/i);
  for (const m of html.matchAll(/<script\b[^>]*>/gi)) assert.equal(m[0], "<script>", "only inline scripts");
}

/** Kernel names, arena formula and one rectangle per temporary, for each function. */
function assertFunctionsShown(html: string, functions: ReturnType<typeof pageAndReference>["functions"]): void {
  for (const { name, program, plan } of functions) {
    const s = section(html, name);
    for (const l of program.launches) assert.ok(s.includes(`<td class="mono">${esc(l.kernel.name)}</td>`), `${name}: kernel ${l.kernel.name} listed`);
    assert.equal((s.match(/<tr id="[^"]*-k-\d+">/g) ?? []).length, program.launches.length, `${name}: one row per launch`);
    const formula = `${plan.arena.constant} + ${plan.arena.perBatch}·N bytes`;
    assert.ok(s.includes(`<b class="mono arena-formula">${formula}</b>`), `${name}: the memory section states ${formula}`);
    const rects = [...s.matchAll(/<rect class="temp" data-buffer="([^"]*)"/g)].map((m) => m[1]!);
    assert.deepEqual(rects.sort(), plan.lifetimes.map((l) => esc(l.buffer.name)).sort(), `${name}: one rectangle per temporary`);
    for (const l of plan.lifetimes) assert.ok(s.includes(`<title>${esc(l.buffer.name)}: `), `${name}: tooltip of ${l.buffer.name}`);
    // Weights packed once: one row per prepare launch naming the weight, none when there are none.
    assert.equal(s.includes(`<table class="kernels prepare">`), program.prepare.length > 0, `${name}: prepare table iff prepare launches`);
    for (const l of program.prepare) assert.ok(s.includes(`<tr><td class="mono">${esc(l.kernel.name)}</td><td class="mono">${esc(String(l.buffers[0]!.ref))}</td>`), `${name}: prepare ${l.kernel.name} listed`);
  }
}

test("inspect --html on mnist-cnn: self-contained, every kernel, the conv+bias+relu cluster, arena, source lines", () => {
  const { file, html, functions } = pageAndReference("examples/mnist-cnn.ts");
  assertSelfContained(html);
  assertFunctionsShown(html, functions);
  const predict = section(html, "predict");

  // The conv kernel's cluster holds exactly the conv2d, its bias add, the relu and the max_pool, boxes inside its shading.
  const convKernels = functions[0]!.program.launches.filter((l) => l.ops?.some((op) => op.name === "conv2d")).map((l) => l.kernel.name);
  assert.ok(convKernels.length > 0);
  const clusters = [...predict.matchAll(/<g class="cluster"[^>]*>.*?<\/g>/gs)].map((m) => m[0]);
  const conv = clusters.find((c) => attr(c, "data-kernels")!.split(" ").includes(convKernels[0]!));
  assert.ok(conv, `a cluster labelled ${convKernels[0]}`);
  assert.deepEqual(attr(conv, "data-kernels")!.split(" "), convKernels);
  for (const k of convKernels) assert.ok(conv.includes(`>${k}</text>`), `cluster label ${k}`);
  assert.equal(attr(conv, "data-ops"), "conv2d add relu max_pool");
  const bg = /<rect class="cluster-bg" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(conv)!.slice(1).map(Number) as [number, number, number, number];
  const group = attr(conv, "data-group")!;
  const members = new RegExp(`<g class="members" data-group="${group}">(.*?)</g></g>(?=\\n|<)`, "s").exec(predict)?.[0] ?? "";
  const boxes = [...members.matchAll(/<g class="op[^"]*" id="[^"]*" data-op="([^"]*)"><title>[^<]*<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)];
  assert.deepEqual(boxes.map((b) => b[1]).sort(), ["add", "conv2d", "max_pool", "relu"]);
  for (const b of boxes) {
    const [x, y, w, h] = b.slice(2).map(Number) as [number, number, number, number];
    assert.ok(x >= bg[0] && y >= bg[1] && x + w <= bg[0] + bg[2] && y + h <= bg[1] + bg[3], `${b[1]}'s box lies inside the cluster`);
  }

  // Each kernel row shows the model-file lines of its ops, with their line numbers.
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (const n of [8, 9, 11]) assert.ok(predict.includes(`<span class="ln">${n}</span><code>${esc(lines[n - 1]!.trim())}</code>`), `line ${n} shown`);
  const convRow = /<tr id="predict-k-0">.*?<\/tr>/s.exec(predict)![0];
  assert.ok(convRow.includes(`<span class="ln">8</span><code>${esc(lines[7]!.trim())}</code>`), "the conv kernel points at line 8");
});

test("inspect --html on mnist-mlp shows predict and train_step", () => {
  const { html, functions } = pageAndReference("examples/mnist-mlp.ts");
  assert.deepEqual(functions.map((f) => f.name), ["predict", "train_step"]);
  assertSelfContained(html);
  assertFunctionsShown(html, functions);
  const train = section(html, "train_step");
  assert.ok(functions[1]!.program.launches.length > 20, "a training step has many kernels");
  assert.ok(train.includes(">@dense/kernel"), "parameters are listed inside the boxes that read them");
  assert.ok(train.includes("<svg id=\"train_step-graph\" class=\"graph\""));
  assert.ok(html.length < 2_000_000, `page size ${html.length}`);
});

test("inspect text: per function, the kernel count and the arena as a + b·N bytes with its value and lower bound at N = 64", () => {
  const result = compile(path.join(root, "examples/mnist-mlp.ts"));
  const text = inspectText(result);
  const reference = compile(path.join(root, "examples/mnist-mlp.ts"));
  const program = lowerFunction(reference.module, reference.module.functions[0]!, { vectorWidth: 8 });
  const { arena } = planMemory(program);
  const at64 = arena.constant + arena.perBatch * 64;
  assert.ok(text.includes(`  ${program.launches.length} kernels; arena ${arena.constant} + ${arena.perBatch}·N bytes = ${at64} bytes at N = 64`), text);
  assert.match(text, /^Function train_step\(/m);
  assert.equal((text.match(/^ {2}\d+ kernels?; arena \d+ \+ \d+·N bytes = \d+ bytes at N = 64 \(.*\); lower bound \(max live bytes at N = 64\): \d+ bytes$/gm) ?? []).length, 2);
});

// The CLI built next to this test (dist/ under `npm test`; bin/tfc.js only forwards to dist/).
const cli = fileURLToPath(new URL("../../compiler/cli/main.js", import.meta.url));
const tfc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

test("tfc inspect examples/mlp.ts --html FILE writes the page; an unwritable path is TFC1030", () => {
  const out = path.join(tmp, "x.html");
  const r = tfc("inspect", "examples/mlp.ts", "--html", out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}\d+ kernels?; arena \d+ \+ \d+·N bytes = \d+ bytes at N = 64/m);
  assert.doesNotMatch(r.stdout, /train_step/, "mlp.ts is not compiled for training");
  const html = fs.readFileSync(out, "utf8");
  assertSelfContained(html);
  assert.ok(html.includes('<section id="predict">'));

  const blocker = path.join(tmp, "a-file");
  fs.writeFileSync(blocker, "");
  const bad = tfc("inspect", "examples/mlp.ts", "--html", path.join(blocker, "x.html"));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /TFC1030/);
  assert.match(bad.stderr, /cannot write the --html page to '.*a-file\/x\.html'/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
});
