import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import { nodeFileReader } from "../io/node-file-reader.js";
import { diffTree, replaceTree, type TreeDiff } from "../io/write-tree.js";
import { renderPool } from "../kube/render/index.js";
import { formatManifests } from "../kube/yaml.js";
import { loadModelPoolFile } from "../policy/index.js";
import { buildRepository } from "../repository/build.js";
import { assertOutputPath, checkOutputPath, rethrowWriteError } from "../util/output-path.js";
import { templatesDir } from "../util/package-root.js";
import {
  type CommandIO,
  commandLine,
  ExitCode,
  printProblems,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale generate <pool.yaml> --out <dir> [--check] [--templates <dir>]

Generates the Triton model repository of a ModelPool into <dir>/model-repository/:
one folder per model with its config.pbtxt, and the version folder with the model file
where the pool names a local modelFile (and model.py for ensemble steps); and the pool's
Kubernetes objects into <dir>/manifests/<namespace>-<pool>.yaml (as \`tritonscale render\`).

Each folder is replaced whole and atomically (written beside it, then renamed), and only
when its content changes; invalid input writes nothing.

Options:
  --out <dir>        output folder (required)
  --check            write nothing; exit 1 if the output would change
  --templates <dir>  template folder (default: the repo-templates/ shipped with tritonscale)
  -h, --help         show this help
`;

/** `tritonscale generate`: ModelPool → model repository on disk. */
export async function runGenerate(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const args = commandLine(io, "generate", HELP, argv, parse);
  if (typeof args === "number") return args;
  const [poolFile, ...extra] = args.positionals;
  if (!poolFile || extra.length > 0 || !args.values.out) {
    return usageError(io, "generate", "expected one <pool.yaml> and --out <dir>", HELP);
  }
  const out = args.values.out;
  return reportInputErrors(
    io,
    () => generate(io, poolFile, { ...args.values, out }),
    (n) => `${poolFile}: ${n} problem(s); nothing written`,
  );
}

async function generate(
  io: CommandIO,
  poolFile: string,
  values: { out: string; check?: boolean | undefined; templates?: string | undefined },
): Promise<number> {
  const out = values.out;
  const policy = await loadModelPoolFile(poolFile);
  const build = buildRepository(policy, values.templates ?? templatesDir, nodeFileReader);
  if (build.problems.length > 0) {
    printProblems(io, build.problems);
    io.stderr.write(`${poolFile}: ${build.problems.length} problem(s); nothing written\n`);
    return ExitCode.Problems;
  }
  // Both trees are built before anything is written: invalid input writes nothing.
  const manifests = formatManifests(renderPool(policy));
  const outputs = [
    {
      dir: join(out, "model-repository"),
      tree: build.tree,
      what: `${build.models.length} model${build.models.length === 1 ? "" : "s"}`,
    },
    {
      dir: join(out, "manifests"),
      tree: new Map([
        [
          `${policy.metadata.namespace}-${policy.metadata.name}.yaml`,
          new TextEncoder().encode(manifests),
        ],
      ]),
      what: "Kubernetes objects",
    },
  ];
  // Every output path is checked before anything is written: a bad one writes nothing.
  assertOutputPath(out, "directory");
  const pathProblems = outputs
    .map((o) => checkOutputPath(o.dir, "directory"))
    .filter((p) => p !== undefined);
  if (pathProblems.length > 0) throw new InputError(pathProblems);
  if (values.check) {
    let stale = false;
    for (const o of outputs) {
      const diff = diffTree(o.dir, o.tree);
      if (!diff.changed) {
        io.stdout.write(`${o.dir}: up to date (${o.what})\n`);
        continue;
      }
      stale = true;
      for (const p of diff.added) io.stdout.write(`would add ${join(o.dir, p)}\n`);
      for (const p of diff.modified) io.stdout.write(`would change ${join(o.dir, p)}\n`);
      for (const p of diff.removed) io.stdout.write(`would remove ${join(o.dir, p)}\n`);
    }
    if (!stale) return ExitCode.Ok;
    io.stderr.write(`${out}: out of date; run tritonscale generate without --check\n`);
    return ExitCode.Problems;
  }
  for (const o of outputs) {
    let diff: TreeDiff;
    try {
      diff = replaceTree(o.dir, o.tree);
    } catch (e) {
      rethrowWriteError(o.dir, e);
    }
    if (!diff.changed) {
      io.stdout.write(`${o.dir}: unchanged (${o.what})\n`);
      continue;
    }
    io.stdout.write(
      `${o.dir}: wrote ${o.what} (${diff.added.length} added, ${diff.modified.length} changed, ${diff.removed.length} removed files)\n`,
    );
    if (o.tree === build.tree) {
      for (const m of build.models) io.stdout.write(`  ${m.name}/config.pbtxt  (${m.role})\n`);
    }
  }
  return ExitCode.Ok;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", short: "o" },
      check: { type: "boolean" },
      templates: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
