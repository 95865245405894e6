// The tfc weights file: named f32/i32/bool tensors in one little-endian binary with a CRC32, written
// by the compiler next to every native and wasm artifact and read by runtime/c (tfc_runtime.c) and
// runtime/js. decodeWeights checks exactly what the C reader checks and words its messages the same.
//
//   header   "TFCW" | version u32 = 1 | count u32 | header_bytes u32 (header + entries, before padding)
//   entries  name_len u32 | name (UTF-8) | dtype u8 (0 f32, 1 i32, 2 bool as u8 0/1) | rank u8 |
//            reserved u16 = 0 | dims i64[rank] | data_offset u64 | data_bytes u64
//   zero padding to a multiple of 64; the data section starts there and each tensor's data starts
//   at a multiple of 64 within it (the writer leaves no bytes after the last tensor)
//   trailer  crc32 u32 (IEEE, over every byte before the trailer) | "TFCE"
//
// Errors: TFC6001 the file cannot be read, is not a weights file or has another format version;
// TFC6002 it is damaged (truncated, checksum, malformed entries); TFC6003 tensors that cannot be
// written (bad name, shape or data).

import * as fs from "node:fs";
import * as path from "node:path";
import { TfcError } from "../../ir/errors.js";

export type WeightsDType = "f32" | "i32" | "bool";

export interface NamedTensor {
  name: string;
  dtype: WeightsDType;
  shape: number[];
  /** Float32Array for f32, Int32Array for i32, Uint8Array of 0/1 for bool; row-major. */
  data: Float32Array | Int32Array | Uint8Array;
}

export const WEIGHTS_VERSION = 1;
export const WEIGHTS_MAX_RANK = 16;

const HEADER_BYTES = 16;
const TRAILER_BYTES = 8;
const MIN_ENTRY_BYTES = 24;
const MIN_FILE_BYTES = HEADER_BYTES + TRAILER_BYTES;
const MAX_DIM = BigInt(Number.MAX_SAFE_INTEGER); // larger dimensions cannot be JavaScript numbers
const U64_MAX = (1n << 64n) - 1n;
const DTYPE_CODES: Record<WeightsDType, number> = { f32: 0, i32: 1, bool: 2 };
const DTYPES: readonly WeightsDType[] = ["f32", "i32", "bool"];
const ELEMENT_BYTES: Record<WeightsDType, number> = { f32: 4, i32: 4, bool: 1 };
const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// ---- CRC-32 ------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, polynomial 0xEDB88320) of bytes, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- Writing -----------------------------------------------------------------------------------

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** "f32[784,10]"; "f32[]" for a scalar. */
export function formatTensorType(dtype: string, shape: readonly (number | bigint)[]): string {
  return `${dtype}[${shape.join(",")}]`;
}

function checkWritable(t: NamedTensor, seen: Set<string>): Uint8Array {
  const fail = (why: string): never => {
    throw new TfcError("TFC6003", `cannot write tensor '${t.name}' to a weights file: ${why}`);
  };
  if (t.name.length === 0) fail("its name is empty");
  if (t.name.includes("\0")) fail("its name contains a NUL character");
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(t.name)) fail("its name has a lone surrogate");
  if (seen.has(t.name)) fail("the name appears twice");
  seen.add(t.name);
  if (!(t.dtype in DTYPE_CODES)) fail(`unknown dtype '${String(t.dtype)}'`);
  if (t.shape.length > WEIGHTS_MAX_RANK) fail(`rank ${t.shape.length} is more than ${WEIGHTS_MAX_RANK}`);
  let elements = 1;
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`shape [${t.shape.join(",")}] has a dimension that is not a non-negative integer`);
    elements *= d;
  }
  const expectedArray = { f32: Float32Array, i32: Int32Array, bool: Uint8Array }[t.dtype];
  if (!(t.data instanceof expectedArray)) fail(`${t.dtype} data must be a ${expectedArray.name}, got ${t.data.constructor.name}`);
  if (t.data.length !== elements) fail(`shape ${formatTensorType(t.dtype, t.shape)} has ${elements} elements but the data has ${t.data.length}`);
  if (t.dtype === "bool") {
    const bad = (t.data as Uint8Array).findIndex((v) => v > 1);
    if (bad >= 0) fail(`bool data must be 0 or 1, element ${bad} is ${t.data[bad]}`);
  }
  return new TextEncoder().encode(t.name);
}

/** The bytes of a weights file holding `tensors` in this order. */
export function encodeWeights(tensors: NamedTensor[]): Uint8Array {
  const seen = new Set<string>();
  const names = tensors.map((t) => checkWritable(t, seen));
  let headerBytes = HEADER_BYTES;
  names.forEach((name, i) => (headerBytes += 4 + name.length + 4 + 8 * tensors[i]!.shape.length + 16));
  if (headerBytes > 0xffffffff) throw new TfcError("TFC6003", `cannot write a weights file whose header is ${headerBytes} bytes (the most is 4 GiB)`);
  const dataStart = align64(headerBytes);
  const offsets: number[] = [];
  let dataEnd = 0;
  for (const t of tensors) {
    const offset = align64(dataEnd);
    offsets.push(offset);
    dataEnd = offset + t.data.byteLength;
  }
  const bytes = new Uint8Array(dataStart + dataEnd + TRAILER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set([0x54, 0x46, 0x43, 0x57], 0); // "TFCW"
  view.setUint32(4, WEIGHTS_VERSION, true);
  view.setUint32(8, tensors.length, true);
  view.setUint32(12, headerBytes, true);
  let pos = HEADER_BYTES;
  tensors.forEach((t, i) => {
    const name = names[i]!;
    view.setUint32(pos, name.length, true);
    bytes.set(name, pos + 4);
    pos += 4 + name.length;
    view.setUint8(pos, DTYPE_CODES[t.dtype]);
    view.setUint8(pos + 1, t.shape.length);
    view.setUint16(pos + 2, 0, true);
    pos += 4;
    for (const d of t.shape) {
      view.setBigInt64(pos, BigInt(d), true);
      pos += 8;
    }
    view.setBigUint64(pos, BigInt(offsets[i]!), true);
    view.setBigUint64(pos + 8, BigInt(t.data.byteLength), true);
    pos += 16;
    writeData(bytes, view, dataStart + offsets[i]!, t);
  });
  const crcAt = bytes.length - TRAILER_BYTES;
  view.setUint32(crcAt, crc32(bytes.subarray(0, crcAt)), true);
  bytes.set([0x54, 0x46, 0x43, 0x45], crcAt + 4); // "TFCE"
  return bytes;
}

function writeData(bytes: Uint8Array, view: DataView, at: number, t: NamedTensor): void {
  if (littleEndianHost || t.dtype === "bool") {
    bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
  } else if (t.data instanceof Float32Array) {
    t.data.forEach((v, k) => view.setFloat32(at + 4 * k, v, true));
  } else {
    t.data.forEach((v, k) => view.setInt32(at + 4 * k, v, true));
  }
}

// ---- Reading -----------------------------------------------------------------------------------

const hex2 = (b: number): string => b.toString(16).padStart(2, "0");
const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

interface Entry {
  name: string;
  dtype: WeightsDType;
  shape: number[];
  offset: bigint;
  bytes: bigint;
}

/**
 * Reads and checks the entries in bytes[16, headerBytes). dataSize: the data section's size, or
 * undefined when unknown (then offsets are not checked). Throws TFC6002 with the C reader's words.
 */
function parseEntries(bytes: Uint8Array, view: DataView, file: string, headerBytes: number, count: number, dataSize: bigint | undefined): { entries: Entry[]; dataEnd: bigint } {
  const damaged = (why: string): never => {
    throw new TfcError("TFC6002", `weights file '${file}' is damaged: ${why}`);
  };
  if (count > Math.floor((headerBytes - HEADER_BYTES) / MIN_ENTRY_BYTES)) {
    damaged(`the header lists ${count} tensors, more than its ${headerBytes} bytes can hold`);
  }
  const pastEnd = (): never => damaged(`the entries run past the end of the ${headerBytes}-byte header`);
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const entries: Entry[] = [];
  let pos = HEADER_BYTES;
  let dataEnd = 0n;
  for (let i = 0; i < count; i++) {
    if (headerBytes - pos < 4) pastEnd();
    const nameLen = view.getUint32(pos, true);
    pos += 4;
    if (nameLen === 0) damaged(`entry ${i} has an empty name`);
    if (headerBytes - pos < nameLen + 4) pastEnd();
    const nameBytes = bytes.subarray(pos, pos + nameLen);
    let name = "";
    try {
      if (nameBytes.includes(0)) throw new Error("NUL");
      name = utf8.decode(nameBytes);
    } catch {
      damaged(`the name of entry ${i} is not valid UTF-8 or holds a NUL byte`);
    }
    pos += nameLen;
    const dtypeCode = bytes[pos]!;
    const rank = bytes[pos + 1]!;
    const reserved = view.getUint16(pos + 2, true);
    pos += 4;
    const dtype = DTYPES[dtypeCode];
    if (dtype === undefined) damaged(`tensor '${name}' has unknown dtype code ${dtypeCode} (0 f32, 1 i32, 2 bool)`);
    if (rank > WEIGHTS_MAX_RANK) damaged(`tensor '${name}' has rank ${rank}; the most is ${WEIGHTS_MAX_RANK}`);
    if (reserved !== 0) damaged(`tensor '${name}' has nonzero reserved bits ${reserved}`);
    if (headerBytes - pos < rank * 8 + 16) pastEnd();
    const dims: bigint[] = [];
    let elements = 1n;
    let tooLarge = false;
    for (let k = 0; k < rank; k++) {
      const d = view.getBigInt64(pos, true);
      pos += 8;
      if (d < 0n) damaged(`tensor '${name}' has negative dimension ${d} at axis ${k}`);
      dims.push(d);
      if (d > MAX_DIM || (d !== 0n && elements > (1n << 62n) / d)) tooLarge = true;
      else elements *= d;
    }
    const offset = view.getBigUint64(pos, true);
    const byteCount = view.getBigUint64(pos + 8, true);
    pos += 16;
    const type = formatTensorType(dtype!, dims);
    if (tooLarge) damaged(`tensor '${name}' is too large (${type})`);
    const expected = elements * BigInt(ELEMENT_BYTES[dtype!]);
    if (byteCount !== expected) damaged(`tensor '${name}' is ${type} = ${expected} bytes, but the file stores ${byteCount}`);
    if (offset % 64n !== 0n) damaged(`tensor '${name}' starts at offset ${offset}, not a multiple of 64`);
    if (dataSize !== undefined && (offset > dataSize || byteCount > dataSize - offset)) {
      damaged(`tensor '${name}' (${byteCount} bytes at offset ${offset}) lies outside the ${dataSize}-byte data section`);
    }
    if (offset + byteCount > U64_MAX) pastEnd(); // only when dataSize is unknown, as in C
    if (offset + byteCount > dataEnd) dataEnd = offset + byteCount;
    entries.push({ name, dtype: dtype!, shape: dims.map(Number), offset, bytes: byteCount });
  }
  if (pos !== headerBytes) damaged(`the header says it is ${headerBytes} bytes but its entries end at byte ${pos}`);
  return { entries, dataEnd };
}

/** The tensors of a weights file, after checking all of it; `file` names it in messages. */
export function decodeWeights(bytes: Uint8Array, file = "<weights>"): NamedTensor[] {
  const size = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (message: string): never => {
    throw new TfcError("TFC6002", `weights file '${file}' ${message}`);
  };
  if (size >= 4 && !(bytes[0] === 0x54 && bytes[1] === 0x46 && bytes[2] === 0x43 && bytes[3] === 0x57)) {
    throw new TfcError("TFC6001", `weights file '${file}' is not a tfc weights file: it starts with ${[...bytes.subarray(0, 4)].map(hex2).join(" ")} instead of "TFCW"`);
  }
  if (size < MIN_FILE_BYTES) corrupt(`is truncated: expected at least ${MIN_FILE_BYTES} bytes, got ${size}`);
  const version = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const headerBytes = view.getUint32(12, true);
  if (version !== WEIGHTS_VERSION) {
    throw new TfcError("TFC6001", `weights file '${file}' has format version ${version}; this runtime reads version ${WEIGHTS_VERSION}`);
  }
  if (headerBytes < HEADER_BYTES) corrupt(`is damaged: its header size ${headerBytes} is smaller than the ${HEADER_BYTES}-byte header`);
  const dataStart = align64(headerBytes);

  const hasTrailer = size >= dataStart + TRAILER_BYTES && bytes[size - 4] === 0x54 && bytes[size - 3] === 0x46 && bytes[size - 2] === 0x43 && bytes[size - 1] === 0x45;
  if (!hasTrailer) {
    // Most likely cut short: say how long the header says the file should be.
    if (size < dataStart + TRAILER_BYTES) corrupt(`is truncated: expected at least ${dataStart + TRAILER_BYTES} bytes, got ${size}`);
    let expected: bigint | undefined;
    try {
      expected = BigInt(dataStart + TRAILER_BYTES) + parseEntries(bytes, view, file, headerBytes, count, undefined).dataEnd;
    } catch {
      expected = undefined;
    }
    if (expected !== undefined && expected > BigInt(size)) corrupt(`is truncated: expected ${expected} bytes, got ${size}`);
    corrupt(`is damaged: it does not end with the "TFCE" trailer`);
  }
  const stored = view.getUint32(size - TRAILER_BYTES, true);
  const computed = crc32(bytes.subarray(0, size - TRAILER_BYTES));
  if (stored !== computed) {
    throw new TfcError("TFC6002", `weights file '${file}': checksum mismatch: the file is corrupt (stored ${hex8(stored)}, computed ${hex8(computed)})`);
  }
  const dataSize = size - TRAILER_BYTES - dataStart;
  const { entries } = parseEntries(bytes, view, file, headerBytes, count, BigInt(dataSize));

  const tensors = entries.map((e): NamedTensor => {
    const at = dataStart + Number(e.offset);
    const raw = new Uint8Array(bytes.subarray(at, at + Number(e.bytes))); // a copy, aligned (Buffer#slice would not copy)
    if (e.dtype === "bool") {
      const bad = raw.findIndex((v) => v > 1);
      if (bad >= 0) corrupt(`is damaged: bool tensor '${e.name}' holds byte ${raw[bad]} at element ${bad} (expected 0 or 1)`);
      return { name: e.name, dtype: e.dtype, shape: e.shape, data: raw };
    }
    const data = e.dtype === "f32" ? new Float32Array(raw.buffer) : new Int32Array(raw.buffer);
    if (!littleEndianHost) {
      const rawView = new DataView(raw.buffer);
      for (let k = 0; k < data.length; k++) data[k] = e.dtype === "f32" ? rawView.getFloat32(4 * k, true) : rawView.getInt32(4 * k, true);
    }
    return { name: e.name, dtype: e.dtype, shape: e.shape, data };
  });
  const sorted = tensors.map((t) => t.name).sort(compareUtf8);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) corrupt(`is damaged: tensor name '${sorted[i]}' appears twice`);
  }
  return tensors;
}

/** Byte order of UTF-8 (what C's strcmp gives), so both readers report the same duplicate first. */
function compareUtf8(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return Buffer.compare(x, y);
}

// ---- Files -------------------------------------------------------------------------------------

/** Reads and decodes a weights file; TFC6001 if it cannot be read. */
export function readWeightsFile(file: string): NamedTensor[] {
  let bytes: Uint8Array;
  try {
    const buffer = fs.readFileSync(file);
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new TfcError("TFC6001", `cannot read weights file '${file}': ${reason}`);
  }
  return decodeWeights(bytes, file);
}

/** Writes a weights file atomically (a temporary file in the same folder, then a rename). */
export function writeWeightsFile(file: string, tensors: NamedTensor[]): void {
  const bytes = encodeWeights(tensors);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, bytes);
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw new TfcError("TFC6001", `cannot write weights file '${file}': ${(e as Error).message}`);
  }
}
