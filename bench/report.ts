// Turns measurements into result rows (bench/results.json) and the printed table. tfc rows carry
// their ratio to the best peer; systems whose output disagrees with tfc's interpreter get a loud
// warning row and are not counted as the best peer.

import { AGREEMENT_TOLERANCE, median, quantile } from "./measure.js";

export interface ResultRow {
  workload: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
  /** tfc rows only, null elsewhere; > 1 means tfc is faster (latency: best_peer_ms / tfc_ms; GFLOP/s: tfc / best_peer). */
  ratio_to_best_peer: number | null;
}

/** One system's outcome on one workload. */
export type Entry =
  | { readonly system: string; readonly isTfc: boolean; readonly timesMs: readonly number[]; readonly relError: number }
  | { readonly system: string; readonly isTfc: boolean; readonly skipped: string };

export interface WorkloadResult {
  readonly workload: string;
  readonly kind: "sgemm" | "latency";
  /** Floating-point operations per call (SGEMM: 2n³). */
  readonly flops?: number;
  readonly entries: readonly Entry[];
}

type Timed = Extract<Entry, { timesMs: readonly number[] }>;
const isTimed = (e: Entry): e is Timed => "timesMs" in e;
const agrees = (e: Timed): boolean => e.relError <= AGREEMENT_TOLERANCE;

interface Metric {
  readonly metric: string;
  readonly unit: string;
  readonly value: (e: Timed) => number;
  readonly higherIsBetter: boolean;
}

function metricsOf(w: WorkloadResult): Metric[] {
  if (w.kind === "sgemm") {
    const flops = w.flops!;
    return [{ metric: "throughput", unit: "GFLOP/s", value: (e) => flops / (median(e.timesMs) / 1e3) / 1e9, higherIsBetter: true }];
  }
  return [
    { metric: "latency_median", unit: "ms", value: (e) => median(e.timesMs), higherIsBetter: false },
    { metric: "latency_p90", unit: "ms", value: (e) => quantile(e.timesMs, 0.9), higherIsBetter: false },
  ];
}

/** The result rows of one workload: one per system and metric, plus a warning row per disagreeing system. */
export function rowsOf(w: WorkloadResult): ResultRow[] {
  const rows: ResultRow[] = [];
  const timed = w.entries.filter(isTimed);
  for (const m of metricsOf(w)) {
    const peerValues = timed.filter((e) => !e.isTfc && agrees(e)).map(m.value);
    const best = peerValues.length ? (m.higherIsBetter ? Math.max(...peerValues) : Math.min(...peerValues)) : undefined;
    for (const e of timed) {
      const value = m.value(e);
      const ratio = e.isTfc && best !== undefined ? (m.higherIsBetter ? value / best : best / value) : null;
      rows.push({ workload: w.workload, system: e.system, metric: m.metric, value, unit: m.unit, ratio_to_best_peer: ratio });
    }
  }
  for (const e of timed.filter((e) => !agrees(e))) {
    rows.push({ workload: w.workload, system: e.system, metric: "WARNING_output_mismatch", value: e.relError, unit: "max_rel_error", ratio_to_best_peer: null });
  }
  return rows;
}

/** The printed table of every workload of one kind, under a title that says how its ratio reads. */
export function formatTable(kind: WorkloadResult["kind"], workloads: readonly WorkloadResult[]): string {
  const title =
    kind === "sgemm"
      ? [
          "SGEMM, C = A·B in float32: GFLOP/s = 2n³ / median time of one call (higher is better)",
          "ratio column = tfc GFLOP/s ÷ best peer GFLOP/s; > 1 means tfc is faster",
        ]
      : [
          "Inference latency, Float32Array in → Float32Array out: median and 90th percentile ms (lower is better)",
          "ratio columns = best peer ms ÷ tfc ms; > 1 means tfc is faster",
        ];
  const header =
    kind === "sgemm"
      ? ["workload", "system", "GFLOP/s", "median ms", "calls", "ratio: tfc÷peer"]
      : ["workload", "system", "median ms", "p90 ms", "calls", "ratio median: peer÷tfc", "ratio p90: peer÷tfc"];
  const table: string[][] = [header];
  const warnings: string[] = [];
  for (const w of workloads.filter((x) => x.kind === kind)) {
    const rows = rowsOf(w);
    const row = (system: string, metric: string) => rows.find((r) => r.system === system && r.metric === metric)!;
    w.entries.forEach((e, i) => {
      const label = i === 0 ? w.workload : "";
      if (!isTimed(e)) {
        table.push([label, e.system, `skipped: ${e.skipped}`]);
        return;
      }
      const cells =
        kind === "sgemm"
          ? [fixed(row(e.system, "throughput").value), fixed(median(e.timesMs)), String(e.timesMs.length), ratio(row(e.system, "throughput").ratio_to_best_peer)]
          : [
              fixed(row(e.system, "latency_median").value),
              fixed(row(e.system, "latency_p90").value),
              String(e.timesMs.length),
              ratio(row(e.system, "latency_median").ratio_to_best_peer),
              ratio(row(e.system, "latency_p90").ratio_to_best_peer),
            ];
      if (!agrees(e)) {
        cells.push(`!!! OUTPUT MISMATCH vs tfc-interp: max rel error ${e.relError.toExponential(1)} > ${AGREEMENT_TOLERANCE}`);
        warnings.push(`!!! WARNING ${w.workload} / ${e.system}: output differs from tfc-interp by ${e.relError.toExponential(2)} (relative), over the ${AGREEMENT_TOLERANCE} tolerance; not counted as best peer`);
      }
      table.push([label, e.system, ...cells]);
    });
  }
  return [...title, ...alignColumns(table, header.length), ...warnings].join("\n");
}

/** Three significant digits, without exponent notation for the usual ranges. */
function fixed(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function ratio(r: number | null): string {
  return r === null ? "" : `${fixed(r)}×`;
}

/** Pad the first `columns` cells of each row (text left, numbers right); extra trailing cells run on. */
function alignColumns(table: string[][], columns: number): string[] {
  const numeric = (s: string) => /^[\d.]+×?$/.test(s);
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...table.map((row) => (row.length > c + 1 ? row[c]!.length : 0))));
  return table.map((row, r) =>
    row
      .map((cell, c) => (c === row.length - 1 ? cell : r > 0 && numeric(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
}
