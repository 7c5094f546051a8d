/**
 * Input files as every command sees them: the pure half of the one input reader (the
 * file-system and stdin half is `cli/read-input.ts`). Reading never throws for a problem
 * with the input; it answers with {@link Problem}s in one wording for every command.
 */
import type { Problem } from "../diagnostics/problem.js";

/** The default size limit for whole-file inputs (pools, configs, profiles): 8 MiB. */
export const DEFAULT_INPUT_LIMIT_BYTES = 8 * 1024 * 1024;

/** How a command line names standard input. */
export const STDIN_PATH = "-";

/** How messages name standard input. */
export const STDIN_NAME = "<stdin>";

/** A text input, read whole. */
export interface InputText {
  /** The input as the user named it (`<stdin>` for `-`). */
  readonly file: string;
  /** The text, UTF-8 decoded, without a leading byte-order mark. */
  readonly text: string;
}

/** A read input, or every problem that kept it from being read. */
export type InputResult =
  | { readonly ok: true; readonly input: InputText }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** What a reader knows of a path without reading it. */
export type PathKind = "file" | "directory" | "missing" | "other";

/** Options of a whole-file read. */
export interface ReadOptions {
  /**
   * The largest input accepted, in bytes.
   * @default DEFAULT_INPUT_LIMIT_BYTES (8 MiB)
   */
  readonly limitBytes?: number;
  /** What the input should be, for messages: e.g. `a ModelPool (YAML)`. */
  readonly expected?: string;
}

/**
 * The one way tritonscale reads its inputs. Commands and the parts of the core that read
 * files (lint of a repository, the repository generator) take one of these, so the
 * handling of missing, unreadable, oversized and binary files is the same everywhere.
 */
export interface InputReader {
  /** Reads a whole text input: a file, or standard input for `-`. */
  readText(path: string, options?: ReadOptions): Promise<InputResult>;
  /** What `path` is (following symbolic links). */
  kind(path: string): Promise<PathKind>;
  /** The entries of a directory, sorted by name; empty when it cannot be listed. */
  list(dir: string): Promise<readonly { readonly name: string; readonly kind: PathKind }[]>;
}

/** A problem with a whole input file: no line or column. */
export function fileProblem(file: string, message: string): Problem {
  return { file, line: 0, col: 0, path: "", message };
}

/** `cannot read: <why>`: the one wording for an input that cannot be read. */
export function cannotRead(file: string, why: string): Problem {
  return fileProblem(file, `cannot read: ${why}`);
}

/** The reason an OS error code gives, in words; undefined for codes that are bugs. */
export function readErrorReason(code: string | undefined): string | undefined {
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EISDIR":
      return "is a directory, not a file";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "ENAMETOOLONG":
      return "the file name is too long";
    case "EMFILE":
    case "ENFILE":
      return "too many open files";
    case "EIO":
      return "input/output error";
    case "ENXIO":
    case "ENODEV":
      return "no such device";
    case "EAGAIN":
      return "the file is not ready to be read (non-blocking)";
    default:
      return undefined;
  }
}

/** The reason an OS error gives, in words; an error that is not a problem with the input (a bug) is rethrown. */
export function readErrorReasonOrThrow(e: unknown): string {
  const why = readErrorReason((e as NodeJS.ErrnoException | undefined)?.code);
  if (why === undefined) throw e;
  return why;
}

/** Formats a byte count as the largest whole unit that fits, e.g. `8 MiB`, `1.5 KiB`. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Turns the bytes of an input into its text, or a problem: binary data (a NUL byte, or
 * bytes that are not UTF-8) is refused with the offset where it starts, so a user who
 * passed the wrong file is told so instead of being shown kilobytes of control characters.
 * A leading byte-order mark is dropped.
 */
export function decodeInput(
  file: string,
  bytes: Uint8Array,
  expected?: string,
): { readonly text: string } | { readonly problem: Problem } {
  const wanted = expected ? `; expected ${expected}` : "";
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    return { problem: fileProblem(file, `not a text file (binary data at byte ${nul})${wanted}`) };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return {
      problem: fileProblem(
        file,
        `not a text file (bytes that are not UTF-8 at byte ${firstInvalidUtf8(bytes)})${wanted}`,
      ),
    };
  }
  return { text };
}

/** The offset of the first byte that does not continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len =
      b < 0x80
        ? 1
        : b >= 0xc2 && b < 0xe0
          ? 2
          : b >= 0xe0 && b < 0xf0
            ? 3
            : b < 0xf5 && b >= 0xf0
              ? 4
              : 0;
    if (len === 0) return i;
    if (len > 1) {
      try {
        utf8.decode(bytes.subarray(i, i + len));
      } catch {
        return i;
      }
    }
    i += len;
  }
  return bytes.length;
}
