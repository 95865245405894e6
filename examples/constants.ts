// The tutorial's first graph: two constants and their sum. In TensorFlow 1 this ran in a
// tf.Session; in tfc the tf.function is the graph and the compiled artifact is the session.
//   npx tfc predict examples/constants.ts        → {"predictions":8}
import * as tf from "tfc";

const a = tf.constant(5);
const b = tf.constant(3);

export default tf.function(() => tf.add(a, b));
