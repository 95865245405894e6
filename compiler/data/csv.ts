// CSV input for training: tf.data.csv with TF.js's CSVConfig (rows as {column: value}, or
// {xs, ys} when a column is a label), and csvTensors, which loads a whole file into flat arrays
// for the CLI's `--data FILE.csv`. Fields are parsed per RFC 4180; errors name file and line.

import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { TfcError, closest, type SourceLoc } from "../../ir/errors.js";
import type { DataType } from "../api/dtypes.js";
import { currentUserLoc } from "../frontend/location.js";
import { Dataset } from "./dataset.js";

/** TF.js's ColumnConfig: how one column is read. */
export interface ColumnConfig {
  /** An empty value is an error (label columns are always required). */
  required?: boolean;
  /** Parse as float32 (a number), int32 (floored) or bool (1 for "1"/"true", else 0). */
  dtype?: DataType;
  /** Used for an empty value. */
  default?: number | string;
  /** The column goes to `ys` instead of `xs`. */
  isLabel?: boolean;
}

/** TF.js's CSVConfig. */
export interface CSVConfig {
  hasHeader?: boolean;
  columnNames?: readonly string[];
  columnConfigs?: { readonly [column: string]: ColumnConfig };
  configuredColumnsOnly?: boolean;
  delimiter?: string;
  /** Fields are separated by runs of spaces and tabs. */
  delimWhitespace?: boolean;
}

/** A parsed value: a number, a string when a column without a dtype holds text, undefined when empty. */
export type CsvValue = number | string | undefined;
export type CsvRow = { [column: string]: CsvValue };
export type LabeledCsvRow = { xs: CsvRow; ys: CsvRow };

/** Per configured column: "yes" if isLabel is true, "no" if absent or false, "maybe" if only known as boolean. */
type LabelFlags<C> = C extends { columnConfigs?: infer CC }
  ? { [K in keyof NonNullable<CC>]: NonNullable<CC>[K] extends { isLabel: true } ? "yes" : NonNullable<CC>[K] extends { isLabel?: false | undefined } ? "no" : "maybe" }[keyof NonNullable<CC>]
  : never;
/** The element type tf.data.csv yields for config C: {xs, ys} when C marks a label column. */
export type CsvElement<C> = "yes" extends LabelFlags<C> ? LabeledCsvRow : "maybe" extends LabelFlags<C> ? CsvRow | LabeledCsvRow : CsvRow;

/** A CSV file as a dataset, as TF.js's CSVDataset. Its size is unknown (null). */
export class CSVDataset<T = CsvRow | LabeledCsvRow> extends Dataset<T> {
  private readonly reader: CsvReader;

  /** @internal */
  constructor(reader: CsvReader) {
    super(() => reader.elements() as AsyncGenerator<T, void, undefined>, null);
    this.reader = reader;
  }

  /** The names of the columns in the output: all of them, or the configured ones with configuredColumnsOnly. */
  async columnNames(): Promise<string[]> {
    const { columns } = this.reader.open();
    return this.reader.config.configuredColumnsOnly ? Object.keys(this.reader.config.columnConfigs ?? {}) : columns;
  }
}

/**
 * tf.data.csv: the rows of a local CSV file (a path or a file:// URL). Without a label column each
 * element is {column: value}; with one it is {xs: {…}, ys: {label: value}}. Values are numbers
 * when they parse as numbers, strings otherwise, undefined when empty; a column with a numeric
 * dtype must hold numbers.
 */
export function csv<const C extends CSVConfig = {}>(source: string | URL, config?: C): CSVDataset<CsvElement<C>> {
  const loc = currentUserLoc();
  return new CSVDataset<CsvElement<C>>(new CsvReader(localPath(source, loc), config ?? {}, loc));
}

/** A whole CSV file as flat arrays: xs is [numExamples, features] row-major, ys one label per row. */
export interface CsvTensors {
  xs: Float32Array;
  ys: Float32Array;
  numExamples: number;
  /** Number of feature columns (every column but the label). */
  features: number;
  featureNames: string[];
  labelColumn: string;
  /** When labels are text: the class names, ys holding indices into this list (sorted); empty when labels are numbers. */
  labelNames: string[];
}

/**
 * Loads a CSV file with a header into flat float arrays, for fast training. The label column is
 * `labelColumn`, or the last column. Every feature must be a number; text labels become class
 * indices (see labelNames).
 */
export function csvTensors(path: string, options: { labelColumn?: string } = {}): CsvTensors {
  const loc = currentUserLoc();
  const file = localPath(path, loc);
  const records = parseCsv(readText(file, loc), ",", file);
  const header = records.next();
  if (header.done) throw new TfcError("TFC7012", `${file} is empty: expected a header line with the column names`, { loc });
  const names = header.value.fields;
  const labelColumn = options.labelColumn ?? names[names.length - 1]!;
  const labelIndex = names.indexOf(labelColumn);
  if (labelIndex < 0) throw unknownColumn(labelColumn, names, file, loc);
  const featureNames = names.filter((_, i) => i !== labelIndex);

  const xs: number[] = [];
  const labels: string[] = [];
  for (const record of records) {
    checkFieldCount(record, names, file);
    record.fields.forEach((raw, i) => {
      if (raw.trim() === "") throw missingValue(names[i]!, record, i, file);
      if (i === labelIndex) labels.push(raw);
      else xs.push(parseNumber(raw, names[i]!, record, i, file));
    });
  }
  if (labels.length === 0) throw new TfcError("TFC7012", `${file} has a header but no data rows`, { loc });

  const numeric = labels.every((s) => !Number.isNaN(Number(s)));
  const labelNames = numeric ? [] : [...new Set(labels)].sort();
  const classIndex = new Map(labelNames.map((name, i) => [name, i]));
  const ys = Float32Array.from(labels, (s) => (numeric ? Number(s) : classIndex.get(s)!));
  return { xs: Float32Array.from(xs), ys, numExamples: labels.length, features: featureNames.length, featureNames, labelColumn, labelNames };
}

/** Reads a file per iteration, checks the config against its header and turns records into elements. */
class CsvReader {
  constructor(
    readonly file: string,
    readonly config: CSVConfig,
    private readonly loc: SourceLoc | undefined,
  ) {
    const { delimiter, delimWhitespace } = config;
    if (delimWhitespace && delimiter !== undefined) throw this.configError("give either delimiter or delimWhitespace, not both");
    if (delimiter !== undefined && (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r")) {
      throw this.configError(`delimiter must be one character other than a quote or a newline, got ${JSON.stringify(delimiter)}`);
    }
    for (const [name, c] of Object.entries(config.columnConfigs ?? {})) {
      if (c.dtype !== undefined && !["float32", "int32", "bool"].includes(c.dtype)) {
        throw this.configError(`column '${name}' has dtype ${JSON.stringify(c.dtype)}; CSV columns are float32, int32 or bool`);
      }
    }
  }

  /** The file's records (after the header) and the column names, checked against the config. */
  open(): { columns: string[]; records: Iterator<CsvRecord> } {
    const { hasHeader = true, columnNames, columnConfigs = {} } = this.config;
    const records = parseCsv(readText(this.file, this.loc), this.config.delimWhitespace ? "whitespace" : (this.config.delimiter ?? ","), this.file);
    let columns = columnNames ? [...columnNames] : undefined;
    if (hasHeader) {
      const header = records.next();
      if (header.done) throw new TfcError("TFC7012", `${this.file} is empty: expected a header line with the column names`, { loc: this.loc });
      if (columns && columns.length !== header.value.fields.length) {
        throw this.configError(`columnNames has ${columns.length} names but the header line of ${this.file} has ${header.value.fields.length} columns`);
      }
      columns ??= header.value.fields;
    }
    if (!columns) throw this.configError("without a header line (hasHeader: false), columnNames must name the columns");
    const duplicates = columns.filter((c, i) => columns!.indexOf(c) !== i);
    if (duplicates.length > 0) throw this.configError(`duplicate column names in ${this.file}: ${[...new Set(duplicates)].join(", ")}`);
    for (const name of Object.keys(columnConfigs)) {
      if (!columns.includes(name)) throw unknownColumn(name, columns, this.file, this.loc, "the columnConfigs key");
    }
    return { columns, records };
  }

  async *elements(): AsyncGenerator<CsvRow | LabeledCsvRow, void, undefined> {
    const { columns, records } = this.open();
    const configs = this.config.columnConfigs ?? {};
    const hasLabel = Object.values(configs).some((c) => c.isLabel);
    for (let r = records.next(); !r.done; r = records.next()) {
      const record = r.value;
      checkFieldCount(record, columns, this.file);
      const xs: CsvRow = {};
      const ys: CsvRow = {};
      columns.forEach((name, i) => {
        const config = configs[name];
        if (this.config.configuredColumnsOnly && !config) return;
        (config?.isLabel ? ys : xs)[name] = parseValue(record, i, name, config, this.file);
      });
      yield hasLabel ? { xs, ys } : xs;
    }
  }

  private configError(message: string): TfcError {
    return new TfcError("TFC7007", `csv(): ${message}`, { loc: this.loc });
  }
}

/** One value by TF.js's rules, except that a column with a numeric dtype must hold a number. */
function parseValue(record: CsvRecord, i: number, name: string, config: ColumnConfig | undefined, file: string): CsvValue {
  const raw = record.fields[i]!;
  if (raw.trim() === "") {
    if (config?.default !== undefined) return config.default;
    if (config?.required || config?.isLabel) throw missingValue(name, record, i, file);
    return undefined;
  }
  switch (config?.dtype) {
    case "bool":
      return raw === "1" || raw.toLowerCase() === "true" ? 1 : 0;
    case "float32":
      return parseNumber(raw, name, record, i, file);
    case "int32":
      return Math.floor(parseNumber(raw, name, record, i, file));
    default: {
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
    }
  }
}

function parseNumber(raw: string, name: string, record: CsvRecord, i: number, file: string): number {
  const n = Number(raw);
  if (Number.isNaN(n)) {
    throw new TfcError("TFC7010", `${file}:${record.line}: value ${JSON.stringify(raw)} in column '${name}' is not a number`, { loc: fieldLoc(record, i, file) });
  }
  return n;
}

function missingValue(name: string, record: CsvRecord, i: number, file: string): TfcError {
  return new TfcError("TFC7009", `${file}:${record.line}: required column '${name}' is empty`, { loc: fieldLoc(record, i, file) });
}

function checkFieldCount(record: CsvRecord, columns: readonly string[], file: string): void {
  if (record.fields.length !== columns.length) {
    throw new TfcError("TFC7008", `${file}:${record.line}: row has ${record.fields.length} fields, expected ${columns.length} (${columns.join(", ")})`, {
      loc: fieldLoc(record, 0, file),
    });
  }
}

function unknownColumn(name: string, columns: readonly string[], file: string, loc: SourceLoc | undefined, what = "the label column"): TfcError {
  const hint = closest(name, columns);
  return new TfcError("TFC7007", `${what} '${name}' is not a column of ${file}`, {
    loc,
    notes: [hint ? `did you mean '${hint}'?` : `the columns are: ${columns.join(", ")}`],
  });
}

/** The position of a field in the CSV file, so diagnostics show the offending line. */
function fieldLoc(record: CsvRecord, i: number, file: string): SourceLoc {
  return { file, line: record.line, column: record.columns[i] ?? 1 };
}

// Reading

/** A path from a path or file:// URL; other URLs are refused (nothing is downloaded). */
function localPath(source: string | URL, loc: SourceLoc | undefined): string {
  const text = String(source);
  if (text.startsWith("file://")) return fileURLToPath(text);
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(text)) {
    throw new TfcError("TFC7006", `csv(): cannot read ${text}: tfc reads local files (a path or a file:// URL)`, { loc, notes: ["download the file first"] });
  }
  return text;
}

function readText(file: string, loc: SourceLoc | undefined): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new TfcError("TFC7006", `cannot read CSV file ${file}: ${reason}`, { loc });
  }
}

// RFC 4180 parsing

/** One record: its fields, the line it starts on and each field's column (1-based). */
export interface CsvRecord {
  fields: string[];
  line: number;
  columns: number[];
}

const QUOTE = 34, LF = 10, CR = 13, SPACE = 32, TAB = 9;

/**
 * The records of a CSV text, per RFC 4180: fields in double quotes may hold delimiters, newlines
 * and doubled quotes (""). CRLF and LF end records; blank lines are skipped; a leading BOM is
 * ignored. "whitespace" splits on runs of spaces and tabs.
 */
export function* parseCsv(text: string, delimiter: string, file: string): Generator<CsvRecord, void, undefined> {
  const whitespace = delimiter === "whitespace";
  const delim = whitespace ? -1 : delimiter.charCodeAt(0);
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = pos;

  const isNewline = (p: number): boolean => text.charCodeAt(p) === LF || (text.charCodeAt(p) === CR && (p + 1 === n || text.charCodeAt(p + 1) === LF));
  const isSeparator = (p: number): boolean => (whitespace ? text.charCodeAt(p) === SPACE || text.charCodeAt(p) === TAB : text.charCodeAt(p) === delim);
  const skipBlanks = (): void => {
    if (whitespace) while (pos < n && (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB)) pos++;
  };
  const endLine = (): void => {
    pos += text.charCodeAt(pos) === CR ? 2 : 1;
    line++;
    lineStart = pos;
  };

  while (pos < n) {
    skipBlanks();
    if (pos >= n) break;
    if (isNewline(pos)) {
      endLine(); // blank line
      continue;
    }
    const record: CsvRecord = { fields: [], line, columns: [] };
    for (;;) {
      record.columns.push(pos - lineStart + 1);
      if (text.charCodeAt(pos) === QUOTE) {
        const openLine = line;
        const openColumn = pos - lineStart + 1;
        let value = "";
        pos++;
        for (;;) {
          const close = text.indexOf('"', pos);
          if (close < 0) {
            throw new TfcError("TFC7011", `${file}:${openLine}: quoted field is never closed (no matching '"')`, { loc: { file, line: openLine, column: openColumn } });
          }
          const chunk = text.slice(pos, close);
          for (let k = chunk.indexOf("\n"); k >= 0; k = chunk.indexOf("\n", k + 1)) {
            line++;
            lineStart = pos + k + 1;
          }
          value += chunk;
          pos = close + 1;
          if (text.charCodeAt(pos) !== QUOTE) break;
          value += '"'; // "" inside quotes is one quote
          pos++;
        }
        record.fields.push(value);
        if (pos < n && !isNewline(pos) && !isSeparator(pos)) {
          throw new TfcError("TFC7011", `${file}:${line}: unexpected ${JSON.stringify(text[pos])} after a closing quote; a quoted field ends at the delimiter or the end of the line`, {
            loc: { file, line, column: pos - lineStart + 1 },
          });
        }
      } else {
        const start = pos;
        while (pos < n && !isSeparator(pos) && !isNewline(pos)) pos++;
        record.fields.push(text.slice(start, pos));
      }
      if (pos < n && isSeparator(pos)) {
        pos++;
        skipBlanks();
        if (whitespace && (pos >= n || isNewline(pos))) break; // trailing whitespace ends the record
        continue;
      }
      break;
    }
    if (pos < n) endLine();
    yield record;
  }
}
