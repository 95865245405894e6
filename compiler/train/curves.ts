// Training curves as a self-contained HTML page (inline SVG, no scripts, no external files): one
// chart per metric family — loss with val_loss, acc with val_acc, … — over the epochs run.

import type { History } from "./session.js";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** One line chart: the series share the y axis; x runs over the epochs (1-based). */
function chart(title: string, epochs: number[], series: { name: string; values: number[]; color: string }[]): string {
  const W = 560, H = 300, L = 60, R = 20, T = 30, B = 40;
  const finite = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (!finite.length) [lo, hi] = [0, 1];
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const x = (i: number) => L + (epochs.length > 1 ? (i / (epochs.length - 1)) * (W - L - R) : (W - L - R) / 2);
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const ticks = Array.from({ length: 5 }, (_, k) => lo + ((hi - lo) * k) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    ...ticks.map((t) => `<line x1="${L}" x2="${W - R}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/><text x="${L - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${t.toPrecision(3)}</text>`),
    ...epochs.map((e, i) => `<text x="${x(i).toFixed(1)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${e + 1}</text>`),
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">epoch</text>`,
    ...series.map((s, k) => {
      const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : "")).filter(Boolean);
      return [
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`,
        ...s.values.map((v, i) => (Number.isFinite(v) ? `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(s.name)} epoch ${epochs[i]! + 1}: ${v}</title></circle>` : "")),
        `<rect x="${L + 10 + k * 120}" y="${T}" width="12" height="3" fill="${s.color}"/><text x="${L + 26 + k * 120}" y="${T + 5}" font-size="12">${esc(s.name)}</text>`,
      ].join("");
    }),
    `</svg>`,
  ];
  return parts.join("\n");
}

export function curvesHtml(history: History, title: string): string {
  const keys = Object.keys(history.history).filter((k) => !k.startsWith("val_"));
  const charts = keys.map((k) =>
    chart(k, history.epoch, [
      { name: k, values: history.history[k]!, color: "#1f77b4" },
      ...(history.history[`val_${k}`] ? [{ name: `val_${k}`, values: history.history[`val_${k}`]!, color: "#ff7f0e" }] : []),
    ]),
  );
  const rows = history.epoch.map((e, i) => `<tr><td>${e + 1}</td>${Object.keys(history.history).map((k) => `<td>${history.history[k]![i]!.toFixed(4)}</td>`).join("")}</tr>`);
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>`,
    "<style>body{font-family:system-ui,sans-serif;margin:2em}svg{margin:0 1em 1em 0}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}</style>",
    `</head><body><h1>${esc(title)}</h1>`,
    `<div>${charts.join("\n")}</div>`,
    `<table><tr><th>epoch</th>${Object.keys(history.history).map((k) => `<th>${esc(k)}</th>`).join("")}</tr>${rows.join("")}</table>`,
    "</body></html>",
    "",
  ].join("\n");
}
