// Writes ONNX models (ModelProto, opset 13) by encoding the protobuf wire format by hand, so the
// benchmark can hand onnxruntime the very weights tfc uses without the python onnx package.
// Covers what the benchmark graphs need: nodes with typed attributes, tensor initializers, typed inputs/outputs.

/** ONNX TensorProto.DataType codes for the element types the benchmark uses. */
export const ONNX_DTYPE = { float: 1, int32: 6, int64: 7 } as const;
export type OnnxElemType = keyof typeof ONNX_DTYPE;

/** An attribute value with its ONNX type spelled out (ints and floats are not distinguishable in JS). */
export type OnnxAttribute =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "floats"; readonly value: readonly number[] };

export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: "int", value }),
  float: (value: number): OnnxAttribute => ({ kind: "float", value }),
  string: (value: string): OnnxAttribute => ({ kind: "string", value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: "ints", value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: "floats", value }),
};

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A constant tensor stored in the graph (weights, shapes). */
export interface OnnxInitializer {
  readonly name: string;
  readonly elemType: OnnxElemType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Int32Array | BigInt64Array;
}

/** A graph input or output: a fixed size per dimension, or a name for a symbolic one ("batch"). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: OnnxElemType;
  readonly shape: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface ModelOptions {
  readonly opsetVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
}

/** IR version 7 is the one that introduced opset 13 (ONNX 1.8). */
const IR_VERSION = 7;

/** Encode a whole model as the bytes of an `.onnx` file. */
export function encodeModel(graph: OnnxGraph, options: ModelOptions = {}): Uint8Array {
  const model = new ProtoWriter();
  model.varintField(1, IR_VERSION); // ir_version
  model.stringField(2, options.producerName ?? "tfc-bench"); // producer_name
  model.stringField(3, options.producerVersion ?? "0.1.0"); // producer_version
  model.messageField(7, encodeGraph(graph)); // graph
  const opset = new ProtoWriter();
  opset.stringField(1, ""); // domain: the default ONNX domain
  opset.varintField(2, options.opsetVersion ?? 13); // version
  model.messageField(8, opset.finish()); // opset_import
  return model.finish();
}

function encodeGraph(graph: OnnxGraph): Uint8Array {
  const g = new ProtoWriter();
  for (const node of graph.nodes) g.messageField(1, encodeNode(node)); // node
  g.stringField(2, graph.name); // name
  for (const init of graph.initializers) g.messageField(5, encodeTensor(init)); // initializer
  for (const input of graph.inputs) g.messageField(11, encodeValueInfo(input)); // input
  for (const output of graph.outputs) g.messageField(12, encodeValueInfo(output)); // output
  return g.finish();
}

function encodeNode(node: OnnxNode): Uint8Array {
  const n = new ProtoWriter();
  for (const input of node.inputs) n.stringField(1, input); // input
  for (const output of node.outputs) n.stringField(2, output); // output
  if (node.name !== undefined) n.stringField(3, node.name); // name
  n.stringField(4, node.opType); // op_type
  for (const [name, value] of Object.entries(node.attributes ?? {})) n.messageField(5, encodeAttribute(name, value)); // attribute
  return n.finish();
}

/** AttributeProto.AttributeType codes. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function encodeAttribute(name: string, a: OnnxAttribute): Uint8Array {
  const w = new ProtoWriter();
  w.stringField(1, name); // name
  switch (a.kind) {
    case "float":
      w.float32Field(2, a.value); // f
      break;
    case "int":
      w.varintField(3, a.value); // i
      break;
    case "string":
      w.bytesField(4, new TextEncoder().encode(a.value)); // s
      break;
    case "floats":
      for (const v of a.value) w.float32Field(7, v); // floats
      break;
    case "ints":
      for (const v of a.value) w.varintField(8, v); // ints
      break;
  }
  w.varintField(20, ATTRIBUTE_TYPE[a.kind]); // type
  return w.finish();
}

function encodeTensor(t: OnnxInitializer): Uint8Array {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new Error(`ONNX initializer '${t.name}': ${t.data.length} values for dims [${t.dims.join(", ")}] (${expected} expected)`);
  }
  const w = new ProtoWriter();
  for (const d of t.dims) w.varintField(1, d); // dims
  w.varintField(2, ONNX_DTYPE[t.elemType]); // data_type
  w.stringField(8, t.name); // name
  w.bytesField(9, littleEndianBytes(t)); // raw_data
  return w.finish();
}

/** raw_data is the tensor's values in little-endian order, whatever the host's byte order. */
function littleEndianBytes(t: OnnxInitializer): Uint8Array {
  if (t.elemType === "float" && !(t.data instanceof Float32Array)) throw new Error(`ONNX initializer '${t.name}' is float but its data is not a Float32Array`);
  if (t.elemType === "int32" && !(t.data instanceof Int32Array)) throw new Error(`ONNX initializer '${t.name}' is int32 but its data is not an Int32Array`);
  if (t.elemType === "int64" && !(t.data instanceof BigInt64Array)) throw new Error(`ONNX initializer '${t.name}' is int64 but its data is not a BigInt64Array`);
  const bytes = new Uint8Array(t.data.length * t.data.BYTES_PER_ELEMENT);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (t.data instanceof Float32Array) view.setFloat32(i * 4, v as number, true);
    else if (t.data instanceof Int32Array) view.setInt32(i * 4, v as number, true);
    else view.setBigInt64(i * 8, v as bigint, true);
  }
  return bytes;
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === "number") dim.varintField(1, d); // dim_value
    else dim.stringField(2, d); // dim_param
    shape.messageField(1, dim.finish()); // dim
  }
  const tensorType = new ProtoWriter();
  tensorType.varintField(1, ONNX_DTYPE[v.elemType]); // elem_type
  tensorType.messageField(2, shape.finish()); // shape
  const type = new ProtoWriter();
  type.messageField(1, tensorType.finish()); // tensor_type
  const info = new ProtoWriter();
  info.stringField(1, v.name); // name
  info.messageField(2, type.finish()); // type
  return info.finish();
}

/** Protobuf wire types. */
const WIRE = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

/** Appends protobuf fields to a growing buffer. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private pending: number[] = [];

  /** An int32/int64/enum field; negative values take ten bytes (two's complement), as protobuf requires. */
  varintField(field: number, value: number | bigint): void {
    this.tag(field, WIRE.varint);
    this.varint(BigInt.asUintN(64, BigInt(value)));
  }

  float32Field(field: number, value: number): void {
    this.tag(field, WIRE.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.raw(b);
  }

  stringField(field: number, value: string): void {
    this.bytesField(field, new TextEncoder().encode(value));
  }

  bytesField(field: number, value: Uint8Array): void {
    this.tag(field, WIRE.lengthDelimited);
    this.varint(BigInt(value.length));
    this.raw(value);
  }

  messageField(field: number, encoded: Uint8Array): void {
    this.bytesField(field, encoded);
  }

  finish(): Uint8Array {
    this.flush();
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.varint(BigInt(field) * 8n + BigInt(wireType));
  }

  private varint(value: bigint): void {
    let v = value;
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pending.push(Number(v));
  }

  private raw(bytes: Uint8Array): void {
    this.flush();
    this.chunks.push(bytes);
  }

  private flush(): void {
    if (this.pending.length) this.chunks.push(Uint8Array.from(this.pending));
    this.pending = [];
  }
}
