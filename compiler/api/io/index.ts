// tf.io's checkpoint half: TF.js Layers checkpoints (model.json + weights binary) that tfc and
// TF.js both read and write. models.ts wires `model.save` and `tf.loadLayersModel` to these.

export { saveLayersModel, loadLayersModel, loadLayersModelWithExtras, loadWeightsInto, readCheckpoint, nodeFileOps } from "./files.js";
export type { SaveOptions, SaveResult, Checkpoint, CheckpointExtras, FileOps } from "./files.js";
export { modelToJSON, modelFromJSON, SUPPORTED_LAYER_CLASSES, TFC_VERSION } from "./layers-format.js";
export { encodeWeights, decodeWeights, assignWeights, modelWeights } from "./weights.js";
export type { WeightSpec, NamedTensor, NamedHostTensor } from "./weights.js";
export type { LayerConfig, ConfigDict, ConfigValue } from "./keras-objects.js";
