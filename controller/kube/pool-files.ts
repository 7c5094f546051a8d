/**
 * A folder of pool files (`tritonscale controller --pools DIR`) as a {@link PoolSource}:
 * every `*.yaml` / `*.yml` in the folder (not in subfolders; names starting with `.` are
 * skipped), each one ModelPool, read through the one input reader and loaded with the same
 * loader as `validate`.
 *
 * Changes are found by polling (every 5 s by default), comparing each file's text with the
 * last read, not with fs.watch: a ConfigMap mounted as a folder changes by swapping a
 * symbolic link (`..data`), which fs.watch on Linux reports unreliably or not at all, and
 * fs.watch does not work on every file system (NFS, some container overlays). Polling a
 * few small files costs little and needs no file-system access of this module's own: it
 * reads through the injected {@link InputReader}.
 */
import type { Problem } from "../diagnostics/problem.js";
import { type Clock, type PoolRef, poolKey } from "../loop/ports.js";
import { type ParseOptions, parseModelPool, readPoolName } from "../policy/index.js";
import type { InputReader } from "../util/input.js";
import { type PoolHandler, type PoolSource, PoolTracker } from "./pool-source.js";

/** Options of {@link PoolFiles}. */
export interface PoolFilesOptions {
  /** The folder. */
  readonly dir: string;
  /** The one input reader (cli/read-input.ts's `createInputReader()` in the controller). */
  readonly reader: InputReader;
  /** Hears of every pool. */
  readonly handler: PoolHandler;
  /** For the polling sleeps. */
  readonly clock: Clock;
  /** Seconds between two scans of the folder. @default 5 */
  readonly intervalSeconds?: number;
  /** Passed to the policy loader (e.g. the template names that exist). */
  readonly parseOptions?: ParseOptions;
  /**
   * Told of problems that belong to no pool: the folder cannot be read, or two files
   * define the same pool (the later file, by name, is skipped).
   */
  readonly onProblems?: (problems: readonly Problem[]) => void;
}

/** What the source remembers of one file. */
interface FileState {
  readonly text: string;
  readonly ref: PoolRef;
}

const POOL_FILE = /^[^.].*\.ya?ml$/;

/** The pool an invalid file (that defined none before) is meant to define: its metadata, if readable. */
function intendedRef(text: string, file: string): PoolRef {
  const meant = readPoolName(text);
  // Not YAML or not a mapping with a name: the loader says why; the file stands for the pool.
  if (meant === undefined) return { namespace: "", name: file };
  return { namespace: meant.namespace ?? "default", name: meant.name };
}

/** Pool files in a folder, re-read on change; see the module comment. */
export class PoolFiles implements PoolSource {
  private readonly tracker: PoolTracker;
  private readonly files = new Map<string, FileState>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  /** Scans done so far. */
  scans = 0;
  private saidDuplicates = "[]";

  constructor(private readonly options: PoolFilesOptions) {
    this.tracker = new PoolTracker(options.handler);
  }

  /** Reads the folder once (every pool is reported before this resolves), then polls. */
  async start(): Promise<void> {
    await this.scan();
    this.running ??= this.poll();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async poll(): Promise<void> {
    const interval = this.options.intervalSeconds ?? 5;
    while (!this.abort.signal.aborted) {
      await this.options.clock.sleep(interval, this.abort.signal);
      if (this.abort.signal.aborted) return;
      await this.scan();
    }
  }

  /** One pass over the folder: new, changed and removed files. */
  async scan(): Promise<void> {
    this.scans++;
    const { dir, reader } = this.options;
    const kind = await reader.kind(dir);
    if (kind !== "directory") {
      this.options.onProblems?.([
        {
          file: dir,
          line: 0,
          col: 0,
          path: "",
          message:
            kind === "missing"
              ? "cannot read: no such directory (--pools names a folder of ModelPool files)"
              : "cannot read: not a directory (--pools names a folder of ModelPool files)",
        },
      ]);
      // Keep the pools known: a folder that vanishes for a moment (a ConfigMap update)
      // must not remove every pool.
      return;
    }
    const names = (await reader.list(dir))
      .filter((e) => e.kind === "file" && POOL_FILE.test(e.name))
      .map((e) => e.name);
    const paths = names.map((n) => `${dir.replace(/\/+$/, "")}/${n}`);
    const owners = new Map<string, string>();
    const duplicates: Problem[] = [];
    for (const path of paths) {
      if (this.abort.signal.aborted) return;
      const read = await reader.readText(path, { expected: "a ModelPool (YAML)" });
      const before = this.files.get(path);
      if (!read.ok) {
        // A file that cannot be read right now (being rewritten) keeps its last state.
        if (before !== undefined) owners.set(poolKey(before.ref), path);
        else this.options.onProblems?.(read.problems);
        continue;
      }
      const text = read.input.text;
      const result =
        before?.text === text ? undefined : parseModelPool(text, path, this.options.parseOptions);
      const ref =
        result === undefined
          ? before!.ref
          : result.policy !== undefined
            ? { namespace: result.policy.metadata.namespace, name: result.policy.metadata.name }
            : // An invalid file stays the pool it defined: caught half-written or emptied by a
              // scan (an editor truncates, then writes), or renamed with a mistake, it is that
              // pool gone invalid (the last valid spec keeps running), never that pool removed,
              // which would prune its objects. A valid file renames.
              (before?.ref ?? intendedRef(text, path));
      const key = poolKey(ref);
      const owner = owners.get(key);
      if (owner !== undefined) {
        duplicates.push({
          file: path,
          line: 0,
          col: 0,
          path: "metadata.name",
          message: `the pool ${key} is defined in ${owner} already; each pool must be in one file (this file is skipped)`,
        });
        continue;
      }
      owners.set(key, path);
      if (result === undefined) continue;
      if (before !== undefined && poolKey(before.ref) !== key) this.tracker.remove(before.ref);
      this.files.set(path, { text, ref });
      this.tracker.update(ref, result, { origin: path });
    }
    for (const [path, state] of this.files) {
      if (!paths.includes(path) || owners.get(poolKey(state.ref)) !== path) {
        this.files.delete(path);
        if (!owners.has(poolKey(state.ref))) this.tracker.remove(state.ref);
      }
    }
    // Said once, and again only when the duplicates change (not at every scan).
    const said = JSON.stringify(duplicates.map((p) => [p.file, p.message]));
    if (said !== this.saidDuplicates) {
      this.saidDuplicates = said;
      if (duplicates.length > 0) this.options.onProblems?.(duplicates);
    }
  }
}
