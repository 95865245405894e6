// plan-memory — place a kernel program's temporaries in one arena. Liveness over the launch
// schedule (a temporary lives from the first launch that touches it to the last), then offsets by
// greedy best fit, largest first, the way TFLite's arena planner does it — with sizes and offsets
// as `a + b·N` for the run-time batch N, so a placement must hold for every N ≥ 1.
// Runs at the end of lowering (passes/lower/index.ts), when the launches are known; reported by
// model.json, `tfc compile` and `tfc inspect`.

import type { KProgram, KProgramBuffer, KSize } from "../ir/kernel/kir.js";

/** Bytes of `a + b·N` at a batch size. */
export const bytesAt = (s: KSize, batch: number): number => s.constant + s.perBatch * batch;

/** The batch size offsets are compared at when several fit (the typical training batch). */
export const PLANNING_BATCH = 64;

/** Where a temporary lives: its launches [first, last] and its place in the arena. */
export interface Lifetime {
  readonly buffer: KProgramBuffer;
  readonly first: number;
  readonly last: number;
  readonly bytes: KSize;
  readonly offset: KSize;
}

export interface MemoryPlan {
  /** Arena bytes, `a + b·N`: at least every temporary's end, for every N ≥ 1. */
  readonly arena: KSize;
  /** Every temporary some launch touches, in order of first use. */
  readonly lifetimes: readonly Lifetime[];
  /** How many launches the schedule has. */
  readonly launches: number;
}

const ALIGN = 64;
/** Bytes per element as planned: f32 and i32, and bool (one byte in memory) padded here alike. */
const ELEM_BYTES = 4;
const align = (x: number): number => Math.ceil(x / ALIGN) * ALIGN;
const add = (x: KSize, y: KSize): KSize => ({ constant: x.constant + y.constant, perBatch: x.perBatch + y.perBatch });
/** x ≤ y for every N ≥ 1: at N = 1 and in slope. */
const atMost = (x: KSize, y: KSize): boolean => x.constant + x.perBatch <= y.constant + y.perBatch && x.perBatch <= y.perBatch;
const upperBound = (x: KSize, y: KSize): KSize => ({ constant: Math.max(x.constant, y.constant), perBatch: Math.max(x.perBatch, y.perBatch) });

/** Bytes of a buffer, each term rounded up to 64 so that every offset stays 64-byte aligned. */
function bufferBytes(b: KProgramBuffer): KSize {
  return { constant: align(b.size.constant * ELEM_BYTES), perBatch: align(b.size.perBatch * ELEM_BYTES) };
}

/** Plan the program's temporaries in place (their `offset`, the program's `arenaBytes`) and return the plan. */
export function planMemory(program: KProgram): MemoryPlan {
  const first = new Map<KProgramBuffer, number>();
  const last = new Map<KProgramBuffer, number>();
  program.launches.forEach((l, i) => {
    for (const b of l.buffers) {
      if (b.role !== "temp") continue;
      if (!first.has(b)) first.set(b, i);
      last.set(b, i);
    }
  });
  const temps = [...first.keys()];
  const bytes = new Map(temps.map((b) => [b, bufferBytes(b)]));
  const overlaps = (a: KProgramBuffer, b: KProgramBuffer): boolean => first.get(a)! <= last.get(b)! && first.get(b)! <= last.get(a)!;

  // Largest first (at the planning batch), earlier first among equals: big buffers claim low offsets.
  const order = [...temps].sort((a, b) => bytesAt(bytes.get(b)!, PLANNING_BATCH) - bytesAt(bytes.get(a)!, PLANNING_BATCH) || first.get(a)! - first.get(b)!);
  const placed: { buffer: KProgramBuffer; offset: KSize; end: KSize }[] = [];
  for (const b of order) {
    const size = bytes.get(b)!;
    const live = placed.filter((p) => overlaps(p.buffer, b));
    const fits = (at: KSize): boolean => {
      const end = add(at, size);
      return live.every((p) => atMost(end, p.offset) || atMost(p.end, at));
    };
    // Candidates: the bottom, the end of each live neighbour, and above all of them (always fits).
    const candidates: KSize[] = [{ constant: 0, perBatch: 0 }, ...live.map((p) => p.end), live.reduce((m, p) => upperBound(m, p.end), { constant: 0, perBatch: 0 })];
    let best: KSize | undefined;
    for (const c of candidates) {
      if (!fits(c)) continue;
      if (!best || bytesAt(c, PLANNING_BATCH) < bytesAt(best, PLANNING_BATCH) || (bytesAt(c, PLANNING_BATCH) === bytesAt(best, PLANNING_BATCH) && bytesAt(c, 1) < bytesAt(best, 1))) best = c;
    }
    placed.push({ buffer: b, offset: best!, end: add(best!, size) });
  }

  let arena: KSize = { constant: 0, perBatch: 0 };
  for (const p of placed) {
    p.buffer.offset = p.offset;
    arena = upperBound(arena, p.end);
  }
  // Temporaries no launch touches (replaced by outputs, or unused) take no space.
  for (const b of program.buffers) if (b.role === "temp" && !first.has(b)) b.offset = { constant: 0, perBatch: 0 };
  program.arenaBytes = arena;
  const lifetimes = temps.map((b) => ({ buffer: b, first: first.get(b)!, last: last.get(b)!, bytes: bytes.get(b)!, offset: b.offset! }));
  return { arena, lifetimes, launches: program.launches.length };
}

/** Bytes of the program's packed weights (kept beside the parameters, outside the arena). */
export function packedBytes(program: KProgram): number {
  return program.buffers.filter((b) => b.role === "packed").reduce((n, b) => n + b.size.constant * ELEM_BYTES, 0);
}

/** Bytes of temporaries live during each launch at a batch size: the least any arena could be is their maximum. */
export function liveBytes(plan: MemoryPlan, batch: number): number[] {
  const live = new Array<number>(plan.launches).fill(0);
  for (const l of plan.lifetimes) for (let i = l.first; i <= l.last; i++) live[i]! += bytesAt(l.bytes, batch);
  return live;
}
