// numpy's SGEMM (float32 `a @ b`, which calls its BLAS, OpenBLAS in the wheels) in a `python3 -c`
// subprocess. Inputs and the output travel through files; Python times its own loop with the
// same protocol as measure.ts, so process start-up is not timed.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Measurement, Protocol } from "../measure.js";

export interface Numpy {
  /** e.g. "numpy 2.4.6 (scipy-openblas 0.3.31)". */
  readonly description: string;
  sgemm(n: number, a: Float32Array, b: Float32Array, protocol: Protocol): Measurement;
}

const PROBE = `
import json, numpy
blas = "unknown BLAS"
try:
    info = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    blas = f"{info.get('name', 'BLAS')} {info.get('version', '')}".strip()
except Exception:
    pass
print(json.dumps({"version": numpy.__version__, "blas": blas}))
`;

/** Runs the protocol of measure.ts on `a @ b`: argv = folder, n, then the protocol as JSON. */
const SGEMM_SCRIPT = `
import json, sys, time, numpy as np
folder, n, p = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
a = np.fromfile(folder + "/a.f32", dtype=np.float32).reshape(n, n)
b = np.fromfile(folder + "/b.f32", dtype=np.float32).reshape(n, n)
warmup_start = time.perf_counter()
(a @ b).astype(np.float32).tofile(folder + "/c.f32")
warmups = 1
while warmups < p["maxWarmups"] and (time.perf_counter() - warmup_start) * 1e3 < p["warmupMs"]:
    a @ b
    warmups += 1
times, total = [], 0.0
while True:
    start = time.perf_counter()
    a @ b
    ms = (time.perf_counter() - start) * 1e3
    times.append(ms)
    total += ms
    if len(times) >= p["maxReps"]: break
    if len(times) >= p["minReps"] and total >= p["budgetMs"]: break
    if total + ms > p["hardCapMs"]: break
print(json.dumps(times))
`;

/** numpy through python3, or why it is not available. */
export function loadNumpy(): Numpy | { missing: string } {
  const probe = spawnSync("python3", ["-c", PROBE], { encoding: "utf8", timeout: 30_000 });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr.trim().split("\n").pop() ?? `exit ${probe.status}`);
    return { missing: `python3 with numpy is not available (${why})` };
  }
  const info = JSON.parse(probe.stdout) as { version: string; blas: string };
  return {
    description: `numpy ${info.version} (${info.blas})`,
    sgemm(n, a, b, protocol) {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-bench-numpy-"));
      try {
        fs.writeFileSync(path.join(folder, "a.f32"), a);
        fs.writeFileSync(path.join(folder, "b.f32"), b);
        const run = spawnSync("python3", ["-c", SGEMM_SCRIPT, folder, String(n), JSON.stringify(protocol)], { encoding: "utf8", timeout: 120_000 });
        if (run.error || run.status !== 0) throw new Error(`numpy SGEMM failed: ${run.error?.message ?? run.stderr}`);
        const bytes = fs.readFileSync(path.join(folder, "c.f32"));
        const output = new Float32Array(Uint8Array.from(bytes).buffer);
        return { output, timesMs: JSON.parse(run.stdout) as number[] };
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
