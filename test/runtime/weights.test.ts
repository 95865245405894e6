// The weights file in TypeScript (targets/common/weights.ts): encode/decode round trips for every
// dtype and odd shapes, the byte layout the C runtime relies on, files on disk, and every kind of
// damage giving its TFC6001/TFC6002 error with a readable message.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TfcError } from "../../ir/errors.js";
import { crc32, decodeWeights, encodeWeights, readWeightsFile, writeWeightsFile, type NamedTensor } from "../../targets/common/weights.js";
import { damagedCases, entryFields, expectedMessage, sampleTensors } from "./weights-cases.js";

function bytesOf(t: NamedTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function assertSameTensors(actual: NamedTensor[], expected: NamedTensor[]): void {
  assert.deepEqual(actual.map((t) => [t.name, t.dtype, t.shape]), expected.map((t) => [t.name, t.dtype, t.shape]));
  actual.forEach((t, i) => {
    assert.equal(t.data.constructor, expected[i]!.data.constructor, `${t.name}: array type`);
    assert.deepEqual(bytesOf(t), bytesOf(expected[i]!), `${t.name}: data bytes`); // bit-exact: NaN, -0
  });
}

function assertThrowsTfc(run: () => unknown, code: string, message: string | RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test("crc32 matches the IEEE check value and known strings", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(new TextEncoder().encode("The quick brown fox jumps over the lazy dog")), 0x414fa339);
});

test("encode then decode gives back every tensor bit for bit", () => {
  const tensors = sampleTensors();
  assertSameTensors(decodeWeights(encodeWeights(tensors)), tensors);
});

test("round trip of random shapes for every dtype, including zero-size and rank 0..6", () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let trial = 0; trial < 60; trial++) {
    const tensors: NamedTensor[] = [];
    const count = rand(6);
    for (let i = 0; i < count; i++) {
      const shape = Array.from({ length: rand(7) }, () => rand(5));
      const n = shape.reduce((a, b) => a * b, 1);
      const dtype = (["f32", "i32", "bool"] as const)[rand(3)]!;
      const data =
        dtype === "f32" ? Float32Array.from({ length: n }, () => (rand(2000) - 1000) / 7) :
        dtype === "i32" ? Int32Array.from({ length: n }, () => rand(2 ** 31) - 2 ** 30) :
        Uint8Array.from({ length: n }, () => rand(2));
      tensors.push({ name: `t${trial}/${i}${"x".repeat(rand(70))}`, dtype, shape, data });
    }
    const bytes = encodeWeights(tensors);
    assertSameTensors(decodeWeights(bytes), tensors);
    // Decoding must not depend on where the bytes sit in their buffer.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    assertSameTensors(decodeWeights(shifted.subarray(3)), tensors);
  }
});

test("the layout: header fields, 64-byte aligned data, trailer, no slack after the last tensor", () => {
  const tensors = sampleTensors();
  const bytes = encodeWeights(tensors);
  const view = new DataView(bytes.buffer);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "TFCW");
  assert.equal(view.getUint32(4, true), 1);
  assert.equal(view.getUint32(8, true), tensors.length);
  const headerBytes = view.getUint32(12, true);
  const fields = entryFields(bytes);
  const lastEntry = fields[fields.length - 1]!;
  assert.equal(headerBytes, lastEntry.bytesAt + 8);
  const dataStart = Math.ceil(headerBytes / 64) * 64;
  assert.ok(bytes.subarray(headerBytes, dataStart).every((b) => b === 0), "padding is zero");
  let end = 0;
  fields.forEach((f, i) => {
    assert.equal(f.name, tensors[i]!.name);
    assert.equal(bytes[f.dtypeAt], { f32: 0, i32: 1, bool: 2 }[tensors[i]!.dtype]);
    assert.equal(bytes[f.rankAt], tensors[i]!.shape.length);
    assert.equal(view.getUint16(f.reservedAt, true), 0);
    tensors[i]!.shape.forEach((d, k) => assert.equal(view.getBigInt64(f.dimsAt + 8 * k, true), BigInt(d)));
    const offset = Number(view.getBigUint64(f.offsetAt, true));
    assert.equal(offset % 64, 0, `${f.name} offset ${offset}`);
    assert.equal(Number(view.getBigUint64(f.bytesAt, true)), tensors[i]!.data.byteLength);
    assert.deepEqual(bytes.subarray(dataStart + offset, dataStart + offset + tensors[i]!.data.byteLength), bytesOf(tensors[i]!));
    end = Math.max(end, offset + tensors[i]!.data.byteLength);
  });
  assert.equal(bytes.length, dataStart + end + 8);
  assert.equal(view.getUint32(bytes.length - 8, true), crc32(bytes.subarray(0, bytes.length - 8)));
  assert.equal(new TextDecoder().decode(bytes.subarray(bytes.length - 4)), "TFCE");
});

test("a file with no tensors is 72 bytes and decodes to nothing", () => {
  const bytes = encodeWeights([]);
  assert.equal(bytes.length, 64 + 8);
  assert.deepEqual(decodeWeights(bytes), []);
});

test("decoded arrays are copies, independent of the file's bytes", () => {
  const bytes = encodeWeights(sampleTensors());
  const decoded = decodeWeights(bytes);
  bytes.fill(0);
  assert.equal(decoded[1]!.data[0], 0.5);
});

for (const c of damagedCases()) {
  test(`decodeWeights rejects ${c.what}`, () => {
    assertThrowsTfc(() => decodeWeights(c.bytes, "model/w.bin"), c.code, expectedMessage(c.message, "model/w.bin"));
  });
}

test("every single-bit flip anywhere in a small file is caught, never crashes", () => {
  const bytes = encodeWeights(sampleTensors().slice(0, 5));
  for (let i = 0; i < bytes.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const damaged = bytes.slice();
      damaged[i]! ^= bit;
      assert.throws(() => decodeWeights(damaged), (e: unknown) => e instanceof TfcError && /^TFC600[12]$/.test(e.code), `flip at byte ${i}`);
    }
  }
});

test("every truncation of a small file says it is truncated or not a weights file", () => {
  const bytes = encodeWeights(sampleTensors().slice(0, 4));
  for (let n = 0; n < bytes.length; n++) {
    assertThrowsTfc(() => decodeWeights(bytes.subarray(0, n), "w"), "TFC6002", /^weights file 'w' is (truncated: expected|damaged: it does not end with the "TFCE" trailer)/);
  }
});

test("encodeWeights refuses tensors it cannot write, with TFC6003", () => {
  const cases: [NamedTensor[], RegExp][] = [
    [[{ name: "", dtype: "f32", shape: [1], data: new Float32Array(1) }], /tensor '' .*its name is empty/],
    [[{ name: "a\0b", dtype: "f32", shape: [1], data: new Float32Array(1) }], /NUL/],
    [[{ name: "bad\ud800", dtype: "f32", shape: [1], data: new Float32Array(1) }], /lone surrogate/],
    [[{ name: "w", dtype: "f32", shape: [2], data: new Float32Array(3) }], /shape f32\[2\] has 2 elements but the data has 3/],
    [[{ name: "w", dtype: "i32", shape: [2], data: new Float32Array(2) }], /i32 data must be a Int32Array, got Float32Array/],
    [[{ name: "w", dtype: "bool", shape: [2], data: new Uint8Array([1, 2]) }], /bool data must be 0 or 1, element 1 is 2/],
    [[{ name: "w", dtype: "f32", shape: [-1], data: new Float32Array(0) }], /not a non-negative integer/],
    [[{ name: "w", dtype: "f32", shape: [1.5], data: new Float32Array(0) }], /not a non-negative integer/],
    [[{ name: "w", dtype: "f32", shape: new Array(17).fill(1), data: new Float32Array(1) }], /rank 17 is more than 16/],
    [[{ name: "w", dtype: "f16" as "f32", shape: [1], data: new Float32Array(1) }], /unknown dtype 'f16'/],
    [[{ name: "w", dtype: "f32", shape: [1], data: new Float32Array(1) }, { name: "w", dtype: "f32", shape: [1], data: new Float32Array(1) }], /the name appears twice/],
  ];
  for (const [tensors, message] of cases) assertThrowsTfc(() => encodeWeights(tensors), "TFC6003", message);
});

test("writeWeightsFile and readWeightsFile round trip on disk; a missing file is TFC6001", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-weights-"));
  try {
    const file = path.join(dir, "model.weights");
    writeWeightsFile(file, sampleTensors());
    assertSameTensors(readWeightsFile(file), sampleTensors());
    assert.deepEqual(fs.readdirSync(dir), ["model.weights"], "no temporary file left behind");
    const missing = path.join(dir, "missing.weights");
    assertThrowsTfc(() => readWeightsFile(missing), "TFC6001", `cannot read weights file '${missing}': no such file`);
    fs.writeFileSync(file, encodeWeights(sampleTensors()).subarray(0, 100));
    assertThrowsTfc(() => readWeightsFile(file), "TFC6002", new RegExp(`^weights file '${file.replace(/[.\\]/g, "\\$&")}' is truncated`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
