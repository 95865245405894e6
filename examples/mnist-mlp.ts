// An MLP for MNIST digits (784-512-512-10), trained with Adam:
//   npx tfc train examples/mnist-mlp.ts --data mnist --epochs 2 --batch-size 64
// The TensorFlow tutorial's Keras MLP, in TF.js's spelling.
import * as tf from "tfc";

const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 512, activation: "relu", inputShape: [784] }),
    tf.layers.dense({ units: 512, activation: "relu" }),
    tf.layers.dense({ units: 10, activation: "softmax" }),
  ],
});

model.compile({ optimizer: tf.train.adam(0.001), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });

export default model;
