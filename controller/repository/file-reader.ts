/**
 * Read-only access to the files the repository generator needs (templates, model files).
 * It is injected, so `controller/repository/` does no file I/O of its own and tests can
 * hand it files in memory; the node:fs implementation is `controller/io/node-file-reader.ts`.
 */

/** What a path names, following symbolic links. */
export type FileKind = "file" | "directory" | "other";

/** The reads the repository generator makes. Paths are as the caller builds them (absolute or relative to the process). */
export interface FileReader {
  /** What is at `path`, or undefined when nothing is (or it cannot be looked at). */
  kind(path: string): FileKind | undefined;
  /** The UTF-8 text of the file at `path`; throws an InputError when it cannot be read. */
  readText(path: string): string;
  /** The names of the entries of the directory `dir`, sorted; empty when it is not a readable directory. */
  list(dir: string): string[];
}
