// onnxruntime-node (native, CPU execution provider; an optional dependency whose install needs
// ONNXRUNTIME_NODE_INSTALL=skip offline) and onnxruntime-web (its WebAssembly build, SIMD, one
// thread, run in Node), loaded only if installed. Typed by a small local interface, so the repo
// type-checks whether or not the packages are present.

/** The parts of onnxruntime-node's API the benchmark uses. */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  readonly InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  readonly Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly env: { readonly versions?: Record<string, string>; readonly wasm?: { numThreads?: number } };
}

export interface OnnxRuntime {
  /** "onnxruntime-node" or "onnxruntime-web". */
  readonly system: string;
  readonly version: string;
  /** Load a model; its inputs are fed in the order the graph declares them. */
  session(model: Uint8Array): Promise<OnnxSession>;
}

export interface OnnxSession {
  /** Run on f32 inputs of the given shapes; returns the first output. */
  run(inputs: readonly Float32Array[], shapes: readonly (readonly number[])[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** onnxruntime-node or onnxruntime-web (wasm, one thread), or why it cannot be used here. */
export async function loadOnnxRuntime(packageName: "onnxruntime-node" | "onnxruntime-web" = "onnxruntime-node"): Promise<OnnxRuntime | { missing: string }> {
  let ort: OrtModule;
  try {
    ort = (await import(packageName)) as OrtModule; // a variable, so tsc does not require the optional package
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    return {
      missing:
        packageName === "onnxruntime-node"
          ? `onnxruntime-node is not installed or does not load (${reason}); install with ONNXRUNTIME_NODE_INSTALL=skip npm ci (without it, its install script tries to download CUDA libraries and npm drops the optional package)`
          : `onnxruntime-web is not installed or does not load (${reason})`,
    };
  }
  const web = packageName === "onnxruntime-web";
  if (web && ort.env.wasm) ort.env.wasm.numThreads = 1;
  return {
    system: packageName,
    version: (ort.env.versions?.[web ? "web" : "node"] ?? "unknown") + (web ? " (wasm SIMD, 1 thread)" : ""),
    async session(model) {
      // Defaults otherwise: all graph optimizations, one intra-op thread per core.
      const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: "all", ...(web ? { executionProviders: ["wasm"] } : {}) });
      return {
        async run(inputs, shapes) {
          const feeds: Record<string, OrtTensor> = {};
          session.inputNames.forEach((name, i) => {
            feeds[name] = new ort.Tensor("float32", inputs[i]!, shapes[i]!);
          });
          const results = await session.run(feeds);
          const data = results[session.outputNames[0]!]!.data;
          if (!(data instanceof Float32Array)) throw new Error("onnxruntime returned a non-f32 output");
          return data;
        },
        release: () => session.release(),
      };
    },
  };
}
