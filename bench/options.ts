// The command line of `npm run bench` (bench/run.ts) and the measuring protocols it selects: by default
// the full protocols, with `--quick` a smoke run of every row (same workloads, systems and output checks,
// few repetitions). Parsing and selection are pure, so test/bench/options.test.ts checks them untimed.

import { COLD_START_PROTOCOL, QUICK_COLD_START_PROTOCOL, type ColdStartProtocol } from "./coldstart.js";
import { LATENCY_PROTOCOL, QUICK_LATENCY_PROTOCOL, QUICK_SGEMM_PROTOCOL, SGEMM_PROTOCOL, type Protocol } from "./measure.js";
import { QUICK_TRAINING_PROTOCOL, TRAINING_PROTOCOL, type TrainingProtocol } from "./training.js";

export type BenchMode = "full" | "quick";

/** Every protocol of one benchmark run, chosen once from the command line and passed down. */
export interface BenchProtocols {
  readonly mode: BenchMode;
  /** MLP and MNIST CNN inference (bench/run.ts). */
  readonly latency: Protocol;
  readonly sgemm: Protocol;
  readonly coldStart: ColdStartProtocol;
  readonly training: TrainingProtocol;
}

export const BENCH_PROTOCOLS: { readonly [M in BenchMode]: BenchProtocols } = {
  full: { mode: "full", latency: LATENCY_PROTOCOL, sgemm: SGEMM_PROTOCOL, coldStart: COLD_START_PROTOCOL, training: TRAINING_PROTOCOL },
  quick: { mode: "quick", latency: QUICK_LATENCY_PROTOCOL, sgemm: QUICK_SGEMM_PROTOCOL, coldStart: QUICK_COLD_START_PROTOCOL, training: QUICK_TRAINING_PROTOCOL },
};

export interface BenchOptions {
  readonly mode: BenchMode;
  /** `--help`: print the usage and run nothing. */
  readonly help: boolean;
}

/** The accepted arguments and what each does, as the usage prints them. */
export const BENCH_ARGUMENTS: Readonly<Record<string, string>> = {
  "--quick": "smoke run: every row (workloads, systems, output checks, tables, bench/results.json) with few repetitions; numbers are not for quoting",
  "--help": "print this and exit",
};

export function benchUsage(): string {
  const width = Math.max(...Object.keys(BENCH_ARGUMENTS).map((a) => a.length));
  const lines = Object.entries(BENCH_ARGUMENTS).map(([arg, what]) => `  ${arg.padEnd(width)}  ${what}`);
  return ["usage: npm run bench [-- --quick]", ...lines].join("\n");
}

/** An argument the benchmark does not take; the message lists the accepted ones. */
export class BenchUsageError extends Error {
  constructor(argument: string) {
    super(`npm run bench: unknown argument ${JSON.stringify(argument)}; accepted: ${Object.keys(BENCH_ARGUMENTS).join(", ")}`);
    this.name = "BenchUsageError";
  }
}

/** The options of the arguments after `npm run bench --` (process.argv.slice(2)); throws BenchUsageError on any other. */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  let mode: BenchMode = "full";
  let help = false;
  for (const arg of args) {
    if (arg === "--quick") mode = "quick";
    else if (arg === "--help") help = true;
    else throw new BenchUsageError(arg);
  }
  return { mode, help };
}

export function protocolsFor(options: Pick<BenchOptions, "mode">): BenchProtocols {
  return BENCH_PROTOCOLS[options.mode];
}

/** What the first line of the output says after "tfc benchmark", so that a quick run's numbers are not mistaken for the full run's. */
export function modeLabel(mode: BenchMode): string {
  return mode === "quick" ? " (QUICK smoke run: few repetitions, numbers not for quoting)" : "";
}
