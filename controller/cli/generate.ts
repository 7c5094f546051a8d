import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import {
  checkManifestsOwner,
  checkManifestsPath,
  manifestsFileState,
} from "../io/manifests-file.js";
import { nodeFileReader } from "../io/node-file-reader.js";
import { planRepository, writeRepository } from "../io/write-repository.js";
import { buildPool, poolWarnings } from "../kube/render/index.js";
import { formatManifests } from "../kube/yaml.js";
import { type Policy, parseModelPool } from "../policy/index.js";
import { buildRepository } from "../repository/build.js";
import { listTemplates } from "../repository/templates.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import type { InputReader } from "../util/input.js";
import {
  assertOutputPath,
  cannotWrite,
  checkOutputPath,
  rethrowWriteError,
} from "../util/output-path.js";
import { templatesDir } from "../util/package-root.js";
import { readInputText } from "./inputs.js";
import {
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  printProblems,
  printWarnings,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale generate <pool.yaml> --out <dir> [--check] [--templates <dir>]
                                  [--convert-folder]

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

A <dir>/model-repository that is a plain folder (written by an older tritonscale or by
hand) is refused: turning it into the link takes two renames, with a moment between them
where the path is missing, and a Triton polling it then would unload its models. Stop
Triton's polling (or point it at a new --out) and pass --convert-folder to accept that
moment once; later writes flip the link atomically.

Options:
  --out <dir>        output folder (required)
  --check            write nothing; exit 1 if the output would change
  --templates <dir>  template folder (default: the repo-templates/ shipped with tritonscale)
  --convert-folder   turn a plain model-repository folder into the link (see above)
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
  values: {
    out: string;
    check?: boolean | undefined;
    templates?: string | undefined;
    "convert-folder"?: boolean | undefined;
  },
): Promise<number> {
  const out = values.out;
  const templates = values.templates ?? templatesDir;
  const policy = await loadPool(inputsOf(io), poolFile, listTemplates(nodeFileReader, templates));
  const build = buildRepository(policy, templates, nodeFileReader);
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
  const manifests = new TextEncoder().encode(formatManifests(buildPool(policy)));
  const models = `${build.models.length} model${build.models.length === 1 ? "" : "s"}`;
  assertOutputPath(out, "directory");
  const pathProblems = [
    checkOutputPath(root, "directory"),
    checkManifestsPath(manifestsDir, manifestsFile),
  ].filter((p) => p !== undefined);
  if (pathProblems.length > 0) throw new InputError(pathProblems);
  const plan = planRepository(root, pool, build.tree);
  const manifestsState = manifestsFileState(manifestsFile, manifests);
  const manifestsProblem =
    manifestsState === "changed" ? checkManifestsOwner(manifestsFile, pool) : undefined;
  const convertProblem =
    plan.layout === "directory" && plan.diff.changed && !values.check && !values["convert-folder"]
      ? cannotWrite(
          root,
          "is a plain folder; replacing it with tritonscale's link (flipped atomically by every later generate) takes two renames, with a moment where the path is missing, and a Triton polling it then would unload its models: stop Triton's polling (or choose a new --out) and pass --convert-folder",
        )
      : undefined;
  const problems = [
    ...plan.problems,
    ...(manifestsProblem ? [manifestsProblem] : []),
    ...(convertProblem ? [convertProblem] : []),
  ];
  if (problems.length > 0) throw new InputError(problems);
  // The pool is valid and the output writable: now warnings are worth reading.
  printWarnings(io, poolWarnings(policy));

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

/**
 * Loads the pool. An invalid pool's problems include its unknown templates, so every
 * problem is reported at once; a valid pool's templates are checked by the build, beside
 * the build's own problems.
 */
async function loadPool(
  inputs: InputReader,
  file: string,
  templates: readonly string[],
): Promise<Policy> {
  const { file: shown, text } = await readInputText(inputs, file, {
    expected: "a ModelPool (YAML)",
  });
  const r = parseModelPool(text, shown);
  if (r.policy !== undefined) return r.policy;
  // Invalid: report the unknown templates in the same pass as every other problem.
  const all = parseModelPool(text, shown, { templates }).problems;
  throw new InputError(all, `${shown}: invalid ModelPool`);
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
      "convert-folder": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
