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
import { getLoss, lossName } from "./losses.js";
import { getMetric } from "./metrics.js";
import { getOptimizer, type Optimizer } from "./optimizers.js";
import type { TrainingConfig } from "../train/step.js";
import { TrainingSession, type ArrayData, type FitOptions, type History } from "../train/session.js";
import type { CallbackArg } from "../train/callbacks.js";
import { getBackend } from "../train/backend.js";
import type { TypedArray, Backend } from "../train/runner.js";
import { hostTensor } from "../../ir/tensor.js";
import { saveLayersModel, type SaveResult } from "./io/files.js";
import { saveTraining } from "../train/checkpoint.js";

type LossIdentifier = string | ((yTrue: Tensor, yPred: Tensor) => Tensor);

/** model.compile's arguments, as in TF.js (a loss per output may be given as an array). */
export interface ModelCompileArgs {
  optimizer: string | Optimizer;
  loss: LossIdentifier | LossIdentifier[];
  metrics?: (string | ((yTrue: Tensor, yPred: Tensor) => Tensor))[] | string;
}

/** model.fit's arguments: TF.js's, plus tfc's `seed` for the shuffles and `checkNumerics`. */
export interface ModelFitArgs {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  validationSplit?: number;
  validationData?: [TensorOrLike | TensorOrLike[], TensorOrLike | TensorOrLike[]];
  callbacks?: CallbackArg | CallbackArg[];
  verbose?: number;
  initialEpoch?: number;
  checkNumerics?: boolean;
}

const FIT_KEYS = ["epochs", "batchSize", "shuffle", "seed", "validationSplit", "validationData", "callbacks", "verbose", "initialEpoch", "checkNumerics", "yieldEvery", "classWeight", "sampleWeight", "stepsPerEpoch", "validationSteps"];

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

  /** As TF.js orders them: every layer's trainable weights, then every layer's non-trainable ones. */
  get weights(): Variable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }
  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }
  get nonTrainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }
  getWeights(): Tensor[] {
    return this.weights.map((w) => Tensor.fromHost(w.host!));
  }
  setWeights(weights: Tensor[]): void {
    const mine = this.weights;
    if (mine.length !== weights.length) throw new TfcError("TFC2013", `model '${this.name}' has ${mine.length} weights, ${weights.length} were given`, { loc: currentUserLoc() });
    weights.forEach((w, i) => mine[i]!.write(w));
  }
  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** Set by callbacks (earlyStopping) to end fit after the current epoch. */
  stopTraining = false;
  /** @internal What compile() settled. */
  trainingConfig: (TrainingConfig & { lossNames: string[]; metricNames: string[] }) | undefined;
  private session: { backend: Backend; session: TrainingSession } | undefined;

  get optimizer(): Optimizer | undefined {
    return this.trainingConfig?.optimizer;
  }

  /** Choose the optimizer, loss(es) and metrics (TF.js names, Keras aliases accepted). */
  compile(args: ModelCompileArgs): void {
    const loc = currentUserLoc();
    if (!args || args.optimizer === undefined || args.loss === undefined) {
      throw new TfcError("TFC7096", "model.compile needs an optimizer and a loss, e.g. model.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']})", { loc });
    }
    if (this.outputs.length === 0) throw new TfcError("TFC5003", `model '${this.name}' has no known input shape: give its first layer an inputShape`, { loc });
    const lossIds = Array.isArray(args.loss) ? args.loss : this.outputs.map(() => args.loss as LossIdentifier);
    if (lossIds.length !== this.outputs.length) throw new TfcError("TFC7081", `model '${this.name}' has ${this.outputs.length} outputs but ${lossIds.length} losses were given`, { loc });
    const losses = lossIds.map((l) => getLoss(l));
    const lossNames = lossIds.map((l) => lossName(l) ?? (typeof l === "string" ? l : l.name || "loss"));
    const sparse = lossNames.map((n) => n === "sparseCategoricalCrossentropy");
    if (sparse.some((x) => x !== sparse[0])) throw new TfcError("TFC7081", "tfc trains multi-output models whose losses are all sparse or all dense", { loc });
    const metricIds = args.metrics === undefined ? [] : Array.isArray(args.metrics) ? args.metrics : [args.metrics];
    const metrics = metricIds.map((m) => getMetric(m, lossIds[0], this.outputs[0]!.irType.shape));
    this.trainingConfig = { optimizer: getOptimizer(args.optimizer), losses, sparseLabels: sparse[0]!, metrics, lossNames, metricNames: metrics.map((m) => m.name), compiledAt: loc };
    this.disposeSession();
  }

  private requireCompiled(what: string): NonNullable<LayersModel["trainingConfig"]> {
    if (!this.trainingConfig) {
      throw new TfcError("TFC7097", `call model.compile({optimizer, loss}) before model.${what}()`, { loc: currentUserLoc() });
    }
    return this.trainingConfig;
  }

  /** @internal The compiled training session on the current backend (built on first use; weights copied in). */
  async trainingSession(backend: Backend = getBackend()): Promise<TrainingSession> {
    const config = this.requireCompiled("fit");
    if (this.session?.backend !== backend) {
      this.disposeSession();
      this.session = { backend, session: await TrainingSession.create(this, config, backend) };
    }
    const session = this.session.session;
    // Weights may have changed since (setWeights, loading a checkpoint): the variables are the truth between calls.
    session.writeParams(new Map([...session.program.variables].map(([name, v]) => [name, v.host!.data])));
    return session;
  }

  private disposeSession(): void {
    this.session?.session.dispose();
    this.session = undefined;
  }

  /** @internal Tensors (or arrays) for fit/evaluate as flat arrays, checked against the model. */
  arrayData(x: TensorOrLike | TensorOrLike[], y: TensorOrLike | TensorOrLike[] | undefined, what: string): ArrayData {
    const loc = currentUserLoc();
    const config = this.requireCompiled(what);
    const xs = (this.inputs.length > 1 ? (x as TensorOrLike[]) : [x as TensorOrLike]).map((t, i) => convert(t, this.inputs[i]!.irType.dtype).concrete(what));
    if (xs.length !== this.inputs.length) throw new TfcError("TFC1010", `model '${this.name}' takes ${this.inputs.length} input(s), got ${xs.length}`, { loc });
    const n = xs[0]!.shape[0] ?? 0;
    xs.forEach((t, i) => {
      const want = this.inputs[i]!.irType.shape;
      if (t.shape.length !== want.length || want.some((d, k) => d !== BATCH && d !== t.shape[k]) || t.shape[0] !== n) {
        throw new TfcError("TFC1011", `${what}: input ${i} must have shape [${formatShape(want)}] with ${n} examples, got [${t.shape}]`, { loc });
      }
    });
    const ys: TypedArray[] = [];
    if (y !== undefined) {
      const list = (this.outputs.length > 1 ? (y as TensorOrLike[]) : [y as TensorOrLike]).map((t) => convert(t, "f32").concrete(what));
      if (list.length !== this.outputs.length) throw new TfcError("TFC7098", `model '${this.name}' has ${this.outputs.length} output(s) but ${list.length} label tensor(s) were given`, { loc });
      list.forEach((t, i) => {
        const out = this.outputs[i]!.irType.shape;
        const classes = out[out.length - 1]!;
        if (t.shape[0] !== n) throw new TfcError("TFC7098", `${what}: the labels hold ${t.shape[0]} examples but the inputs hold ${n}`, { loc });
        if (config.sparseLabels) {
          if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1))) {
            throw new TfcError("TFC7098", `${what}: sparseCategoricalCrossentropy takes one class index per example ([${n}] or [${n},1]), got labels of shape [${t.shape}]`, { loc });
          }
          const bad = t.data.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < classes));
          if (bad >= 0) throw new TfcError("TFC7098", `${what}: label ${bad} is ${t.data[bad]}, not a class index in [0, ${classes})`, { loc });
        } else if (t.shape.length !== out.length || out.some((d, k) => k > 0 && d !== t.shape[k])) {
          throw new TfcError("TFC7098", `${what}: labels of shape [${t.shape}] do not match the model's output [${formatShape(out)}]${t.shape.length === 1 && classes > 1 ? "; for class indices use loss 'sparseCategoricalCrossentropy' (or one-hot encode them)" : ""}`, { loc });
        }
        ys.push(t.data as Float32Array);
      });
    }
    return { xs: xs.map((t) => t.data), ys, n };
  }

  /** Train on tensors (TF.js's model.fit): compiled train_step on the current backend; returns a History. */
  async fit(x: TensorOrLike | TensorOrLike[], y: TensorOrLike | TensorOrLike[], args: ModelFitArgs = {}): Promise<History> {
    const loc = currentUserLoc();
    for (const key of Object.keys(args)) {
      if (!FIT_KEYS.includes(key)) throw new TfcError("TFC3002", `unknown fit option '${key}'`, { loc, notes: [`fit options are: ${FIT_KEYS.join(", ")}`] });
    }
    for (const key of ["classWeight", "sampleWeight", "stepsPerEpoch", "validationSteps"] as const) {
      if ((args as Record<string, unknown>)[key] !== undefined) throw new TfcError("TFC3010", `tfc does not support the fit option '${key}' (yet)`, { loc });
    }
    const train = this.arrayData(x, y, "fit");
    const validationData = args.validationData ? this.arrayData(args.validationData[0], args.validationData[1], "fit (validationData)") : undefined;
    const session = await this.trainingSession();
    const options: FitOptions = {
      ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
      ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      ...(args.shuffle !== undefined ? { shuffle: args.shuffle } : {}),
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args.validationSplit !== undefined ? { validationSplit: args.validationSplit } : {}),
      ...(validationData ? { validationData } : {}),
      ...(args.callbacks !== undefined ? { callbacks: args.callbacks } : {}),
      ...(args.verbose !== undefined ? { verbose: args.verbose } : {}),
      ...(args.initialEpoch !== undefined ? { initialEpoch: args.initialEpoch } : {}),
      ...(args.checkNumerics !== undefined ? { checkNumerics: args.checkNumerics } : {}),
    };
    try {
      return await session.fit(train, options);
    } catch (e) {
      if (e instanceof TfcError && !e.loc) e.at(loc);
      throw e;
    } finally {
      session.syncToVariables();
    }
  }

  /**
   * Train on a tf.data dataset of batches (TF.js's model.fitDataset): each element is
   * {xs, ys} (tensors, or arrays of tensors for several inputs/outputs), one step per element.
   */
  async fitDataset(
    dataset: { iterator(): Promise<{ next(): Promise<{ value: unknown; done: boolean }> }> },
    args: { epochs?: number; batchesPerEpoch?: number; validationData?: [TensorOrLike | TensorOrLike[], TensorOrLike | TensorOrLike[]] | { iterator(): Promise<{ next(): Promise<{ value: unknown; done: boolean }> }> }; callbacks?: CallbackArg | CallbackArg[]; verbose?: number; initialEpoch?: number; checkNumerics?: boolean } = {},
  ): Promise<History> {
    const loc = currentUserLoc();
    const session = await this.trainingSession();
    const toBatch = (value: unknown): ArrayData => {
      const v = value as { xs?: TensorOrLike | TensorOrLike[]; ys?: TensorOrLike | TensorOrLike[] };
      if (!v || typeof v !== "object" || v.xs === undefined || v.ys === undefined) {
        throw new TfcError("TFC7098", "fitDataset: each element of the dataset must be {xs, ys} (a batch of inputs and of labels; use dataset.batch(n))", { loc });
      }
      return this.arrayData(v.xs, v.ys, "fitDataset");
    };
    const walk = (ds: { iterator(): Promise<{ next(): Promise<{ value: unknown; done: boolean }> }> }, limit?: number) =>
      (async function* () {
        const it = await ds.iterator();
        for (let k = 0; limit === undefined || k < limit; k++) {
          const r = await it.next();
          if (r.done) return;
          yield toBatch(r.value);
        }
      })();
    const val = args.validationData;
    try {
      return await session.fitBatches(() => walk(dataset, args.batchesPerEpoch), {
        ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
        ...(args.callbacks !== undefined ? { callbacks: args.callbacks } : {}),
        ...(args.verbose !== undefined ? { verbose: args.verbose } : {}),
        ...(args.initialEpoch !== undefined ? { initialEpoch: args.initialEpoch } : {}),
        ...(args.checkNumerics !== undefined ? { checkNumerics: args.checkNumerics } : {}),
        ...(val === undefined ? {} : Array.isArray(val) ? { validationData: this.arrayData(val[0], val[1], "fitDataset (validationData)") } : { validationBatches: () => walk(val) }),
      });
    } finally {
      session.syncToVariables();
    }
  }

  /** Loss and metrics on tensors (TF.js's model.evaluate): a scalar, or [loss, ...metrics] when there are metrics. */
  async evaluateAsync(x: TensorOrLike | TensorOrLike[], y: TensorOrLike | TensorOrLike[], args: { batchSize?: number } = {}): Promise<Tensor | Tensor[]> {
    const data = this.arrayData(x, y, "evaluate");
    const session = await this.trainingSession();
    const values = session.evaluate(data, args.batchSize ?? 32).map((v) => Tensor.fromHost(hostTensor("f32", [], [v])));
    return values.length === 1 ? values[0]! : values;
  }

  /** TF.js's model.evaluate returns scalars synchronously; tfc's compiled evaluation needs `await` (use evaluateAsync or await this). */
  evaluate(x: TensorOrLike | TensorOrLike[], y: TensorOrLike | TensorOrLike[], args: { batchSize?: number } = {}): Promise<Tensor | Tensor[]> {
    return this.evaluateAsync(x, y, args);
  }

  /**
   * Save in TF.js's Layers format: `model.save('file://dir')` (or a directory path) writes
   * dir/model.json and the weights, atomically; includeOptimizer adds the optimizer state.
   */
  async save(handlerOrURL: string, config: { includeOptimizer?: boolean } = {}): Promise<SaveResult> {
    if (typeof handlerOrURL !== "string") {
      throw new TfcError("TFC3010", "tfc saves to a directory ('file://path' or a path); TF.js IOHandlers are not supported (yet)", { loc: currentUserLoc() });
    }
    const dir = handlerOrURL.replace(/^file:\/\//, "");
    if (config.includeOptimizer && this.trainingConfig) {
      return saveTraining(this, await this.trainingSession(this.session?.backend ?? getBackend()), dir);
    }
    return saveLayersModel(this, dir);
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
