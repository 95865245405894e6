// A small convolutional network for 28×28 grayscale digits:
// Conv2D(32, 3×3, relu) → MaxPooling2D(2) → Flatten → Dense(10, softmax).
//   npx tfc compile examples/mnist-cnn.ts --emit ir
//   npx tfc train examples/mnist-cnn.ts --data mnist --epochs 4 --batch-size 64
import * as tf from "tfc";

const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: "relu" }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 10, activation: "softmax" }));

model.compile({ optimizer: tf.train.adam(0.001), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });

export default model;
