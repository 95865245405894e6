// Turns measurements into result rows (bench/results.json) and the printed table. tfc rows carry
// their ratio to the best peer (training rows: to each peer too); systems whose output disagrees
// with tfc's interpreter get a loud warning row and are not counted as a peer.

import { AGREEMENT_TOLERANCE, median, quantile } from "./measure.js";

export interface ResultRow {
  workload: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
  /** tfc rows only, null elsewhere; > 1 means tfc is faster (latency: best_peer_ms / tfc_ms; GFLOP/s, samples/s: tfc / best_peer). */
  ratio_to_best_peer: number | null;
  /** Training tfc rows only: the same ratio to each agreeing peer, by system. */
  ratio_to_peers?: Record<string, number>;
}

/** One system's outcome on one workload. */
export type Entry =
  | { readonly system: string; readonly isTfc: boolean; readonly timesMs: readonly number[]; readonly relError: number }
  | { readonly system: string; readonly isTfc: boolean; readonly skipped: string };

export interface WorkloadResult {
  readonly workload: string;
  readonly kind: "sgemm" | "latency" | "training";
  /** Floating-point operations per call (SGEMM: 2n³). */
  readonly flops?: number;
  /** Training: examples per step (timesMs are per step). */
  readonly samplesPerStep?: number;
  /** Relative error up to which an output agrees with the reference (default AGREEMENT_TOLERANCE). */
  readonly tolerance?: number;
  readonly entries: readonly Entry[];
}

type Timed = Extract<Entry, { timesMs: readonly number[] }>;
const isTimed = (e: Entry): e is Timed => "timesMs" in e;
const toleranceOf = (w: WorkloadResult): number => w.tolerance ?? AGREEMENT_TOLERANCE;
const agrees = (w: WorkloadResult, e: Timed): boolean => e.relError <= toleranceOf(w);

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
  if (w.kind === "training") {
    const samples = w.samplesPerStep!;
    return [{ metric: "training_throughput", unit: "samples/s", value: (e) => samples / (median(e.timesMs) / 1e3), higherIsBetter: true }];
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
    const peers = timed.filter((e) => !e.isTfc && agrees(w, e));
    const peerValues = peers.map(m.value);
    const best = peerValues.length ? (m.higherIsBetter ? Math.max(...peerValues) : Math.min(...peerValues)) : undefined;
    const ratioTo = (value: number, peer: number) => (m.higherIsBetter ? value / peer : peer / value);
    for (const e of timed) {
      const value = m.value(e);
      const ratio = e.isTfc && best !== undefined ? ratioTo(value, best) : null;
      const row: ResultRow = { workload: w.workload, system: e.system, metric: m.metric, value, unit: m.unit, ratio_to_best_peer: ratio };
      if (w.kind === "training" && e.isTfc) row.ratio_to_peers = Object.fromEntries(peers.map((p) => [p.system, ratioTo(value, m.value(p))]));
      rows.push(row);
    }
  }
  for (const e of timed.filter((e) => !agrees(w, e))) {
    rows.push({ workload: w.workload, system: e.system, metric: "WARNING_output_mismatch", value: e.relError, unit: "max_rel_error", ratio_to_best_peer: null });
  }
  return rows;
}

interface TableLayout {
  readonly title: readonly string[];
  readonly header: readonly string[];
  /** The cells after workload and system of one timed entry; `row` finds its result row by metric. */
  cells(e: Timed, row: (metric: string) => ResultRow): string[];
  /** What the reference check compares, as the mismatch cell and warning say it. */
  readonly mismatch: { readonly tag: string; readonly differs: string };
}

const OUTPUT_MISMATCH = { tag: "OUTPUT MISMATCH", differs: "output differs" };

function layoutOf(kind: WorkloadResult["kind"], workloads: readonly WorkloadResult[]): TableLayout {
  if (kind === "sgemm") {
    return {
      title: ["SGEMM, C = A·B in float32: GFLOP/s = 2n³ / median time of one call (higher is better)", "ratio column = tfc GFLOP/s ÷ best peer GFLOP/s; > 1 means tfc is faster"],
      header: ["workload", "system", "GFLOP/s", "median ms", "calls", "ratio: tfc÷peer"],
      cells: (e, row) => [fixed(row("throughput").value), fixed(median(e.timesMs)), String(e.timesMs.length), ratio(row("throughput").ratio_to_best_peer)],
      mismatch: OUTPUT_MISMATCH,
    };
  }
  if (kind === "training") {
    const peers = [...new Set(workloads.flatMap((w) => w.entries.filter((e) => isTimed(e) && !e.isTfc).map((e) => e.system)))];
    return {
      title: [
        "Training throughput, one optimizer step per batch: samples/s = batch ÷ median step time (higher is better)",
        "ratio columns = tfc samples/s ÷ peer samples/s (the best peer, then each); > 1 means tfc is faster",
      ],
      header: ["workload", "system", "samples/s", "ms/step", "steps", "ratio: tfc÷best peer", ...peers.map((p) => `tfc÷${p}`)],
      cells: (e, row) => {
        const r = row("training_throughput");
        return [fixed(r.value), fixed(median(e.timesMs)), String(e.timesMs.length), ratio(r.ratio_to_best_peer), ...peers.map((p) => ratio(r.ratio_to_peers?.[p] ?? null))];
      },
      mismatch: { tag: "LOSS MISMATCH", differs: "the first steps' losses differ" },
    };
  }
  return {
    title: ["Inference latency, Float32Array in → Float32Array out: median and 90th percentile ms (lower is better)", "ratio columns = best peer ms ÷ tfc ms; > 1 means tfc is faster"],
    header: ["workload", "system", "median ms", "p90 ms", "calls", "ratio median: peer÷tfc", "ratio p90: peer÷tfc"],
    cells: (e, row) => [
      fixed(row("latency_median").value),
      fixed(row("latency_p90").value),
      String(e.timesMs.length),
      ratio(row("latency_median").ratio_to_best_peer),
      ratio(row("latency_p90").ratio_to_best_peer),
    ],
    mismatch: OUTPUT_MISMATCH,
  };
}

/** The printed table of every workload of one kind, under a title that says how its ratio reads. */
export function formatTable(kind: WorkloadResult["kind"], workloads: readonly WorkloadResult[]): string {
  const ofKind = workloads.filter((x) => x.kind === kind);
  const layout = layoutOf(kind, ofKind);
  const table: string[][] = [[...layout.header]];
  const warnings: string[] = [];
  for (const w of ofKind) {
    const rows = rowsOf(w);
    const tolerance = toleranceOf(w);
    w.entries.forEach((e, i) => {
      const label = i === 0 ? w.workload : "";
      if (!isTimed(e)) {
        table.push([label, e.system, `skipped: ${e.skipped}`]);
        return;
      }
      const cells = layout.cells(e, (metric) => rows.find((r) => r.system === e.system && r.metric === metric)!);
      if (!agrees(w, e)) {
        cells.push(`!!! ${layout.mismatch.tag} vs tfc-interp: max rel error ${e.relError.toExponential(1)} > ${tolerance}`);
        warnings.push(`!!! WARNING ${w.workload} / ${e.system}: ${layout.mismatch.differs} from tfc-interp by ${e.relError.toExponential(2)} (relative), over the ${tolerance} tolerance; not counted as best peer`);
      }
      table.push([label, e.system, ...cells]);
    });
  }
  return [...layout.title, ...alignColumns(table, layout.header.length), ...warnings].join("\n");
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
