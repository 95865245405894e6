// The memory timeline of one function for `tfc inspect --html`, as inline SVG: x is the launch
// index, y the arena offset at N = 64; one rectangle per temporary of the plan (passes/plan-memory.ts)
// spanning its first..last launch, the arena size `a + b·N` as a line, and the bytes live at each
// launch as a step curve (its maximum is the least any arena could be).

import { bytesAt, type Lifetime } from "../../passes/plan-memory.js";
import { INSPECT_BATCH, escapeHtml as esc, formatBytes, formatBytesFormula, type InspectedFunction } from "./inspect.js";
import { kernelId } from "./inspect-html-graph.js";

const PLOT_H = 320;
const LEFT = 90;
const RIGHT = 24;
const TOP = 34;
const BOTTOM = 56;

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#e15759", "#9c755f"];

/** `a + b·N` offsets print like sizes: `0 + 86528·N`. */
const formula = (s: { constant: number; perBatch: number }): string => `${s.constant} + ${s.perBatch}·N`;

function lifetimeTitle(f: InspectedFunction, l: Lifetime): string {
  const kernel = (i: number): string => f.program.launches[i]!.kernel.name;
  const bytes = bytesAt(l.bytes, INSPECT_BATCH);
  const offset = bytesAt(l.offset, INSPECT_BATCH);
  return [
    `${l.buffer.name}: ${formatBytesFormula(l.bytes)} = ${bytes} bytes (${formatBytes(bytes)}) at N = ${INSPECT_BATCH}`,
    `offset ${formula(l.offset)} = ${offset} at N = ${INSPECT_BATCH}`,
    `live in launches ${l.first}..${l.last}: ${kernel(l.first)}${l.last !== l.first ? ` … ${kernel(l.last)}` : ""}`,
  ].join("\n");
}

/** The timeline chart of a function's arena. */
export function memorySvg(f: InspectedFunction): string {
  const launches = f.plan.launches;
  const col = Math.max(6, Math.min(240, Math.floor(960 / Math.max(1, launches))));
  const plotW = Math.max(1, launches) * col;
  const W = LEFT + plotW + RIGHT;
  const H = TOP + PLOT_H + BOTTOM;
  const arena = bytesAt(f.plan.arena, INSPECT_BATCH);
  const maxLive = Math.max(0, ...f.live);
  const top = Math.max(arena, maxLive, 1);
  const y = (bytes: number): number => TOP + PLOT_H - (bytes / top) * PLOT_H;
  const x = (launch: number): number => LEFT + launch * col;
  const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

  const parts: string[] = [];
  // Axes, byte ticks and launch ticks.
  for (let k = 0; k <= 4; k++) {
    const b = (top * k) / 4;
    parts.push(`<line class="grid" x1="${LEFT}" x2="${fmt(LEFT + plotW)}" y1="${fmt(y(b))}" y2="${fmt(y(b))}"/><text class="tick" x="${LEFT - 6}" y="${fmt(y(b) + 4)}" text-anchor="end">${esc(formatBytes(Math.round(b)))}</text>`);
  }
  const every = Math.max(1, Math.ceil(launches / Math.floor(plotW / 40)));
  for (let i = 0; i < launches; i += every) parts.push(`<text class="tick" x="${fmt(x(i) + col / 2)}" y="${TOP + PLOT_H + 32}" text-anchor="middle">${i}</text>`);
  parts.push(`<text class="axis" x="${fmt(LEFT + plotW / 2)}" y="${H - 8}" text-anchor="middle">launch (kernel) index</text>`);
  parts.push(`<text class="axis" transform="translate(14 ${TOP + PLOT_H / 2}) rotate(-90)" text-anchor="middle">arena offset at N = ${INSPECT_BATCH}</text>`);

  // One rectangle per temporary.
  f.plan.lifetimes.forEach((l, i) => {
    const bytes = bytesAt(l.bytes, INSPECT_BATCH);
    const offset = bytesAt(l.offset, INSPECT_BATCH);
    const height = Math.max(1, y(offset) - y(offset + bytes));
    parts.push(
      `<rect class="temp" data-buffer="${esc(l.buffer.name)}" x="${fmt(x(l.first) + 0.5)}" y="${fmt(y(offset + bytes))}" width="${fmt((l.last - l.first + 1) * col - 1)}" height="${fmt(height)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(lifetimeTitle(f, l))}</title></rect>`,
    );
  });

  // Live bytes at each launch as a step curve; hovering a launch's strip under the axis names it.
  const steps = f.live.flatMap((b, i) => [`${fmt(x(i))},${fmt(y(b))}`, `${fmt(x(i + 1))},${fmt(y(b))}`]);
  parts.push(`<polyline class="live" points="${steps.join(" ")}"><title>bytes of live temporaries at each launch (N = ${INSPECT_BATCH}); maximum ${maxLive}</title></polyline>`);
  f.live.forEach((b, i) => {
    const name = f.program.launches[i]!.kernel.name;
    parts.push(`<a href="#${kernelId(f.fn.name, i)}"><rect class="launch" x="${fmt(x(i))}" y="${TOP + PLOT_H + 2}" width="${col}" height="16"><title>launch ${i}: ${esc(name)}; live ${b} bytes (${esc(formatBytes(b))}) at N = ${INSPECT_BATCH}</title></rect></a>`);
  });
  parts.push(
    `<line class="arena" x1="${LEFT}" x2="${fmt(LEFT + plotW)}" y1="${fmt(y(arena))}" y2="${fmt(y(arena))}"><title>arena ${esc(formatBytesFormula(f.plan.arena))} = ${arena} bytes at N = ${INSPECT_BATCH}</title></line>`,
    `<text class="legend" x="${LEFT}" y="${TOP - 10}">arena ${esc(formatBytesFormula(f.plan.arena))} = ${esc(formatBytes(arena))} at N = ${INSPECT_BATCH} (dashed); live bytes (red), max ${esc(formatBytes(maxLive))}</text>`,
  );
  return [`<svg class="memory" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="memory timeline of ${esc(f.fn.name)}">`, ...parts, `</svg>`].join("\n");
}

/** The plan as a table: each temporary's size, offset and lifetime. */
export function memoryTable(f: InspectedFunction): string {
  const rows = f.plan.lifetimes.map((l) => {
    const bytes = bytesAt(l.bytes, INSPECT_BATCH);
    return `<tr><td class="mono">${esc(l.buffer.name)}</td><td class="mono">${esc(formatBytesFormula(l.bytes))}</td><td>${bytes}</td><td class="mono">${esc(formula(l.offset))}</td><td>${bytesAt(l.offset, INSPECT_BATCH)}</td><td>${l.first}–${l.last}</td></tr>`;
  });
  return `<table class="plan"><tr><th>temporary</th><th>bytes</th><th>at N = ${INSPECT_BATCH}</th><th>offset</th><th>at N = ${INSPECT_BATCH}</th><th>launches</th></tr>${rows.join("")}</table>`;
}
