/**
 * The I/O side of `tritonscale config lint`: expands paths to config files, reads and
 * parses each once, builds the model repository index for the cross-model checks, and
 * runs the lint rules. The rules themselves are pure, in `lint/`.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { type Problem, sortProblems } from "../diagnostics/problem.js";
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

/** The config files under `dir`, depth first in name order. */
async function expandDirectory(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) {
        for (const f of await expandDirectory(path)) out.push(f);
      }
    } else if (e.isFile() && isConfigFile(e.name)) {
      out.push(path);
    }
  }
  return out;
}

function errorText(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  return e instanceof Error ? e.message : String(e);
}

function fileProblem(file: string, message: string): Problem {
  return { file, line: 0, col: 0, path: "", message, rule: "file" };
}

/** Reads and parses each config file once, keyed by absolute path. */
class ConfigCache {
  private readonly parsed = new Map<string, Promise<ParsedModelConfig | undefined>>();

  /** The parsed config at `file`, its problems naming `file`; undefined when it cannot be read. */
  async get(file: string): Promise<ParsedModelConfig | undefined> {
    const key = resolve(file);
    let p = this.parsed.get(key);
    if (p === undefined) {
      p = readFile(file, "utf8").then(
        (text) => parseModelConfig(text, file),
        () => undefined,
      );
      this.parsed.set(key, p);
    }
    const parsed = await p;
    if (parsed === undefined || parsed.file === file) return parsed;
    // First read under another spelling of the same path (e.g. as a sibling model).
    return { ...parsed, file, problems: parsed.problems.map((q) => ({ ...q, file })) };
  }
}

/** Whether `path` is a directory, following a symbolic link. */
async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The models of the repository at `root` (named `shown` in messages): every sub-folder
 * (or link to one) with a `config.pbtxt`, or with a numeric version folder (Triton
 * auto-completes a missing config).
 */
async function loadRepositoryIndex(
  root: string,
  shown: string,
  cache: ConfigCache,
): Promise<RepositoryIndex> {
  const models = new Map<string, RepositoryModel>();
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const dir = join(root, e.name);
    if (!(e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(dir))))) continue;
    const file = join(dir, "config.pbtxt");
    const parsed = await cache.get(file);
    if (parsed !== undefined) {
      const config = parsed.problems.length === 0 ? parsed.config : undefined;
      models.set(e.name, { name: e.name, file, ...(config ? { config } : {}) });
      continue;
    }
    const subdirs = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (subdirs.some((s) => s.isDirectory() && /^\d+$/.test(s.name))) {
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
export async function lintFiles(paths: readonly string[]): Promise<LintFilesResult> {
  const problems: Problem[] = [];
  const files: string[] = [];
  for (const path of paths) {
    try {
      const s = await stat(path);
      if (!s.isDirectory()) {
        files.push(path);
        continue;
      }
      const found = await expandDirectory(path);
      if (found.length === 0)
        problems.push(fileProblem(path, "no config.pbtxt or *.pbtxt files in this directory"));
      for (const f of found) files.push(f);
    } catch (e) {
      problems.push(fileProblem(path, errorText(e)));
    }
  }

  const unique = [...new Map(files.map((f) => [resolve(f), f])).values()];
  const cache = new ConfigCache();
  const repos = new Map<string, Promise<RepositoryIndex>>();
  for (const file of unique) {
    const parsed = await cache.get(file);
    if (parsed === undefined) {
      problems.push(fileProblem(file, "cannot read the file"));
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
        index = loadRepositoryIndex(root, shown, cache);
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
