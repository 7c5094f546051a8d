/**
 * What a lint rule is and sees: a pure function from a {@link LintContext} (the parsed
 * config, its model name and folder, the repository index) to its findings.
 */
import type { Suggester } from "../../diagnostics/suggest.js";
import type { ModelConfig } from "../model-config.js";

/** One model of a model repository, as the cross-model (ensemble) rules see it. */
export interface RepositoryModel {
  /** The model's folder name, which is the name Triton serves it under. */
  readonly name: string;
  /** Its `config.pbtxt`, or undefined when the folder has none (Triton auto-completes one). */
  readonly file?: string;
  /**
   * The parsed config; undefined when there is no `config.pbtxt` or it has parse problems,
   * in which case only the model's existence is checked.
   */
  readonly config?: ModelConfig;
}

/** The models of one model repository, by folder name. */
export interface RepositoryIndex {
  /** The repository directory (parent of the model folders), as the user named it. */
  readonly root: string;
  readonly models: ReadonlyMap<string, RepositoryModel>;
}

/** Options of {@link lintModelConfig}. */
export interface LintOptions {
  /**
   * The repository the config belongs to. Without it the cross-model checks (ensemble
   * steps name existing models, map existing tensors of matching type) are skipped.
   */
  readonly repo?: RepositoryIndex;
  /**
   * The model's folder name, which `name` must equal.
   * @default the parent folder of `parsed.file` when that file is named `config.pbtxt`;
   * otherwise none, and the name check is skipped.
   */
  readonly modelFolder?: string;
}

/** One finding of a rule, before the runner adds the rule name and the file position. */
export interface Finding {
  /** Path of the offending field, as keyed in the position index (`input[0].dims[2]`). */
  readonly path: string;
  /** What is wrong, the received value, and what would be valid. */
  readonly message: string;
}

/** What a rule sees. */
export interface LintContext {
  readonly config: ModelConfig;
  /** The model's name for messages: `name`, else the folder name, else empty. */
  readonly modelName: string;
  /** The folder the config lives in, when known (see {@link LintOptions.modelFolder}). */
  readonly modelFolder: string | undefined;
  readonly repo: RepositoryIndex | undefined;
  /** Whether `path` (e.g. `max_batch_size`) was written in the file. */
  has(path: string): boolean;
  /**
   * `; did you mean "x"?` for a close candidate, else empty: the one did-you-mean of this
   * config's rules, with a work budget, so a config with thousands of misspelled names
   * costs a bounded amount (see `createSuggester`).
   */
  didYouMean: Suggester;
}

/** A lint rule: one small check over a config, yielding every finding. */
export type LintRule = (ctx: LintContext) => Iterable<Finding>;
