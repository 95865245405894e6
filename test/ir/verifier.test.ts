// The verifier on IR built in memory, where the parser's own checks do not stand in front of it:
// each test breaks one invariant of a valid function and pins the code, the message and the location.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FuncBuilder } from "../../ir/builder.js";
import { Module, Func } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { verifyFunc, verifyModule } from "../../ir/verifier.js";
import { hostTensor } from "../../ir/tensor.js";
import { BATCH } from "../../ir/types.js";

const LOC = { file: "model.ts", line: 12, column: 5 };

/** @f(%x: f32[?,3]) = relu(x + w), with w a parameter; the add carries a source location. */
function valid(): { m: Module; fn: Func } {
  const m = new Module();
  m.addParam({ name: "w", type: { dtype: "f32", shape: [3] }, init: { kind: "zeros" }, trainable: true });
  const b = new FuncBuilder(m, "f");
  const x = b.arg("x", { dtype: "f32", shape: [BATCH, 3] });
  const w = b.param("w");
  const sum = b.op("add", [x, w], {}, LOC);
  const out = b.op("relu", [sum]);
  const fn = b.finish([out]);
  m.functions.push(fn);
  return { m, fn };
}

function expectError(run: () => void, code: string, message: RegExp, loc?: typeof LOC): TfcError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    if (loc) assert.deepEqual(e.loc, loc);
    return e;
  }
  assert.fail(`expected ${code}, but the verifier accepted the IR`);
}

describe("verifier", () => {
  it("accepts what the builder builds", () => {
    const { m } = valid();
    verifyModule(m);
  });

  it("accepts a result named @w as the new value of parameter w, and rejects @ names of unknown or differently typed params", () => {
    const { m, fn } = valid();
    const w = fn.body.find((op) => op.name === "param")!.result;
    fn.results.push(w);
    fn.resultNames.push("@w");
    verifyModule(m);
    fn.resultNames[1] = "@v";
    expectError(() => verifyModule(m), "TFC4014", /result "@v" of @f updates parameter @v, which the module does not declare/);
    fn.resultNames[1] = "@w";
    fn.results[1] = fn.body[fn.body.length - 1]!.result;
    expectError(() => verifyModule(m), "TFC4014", /result "@w" of @f is f32\[\?,3\] but parameter @w is f32\[3\]/);
  });

  it("rejects a use before the definition (SSA order)", () => {
    const { m, fn } = valid();
    fn.body.reverse();
    expectError(() => verifyModule(m), "TFC4007", /operand 0 of relu is %1, which is defined later/);
  });

  it("rejects a value from another function", () => {
    const { m, fn } = valid();
    const other = valid().fn;
    fn.body[2]!.operands[0] = other.body[1]!.result;
    expectError(() => verifyModule(m), "TFC4007", /operand 0 of relu is a value from outside this function/);
  });

  it("rejects an op listed twice", () => {
    const { m, fn } = valid();
    fn.body.push(fn.body[2]!);
    expectError(() => verifyModule(m), "TFC4008", /the result of relu is defined twice/);
  });

  it("rejects a result type that differs from the type rule, at the op's source location", () => {
    const { m, fn } = valid();
    fn.body[1]!.result.type = { dtype: "f32", shape: [4] };
    const e = expectError(() => verifyModule(m), "TFC4009", /^declared f32\[4\] but add gives f32\[\?,3\]$/, LOC);
    assert.ok(e.notes.includes("in @f: %1 = add %x, %0 : f32[4]"), e.notes.join("\n"));
  });

  it("rejects an unknown op with a did-you-mean", () => {
    const { m, fn } = valid();
    fn.body[2]!.name = "reluu";
    const e = expectError(() => verifyModule(m), "TFC4006", /unknown op 'reluu'/);
    assert.ok(e.notes.includes("did you mean 'relu'?"));
  });

  it("rejects a missing attribute, even one with a default", () => {
    const m = new Module();
    const b = new FuncBuilder(m, "f");
    const x = b.arg("x", { dtype: "f32", shape: [3] });
    const y = b.op("leaky_relu", [x]);
    const fn = b.finish([y]);
    delete fn.body[0]!.attrs["alpha"];
    expectError(() => verifyFunc(fn), "TFC4003", /leaky_relu is missing attribute 'alpha'/);
  });

  it("rejects an attribute of the wrong kind", () => {
    const { m, fn } = valid();
    fn.body[0]!.attrs["shape"] = [3.5];
    expectError(() => verifyModule(m), "TFC4004", /param attribute 'shape' must be a list of integers/);
  });

  it("checks param reads against the module's declarations", () => {
    const { m, fn } = valid();
    fn.body[0]!.attrs["name"] = "v";
    expectError(() => verifyModule(m), "TFC4010", /no parameter named 'v'/);
    verifyFunc(fn); // without the module, a param read is only checked against its own attributes

    const other = valid();
    other.m.params.set("w", { name: "w", type: { dtype: "f32", shape: [4] }, init: { kind: "zeros" }, trainable: true });
    expectError(() => verifyModule(other.m), "TFC4012", /param reads 'w' as f32\[3\], but it is declared f32\[4\]/);
  });

  it("allows a symbolic dimension only in the leading position", () => {
    const m = new Module();
    const b = new FuncBuilder(m, "f");
    const x = b.arg("x", { dtype: "f32", shape: [3, BATCH] });
    const fn = b.finish([x]);
    expectError(() => verifyFunc(fn), "TFC4013", /argument %x of @f has shape \[3,\?\]: only the leading dimension may be symbolic/);
  });

  it("requires results to be values of the function, with distinct names", () => {
    const { m, fn } = valid();
    fn.results[0] = valid().fn.body[2]!.result;
    expectError(() => verifyModule(m), "TFC4014", /result 0 of @f is not a value defined in the function/);

    const again = valid();
    again.fn.results.push(again.fn.results[0]!);
    again.fn.resultNames.push("output_0");
    expectError(() => verifyModule(again.m), "TFC4014", /@f has two results named "output_0"/);
  });

  it("rejects duplicate argument names and functions", () => {
    const { m, fn } = valid();
    fn.args.push(fn.args[0]!);
    expectError(() => verifyModule(m), "TFC4008", /@f has two arguments named %x/);

    const twice = valid();
    twice.m.functions.push(twice.fn);
    expectError(() => verifyModule(twice.m), "TFC4015", /function @f is defined twice/);
  });

  it("checks parameter declarations: static shapes, data that fits", () => {
    const m = new Module();
    m.addParam({ name: "p", type: { dtype: "f32", shape: [2] }, init: { kind: "data", tensor: hostTensor("i32", [2], [1, 2]) }, trainable: true });
    expectError(() => verifyModule(m), "TFC4016", /parameter 'p' is f32\[2\] but its data is i32\[2\]/);
    const n = new Module();
    n.addParam({ name: "q", type: { dtype: "f32", shape: [BATCH, 2] }, init: { kind: "zeros" }, trainable: true });
    expectError(() => verifyModule(n), "TFC4013", /parameters cannot have a symbolic batch/);
  });
});
