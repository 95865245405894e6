// The tutorial's three-layer network: 4 → 32 → 16 (ReLU) → 1 (sigmoid), compiled with Adam and
// binary cross-entropy.
//   npx tfc run examples/neural-network.ts        # trains on a synthetic rule, 5 epochs
import * as tf from "tfc";

const model = tf.sequential();
model.add(tf.layers.dense({ units: 32, inputShape: [4] }));
model.add(tf.layers.dense({ units: 16, activation: "relu" }));
model.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));
model.compile({ optimizer: "adam", loss: "binaryCrossentropy", metrics: ["accuracy"] });

/** `model.fit(X_train, y_train, epochs=5)`: the label is whether the features sum past 2. */
export async function main(): Promise<void> {
  const X = tf.randomUniform([1000, 4]);
  const y = tf.cast(tf.greater(tf.sum(X, 1, true), 2), "float32");
  const history = await model.fit(X, y, { epochs: 5, verbose: 1, validationSplit: 0.2 });
  console.log(`final accuracy ${history.history["acc"]!.at(-1)!.toFixed(3)}, validation ${history.history["val_acc"]!.at(-1)!.toFixed(3)}`);
}

export default model;
