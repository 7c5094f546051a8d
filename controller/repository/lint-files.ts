/**
 * The reading side of `tritonscale config lint`: expands paths to config files, reads and
 * parses each once (through the injected input reader), builds the model repository index
 * for the cross-model checks, and runs the lint rules. The rules themselves are pure, in
 * `lint/`.
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { type Problem, sortProblems } from "../diagnostics/problem.js";
import { fileProblem, type InputReader, type ReadOptions, STDIN_PATH } from "../util/input.js";
import {
  lintModelConfig,
  modelFolderOf,
  parseProblemRule,
  type RepositoryIndex,
  type RepositoryModel,
} from "./lint/index.js";
import { type ParsedModelConfig, parseModelConfig } from "./model-config.js";

/** What {@link lintFiles} found. */
export interface LintFilesResult {
  /** The config files linted, in the order linted (as the user named them, or joined under a named directory). */
  readonly files: readonly string[];
  /**
   * Every problem: parse problems (rule `syntax` or `schema`), lint findings (the rule's
   * name), and unreadable paths (rule `file`), sorted by file, line and column.
   */
  readonly problems: readonly Problem[];
}

/** Directories never descended into when expanding a directory argument. */
const SKIP_DIRS: ReadonlySet<string> = new Set(["node_modules", ".git"]);

function isConfigFile(name: string): boolean {
  return name === "config.pbtxt" || name.endsWith(".pbtxt");
}

/** Directories deeper than this below a named directory are not searched (link loops). */
const MAX_DEPTH = 32;

/** The config files under `dir`, depth first in name order. */
async function expandDirectory(reader: InputReader, dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  if (depth > MAX_DEPTH) return out;
  for (const e of await reader.list(dir)) {
    const path = join(dir, e.name);
    if (e.kind === "directory") {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) {
        for (const f of await expandDirectory(reader, path, depth + 1)) out.push(f);
      }
    } else if (e.kind === "file" && isConfigFile(e.name)) {
      out.push(path);
    }
  }
  return out;
}

/** A problem with a whole path, under lint's rule `file`. */
function pathProblem(file: string, message: string): Problem {
  return { ...fileProblem(file, message), rule: "file" };
}

/** Reads and parses each config file once, keyed by absolute path. */
class ConfigCache {
  private readonly parsed = new Map<string, Promise<ParsedModelConfig | readonly Problem[]>>();

  constructor(
    private readonly reader: InputReader,
    private readonly options: ReadOptions,
  ) {}

  /**
   * The parsed config at `file`, its problems naming `file`; or why it cannot be read
   * (the reader's problems, in its one wording).
   */
  async get(file: string): Promise<ParsedModelConfig | readonly Problem[]> {
    const key = resolve(file);
    let p = this.parsed.get(key);
    if (p === undefined) {
      p = this.reader
        .readText(file, {
          expected: "a Triton model configuration (protobuf text format)",
          ...this.options,
        })
        .then((r) => (r.ok ? parseModelConfig(r.input.text, file) : r.problems));
      this.parsed.set(key, p);
    }
    const parsed = await p;
    if (isProblems(parsed)) return parsed.map((q) => ({ ...q, file, rule: "file" }));
    if (parsed.file === file) return parsed;
    // First read under another spelling of the same path (e.g. as a sibling model).
    return { ...parsed, file, problems: parsed.problems.map((q) => ({ ...q, file })) };
  }
}

function isProblems(x: ParsedModelConfig | readonly Problem[]): x is readonly Problem[] {
  return Array.isArray(x);
}

/**
 * The models of the repository at `root` (named `shown` in messages): every sub-folder
 * (or link to one) with a `config.pbtxt`, or with a numeric version folder (Triton
 * auto-completes a missing config).
 */
async function loadRepositoryIndex(
  reader: InputReader,
  root: string,
  shown: string,
  cache: ConfigCache,
): Promise<RepositoryIndex> {
  const models = new Map<string, RepositoryModel>();
  for (const e of await reader.list(root)) {
    if (e.name.startsWith(".") || e.kind !== "directory") continue;
    const dir = join(root, e.name);
    const file = join(dir, "config.pbtxt");
    const parsed = (await reader.kind(file)) === "file" ? await cache.get(file) : [];
    if (!isProblems(parsed)) {
      const config = parsed.problems.length === 0 ? parsed.config : undefined;
      models.set(e.name, { name: e.name, file, ...(config ? { config } : {}) });
      continue;
    }
    const subdirs = await reader.list(dir);
    if (subdirs.some((s) => s.kind === "directory" && /^\d+$/.test(s.name))) {
      models.set(e.name, { name: e.name });
    }
  }
  return { root: shown, models };
}

/**
 * Lints config files and directories: a directory is searched recursively for
 * `config.pbtxt` and other `*.pbtxt` files. For a file named `config.pbtxt`, its folder is
 * the model and the folder above is the model repository; the sibling models'
 * `config.pbtxt` files are read (once) to check ensemble steps against them. Any other file
 * name (e.g. a flattened copy) is linted alone, without the cross-model checks.
 */
export async function lintFiles(
  paths: readonly string[],
  reader: InputReader,
  options: ReadOptions = {},
): Promise<LintFilesResult> {
  const problems: Problem[] = [];
  const files: string[] = [];
  for (const path of paths) {
    if (path === STDIN_PATH || (await reader.kind(path)) !== "directory") {
      files.push(path);
      continue;
    }
    const found = await expandDirectory(reader, path);
    if (found.length === 0)
      problems.push(pathProblem(path, "no config.pbtxt or *.pbtxt files in this directory"));
    for (const f of found) files.push(f);
  }

  const unique = [...new Map(files.map((f) => [f === STDIN_PATH ? f : resolve(f), f])).values()];
  const cache = new ConfigCache(reader, options);
  const repos = new Map<string, Promise<RepositoryIndex>>();
  for (const file of unique) {
    const parsed = await cache.get(file);
    if (isProblems(parsed)) {
      for (const p of parsed) problems.push(p);
      continue;
    }
    for (const p of parsed.problems) problems.push({ ...p, rule: parseProblemRule(parsed, p) });
    const abs = resolve(file);
    const folder = modelFolderOf(abs);
    let repo: RepositoryIndex | undefined;
    if (folder !== undefined) {
      const root = dirname(dirname(abs));
      let index = repos.get(root);
      if (index === undefined) {
        const shown = isAbsolute(file) ? root : relative(process.cwd(), root) || ".";
        index = loadRepositoryIndex(reader, root, shown, cache);
        repos.set(root, index);
      }
      repo = await index;
    }
    const findings = lintModelConfig(parsed, {
      ...(repo ? { repo } : {}),
      ...(folder !== undefined ? { modelFolder: folder } : {}),
    });
    // A loop, not push(...findings): spreading 200,000 findings into one call overflows the stack.
    for (const f of findings) problems.push(f);
  }
  return { files: unique, problems: sortProblems(problems) };
}
