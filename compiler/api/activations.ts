// Activation functions by TF.js identifier ('relu', 'softmax', …), as layer configs name them.
// Keras spellings ('hard_sigmoid') are accepted with a hint; unknown names get "did you mean".

import { TfcError, closest } from "../../ir/errors.js";
import { currentUserLoc } from "../frontend/location.js";
import { warn } from "./warnings.js";
import type { Tensor } from "./tensor.js";
import * as ops from "./ops.js";

const ACTIVATIONS = {
  linear: (x: Tensor) => x,
  relu: ops.relu,
  relu6: ops.relu6,
  elu: ops.elu,
  selu: ops.selu,
  sigmoid: ops.sigmoid,
  hardSigmoid: (x: Tensor) => ops.maximum(0, ops.minimum(1, ops.add(ops.mul(x, 0.2), 0.5))),
  tanh: ops.tanh,
  softmax: (x: Tensor) => ops.softmax(x, -1),
  softplus: ops.softplus,
  softsign: ops.softsign,
  swish: (x: Tensor) => ops.mul(x, ops.sigmoid(x)),
  mish: (x: Tensor) => ops.mul(x, ops.tanh(ops.softplus(x))),
  gelu: (x: Tensor) => ops.gelu(x, false),
  gelu_new: (x: Tensor) => ops.gelu(x, true),
} as const;

export type ActivationIdentifier = keyof typeof ACTIVATIONS;

const KERAS_ALIASES: Record<string, ActivationIdentifier> = { hard_sigmoid: "hardSigmoid", None: "linear" };

export function getActivation(name: string | undefined | null): (x: Tensor) => Tensor {
  if (name === undefined || name === null) return ACTIVATIONS.linear;
  if (Object.prototype.hasOwnProperty.call(ACTIVATIONS, name)) return ACTIVATIONS[name as ActivationIdentifier];
  const alias = KERAS_ALIASES[name];
  if (alias) {
    warn("TFC3101", `activation '${name}' is the Keras spelling; tfc uses TF.js's '${alias}'`);
    return ACTIVATIONS[alias];
  }
  const hint = closest(name, Object.keys(ACTIVATIONS));
  throw new TfcError("TFC3002", `unknown activation '${name}'`, {
    loc: currentUserLoc(),
    notes: hint ? [`did you mean '${hint}'?`] : [`activations are: ${Object.keys(ACTIVATIONS).join(", ")}`],
  });
}
