// Shared fixtures of the weights-file tests: a sample of tensors with awkward values and shapes,
// and damaged variants of its encoding with the message both readers (TypeScript decodeWeights
// and C tfc_weights_load) must give. Used by weights.test.ts and runtime.test.ts.

import { crc32, encodeWeights, type NamedTensor } from "../../targets/common/weights.js";

/** Tensors covering every dtype, rank 0, empty tensors, high rank, Unicode names, odd sizes. */
export function sampleTensors(): NamedTensor[] {
  const kernel = new Float32Array(15);
  kernel.set([0, -0, 1, -1, 0.1, 1e-45, -3.4028234663852886e38, NaN, Infinity, -Infinity, 1 / 3, 65504, 2 ** -126, 123456.789, -7.25]);
  const big = Float32Array.from({ length: 100 * 37 }, (_, i) => Math.sin(i * 0.37) * 1000);
  return [
    { name: "dense/kernel", dtype: "f32", shape: [3, 5], data: kernel },
    { name: "dense/bias", dtype: "f32", shape: [5], data: new Float32Array([0.5, -0.5, 2, 3, 4]) },
    { name: "embedding/ids", dtype: "i32", shape: [2, 3, 1], data: new Int32Array([0, -1, 2147483647, -2147483648, 42, 7]) },
    { name: "mask", dtype: "bool", shape: [7], data: new Uint8Array([1, 0, 0, 1, 1, 1, 0]) },
    { name: "step", dtype: "i32", shape: [], data: new Int32Array([1234]) },
    { name: "scale", dtype: "f32", shape: [], data: new Float32Array([0.75]) },
    { name: "empty", dtype: "f32", shape: [0, 4], data: new Float32Array(0) },
    { name: "no_flags", dtype: "bool", shape: [3, 0], data: new Uint8Array(0) },
    { name: "ünïcode/名前", dtype: "i32", shape: [1], data: new Int32Array([-5]) },
    { name: "deep", dtype: "f32", shape: [1, 1, 1, 1, 1, 1, 1, 3], data: new Float32Array([1, 2, 3]) },
    { name: "conv/kernel", dtype: "f32", shape: [100, 37], data: big },
  ];
}

export interface EntryFields {
  name: string;
  /** Byte positions in the file of each field of the entry. */
  nameLenAt: number;
  nameAt: number;
  dtypeAt: number;
  rankAt: number;
  reservedAt: number;
  dimsAt: number;
  offsetAt: number;
  bytesAt: number;
}

/** Where each entry's fields are in an (undamaged) encoded file. */
export function entryFields(bytes: Uint8Array): EntryFields[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true);
  const fields: EntryFields[] = [];
  let pos = 16;
  for (let i = 0; i < count; i++) {
    const nameLen = view.getUint32(pos, true);
    const name = new TextDecoder().decode(bytes.subarray(pos + 4, pos + 4 + nameLen));
    const dtypeAt = pos + 4 + nameLen;
    const rank = bytes[dtypeAt + 1]!;
    const dimsAt = dtypeAt + 4;
    fields.push({ name, nameLenAt: pos, nameAt: pos + 4, dtypeAt, rankAt: dtypeAt + 1, reservedAt: dtypeAt + 2, dimsAt, offsetAt: dimsAt + 8 * rank, bytesAt: dimsAt + 8 * rank + 8 });
    pos = dimsAt + 8 * rank + 16;
  }
  return fields;
}

/** Recomputes the checksum after a deliberate edit, so the reader gets past it to the edit. */
export function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 8, crc32(bytes.subarray(0, bytes.length - 8)), true);
  return bytes;
}

export interface DamagedCase {
  what: string;
  bytes: Uint8Array;
  /** TfcError code from decodeWeights. */
  code: "TFC6001" | "TFC6002";
  /** The message, with FILE standing for the file's name; identical from C and TypeScript. */
  message: string | RegExp;
}

/** The sample's encoding damaged in every way the readers check, each with its message. */
export function damagedCases(): DamagedCase[] {
  const good = encodeWeights(sampleTensors());
  const size = good.length;
  const fields = entryFields(good);
  const field = (name: string): EntryFields => fields.find((f) => f.name === name)!;
  const edit = (change: (bytes: Uint8Array, view: DataView) => void, resealed = true): Uint8Array => {
    const bytes = good.slice();
    change(bytes, new DataView(bytes.buffer));
    return resealed ? reseal(bytes) : bytes;
  };
  const headerBytes = new DataView(good.buffer).getUint32(12, true);
  const dataStart = Math.ceil(headerBytes / 64) * 64;
  const dataSize = size - 8 - dataStart;
  const kernel = field("dense/kernel");
  const mask = field("mask");
  const ids = field("embedding/ids");
  const last = field("conv/kernel");
  const farOffset = Math.ceil(dataSize / 64) * 64 + 6400;
  const lastOffset = Number(new DataView(good.buffer).getBigUint64(last.offsetAt, true));

  // Two names of the same length, so one can be overwritten with the other.
  const twins = encodeWeights([
    { name: "layer/a", dtype: "f32", shape: [2], data: new Float32Array([1, 2]) },
    { name: "layer/b", dtype: "f32", shape: [2], data: new Float32Array([3, 4]) },
  ]);
  const twinFields = entryFields(twins);
  twins[twinFields[1]!.nameAt + 6] = "a".charCodeAt(0);
  reseal(twins);

  return [
    { what: "an empty file", bytes: new Uint8Array(0), code: "TFC6002", message: "weights file 'FILE' is truncated: expected at least 24 bytes, got 0" },
    { what: "a file of 10 bytes", bytes: good.slice(0, 10), code: "TFC6002", message: "weights file 'FILE' is truncated: expected at least 24 bytes, got 10" },
    { what: "a file cut inside its header", bytes: good.slice(0, 40), code: "TFC6002", message: `weights file 'FILE' is truncated: expected at least ${dataStart + 8} bytes, got 40` },
    { what: "a file cut in its data", bytes: good.slice(0, dataStart + 100), code: "TFC6002", message: `weights file 'FILE' is truncated: expected ${size} bytes, got ${dataStart + 100}` },
    { what: "a file missing its last byte", bytes: good.slice(0, size - 1), code: "TFC6002", message: `weights file 'FILE' is truncated: expected ${size} bytes, got ${size - 1}` },
    { what: "a file with bytes after the trailer", bytes: Uint8Array.from([...good, 0, 0, 0]), code: "TFC6002", message: `weights file 'FILE' is damaged: it does not end with the "TFCE" trailer` },
    { what: "a damaged trailer magic", bytes: edit((b) => (b[size - 1] = 0x58), false), code: "TFC6002", message: `weights file 'FILE' is damaged: it does not end with the "TFCE" trailer` },
    { what: "a flipped bit in the data", bytes: edit((b) => (b[dataStart + 70] ^= 0x10), false), code: "TFC6002", message: /^weights file 'FILE': checksum mismatch: the file is corrupt \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/ },
    { what: "a flipped byte in a name", bytes: edit((b) => (b[kernel.nameAt] ^= 0xff), false), code: "TFC6002", message: /^weights file 'FILE': checksum mismatch: the file is corrupt/ },
    { what: "a damaged checksum", bytes: edit((b) => (b[size - 8] ^= 1), false), code: "TFC6002", message: /^weights file 'FILE': checksum mismatch: the file is corrupt/ },
    { what: "a zip file", bytes: Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...good.subarray(4)]), code: "TFC6001", message: `weights file 'FILE' is not a tfc weights file: it starts with 50 4b 03 04 instead of "TFCW"` },
    { what: "a short text file", bytes: new TextEncoder().encode("hello"), code: "TFC6001", message: `weights file 'FILE' is not a tfc weights file: it starts with 68 65 6c 6c instead of "TFCW"` },
    { what: "format version 2", bytes: edit((_, v) => v.setUint32(4, 2, true)), code: "TFC6001", message: "weights file 'FILE' has format version 2; this runtime reads version 1" },
    { what: "a header size below 16", bytes: edit((_, v) => v.setUint32(12, 8, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: its header size 8 is smaller than the 16-byte header" },
    { what: "a header size past the entries", bytes: edit((_, v) => v.setUint32(12, headerBytes + 4, true)), code: "TFC6002", message: `weights file 'FILE' is damaged: the header says it is ${headerBytes + 4} bytes but its entries end at byte ${headerBytes}` },
    { what: "a header size cutting the last entry", bytes: edit((_, v) => v.setUint32(12, headerBytes - 4, true)), code: "TFC6002", message: `weights file 'FILE' is damaged: the entries run past the end of the ${headerBytes - 4}-byte header` },
    { what: "a tensor count the header cannot hold", bytes: edit((_, v) => v.setUint32(8, 1000000, true)), code: "TFC6002", message: `weights file 'FILE' is damaged: the header lists 1000000 tensors, more than its ${headerBytes} bytes can hold` },
    { what: "an empty name", bytes: edit((_, v) => v.setUint32(kernel.nameLenAt, 0, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: entry 0 has an empty name" },
    { what: "a name length past the header", bytes: edit((_, v) => v.setUint32(kernel.nameLenAt, 0xfffffff0, true)), code: "TFC6002", message: `weights file 'FILE' is damaged: the entries run past the end of the ${headerBytes}-byte header` },
    { what: "a name that is not UTF-8", bytes: edit((b) => (b[kernel.nameAt + 2] = 0xc0)), code: "TFC6002", message: "weights file 'FILE' is damaged: the name of entry 0 is not valid UTF-8 or holds a NUL byte" },
    { what: "a name with a NUL byte", bytes: edit((b) => (b[kernel.nameAt + 2] = 0)), code: "TFC6002", message: "weights file 'FILE' is damaged: the name of entry 0 is not valid UTF-8 or holds a NUL byte" },
    { what: "dtype code 7", bytes: edit((b) => (b[kernel.dtypeAt] = 7)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'dense/kernel' has unknown dtype code 7 (0 f32, 1 i32, 2 bool)" },
    { what: "rank 17", bytes: edit((b) => (b[kernel.rankAt] = 17)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'dense/kernel' has rank 17; the most is 16" },
    { what: "nonzero reserved bits", bytes: edit((_, v) => v.setUint16(kernel.reservedAt, 0x100, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'dense/kernel' has nonzero reserved bits 256" },
    { what: "a negative dimension", bytes: edit((_, v) => v.setBigInt64(kernel.dimsAt + 8, -5n, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'dense/kernel' has negative dimension -5 at axis 1" },
    { what: "a dimension too large", bytes: edit((_, v) => v.setBigInt64(kernel.dimsAt, 1n << 60n, true)), code: "TFC6002", message: `weights file 'FILE' is damaged: tensor 'dense/kernel' is too large (f32[${1n << 60n},5])` },
    { what: "a shape that disagrees with the byte count", bytes: edit((_, v) => v.setBigInt64(kernel.dimsAt, 4n, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'dense/kernel' is f32[4,5] = 80 bytes, but the file stores 60" },
    { what: "an i32 byte count that disagrees with the shape", bytes: edit((_, v) => v.setBigUint64(ids.bytesAt, 20n, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'embedding/ids' is i32[2,3,1] = 24 bytes, but the file stores 20" },
    { what: "an offset not a multiple of 64", bytes: edit((_, v) => v.setBigUint64(kernel.offsetAt, 8n, true)), code: "TFC6002", message: "weights file 'FILE' is damaged: tensor 'dense/kernel' starts at offset 8, not a multiple of 64" },
    { what: "an offset past the data", bytes: edit((_, v) => v.setBigUint64(mask.offsetAt, BigInt(farOffset), true)), code: "TFC6002", message: `weights file 'FILE' is damaged: tensor 'mask' (7 bytes at offset ${farOffset}) lies outside the ${dataSize}-byte data section` },
    { what: "an offset that wraps around", bytes: edit((_, v) => v.setBigUint64(mask.offsetAt, (1n << 64n) - 64n, true)), code: "TFC6002", message: `weights file 'FILE' is damaged: tensor 'mask' (7 bytes at offset ${(1n << 64n) - 64n}) lies outside the ${dataSize}-byte data section` },
    { what: "a tensor running past the data", bytes: edit((_, v) => v.setBigUint64(last.offsetAt, BigInt(lastOffset + 64), true)), code: "TFC6002", message: `weights file 'FILE' is damaged: tensor 'conv/kernel' (14800 bytes at offset ${lastOffset + 64}) lies outside the ${dataSize}-byte data section` },
    { what: "a bool byte that is not 0 or 1", bytes: edit((_, v) => v.setUint8(dataStart + Number(v.getBigUint64(mask.offsetAt, true)) + 3, 7)), code: "TFC6002", message: "weights file 'FILE' is damaged: bool tensor 'mask' holds byte 7 at element 3 (expected 0 or 1)" },
    { what: "a name that appears twice", bytes: twins, code: "TFC6002", message: "weights file 'FILE' is damaged: tensor name 'layer/a' appears twice" },
  ];
}

/** The expected message for a file called `file`. */
export function expectedMessage(message: string | RegExp, file: string): string | RegExp {
  if (typeof message === "string") return message.replace("FILE", file);
  return new RegExp(message.source.replace("FILE", file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
}
