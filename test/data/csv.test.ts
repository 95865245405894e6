// tf.data.csv against TF.js on the fixture files (same elements, same column names), then what
// TF.js does not do: RFC 4180 quoting, errors with file and line, and csvTensors for the CLI.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as tfjs from "@tensorflow/tfjs";
import * as data from "../../compiler/data/index.js";
import { csvTensors, parseCsv } from "../../compiler/data/csv.js";
import { TfcError } from "../../ir/errors.js";
import { repoRoot, assertClose, isTfcError } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

const fixture = (name: string): string => path.join(repoRoot(), "test", "data", "fixtures", name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-csv-"));
/** A CSV file with exactly these bytes, in a temp folder. */
function writeCsv(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

function plain(x: any): unknown {
  if (x && typeof x.dataSync === "function" && Array.isArray(x.shape)) return { dtype: x.dtype, shape: x.shape, values: Array.from(x.dataSync()) };
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

const CASES: Record<string, [file: string, config: Record<string, unknown>]> = {
  "numbers, default config": ["housing.csv", {}],
  "a label column gives {xs, ys}": ["housing.csv", { columnConfigs: { medv: { isLabel: true } } }],
  "configuredColumnsOnly": ["housing.csv", { columnConfigs: { rm: {}, medv: { isLabel: true } }, configuredColumnsOnly: true }],
  "strings, empty values and a quoted delimiter": ["people.csv", {}],
  "default, int32, bool and label configs": ["people.csv", { columnConfigs: { age: { default: -1 }, score: { dtype: "int32", isLabel: true }, member: { dtype: "bool" } } }],
  "delimiter ';'": ["semicolon.csv", { delimiter: ";" }],
  "delimWhitespace": ["spaces.txt", { delimWhitespace: true, columnConfigs: { label: { isLabel: true } } }],
  "no header: columnNames": ["noheader.csv", { hasHeader: false, columnNames: ["p", "q", "r"] }],
  "columnNames replace the header": ["semicolon.csv", { delimiter: ";", columnNames: ["x", "y", "z"] }],
};

for (const [name, [file, config]] of Object.entries(CASES)) {
  test(`csv vs TF.js: ${name}`, async () => {
    const mine = data.csv(fixture(file), config);
    const theirs = tfjs.data.csv(pathToFileURL(fixture(file)).href, config);
    assert.equal(mine.size, theirs.size);
    assert.deepEqual(await mine.columnNames(), await theirs.columnNames());
    assert.deepEqual(await mine.toArray(), await theirs.toArray());
  });
}

test("csv vs TF.js: rows mapped to arrays and batched", async () => {
  const make = (tf: any, source: string) =>
    tf.data
      .csv(source, { columnConfigs: { medv: { isLabel: true } } })
      .map(({ xs, ys }: any) => ({ xs: Object.values(xs), ys: Object.values(ys) }))
      .batch(2);
  const mine = (await make({ data }, fixture("housing.csv")).toArray()).map(plain);
  const theirs = (await make(tfjs, pathToFileURL(fixture("housing.csv")).href).toArray()).map(plain);
  assert.deepEqual(mine, theirs);
  assert.deepEqual((mine[0] as any).xs.shape, [2, 4]);
});

test("csv: the TF.js cases check real values", async () => {
  const rows = await data.csv(fixture("people.csv"), { columnConfigs: { score: { isLabel: true } } }).toArray();
  assert.deepEqual(rows[2], { xs: { name: "Lovelace, Ada", age: 28, city: "Paris", member: 1 }, ys: { score: 72.25 } });
  assert.equal(rows[1]!.xs["age"], undefined);
  assert.ok("age" in rows[1]!.xs);
});

test("csv: the element type follows the config (checked by tsc), and file:// URLs are read", async () => {
  const labeled: data.Dataset<data.LabeledCsvRow> = data.csv(pathToFileURL(fixture("housing.csv")), { columnConfigs: { medv: { isLabel: true } } });
  const flat: data.Dataset<data.CsvRow> = data.csv(pathToFileURL(fixture("housing.csv")).href);
  const [first] = await labeled.take(1).toArray();
  assert.deepEqual(first!.ys, { medv: 24 });
  assert.equal((await flat.toArray()).length, 5);
});

test("csv: RFC 4180 quoting: delimiters, doubled quotes and newlines inside quotes; CRLF; BOM; blank lines", () => {
  const text = '\ufeffid,text,n\r\n1,"a, b",2\r\n\r\n2,"say ""hi""",3\n3,"two\nlines",4\n4,,5,\n';
  const records = [...parseCsv(text, ",", "t.csv")];
  assert.deepEqual(
    records.map((r) => r.fields),
    [["id", "text", "n"], ["1", "a, b", "2"], ["2", 'say "hi"', "3"], ["3", "two\nlines", "4"], ["4", "", "5", ""]],
  );
  assert.deepEqual(records.map((r) => r.line), [1, 2, 4, 5, 7]);
  assert.deepEqual(records[1]!.columns, [1, 3, 10]);
});

test("csv: whitespace-delimited fields may be quoted and separated by tabs", () => {
  const records = [...parseCsv('a \t "b c"   d\n\n   \n  e f g  \n', "whitespace", "t.txt")];
  assert.deepEqual(records.map((r) => r.fields), [["a", "b c", "d"], ["e", "f", "g"]]);
  assert.deepEqual(records.map((r) => r.line), [1, 4]);
});

test("csv: a record after a multi-line quoted field reports its own line", async () => {
  const file = writeCsv("multiline.csv", 'a,b\n1,"x\ny\nz"\n2,3,4\n');
  await assert.rejects(data.csv(file).toArray(), (e: unknown) => {
    isTfcError("TFC7008", /multiline\.csv:5: row has 3 fields, expected 2 \(a, b\)/)(e);
    assert.deepEqual((e as TfcError).loc, { file, line: 5, column: 1 });
    return true;
  });
});

test("csv errors: missing required values are TFC7009 and point at the field", async () => {
  const file = writeCsv("missing.csv", "x,y\n1,2\n3,\n");
  await assert.rejects(data.csv(file, { columnConfigs: { y: { required: true } } }).toArray(), (e: unknown) => {
    isTfcError("TFC7009", /missing\.csv:3: required column 'y' is empty/)(e);
    assert.deepEqual((e as TfcError).loc, { file, line: 3, column: 3 });
    return true;
  });
  await assert.rejects(data.csv(file, { columnConfigs: { y: { isLabel: true } } }).toArray(), isTfcError("TFC7009", /:3: required column 'y'/));
  assert.deepEqual(await data.csv(file, { columnConfigs: { y: { required: true, default: 0 } } }).toArray(), [{ x: 1, y: 2 }, { x: 3, y: 0 }]);
});

test("csv errors: text in a numeric column is TFC7010; without a dtype it stays a string (TF.js)", async () => {
  const file = writeCsv("text.csv", "x,y\n1,2\n3,n/a\n");
  await assert.rejects(data.csv(file, { columnConfigs: { y: { dtype: "float32" } } }).toArray(), isTfcError("TFC7010", /text\.csv:3: value "n\/a" in column 'y' is not a number/));
  await assert.rejects(data.csv(file, { columnConfigs: { y: { dtype: "int32" } } }).toArray(), isTfcError("TFC7010"));
  assert.deepEqual(await data.csv(file).toArray(), [{ x: 1, y: 2 }, { x: 3, y: "n/a" }]);
});

test("csv errors: malformed quoting is TFC7011", async () => {
  await assert.rejects(data.csv(writeCsv("open.csv", 'a,b\n1,"never closed\n2,3\n')).toArray(), isTfcError("TFC7011", /open\.csv:2: quoted field is never closed/));
  await assert.rejects(data.csv(writeCsv("after.csv", 'a,b\n1,"x"y\n')).toArray(), isTfcError("TFC7011", /after\.csv:2: unexpected "y" after a closing quote/));
});

test("csv errors: unreadable sources are TFC7006; empty files TFC7012", async () => {
  await assert.rejects(data.csv(path.join(tmp, "nope.csv")).toArray(), isTfcError("TFC7006", /nope\.csv: no such file/));
  assert.throws(() => data.csv("https://example.com/data.csv"), isTfcError("TFC7006", /tfc reads local files/));
  await assert.rejects(data.csv(writeCsv("empty.csv", "")).toArray(), isTfcError("TFC7012", /empty\.csv is empty/));
});

test("csv errors: bad configs are TFC7007", async () => {
  const file = fixture("housing.csv");
  await assert.rejects(data.csv(fixture("noheader.csv"), { hasHeader: false }).toArray(), isTfcError("TFC7007", /columnNames must name the columns/));
  await assert.rejects(data.csv(file, { columnConfigs: { MEDV: { isLabel: true } } }).toArray(), (e: unknown) => {
    isTfcError("TFC7007", /the columnConfigs key 'MEDV' is not a column of .*housing\.csv/)(e);
    assert.deepEqual((e as TfcError).notes, ["did you mean 'medv'?"]);
    return true;
  });
  await assert.rejects(data.csv(file, { columnNames: ["a", "b"] }).toArray(), isTfcError("TFC7007", /columnNames has 2 names but the header line .* has 5 columns/));
  await assert.rejects(data.csv(writeCsv("dup.csv", "a,b,a\n1,2,3\n")).toArray(), isTfcError("TFC7007", /duplicate column names .*: a/));
  assert.throws(() => data.csv(file, { delimiter: ";", delimWhitespace: true }), isTfcError("TFC7007"));
  assert.throws(() => data.csv(file, { delimiter: "::" }), isTfcError("TFC7007", /one character/));
  assert.throws(() => data.csv(file, { columnConfigs: { rm: { dtype: "string" as never } } }), isTfcError("TFC7007", /float32, int32 or bool/));
});

// csvTensors

test("csvTensors: numeric labels from the last column, features row-major", () => {
  const t = csvTensors(fixture("housing.csv"));
  assert.equal(t.numExamples, 5);
  assert.equal(t.features, 4);
  assert.deepEqual(t.featureNames, ["crim", "zn", "rm", "chas"]);
  assert.equal(t.labelColumn, "medv");
  assert.deepEqual(t.labelNames, []);
  assert.equal(t.xs.length, 20);
  assertClose(t.xs.subarray(4, 8), [0.02731, 0, 6.421, 0], 1e-6, 0, "row 1");
  assertClose(t.ys, [24, 21.6, 34.7, 33.4, 36.2], 1e-6, 0, "labels");
});

test("csvTensors: a labelColumn in the middle; text labels become sorted class indices", () => {
  const t = csvTensors(fixture("housing.csv"), { labelColumn: "rm" });
  assert.deepEqual(t.featureNames, ["crim", "zn", "chas", "medv"]);
  assertClose(t.xs.subarray(0, 4), [0.00632, 18, 0, 24], 1e-6, 0, "row 0");
  assertClose(t.ys, [6.575, 6.421, 7.185, 6.998, 7.147], 1e-6, 0, "labels");
  const iris = csvTensors(fixture("iris-small.csv"));
  assert.deepEqual(iris.labelNames, ["setosa", "versicolor", "virginica"]);
  assert.deepEqual(Array.from(iris.ys), [0, 1, 2, 0, 1]);
  assert.equal(iris.features, 4);
});

test("csvTensors errors: non-numeric features, missing values, unknown label column, no rows", () => {
  assert.throws(() => csvTensors(fixture("people.csv"), { labelColumn: "score" }), isTfcError("TFC7010", /people\.csv:2: value "Ada" in column 'name' is not a number/));
  assert.throws(() => csvTensors(writeCsv("gap.csv", "a,b\n1,2\n,3\n")), isTfcError("TFC7009", /gap\.csv:3: required column 'a' is empty/));
  assert.throws(() => csvTensors(writeCsv("short.csv", "a,b\n1,2\n3\n")), isTfcError("TFC7008", /short\.csv:3: row has 1 fields, expected 2/));
  assert.throws(() => csvTensors(fixture("housing.csv"), { labelColumn: "price" }), isTfcError("TFC7007", /the label column 'price' is not a column/));
  assert.throws(() => csvTensors(writeCsv("header-only.csv", "a,b\n")), isTfcError("TFC7012", /no data rows/));
});
