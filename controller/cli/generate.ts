import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import { buildPool } from "../kube/render/index.js";
import { formatManifests } from "../kube/yaml.js";
import { type Policy, parseModelPool } from "../policy/index.js";
import { buildRepository } from "../repository/build.js";
import { listTemplates } from "../repository/templates.js";
import { diffTree, replaceTree } from "../repository/write-tree.js";
import type { InputReader } from "../util/input.js";
import { templatesDir } from "../util/package-root.js";
import { readInputText } from "./inputs.js";
import {
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
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
  const templates = values.templates ?? templatesDir;
  const policy = await loadPool(inputsOf(io), poolFile, listTemplates(templates));
  const build = buildRepository(policy, templates);
  if (build.problems.length > 0) {
    printProblems(io, build.problems);
    io.stderr.write(`${poolFile}: ${build.problems.length} problem(s); nothing written\n`);
    return ExitCode.Problems;
  }
  // Both trees are built before anything is written: invalid input writes nothing.
  const manifests = formatManifests(buildPool(policy));
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
    const diff = replaceTree(o.dir, o.tree);
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
      help: { type: "boolean", short: "h" },
    },
  });
}
