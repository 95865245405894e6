// The pass manager and what the golden files cannot show: pipeline names and their errors,
// printing after passes, the fixpoint over simplifying passes, and constant-fold's size boundary.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PASSES, PIPELINES, resolvePipeline, runPipeline } from "../../passes/manager.js";
import { constantFold, MAX_FOLDED_ELEMENTS } from "../../passes/constant-fold.js";
import { CANONICALIZATION_RULES } from "../../passes/canonicalize.js";
import { passContext } from "../../passes/pass.js";
import { parseModule } from "../../ir/parser.js";
import { printModule } from "../../ir/printer.js";
import { FuncBuilder } from "../../ir/builder.js";
import { Module } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { hostTensor } from "../../ir/tensor.js";

const SOURCE = `func @f(%x: f32[2]) -> (f32[2]) {
  %0 = constant {value=dense<f32[] [1]>} : f32[]
  %1 = exp %0 : f32[]
  %2 = neg %x : f32[2]
  %3 = neg %2 : f32[2]
  %4 = mul %3, %0 : f32[2]
  return %4
}
`;

describe("pass manager", () => {
  it("names an unknown pass or pipeline with a did-you-mean, before running anything", () => {
    const m = parseModule(SOURCE);
    for (const [name, hint] of [["canonicalise", "canonicalize"], ["inferance", "inference"], ["cse,dcee", "dce"]] as const) {
      assert.throws(
        () => runPipeline(m, name, { verify: true }),
        (e: unknown) => e instanceof TfcError && e.code === "TFC3012" && e.notes.includes(`did you mean '${hint}'?`),
        name,
      );
    }
    assert.throws(() => runPipeline(m, ["cse"], { printAfter: ["cs"] }), /unknown pass 'cs'/);
    assert.equal(printModule(m), SOURCE, "nothing ran");
  });

  it("resolves pipelines by name, as comma lists and as arrays", () => {
    assert.deepEqual(resolvePipeline("inference").map((p) => p.name), PIPELINES["inference"]);
    assert.deepEqual(resolvePipeline("cse, dce").map((p) => p.name), ["cse", "dce"]);
    assert.deepEqual(resolvePipeline(["dce"]), [PASSES.dce]);
  });

  it("repeats the simplifying passes until they settle, and prints after the passes asked for", () => {
    const m = parseModule(SOURCE);
    const printed: string[] = [];
    runPipeline(m, "inference", { verify: true, printAfter: ["canonicalize", "dce"], onPrint: (pass) => printed.push(pass) });
    assert.equal(printModule(m), `func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n`);
    // Round 1 changes the function (both print), round 2 finds nothing to change (nothing prints after round 1's prints);
    // the pipeline's second dce (after decompose) starts a new stage and prints after its first run.
    assert.deepEqual(printed, ["canonicalize", "dce", "dce"]);
  });

  it("prints after every pass with printAfter 'all'", () => {
    const printed: [string, string][] = [];
    runPipeline(parseModule(SOURCE), ["infer-types", "dce"], { printAfter: "all", onPrint: (pass, text) => printed.push([pass, text]) });
    assert.deepEqual(printed.map(([p]) => p), ["infer-types", "dce"]);
    assert.ok(!printed[1]![1].includes("exp"), "dce removed the unused exp");
  });
});

describe("constant-fold", () => {
  it(`folds results up to ${MAX_FOLDED_ELEMENTS} elements and leaves larger ones`, () => {
    const m = new Module();
    const b = new FuncBuilder(m, "f");
    const three = b.constant(hostTensor("f32", [], [3]));
    const atLimit = b.op("broadcast_to", [three], { shape: [MAX_FOLDED_ELEMENTS] });
    const overLimit = b.op("broadcast_to", [three], { shape: [MAX_FOLDED_ELEMENTS + 1] });
    const fn = b.finish([atLimit, overLimit]);
    assert.equal(constantFold.run(fn, passContext(m)), true);
    assert.deepEqual(fn.body.map((op) => op.name), ["constant", "constant", "broadcast_to"]);
    const folded = fn.body[1]!.attrs["value"] as { data: Float32Array };
    assert.equal(folded.data.length, MAX_FOLDED_ELEMENTS);
    assert.equal(constantFold.run(fn, passContext(m)), false, "a second run finds nothing");
  });
});

describe("canonicalize", () => {
  it("documents every rule with a one-line identity", () => {
    for (const rule of CANONICALIZATION_RULES) assert.match(rule.math, /^[^\n]+→[^\n]+$/, rule.op);
  });
});
