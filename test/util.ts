// Shared test helpers: where the source tree is, and numeric comparison with stated tolerances.

import * as path from "node:path";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { TfcError } from "../ir/errors.js";

/** The repository root (tests run from dist/test/…, fixtures live in the source tree). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("package.json not found above the test folder");
    dir = up;
  }
  return dir;
}

/** Assert |actual - expected| <= atol + rtol·|expected| elementwise; reports the worst element. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what = "values"): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** For assert.throws / assert.rejects: a TfcError with this code (and a message matching `message`). */
export function isTfcError(code: string, message?: RegExp): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}
