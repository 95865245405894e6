// Errors as values: every error a user can see carries a code (TFCnnnn), a readable message and,
// when known, the source location of the user's code that caused it.
//
// Code ranges: TFC1xxx input and CLI, TFC2xxx shapes and types, TFC3xxx unsupported or unknown
// names, TFC4xxx IR text and verifier, TFC5xxx frontend (TypeScript, exports), TFC6xxx targets.

export interface SourceLoc {
  readonly file: string;
  readonly line: number; // 1-based
  readonly column: number; // 1-based
}

export function formatLoc(loc: SourceLoc): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

export class TfcError extends Error {
  readonly code: string;
  loc: SourceLoc | undefined;
  /** Extra lines shown under the message (hints, "did you mean"). */
  readonly notes: string[];

  constructor(code: string, message: string, opts: { loc?: SourceLoc; notes?: string[] } = {}) {
    super(message);
    this.name = "TfcError";
    this.code = code;
    this.loc = opts.loc;
    this.notes = opts.notes ?? [];
  }

  /** Attach a location if the error does not have one yet. */
  at(loc: SourceLoc | undefined): this {
    if (!this.loc && loc) this.loc = loc;
    return this;
  }
}

export function isTfcError(e: unknown): e is TfcError {
  return e instanceof TfcError;
}

/** Closest candidate by edit distance, for "did you mean" hints; undefined if nothing is close. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const lower = name.toLowerCase().replace(/_/g, "");
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase().replace(/_/g, ""));
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return bestDist <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Several errors at once (e.g. every TypeScript error in a model file). */
export class TfcErrorList extends Error {
  constructor(readonly errors: TfcError[]) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join("\n"));
    this.name = "TfcErrorList";
  }
}
