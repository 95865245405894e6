// Tensors, variables and a graph, as in the tutorial's "Core TensorFlow Concepts":
// two 2×3 constant tensors, variables W and b drawn from a normal distribution, and a
// tf.function (the graph) computing x·W + b. Variables become the module's parameters.
//   npx tfc compile examples/tensors-and-variables.ts --emit ir
//   npx tfc compile examples/tensors-and-variables.ts --export sumOfConstants --emit ir
import * as tf from "tfc";

const tensorOne = tf.constant([[1, 2, 3], [4, 5, 6]]);
const tensorTwo = tf.constant([[7, 8, 9], [10, 11, 12]]);

const W = tf.variable(tf.randomNormal([2, 3]), true, "W");
const b = tf.variable(tf.randomNormal([3]), true, "b");

/** The affine map x·W + b over a batch of 2-vectors. */
export default tf.function((x: tf.Tensor) => tf.add(tf.matMul(x, W), b), {
  inputSignature: [tf.tensorSpec([null, 2], "float32", "x")],
});

/** Constant tensors fold away at compile time: the result is a single constant. */
export const sumOfConstants = tf.function(() => tf.add(tensorOne, tensorTwo));
