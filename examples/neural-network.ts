// The tutorial's three-layer network: 4 → 32 → 16 (ReLU) → 1 (sigmoid).
import * as tf from "tfc";

const model = tf.sequential();
model.add(tf.layers.dense({ units: 32, inputShape: [4] }));
model.add(tf.layers.dense({ units: 16, activation: "relu" }));
model.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));

export default model;
