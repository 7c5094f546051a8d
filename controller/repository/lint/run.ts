/**
 * Runs the registered rules over a parsed config and turns findings into problems with
 * the rule name and the file position.
 */
import { basename, dirname } from "node:path";
import { type Problem, sortProblems } from "../../diagnostics/problem.js";
import { createSuggester } from "../../diagnostics/suggest.js";
import { type ParsedModelConfig, positionOf } from "../model-config.js";
import { type LintRuleName, lintRules } from "./registry.js";
import type { LintContext, LintOptions, LintRule } from "./rule.js";

/** The rule name given to parse problems: `syntax` (the parse stopped) or `schema`. */
export type ParseRuleName = "syntax" | "schema";

/**
 * The rule a parse problem is reported under: `syntax` for the error that stopped the
 * parse (the last problem of an incomplete parse), `schema` for the others (unknown
 * field, bad enum, out of range...).
 */
export function parseProblemRule(parsed: ParsedModelConfig, p: Problem): ParseRuleName {
  return !parsed.complete && p === parsed.problems[parsed.problems.length - 1]
    ? "syntax"
    : "schema";
}

/**
 * The model folder of a config file: the parent folder of a file named `config.pbtxt`
 * (`<repository>/<model>/config.pbtxt`); undefined for any other file name.
 */
export function modelFolderOf(file: string): string | undefined {
  if (basename(file) !== "config.pbtxt") return undefined;
  const folder = basename(dirname(file));
  return folder === "" || folder === "." || folder === ".." ? undefined : folder;
}

/**
 * Whether `path` is one of `paths` or lies under one (`a.b[2].c` is under `a.b[2]`, `a.b`
 * and `a`; everything is under the empty path). Looks up each ancestor, so the cost is the
 * length of `path`, not the number of paths.
 */
function isUnderAny(path: string, paths: ReadonlySet<string>): boolean {
  if (paths.size === 0) return false;
  if (paths.has("")) return true;
  let p = path;
  for (;;) {
    if (paths.has(p)) return true;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return false;
    p = p.slice(0, cut);
  }
}

/**
 * Runs every lint rule on a parsed config and returns the findings as problems (with the
 * rule name, field path and file:line:col), sorted by position.
 *
 * Parse problems are not included (they are `parsed.problems`). After a syntax error the
 * config is incomplete, so no rule runs; findings on a field that already has a schema
 * problem are dropped, so one mistake is reported once.
 */
export function lintModelConfig(parsed: ParsedModelConfig, options: LintOptions = {}): Problem[] {
  if (!parsed.complete) return [];
  const modelFolder = options.modelFolder ?? modelFolderOf(parsed.file);
  const ctx: LintContext = {
    config: parsed.config,
    modelName: parsed.config.name || modelFolder || "",
    modelFolder,
    repo: options.repo,
    has: (path) => parsed.positions.has(path),
    didYouMean: createSuggester(),
  };
  const problemPaths = new Set(parsed.problems.map((p) => p.path));
  const out: Problem[] = [];
  for (const [rule, check] of Object.entries(lintRules) as [LintRuleName, LintRule][]) {
    for (const f of check(ctx)) {
      if (isUnderAny(f.path, problemPaths)) continue;
      const at = positionOf(parsed.positions, f.path);
      out.push({
        file: parsed.file,
        line: at.line,
        col: at.col,
        path: f.path,
        message: f.message,
        rule,
      });
    }
  }
  return sortProblems(out);
}
