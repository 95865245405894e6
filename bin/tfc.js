#!/usr/bin/env node
// Entry point of the `tfc` command: the compiled CLI lives in dist/ (built by `npm install`).
import { existsSync } from "node:fs";
const main = new URL("../dist/compiler/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("tfc is not built yet: run `npm install` (or `npm run build`) in the tfc folder first.\n");
  process.exit(1);
}
await import(main.href);
