import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { InputError, type Problem } from "../diagnostics/problem.js";
import { fileProblem, readErrorReason } from "./input.js";

/**
 * Checks of output paths before anything is written, and the one wording for an output
 * that cannot be written: `out/manifests: cannot write: is a file, not a directory`.
 *
 * An output path that cannot be used is a problem with the input (exit 1), never a stack
 * trace: every command that writes checks its paths here first, and turns the errors of
 * the writes themselves into the same wording with {@link writeErrorProblem}.
 */

/** What a command means to put at an output path. */
export type OutputKind = "directory" | "file";

/** Kernel file systems nothing is ever generated into (recursive mkdir even loops in /proc). */
const VIRTUAL_FILE_SYSTEMS = ["/proc", "/sys"] as const;

/** The problem `<path>: cannot write: <reason>`. */
export function cannotWrite(path: string, reason: string): Problem {
  return fileProblem(path, `cannot write: ${reason}`);
}

/** A path as the user would recognise it: relative when they gave a relative one. */
function shown(userPath: string, abs: string): string {
  if (isAbsolute(userPath)) return abs;
  return relative(process.cwd(), abs) || ".";
}

function describeNonDirectory(st: { isFile(): boolean }): string {
  return st.isFile() ? "is a file, not a directory" : "is not a directory";
}

/**
 * Why `path` cannot be used as an output of `kind`, or undefined when it can; nothing is
 * created. Walks up to the first existing ancestor, which must be a writable directory
 * outside /proc and /sys. A `directory` output may exist (as a directory); a `file` output
 * may exist (as a regular file) and its folder must exist, since files are written by
 * renaming a temporary file beside them.
 */
export function checkOutputPath(path: string, kind: OutputKind): Problem | undefined {
  const abs = resolve(path);
  let existing = abs;
  for (;;) {
    try {
      statSync(existing);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM")
        return cannotWrite(path, `permission denied on ${shown(path, dirname(existing))}`);
      if (code === "ELOOP") return cannotWrite(path, "too many levels of symbolic links");
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
      const up = dirname(existing);
      if (up === existing) return cannotWrite(path, "no folder of it exists");
      existing = up;
    }
  }
  const real = realpathSync(existing);
  const virtual = VIRTUAL_FILE_SYSTEMS.find((v) => real === v || real.startsWith(`${v}${sep}`));
  if (virtual) return cannotWrite(path, `${virtual} is a virtual file system of the kernel`);
  const st = statSync(existing);
  if (existing === abs) {
    if (kind === "directory") {
      if (!st.isDirectory()) return cannotWrite(path, describeNonDirectory(st));
      return writable(path, abs);
    }
    if (st.isDirectory()) return cannotWrite(path, "is a directory, not a file");
    if (!st.isFile()) return cannotWrite(path, "is not a regular file");
    return writable(path, dirname(abs));
  }
  if (!st.isDirectory()) {
    return cannotWrite(path, `${shown(path, existing)} ${describeNonDirectory(st)}`);
  }
  if (kind === "file" && existing !== dirname(abs)) {
    return cannotWrite(path, `folder ${shown(path, dirname(abs))} does not exist`);
  }
  return writable(path, existing);
}

function writable(path: string, dir: string): Problem | undefined {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EROFS")
      return cannotWrite(path, `${shown(path, dir)} is on a read-only file system`);
    return cannotWrite(path, `permission denied on ${shown(path, dir)}`);
  }
}

/** Throws an InputError when `path` cannot be used as an output of `kind` (see {@link checkOutputPath}). */
export function assertOutputPath(path: string, kind: OutputKind): void {
  const problem = checkOutputPath(path, kind);
  if (problem) throw new InputError([problem]);
}

/**
 * The problem for an error from writing `path` (a race with the checks, or a path below
 * it), in the same wording; undefined for errors that are not about the path (a bug).
 */
function writeErrorProblem(path: string, e: unknown): Problem | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why = (code === undefined ? undefined : WRITE_REASONS[code]) ?? readErrorReason(code);
  return why === undefined ? undefined : cannotWrite(path, why);
}

/** What an OS error means when writing, where it differs from reading (readErrorReason). */
const WRITE_REASONS: Readonly<Record<string, string>> = {
  ENOTDIR: "a folder on the way is a file, not a directory",
  EEXIST: "something else was created there meanwhile",
  ENOENT: "its folder does not exist",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
};

/** Rethrows an error from writing `path` as an InputError when it is about the path. */
export function rethrowWriteError(path: string, e: unknown): never {
  const problem = writeErrorProblem(path, e);
  if (problem) throw new InputError([problem]);
  throw e;
}
