// tf.train: TF.js's optimizers (sgd, momentum, adagrad, rmsprop, adam, adamax, adadelta) with
// tfjs-core 4.x's update formulas and defaults, and tfjs-layers' string names for model.compile.
// Every update is tf ops ending in assignVariable, so applyGradients runs eagerly and, inside a
// traced training step, records `@param` updates of the weights and of the optimizer's state.
//
// State (Adam's m and v, …) lives in non-trainable Variables made on a variable's first update and
// named as TF.js names its optimizer weights: `${variable.name}/${slot}` (`dense/kernel/m`). Adam
// and Adamax also keep their step count in a float32 scalar Variable `${className}/iter`, so a
// compiled step computes its bias correction from the step it is at, not from the step it was
// traced at. Hyperparameters are JS numbers, folded into the traced step as constants.

import { Module, type Initializer } from "../../ir/ir.js";
import { TfcError, closest } from "../../ir/errors.js";
import type { HostTensor } from "../../ir/tensor.js";
import { currentUserLoc } from "../frontend/location.js";
import { paramDeclarer } from "../frontend/trace.js";
import { TraceContext, assignVariable, executingEagerly, withContext } from "./context.js";
import { variableGrads } from "./grad.js";
import { Tensor, Variable } from "./tensor.js";
import { abs, add, div, maximum, mul, pow, scalar, sqrt, square, sub } from "./ops.js";

/** ENGINE.backend.epsilon() of TF.js's float32 backends: the default epsilon of every optimizer. */
const BACKEND_EPSILON = 1e-7;

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}
export type NamedTensorMap = Record<string, Tensor>;
/** Gradients by variable name (TF.js's two forms), or by the variable itself. */
export type VariableGradients = NamedTensorMap | NamedTensor[] | Map<Variable, Tensor>;

/** One state variable kept per updated variable: its name suffix and initial value. */
interface SlotSpec {
  readonly suffix: string;
  readonly init: Initializer;
}

/** A variable to update, its gradient, and its state variables in SlotSpec order. */
interface SlotUpdate {
  readonly value: Variable;
  readonly gradient: Tensor;
  readonly slots: readonly Variable[];
}

function fail(code: string, message: string, notes?: string[]): never {
  const loc = currentUserLoc();
  throw new TfcError(code, message, { ...(loc ? { loc } : {}), ...(notes ? { notes } : {}) });
}

const describeType = (t: Tensor): string => `${t.dtype}[${t.shape}]`;

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `a ${typeof x} (${String(x)})`;
}

function checkNumber(where: string, what: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) fail("TFC7063", `${where}: ${what} must be a finite number, got ${describe(x)}`);
  return x;
}

const scalarVariable = (name: string): Variable => new Variable({ dtype: "f32", shape: [] }, { kind: "zeros" }, name, false);

/**
 * The variables `f` reads, found by tracing it into a throwaway function: no values are computed.
 * Inside an enclosing trace, the enclosing function's tensors are captured as tf.grad does it.
 */
function variablesRead(f: () => Tensor): Variable[] {
  const module = new Module();
  const read = new Map<Variable, string>();
  const trace = new TraceContext(module, "variables_read", paramDeclarer(module, read));
  trace.captureForeign = !executingEagerly();
  withContext(trace, f);
  return [...read.keys()];
}

/**
 * f()'s value and the gradient of each trainable variable it reads (or of those in varList),
 * keyed by the variables themselves — what minimize needs to find the variables to update.
 */
export function variableGradsByVariable(f: () => Tensor, varList?: Variable[]): { value: Tensor; grads: Map<Variable, Tensor> } {
  const candidates = (varList ?? variablesRead(f)).filter((v) => v instanceof Variable && v.trainable);
  if (candidates.length === 0) {
    fail(
      "TFC7067",
      varList
        ? `minimize: none of the ${varList.length} variable(s) in varList is trainable, so there is nothing to update`
        : "minimize: f() reads no trainable variable, so there is nothing to update",
    );
  }
  const { value, grads } = variableGrads(f, candidates);
  if (value.rank !== 0) fail("TFC7066", `minimize: f() must return a scalar loss, got a ${describeType(value)} tensor; reduce it, e.g. with tf.mean`);
  const byVariable = new Map<Variable, Tensor>();
  for (const v of candidates) {
    const g = grads[v.name];
    if (g) byVariable.set(v, g);
  }
  if (byVariable.size === 0) fail("TFC7067", `minimize: f() reads none of the variables in varList (${candidates.map((v) => `'${v.name}'`).join(", ")})`);
  return { value, grads: byVariable };
}

/** tf.Optimizer: applies gradients to variables, keeping per-variable state in Variables. */
export abstract class Optimizer {
  private iterationCount = 0;
  /** Variables this optimizer has been given, by name (null: two variables share the name). */
  private readonly byName = new Map<string, Variable | null>();
  /** State variables of each variable updated so far, in first-update order. */
  private readonly slots = new Map<Variable, Variable[]>();
  /** Values from setWeights for state variables not made yet, by state-variable name. */
  private readonly restored = new Map<string, HostTensor>();

  /** The state kept per variable, in TF.js's getWeights order. */
  protected abstract slotSpecs(): readonly SlotSpec[];

  /** Hyperparameters are plain finite numbers (they are folded into the compiled step). */
  protected checked(what: string, x: unknown): number {
    return checkNumber(`tf.train.${this.getClassName().toLowerCase()}`, what, x);
  }

  /** The name TF.js serializes this optimizer under ('Adam', 'SGD', …). */
  static readonly className: string = "Optimizer";
  getClassName(): string {
    return (this.constructor as typeof Optimizer).className;
  }
  /** The constructor arguments, under TF.js's keys. */
  abstract getConfig(): Record<string, number | boolean>;

  /** Steps applied eagerly (a trace records a step, it does not take one). */
  get iterations(): number {
    return this.iterationCount;
  }

  /** The updates of one step, given each variable's gradient and state variables. */
  protected abstract update(updates: readonly SlotUpdate[]): void;

  /** Called by setWeights with the restored iteration count. */
  protected restoreIterations(_iterations: number): void {}

  /**
   * Compute the gradients of f() (a scalar loss) with respect to the trainable variables it reads,
   * or to those in varList, and apply them. Returns the loss if returnCost, else null.
   */
  minimize(f: () => Tensor, returnCost = false, varList?: Variable[]): Tensor | null {
    const { value, grads } = variableGradsByVariable(f, varList);
    this.applyGradients(grads);
    return returnCost ? value : null;
  }

  /** tf.variableGrads for this optimizer: the variables are remembered, so the result can be applied by name. */
  computeGradients(f: () => Tensor, varList?: Variable[]): { value: Tensor; grads: NamedTensorMap } {
    const { value, grads } = variableGradsByVariable(f, varList);
    const named: NamedTensorMap = {};
    for (const [v, g] of grads) named[this.remember(v).name] = g;
    return { value, grads: named };
  }

  /**
   * Update each variable from its gradient. Gradients given by name must name variables this
   * optimizer knows (from minimize, computeGradients or an earlier Map); a null gradient is skipped.
   */
  applyGradients(variableGradients: VariableGradients): void {
    const updates = this.resolve(variableGradients).map(([value, gradient]) => ({ value, gradient, slots: this.slotsOf(value) }));
    this.update(updates);
    if (executingEagerly()) this.iterationCount++;
  }

  /** Optimizer state for checkpoints: the iteration count ('iter', int32), then each kind of state variable for every variable in turn, as TF.js orders them. */
  async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [{ name: "iter", tensor: scalar(this.iterationCount, "int32") }];
    this.slotSpecs().forEach((_, k) => {
      for (const slots of this.slots.values()) weights.push({ name: slots[k]!.name, tensor: Tensor.fromHost(slots[k]!.concrete("getWeights")) });
    });
    return weights;
  }

  /** Restore getWeights()'s list: the iteration count first, then state variables by name (made on their variable's first update if not yet). */
  async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const [iter, ...rest] = weightValues;
    if (!iter) fail("TFC7065", `setWeights: expected the iteration count ('iter') first, got an empty list`);
    const suffixes = this.slotSpecs().map((s) => s.suffix);
    for (const { name } of rest) {
      const slash = name.lastIndexOf("/");
      if (slash < 0 || !suffixes.includes(name.slice(slash + 1))) {
        const expected = suffixes.length === 0 ? "it keeps no state besides 'iter'" : `its weights are named '<variable>/${suffixes.join("' or '<variable>/")}'`;
        fail("TFC7065", `setWeights: '${name}' is not a ${this.getClassName()} optimizer weight: ${expected}`);
      }
    }
    this.iterationCount = iter.tensor.concrete("setWeights").data[0]!;
    this.restoreIterations(this.iterationCount);
    for (const { name, tensor } of rest) {
      const existing = [...this.slots.values()].flat().find((s) => s.name === name);
      if (existing) existing.assign(tensor);
      else this.restored.set(name, tensor.concrete("setWeights"));
    }
  }

  /** TF.js API; tfc's tensors need no disposing. */
  dispose(): void {}

  private remember(v: Variable): Variable {
    const known = this.byName.get(v.name);
    this.byName.set(v.name, known === undefined || known === v ? v : null);
    return v;
  }

  private lookup(name: string): Variable {
    const v = this.byName.get(name) ?? (this.byName.has(name) ? null : Variable.named(name));
    if (v) return this.remember(v);
    if (v === null) fail("TFC7060", `applyGradients: two variables named '${name}' were given to this optimizer, so a gradient by name is ambiguous; pass a Map from each tf.Variable to its gradient`);
    const known = [...this.byName.keys()];
    const near = closest(name, known);
    fail("TFC7060", `applyGradients: got a gradient for '${name}', but no variable of that name is known to this optimizer`, [
      ...(near ? [`did you mean '${near}'?`] : known.length > 0 ? [`known variables: ${known.map((n) => `'${n}'`).join(", ")}`] : []),
      "tfc has no global variable registry: pass a Map from each tf.Variable to its gradient (new Map([[w, grads['w']]])), or let optimizer.minimize(f) or optimizer.computeGradients(f) find the variables",
    ]);
  }

  /** The (variable, gradient) pairs to apply, checked; null gradients are skipped as in TF.js. */
  private resolve(grads: VariableGradients): [Variable, Tensor][] {
    if (grads === null || typeof grads !== "object") fail("TFC7062", `applyGradients: expected gradients by variable name or a Map from variable to gradient, got ${describe(grads)}`);
    const entries: [Variable | string, unknown][] =
      grads instanceof Map ? [...grads] : Array.isArray(grads) ? grads.map((g: NamedTensor) => [g?.name, g?.tensor]) : Object.entries(grads);
    const pairs: [Variable, Tensor][] = [];
    for (const [key, g] of entries) {
      if (g === null || g === undefined) continue;
      let v: Variable;
      if (key instanceof Variable) v = this.remember(key);
      else if (typeof key === "string") v = this.lookup(key);
      else fail("TFC7062", `applyGradients: gradients are keyed by tf.Variable or by its name, got a key that is ${describe(key)}`);
      if (!(g instanceof Tensor)) fail("TFC7062", `applyGradients: the gradient for variable '${v.name}' is ${describe(g)}, not a tensor`);
      if (v.irType.dtype !== "f32") fail("TFC7068", `applyGradients: variable '${v.name}' is ${describeType(v)}; optimizers update float32 variables`);
      if (g.irType.dtype !== v.irType.dtype || g.rank !== v.rank || g.shape.some((d, i) => d !== v.shape[i])) {
        fail("TFC7061", `applyGradients: the gradient for variable '${v.name}' is ${describeType(g)}, but the variable is ${describeType(v)}; a gradient must have its variable's shape and dtype`);
      }
      pairs.push([v, g]);
    }
    return pairs;
  }

  /** v's state variables, made on its first update (from setWeights' values if it gave them). */
  private slotsOf(v: Variable): Variable[] {
    let slots = this.slots.get(v);
    if (!slots) {
      slots = this.slotSpecs().map((spec) => {
        const name = `${v.name}/${spec.suffix}`;
        const saved = this.restored.get(name);
        if (saved && (saved.dtype !== v.irType.dtype || saved.shape.length !== v.rank || saved.shape.some((d, i) => d !== v.shape[i]))) {
          fail("TFC7065", `setWeights gave '${name}' the shape [${saved.shape}], but variable '${v.name}' is ${describeType(v)}`);
        }
        this.restored.delete(name);
        return new Variable(v.irType, saved ? { kind: "data", tensor: saved } : spec.init, name, false);
      });
      this.slots.set(v, slots);
    }
    return slots;
  }
}

const zeros: Initializer = { kind: "zeros" };

/** Plain gradient descent: value += -lr · g. */
export class SGDOptimizer extends Optimizer {
  static override readonly className: string = "SGD";
  protected learningRate: number;

  constructor(learningRate: number) {
    super();
    this.learningRate = this.checked("learningRate", learningRate);
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [];
  }
  /** Takes effect in steps applied or traced from now on. */
  setLearningRate(learningRate: number): void {
    this.learningRate = this.checked("learningRate", learningRate);
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate };
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    for (const { value, gradient } of updates) assignVariable(value, add(mul(-this.learningRate, gradient), value));
  }
}

/** SGD with momentum: a ← m·a + g; value += -lr · a (Nesterov: value += -lr · (g + m·a)). */
export class MomentumOptimizer extends SGDOptimizer {
  static override readonly className: string = "Momentum";
  private momentum: number;

  constructor(learningRate: number, momentum: number, private readonly useNesterov = false) {
    super(learningRate);
    this.momentum = this.checked("momentum", momentum);
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [{ suffix: "momentum", init: zeros }];
  }
  setMomentum(momentum: number): void {
    this.momentum = this.checked("momentum", momentum);
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, momentum: this.momentum, useNesterov: this.useNesterov };
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    const c = -this.learningRate;
    for (const { value, gradient, slots: [accumulation] } of updates) {
      const newAccumulation = add(mul(this.momentum, accumulation!), gradient);
      const newValue = this.useNesterov ? add(mul(c, add(gradient, mul(newAccumulation, this.momentum))), value) : add(mul(c, newAccumulation), value);
      assignVariable(accumulation!, newAccumulation);
      assignVariable(value, newValue);
    }
  }
}

/** Adagrad: a ← a + g²; value += -lr · g / √(a + ε), ε the backend epsilon. */
export class AdagradOptimizer extends Optimizer {
  static override readonly className: string = "Adagrad";
  private readonly learningRate: number;
  private readonly initialAccumulatorValue: number;

  constructor(learningRate: number, initialAccumulatorValue = 0.1) {
    super();
    this.learningRate = this.checked("learningRate", learningRate);
    this.initialAccumulatorValue = this.checked("initialAccumulatorValue", initialAccumulatorValue);
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [{ suffix: "accumulator", init: { kind: "constant", value: this.initialAccumulatorValue } }];
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, initialAccumulatorValue: this.initialAccumulatorValue };
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    for (const { value, gradient, slots: [accumulated] } of updates) {
      const newAccumulated = add(accumulated!, square(gradient));
      assignVariable(accumulated!, newAccumulated);
      assignVariable(value, add(mul(div(gradient, sqrt(add(newAccumulated, BACKEND_EPSILON))), -this.learningRate), value));
    }
  }
}

/**
 * RMSProp: s ← ρ·s + (1-ρ)·g²; mom ← μ·mom + lr·g / √(s + ε); value -= mom. Centered, with
 * mg ← ρ·mg + (1-ρ)·g, the denominator is √(s - (mg² + ε)) — TF.js subtracts ε there, and so do we.
 */
export class RMSPropOptimizer extends Optimizer {
  static override readonly className: string = "RMSProp";
  private readonly learningRate: number;
  private readonly decay: number;
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly centered: boolean;

  constructor(learningRate: number, decay = 0.9, momentum = 0, epsilon: number | null = null, centered = false) {
    super();
    this.learningRate = this.checked("learningRate", learningRate);
    this.decay = this.checked("decay", decay);
    this.momentum = this.checked("momentum", momentum);
    this.epsilon = epsilon ?? BACKEND_EPSILON;
    this.checked("epsilon", this.epsilon);
    this.centered = centered;
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [{ suffix: "rms", init: zeros }, { suffix: "momentum", init: zeros }, ...(this.centered ? [{ suffix: "mg", init: zeros }] : [])];
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, decay: this.decay, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    for (const { value, gradient, slots: [meanSquare, moments, meanGrad] } of updates) {
      const newMeanSquare = add(mul(meanSquare!, this.decay), mul(square(gradient), 1 - this.decay));
      let denominator: Tensor;
      if (this.centered) {
        const newMeanGrad = add(mul(meanGrad!, this.decay), mul(gradient, 1 - this.decay));
        denominator = sqrt(sub(newMeanSquare, add(square(newMeanGrad), this.epsilon)));
        assignVariable(meanGrad!, newMeanGrad);
      } else {
        denominator = sqrt(add(newMeanSquare, this.epsilon));
      }
      const newMoments = add(mul(moments!, this.momentum), div(mul(gradient, this.learningRate), denominator));
      assignVariable(meanSquare!, newMeanSquare);
      assignVariable(moments!, newMoments);
      assignVariable(value, sub(value, newMoments));
    }
  }
}

/**
 * Adam at step t = iter + 1: m ← β₁·m + (1-β₁)·g; v ← β₂·v + (1-β₂)·g²;
 * value += -lr · (m / (1-β₁ᵗ)) / (√(v / (1-β₂ᵗ)) + ε).
 */
export class AdamOptimizer extends Optimizer {
  static override readonly className: string = "Adam";
  private readonly learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  /** Steps taken, a float32 scalar: βᵗ is computed from it in the compiled step. */
  private readonly step: Variable;

  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super();
    this.learningRate = this.checked("learningRate", learningRate);
    this.beta1 = this.checked("beta1", beta1);
    this.beta2 = this.checked("beta2", beta2);
    this.epsilon = epsilon ?? BACKEND_EPSILON;
    this.checked("epsilon", this.epsilon);
    this.step = scalarVariable(`${this.getClassName()}/iter`);
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [{ suffix: "m", init: zeros }, { suffix: "v", init: zeros }];
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
  protected override restoreIterations(iterations: number): void {
    this.step.assign(scalar(iterations));
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    const t = add(this.step, 1);
    const oneMinusAccBeta1 = sub(1, pow(this.beta1, t));
    const oneMinusAccBeta2 = sub(1, pow(this.beta2, t));
    for (const { value, gradient, slots: [firstMoment, secondMoment] } of updates) {
      const newFirstMoment = add(mul(firstMoment!, this.beta1), mul(gradient, 1 - this.beta1));
      const newSecondMoment = add(mul(secondMoment!, this.beta2), mul(square(gradient), 1 - this.beta2));
      const biasCorrectedFirstMoment = div(newFirstMoment, oneMinusAccBeta1);
      const biasCorrectedSecondMoment = div(newSecondMoment, oneMinusAccBeta2);
      assignVariable(firstMoment!, newFirstMoment);
      assignVariable(secondMoment!, newSecondMoment);
      assignVariable(value, add(mul(div(biasCorrectedFirstMoment, add(sqrt(biasCorrectedSecondMoment), this.epsilon)), -this.learningRate), value));
    }
    assignVariable(this.step, t);
  }
}

/**
 * Adamax at step t = iter + 1: m ← β₁·m + (1-β₁)·g; u ← max(β₂·u, |g|);
 * value += (-lr / (1 + decay·iter)) / (1-β₁ᵗ) · m / (u + ε).
 */
export class AdamaxOptimizer extends Optimizer {
  static override readonly className: string = "Adamax";
  private readonly learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly decay: number;
  private readonly step: Variable;

  constructor(learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null, decay = 0) {
    super();
    this.learningRate = this.checked("learningRate", learningRate);
    this.beta1 = this.checked("beta1", beta1);
    this.beta2 = this.checked("beta2", beta2);
    this.epsilon = epsilon ?? BACKEND_EPSILON;
    this.checked("epsilon", this.epsilon);
    this.decay = this.checked("decay", decay);
    this.step = scalarVariable(`${this.getClassName()}/iter`);
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [{ suffix: "m", init: zeros }, { suffix: "v", init: zeros }];
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, decay: this.decay };
  }
  protected override restoreIterations(iterations: number): void {
    this.step.assign(scalar(iterations));
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    const oneMinusAccBeta1 = sub(1, pow(this.beta1, add(this.step, 1)));
    const lr = div(-this.learningRate, add(mul(this.step, this.decay), 1));
    for (const { value, gradient, slots: [firstMoment, weightedInfNorm] } of updates) {
      const newFirstMoment = add(mul(firstMoment!, this.beta1), mul(gradient, 1 - this.beta1));
      const newWeightedInfNorm = maximum(mul(weightedInfNorm!, this.beta2), abs(gradient));
      assignVariable(firstMoment!, newFirstMoment);
      assignVariable(weightedInfNorm!, newWeightedInfNorm);
      assignVariable(value, add(mul(div(lr, oneMinusAccBeta1), div(newFirstMoment, add(newWeightedInfNorm, this.epsilon))), value));
    }
    assignVariable(this.step, add(this.step, 1));
  }
}

/**
 * Adadelta: Δ = √(accum_var + ε) / √(accum_grad + ε) · g, from the accumulators before this step
 * (as TF.js computes it); accum_grad ← ρ·accum_grad + (1-ρ)·g²; accum_var ← ρ·accum_var + (1-ρ)·Δ²;
 * value += -lr · Δ.
 */
export class AdadeltaOptimizer extends Optimizer {
  static override readonly className: string = "Adadelta";
  private readonly learningRate: number;
  private readonly rho: number;
  private readonly epsilon: number;

  constructor(learningRate = 0.001, rho = 0.95, epsilon: number | null = null) {
    super();
    this.learningRate = this.checked("learningRate", learningRate);
    this.rho = this.checked("rho", rho);
    this.epsilon = epsilon ?? BACKEND_EPSILON;
    this.checked("epsilon", this.epsilon);
  }
  protected override slotSpecs(): readonly SlotSpec[] {
    return [{ suffix: "accum_grad", init: zeros }, { suffix: "accum_var", init: zeros }];
  }
  override getConfig(): Record<string, number | boolean> {
    return { learningRate: this.learningRate, rho: this.rho, epsilon: this.epsilon };
  }
  protected override update(updates: readonly SlotUpdate[]): void {
    for (const { value, gradient, slots: [accumulatedGrad, accumulatedUpdate] } of updates) {
      const newAccumulatedGrad = add(mul(accumulatedGrad!, this.rho), mul(square(gradient), 1 - this.rho));
      const updateStep = mul(div(sqrt(add(accumulatedUpdate!, this.epsilon)), sqrt(add(accumulatedGrad!, this.epsilon))), gradient);
      const newAccumulatedUpdate = add(mul(accumulatedUpdate!, this.rho), mul(square(updateStep), 1 - this.rho));
      assignVariable(accumulatedGrad!, newAccumulatedGrad);
      assignVariable(accumulatedUpdate!, newAccumulatedUpdate);
      assignVariable(value, add(mul(updateStep, -this.learningRate), value));
    }
  }
}

// tf.train.*, with tfjs-core's signatures and defaults.
export const sgd = (learningRate: number): SGDOptimizer => new SGDOptimizer(learningRate);
export const momentum = (learningRate: number, momentum: number, useNesterov = false): MomentumOptimizer => new MomentumOptimizer(learningRate, momentum, useNesterov);
export const adagrad = (learningRate: number, initialAccumulatorValue = 0.1): AdagradOptimizer => new AdagradOptimizer(learningRate, initialAccumulatorValue);
export const rmsprop = (learningRate: number, decay = 0.9, momentum = 0, epsilon: number | null = null, centered = false): RMSPropOptimizer =>
  new RMSPropOptimizer(learningRate, decay, momentum, epsilon, centered);
export const adam = (learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null): AdamOptimizer => new AdamOptimizer(learningRate, beta1, beta2, epsilon);
export const adamax = (learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null, decay = 0): AdamaxOptimizer =>
  new AdamaxOptimizer(learningRate, beta1, beta2, epsilon, decay);
export const adadelta = (learningRate = 0.001, rho = 0.95, epsilon: number | null = null): AdadeltaOptimizer => new AdadeltaOptimizer(learningRate, rho, epsilon);

export const train = { sgd, momentum, adagrad, rmsprop, adam, adamax, adadelta };

/** model.compile's optimizer names, with tfjs-layers' getOptimizer defaults (epsilon: the backend's). */
const OPTIMIZERS_BY_NAME: Record<string, () => Optimizer> = {
  Adagrad: () => adagrad(0.01),
  Adadelta: () => adadelta(1, 0.95, BACKEND_EPSILON),
  Adam: () => adam(0.001, 0.9, 0.999, BACKEND_EPSILON),
  Adamax: () => adamax(0.002, 0.9, 0.999, BACKEND_EPSILON, 0),
  RMSProp: () => rmsprop(0.001, 0.9, 0, BACKEND_EPSILON),
  SGD: () => sgd(0.01),
};
for (const name of Object.keys(OPTIMIZERS_BY_NAME)) OPTIMIZERS_BY_NAME[name.toLowerCase()] = OPTIMIZERS_BY_NAME[name]!;

/** An optimizer from model.compile's `optimizer` option: a name tfjs-layers knows, or an optimizer. */
export function getOptimizer(identifier: string | Optimizer): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  if (typeof identifier === "string" && Object.hasOwn(OPTIMIZERS_BY_NAME, identifier)) return OPTIMIZERS_BY_NAME[identifier]!();
  const names = Object.keys(OPTIMIZERS_BY_NAME).filter((n) => n === n.toLowerCase());
  const near = typeof identifier === "string" ? closest(identifier, names) : undefined;
  fail("TFC7064", `unknown optimizer ${typeof identifier === "string" ? `'${identifier}'` : describe(identifier)}`, [
    ...(near ? [`did you mean '${near}'?`] : []),
    `optimizer names: ${names.map((n) => `'${n}'`).join(", ")}; or pass an optimizer, e.g. tf.train.momentum(0.01, 0.9)`,
  ]);
}
