import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/reference.js";

/**
 * Every input goes through the one input reader (controller/cli/read-input.ts), so missing,
 * unreadable, oversized and binary files are handled the same in every command. This test
 * fails when any other module of controller/ touches the file system, unless it is listed
 * here with the reason it may.
 */
const MAY_USE_FS: Readonly<Record<string, string>> = {
  "controller/cli/read-input.ts": "the one input reader",
  "controller/io/node-file-reader.ts":
    "the generator's reads (templates, model files): the synchronous twin, same wording",
  "controller/cli/main.ts": "reads the package's own package.json for --version",
  "controller/util/package-root.ts": "finds the installed package's folder",
  "controller/util/atomic-file.ts": "writes output files atomically",
  "controller/util/output-path.ts": "checks output paths before anything is written",
  "controller/io/write-tree.ts": "writes (and compares with) generated files",
  "controller/io/write-repository.ts": "writes the model repository and flips its link",
  "controller/io/manifests-file.ts": "reads back the manifests file generate wrote, to own it",
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Module specifiers that reach the file system. */
const FS_MODULE = /(?:from|import\()\s*["'](?:node:)?fs(?:\/promises)?["']/;

describe("one input reader", () => {
  it("no module but the listed ones uses the file system", () => {
    const offenders = sources(join(projectRoot, "controller"))
      .map((f) => relative(projectRoot, f))
      .filter((f) => FS_MODULE.test(readFileSync(join(projectRoot, f), "utf8")))
      .filter((f) => !Object.hasOwn(MAY_USE_FS, f));
    expect(offenders, "read inputs through controller/cli/read-input.ts").to.deep.equal([]);
  });

  it("the check catches every way to import fs", () => {
    for (const line of [
      'import { readFileSync } from "node:fs";',
      'import { readFile } from "node:fs/promises";',
      "import * as fs from 'fs';",
      'const fs = await import("node:fs");',
    ]) {
      expect(FS_MODULE.test(line), line).to.equal(true);
    }
    expect(FS_MODULE.test('import { x } from "./fs-like.js";')).to.equal(false);
  });

  it("every listed module exists and still uses the file system", () => {
    for (const f of Object.keys(MAY_USE_FS)) {
      expect(FS_MODULE.test(readFileSync(join(projectRoot, f), "utf8")), f).to.equal(true);
    }
  });
});
