// Models: LayersModel (functional API: tf.input + layer.apply + tf.model) and Sequential.
// A model is a graph of layer applications over symbolic tensors; `run` evaluates that graph in
// the current context, so predict() runs it eagerly and the compiler traces the same code to IR.

import { TfcError, type SourceLoc } from "../../ir/errors.js";
import { BATCH, formatShape } from "../../ir/types.js";
import { currentUserLoc } from "../frontend/location.js";
import { withContext, currentContext } from "./context.js";
import { Tensor, type Variable } from "./tensor.js";
import { convert, type TensorOrLike } from "./ops.js";
import { toIRDType, type DataType } from "./dtypes.js";
import { Layer, SymbolicTensor, isPositiveInt } from "./layers/layer.js";

let inputCount = 0;
let modelCount = 0;
export function resetModelNames(): void {
  inputCount = 0;
  modelCount = 0;
}

export interface InputConfig {
  shape?: (number | null)[];
  batchShape?: (number | null)[];
  dtype?: DataType;
  name?: string;
}

/** tf.input: a symbolic model input; `shape` excludes the batch dimension. */
export function input(config: InputConfig): SymbolicTensor {
  const shape = config.batchShape ?? (config.shape ? [null, ...config.shape] : undefined);
  if (!shape) throw new TfcError("TFC3007", "tf.input needs 'shape' (without the batch dimension) or 'batchShape'", { loc: currentUserLoc() });
  if (!shape.slice(1).every(isPositiveInt)) {
    throw new TfcError("TFC3008", `tf.input shape must hold positive integers, got [${shape.slice(1).join(", ")}]`, { loc: currentUserLoc() });
  }
  const name = config.name ?? (inputCount++ === 0 ? "input" : `input_${inputCount - 1}`);
  return new SymbolicTensor({ dtype: toIRDType(config.dtype ?? "float32"), shape: shape.map((d) => (d === null ? BATCH : d!)) }, undefined, [], name);
}

export class LayersModel {
  readonly name: string;
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  readonly createdAt: SourceLoc | undefined;

  constructor(args: { inputs: SymbolicTensor | SymbolicTensor[]; outputs: SymbolicTensor | SymbolicTensor[]; name?: string }) {
    this.createdAt = currentUserLoc();
    this.inputs = Array.isArray(args.inputs) ? args.inputs : [args.inputs];
    this.outputs = Array.isArray(args.outputs) ? args.outputs : [args.outputs];
    this.name = args.name ?? (modelCount++ === 0 ? "model" : `model_${modelCount - 1}`);
    for (const x of [...this.inputs, ...this.outputs]) {
      if (!(x instanceof SymbolicTensor)) {
        throw new TfcError("TFC5012", "tf.model inputs and outputs must be symbolic tensors from tf.input and layer.apply", { loc: this.createdAt });
      }
    }
    for (const i of this.inputs) {
      if (i.sourceLayer) throw new TfcError("TFC5012", `model input '${i.name}' is a layer output, not a tf.input`, { loc: this.createdAt });
    }
    this.checkReachable();
  }

  private checkReachable(): void {
    const inputs = new Set(this.inputs);
    const visit = (s: SymbolicTensor): void => {
      if (inputs.has(s)) return;
      if (!s.sourceLayer) {
        throw new TfcError("TFC5012", `model output depends on input '${s.name}', which is not among the model's inputs`, { loc: this.createdAt });
      }
      s.inputs.forEach(visit);
    };
    this.outputs.forEach(visit);
  }

  /** Layers in the order they are applied. */
  get layers(): Layer[] {
    const seen = new Set<Layer>();
    const order: Layer[] = [];
    const visit = (s: SymbolicTensor): void => {
      s.inputs.forEach(visit);
      if (s.sourceLayer && !seen.has(s.sourceLayer)) {
        seen.add(s.sourceLayer);
        order.push(s.sourceLayer);
      }
    };
    this.outputs.forEach(visit);
    return order;
  }

  getLayer(name: string): Layer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new TfcError("TFC3009", `no layer named '${name}' in model '${this.name}'`, { loc: currentUserLoc() });
    return l;
  }

  /** @internal Evaluate the layer graph on tensors, in the current context. */
  run(inputs: Tensor[]): Tensor[] {
    if (inputs.length !== this.inputs.length) {
      throw new TfcError("TFC1010", `model '${this.name}' takes ${this.inputs.length} input(s), got ${inputs.length}`, { loc: currentUserLoc() });
    }
    const memo = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((s, i) => memo.set(s, inputs[i]!));
    const evaluate = (s: SymbolicTensor): Tensor => {
      const known = memo.get(s);
      if (known) return known;
      const value = s.sourceLayer!.invoke(s.inputs.map(evaluate));
      memo.set(s, value);
      return value;
    };
    return this.outputs.map(evaluate);
  }

  /** Apply the model as a layer to tensors (runs it) — symbolic application is not supported yet. */
  apply(x: Tensor | Tensor[]): Tensor | Tensor[] {
    const outs = this.run(Array.isArray(x) ? x : [x]);
    return outs.length === 1 ? outs[0]! : outs;
  }

  /** Run the model now on concrete inputs (eager, on the reference interpreter). */
  predict(x: TensorOrLike | TensorOrLike[], _config?: { batchSize?: number; verbose?: boolean }): Tensor | Tensor[] {
    if (currentContext().kind !== "eager") return this.apply(Array.isArray(x) && x.every((t) => t instanceof Tensor) ? (x as Tensor[]) : convert(x as TensorOrLike));
    const list = this.inputs.length > 1 ? (x as TensorOrLike[]) : [x as TensorOrLike];
    const tensors = list.map((t, i) => convert(t, this.inputs[i]!.irType.dtype));
    tensors.forEach((t, i) => this.checkInput(t, i));
    const outs = this.run(tensors);
    return outs.length === 1 ? outs[0]! : outs;
  }

  private checkInput(t: Tensor, i: number): void {
    const want = this.inputs[i]!.irType.shape;
    const ok = t.rank === want.length && want.every((d, k) => d === BATCH || d === t.shape[k]);
    if (!ok) {
      throw new TfcError("TFC1011", `model '${this.name}' input ${i} must have shape [${formatShape(want)}], got [${t.shape}]`, { loc: currentUserLoc() });
    }
  }

  get weights(): Variable[] {
    return this.layers.flatMap((l) => l.weights);
  }
  getWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.getWeights());
  }
  setWeights(weights: Tensor[]): void {
    let k = 0;
    for (const l of this.layers) {
      const n = l.weights.length;
      l.setWeights(weights.slice(k, k + n));
      k += n;
    }
    if (k !== weights.length) throw new TfcError("TFC2013", `model '${this.name}' has ${k} weights, ${weights.length} were given`, { loc: currentUserLoc() });
  }
  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** Keras-style summary table (layers, output shapes, parameter counts). */
  summary(lineLength = 65, _positions?: number[], printFn: (line: string) => void = console.log): void {
    for (const line of summaryLines(this, lineLength)) printFn(line);
  }
}

export function summaryLines(model: LayersModel, width = 65): string[] {
  const cols = [Math.floor(width * 0.45), Math.floor(width * 0.3)];
  const row = (a: string, b: string, c: string) => a.padEnd(cols[0]!) + b.padEnd(cols[1]!) + c;
  const lines = [`Model: "${model.name}"`, "_".repeat(width), row("Layer (type)", "Output shape", "Param #"), "=".repeat(width)];
  const layers = model.layers;
  layers.forEach((l, i) => {
    const shape = l.outputType ? `[${l.outputType.shape.map((d) => (d === BATCH ? "null" : d)).join(",")}]` : "?";
    lines.push(row(`${l.name} (${l.className})`, shape, String(l.countParams())));
    lines.push(i === layers.length - 1 ? "=".repeat(width) : "_".repeat(width));
  });
  const trainable = layers.flatMap((l) => l.trainableWeights).reduce((n, w) => n + w.size, 0);
  const total = model.countParams();
  lines.push(`Total params: ${total}`, `Trainable params: ${trainable}`, `Non-trainable params: ${total - trainable}`, "_".repeat(width));
  return lines;
}

export class Sequential extends LayersModel {
  private readonly stack: Layer[] = [];

  constructor(config: { layers?: Layer[]; name?: string } = {}) {
    super({ inputs: [], outputs: [], name: config.name ?? (modelCount++ === 0 ? "sequential" : `sequential_${modelCount - 1}`) });
    for (const l of config.layers ?? []) this.add(l);
  }

  add(layer: Layer): void {
    if (!(layer instanceof Layer)) {
      throw new TfcError("TFC5012", "Sequential.add expects a layer, e.g. tf.layers.dense({units: 10})", { loc: currentUserLoc() });
    }
    if (this.stack.length === 0) {
      if (layer.batchInputShape) {
        const first = new SymbolicTensor({ dtype: layer.inputDType, shape: layer.batchInputShape }, undefined, [], `${layer.name}_input`);
        this.inputs = [first];
        this.outputs = [layer.apply(first) as SymbolicTensor];
      }
    } else if (this.outputs.length > 0) {
      if (layer.batchInputShape) {
        const prev = this.outputs[0]!.irType.shape;
        const want = layer.batchInputShape;
        if (prev.length !== want.length || want.some((d, i) => d !== BATCH && d !== prev[i])) {
          throw new TfcError("TFC2001", `layer '${layer.name}' declares inputShape [${formatShape(want.slice(1))}] but the previous layer outputs [${formatShape(prev.slice(1))}]`, {
            loc: currentUserLoc(),
          });
        }
      }
      this.outputs = [withContext(currentContext(), () => layer.apply(this.outputs[0]!)) as SymbolicTensor];
    }
    this.stack.push(layer);
  }

  override get layers(): Layer[] {
    return [...this.stack];
  }

  override run(inputs: Tensor[]): Tensor[] {
    if (this.outputs.length > 0) return super.run(inputs);
    // No input shape known: apply the layers one after another to whatever comes in.
    if (inputs.length !== 1) throw new TfcError("TFC1010", `sequential model takes 1 input, got ${inputs.length}`, { loc: currentUserLoc() });
    return [this.stack.reduce((x, l) => l.invoke([x]), inputs[0]!)];
  }

  override predict(x: TensorOrLike, config?: { batchSize?: number; verbose?: boolean }): Tensor {
    if (this.stack.length === 0) throw new TfcError("TFC5003", "this sequential model has no layers", { loc: currentUserLoc() });
    return super.predict(x, config) as Tensor;
  }
}
