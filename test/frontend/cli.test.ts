// The `tfc` command end to end, as a user runs it: compile --emit ir, predict (checked against
// TF.js running the same model file with the same weights), inspect, and bad --input files.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as tfjs from "@tensorflow/tfjs";
import { compile } from "../../compiler/driver.js";
import { loadModelFile } from "../../compiler/frontend/load.js";
import { initialParams } from "../../ir/interpreter.js";
import { Rng } from "../../ir/initializers.js";
import { repoRoot, assertClose } from "../util.js";

const root = repoRoot();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-cli-"));

function tfc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

function writeJson(name: string, value: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

before(async () => {
  await tfjs.setBackend("cpu");
});

test("tfc compile examples/mnist-cnn.ts --emit ir prints the optimized IR", () => {
  const r = tfc("compile", "examples/mnist-cnn.ts", "--emit", "ir");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^param @conv2d\/kernel : f32\[3,3,1,32\] = glorot_uniform \{seed=\d+\}$/m);
  assert.match(r.stdout, /func @predict\(%conv2d_input: f32\[\?,28,28,1\]\) -> \(f32\[\?,10\] as "dense"\)/);
  assert.match(r.stdout, /= conv2d %conv2d_input, %\d+ \{dilations=\[1, 1\], group=0, padding="valid", strides=\[1, 1\]\} : f32\[\?,26,26,32\]/, "the conv and its bias and relu form fusion group 0");
  assert.match(r.stdout, /= max_pool %\d+ \{group=0, ksize=\[2, 2\], padding="valid", strides=\[2, 2\]\} : f32\[\?,13,13,32\]/, "the pool joins the conv's kernel");
  assert.match(r.stdout, /= softmax %\d+ \{axis=-1\} : f32\[\?,10\]/);
  const outFile = path.join(tmp, "cnn.tfir");
  assert.equal(tfc("compile", "examples/mnist-cnn.ts", "--emit", "ir", "-o", outFile).status, 0);
  assert.equal(fs.readFileSync(outFile, "utf8"), r.stdout);
});

test("tfc predict examples/mlp.ts --input FILE equals TF.js for the same weights", () => {
  const rng = new Rng(99);
  const rows = Array.from({ length: 3 }, () => Array.from({ length: 784 }, () => Math.round(rng.next() * 255) / 255));
  const r = tfc("predict", "examples/mlp.ts", "--input", writeJson("mlp.json", { instances: rows }));
  assert.equal(r.status, 0, r.stderr);
  const ours = JSON.parse(r.stdout) as { predictions: number[][] };
  assert.equal(ours.predictions.length, 3);

  const file = path.join(root, "examples/mlp.ts");
  const compiled = compile(file);
  const params = initialParams(compiled.module);
  const oracle = loadModelFile(file, { tfcModule: tfjs }).exports["default"] as tfjs.LayersModel;
  oracle.setWeights(compiled.traced.model!.weights.map((w) => tfjs.tensor(Array.from(params.get(w.name)!.data), [...w.shape])));
  const expected = (oracle.predict(tfjs.tensor2d(rows)) as tfjs.Tensor).arraySync() as number[][];
  assertClose(ours.predictions.flat(), expected.flat(), 1e-5, 1e-6, "mlp predictions");
  // A bare nested array means the same as {"instances": ...}.
  const bare = tfc("predict", "examples/mlp.ts", "--input", writeJson("bare.json", rows));
  assert.equal(bare.stdout, r.stdout);
});

test("tfc inspect prints a Keras-style summary", () => {
  const r = tfc("inspect", "examples/mnist-cnn.ts");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /conv2d \(Conv2D\)\s+\[null,26,26,32\]\s+320\n/);
  assert.match(r.stdout, /max_pooling2d \(MaxPooling2D\)\s+\[null,13,13,32\]\s+0\n/);
  assert.match(r.stdout, /flatten \(Flatten\)\s+\[null,5408\]\s+0\n/);
  assert.match(r.stdout, /dense \(Dense\)\s+\[null,10\]\s+54090\n/);
  assert.match(r.stdout, /Total params: 54410\n/);
});

test("every command has --help", () => {
  for (const cmd of [[], ["compile"], ["predict"], ["inspect"]]) {
    const r = tfc(...cmd, "--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: tfc/);
  }
});

const BAD_INPUTS: [string, unknown, string, RegExp][] = [
  ["wrong shape", { instances: [[1, 2, 3]] }, "TFC1011", /input 'dense_input' must have shape \[\?,784\] \(1 example\(s\) of shape \[784\]\), but instances has shape \[1,3\]/],
  ["not JSON", "{instances: [1, 2", "TFC1021", /is not valid JSON/],
  ["null where a number belongs", { instances: [[...new Array(783).fill(0), null]] }, "TFC1003", /instances\[0\]\[783\] is null, expected a number/],
  ["ragged rows", { instances: [new Array(784).fill(0), new Array(700).fill(0)] }, "TFC1004", /instances\[1\] has length 700, expected 784/],
  ["no instances key", { examples: [] }, "TFC1022", /must have "instances" \(rows\) or "inputs" \(columns\)/],
  ["a string value", { instances: [[...new Array(783).fill(0), "NaN"]] }, "TFC1003", /instances\[0\]\[783\] is the string "NaN", expected a number/],
];

for (const [what, body, code, message] of BAD_INPUTS) {
  test(`tfc predict rejects a bad --input: ${what}`, () => {
    const r = tfc("predict", "examples/mlp.ts", "--input", writeJson(`bad-${what.replace(/\W/g, "_")}.json`, body));
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`error ${code}: `));
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
}

test("tfc predict on a missing input file says so", () => {
  const r = tfc("predict", "examples/mlp.ts", "--input", path.join(tmp, "nope.json"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error TFC1020: cannot read input file '.*nope\.json': no such file/);
});

test("a model file outside the project, with no node_modules beside it, compiles", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-outside-"));
  fs.writeFileSync(path.join(dir, "model.ts"), 'import * as tf from "tfc";\nexport default tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });\n');
  const r = tfc("compile", path.join(dir, "model.ts"));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /func @predict\(%dense_input: f32\[\?,3\]\) -> \(f32\[\?,2\] as "dense"\)/);
});

test("--print-after prints the IR after the named passes on stderr", () => {
  const r = tfc("compile", "examples/constants.ts", "--print-after", "canonicalize,constant-fold");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\/\/ ----- IR after canonicalize -----\nfunc @predict\(\) -> \(f32\[\]\) \{\n {2}%0 = constant/);
  assert.match(r.stderr, /\/\/ ----- IR after constant-fold -----/);
  assert.doesNotMatch(r.stderr, /IR after cse/);
  const bad = tfc("compile", "examples/constants.ts", "--print-after", "constant-folding");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /error TFC\d{4}: .*constant-folding/);
});

test("diagnostics are colored when forced and plain with NO_COLOR", () => {
  const colored = spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), "compile", "test/frontend/fixtures/bad/wrong-rank.ts"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "1" },
  });
  assert.equal(colored.status, 1);
  assert.match(colored.stderr, /\x1b\[31merror\x1b\[39m/);
});

test("a tf.function with named outputs answers with one object per example", () => {
  const file = writeJson("two-outputs.ts", [
    'import * as tf from "tfc";',
    "export default tf.function((x: tf.Tensor) => ({ doubled: tf.mul(x, 2), total: tf.sum(x, 1) }), {",
    '  inputSignature: [tf.tensorSpec([null, 2], "float32", "x")],',
    "});",
  ].join("\n"));
  const r = tfc("predict", file, "--input", writeJson("two.json", { instances: [[1, 2], [3, 4]] }));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { predictions: [{ doubled: [2, 4], total: 3 }, { doubled: [6, 8], total: 7 }] });
});
