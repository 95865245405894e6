// Training checkpoints: a TF.js Layers directory (model.json + weights, written atomically by
// io/files.ts) holding the model's weights, the optimizer state in the "optimizer" group (by
// parameter name: `dense/kernel/m`, `Adam/iter`, …) and, in userDefinedMetadata.tfc, the epochs
// done and the shuffle seed — everything needed to continue exactly where training stopped.

import { TfcError } from "../../ir/errors.js";
import { hostTensor } from "../../ir/tensor.js";
import type { LayersModel } from "../api/models.js";
import { Tensor } from "../api/tensor.js";
import { saveLayersModel, loadWeightsInto, type SaveResult } from "../api/io/files.js";
import type { TrainingSession } from "./session.js";
import { SEED_PARAM } from "./step.js";

export interface TrainingState {
  /** The last epoch the checkpoint holds (0-based), or -1. */
  epoch: number;
  /** Seed of the per-epoch shuffles. */
  seed: number;
}

/** What userDefinedMetadata.tfc holds: the state plus the step seed (dropout) when the model has one. */
interface StoredState extends TrainingState {
  stepSeed?: number;
}

/** The session's optimizer state (every parameter that is not a model weight), as named tensors. */
function optimizerState(model: LayersModel, session: TrainingSession): { name: string; tensor: Tensor }[] {
  const weights = new Set([...model.weights.map((w) => w.name), SEED_PARAM]);
  return [...session.readParams()]
    .filter(([name]) => !weights.has(name))
    .map(([name, data]) => {
      const v = session.program.variables.get(name)!;
      return { name, tensor: Tensor.fromHost(hostTensor(v.irType.dtype, [...v.irType.shape], data)) };
    });
}

/** Save the session's weights (into the model's variables first) and optimizer state. */
export async function saveTraining(model: LayersModel, session: TrainingSession, dir: string, state?: TrainingState): Promise<SaveResult> {
  session.syncToVariables();
  const config = model.trainingConfig!;
  const opt = config.optimizer;
  const weights = optimizerState(model, session);
  const stepSeed = session.readParams().get(SEED_PARAM)?.[0];
  const stored: StoredState | undefined = state ? { ...state, ...(stepSeed !== undefined ? { stepSeed } : {}) } : undefined;
  return saveLayersModel(model, dir, {
    optimizer: { getClassName: () => opt.getClassName(), getConfig: () => opt.getConfig(), getWeights: () => weights },
    loss: config.lossNames[0]!,
    metrics: config.metricNames,
    ...(stored ? { userDefinedMetadata: { tfc: stored } } : {}),
  });
}

/**
 * Load a checkpoint into the model's variables and the session's optimizer state; the model must
 * have the checkpoint's architecture and optimizer (else nothing is changed and the error says why).
 */
export async function restoreTraining(model: LayersModel, session: TrainingSession, dir: string): Promise<TrainingState> {
  const extras = await loadWeightsInto(model, dir);
  const values = new Map(model.weights.map((w) => [w.name, w.host!.data]));
  const opt = model.trainingConfig!.optimizer.getClassName();
  for (const t of extras.optimizerWeights ?? []) {
    if (!session.program.variables.has(t.name)) {
      throw new TfcError("TFC7021", `checkpoint ${dir} holds optimizer state '${t.name}', which this model's ${opt} optimizer does not have (was it trained with another optimizer?)`);
    }
    values.set(t.name, t.tensor.dataSync());
  }
  const meta = (extras.userDefinedMetadata as { tfc?: Partial<StoredState> } | undefined)?.tfc;
  if (meta?.stepSeed !== undefined && session.program.variables.has(SEED_PARAM)) values.set(SEED_PARAM, Int32Array.of(meta.stepSeed));
  session.writeParams(values);
  session.syncToVariables();
  return { epoch: meta?.epoch ?? -1, seed: meta?.seed ?? 0 };
}
