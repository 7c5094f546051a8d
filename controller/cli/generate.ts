import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import { loadModelPoolFile } from "../policy/index.js";
import { buildRepository } from "../repository/build.js";
import { diffTree, replaceTree } from "../repository/write-tree.js";
import { templatesDir } from "../util/package-root.js";
import {
  type CommandIO,
  commandLine,
  ExitCode,
  printProblems,
  processIO,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale generate <pool.yaml> --out <dir> [--check] [--templates <dir>]

Generates the Triton model repository of a ModelPool into <dir>/model-repository/:
one folder per model with its config.pbtxt, and the version folder with the model file
where the pool names a local modelFile (and model.py for ensemble steps).

The folder is replaced whole and atomically (written beside it, then renamed), and only
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
  let policy: Awaited<ReturnType<typeof loadModelPoolFile>>;
  try {
    policy = await loadModelPoolFile(poolFile);
  } catch (e) {
    if (e instanceof InputError) {
      printProblems(io, e.problems);
      io.stderr.write(`${poolFile}: ${e.problems.length} problem(s); nothing written\n`);
      return ExitCode.Problems;
    }
    throw e;
  }
  const build = buildRepository(policy, args.values.templates ?? templatesDir);
  if (build.problems.length > 0) {
    printProblems(io, build.problems);
    io.stderr.write(`${poolFile}: ${build.problems.length} problem(s); nothing written\n`);
    return ExitCode.Problems;
  }
  const target = join(args.values.out, "model-repository");
  const models = `${build.models.length} model${build.models.length === 1 ? "" : "s"}`;
  if (args.values.check) {
    const diff = diffTree(target, build.tree);
    if (!diff.changed) {
      io.stdout.write(`${target}: up to date (${models})\n`);
      return ExitCode.Ok;
    }
    for (const p of diff.added) io.stdout.write(`would add ${join(target, p)}\n`);
    for (const p of diff.modified) io.stdout.write(`would change ${join(target, p)}\n`);
    for (const p of diff.removed) io.stdout.write(`would remove ${join(target, p)}\n`);
    io.stderr.write(`${target}: out of date; run tritonscale generate without --check\n`);
    return ExitCode.Problems;
  }
  const diff = replaceTree(target, build.tree);
  if (!diff.changed) {
    io.stdout.write(`${target}: unchanged (${models})\n`);
  } else {
    io.stdout.write(
      `${target}: wrote ${models} (${diff.added.length} added, ${diff.modified.length} changed, ${diff.removed.length} removed files)\n`,
    );
    for (const m of build.models) io.stdout.write(`  ${m.name}/config.pbtxt  (${m.role})\n`);
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
