// Timing and checking shared by every system in the benchmark: a first call whose output is
// checked against tfc's interpreter, warm-up calls, then timed calls within a time budget
// (hard-capped for very slow systems); medians, percentiles and the output check.

/** How long and how often to call a system. numpy's Python loop (systems/numpy.ts) follows the same rules. */
export interface Protocol {
  /** Warm-up calls (the checked first call included) go on until this much time or maxWarmups calls. */
  readonly warmupMs: number;
  readonly maxWarmups: number;
  /** Timed calls go on until at least minReps calls and budgetMs, or maxReps calls… */
  readonly budgetMs: number;
  readonly minReps: number;
  readonly maxReps: number;
  /** …but stop before minReps when one more call would take the timed total past this (at least one call is timed). */
  readonly hardCapMs: number;
}

export const LATENCY_PROTOCOL: Protocol = { warmupMs: 300, maxWarmups: 20, budgetMs: 1000, minReps: 10, maxReps: 2000, hardCapMs: 3000 };
export const SGEMM_PROTOCOL: Protocol = { warmupMs: 300, maxWarmups: 5, budgetMs: 1000, minReps: 3, maxReps: 500, hardCapMs: 3000 };
/**
 * `npm run bench -- --quick` (bench/options.ts): the checked first call and no warm-up, then a few timed
 * calls within 0.2 s (a slow system gets one); a smoke run of every row, not numbers to quote.
 */
export const QUICK_LATENCY_PROTOCOL: Protocol = { warmupMs: 0, maxWarmups: 1, budgetMs: 20, minReps: 3, maxReps: 20, hardCapMs: 200 };
export const QUICK_SGEMM_PROTOCOL: Protocol = { warmupMs: 0, maxWarmups: 1, budgetMs: 20, minReps: 2, maxReps: 10, hardCapMs: 200 };

export interface Measurement {
  /** The first call's output, for the check against the reference. */
  readonly output: Float32Array;
  readonly timesMs: readonly number[];
}

/** Call `fn` per the protocol. */
/**
 * Collect the garbage the previous system left (the interpreter allocates hundreds of MB at batch
 * 64) and give V8's concurrent GC threads time to finish, so that they do not take a core from the
 * next system's timed calls. Needs `node --expose-gc` (npm run bench passes it); a no-op without.
 */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

export async function measure(fn: () => Float32Array | Promise<Float32Array>, protocol: Protocol): Promise<Measurement> {
  await settle();
  const warmupStart = performance.now();
  const output = await fn();
  for (let warmups = 1; warmups < protocol.maxWarmups && performance.now() - warmupStart < protocol.warmupMs; warmups++) await fn();

  const timesMs: number[] = [];
  let totalMs = 0;
  for (;;) {
    const start = performance.now();
    await fn();
    const ms = performance.now() - start;
    timesMs.push(ms);
    totalMs += ms;
    const reps = timesMs.length;
    if (reps >= protocol.maxReps) break;
    if (reps >= protocol.minReps && totalMs >= protocol.budgetMs) break;
    if (totalMs + ms > protocol.hardCapMs) break;
  }
  return { output, timesMs };
}

/** The q-quantile (0..1) by nearest rank: the smallest time that at least q of the calls did not exceed. */
export function quantile(timesMs: readonly number[], q: number): number {
  const sorted = [...timesMs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

export const median = (timesMs: readonly number[]): number => quantile(timesMs, 0.5);

/** Outputs agree when max|actual − expected| ≤ this × max|expected| (relative to the output's scale). */
export const AGREEMENT_TOLERANCE = 1e-4;

/** max|actual − expected| / max|expected|; Infinity when the lengths differ or a value is NaN. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(diff)) return Infinity;
    maxDiff = Math.max(maxDiff, diff);
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? maxDiff : maxDiff / scale;
}
