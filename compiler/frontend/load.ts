// Loads a model file: ts-morph type-checks it (errors reported tsc-style, located), emits
// CommonJS in memory, and runs it with `import … from 'tfc'` resolved to this compiler's own API,
// wherever the file lies. Top-level code runs eagerly; the exports are then traced by trace.ts.

import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Project, SyntaxKind, ts, type SourceFile } from "ts-morph";
import { TfcError, TfcErrorList, closest, type SourceLoc } from "../../ir/errors.js";
import { registerUserFile, currentUserLocFromError } from "./location.js";
import * as api from "../api/index.js";
import { resetLayerNames } from "../api/layers/layer.js";
import { resetSeeds } from "../api/initializers.js";
import { resetModelNames } from "../api/models.js";
import { resetRandomSeed } from "../api/ops.js";
import { collectWarnings, type Warning } from "../api/warnings.js";

export interface LoadedModelFile {
  readonly file: string;
  readonly exports: Record<string, unknown>;
  /** Where each export is declared, for errors about the export itself. */
  readonly exportLocs: Map<string, SourceLoc>;
  readonly warnings: Warning[];
}

/** dist/compiler/api/index.d.ts of this installation: the types a model file sees for 'tfc'. */
function apiTypesPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // dist/compiler/frontend
  return path.resolve(here, "../api/index.d.ts");
}

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

export interface LoadOptions {
  /** What `import … from 'tfc'` gives the model file (tests pass TF.js itself, to run the same file as an oracle). */
  readonly tfcModule?: unknown;
}

export function loadModelFile(file: string, options: LoadOptions = {}): LoadedModelFile {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new TfcError("TFC1001", `cannot find model file '${file}'`);
  if (!/\.(ts|mts|cts|tsx)$/.test(abs)) throw new TfcError("TFC1002", `'${file}' is not a TypeScript file (expected .ts)`);

  const project = new Project({
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      ignoreDeprecations: "6.0",
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      types: [],
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      sourceMap: true,
      noEmitOnError: false,
      paths: { tfc: [apiTypesPath()] },
    },
  });
  const entry = project.addSourceFileAtPath(abs);
  project.resolveSourceFileDependencies();

  const errors = project
    .getPreEmitDiagnostics()
    .filter((d) => d.getCategory() === ts.DiagnosticCategory.Error)
    .map((d) => {
      const sf = d.getSourceFile();
      const start = d.getStart();
      let loc: SourceLoc | undefined;
      if (sf && start !== undefined) {
        const { line, column } = sf.getLineAndColumnAtPos(start);
        loc = { file: displayPath(sf.getFilePath()), line, column };
      }
      const text = ts.flattenDiagnosticMessageText(d.compilerObject.messageText, "\n");
      const err = (sf && start !== undefined ? unsupportedApi(d.getCode(), sf, start) : undefined) ?? new TfcError("TFC5001", `TS${d.getCode()}: ${text}`);
      if (loc) err.at(loc);
      return err;
    });
  if (errors.length > 0) throw new TfcErrorList(errors);

  // Emit every user source file to memory and run the entry module.
  const emitted = new Map<string, { code: string; map: string | undefined }>();
  const result = project.emitToMemory();
  const files = result.getFiles();
  for (const f of files) {
    if (!f.filePath.endsWith(".js")) continue;
    const mapFile = files.find((m) => m.filePath === f.filePath + ".map");
    const source = project.getSourceFiles().find((s) => s.getFilePath().replace(/\.(ts|mts|cts|tsx)$/, ".js") === f.filePath);
    if (!source) continue;
    emitted.set(source.getFilePath(), { code: f.text.replace(/\n\/\/# sourceMappingURL=.*$/m, ""), map: mapFile?.text });
  }

  const cache = new Map<string, { exports: Record<string, unknown> }>();
  const run = (tsPath: string): Record<string, unknown> => {
    const known = cache.get(tsPath);
    if (known) return known.exports;
    const unit = emitted.get(tsPath)!;
    const module = { exports: {} as Record<string, unknown> };
    cache.set(tsPath, module);
    registerUserFile(tsPath, displayPath(tsPath), unit.map);
    const nodeRequire = createRequire(tsPath);
    const localRequire = (spec: string): unknown => {
      if (spec === "tfc") return options.tfcModule ?? api;
      if (spec.startsWith(".") || spec.startsWith("/")) {
        const base = path.resolve(path.dirname(tsPath), spec);
        for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts"), base.replace(/\.js$/, ".ts")]) {
          if (emitted.has(candidate)) return run(candidate);
        }
      }
      return nodeRequire(spec);
    };
    const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {\n${unit.code}\n})`, { filename: tsPath, lineOffset: -1 });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    wrapper(module.exports, localRequire, module, tsPath, path.dirname(tsPath));
    return module.exports;
  };

  resetLayerNames();
  resetSeeds();
  resetModelNames();
  resetRandomSeed();
  const warnings: Warning[] = [];
  let exports: Record<string, unknown>;
  try {
    exports = collectWarnings(warnings, () => run(entry.getFilePath()));
  } catch (e) {
    throw asLocatedError(e, "TFC5005", "the model file threw an error while loading");
  }
  const exportLocs = new Map<string, SourceLoc>();
  for (const sym of entry.getExportSymbols()) {
    const decl = sym.getDeclarations()[0];
    if (!decl) continue;
    const { line, column } = entry.getLineAndColumnAtPos(decl.getStart());
    exportLocs.set(sym.getName(), { file: displayPath(abs), line, column });
  }
  return { file: abs, exports, exportLocs, warnings };
}

/**
 * TS2339 or TS2551 ("property does not exist") on something tfc's API declares — `tf.fft`, `tf.layers.Dense`,
 * `x.fft()` — means the model uses a TF.js name tfc does not have (yet): say so in those words,
 * with the Keras → TF.js spelling or the closest name tfc has.
 */
function unsupportedApi(code: number, sf: SourceFile, pos: number): TfcError | undefined {
  if (code !== 2339 && code !== 2551) return undefined; // 2551: the same, with a suggestion
  const access = sf.getDescendantAtPos(pos)?.getParentIfKind(SyntaxKind.PropertyAccessExpression);
  if (!access) return undefined;
  const object = access.getExpression();
  const declaredIn = object.getType().getSymbol()?.getDeclarations()[0]?.getSourceFile().getFilePath() ?? object.getSymbol()?.getDeclarations()[0]?.getSourceFile().getFilePath();
  const apiDir = path.dirname(apiTypesPath());
  if (!declaredIn || !path.resolve(declaredIn).startsWith(apiDir)) return undefined;
  const name = access.getName();
  const candidates = object.getType().getProperties().map((p) => p.getName());
  const camel = name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const lowerFirst = name.charAt(0).toLowerCase() + name.slice(1);
  const hint = [camel, lowerFirst].find((c) => c !== name && candidates.includes(c)) ?? closest(name, candidates);
  return new TfcError("TFC3010", `tfc does not support '${access.getText()}' (yet)`, {
    notes: hint ? [`did you mean '${object.getText()}.${hint}'?`] : ["the supported API is listed in the README"],
  });
}

/** Give any error thrown by user code a code and the user's source location. */
export function asLocatedError(e: unknown, code: string, context: string): TfcError | TfcErrorList {
  if (e instanceof TfcErrorList) return e;
  if (e instanceof TfcError) {
    if (!e.loc) e.at(currentUserLocFromError(e));
    return e;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return new TfcError(code, `${context}: ${err.name === "Error" ? "" : err.name + ": "}${err.message}`).at(currentUserLocFromError(err));
}
