/**
 * A {@link HistoryStore} in a folder (`controller --pools DIR --history-dir DIR2`, where there
 * are no custom resources and so no ModelPool to own a ConfigMap): one file per pool,
 * `<namespace>_<name>.history` (`_` appears in neither a namespace nor a pool name, so the
 * file names cannot collide), replaced atomically (a temporary file in the same folder, then
 * a rename: a reader or a crash never sees half a history). The folder is created when the
 * first history is saved. A removed pool's file is left in place (its pool may come back).
 * Files are read through the one input reader (cli/read-input.ts), at most
 * {@link HISTORY_MAX_BYTES}.
 */
import { join } from "node:path";
import { formatProblem } from "../diagnostics/problem.js";
import { HISTORY_MAX_BYTES, type HistoryStore } from "../loop/history.js";
import type { PoolRef } from "../loop/ports.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import type { InputReader } from "../util/input.js";

/** The file of a pool's history in `dir`. */
export function historyFileName(dir: string, pool: PoolRef): string {
  return join(dir, `${pool.namespace}_${pool.name}.history`);
}

/** The {@link HistoryStore} on files (see the module comment). */
export class FileHistoryStore implements HistoryStore {
  readonly source = "file";

  constructor(
    private readonly dir: string,
    /** The one input reader (`createInputReader()` in the controller). */
    private readonly reader: InputReader,
  ) {}

  async load(pool: PoolRef): Promise<string | undefined> {
    const file = historyFileName(this.dir, pool);
    if ((await this.reader.kind(file)) === "missing") return undefined;
    const r = await this.reader.readText(file, {
      limitBytes: HISTORY_MAX_BYTES,
      expected: "a saved scaler history",
    });
    if (r.ok) return r.input.text;
    throw new Error(
      `loading the history of ${pool.namespace}/${pool.name}: ${r.problems.map(formatProblem).join("; ")}`,
    );
  }

  async save(pool: PoolRef, text: string): Promise<void> {
    const file = historyFileName(this.dir, pool);
    const size = Buffer.byteLength(text, "utf8");
    if (size > HISTORY_MAX_BYTES) {
      throw new Error(
        `saving the history of ${pool.namespace}/${pool.name} to ${file}: ${size} bytes is more than the ${HISTORY_MAX_BYTES} a history may take`,
      );
    }
    try {
      await writeFileAtomic(file, text, { createFolder: true });
    } catch (e) {
      throw new Error(
        `saving the history of ${pool.namespace}/${pool.name}: ${(e as Error).message}`,
      );
    }
  }
}
