// Bad model files pin each diagnostic: code, message, notes and the user's line:column. Each
// fixture in fixtures/bad states what it expects in `// EXPECT: CODE line:col message` and
// `// EXPECT-NOTE: text` lines; adding a case is adding a file.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { compile } from "../../compiler/driver.js";
import { TfcError, TfcErrorList } from "../../ir/errors.js";
import { repoRoot } from "../util.js";

const dir = path.join(repoRoot(), "test/frontend/fixtures/bad");
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith(".ts")).sort();

test("there are at least 12 bad model files", () => {
  assert.ok(fixtures.length >= 12, `only ${fixtures.length} fixtures`);
});

for (const name of fixtures) {
  test(`bad model: ${name}`, () => {
    const file = path.join(dir, name);
    const text = fs.readFileSync(file, "utf8");
    const expect = /^\/\/ EXPECT: (TFC\d{4}) (\d+):(\d+) (.+)$/m.exec(text);
    assert.ok(expect, `${name} has no EXPECT line`);
    const [, code, line, column, message] = expect;
    const notes = [...text.matchAll(/^\/\/ EXPECT-NOTE: (.+)$/gm)].map((m) => m[1]!);
    let error: TfcError | undefined;
    try {
      compile(file);
    } catch (e) {
      error = e instanceof TfcErrorList ? e.errors[0] : (e as TfcError);
    }
    assert.ok(error instanceof TfcError, `${name}: expected a TfcError, got ${String(error)}`);
    assert.equal(error.code, code, `${name}: ${error.code} ${error.message}`);
    assert.ok(error.message.includes(message!), `${name}: message was: ${error.message}`);
    assert.ok(error.loc, `${name}: error has no location`);
    assert.equal(path.resolve(error.loc.file), file);
    assert.deepEqual([error.loc.line, error.loc.column], [Number(line), Number(column)], `${name}: located at ${error.loc.line}:${error.loc.column}`);
    for (const note of notes) assert.ok(error.notes.some((n) => n.includes(note)), `${name}: notes were ${JSON.stringify(error.notes)}`);
  });
}

test("the CLI prints a located diagnostic with a code frame, no stack trace, and exits 1", () => {
  const root = repoRoot();
  const r = spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), "compile", "test/frontend/fixtures/bad/wrong-rank.ts"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^test\/frontend\/fixtures\/bad\/wrong-rank\.ts:6:7 - error TFC2001: /);
  assert.match(r.stderr, /\n6 model\.add\(tf\.layers\.conv2d/);
  assert.match(r.stderr, /\n {8}~~~\n/);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
  assert.doesNotMatch(r.stderr, /\x1b\[/, "NO_COLOR output has no escape codes");
});

test("Keras snake_case options compile with a located hint", () => {
  const result = compile(path.join(repoRoot(), "test/frontend/fixtures/keras-spelling.ts"));
  const codes = result.warnings.map((w) => `${w.code} ${w.loc?.line}: ${w.message}`);
  assert.deepEqual(codes, [
    "TFC3101 5: Dense option 'kernel_initializer' is the Keras spelling; tfc uses TF.js's 'kernelInitializer'",
    "TFC3101 5: initializer 'he_normal' is the Keras spelling; tfc uses TF.js's 'heNormal'",
    "TFC3101 7: Dense option 'use_bias' is the Keras spelling; tfc uses TF.js's 'useBias'",
  ]);
  assert.match(result.ir(), /he_normal \{seed=\d+/);
  assert.doesNotMatch(result.ir(), /dense_1\/bias/);
});
