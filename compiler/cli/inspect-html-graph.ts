// The tensor-IR graph of one function for `tfc inspect --html`, as inline SVG: ops as boxes (name,
// result type), edges for operands, each fusion group (passes/fuse.ts) in one shaded cluster
// labelled with the kernels it became. Hand-written layered layout, no graphviz:
// - parameters and constants are not boxes: they are listed inside the boxes of the ops reading
//   them, which keeps a training step's graph readable;
// - an op outside any group, a whole group, or a function argument is one "unit"; a unit's layer is
//   one more than the deepest unit it reads from, and units are visited in program order of the
//   kernel they run in, which is a topological order (fusionGroups checks that no op reads a
//   group's value before the group's kernel runs);
// - within a layer, units sit near the mean x of what they read (one barycentre sweep, top down);
//   a group lays out its members the same way inside its cluster.

import type { Func, Op, Value } from "../../ir/ir.js";
import { GROUP_ATTR } from "../../ir/attrs.js";
import { formatType } from "../../ir/types.js";
import { printOp, valueNames } from "../../ir/printer.js";
import type { HostTensor } from "../../ir/tensor.js";
import { escapeHtml as esc, type InspectedFunction } from "./inspect.js";

const NODE_W = 180;
const NODE_H = 48;
const GAP_X = 24;
const GAP_Y = 44;
const INNER_GAP_Y = 18;
const PAD = 10;
const LABEL_LINE = 14;
const CHAR_W = 6.7; // 11px monospace
const MARGIN = 16;

/** One box of the layout: a function argument, an op on its own, or a fusion group with its members. */
interface Unit {
  readonly ops: readonly Op[];
  readonly arg?: Value;
  readonly group?: number;
  /** Where the unit's kernel runs (its last op) in the function body; -1 for arguments. */
  readonly position: number;
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Member positions relative to the unit (groups only). */
  inner: Map<Op, { x: number; y: number }>;
  kernels: readonly string[];
}

const isCollapsed = (op: Op): boolean => op.name === "param" || op.name === "constant";

const clip = (s: string, chars: number): string => (s.length > chars ? s.slice(0, chars - 1) + "…" : s);

/** What a collapsed operand shows as inside its reader's box: `@dense/kernel`, `0.5`, `const f32[10]`. */
function collapsedLabel(op: Op): string {
  if (op.name === "param") return `@${String(op.attrs["name"])}`;
  const t = op.attrs["value"] as HostTensor | undefined;
  if (t && t.shape.length === 0) return String(Number(t.data[0]!.toPrecision(6)));
  return `const ${formatType(op.result.type)}`;
}

/** Layer each op of a group inside its cluster: 0 for ops reading nothing of the group. */
function innerLayers(members: readonly Op[]): Map<Op, number> {
  const layer = new Map<Op, number>();
  for (const m of members) {
    let l = 0;
    for (const v of m.operands) if (v.def && layer.has(v.def)) l = Math.max(l, layer.get(v.def)! + 1);
    layer.set(m, l);
  }
  return layer;
}

/** Order the items of each row by the mean x of what they read, and place them left to right. */
function placeRow<T>(items: T[], width: (t: T) => number, desired: (t: T) => number | undefined, start: number, gap: number): Map<T, number> {
  const order = items.map((t, i) => ({ t, i, want: desired(t) }));
  order.sort((a, b) => (a.want ?? Infinity) - (b.want ?? Infinity) || a.i - b.i);
  const xs = new Map<T, number>();
  let cursor = start;
  for (const { t, want } of order) {
    const x = Math.max(cursor, want === undefined ? cursor : Math.round(want - width(t) / 2));
    xs.set(t, x);
    cursor = x + width(t) + gap;
  }
  return xs;
}

function buildUnits(fn: Func, kernelsOf: ReadonlyMap<Op, readonly string[]>): Unit[] {
  const unit = (fields: Pick<Unit, "ops" | "position" | "kernels"> & { arg?: Value; group?: number }): Unit => ({ ...fields, layer: 0, x: 0, y: 0, w: NODE_W, h: NODE_H, inner: new Map() });
  const units: Unit[] = fn.args.map((arg) => unit({ ops: [], arg, position: -1, kernels: [] }));
  const groups = new Map<number, Op[]>();
  fn.body.forEach((op, i) => {
    if (isCollapsed(op)) return;
    const g = op.attrs[GROUP_ATTR];
    if (typeof g !== "number") units.push(unit({ ops: [op], position: i, kernels: kernelsOf.get(op) ?? [] }));
    else groups.set(g, [...(groups.get(g) ?? []), op]);
  });
  const position = new Map(fn.body.map((op, i) => [op, i]));
  for (const [group, members] of groups) {
    const root = members[members.length - 1]!;
    units.push(unit({ ops: members, group, position: position.get(root)!, kernels: kernelsOf.get(root) ?? [] }));
  }
  return units.sort((a, b) => a.position - b.position);
}

/** Size a group's cluster and place its members inside it. */
function layoutCluster(u: Unit): void {
  const layers = innerLayers(u.ops);
  const rows: Op[][] = [];
  for (const m of u.ops) (rows[layers.get(m)!] ??= []).push(m);
  const header = PAD + LABEL_LINE * u.kernels.length + 4;
  const labelWidth = Math.max(0, ...u.kernels.map((k) => k.length * CHAR_W)) + 2 * PAD;
  let y = header;
  let width = 0;
  const centre = new Map<Op, number>();
  for (const row of rows) {
    const want = (m: Op): number | undefined => {
      const xs = m.operands.flatMap((v) => (v.def && centre.has(v.def) ? [centre.get(v.def)!] : []));
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
    };
    const xs = placeRow(row, () => NODE_W, want, PAD, GAP_X);
    for (const m of row) {
      u.inner.set(m, { x: xs.get(m)!, y });
      centre.set(m, xs.get(m)! + NODE_W / 2);
      width = Math.max(width, xs.get(m)! + NODE_W + PAD);
    }
    y += NODE_H + INNER_GAP_Y;
  }
  u.w = Math.max(width, labelWidth);
  u.h = y - INNER_GAP_Y + PAD;
}

interface Layout {
  readonly units: readonly Unit[];
  readonly width: number;
  readonly height: number;
  /** Top-left corner of each drawn value's box (op results and arguments). */
  readonly boxOf: ReadonlyMap<Value, { x: number; y: number }>;
}

function layout(fn: Func, kernelsOf: ReadonlyMap<Op, readonly string[]>): Layout {
  const units = buildUnits(fn, kernelsOf);
  const unitOf = new Map<Value, Unit>();
  for (const u of units) {
    if (u.arg) unitOf.set(u.arg, u);
    for (const op of u.ops) unitOf.set(op.result, u);
  }
  const deps = new Map<Unit, Unit[]>();
  for (const u of units) {
    const ds = new Set<Unit>();
    for (const op of u.ops) for (const v of op.operands) if (unitOf.has(v) && unitOf.get(v) !== u) ds.add(unitOf.get(v)!);
    deps.set(u, [...ds]);
    u.layer = Math.max(-1, ...[...ds].map((d) => d.layer)) + 1;
    if (u.group !== undefined) layoutCluster(u);
  }
  const rows: Unit[][] = [];
  for (const u of units) (rows[u.layer] ??= []).push(u);
  let y = MARGIN;
  let width = 0;
  for (const row of rows) {
    if (!row) continue;
    const want = (u: Unit): number | undefined => {
      const ds = deps.get(u)!;
      return ds.length ? ds.reduce((s, d) => s + d.x + d.w / 2, 0) / ds.length : undefined;
    };
    const xs = placeRow(row, (u) => u.w, want, MARGIN, GAP_X);
    for (const u of row) {
      u.x = xs.get(u)!;
      u.y = y;
      width = Math.max(width, u.x + u.w + MARGIN);
    }
    y += Math.max(...row.map((u) => u.h)) + GAP_Y;
  }
  const boxOf = new Map<Value, { x: number; y: number }>();
  for (const u of units) {
    if (u.arg) boxOf.set(u.arg, { x: u.x, y: u.y });
    for (const op of u.ops) {
      const at = u.inner.get(op) ?? { x: 0, y: 0 };
      boxOf.set(op.result, { x: u.x + at.x, y: u.y + at.y });
    }
  }
  return { units, width: Math.max(width, 320), height: y - GAP_Y + MARGIN, boxOf };
}

/** Ids the page uses for a function's ops and kernels (links between graph, kernels and memory). */
export const opId = (fnName: string, index: number): string => `${fnName}-op-${index}`;
export const kernelId = (fnName: string, launch: number): string => `${fnName}-k-${launch}`;

/**
 * The graph of one function as an SVG element. `kernelsOf` maps each op to the kernels (launch
 * names) that compute it; `launchOf` a kernel name to its launch index, for links to the table.
 */
export function graphSvg(f: InspectedFunction, kernelsOf: ReadonlyMap<Op, readonly string[]>, launchOf: ReadonlyMap<string, number>): string {
  const { fn } = f;
  const { units, width, height, boxOf } = layout(fn, kernelsOf);
  const names = valueNames(fn);
  const index = new Map(fn.body.map((op, i) => [op, i]));
  const results = new Map<Value, string[]>();
  fn.results.forEach((r, i) => results.set(r, [...(results.get(r) ?? []), fn.resultNames[i] ?? `output_${i}`]));
  const idOf = (v: Value): string => (v.def ? opId(fn.name, index.get(v.def)!) : `${fn.name}-arg-${fn.args.indexOf(v)}`);
  const chars = Math.floor((NODE_W - 12) / CHAR_W);
  const fmt = (n: number): string => String(Math.round(n));

  const edges: string[] = [];
  for (const op of fn.body) {
    if (isCollapsed(op)) continue;
    const to = boxOf.get(op.result)!;
    for (const v of new Set(op.operands)) {
      const from = boxOf.get(v);
      if (!from) continue; // a parameter or constant, listed inside the box
      const [x1, y1, x2, y2] = [from.x + NODE_W / 2, from.y + NODE_H, to.x + NODE_W / 2, to.y];
      const bend = Math.max(12, (y2 - y1) / 2);
      edges.push(`<path class="edge" data-from="${idOf(v)}" data-to="${idOf(op.result)}" d="M${fmt(x1)},${fmt(y1)} C${fmt(x1)},${fmt(y1 + bend)} ${fmt(x2)},${fmt(y2 - bend)} ${fmt(x2)},${fmt(y2)}"/>`);
    }
  }

  const box = (v: Value, cls: string, lines: string[], title: string): string => {
    const at = boxOf.get(v)!;
    const text = lines.map((l, i) => `<text x="${fmt(at.x + 6)}" y="${fmt(at.y + 14 + i * 14)}"${i === 2 ? ' class="sub"' : ""}>${esc(clip(l, chars))}</text>`).join("");
    return `<g class="${cls}" id="${idOf(v)}"${v.def ? ` data-op="${esc(v.def.name)}"` : ""}><title>${esc(title)}</title><rect x="${fmt(at.x)}" y="${fmt(at.y)}" width="${NODE_W}" height="${NODE_H}" rx="4"/>${text}</g>`;
  };
  const opBox = (op: Op): string => {
    const kernels = kernelsOf.get(op) ?? [];
    const returned = results.get(op.result);
    const collapsed = op.operands.filter((v) => v.def && isCollapsed(v.def)).map((v) => collapsedLabel(v.def!));
    const cls = ["op", kernels.length ? "" : "nokernel", returned ? "result" : ""].filter(Boolean).join(" ");
    const loc = op.loc ? `\nat ${op.loc.file}:${op.loc.line}:${op.loc.column}` : "";
    const title = `${printOp(fn, op)}${loc}\nkernel: ${kernels.join(", ") || (op.name === "reshape" ? "none (aliases its operand's buffer)" : "none")}${returned ? `\nreturned as ${returned.join(", ")}` : ""}${collapsed.length ? `\nreads ${collapsed.join(", ")}` : ""}`;
    const sub = [...(returned ? [`→ ${returned.join(", ")}`] : []), ...collapsed].join(" ");
    return box(op.result, cls, [`${names.get(op.result)} = ${op.name}`, formatType(op.result.type), ...(sub ? [sub] : [])], title);
  };

  // Three layers: cluster backgrounds, then edges (visible over the shading), then the boxes.
  const palette = ["#fde7c8", "#d9ecd0", "#d6e4f5", "#f3d9e8", "#e6e0f5", "#f5f0c8"];
  const clusters: string[] = [];
  const boxes: string[] = [];
  for (const u of units) {
    if (u.arg) {
      boxes.push(box(u.arg, "op arg", [`${names.get(u.arg)}`, formatType(u.arg.type), "input"], `argument ${names.get(u.arg)}: ${formatType(u.arg.type)}`));
    } else if (u.group === undefined) {
      boxes.push(opBox(u.ops[0]!));
    } else {
      const labels = u.kernels.map((k, i) => {
        const y = u.y + PAD + 10 + i * LABEL_LINE;
        const launch = launchOf.get(k);
        const text = `<text class="cluster-label" x="${fmt(u.x + PAD)}" y="${fmt(y)}">${esc(k)}</text>`;
        return launch === undefined ? text : `<a href="#${kernelId(fn.name, launch)}">${text}</a>`;
      });
      const members = u.ops.map((m) => m.name).join(" ");
      clusters.push(
        `<g class="cluster" data-group="${u.group}" data-kernels="${esc(u.kernels.join(" "))}" data-ops="${esc(members)}">` +
          `<title>fusion group ${u.group}: ${esc(u.ops.map((m) => m.name).join(", "))} → kernel ${esc(u.kernels.join(", ") || "(none)")}</title>` +
          `<rect class="cluster-bg" x="${fmt(u.x)}" y="${fmt(u.y)}" width="${fmt(u.w)}" height="${fmt(u.h)}" rx="8" fill="${palette[u.group % palette.length]}"/>` +
          labels.join("") +
          `</g>`,
      );
      boxes.push(`<g class="members" data-group="${u.group}">${u.ops.map(opBox).join("")}</g>`);
    }
  }
  return [
    `<svg class="graph" width="${fmt(width)}" height="${fmt(height)}" viewBox="0 0 ${fmt(width)} ${fmt(height)}" data-width="${fmt(width)}" role="img" aria-label="tensor IR graph of ${esc(fn.name)}">`,
    `<g class="clusters">${clusters.join("\n")}</g>`,
    `<g class="edges">${edges.join("\n")}</g>`,
    `<g class="boxes">${boxes.join("\n")}</g>`,
    `</svg>`,
  ].join("\n");
}
