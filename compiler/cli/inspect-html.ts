// `tfc inspect --html`: one self-contained page (inline CSS, inline SVG, a few lines of inline JS;
// nothing fetched) showing, for each compiled function, the tensor-IR graph with its fusion groups
// (inspect-html-graph.ts), every kernel with the model-file lines it computes, and the arena plan
// as a memory timeline (inspect-html-memory.ts).

import * as fs from "node:fs";
import * as path from "node:path";
import type { CompileResult } from "../driver.js";
import type { Op } from "../../ir/ir.js";
import { TfcError, type SourceLoc } from "../../ir/errors.js";
import { formatType } from "../../ir/types.js";
import { valueNames } from "../../ir/printer.js";
import { displayPath } from "../frontend/load.js";
import { arenaSummary, countOf, escapeHtml as esc, type InspectedFunction, type Inspection } from "./inspect.js";
import { graphSvg, kernelId, opId } from "./inspect-html-graph.js";
import { memorySvg, memoryTable } from "./inspect-html-memory.js";

const CSS = `
body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:2px solid #ccc;font-family:ui-monospace,monospace}h3{margin:1.4em 0 .4em}
.mono,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.scroll{overflow:auto;max-height:80vh;border:1px solid #ddd;background:#fcfcfc}
.tools button{margin-right:.3em}.note{color:#555;font-size:13px}
svg text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px}
g.op rect{fill:#fff;stroke:#555}g.op .sub{fill:#666}g.op{cursor:pointer}
g.op.arg rect{fill:#e3f0ff;stroke:#1f77b4}g.op.result rect{stroke:#000;stroke-width:2.5}
g.op.nokernel rect{stroke-dasharray:4 3;fill:#f6f6f6}
g.op.sel rect,g.op:target rect{stroke:#d62728;stroke-width:3}
.cluster-bg{stroke:#b9975b;stroke-width:1}.cluster-label{font-weight:bold;fill:#6b4e16}
path.edge{fill:none;stroke:#8a8a8a;stroke-width:1.2}path.edge.sel{stroke:#d62728;stroke-width:2.5}
svg.memory .grid{stroke:#e5e5e5}svg.memory .temp{stroke:#fff;stroke-width:.5;opacity:.85}svg.memory .temp:hover{opacity:1;stroke:#000}
svg.memory .live{fill:none;stroke:#d62728;stroke-width:2}svg.memory .arena{stroke:#000;stroke-dasharray:6 4}
svg.memory .launch{fill:#eee;stroke:#fff}svg.memory .launch:hover{fill:#bbb}svg.memory .legend{font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top;text-align:left}
table.kernels a{white-space:nowrap}tr:target{background:#fff4c2}.src{white-space:pre}.ln{color:#888;display:inline-block;min-width:3em;text-align:right;margin-right:.6em}
`;

/** Zoom buttons for the graphs; clicking an op highlights its edges. */
const SCRIPT = `
for (const b of document.querySelectorAll("button[data-zoom]")) b.addEventListener("click", () => {
  const svg = document.getElementById(b.dataset.target), w = +svg.dataset.width, h = svg.viewBox.baseVal.height;
  const now = +svg.getAttribute("width") / w, z = b.dataset.zoom;
  const k = z === "fit" ? Math.min(1, svg.parentElement.clientWidth / w) : z === "1" ? 1 : now * +z;
  svg.setAttribute("width", w * k); svg.setAttribute("height", h * k);
});
for (const g of document.querySelectorAll("svg.graph g.op")) g.addEventListener("click", () => {
  const svg = g.ownerSVGElement, on = !g.classList.contains("sel");
  for (const e of svg.querySelectorAll(".sel")) e.classList.remove("sel");
  if (!on) return;
  g.classList.add("sel");
  for (const e of svg.querySelectorAll('[data-from="' + g.id + '"],[data-to="' + g.id + '"]')) e.classList.add("sel");
});
`;

/** Reads model-file lines for the kernel table; a file that cannot be read shows line numbers only. */
class SourceLines {
  private readonly files = new Map<string, string[] | undefined>();
  line(loc: SourceLoc): string | undefined {
    const abs = path.resolve(loc.file);
    if (!this.files.has(abs)) {
      try {
        this.files.set(abs, fs.readFileSync(abs, "utf8").split(/\r?\n/));
      } catch {
        this.files.set(abs, undefined);
      }
    }
    return this.files.get(abs)?.[loc.line - 1];
  }
}

/** The distinct source lines of some ops, in file then line order. */
function sourceLinesOf(ops: readonly Op[]): SourceLoc[] {
  const seen = new Map<string, SourceLoc>();
  for (const op of ops) if (op.loc) seen.set(`${op.loc.file}\0${op.loc.line}`, op.loc);
  return [...seen.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function kernelTable(f: InspectedFunction, modelFile: string, sources: SourceLines): string {
  const names = valueNames(f.fn);
  const index = new Map(f.fn.body.map((op, i) => [op, i]));
  const rows = f.program.launches.map((l, i) => {
    const ops = (l.ops ?? []).map((op) => {
      const text = `${names.get(op.result) ?? "?"} = ${op.name} : ${formatType(op.result.type)}`;
      return index.has(op) ? `<a class="mono" href="#${opId(f.fn.name, index.get(op)!)}">${esc(text)}</a>` : `<span class="mono">${esc(text)}</span>`;
    });
    const buffers = l.buffers.map((b) => `<span class="mono" title="${esc(`${b.role}, ${b.size.constant} + ${b.size.perBatch}·N elements of ${b.elem}`)}">${esc(b.name)}</span>`);
    const src = sourceLinesOf(l.ops ?? []).map((loc) => {
      const other = path.resolve(loc.file) !== modelFile ? `${loc.file}:` : "";
      const text = sources.line(loc);
      return `<div class="src" title="${esc(`${loc.file}:${loc.line}`)}"><span class="ln">${esc(other)}${loc.line}</span><code>${esc(text?.trim() ?? "(source not readable)")}</code></div>`;
    });
    return `<tr id="${kernelId(f.fn.name, i)}"><td>${i}</td><td class="mono">${esc(l.kernel.name)}</td><td>${ops.join("<br>")}</td><td>${buffers.join("<br>")}</td><td>${src.join("")}</td></tr>`;
  });
  return `<table class="kernels"><tr><th>#</th><th>kernel</th><th>tensor ops it computes</th><th>buffers</th><th>model-file lines</th></tr>${rows.join("\n")}</table>`;
}

/** The weights packed once for the GEMM microkernels (the program's prepare launches), if any. */
function preparedWeights(f: InspectedFunction): string[] {
  const { prepare } = f.program;
  if (prepare.length === 0) return [];
  const rows = prepare.map((l) => {
    const [source, packed] = [l.buffers[0]!, l.buffers[l.buffers.length - 1]!];
    return `<tr><td class="mono">${esc(l.kernel.name)}</td><td class="mono">${esc(String(source.ref ?? source.name))}</td><td class="mono">${esc(packed.name)}</td><td>${packed.size.constant * 4} bytes</td></tr>`;
  });
  return [
    `<p class="note">Run once, before the first call and again after a weight is overwritten (not per call): each packs a weight into the panel layout the GEMM microkernel reads.</p>`,
    `<table class="kernels prepare"><tr><th>prepare kernel</th><th>weight</th><th>packed buffer</th><th>size</th></tr>${rows.join("\n")}</table>`,
  ];
}

function signature(f: InspectedFunction): string {
  const { fn } = f;
  const args = fn.args.map((a) => `${a.name}: ${formatType(a.type)}`).join(", ");
  const outs = fn.results.map((r, i) => `${fn.resultNames[i]}: ${formatType(r.type)}`).join(", ");
  return `${fn.name}(${args}) -> (${outs})`;
}

function functionSection(f: InspectedFunction, modelFile: string, sources: SourceLines): string {
  const { fn, program } = f;
  const kernelsOf = new Map<Op, string[]>();
  const launchOf = new Map<string, number>();
  program.launches.forEach((l, i) => {
    launchOf.set(l.kernel.name, i);
    for (const op of l.ops ?? []) kernelsOf.set(op, [...(kernelsOf.get(op) ?? []), l.kernel.name]);
  });
  const groups = new Set(fn.body.map((op) => op.attrs["group"]).filter((g) => typeof g === "number")).size;
  const graphId = `${fn.name}-graph`;
  const zoom = (label: string, z: string): string => `<button type="button" data-zoom="${z}" data-target="${graphId}">${label}</button>`;
  const graph = graphSvg(f, kernelsOf, launchOf).replace("<svg ", `<svg id="${graphId}" `);
  return [
    `<section id="${esc(fn.name)}">`,
    `<h2>${esc(fn.name)}</h2>`,
    `<p class="mono">${esc(signature(f))}</p>`,
    `<p>${countOf(fn.body.length, "op")}, ${countOf(groups, "fusion group")}, <b>${countOf(program.launches.length, "kernel")}</b>; <span class="arena-summary">${esc(arenaSummary(f))}</span></p>`,
    `<h3>Graph</h3>`,
    `<p class="note">Each box is an op (result and type); a shaded cluster is a fusion group, labelled with the kernel(s) it became (click a label for the kernel). Parameters and constants are listed inside the boxes that read them. Dashed: no kernel of its own (reshape aliases its operand). Thick border: returned. Click an op to highlight its edges; hover for its IR line and source location.</p>`,
    `<div class="tools">${zoom("−", "0.8")}${zoom("+", "1.25")}${zoom("1:1", "1")}${zoom("fit", "fit")}</div>`,
    `<div class="scroll">${graph}</div>`,
    `<h3>Kernels</h3>`,
    kernelTable(f, modelFile, sources),
    ...preparedWeights(f),
    `<h3>Memory</h3>`,
    `<p>Temporaries of ${esc(fn.name)} share one arena of <b class="mono arena-formula">${esc(`${f.plan.arena.constant} + ${f.plan.arena.perBatch}·N bytes`)}</b> (N: the batch size); rectangles are temporaries at their offsets for N = 64, spanning the launches they are live in.</p>`,
    ...(f.plan.lifetimes.length === 0
      ? [`<p class="note">No temporaries: every value is an input, an output, a parameter or a constant.</p>`]
      : [`<div class="scroll">${memorySvg(f)}</div>`, `<details><summary>${countOf(f.plan.lifetimes.length, "temporary", "temporaries")}</summary>${memoryTable(f)}</details>`]),
    `</section>`,
  ].join("\n");
}

/** The page for a compiled model file: every inspected function, one section each. */
export function inspectHtml(result: CompileResult, inspection: Inspection): string {
  const title = `tfc inspect ${displayPath(result.file)}`;
  const sources = new SourceLines();
  const toc = inspection.functions.map((f) => `<li><a href="#${esc(f.fn.name)}">${esc(f.fn.name)}</a>: ${countOf(f.fn.body.length, "op")}, ${countOf(f.program.launches.length, "kernel")}; ${esc(arenaSummary(f))}</li>`);
  const skipped = inspection.skipped.map((s) => `<li>${esc(s.name)}: not shown (${esc(s.reason)})</li>`);
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    `</head><body><h1>${esc(title)}</h1>`,
    `<ul>${toc.join("")}${skipped.join("")}</ul>`,
    ...inspection.functions.map((f) => functionSection(f, result.file, sources)),
    `<script>${SCRIPT}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}

/** Why a file could not be written, in words, for the common system error codes. */
const WRITE_ERRORS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a part of the path is a file, not a folder",
  EEXIST: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
};

/** Write the page, creating its folder; an unwritable path is a TFC1030 error naming it. */
export function writeInspectHtml(file: string, html: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, html);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = (err.code && WRITE_ERRORS[err.code]) ?? err.message;
    throw new TfcError("TFC1030", `cannot write the --html page to '${file}': ${reason}`);
  }
}
