/**
 * The one input reader of every command: files and `-` for standard input, a size limit for
 * whole-file inputs, binary detection, and one wording for files that cannot be read. No
 * other module of tritonscale reads an input file (a test keeps it so).
 */
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Problem } from "../diagnostics/problem.js";
import {
  cannotRead,
  DEFAULT_INPUT_LIMIT_BYTES,
  decodeInput,
  fileProblem,
  formatBytes,
  type InputReader,
  type InputResult,
  type PathKind,
  type ReadOptions,
  readErrorReasonOrThrow,
  STDIN_NAME,
  STDIN_PATH,
} from "../util/input.js";

/** Reads at most `limit + 1` bytes of a stream, so an endless one (`/dev/zero`) stops. */
async function readBounded(
  stream: AsyncIterable<Buffer | string>,
  limit: number,
): Promise<{ bytes: Buffer; over: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    chunks.push(b);
    size += b.length;
    if (size > limit) return { bytes: Buffer.concat(chunks), over: true };
  }
  return { bytes: Buffer.concat(chunks), over: false };
}

/** Options of {@link createInputReader}. */
export interface InputReaderOptions {
  /** Standard input, for the path `-`. @default process.stdin */
  readonly stdin?: Readable;
  /** The size limit of whole-file reads unless a read says otherwise. @default 8 MiB */
  readonly limitBytes?: number;
}

/**
 * The reader over the real file system and standard input. Standard input is read once;
 * naming `-` twice gets the same text.
 */
export function createInputReader(options: InputReaderOptions = {}): InputReader & {
  /** Opens a streamed input (a trace): its text in chunks, never held whole. */
  openStream(path: string, expected?: string): Promise<StreamResult>;
} {
  const defaultLimit = options.limitBytes ?? DEFAULT_INPUT_LIMIT_BYTES;
  let stdinText: Promise<InputResult> | undefined;

  const finish = (file: string, bytes: Buffer, over: boolean, limit: number, expected?: string) => {
    if (over) {
      return {
        ok: false as const,
        problems: [
          fileProblem(
            file,
            `larger than the ${formatBytes(limit)} limit for this input; raise it with --max-input-size if the file is right`,
          ),
        ],
      };
    }
    const decoded = decodeInput(file, bytes, expected);
    if ("problem" in decoded) return { ok: false as const, problems: [decoded.problem] };
    return { ok: true as const, input: { file, text: decoded.text } };
  };

  const readText = async (path: string, o: ReadOptions = {}): Promise<InputResult> => {
    const limit = o.limitBytes ?? defaultLimit;
    if (path === STDIN_PATH) {
      stdinText ??= readBounded(options.stdin ?? process.stdin, limit).then(({ bytes, over }) =>
        finish(STDIN_NAME, bytes, over, limit, o.expected),
      );
      return stdinText;
    }
    if (path === "") return { ok: false, problems: [cannotRead("''", "the file name is empty")] };
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(path, "r");
      const s = await handle.stat();
      if (s.isDirectory())
        return { ok: false, problems: [cannotRead(path, "is a directory, not a file")] };
      const { bytes, over } = await readBounded(
        handle.createReadStream({ autoClose: false, highWaterMark: 1 << 16 }),
        limit,
      );
      return finish(path, bytes, over, limit, o.expected);
    } catch (e) {
      return { ok: false, problems: [cannotRead(path, readErrorReasonOrThrow(e))] };
    } finally {
      await handle?.close().catch(() => undefined);
    }
  };

  const kind = async (path: string): Promise<PathKind> => {
    try {
      const s = await stat(path);
      return s.isFile() ? "file" : s.isDirectory() ? "directory" : "other";
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "missing";
      readErrorReasonOrThrow(e);
      return "other";
    }
  };

  const list = async (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out: { name: string; kind: PathKind }[] = [];
    for (const e of entries) {
      const k: PathKind = e.isSymbolicLink()
        ? await kind(join(dir, e.name))
        : e.isFile()
          ? "file"
          : e.isDirectory()
            ? "directory"
            : "other";
      out.push({ name: e.name, kind: k });
    }
    return out;
  };

  const openStream = async (path: string, expected?: string): Promise<StreamResult> => {
    const file = path === STDIN_PATH ? STDIN_NAME : path;
    let source: AsyncIterable<Buffer | string>;
    if (path === STDIN_PATH) source = options.stdin ?? process.stdin;
    else {
      try {
        const handle = await open(path, "r");
        const s = await handle.stat();
        if (s.isDirectory()) {
          await handle.close();
          return { ok: false, problems: [cannotRead(path, "is a directory, not a file")] };
        }
        source = handle.createReadStream({ highWaterMark: 1 << 16 });
      } catch (e) {
        return { ok: false, problems: [cannotRead(path, readErrorReasonOrThrow(e))] };
      }
    }
    return { ok: true, file, chunks: decodeStream(file, source, expected) };
  };

  return { readText, kind, list, openStream };
}

/** The reader commands use: whole-file reads, and streamed ones for traces. */
export type CommandInputs = ReturnType<typeof createInputReader>;

/** A streamed input, or why it cannot be read. */
export type StreamResult =
  | { readonly ok: true; readonly file: string; readonly chunks: AsyncIterable<string> }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Thrown by a streamed input's chunks when binary data or an unreadable part turns up
 * after reading has started; carries the problem for the command to print.
 */
export class StreamInputError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
    this.name = "StreamInputError";
  }
}

/** UTF-8 text of a byte stream, refusing binary data wherever it starts. */
async function* decodeStream(
  file: string,
  source: AsyncIterable<Buffer | string>,
  expected?: string,
): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = 0;
  try {
    for await (const chunk of source) {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      const nul = b.indexOf(0);
      if (nul >= 0) {
        throw new StreamInputError(
          fileProblem(
            file,
            `not a text file (binary data at byte ${offset + nul})${expected ? `; expected ${expected}` : ""}`,
          ),
        );
      }
      let text: string;
      try {
        text = decoder.decode(b, { stream: true });
      } catch {
        throw new StreamInputError(
          fileProblem(
            file,
            `not a text file (bytes that are not UTF-8 near byte ${offset})${expected ? `; expected ${expected}` : ""}`,
          ),
        );
      }
      offset += b.length;
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch (e) {
    if (e instanceof StreamInputError) throw e;
    throw new StreamInputError(cannotRead(file, readErrorReasonOrThrow(e)));
  }
}
