// Translates a tfc tensor-IR function into an ONNX graph (opset 13) with tfc's own parameter values,
// so onnxruntime runs exactly the model tfc runs. Convolutions and pools run in ONNX's NCHW layout:
// values switch layout through Transpose nodes only where a consumer needs the other one.

import type { Func, Module, Op, Value } from "../ir/ir.js";
import type { ParamValues } from "../ir/interpreter.js";
import type { HostTensor } from "../ir/tensor.js";
import { BATCH, stridesOf } from "../ir/types.js";
import { attr, encodeModel, type OnnxAttribute, type OnnxElemType, type OnnxGraph, type OnnxInitializer, type OnnxNode } from "./onnx-writer.js";

/** ONNX node types for IR elementwise ops that translate one to one. */
const UNARY: Readonly<Record<string, string>> = { relu: "Relu", sigmoid: "Sigmoid", tanh: "Tanh", exp: "Exp", neg: "Neg", abs: "Abs", sqrt: "Sqrt", log: "Log" };
const BINARY: Readonly<Record<string, string>> = { add: "Add", sub: "Sub", mul: "Mul", div: "Div", maximum: "Max", minimum: "Min" };

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** Export function `fnName` of `module` as the bytes of an ONNX model whose weights are `params`. */
export function exportOnnx(module: Module, fnName: string, params: ParamValues): Uint8Array {
  return encodeModel(onnxGraph(module, fnName, params));
}

/** The ONNX graph of function `fnName`, before encoding. */
export function onnxGraph(module: Module, fnName: string, params: ParamValues): OnnxGraph {
  const fn = module.getFunction(fnName);
  if (!fn) throw new Error(`ONNX export: the module has no function '${fnName}'`);
  return new OnnxExporter(fn, params).graph();
}

/** One IR value's ONNX tensor names: in the IR's own layout (NHWC for images) and, where made, in NCHW. */
interface Names {
  irLayout?: string;
  nchw?: string;
}

class OnnxExporter {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers = new Map<string, OnnxInitializer>();
  private readonly names = new Map<number, Names>();
  private readonly users = new Map<number, Op[]>();
  /** Parameters and constants become initializers when first used as they are (a conv filter is used transposed). */
  private readonly constants = new Map<number, { name: string; value: HostTensor }>();
  /** Adds folded into the convolution before them (ONNX Conv's bias input B), with that convolution's result. */
  private readonly foldedBiasAdds = new Map<Op, Value>();

  constructor(
    private readonly fn: Func,
    private readonly params: ParamValues,
  ) {
    for (const op of fn.body) {
      for (const operand of op.operands) this.users.set(operand.id, [...(this.users.get(operand.id) ?? []), op]);
      if (op.name === "param" || op.name === "constant") {
        const name = op.name === "param" ? (op.attrs["name"] as string) : `v${op.result.id}`;
        this.constants.set(op.result.id, { name, value: this.constantValue(op.result)! });
        this.names.set(op.result.id, {}); // an initializer once used as it is (see inIrLayout)
      }
    }
  }

  graph(): OnnxGraph {
    const fn = this.fn;
    const inputs = fn.args.map((arg, i) => {
      const name = arg.name ?? `input_${i}`;
      this.names.set(arg.id, { irLayout: name });
      return { name, elemType: elemType(arg.type.dtype), shape: onnxShape(arg.type.shape) };
    });
    for (const op of fn.body) this.emit(op);
    const outputs = fn.results.map((result, i) => {
      const name = fn.resultNames[i] ?? `output_${i}`;
      this.node("Identity", [this.inIrLayout(result)], [name]);
      return { name, elemType: elemType(result.type.dtype), shape: onnxShape(result.type.shape) };
    });
    return { name: fn.name, nodes: this.nodes, initializers: [...this.initializers.values()], inputs, outputs };
  }

  private emit(op: Op): void {
    const out = `v${op.result.id}`;
    const [x, y] = op.operands;
    const name = op.name;
    if (name === "param" || name === "constant") {
      // Declared by the constructor, so that a convolution can take a bias defined after it.
    } else if (name in UNARY) {
      // Elementwise: stay in whichever layout the operand already has.
      const operand = this.names.get(x!.id)!;
      if (operand.irLayout === undefined && operand.nchw !== undefined) this.define(op, "nchw", this.node(UNARY[name]!, [operand.nchw], [out]));
      else this.define(op, "irLayout", this.node(UNARY[name]!, [this.inIrLayout(x!)], [out]));
    } else if (name in BINARY) {
      const conv = this.foldedBiasAdds.get(op);
      if (conv) this.names.set(op.result.id, this.names.get(conv.id)!);
      else this.define(op, "irLayout", this.node(BINARY[name]!, [this.inIrLayout(x!), this.inIrLayout(y!)], [out]));
    } else if (name === "matmul") {
      const a = op.attrs["transpose_a"] ? this.swapLastTwo(x!) : this.inIrLayout(x!);
      const b = op.attrs["transpose_b"] ? this.swapLastTwo(y!) : this.inIrLayout(y!);
      this.define(op, "irLayout", this.node("MatMul", [a, b], [out]));
    } else if (name === "softmax") {
      this.define(op, "irLayout", this.node("Softmax", [this.inIrLayout(x!)], [out], { axis: attr.int(op.attrs["axis"] as number) }));
    } else if (name === "reshape") {
      const shape = this.initializer(`${out}_shape`, { dtype: "i64", shape: [(op.attrs["shape"] as number[]).length], data: BigInt64Array.from((op.attrs["shape"] as number[]).map(BigInt)) });
      this.define(op, "irLayout", this.node("Reshape", [this.inIrLayout(x!), shape], [out]));
    } else if (name === "transpose") {
      this.define(op, "irLayout", this.node("Transpose", [this.inIrLayout(x!)], [out], { perm: attr.ints(op.attrs["perm"] as number[]) }));
    } else if (name === "conv2d") {
      this.emitConv(op, out);
    } else if (name === "max_pool") {
      const ksize = op.attrs["ksize"] as number[];
      const window = { kernel_shape: attr.ints(ksize), strides: attr.ints(op.attrs["strides"] as number[]), ...padding(op, ksize.length) };
      this.define(op, "nchw", this.node("MaxPool", [this.inNchw(x!)], [out], window));
    } else {
      throw new Error(`ONNX export: IR op '${name}' has no ONNX translation in bench/onnx-export.ts`);
    }
  }

  /** conv2d (NHWC input, HWIO filter) → ONNX Conv (NCHW, OIHW), taking a following per-channel bias add as B. */
  private emitConv(op: Op, out: string): void {
    const [x, filter] = op.operands as [Value, Value];
    const hwio = this.constantValue(filter);
    if (!hwio) throw new Error("ONNX export: conv2d filters must be parameters or constants");
    const oihw = this.initializer(`${this.constants.get(filter.id)!.name}:oihw`, transposeHost(hwio, [3, 2, 0, 1]));
    const inputs = [this.inNchw(x), oihw];
    const bias = this.channelBias(op);
    if (bias) {
      this.foldedBiasAdds.set(bias.add, op.result);
      inputs.push(bias.name);
    }
    const ksize = hwio.shape.slice(0, 2);
    const window = {
      kernel_shape: attr.ints(ksize),
      strides: attr.ints(op.attrs["strides"] as number[]),
      dilations: attr.ints(op.attrs["dilations"] as number[]),
      ...padding(op, ksize.length),
    };
    this.define(op, "nchw", this.node("Conv", inputs, [out], window));
  }

  /** The convolution's only user, when it adds a rank-1 parameter of one value per output channel. */
  private channelBias(conv: Op): { add: Op; name: string } | undefined {
    const users = this.users.get(conv.result.id) ?? [];
    const add = users[0];
    if (users.length !== 1 || add?.name !== "add" || this.fn.results.includes(conv.result)) return undefined;
    const other = add.operands[0] === conv.result ? add.operands[1]! : add.operands[0]!;
    const channels = conv.result.type.shape[3];
    if (!this.constants.has(other.id) || other.type.shape.length !== 1 || other.type.shape[0] !== channels) return undefined;
    return { add, name: this.inIrLayout(other) };
  }

  /** The value of a parameter or constant op's result; undefined for computed values. */
  private constantValue(v: Value): HostTensor | undefined {
    if (v.def?.name === "constant") return v.def.attrs["value"] as HostTensor;
    if (v.def?.name !== "param") return undefined;
    const name = v.def.attrs["name"] as string;
    const value = this.params.get(name);
    if (!value) throw new Error(`ONNX export: no value for parameter '${name}'`);
    return value;
  }

  /** The value in the IR's layout, transposing back from NCHW if that is all there is. */
  private inIrLayout(v: Value): string {
    const names = this.names.get(v.id)!;
    const constant = this.constants.get(v.id);
    if (constant) names.irLayout ??= this.initializer(constant.name, constant.value);
    names.irLayout ??= this.node("Transpose", [names.nchw!], [`v${v.id}_nhwc`], { perm: attr.ints(TO_NHWC) });
    return names.irLayout;
  }

  private inNchw(v: Value): string {
    const names = this.names.get(v.id)!;
    names.nchw ??= this.node("Transpose", [names.irLayout!], [`v${v.id}_nchw`], { perm: attr.ints(TO_NCHW) });
    return names.nchw;
  }

  private swapLastTwo(v: Value): string {
    const rank = v.type.shape.length;
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
    return this.node("Transpose", [this.inIrLayout(v)], [`v${v.id}_t`], { perm: attr.ints(perm) });
  }

  private define(op: Op, layout: keyof Names, name: string): void {
    this.names.set(op.result.id, { [layout]: name });
  }

  /** Append a node; returns its (first) output's name. */
  private node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    this.nodes.push({ opType, inputs, outputs, name: `${opType}_${this.nodes.length}`, attributes });
    return outputs[0]!;
  }

  private initializer(name: string, t: HostTensor | { dtype: "i64"; shape: number[]; data: BigInt64Array }): string {
    if (this.initializers.has(name)) return name;
    const data = t.dtype === "i64" ? t.data : t.dtype === "f32" ? Float32Array.from(t.data) : t.dtype === "i32" ? Int32Array.from(t.data) : undefined;
    if (!data) throw new Error(`ONNX export: constant '${name}' has dtype ${t.dtype}, which the exporter does not handle`);
    this.initializers.set(name, { name, elemType: t.dtype === "i64" ? "int64" : elemType(t.dtype), dims: [...t.shape], data });
    return name;
  }
}

function elemType(dtype: string): OnnxElemType {
  if (dtype === "f32") return "float";
  if (dtype === "i32") return "int32";
  throw new Error(`ONNX export: dtype ${dtype} is not handled`);
}

function onnxShape(shape: readonly number[]): (number | string)[] {
  return shape.map((d) => (d === BATCH ? "batch" : d));
}

/** TF's 'same' pads the extra row/column at the end, which is ONNX's SAME_UPPER. */
function padding(op: Op, spatialDims: number): Record<string, OnnxAttribute> {
  return op.attrs["padding"] === "same" ? { auto_pad: attr.string("SAME_UPPER") } : { pads: attr.ints(new Array<number>(2 * spatialDims).fill(0)) };
}

/** A host tensor with its dimensions permuted (`out.shape[i] = in.shape[perm[i]]`). */
export function transposeHost(t: HostTensor, perm: readonly number[]): HostTensor {
  const inShape = t.shape;
  const outShape = perm.map((p) => inShape[p]!);
  const inStrides = stridesOf(inShape);
  const data = new Float32Array(t.data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < data.length; o++) {
    let offset = 0;
    for (let d = 0; d < outShape.length; d++) offset += index[d]! * inStrides[perm[d]!]!;
    data[o] = t.data[offset]!;
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++index[d]! < outShape[d]!) break;
      index[d] = 0;
    }
  }
  return { dtype: t.dtype, shape: outShape, data };
}
