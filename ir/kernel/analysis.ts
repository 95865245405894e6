// Analyses over kernel IR that several targets share: what an outlined loop body captures from
// its kernel (free values, buffers touched). Targets outline parallel loops (LLVM: a function
// called through tfc_parallel_for; wasm threads: a table entry run by workers) with them.

import type { KBufferParam, KStmt, KValue } from "./kir.js";

/** Values used in `stmts` but defined outside them (in order of first use). */
export function freeValues(stmts: readonly KStmt[], bound: Set<KValue>): KValue[] {
  const defined = new Set<KValue>(bound);
  const free: KValue[] = [];
  const use = (v: KValue) => {
    if (!defined.has(v) && !free.includes(v)) free.push(v);
  };
  const walk = (list: readonly KStmt[]): void => {
    for (const s of list) {
      switch (s.kind) {
        case "const": defined.add(s.result); break;
        case "prim": s.args.forEach(use); defined.add(s.result); break;
        case "broadcast": use(s.arg); defined.add(s.result); break;
        case "reduce": use(s.arg); defined.add(s.result); break;
        case "load": use(s.index); defined.add(s.result); break;
        case "store": use(s.index); use(s.value); break;
        case "var": use(s.init); break;
        case "get": defined.add(s.result); break;
        case "set": use(s.value); break;
        case "for": use(s.lo); use(s.hi); defined.add(s.iv); walk(s.body); break;
        case "if": use(s.cond); walk(s.then); walk(s.else); break;
        case "call": s.args.forEach(use); break;
      }
    }
  };
  walk(stmts);
  return free;
}

/** The buffer parameters `stmts` load from or store to. */
export function usedBuffers(stmts: readonly KStmt[]): KBufferParam[] {
  const out: KBufferParam[] = [];
  const walk = (list: readonly KStmt[]): void => {
    for (const s of list) {
      if ((s.kind === "load" || s.kind === "store") && !out.includes(s.buffer)) out.push(s.buffer);
      if (s.kind === "for") walk(s.body);
      if (s.kind === "if") {
        walk(s.then);
        walk(s.else);
      }
    }
  };
  walk(stmts);
  return out;
}
