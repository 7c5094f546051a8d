import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import { checkManifestsOwner } from "../io/manifests-file.js";
import { nodeFileReader } from "../io/node-file-reader.js";
import { planRepository, writeRepository } from "../io/write-repository.js";
import { sameContent } from "../io/write-tree.js";
import { renderPool } from "../kube/render/index.js";
import { formatManifests } from "../kube/yaml.js";
import { loadModelPoolFile } from "../policy/index.js";
import { buildRepository } from "../repository/build.js";
import { writeFileAtomic } from "../util/atomic-file.js";
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

Several pools may share one <dir>: a pool replaces only its own manifests file and the
files it wrote in its own model folders (each holds a .tritonscale-owner.json naming the
pool and those files), keeps files put there by hand, and refuses a model folder written
for another pool or by hand. <dir>/model-repository is a link to a complete
tree in <dir>/.model-repository.trees/, flipped with one rename, so a Triton polling it sees
the old tree or the new one, never a missing or half-written one. Nothing is written when
nothing changed, and nothing at all when the input or an output path is bad.

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
  // Everything is built and checked before anything is written: bad input writes nothing.
  const pool = `${policy.metadata.namespace}/${policy.metadata.name}`;
  const root = join(out, "model-repository");
  const manifestsDir = join(out, "manifests");
  const manifestsFile = join(
    manifestsDir,
    `${policy.metadata.namespace}-${policy.metadata.name}.yaml`,
  );
  const manifests = new TextEncoder().encode(formatManifests(renderPool(policy)));
  const models = `${build.models.length} model${build.models.length === 1 ? "" : "s"}`;
  assertOutputPath(out, "directory");
  const pathProblems = [
    checkOutputPath(root, "directory"),
    checkOutputPath(manifestsDir, "directory") ??
      (existsSync(manifestsDir) ? checkOutputPath(manifestsFile, "file") : undefined),
  ].filter((p) => p !== undefined);
  if (pathProblems.length > 0) throw new InputError(pathProblems);
  const plan = planRepository(root, pool, build.tree);
  const manifestsState = !existsSync(manifestsFile)
    ? "added"
    : sameContent(manifestsFile, manifests)
      ? "unchanged"
      : "changed";
  const manifestsProblem =
    manifestsState === "changed" ? checkManifestsOwner(manifestsFile, pool) : undefined;
  if (plan.problems.length > 0 || manifestsProblem) {
    throw new InputError([...plan.problems, ...(manifestsProblem ? [manifestsProblem] : [])]);
  }

  if (values.check) {
    const { diff } = plan;
    if (!diff.changed) io.stdout.write(`${root}: up to date (${models})\n`);
    for (const p of diff.added) io.stdout.write(`would add ${join(root, p)}\n`);
    for (const p of diff.modified) io.stdout.write(`would change ${join(root, p)}\n`);
    for (const p of diff.removed) io.stdout.write(`would remove ${join(root, p)}\n`);
    if (manifestsState === "unchanged") {
      io.stdout.write(`${manifestsFile}: up to date (Kubernetes objects)\n`);
    } else {
      io.stdout.write(`would ${manifestsState === "added" ? "add" : "change"} ${manifestsFile}\n`);
    }
    if (!diff.changed && manifestsState === "unchanged") return ExitCode.Ok;
    io.stderr.write(`${out}: out of date; run tritonscale generate without --check\n`);
    return ExitCode.Problems;
  }

  try {
    writeRepository(plan);
  } catch (e) {
    rethrowWriteError(root, e);
  }
  const { diff } = plan;
  if (!diff.changed) {
    io.stdout.write(`${root}: unchanged (${models})\n`);
  } else {
    io.stdout.write(
      `${root}: wrote ${models} (${diff.added.length} added, ${diff.modified.length} changed, ${diff.removed.length} removed files)\n`,
    );
    if (plan.layout === "directory") {
      io.stdout.write(
        `  ${root} was a plain folder: it is now a link to a tree in ${join(out, ".model-repository.trees")}, flipped atomically by each generate\n`,
      );
    }
    for (const m of build.models) io.stdout.write(`  ${m.name}/config.pbtxt  (${m.role})\n`);
  }
  if (manifestsState === "unchanged") {
    io.stdout.write(`${manifestsFile}: unchanged (Kubernetes objects)\n`);
  } else {
    await writeFileAtomic(manifestsFile, manifests, { createFolder: true });
    io.stdout.write(`${manifestsFile}: wrote Kubernetes objects\n`);
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
